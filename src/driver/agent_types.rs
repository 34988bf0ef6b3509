//! The value types of the guest agent's calls
//! ([`Driver::agent_call`](super::Driver::agent_call)): what is asked and
//! what comes back.

use crate::error::{Error, ErrorCode, Result};

/// One call the QEMU guest agent answers.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentCall {
    /// The guest's host name: [`AgentAnswer::Text`].
    Hostname,
    /// The guest's clock: [`AgentAnswer::Time`].
    GetTime,
    /// Sets the guest's clock to (seconds, nanoseconds) since the epoch,
    /// or from its own hardware clock with `None`: [`AgentAnswer::Done`].
    SetTime(Option<(i64, u32)>),
    /// Freezes the file systems at these mount points (all when empty):
    /// [`AgentAnswer::Count`].
    FsFreeze(Vec<String>),
    /// Thaws every frozen file system: [`AgentAnswer::Count`].
    FsThaw,
    /// Powers the guest off (or reboots it) from inside:
    /// [`AgentAnswer::Done`].
    Power {
        /// Reboot rather than power off.
        reboot: bool,
    },
    /// What the guest says of itself, in the groups of these
    /// [`guest_info`] bits (every group the agent answers when 0), as
    /// libvirt names the fields: [`AgentAnswer::Fields`].
    GuestInfo(u32),
    /// Sets a guest user's password (given as is, or as a crypt(3) hash
    /// with `crypted`): [`AgentAnswer::Done`].
    SetUserPassword {
        /// The user.
        user: String,
        /// The password, or its hash.
        password: String,
        /// `password` is a hash.
        crypted: bool,
    },
    /// The guest's mounted file systems: [`AgentAnswer::FileSystems`].
    FsInfo,
    /// A guest user's SSH authorized keys: [`AgentAnswer::Texts`].
    SshKeys(String),
    /// Changes a guest user's SSH authorized keys: replaces them with
    /// `keys`, adds `keys` with `append`, or takes `keys` away with
    /// `remove`: [`AgentAnswer::Done`].
    SetSshKeys {
        /// The user.
        user: String,
        /// The keys, one line each.
        keys: Vec<String>,
        /// Add the keys to those there.
        append: bool,
        /// Take the keys away.
        remove: bool,
    },
    /// Any command, as JSON (`{"execute": ...}`), answered with the
    /// agent's whole reply as JSON: [`AgentAnswer::Reply`] (virsh's
    /// `qemu-agent-command`; the domain is tainted `custom-ga-command`).
    Command {
        /// The command.
        json: String,
        /// Seconds to wait for the reply, or libvirt's
        /// `VIR_DOMAIN_QEMU_AGENT_COMMAND_*`: -2 block (up to the agent's
        /// command timeout, a minute), -1 default (5 seconds, as
        /// libvirt's), 0 do not wait.
        timeout: i32,
    },
    /// Sets how long the domain's agent calls wait for the agent's reply,
    /// as libvirt's `virDomainAgentSetResponseTimeout`: seconds, or -2
    /// block (up to a minute), -1 libvirt's default (5 seconds), 0 do not
    /// wait (every call fails at once); below -2 `InvalidArgument`. Kept
    /// while the manager runs, for the domain's runs to come too (a
    /// shut-off domain takes it), and by a running domain's status across
    /// a restart of the manager: [`AgentAnswer::Done`].
    SetResponseTimeout(i32),
    /// Discards the unused blocks of the guest's mounted file systems
    /// (`guest-fstrim`), those of at least `minimum` bytes only (0: the
    /// file system's own minimum), as virsh's `domfstrim`:
    /// [`AgentAnswer::Done`].
    FsTrim {
        /// The smallest free range to discard, bytes.
        minimum: u64,
    },
    /// The guest's vCPUs as its kernel has them (virsh's `guestvcpus`):
    /// [`AgentAnswer::Fields`] `vcpus`, `online` and `offlinable`, each a
    /// list of vCPU numbers in libvirt's form (`0-1,3`).
    GuestVcpus,
    /// Takes the guest's vCPUs in `cpumap` (libvirt's list form, `1,3-4`)
    /// online, or offline without `enable`, inside the guest, as
    /// libvirt's `virDomainSetGuestVcpus`: every one must be the guest's
    /// (`InvalidArgument` otherwise) and, to go offline, offlinable
    /// (`OperationUnsupported`): [`AgentAnswer::Done`].
    SetGuestVcpus {
        /// The vCPUs.
        cpumap: String,
        /// Online rather than offline.
        enable: bool,
    },
    /// Suspends the guest from inside (`guest-suspend-ram`, `-disk` or
    /// `-hybrid`), as virsh's `dompmsuspend`, and returns once QEMU
    /// reports it suspended (the domain is then `pmsuspended`) or, to
    /// disk, gone: [`AgentAnswer::Done`].
    PmSuspend(PmTarget),
}

/// Where [`AgentCall::PmSuspend`] suspends the guest to, with libvirt's
/// numbers (`VIR_NODE_SUSPEND_TARGET_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PmTarget {
    /// Memory (S3): `mem`.
    Mem = 0,
    /// Disk (S4): `disk`.
    Disk = 1,
    /// Both: `hybrid`.
    Hybrid = 2,
}

