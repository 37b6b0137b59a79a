//! Placeholder until the quarantine list lands: the API the dispatcher uses.

/// One entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub reason: String,
}

/// The quarantine list.
#[derive(Debug, Clone, Default)]
pub struct Quarantine {
    entries: Vec<Entry>,
}

impl Quarantine {
    pub fn empty() -> Self {
        Quarantine::default()
    }
    pub fn lookup(&self, _case: &str, _rig: &str, _dialect: &str, _firmware: &str) -> Option<&Entry> {
        self.entries.first()
    }
}

impl Quarantine {
    pub fn load(path: &std::path::Path) -> Result<Quarantine, crate::InputError> {
        Err(crate::InputError::new(path, "not yet"))
    }
}
