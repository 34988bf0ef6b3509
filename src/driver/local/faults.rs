//! Named points in the middle of multi-step operations (a save, a start
//! from a managed save image, a media change) where the reliability tests
//! have the manager killed, to check that whoever comes next finds a
//! state it can finish or undo. A point does nothing unless the
//! environment variable `QVIRT_CRASH_AT` names it, in which case the
//! process SIGKILLs itself there, as a power cut or `kill -9` would stop
//! it. Whoever sets a daemon's environment controls the daemon anyway, so
//! the variable gives nobody anything new.

use std::sync::OnceLock;

/// Kills this process if `QVIRT_CRASH_AT` names `point`.
pub(crate) fn crash_point(point: &str) {
    static AT: OnceLock<Option<String>> = OnceLock::new();
    if AT
        .get_or_init(|| std::env::var("QVIRT_CRASH_AT").ok())
        .as_deref()
        == Some(point)
    {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}
