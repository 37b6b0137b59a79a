//! Why a record could not be read or written, naming the file and, for a bad value, the field.

use std::path::PathBuf;

/// Loading or saving a [`RunRecord`](crate::RunRecord) failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not JSON, or not an object.
    #[error("{}: not a run record: {message}", path.display())]
    NotJson {
        /// The file.
        path: PathBuf,
        /// What the JSON reader said, with line and column.
        message: String,
    },
    /// JSON without a `schema` field: some other file.
    #[error("{}: no `schema` field: not a miplcheck run record", path.display())]
    NoSchema {
        /// The file.
        path: PathBuf,
    },
    /// A schema this miplcheck does not read.
    #[error("{}: schema {found:?}; this miplcheck reads {expected:?}", path.display())]
    Schema {
        /// The file.
        path: PathBuf,
        /// The schema it names.
        found: String,
        /// The schema that was expected ([`SCHEMA`](crate::SCHEMA) or
        /// [`RACK_SCHEMA`](crate::RACK_SCHEMA)).
        expected: &'static str,
    },
    /// A field with a value the schema does not allow.
    #[error("{}:{line}:{column}: field `{field}`: {message}", path.display())]
    Field {
        /// The file.
        path: PathBuf,
        /// Where in the file.
        line: usize,
        /// Where in the line.
        column: usize,
        /// The field's path, `cases[3].verdict`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The file could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

impl RecordError {
    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            RecordError::Read { path, .. }
            | RecordError::NotJson { path, .. }
            | RecordError::NoSchema { path }
            | RecordError::Schema { path, .. }
            | RecordError::Field { path, .. }
            | RecordError::Write { path, .. } => path,
        }
    }

    /// The message without the file in front, for callers that name the file themselves.
    pub fn detail(&self) -> String {
        let all = self.to_string();
        let file = self.path().display().to_string();
        all.strip_prefix(&file).map(|r| r.trim_start_matches([':', ' ']).to_string()).unwrap_or(all)
    }
}
