//! What the YAML inputs (suites, quarantine lists) share in their error messages: where in the
//! document deserialisation failed, and serde-saphyr's message without its own location.

use serde::de::DeserializeOwned;

/// Where in the document deserialising a `T` failed, as `cases[0].steps[1].final` or
/// `[2].reason`: a second pass through serde_path_to_error, only taken when the file is already
/// known to be bad.
pub(crate) fn error_path<T: DeserializeOwned>(text: &str) -> String {
    const MARK: &str = "@@miplcheck-path@@";
    let r: Result<T, _> = serde_saphyr::with_deserializer_from_str(text, |de| {
        serde_path_to_error::deserialize(de)
            .map_err(|e| <serde_saphyr::Error as serde::de::Error>::custom(format!("{MARK}{}{MARK}", e.path())))
    });
    let Err(e) = r else { return String::new() };
    let shown = e.to_string();
    let path = shown.split(MARK).nth(1).unwrap_or_default();
    path.split('.').filter(|seg| *seg != "value").collect::<Vec<_>>().join(".")
}

/// serde-saphyr puts its own "line x column y" in the message; the line is printed our way.
pub(crate) fn strip_location(s: &str) -> String {
    static LOC: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = LOC.get_or_init(|| {
        regex::Regex::new(r"^(error: )?(at )?line \d+,? column \d+: | at line \d+,? column \d+").unwrap()
    });
    let first = s.lines().next().unwrap_or(s);
    re.replace_all(first, "").trim().to_string()
}
