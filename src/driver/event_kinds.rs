//! What the [`super::Driver`]'s events tell: the [`Event`] and its
//! [`EventKind`], with the values some kinds carry (a disk's I/O error
//! action, a watchdog's, a graphics client's addresses).

use super::{Domain, StateReason};

/// A lifecycle event, in libvirt's terms.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The domain it concerns.
    pub domain: Domain,
    /// What happened.
    pub kind: EventKind,
}

impl Event {
    /// `kind` happened to `domain`.
    pub fn new(domain: Domain, kind: EventKind) -> Event {
        Event { domain, kind }
    }
}

/// What happened to a domain. Not `Copy`: some events carry the name of
/// the device they concern.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A persistent definition was added or changed.
    Defined,
    /// The persistent definition was removed.
    Undefined,
    /// The domain started (booted, restored).
    Started(StateReason),
    /// The vCPUs were stopped: by a user's request
    /// ([`StateReason::User`]), a disk's error policy
    /// ([`StateReason::IoError`]), the watchdog ([`StateReason::Watchdog`]),
    /// the guest's power-off that the policy keeps paused
    /// ([`StateReason::ShuttingDown`]).
    Suspended(StateReason),
    /// The vCPUs run again.
    Resumed,
    /// The guest began a shutdown.
    Shutdown,
    /// The domain stopped running.
    Stopped(StateReason),
    /// The guest was reset (reboot).
    Reset,
    /// The tray of a removable drive (cdrom) opened or closed: the guest
    /// ejected or loaded it, or a media change moved it.
    TrayMoved {
        /// The drive's device alias (`ide0-1-0`, `sata0-0-2`).
        alias: String,
        /// Whether the tray is now open.
        open: bool,
    },
    /// The guest suspended itself (`pmsuspended`): to RAM, or with
    /// `disk` to disk.
    PmSuspended {
        /// Suspended to disk (S4) rather than RAM (S3).
        disk: bool,
    },
    /// A disk's image grew past the write threshold set on it
    /// ([`Driver::set_block_threshold`](super::Driver::set_block_threshold)),
    /// which QEMU then clears: it fires once.
    BlockThreshold {
        /// The disk's target (`vda`).
        dev: String,
        /// The image's file, for a local one.
        path: Option<String>,
        /// The threshold, bytes.
        threshold: u64,
        /// How far the write went past it, bytes.
        excess: u64,
    },
    /// A disk's block job ([`Driver::block_copy`](super::Driver::block_copy),
    /// a commit, a pull) got ready or ended.
    BlockJob {
        /// The disk's target (`vda`).
        dev: String,
        /// The disk's image file, for a local one.
        path: Option<String>,
        /// The job.
        kind: super::BlockJobKind,
        /// What happened.
        status: super::BlockJobStatus,
    },
    /// A device was plugged into the running domain: its alias
    /// (`virtio-disk1`, `net1`, `rng0`, or the user's `ua-...`).
    DeviceAdded {
        /// The device's alias.
        alias: String,
    },
    /// A device left the running domain (the guest let it go): its
    /// alias.
    DeviceRemoved {
        /// The device's alias.
        alias: String,
    },
    /// A disk's read or write failed in QEMU.
    IoError {
        /// The disk's alias (`virtio-disk1`).
        alias: String,
        /// The disk's image file, for a local one.
        path: Option<String>,
        /// What the disk's error policy did.
        action: IoErrorAction,
        /// `enospc` when the host's storage is full, else empty.
        reason: String,
    },
    /// The guest set its real-time clock: its offset from the host's
    /// UTC, seconds.
    RtcChange {
        /// Seconds ahead of (or, negative, behind) the host's UTC.
        offset: i64,
    },
    /// The guest's balloon reached a new size: the memory it has now.
    BalloonChange {
        /// KiB.
        actual_kib: u64,
    },
    /// The guest agent connected to its channel, or left it.
    AgentLifecycle {
        /// Connected (else disconnected).
        connected: bool,
    },
    /// A note of the domain changed ([`Driver::set_metadata`](super::Driver::set_metadata)):
    /// which one (an element's namespace, without its prefix).
    MetadataChange(super::MetadataKind),
    /// The guest's watchdog fired (it was not fed in time): what QEMU
    /// did. A pause also makes the domain paused
    /// ([`StateReason::Watchdog`]).
    Watchdog {
        /// The action taken.
        action: WatchdogFired,
    },
    /// A client of the domain's VNC or SPICE display connected,
    /// finished its handshake, or left.
    Graphics(Box<GraphicsEvent>),
    /// Tunables of the running domain changed: each by libvirt's name
    /// (`cputune.vcpupin0`, `cputune.emulatorpin`,
    /// `cputune.iothreadpin1`, `blkdeviotune.disk`,
    /// `blkdeviotune.total_bytes_sec`, ...) with its new value.
    Tunable(Vec<(String, TunableValue)>),
    /// A migration (or a save, which is one to a file) began another
    /// pass over the guest's memory: its number, from 1.
    MigrationIteration {
        /// The pass.
        iteration: u32,
    },
    /// A migration completed, on either side: its figures, as
    /// [`Driver::job_completed`](super::Driver::job_completed) has them.
    JobCompleted(Box<super::CompletedJob>),
    /// A disk's image was missing when the domain started and its
    /// `startupPolicy` let it start without it: a cdrom's or floppy's
    /// drive started empty, another disk was left out (`dropped`).
    DiskChange {
        /// The disk's alias (`ide0-1-0`, `virtio-disk1`).
        alias: String,
        /// The image that was missing.
        old_path: Option<String>,
        /// The image now (none).
        new_path: Option<String>,
        /// The disk was left out, rather than its drive emptied.
        dropped: bool,
    },
    /// The guest plugged or unplugged blocks of a virtio-mem device: its
    /// alias (`virtiomem0`) and how much of it the guest has now.
    MemoryDeviceSizeChange {
        /// The device's alias.
        alias: String,
        /// KiB.
        size_kib: u64,
    },
}

