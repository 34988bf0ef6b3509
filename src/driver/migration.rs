//! The value types of live migration: what the caller asks for, and what
//! the two managers tell each other (the destination's half is called by
//! the source manager over the protocol, as libvirt's peer-to-peer
//! migration does).

use std::time::Duration;

use crate::error::{Error, ErrorCode, Result};

/// The largest migration speed, MiB/s, which means unlimited: the most
/// bytes per second QEMU takes (`i64::MAX`), in MiB (libvirt's
/// `QEMU_DOMAIN_MIG_BANDWIDTH_MAX`).
pub const MIGRATE_SPEED_UNLIMITED: u64 = (i64::MAX as u64) / (1 << 20);

/// How [`crate::Driver::migrate`] moves a domain (virsh `migrate`'s
/// options). Default: not live (the vCPUs stop first), the destination
/// domain transient, the source definition kept, storage shared.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MigrateOptions {
    /// `--live`: the guest runs while its memory is copied.
    pub live: bool,
    /// `--persistent`: define the domain on the destination.
    pub persistent: bool,
    /// `--undefine-source`: remove the source's definition afterwards.
    pub undefine_source: bool,
    /// `--copy-storage-all`: copy every writable disk to the destination
    /// (made there with the same size and format) while the guest runs.
    pub copy_storage_all: bool,
    /// `--migrateuri tcp://ADDR[:PORT]`: where the destination listens
    /// for the stream (default: the destination URI's host, or loopback
    /// for a local socket; a free port from 49152-49215).
    pub migrate_uri: Option<String>,
    /// `--xml`: the destination's definition (other disk paths), checked
    /// to describe the same machine.
    pub dest_xml: Option<String>,
    /// `--bandwidth`: MiB/s at most for the memory stream.
    pub bandwidth_mib_s: Option<u64>,
    /// `--timeout`: after this long, suspend the guest so the copy
    /// converges (or switch to post-copy with `timeout_postcopy`).
    pub timeout: Option<Duration>,
    /// `--timeout-postcopy` instead of `--timeout-suspend`.
    pub timeout_postcopy: bool,
    /// `--postcopy`: both QEMUs may switch to post-copy, which happens
    /// when asked ([`crate::Driver::migrate_start_postcopy`], virsh's
    /// `migrate-postcopy`) or at the timeout with `timeout_postcopy`.
    pub postcopy: bool,
}

impl MigrateOptions {
    /// `--live`.
    pub fn live(mut self) -> MigrateOptions {
        self.live = true;
        self
    }

    /// `--persistent`.
    pub fn persistent(mut self) -> MigrateOptions {
        self.persistent = true;
        self
    }

    /// `--undefine-source`.
    pub fn undefine_source(mut self) -> MigrateOptions {
        self.undefine_source = true;
        self
    }

    /// `--copy-storage-all`.
    pub fn copy_storage_all(mut self) -> MigrateOptions {
        self.copy_storage_all = true;
        self
    }

    /// `--migrateuri`.
    pub fn migrate_uri(mut self, uri: impl Into<String>) -> MigrateOptions {
        self.migrate_uri = Some(uri.into());
        self
    }

    /// `--xml`.
    pub fn dest_xml(mut self, xml: impl Into<String>) -> MigrateOptions {
        self.dest_xml = Some(xml.into());
        self
    }

    /// `--bandwidth`.
    pub fn bandwidth(mut self, mib_s: u64) -> MigrateOptions {
        self.bandwidth_mib_s = Some(mib_s);
        self
    }

    /// `--postcopy`.
    pub fn postcopy(mut self) -> MigrateOptions {
        self.postcopy = true;
        self
    }

    /// `--timeout` (with `postcopy`: `--timeout-postcopy`, else
    /// `--timeout-suspend`).
    pub fn timeout(mut self, after: Duration, postcopy: bool) -> MigrateOptions {
        self.timeout = Some(after);
        self.timeout_postcopy = postcopy;
        self
    }
}

/// A disk the destination makes and exports for a storage copy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IncomingDisk {
    /// The disk's target (`vda`).
    pub target: String,
    /// Its size in bytes (the image's virtual size).
    pub size: u64,
}

impl IncomingDisk {
    /// The disk `target` of `size` bytes.
    pub fn new(target: impl Into<String>, size: u64) -> IncomingDisk {
        IncomingDisk {
            target: target.into(),
            size,
        }
    }
}

