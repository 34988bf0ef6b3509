//! The streams a driver hands out (events, a console) and the query of
//! domain capabilities, beside the [`super::Driver`] trait that uses them.

use std::os::fd::BorrowedFd;
use std::path::PathBuf;
use std::time::Duration;

use super::error::Result;
use super::event_kinds::Event;

/// A live subscription to lifecycle events; dropping it unsubscribes.
pub trait EventStream: Send {
    /// The next event, waiting up to `timeout`; `Ok(None)` on timeout.
    /// An error that the next call does not repeat means events were
    /// lost (the subscriber read too slowly) and the stream goes on; an
    /// error that repeats means the stream has ended.
    fn next(&mut self, timeout: Duration) -> Result<Option<Event>>;

    /// A descriptor that polls readable (`POLLIN`) while `next` may
    /// have something without waiting, for a caller that waits on many
    /// sources at once (an event loop). Level-triggered: it stays
    /// readable until `next` has found the stream empty. `None` (the
    /// default): there is none, call `next` with a short timeout instead.
    fn ready_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
}

/// A bidirectional byte stream to a domain's serial console.
pub trait ConsoleStream: Send {
    /// Reads guest output, waiting up to `timeout`; an empty vector on
    /// timeout.
    fn read(&mut self, timeout: Duration) -> Result<Vec<u8>>;
    /// Sends input to the guest.
    fn write(&mut self, data: &[u8]) -> Result<()>;

    /// A descriptor that polls readable (`POLLIN`, or `POLLHUP` at its
    /// end) while `read` may return without waiting, as
    /// [`EventStream::ready_fd`]. `None` (the default): there is none.
    fn ready_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
}

/// What [`Driver::domain_capabilities`] describes; `None` fields take
/// the defaults (the emulator found for the architecture, the host's
/// architecture, the emulator's default machine, `kvm` when usable else
/// `qemu`).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DomainCapsQuery {
    /// The emulator binary.
    pub emulator: Option<PathBuf>,
    /// The guest architecture (`x86_64`).
    pub arch: Option<String>,
    /// The machine type (`pc`, `q35`).
    pub machine: Option<String>,
    /// The domain type (`kvm`, `qemu`).
    pub virt_type: Option<String>,
}

impl DomainCapsQuery {
    /// A query with the given fields.
    pub fn new(
        emulator: Option<PathBuf>,
        arch: Option<String>,
        machine: Option<String>,
        virt_type: Option<String>,
    ) -> DomainCapsQuery {
        DomainCapsQuery {
            emulator,
            arch,
            machine,
            virt_type,
        }
    }
}