impl PmTarget {
    /// The target of libvirt's number; `InvalidArgument` for another.
    pub fn from_number(n: u32) -> Result<PmTarget> {
        match n {
            0 => Ok(PmTarget::Mem),
            1 => Ok(PmTarget::Disk),
            2 => Ok(PmTarget::Hybrid),
            _ => Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("Unknown suspend target: {n}"),
            )),
        }
    }
    /// virsh's word for it (`mem`, `disk`, `hybrid`).
    pub fn as_str(self) -> &'static str {
        match self {
            PmTarget::Mem => "mem",
            PmTarget::Disk => "disk",
            PmTarget::Hybrid => "hybrid",
        }
    }
}

/// The groups of [`AgentCall::GuestInfo`], with libvirt's bit values
/// (`VIR_DOMAIN_GUEST_INFO_*`).
pub mod guest_info {
    /// `user.*`: the users logged in.
    pub const USERS: u32 = 1;
    /// `os.*`: the operating system.
    pub const OS: u32 = 2;
    /// `timezone.*`.
    pub const TIMEZONE: u32 = 4;
    /// `hostname`.
    pub const HOSTNAME: u32 = 8;
    /// `fs.*`: the mounted file systems.
    pub const FILESYSTEM: u32 = 16;
    /// `disk.*`: the guest's disks (block devices and partitions).
    pub const DISKS: u32 = 32;
    /// `if.*`: the network interfaces and their addresses.
    pub const INTERFACES: u32 = 64;
}

/// A value of [`AgentAnswer::Fields`], typed as libvirt types it.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestValue {
    /// A text.
    Text(String),
    /// A signed number (a time zone's offset in seconds).
    Int(i32),
    /// A count or a prefix length.
    UInt(u32),
    /// A size in bytes or a time in milliseconds.
    ULLong(u64),
    /// A yes or no (whether a disk is a partition).
    Bool(bool),
}

/// What an [`AgentCall`] returns.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentAnswer {
    /// Nothing more than success.
    Done,
    /// A text (a host name).
    Text(String),
    /// Seconds and nanoseconds since the epoch.
    Time(i64, u32),
    /// A number of file systems.
    Count(u32),
    /// Named, typed fields, in the order libvirt gives them.
    Fields(Vec<(String, GuestValue)>),
    /// Texts (SSH keys).
    Texts(Vec<String>),
    /// The guest's mounted file systems.
    FileSystems(Vec<GuestFsInfo>),
    /// The agent's reply to [`AgentCall::Command`], as JSON; `None` when
    /// the call did not wait for it.
    Reply(Option<String>),
}

/// A file system mounted in the guest (virsh's `domfsinfo`).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestFsInfo {
    /// Where it is mounted in the guest.
    pub mountpoint: String,
    /// The guest's name of its device (`vda1`).
    pub name: String,
    /// Its type (`ext4`).
    pub fstype: String,
    /// The targets of the domain's disks under it (`vda`), as the
    /// definition names them.
    pub disks: Vec<String>,
}

impl GuestFsInfo {
    /// A file system.
    pub fn new(
        mountpoint: String,
        name: String,
        fstype: String,
        disks: Vec<String>,
    ) -> GuestFsInfo {
        GuestFsInfo {
            mountpoint,
            name,
            fstype,
            disks,
        }
    }
}

impl AgentAnswer {
    /// The text of [`AgentAnswer::Text`].
    pub fn string(self) -> Result<String> {
        match self {
            AgentAnswer::Text(s) => Ok(s),
            other => Err(mismatch(&other)),
        }
    }
    /// The time of [`AgentAnswer::Time`].
    pub fn time(self) -> Result<(i64, u32)> {
        match self {
            AgentAnswer::Time(s, n) => Ok((s, n)),
            other => Err(mismatch(&other)),
        }
    }
    /// The fields of [`AgentAnswer::Fields`].
    pub fn fields(self) -> Result<Vec<(String, GuestValue)>> {
        match self {
            AgentAnswer::Fields(f) => Ok(f),
            other => Err(mismatch(&other)),
        }
    }
    /// The file systems of [`AgentAnswer::FileSystems`].
    pub fn file_systems(self) -> Result<Vec<GuestFsInfo>> {
        match self {
            AgentAnswer::FileSystems(f) => Ok(f),
            other => Err(mismatch(&other)),
        }
    }
    /// The texts of [`AgentAnswer::Texts`].
    pub fn texts(self) -> Result<Vec<String>> {
        match self {
            AgentAnswer::Texts(t) => Ok(t),
            other => Err(mismatch(&other)),
        }
    }
    /// The number of [`AgentAnswer::Count`].
    pub fn count(self) -> Result<u32> {
        match self {
            AgentAnswer::Count(n) => Ok(n),
            other => Err(mismatch(&other)),
        }
    }
}

fn mismatch(answer: &AgentAnswer) -> Error {
    Error::new(
        ErrorCode::Protocol,
        format!("unexpected guest agent answer {answer:?}"),
    )
}
