//! The procedure table of qvirt's protocol: every procedure once, with
//! its number, arguments, reply, who may call it and how it is run.
//! From it come the [`Procedure`] numbers, the [`Call`] and [`Reply`]
//! codecs, the read-only check ([`Call::read_only_refusal`]), the
//! server's [`dispatch`] (through [`Handler`], one method per
//! procedure), the client's typed calls ([`Caller`]) and the fuzz stub's
//! list of queries.
//!
//! The body of a call is its arguments alone (postcard), and the body of
//! a reply is `Result<reply, WireError>`, so the procedure number in the
//! frame header says how to read both. Numbers are explicit and
//! append-only: reordering this table changes nothing on the wire.
//!
//! A second protocol (libvirt's RPC) has a table of its own beside its
//! own codec; both are served by the same server loop and workers.

use uuid::Uuid;

use super::types::{
    Bytes, WireCompletedJob, WireDomain, WireDumpOptions, WireIncomingParams, WireIncomingReady,
    WireIncomingState, WireInfo, WireInterfaceAddresses, WireJobInfo, WireListFilter, WireMedia,
    WireMediaFlags, WireMetadataKind, WireMigrateOptions, WireModifyFlags, WireNode,
    WireSaveOptions, WireShutdown, WireStats, WireSummary, WireUndefineFlags, WireVersion,
};
use super::types::{WireBlkioTuneChange, WireDiskRuntime, WireMemTuneChange};
use super::types::{
    WireBlockInfo, WireBlockJobInfo, WirePool, WirePoolInfo, WirePoolSummary, WireSecret,
    WireSecretUsage, WireSnapshot, WireSnapshotInfo, WireVolume, WireVolumeInfo,
};
use super::types_agent::{WireAgentAnswer, WireAgentCall};
use super::types_changes::{WireBlockCopy, WireIoThreadChange, WireSaveImage, WireSaveState};
use super::wire::{WireError, dec, enc};
use crate::driver::XmlFlags;
use crate::error::{Error, ErrorCode, Result};

/// How the server runs a procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Never waits (reads a snapshot): may be answered in the I/O loop.
    Quick,
    /// Must not wait behind long calls (`destroy` always wins): runs on
    /// any worker, including those kept for such calls.
    Prio,
    /// May take long (a start, a save, a shutdown that waits): runs on a
    /// general worker.
    Job,
}

