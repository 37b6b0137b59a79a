//! Ctrl-C and `kill`: a run that is asked to stop keeps its evidence.
//!
//! The first SIGINT or SIGTERM asks the run to stop after the step in progress: the engine stops
//! its case there (recorded as interrupted), the dispatcher runs no further case, and every report
//! is written for what finished, marked incomplete. A second signal ends the process at once with
//! the shell's status for it (130, 143); the journal (`report::journal`) still holds every case
//! that finished. Signals are process-wide, so this is too: [`install`] once, [`requested`] from
//! anywhere.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// A signal that asked the run to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: `kill`, a CI job's timeout.
    Terminate,
}

impl Signal {
    /// The exit status a shell gives a process ended by it: 128 + its number.
    pub fn exit_status(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }

    /// `SIGINT (Ctrl-C)`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT (Ctrl-C)",
            Signal::Terminate => "SIGTERM",
        }
    }
}

struct Flags {
    seen: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

static FLAGS: OnceLock<Flags> = OnceLock::new();

/// Installs the handlers: the first SIGINT/SIGTERM is noted, a second one exits at once.
pub fn install() -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    if FLAGS.get().is_some() {
        return Ok(());
    }
    let flags = Flags { seen: Arc::new(AtomicBool::new(false)), which: Arc::new(AtomicUsize::new(0)) };
    for (signal, status) in [(SIGINT, 130), (SIGTERM, 143)] {
        // The shutdown must be registered first: it fires only once `seen` was set by an earlier
        // signal.
        signal_hook::flag::register_conditional_shutdown(signal, status, flags.seen.clone())?;
        signal_hook::flag::register_usize(signal, flags.which.clone(), signal as usize)?;
        signal_hook::flag::register(signal, flags.seen.clone())?;
    }
    let _ = FLAGS.set(flags);
    Ok(())
}

/// The signal that asked the run to stop, if one did.
pub fn requested() -> Option<Signal> {
    let flags = FLAGS.get()?;
    if !flags.seen.load(Ordering::SeqCst) {
        return None;
    }
    match flags.which.load(Ordering::SeqCst) as i32 {
        signal_hook::consts::SIGTERM => Some(Signal::Terminate),
        _ => Some(Signal::Interrupt),
    }
}

/// Forgets a stop that was asked for, so what follows runs (the recorder, stopped by Ctrl-C, then
/// replays the case it wrote); a later signal asks again.
pub fn clear() {
    if let Some(flags) = FLAGS.get() {
        flags.seen.store(false, Ordering::SeqCst);
        flags.which.store(0, Ordering::SeqCst);
    }
}
