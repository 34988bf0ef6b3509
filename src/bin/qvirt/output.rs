//! Writing to stdout without panicking: a closed pipe (`qvirt list | head`)
//! becomes an ordinary error instead of a panic.

use std::io::Write;

use qvirt::{Error, Result};

/// Writes `text` to stdout and flushes it.
pub fn write(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("cannot write to stdout", e))
}

/// `println!` that returns an error instead of panicking.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// Writes bytes to stdout (guest console output) and flushes them.
pub fn write_bytes(data: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(data)
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("cannot write to stdout", e))
}