/// Declares the procedures; see the module's documentation. Each line:
/// `NUMBER Name method(Args) -> Reply, ACCESS, CLASS;` where ACCESS is
/// `ro` (allowed on a read-only connection), `rw` (not: it changes
/// state), `{rw_only => "why"}` (not: it changes nothing but gives out
/// what only a read-write connection may see), or
/// `{ro_unless PREDICATE => "why"}` (allowed unless `PREDICATE(&args)`).
macro_rules! procedures {
    ($(
        $(#[$doc:meta])*
        $number:literal $name:ident $method:ident ($args:ty) -> $ret:ty, $access:tt, $class:ident;
    )*) => {
        /// A procedure of qvirt's protocol, by its wire number.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum Procedure {
            $($(#[$doc])* $name = $number,)*
        }

        impl Procedure {
            /// Every procedure, in table order.
            pub const ALL: &'static [Procedure] = &[$(Procedure::$name),*];

            /// Its wire number.
            pub fn number(self) -> u32 {
                self as u32
            }

            /// The procedure with wire number `n`.
            pub fn from_number(n: u32) -> Option<Procedure> {
                match n {
                    $($number => Some(Procedure::$name),)*
                    _ => None,
                }
            }

            /// Its name: the `Driver` method it runs (`lookup_by_name`).
            pub fn method(self) -> &'static str {
                match self {
                    $(Procedure::$name => stringify!($method),)*
                }
            }

            /// Whether a read-only connection may call it (with some
            /// arguments at least).
            pub fn read_only(self) -> bool {
                match self {
                    $(Procedure::$name => procedures!(@ro_capable $access),)*
                }
            }

            /// How the server runs it.
            pub fn class(self) -> Class {
                match self {
                    $(Procedure::$name => Class::$class,)*
                }
            }
        }

        /// A call: a procedure with its arguments.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Call {
            $($(#[$doc])* $name($args),)*
        }

        impl Call {
            /// Its procedure.
            pub fn procedure(&self) -> Procedure {
                match self {
                    $(Call::$name(_) => Procedure::$name,)*
                }
            }

            /// The procedure number and the encoded arguments.
            pub fn encode(&self) -> (u32, Vec<u8>) {
                match self {
                    $(Call::$name(args) => ($number, enc(args)),)*
                }
            }

            /// Decodes the call of `procedure` from its arguments.
            pub fn decode(procedure: u32, body: &[u8]) -> Result<Call> {
                match procedure {
                    $($number => Ok(Call::$name(dec(
                        body,
                        concat!("arguments of ", stringify!($method)),
                    )?)),)*
                    n => Err(unknown_procedure(n)),
                }
            }

            /// Why a read-only connection may not make this call; `None`
            /// when it may.
            pub fn read_only_refusal(&self) -> Option<String> {
                match self {
                    $(Call::$name(args) => procedures!(@refuse $access, args, $number, $method),)*
                }
            }
        }

        /// A successful reply, one variant per procedure.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Reply {
            $($(#[$doc])* $name($ret),)*
        }

        impl Reply {
            /// The procedure it answers.
            pub fn procedure(&self) -> Procedure {
                match self {
                    $(Reply::$name(_) => Procedure::$name,)*
                }
            }

            /// Encodes `result` as the body of a reply.
            pub fn encode(result: &std::result::Result<Reply, Error>) -> Vec<u8> {
                match result {
                    Err(e) => enc(&Err::<(), WireError>(WireError::from(e))),
                    $(Ok(Reply::$name(v)) => enc(&Ok::<&$ret, WireError>(v)),)*
                }
            }

            /// Decodes the reply to `procedure`: `Err` for a malformed
            /// body, `Ok` of the remote result otherwise.
            pub fn decode(procedure: u32, body: &[u8]) -> Result<std::result::Result<Reply, Error>> {
                Ok(match procedure {
                    $($number => dec::<std::result::Result<$ret, WireError>>(body, "reply")?
                        .map(Reply::$name)
                        .map_err(Error::from),)*
                    n => {
                        return Err(Error::new(
                            ErrorCode::Protocol,
                            format!("reply to unknown procedure {n}"),
                        ))
                    }
                })
            }
        }

        /// The server's side of each procedure: what a call does.
        pub trait Handler {
            $(
                #[allow(missing_docs)]
                fn $method(&mut self, args: $args) -> Result<$ret>;
            )*
        }

        /// Runs `call` through `handler`: the one place a call meets its
        /// method.
        pub fn dispatch(handler: &mut impl Handler, call: Call) -> Result<Reply> {
            match call {
                $(Call::$name(args) => handler.$method(args).map(Reply::$name),)*
            }
        }

        /// The client's side: one typed method per procedure over a
        /// transport's [`Caller::call`].
        pub trait Caller {
            /// Sends `call` and waits for its reply.
            fn call(&self, call: Call) -> Result<Reply>;
            $(
                #[allow(missing_docs)]
                fn $method(&self, args: $args) -> Result<$ret> {
                    match self.call(Call::$name(args))? {
                        Reply::$name(r) => Ok(r),
                        other => Err(mismatch(Procedure::$name, other.procedure())),
                    }
                }
            )*
        }
    };
    (@ro_capable ro) => { true };
    (@ro_capable rw) => { false };
    (@ro_capable {rw_only => $why:literal}) => { false };
    (@ro_capable {ro_unless $pred:path => $why:literal}) => { true };
    (@refuse ro, $args:ident, $number:literal, $method:ident) => {{
        let _ = $args;
        None
    }};
    (@refuse rw, $args:ident, $number:literal, $method:ident) => {{
        let _ = $args;
        Some(format!(
            "procedure {} ({}) changes state; this connection is read-only (use the read-write socket as root)",
            $number,
            stringify!($method)
        ))
    }};
    (@refuse {rw_only => $why:literal}, $args:ident, $number:literal, $method:ident) => {{
        let _ = $args;
        Some(format!(
            "procedure {} ({}): {}; this connection is read-only (use the read-write socket as root)",
            $number,
            stringify!($method),
            $why
        ))
    }};
    (@refuse {ro_unless $pred:path => $why:literal}, $args:ident, $number:literal, $method:ident) => {
        $pred($args).then(|| format!(
            "procedure {} ({}): {}; this connection is read-only (use the read-write socket as root)",
            $number,
            stringify!($method),
            $why
        ))
    };
}

procedures! {
    /// Opens every connection: the client's protocol version; the reply
    /// is the daemon's.
    1 Hello hello(u32) -> u32, ro, Quick;
    /// `Driver::version`.
    2 Version version(()) -> WireVersion, ro, Job;
    /// `Driver::node_info`.
    3 NodeInfo node_info(()) -> WireNode, ro, Job;
    /// `Driver::capabilities`.
    4 Capabilities capabilities(()) -> String, ro, Job;
    /// `Driver::list`.
    5 List list(WireListFilter) -> Vec<WireSummary>, ro, Quick;
    /// `Driver::lookup_by_name`.
    6 LookupByName lookup_by_name(String) -> WireDomain, ro, Quick;
    /// `Driver::lookup_by_uuid`.
    7 LookupByUuid lookup_by_uuid(Uuid) -> WireDomain, ro, Quick;
    /// `Driver::lookup_by_id`.
    8 LookupById lookup_by_id(u32) -> WireDomain, ro, Quick;
    /// `Driver::define_xml`.
    9 DefineXml define_xml(String) -> WireDomain, rw, Job;
    /// `Driver::undefine`.
    10 Undefine undefine(WireDomain) -> (), rw, Job;
    /// `Driver::create_xml`.
    11 CreateXml create_xml(String) -> WireDomain, rw, Job;
    /// `Driver::start`.
    12 Start start(WireDomain) -> WireDomain, rw, Job;
    /// `Driver::shutdown`.
    13 Shutdown shutdown((WireDomain, WireShutdown)) -> (), rw, Job;
    /// `Driver::destroy`.
    14 Destroy destroy(WireDomain) -> (), rw, Prio;
    /// `Driver::reboot`.
    15 Reboot reboot(WireDomain) -> (), rw, Job;
    /// `Driver::reset`.
    16 Reset reset(WireDomain) -> (), rw, Job;
    /// `Driver::suspend`.
    17 Suspend suspend(WireDomain) -> (), rw, Job;
    /// `Driver::resume`.
    18 Resume resume(WireDomain) -> (), rw, Job;
    /// `Driver::save`, with the path's bytes.
    19 Save save((WireDomain, Vec<u8>)) -> (), rw, Job;
    /// `Driver::restore`, with the path's bytes.
    20 Restore restore(Vec<u8>) -> WireDomain, rw, Job;
    /// `Driver::managed_save`.
    21 ManagedSave managed_save(WireDomain) -> (), rw, Job;
    /// `Driver::managed_save_remove`.
    22 ManagedSaveRemove managed_save_remove(WireDomain) -> (), rw, Job;
    /// `Driver::autostart`.
    23 Autostart autostart(WireDomain) -> bool, ro, Prio;
    /// `Driver::set_autostart`.
    24 SetAutostart set_autostart((WireDomain, bool)) -> (), rw, Job;
    /// `Driver::info`.
    25 Info info(WireDomain) -> WireInfo, ro, Quick;
    /// `Driver::xml_desc` (domain, `XmlFlags` bits: 1 inactive, 2
    /// secure; sent as a bool before secure existed, which postcard
    /// encodes as the same byte).
    26 XmlDesc xml_desc((WireDomain, u32)) -> String,
        {ro_unless xml_secure => "XML with secrets (passwords) is only given on a read-write connection"},
        Prio;
    /// `Driver::events`: events then arrive as event frames with this
    /// call's serial, until the client ends the stream.
    27 Events events(()) -> (), ro, Quick;
    /// `Driver::console` (domain, force): console bytes then travel as
    /// stream frames with this call's serial, both ways.
    28 Console console((WireDomain, bool)) -> (), rw, Job;
    /// `Driver::change_media` (domain, target, change, flags).
    29 ChangeMedia change_media((WireDomain, String, WireMedia, WireMediaFlags)) -> (), rw, Job;
    /// `Driver::screenshot`: the PNG's bytes.
    30 Screenshot screenshot(WireDomain) -> Bytes, rw, Job;
    /// `Driver::job_info`: the domain's asynchronous job, if any.
    31 JobInfo job_info(WireDomain) -> Option<WireJobInfo>, ro, Quick;
    /// `Driver::job_abort`.
    32 JobAbort job_abort(WireDomain) -> (), rw, Prio;
    /// `Driver::save_with`, with the path's bytes.
    33 SaveWith save_with((WireDomain, Vec<u8>, WireSaveOptions)) -> (), rw, Job;
    /// `Driver::managed_save_with`.
    34 ManagedSaveWith managed_save_with((WireDomain, WireSaveOptions)) -> (), rw, Job;
    /// `Driver::undefine_flags`.
    35 UndefineFlags undefine_flags((WireDomain, WireUndefineFlags)) -> (), rw, Job;
    /// `Driver::migrate` (domain, destination URI, options).
    36 Migrate migrate((WireDomain, String, WireMigrateOptions)) -> (), rw, Job;
    /// `Driver::migrate_incoming`: the destination's prepare.
    37 MigrateIncoming migrate_incoming(WireIncomingParams) -> WireIncomingReady, rw, Job;
    /// `Driver::migrate_finish` (UUID, resume, persistent XML).
    38 MigrateFinish migrate_finish((Uuid, bool, Option<String>)) -> WireDomain, rw, Job;
    /// `Driver::migrate_abort_incoming`.
    39 MigrateAbortIncoming migrate_abort_incoming(Uuid) -> (), rw, Prio;
    /// `Driver::migrate_incoming_state`.
    40 MigrateIncomingState migrate_incoming_state(Uuid) -> WireIncomingState, ro, Quick;
    /// `Driver::set_memory` (domain, KiB, flags).
    41 SetMemory set_memory((WireDomain, u64, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::set_max_memory` (domain, KiB, flags).
    42 SetMaxMemory set_max_memory((WireDomain, u64, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::set_vcpus` (domain, count, flags).
    43 SetVcpus set_vcpus((WireDomain, u32, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::set_max_vcpus` (domain, count, flags).
    44 SetMaxVcpus set_max_vcpus((WireDomain, u32, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::stats`.
    45 Stats stats(WireDomain) -> WireStats, ro, Job;
    /// `Driver::qemu_monitor_command` (domain, QMP command as JSON).
    46 QemuMonitorCommand qemu_monitor_command((WireDomain, String)) -> String, rw, Job;

    // Storage pools and volumes, snapshots and block jobs. Flags travel
    // as their bits (`bits()`), refused when unknown.
    /// `Driver::list_pools`.
    47 ListPools list_pools(()) -> Vec<WirePoolSummary>, ro, Job;
    /// `Driver::pool_lookup_by_name`.
    48 PoolLookupByName pool_lookup_by_name(String) -> WirePool, ro, Job;
    /// `Driver::pool_define_xml`.
    49 PoolDefineXml pool_define_xml(String) -> WirePool, rw, Job;
    /// `Driver::pool_build`.
    50 PoolBuild pool_build(WirePool) -> (), rw, Job;
    /// `Driver::pool_start`.
    51 PoolStart pool_start(WirePool) -> (), rw, Job;
    /// `Driver::pool_destroy`.
    52 PoolDestroy pool_destroy(WirePool) -> (), rw, Job;
    /// `Driver::pool_undefine`.
    53 PoolUndefine pool_undefine(WirePool) -> (), rw, Job;
    /// `Driver::pool_info`.
    54 PoolInfo pool_info(WirePool) -> WirePoolInfo, ro, Job;
    /// `Driver::pool_refresh`.
    55 PoolRefresh pool_refresh(WirePool) -> (), rw, Job;
    /// `Driver::pool_xml`.
    56 PoolXml pool_xml(WirePool) -> String, ro, Job;
    /// `Driver::pool_set_autostart`.
    57 PoolSetAutostart pool_set_autostart((WirePool, bool)) -> (), rw, Job;
    /// `Driver::list_volumes`.
    58 ListVolumes list_volumes(WirePool) -> Vec<WireVolume>, ro, Job;
    /// `Driver::vol_lookup_by_name` (pool, volume name).
    59 VolLookupByName vol_lookup_by_name((WirePool, String)) -> WireVolume, ro, Job;
    /// `Driver::vol_lookup_by_path` (the path as bytes).
    60 VolLookupByPath vol_lookup_by_path(Vec<u8>) -> WireVolume, ro, Job;
    /// `Driver::vol_create_xml` (pool, `<volume>` XML).
    61 VolCreateXml vol_create_xml((WirePool, String)) -> WireVolume, rw, Job;
    /// `Driver::vol_clone` (pool, `<volume>` XML, source volume).
    62 VolClone vol_clone((WirePool, String, WireVolume)) -> WireVolume, rw, Job;
    /// `Driver::vol_delete`.
    63 VolDelete vol_delete(WireVolume) -> (), rw, Job;
    /// `Driver::vol_info`.
    64 VolInfo vol_info(WireVolume) -> WireVolumeInfo, ro, Job;
    /// `Driver::vol_xml`.
    65 VolXml vol_xml(WireVolume) -> String, ro, Job;
    /// `Driver::vol_resize` (volume, bytes, `ResizeFlags` bits).
    66 VolResize vol_resize((WireVolume, u64, u32)) -> (), rw, Job;
    /// `Driver::snapshot_create_xml` (domain, `<domainsnapshot>` XML,
    /// `SnapshotCreateFlags` bits).
    67 SnapshotCreateXml snapshot_create_xml((WireDomain, String, u32)) -> WireSnapshot, rw, Job;
    /// `Driver::snapshot_list`.
    68 SnapshotList snapshot_list(WireDomain) -> Vec<WireSnapshotInfo>, ro, Job;
    /// `Driver::snapshot_lookup` (domain, snapshot name).
    69 SnapshotLookup snapshot_lookup((WireDomain, String)) -> WireSnapshot, ro, Job;
    /// `Driver::snapshot_current`.
    70 SnapshotCurrent snapshot_current(WireDomain) -> Option<WireSnapshot>, ro, Job;
    /// `Driver::snapshot_info`.
    71 SnapshotInfo snapshot_info(WireSnapshot) -> WireSnapshotInfo, ro, Job;
    /// `Driver::snapshot_xml`.
    72 SnapshotXml snapshot_xml(WireSnapshot) -> String, ro, Job;
    /// `Driver::snapshot_revert` (snapshot, `SnapshotRevertFlags` bits).
    73 SnapshotRevert snapshot_revert((WireSnapshot, u32)) -> (), rw, Job;
    /// `Driver::snapshot_delete` (snapshot, `SnapshotDeleteFlags` bits).
    74 SnapshotDelete snapshot_delete((WireSnapshot, u32)) -> (), rw, Job;
    /// `Driver::block_commit` (domain, disk, `BlockCommitFlags` bits).
    75 BlockCommit block_commit((WireDomain, String, u32)) -> (), rw, Job;
    /// `Driver::block_pull` (domain, disk).
    76 BlockPull block_pull((WireDomain, String)) -> (), rw, Job;
    /// `Driver::block_job_info` (domain, disk).
    77 BlockJobInfo block_job_info((WireDomain, String)) -> Option<WireBlockJobInfo>, ro, Job;
    /// `Driver::block_job_abort` (domain, disk, pivot).
    78 BlockJobAbort block_job_abort((WireDomain, String, bool)) -> (), rw, Prio;
    /// `Driver::block_info` (domain, disk).
    79 BlockInfo block_info((WireDomain, String)) -> WireBlockInfo, ro, Job;
    /// `Driver::undefine_flags` with `snapshots_metadata` (procedure 35's
    /// flags predate it).
    80 UndefineSnapshots undefine_snapshots((WireDomain, WireUndefineFlags)) -> (), rw, Job;

    /// `Driver::messages`.
    81 Messages messages(WireDomain) -> Vec<String>, ro, Quick;
    /// `Driver::start_paused`.
    82 StartPaused start_paused(WireDomain) -> WireDomain, rw, Job;
    /// `Driver::rename` (domain, new name).
    83 Rename rename((WireDomain, String)) -> WireDomain, rw, Job;
    /// `Driver::set_metadata` (domain, kind, value, flags).
    84 SetMetadata set_metadata((WireDomain, WireMetadataKind, Option<String>, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::metadata` (domain, kind, inactive).
    85 Metadata metadata((WireDomain, WireMetadataKind, bool)) -> Option<String>, ro, Quick;
    /// `Driver::send_key` (domain, libvirt's code set number, hold time
    /// in ms, key codes).
    86 SendKey send_key((WireDomain, u32, u32, Vec<u32>)) -> (), rw, Job;
    /// `Driver::interface_addresses` (domain, libvirt's source number).
    87 InterfaceAddresses interface_addresses((WireDomain, u32)) -> Vec<WireInterfaceAddresses>, ro, Job;
    /// `Driver::job_completed`.
    88 JobCompleted job_completed(WireDomain) -> Option<WireCompletedJob>, ro, Quick;
    /// `Driver::attach_device` (domain, device XML, flags).
    89 AttachDevice attach_device((WireDomain, String, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::detach_device` (domain, device XML, flags).
    90 DetachDevice detach_device((WireDomain, String, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::start_with` (domain, `StartFlags::bits`); with
    /// `autodestroy`, the daemon destroys the domain when this connection
    /// ends.
    91 StartWith start_with((WireDomain, u32)) -> WireDomain, rw, Job;
    /// `Driver::domain_capabilities` (emulator, arch, machine, domain
    /// type; each `None` for the default).
    92 DomainCapabilities domain_capabilities((Option<String>, Option<String>, Option<String>, Option<String>)) -> String, ro, Job;
    /// `Driver::vol_create_with` (pool, `<volume>` XML, the volume
    /// cloned if any, `VolCreateFlags::bits`).
    93 VolCreateWith vol_create_with((WirePool, String, Option<WireVolume>, u32)) -> WireVolume, rw, Job;
    /// `Driver::set_memory_stats_period` (domain, seconds, flags).
    94 SetMemoryStatsPeriod set_memory_stats_period((WireDomain, u32, WireModifyFlags)) -> (), rw, Job;

    // Secrets. A value never crosses a read-only connection, either way.
    /// `Driver::list_secrets`.
    95 ListSecrets list_secrets(()) -> Vec<WireSecret>, ro, Job;
    /// `Driver::secret_lookup_by_uuid`.
    96 SecretLookupByUuid secret_lookup_by_uuid(Uuid) -> WireSecret, ro, Job;
    /// `Driver::secret_lookup_by_usage` (usage type, usage id).
    97 SecretLookupByUsage secret_lookup_by_usage((WireSecretUsage, String)) -> WireSecret, ro, Job;
    /// `Driver::secret_define_xml`.
    98 SecretDefineXml secret_define_xml(String) -> WireSecret, rw, Job;
    /// `Driver::secret_xml`.
    99 SecretXml secret_xml(WireSecret) -> String, ro, Job;
    /// `Driver::secret_set_value` (secret, value).
    100 SecretSetValue secret_set_value((WireSecret, Bytes)) -> (), rw, Job;
    /// `Driver::secret_get_value`.
    101 SecretGetValue secret_get_value(WireSecret) -> Bytes,
        {rw_only => "secret values are only given on a read-write connection"},
        Job;
    /// `Driver::secret_undefine`.
    102 SecretUndefine secret_undefine(WireSecret) -> (), rw, Job;

    // Memory and block I/O tuning.
    /// `Driver::set_memtune` (domain, change, flags).
    103 SetMemtune set_memtune((WireDomain, WireMemTuneChange, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::set_blkiotune` (domain, change, flags).
    104 SetBlkiotune set_blkiotune((WireDomain, WireBlkioTuneChange, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::inject_nmi`.
    105 InjectNmi inject_nmi(WireDomain) -> (), rw, Job;
    /// `Driver::disk_runtime`.
    106 DiskRuntime disk_runtime(WireDomain) -> Vec<WireDiskRuntime>, ro, Job;
    /// `Driver::domain_xml_to_native` (format, domain XML).
    107 DomainXmlToNative domain_xml_to_native((String, String)) -> String, rw, Job;
    /// `Driver::set_block_iotune` (domain, disk, limits by libvirt's
    /// name, group name, flags).
    108 SetBlockIotune set_block_iotune((WireDomain, String, Vec<(String, u64)>, Option<String>, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::iothreads`: each I/O thread's id and host CPUs.
    109 Iothreads iothreads(WireDomain) -> Vec<(u32, Vec<u32>)>, ro, Job;
    /// `Driver::migrate_max_speed`.
    110 MigrateMaxSpeed migrate_max_speed(WireDomain) -> u64, ro, Job;
    /// `Driver::migrate_set_max_speed` (domain, MiB/s).
    111 MigrateSetMaxSpeed migrate_set_max_speed((WireDomain, u64)) -> (), rw, Job;
    /// `Driver::block_peek` (domain, disk, offset, size).
    112 BlockPeek block_peek((WireDomain, String, u64, u64)) -> Bytes, rw, Job;
    /// `Driver::memory_peek` (domain, offset, size, physical).
    113 MemoryPeek memory_peek((WireDomain, u64, u64, bool)) -> Bytes, rw, Job;
    /// `Driver::agent_call` (domain, call). Read-only only for reading
    /// calls, as libvirt's agent calls.
    114 AgentCall agent_call((WireDomain, WireAgentCall)) -> WireAgentAnswer, {ro_unless agent_changes => "guest agent calls other than the host name need a read-write connection"}, Job;
    /// `Driver::block_resize` (domain, disk, bytes).
    115 BlockResize block_resize((WireDomain, String, u64)) -> (), rw, Job;
    /// `Driver::core_dump`, with the path's bytes.
    116 CoreDump core_dump((WireDomain, Vec<u8>, WireDumpOptions)) -> (), rw, Job;
    /// `Driver::change_iothread` (domain, change, flags).
    117 ChangeIothread change_iothread((WireDomain, WireIoThreadChange, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::set_lifecycle_action` (domain, event: 0 power-off,
    /// 1 reboot, 2 crash, the action's word, flags).
    118 SetLifecycleAction set_lifecycle_action((WireDomain, u32, String, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::save_image_xml` (image, secure); a read of a host file
    /// by its path, so read-write only.
    119 SaveImageXml save_image_xml((WireSaveImage, bool)) -> String, rw, Job;
    /// `Driver::save_image_define` (image, XML, running).
    120 SaveImageDefine save_image_define((WireSaveImage, String, Option<bool>)) -> (), rw, Job;
    /// `Driver::dirty_rate_calc` (domain, seconds, mode's word).
    121 DirtyRateCalc dirty_rate_calc((WireDomain, i32, String)) -> (), rw, Job;
    /// `Driver::dirty_rate`: (status, start time, period, mode's word,
    /// MiB/s).
    122 DirtyRate dirty_rate(WireDomain) -> (u32, i64, i32, String, Option<i64>), ro, Job;
    /// `Driver::set_vcpu` (domain, vCPU ids, enable, flags).
    123 SetVcpu set_vcpu((WireDomain, Vec<u32>, bool, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::detach_device_alias` (domain, alias, flags).
    124 DetachDeviceAlias detach_device_alias((WireDomain, String, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::pm_wakeup`.
    125 PmWakeup pm_wakeup(WireDomain) -> (), rw, Job;
    /// `Driver::migrate_max_downtime`: milliseconds.
    126 MigrateMaxDowntime migrate_max_downtime(WireDomain) -> u64, ro, Job;
    /// `Driver::migrate_set_max_downtime` (domain, milliseconds).
    127 MigrateSetMaxDowntime migrate_set_max_downtime((WireDomain, u64)) -> (), rw, Job;
    /// `Driver::migrate_compression_cache`: bytes.
    128 MigrateCompressionCache migrate_compression_cache(WireDomain) -> u64, ro, Job;
    /// `Driver::migrate_set_compression_cache` (domain, bytes).
    129 MigrateSetCompressionCache migrate_set_compression_cache((WireDomain, u64)) -> (), rw, Job;
    /// `Driver::set_block_threshold` (domain, disk's target, bytes).
    130 SetBlockThreshold set_block_threshold((WireDomain, String, u64)) -> (), rw, Job;
    /// `Driver::migrate_start_postcopy`.
    131 MigrateStartPostcopy migrate_start_postcopy(WireDomain) -> (), rw, Job;
    /// `Driver::update_device` (domain, device XML, flags).
    132 UpdateDevice update_device((WireDomain, String, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::pin_cpus` (domain, the vCPU or `None` for the emulator,
    /// host CPUs, flags).
    133 PinCpus pin_cpus((WireDomain, Option<u32>, Vec<u32>, WireModifyFlags)) -> (), rw, Job;
    /// `Driver::migrate_perform` (domain, `tcp:HOST:PORT`, options).
    134 MigratePerform migrate_perform((WireDomain, String, WireMigrateOptions)) -> (), rw, Job;
    /// `Driver::migrate_confirm` (domain, 0 done / 1 cancelled / 2
    /// abandoned, undefine the source).
    135 MigrateConfirm migrate_confirm((WireDomain, u32, bool)) -> (), rw, Job;
    /// `Driver::block_job_set_speed` (domain, disk, bytes a second).
    136 BlockJobSetSpeed block_job_set_speed((WireDomain, String, u64)) -> (), rw, Job;
    /// `Driver::block_copy` (domain, disk, the copy).
    137 BlockCopy block_copy((WireDomain, String, WireBlockCopy)) -> (), rw, Job;
    /// `Driver::save_with` (a path) or `Driver::managed_save_with`
    /// (none) with the state or definition the restore takes.
    138 SaveState save_state((WireDomain, Option<Vec<u8>>, WireSaveOptions, WireSaveState)) -> (), rw, Job;
    /// `Driver::restore_with`, with the path's bytes.
    139 RestoreWith restore_with((Vec<u8>, WireSaveState)) -> WireDomain, rw, Job;
}

/// The highest procedure number this build knows (the table is numbered
/// from 1 without gaps, as a test checks).
pub const LAST_PROCEDURE: u32 = Procedure::ALL.len() as u32;

/// Whether a guest agent call changes the guest or reads more than its
/// name (libvirt allows only `virDomainGetHostname` read-only).
fn agent_changes((_, call): &(WireDomain, WireAgentCall)) -> bool {
    !matches!(call, WireAgentCall::Hostname)
}

/// Whether an `xml_desc` call asks for secrets.
fn xml_secure((_, flags): &(WireDomain, u32)) -> bool {
    flags & XmlFlags::SECURE.bits() != 0
}

/// The error for a procedure number this build does not know.
fn unknown_procedure(n: u32) -> Error {
    Error::new(
        ErrorCode::NoSupport,
        format!("unknown procedure {n} (this daemon knows 1 to {LAST_PROCEDURE})"),
    )
}

/// The error for a reply to another procedure than the call's.
fn mismatch(asked: Procedure, got: Procedure) -> Error {
    Error::new(
        ErrorCode::Protocol,
        format!(
            "the daemon answered {} to a call of {}",
            got.method(),
            asked.method()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_numbered_one_to_last_without_gaps() {
        let numbers: Vec<u32> = Procedure::ALL.iter().map(|p| p.number()).collect();
        assert_eq!(numbers, (1..=LAST_PROCEDURE).collect::<Vec<_>>());
        for p in Procedure::ALL {
            assert_eq!(Procedure::from_number(p.number()), Some(*p));
        }
        assert_eq!(Procedure::from_number(0), None);
        assert_eq!(Procedure::from_number(LAST_PROCEDURE + 1), None);
    }
}
