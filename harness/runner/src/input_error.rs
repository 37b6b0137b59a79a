//! Bad input (rig files, suite files, arguments): always the file, the line and the field, and
//! what to do about it. The CLI turns these into exit status 2.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: PathBuf,
    pub line: Option<usize>,
    /// `serial.baud`, `cases[3].steps[1].final`.
    pub field: Option<String>,
    pub message: String,
}

impl InputError {
    pub fn new(file: &Path, message: impl Into<String>) -> Self {
        InputError { file: file.to_path_buf(), line: None, field: None, message: message.into() }
    }

    pub fn at_line(mut self, line: Option<usize>) -> Self {
        self.line = line.filter(|l| *l > 0);
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        let f = field.into();
        self.field = (!f.is_empty() && f != ".").then_some(f);
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for InputError {}

/// A serde path made readable: spanned-wrapper segments dropped, and the name of a missing field
/// added (serde reports it at the parent).
pub fn field_path(path: &str, message: &str) -> String {
    let mut parts: Vec<&str> =
        path.split('.').filter(|p| !p.is_empty() && !p.starts_with("$__serde") && *p != "?").collect();
    if let Some(rest) = message.strip_prefix("missing field `") {
        if let Some(name) = rest.split('`').next() {
            parts.push(name);
        }
    }
    parts.join(".")
}

/// A TOML file's error (rig or rack file) as an input error: the file, the line, the field.
pub fn toml_error(path: &Path, text: &str, e: &toml::de::Error, field: &str) -> InputError {
    let message = e.message().trim().to_string();
    InputError::new(path, message.clone())
        .at_line(e.span().map(|s| line_of(text, s.start)))
        .field(field_path(field, &message))
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_file_line_and_field() {
        let e = InputError::new(Path::new("rigs/x.toml"), "expected a number").at_line(Some(4)).field("serial.baud");
        assert_eq!(e.to_string(), "rigs/x.toml:4: field `serial.baud`: expected a number");
    }

    #[test]
    fn lines_count_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
