//! Reading and writing a record file of either kind (`run.json`, `rack.json`): the schema first,
//! then every field, with the file, line, column and field of a bad value; writing through a
//! synced temporary file.

use crate::error::RecordError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A record whose first field names its schema.
pub(crate) trait Schema {
    fn schema(&self) -> &str;
}

/// `text` as a `T` whose `schema` field must be `schema`; `file` is only for messages.
///
/// A good record is read once, straight into its type. Only when that fails (or names another
/// schema) is the text read again, to say why in the order a reader needs it: not JSON, no or
/// another schema, then the field — the slower path-tracking reader runs for a bad file only.
pub(crate) fn parse<T: DeserializeOwned + Schema>(
    text: &str,
    file: &Path,
    schema: &'static str,
) -> Result<T, RecordError> {
    if let Ok(value) = serde_json::from_str::<T>(text) {
        if value.schema() == schema {
            return Ok(value);
        }
    }
    check_schema(text, file, schema)?;
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        RecordError::Field {
            path: file.to_path_buf(),
            line: inner.line(),
            column: inner.column(),
            field,
            message: inner.to_string().split(" at line ").next().unwrap_or_default().to_string(),
        }
    })
}

/// The file at `file` as a `T` whose `schema` field must be `schema`, read as it is parsed, so
/// its text is never held beside its value. A file that does not read so is read again whole,
/// for [`parse`] to say why.
pub(crate) fn load_streaming<T: DeserializeOwned + Schema>(
    file: &Path,
    schema: &'static str,
) -> Result<T, RecordError> {
    let read = |source| RecordError::Read { path: file.to_path_buf(), source };
    let opened = std::fs::File::open(file).map_err(read)?;
    if let Ok(value) = serde_json::from_reader::<_, T>(std::io::BufReader::with_capacity(1 << 16, opened)) {
        if value.schema() == schema {
            return Ok(value);
        }
    }
    let text = std::fs::read_to_string(file).map_err(read)?;
    parse(&text, file, schema)
}

/// The schema field alone, every other value skipped unread.
fn check_schema(text: &str, file: &Path, schema: &'static str) -> Result<(), RecordError> {
    #[derive(Deserialize)]
    struct Head {
        schema: Option<serde_json::Value>,
    }
    let not_json = |e: serde_json::Error| RecordError::NotJson { path: file.to_path_buf(), message: e.to_string() };
    let head: Head = serde_json::from_str(text).map_err(not_json)?;
    let wrong = |found| RecordError::Schema { path: file.into(), found, expected: schema };
    match head.schema {
        Some(serde_json::Value::String(s)) if s == schema => Ok(()),
        Some(serde_json::Value::String(found)) => Err(wrong(found)),
        Some(other) => Err(wrong(other.to_string())),
        None => Err(RecordError::NoSchema { path: file.into() }),
    }
}

/// `value` as pretty JSON in `path`, through a temporary file beside it that is synced before it
/// is renamed, so a reader never sees half a file.
pub(crate) fn save<T: Serialize>(value: &T, path: &Path) -> Result<(), RecordError> {
    let write = |source| RecordError::Write { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(write)?;
    }
    let text = serde_json::to_string_pretty(value).map_err(|e| write(std::io::Error::other(e)))? + "\n";
    let tmp = PathBuf::from(format!("{}.partial", path.display()));
    let synced = |tmp: &Path| -> std::io::Result<()> {
        use std::io::Write as _;
        let mut f = std::fs::File::create(tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()
    };
    if let Err(e) = synced(&tmp).and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(write(e));
    }
    Ok(())
}