/// A tunable's new value: a CPU list, a name, or a number.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TunableValue {
    /// A CPU list (`0-1,3`) or a name (a disk, a throttle group).
    Text(String),
    /// A number (bytes or operations a second).
    Number(u64),
}

impl std::fmt::Display for TunableValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TunableValue::Text(t) => f.write_str(t),
            TunableValue::Number(n) => write!(f, "{n}"),
        }
    }
}

/// What [`EventKind::Graphics`] tells.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GraphicsEvent {
    /// Which of the three.
    pub phase: GraphicsPhase,
    /// The display's end of the connection.
    pub local: GraphicsAddress,
    /// The client's end.
    pub remote: GraphicsAddress,
    /// The display's authentication scheme (`none`, `vnc`, `spice`),
    /// empty when QEMU did not say.
    pub auth: String,
    /// Who the client proved to be, as (type, name) pairs: `x509dname`,
    /// `saslUsername`.
    pub subject: Vec<(String, String)>,
}

/// A graphics client's step (libvirt's `virDomainEventGraphicsPhase`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GraphicsPhase {
    /// The client connected.
    Connect,
    /// The client finished the handshake (authenticated).
    Initialize,
    /// The client left.
    Disconnect,
}

impl GraphicsPhase {
    /// virsh's word.
    pub fn as_str(self) -> &'static str {
        match self {
            GraphicsPhase::Connect => "connect",
            GraphicsPhase::Initialize => "initialize",
            GraphicsPhase::Disconnect => "disconnect",
        }
    }
}

/// One end of a graphics connection.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GraphicsAddress {
    /// The address's family.
    pub family: AddressFamily,
    /// The host (an IP address, or a UNIX socket's path).
    pub node: String,
    /// The port, or empty.
    pub service: String,
}

impl GraphicsAddress {
    /// An address.
    pub fn new(family: AddressFamily, node: &str, service: &str) -> GraphicsAddress {
        GraphicsAddress {
            family,
            node: node.to_string(),
            service: service.to_string(),
        }
    }
}

/// An address family (libvirt's `virDomainEventGraphicsAddressType`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressFamily {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
    /// A UNIX socket.
    Unix,
}

impl AddressFamily {
    /// virsh's word.
    pub fn as_str(self) -> &'static str {
        match self {
            AddressFamily::Ipv4 => "IPv4",
            AddressFamily::Ipv6 => "IPv6",
            AddressFamily::Unix => "unix",
        }
    }
}

/// What a fired watchdog did (libvirt's `virDomainEventWatchdogAction`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatchdogFired {
    /// Nothing.
    None,
    /// Paused the guest.
    Pause,
    /// Reset the guest.
    Reset,
    /// Powered the guest off at once.
    PowerOff,
    /// Asked the guest to shut down.
    Shutdown,
    /// Printed a debug message (QEMU's `debug`).
    Debug,
    /// Injected an NMI into the guest.
    InjectNmi,
}

impl WatchdogFired {
    /// Every action, in libvirt's order.
    pub const ALL: [WatchdogFired; 7] = [
        WatchdogFired::None,
        WatchdogFired::Pause,
        WatchdogFired::Reset,
        WatchdogFired::PowerOff,
        WatchdogFired::Shutdown,
        WatchdogFired::Debug,
        WatchdogFired::InjectNmi,
    ];

    /// QEMU's word (`WATCHDOG`'s `action`), which is also virsh's.
    pub fn as_str(self) -> &'static str {
        match self {
            WatchdogFired::None => "none",
            WatchdogFired::Pause => "pause",
            WatchdogFired::Reset => "reset",
            WatchdogFired::PowerOff => "poweroff",
            WatchdogFired::Shutdown => "shutdown",
            WatchdogFired::Debug => "debug",
            WatchdogFired::InjectNmi => "inject-nmi",
        }
    }

    /// The action QEMU's word names.
    pub fn from_name(name: &str) -> Option<WatchdogFired> {
        WatchdogFired::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// What a disk's error policy did with a failed read or write
/// (libvirt's `virDomainEventIOErrorAction`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IoErrorAction {
    /// Nothing: the error was ignored.
    None,
    /// The guest's vCPUs were paused (state paused, reason
    /// [`StateReason::IoError`]).
    Pause,
    /// The error was passed to the guest.
    Report,
}

impl IoErrorAction {
    /// virsh's word.
    pub fn as_str(self) -> &'static str {
        match self {
            IoErrorAction::None => "none",
            IoErrorAction::Pause => "pause",
            IoErrorAction::Report => "report",
        }
    }
}
