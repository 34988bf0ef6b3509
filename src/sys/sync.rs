//! The one poison-safe lock.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, ignoring poisoning: every critical section in qvirt leaves
/// its state consistent at each unlock, so a panic elsewhere must not
/// make every later call panic.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