/// What the source manager asks the destination to prepare.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IncomingParams {
    /// The definition QEMU starts with on the destination.
    pub xml: String,
    /// The address QEMU listens on for the stream (default: every
    /// address).
    pub listen: Option<String>,
    /// The port (default: a free one from the migration range).
    pub port: Option<u16>,
    /// For a storage copy: the disks to make and export over NBD.
    pub disks: Vec<IncomingDisk>,
}

impl IncomingParams {
    /// An incoming migration of the domain `xml` describes.
    pub fn new(xml: impl Into<String>) -> IncomingParams {
        IncomingParams {
            xml: xml.into(),
            listen: None,
            port: None,
            disks: Vec::new(),
        }
    }
}

/// Where the destination waits for the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct IncomingReady {
    /// The TCP port of the memory stream.
    pub port: u16,
    /// The TCP port of the NBD server exporting the disks, for a storage
    /// copy.
    pub nbd_port: Option<u16>,
}

impl IncomingReady {
    /// Ready on `port` (and `nbd_port`).
    pub fn new(port: u16, nbd_port: Option<u16>) -> IncomingReady {
        IncomingReady { port, nbd_port }
    }
}

/// What a destination says of a domain (by UUID) during a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncomingState {
    /// It has no such domain running.
    Absent,
    /// It waits for (or receives) the domain, not yet finished: the
    /// source still owns the guest.
    Incoming,
    /// The domain runs there as its own: the migration finished.
    Owned,
}

/// How the client of a migration it drives ends it on the source
/// (libvirt's Confirm step, or the client gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Confirmation {
    /// The destination runs the guest: the source's copy ends.
    Done,
    /// The migration failed or was cancelled: the guest runs here again.
    Cancelled,
    /// The client went away without saying: the guest stays paused here,
    /// since the destination may run it.
    Abandoned,
}

/// Where the destination QEMU listens, as `(host, port)`: from
/// `--migrateuri` (`tcp://ADDR[:PORT]` or `tcp:ADDR:PORT`), else the
/// destination URI's host, else loopback (a manager on this host).
pub(crate) fn stream_address(
    dest_uri: &str,
    migrate_uri: Option<&str>,
) -> Result<(String, Option<u16>)> {
    if let Some(m) = migrate_uri {
        let rest = m
            .strip_prefix("tcp://")
            .or_else(|| m.strip_prefix("tcp:"))
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("--migrateuri {m}: only tcp://ADDR[:PORT] is supported"),
                )
            })?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && !h.ends_with(':') => {
                let port = p.parse::<u16>().map_err(|_| {
                    Error::new(
                        ErrorCode::InvalidArgument,
                        format!("--migrateuri {m}: '{p}' is not a port"),
                    )
                })?;
                (h, Some(port))
            }
            _ => (rest, None),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        return Ok((host.to_string(), port));
    }
    // qemu+ssh://[user@]host[:port]/...: the host.
    if let Some(rest) = dest_uri.split_once("://").map(|(_, r)| r) {
        let authority = rest.split('/').next().unwrap_or("");
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = match host.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') => h,
            _ => host,
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if !host.is_empty() {
            return Ok((host.to_string(), None));
        }
    }
    Ok(("127.0.0.1".to_string(), None))
}

/// How long a destination keeps an incoming copy nobody asks about
/// (the source's manager, or the client that prepared it).
pub const INCOMING_LEASE: Duration = Duration::from_secs(30);

/// Keeps the destination's lease on incoming migration `uuid`: asks
/// `dest` about it every sixth of [`INCOMING_LEASE`] until `stop` is set
/// (the caller then unparks this thread, so nothing waits for the next
/// beat), or until `dest` answers that the copy is incoming no more.
pub fn keep_lease(
    dest: &dyn crate::Driver,
    uuid: uuid::Uuid,
    stop: &std::sync::atomic::AtomicBool,
) {
    use std::sync::atomic::Ordering::SeqCst;
    let every = INCOMING_LEASE / 6;
    let mut last = std::time::Instant::now();
    while !stop.load(SeqCst) {
        // A spurious wake-up only loops.
        std::thread::park_timeout(every.saturating_sub(last.elapsed()));
        if !stop.load(SeqCst) && last.elapsed() >= every {
            if let Ok(state) = dest.migrate_incoming_state(uuid)
                && state != IncomingState::Incoming
            {
                return;
            }
            last = std::time::Instant::now();
        }
    }
}
