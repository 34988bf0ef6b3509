//! [`LvDriver`]: the [`Driver`] methods as libvirt calls.

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;

use uuid::Uuid;

use super::conn::Conn;
use super::{secrets, snapshots, storage};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::uri::SshTarget;
use crate::driver::*;
use crate::model::SecretUsageType;
use crate::transport::client::ssh::Tunnel;
use crate::transport::libvirt::frame::{LibvirtCode, code};
use crate::transport::libvirt::procedures::Caller;
use crate::transport::libvirt::types::*;
use crate::transport::libvirt::values::{self, state_of};

/// `VIR_DRV_FEATURE_*` numbers the handshake asks about.
const FEATURE_PROGRAM_KEEPALIVE: i32 = values::feature::PROGRAM_KEEPALIVE;

/// A connection to a daemon over libvirt's protocol.
pub struct LvDriver {
    conn: Arc<Conn>,
    uri: String,
    /// The ssh carrying the connection, for a `qemu+ssh` URI.
    tunnel: Option<Tunnel>,
}

/// The error for a method libvirt's protocol has no call for.
pub(super) fn no_call(method: &str) -> Error {
    Error::new(
        ErrorCode::NoSupport,
        format!("{method} is not available over libvirt's protocol: it has no such call"),
    )
}

/// The error for a method whose libvirt call this client does not make.
fn not_made(method: &str, call: &str) -> Error {
    Error::new(
        ErrorCode::NoSupport,
        format!(
            "{method} is not supported by qvirt's libvirt client (libvirt's {call} is not made)"
        ),
    )
}

/// libvirt's code of an error from the daemon.
fn libvirt_code(e: &Error) -> Option<i32> {
    e.source
        .as_deref()
        .and_then(|s| s.downcast_ref::<LibvirtCode>())
        .map(|c| c.0)
}

/// `VIR_DOMAIN_AFFECT_LIVE` (1) and `_CONFIG` (2); neither is
/// `_CURRENT`.
pub(super) fn affect(f: ModifyFlags) -> u32 {
    u32::from(f.live) | (u32::from(f.config) << 1)
}

/// `virDomainMetadataType`, the namespace URI and the prefix.
fn metadata_kind(kind: &MetadataKind) -> (i32, Option<String>, Option<String>) {
    match kind {
        MetadataKind::Description => (0, None, None),
        MetadataKind::Title => (1, None, None),
        MetadataKind::Element { uri, key } => (2, Some(uri.clone()), key.clone()),
    }
}

fn dom(d: &Domain) -> Dom {
    Dom::from(d)
}

pub(super) fn dom_args(d: &Domain) -> DomArgs {
    DomArgs { dom: dom(d) }
}

fn dom_flags(d: &Domain, flags: u32) -> DomFlagsArgs {
    DomFlagsArgs { dom: dom(d), flags }
}

impl LvDriver {
    /// Opens a connection on `stream` as virsh does; `server_uri` is the
    /// URI the daemon is asked to open (`qemu:///session`), `uri` the one
    /// this driver reports.
    pub fn open(stream: UnixStream, server_uri: &str, uri: &str) -> Result<LvDriver> {
        LvDriver::open_over(stream, server_uri, uri, None)
    }

    /// Opens a connection through ssh to the remote `qvirtd --proxy
    /// --proto libvirt`, which reaches the daemon's libvirt socket there.
    pub fn open_ssh(t: &SshTarget, server_uri: &str, uri: &str) -> Result<LvDriver> {
        let (stream, tunnel) = Tunnel::spawn(t)?;
        LvDriver::open_over(stream, server_uri, uri, Some(tunnel))
    }

    fn open_over(
        stream: UnixStream,
        server_uri: &str,
        uri: &str,
        tunnel: Option<Tunnel>,
    ) -> Result<LvDriver> {
        let conn = Arc::new(Conn::new(stream, uri)?);
        let opened = LvDriver::handshake(&conn, server_uri, uri);
        if let Err(e) = opened {
            conn.shutdown();
            return Err(match &tunnel {
                Some(t) => {
                    let (code, message) = t.explain((e.code, e.message.clone()));
                    t.close();
                    Error::new(code, message)
                }
                None => e,
            });
        }
        Ok(LvDriver {
            conn,
            uri: uri.to_string(),
            tunnel,
        })
    }

    fn handshake(conn: &Conn, server_uri: &str, uri: &str) -> Result<()> {
        let auth = conn.auth_list(())?;
        // 0: REMOTE_AUTH_NONE; the socket's peer check authenticates.
        if !auth.types.is_empty() && !auth.types.contains(&0) {
            return Err(Error::new(
                ErrorCode::OperationDenied,
                format!(
                    "the daemon at {uri} asks for an authentication qvirt does not speak ({:?})",
                    auth.types
                ),
            ));
        }
        conn.connect_supports_feature(FeatureArgs {
            feature: FEATURE_PROGRAM_KEEPALIVE,
        })?;
        conn.connect_open(OpenArgs {
            name: Some(server_uri.to_string()),
            flags: 0,
        })
    }

    fn info_of(&self, d: &Domain) -> Result<DomainInfo> {
        let i = self.conn.domain_get_info(dom_args(d))?;
        let st = self.conn.domain_get_state(dom_flags(d, 0))?;
        let state = state_of(st.state);
        Ok(DomainInfo {
            state,
            reason: values::reason_of(state, st.reason),
            max_memory_kib: i.max_mem,
            memory_kib: i.memory,
            vcpus: u32::from(i.nr_virt_cpu),
            cpu_time_ns: i.cpu_time,
            persistent: self.conn.domain_is_persistent(dom_args(d))?.value != 0,
            autostart: self.conn.domain_get_autostart(dom_args(d))?.value != 0,
            managed_save: self
                .conn
                .domain_has_managed_save_image(dom_flags(d, 0))?
                .value
                != 0,
        })
    }

    fn state(&self, d: &Domain) -> Result<DomainState> {
        Ok(state_of(self.conn.domain_get_state(dom_flags(d, 0))?.state))
    }
}

impl Drop for LvDriver {
    fn drop(&mut self) {
        let _ = self.conn.connect_close(());
        self.conn.shutdown();
        if let Some(t) = &self.tunnel {
            t.close();
        }
    }
}

impl Driver for LvDriver {
    fn uri(&self) -> String {
        self.uri.clone()
    }

    fn version(&self) -> Result<VersionInfo> {
        let hv = self.conn.connect_get_version(())?.hv_ver;
        let v = |n: u64| format!("{}.{}.{}", n / 1_000_000, n / 1000 % 1000, n % 1000);
        // The library is this one, qvirt's; the daemon's libvirt API
        // level (9.0.0 for qvirtd) is no version of qvirt.
        Ok(VersionInfo {
            library: env!("CARGO_PKG_VERSION").to_string(),
            hypervisor: format!("QEMU {}", v(hv)),
        })
    }

    fn node_info(&self) -> Result<NodeInfo> {
        let n = self.conn.node_get_info(())?;
        Ok(NodeInfo {
            arch: n.model.0,
            memory_kib: n.memory,
            cpus: u32::try_from(n.cpus).unwrap_or(0),
            mhz: u32::try_from(n.mhz).unwrap_or(0),
        })
    }

    fn capabilities(&self) -> Result<String> {
        Ok(self.conn.connect_get_capabilities(())?.capabilities)
    }

    fn domain_capabilities(&self, q: &DomainCapsQuery) -> Result<String> {
        Ok(self
            .conn
            .connect_get_domain_capabilities(DomainCapsArgs {
                emulatorbin: q.emulator.as_ref().map(|p| p.display().to_string()),
                arch: q.arch.clone(),
                machine: q.machine.clone(),
                virttype: q.virt_type.clone(),
                flags: 0,
            })?
            .capabilities)
    }

    fn list(&self, filter: ListFilter) -> Result<Vec<DomainSummary>> {
        let mut flags = 0;
        if filter.active {
            flags |= values::list::ACTIVE;
        }
        if filter.inactive {
            flags |= values::list::INACTIVE;
        }
        if flags == 0 {
            return Ok(Vec::new());
        }
        let r = self.conn.connect_list_all_domains(ListAllArgs {
            need_results: 1,
            flags,
        })?;
        let mut out = Vec::new();
        for d in r.domains {
            let d = Domain::from(d);
            let state = self.state(&d)?;
            out.push(DomainSummary::new(d, state));
        }
        Ok(out)
    }

    fn lookup_by_name(&self, name: &str) -> Result<Domain> {
        Ok(self
            .conn
            .domain_lookup_by_name(NameArgs {
                name: name.to_string(),
            })?
            .dom
            .into())
    }

    fn lookup_by_uuid(&self, uuid: Uuid) -> Result<Domain> {
        Ok(self
            .conn
            .domain_lookup_by_uuid(UuidArgs { uuid })?
            .dom
            .into())
    }

    fn lookup_by_id(&self, id: u32) -> Result<Domain> {
        let id = i32::try_from(id)
            .map_err(|_| Error::new(ErrorCode::NoDomain, format!("no domain with id {id}")))?;
        Ok(self.conn.domain_lookup_by_id(IdArgs { id })?.dom.into())
    }

    fn define_xml(&self, xml: &str) -> Result<Domain> {
        Ok(self
            .conn
            .domain_define_xml(XmlArgs {
                xml: xml.to_string(),
            })?
            .dom
            .into())
    }

    fn undefine(&self, d: &Domain) -> Result<()> {
        self.conn.domain_undefine(dom_args(d))
    }

    fn undefine_flags(&self, d: &Domain, f: UndefineFlags) -> Result<()> {
        use values::undefine as u;
        let mut flags = 0;
        for (on, bit) in [
            (f.nvram, u::NVRAM),
            (f.keep_nvram, u::KEEP_NVRAM),
            (f.tpm, u::TPM),
            (f.keep_tpm, u::KEEP_TPM),
            (f.snapshots_metadata, u::SNAPSHOTS_METADATA),
        ] {
            if on {
                flags |= bit;
            }
        }
        self.conn.domain_undefine_flags(dom_flags(d, flags))
    }

    fn create_xml(&self, xml: &str) -> Result<Domain> {
        Ok(self
            .conn
            .domain_create_xml(XmlFlagsArgs {
                xml: xml.to_string(),
                flags: 0,
            })?
            .dom
            .into())
    }

    fn start(&self, d: &Domain) -> Result<Domain> {
        self.start_with(d, StartFlags::default())
    }

    fn start_paused(&self, d: &Domain) -> Result<Domain> {
        self.start_with(
            d,
            StartFlags {
                paused: true,
                ..StartFlags::default()
            },
        )
    }

    fn start_with(&self, d: &Domain, flags: StartFlags) -> Result<Domain> {
        // VIR_DOMAIN_START_PAUSED 1, VIR_DOMAIN_START_AUTODESTROY 2.
        let bits = u32::from(flags.paused) | (u32::from(flags.autodestroy) << 1);
        Ok(self
            .conn
            .domain_create_with_flags(dom_flags(d, bits))?
            .dom
            .into())
    }

    fn rename(&self, d: &Domain, new_name: &str) -> Result<Domain> {
        self.conn.domain_rename(RenameArgs {
            dom: dom(d),
            new_name: Some(new_name.to_string()),
            flags: 0,
        })?;
        Ok(Domain {
            name: new_name.to_string(),
            ..d.clone()
        })
    }

    fn set_metadata(
        &self,
        d: &Domain,
        kind: &MetadataKind,
        value: Option<&str>,
        flags: ModifyFlags,
    ) -> Result<()> {
        let (kind, uri, key) = metadata_kind(kind);
        self.conn.domain_set_metadata(SetMetadataArgs {
            dom: dom(d),
            kind,
            metadata: value.map(str::to_string),
            key,
            uri,
            flags: affect(flags),
        })
    }

    fn metadata(&self, d: &Domain, kind: &MetadataKind, inactive: bool) -> Result<Option<String>> {
        let (kind, uri, _) = metadata_kind(kind);
        // VIR_DOMAIN_AFFECT_CONFIG for the persistent definition.
        let flags = if inactive { 2 } else { 0 };
        match self.conn.domain_get_metadata(GetMetadataArgs {
            dom: dom(d),
            kind,
            uri,
            flags,
        }) {
            Ok(r) => Ok(Some(r.metadata)),
            Err(e) if libvirt_code(&e) == Some(code::NO_DOMAIN_METADATA) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn interface_addresses(&self, _: &Domain, _: AddressSource) -> Result<Vec<InterfaceAddresses>> {
        Err(not_made(
            "interface_addresses",
            "DOMAIN_INTERFACE_ADDRESSES",
        ))
    }

    fn agent_call(&self, d: &Domain, call: AgentCall) -> Result<AgentAnswer> {
        super::agent::agent_call(&self.conn, d, call)
    }

    fn pm_wakeup(&self, d: &Domain) -> Result<()> {
        super::agent::pm_wakeup(&self.conn, d)
    }

    fn inject_nmi(&self, d: &Domain) -> Result<()> {
        self.conn.domain_inject_nmi(DomFlagsArgs {
            dom: dom(d),
            flags: 0,
        })
    }

    fn send_key(&self, d: &Domain, codeset: KeyCodeset, hold_ms: u32, keys: &[u32]) -> Result<()> {
        self.conn.domain_send_key(SendKeyArgs {
            dom: dom(d),
            codeset: codeset.number(),
            holdtime: hold_ms,
            keycodes: keys.to_vec(),
            flags: 0,
        })
    }

    fn shutdown(&self, d: &Domain, options: ShutdownOptions) -> Result<()> {
        self.conn.domain_shutdown(dom_args(d))?;
        match options.wait {
            Some(wait) => super::lifecycle::wait_shutdown(self, &self.conn, d, wait, options),
            None => Ok(()),
        }
    }

    fn destroy(&self, d: &Domain) -> Result<()> {
        self.conn.domain_destroy(dom_args(d))
    }

    fn reboot(&self, d: &Domain) -> Result<()> {
        self.conn.domain_reboot(dom_flags(d, 0))
    }

    fn reset(&self, d: &Domain) -> Result<()> {
        self.conn.domain_reset(dom_flags(d, 0))
    }

    fn suspend(&self, d: &Domain) -> Result<()> {
        self.conn.domain_suspend(dom_args(d))
    }

    fn resume(&self, d: &Domain) -> Result<()> {
        self.conn.domain_resume(dom_args(d))
    }

    fn save_with(&self, d: &Domain, path: &Path, options: SaveOptions) -> Result<()> {
        super::lifecycle::save(&self.conn, d, Some(path), options)
    }

    fn core_dump(&self, d: &Domain, path: &Path, options: DumpOptions) -> Result<()> {
        super::jobs::core_dump(&self.conn, d, path, options)
    }

    fn restore(&self, path: &Path) -> Result<Domain> {
        self.restore_with(path, RestoreOptions::default())
    }

    fn restore_with(&self, path: &Path, options: RestoreOptions) -> Result<Domain> {
        super::lifecycle::restore(self, &self.conn, path, options)
    }

    fn managed_save_with(&self, d: &Domain, options: SaveOptions) -> Result<()> {
        super::lifecycle::save(&self.conn, d, None, options)
    }

    fn migrate(&self, d: &Domain, dest_uri: &str, options: MigrateOptions) -> Result<()> {
        super::migparams::migrate(&self.conn, d, dest_uri, &options)
    }

    fn migrate_incoming(&self, _: IncomingParams) -> Result<IncomingReady> {
        Err(no_call("migrate_incoming (qvirt's own migration step)"))
    }

    fn migrate_finish(&self, _: Uuid, _: bool, _: Option<String>) -> Result<Domain> {
        Err(no_call("migrate_finish (qvirt's own migration step)"))
    }

    fn migrate_abort_incoming(&self, _: Uuid) -> Result<()> {
        Err(no_call(
            "migrate_abort_incoming (qvirt's own migration step)",
        ))
    }

    fn migrate_incoming_state(&self, _: Uuid) -> Result<IncomingState> {
        Err(no_call(
            "migrate_incoming_state (qvirt's own migration step)",
        ))
    }

    fn job_info(&self, d: &Domain) -> Result<Option<JobInfo>> {
        super::jobs::job_info(&self.conn, d)
    }

    fn job_completed(&self, d: &Domain) -> Result<Option<CompletedJob>> {
        super::jobs::job_completed(&self.conn, d)
    }

    fn job_abort(&self, d: &Domain) -> Result<()> {
        self.conn.domain_abort_job(dom_args(d))
    }

    fn managed_save_remove(&self, d: &Domain) -> Result<()> {
        self.conn.domain_managed_save_remove(dom_flags(d, 0))
    }

    fn autostart(&self, d: &Domain) -> Result<bool> {
        Ok(self.conn.domain_get_autostart(dom_args(d))?.value != 0)
    }

    fn set_autostart(&self, d: &Domain, on: bool) -> Result<()> {
        self.conn.domain_set_autostart(SetAutostartArgs {
            dom: dom(d),
            autostart: i32::from(on),
        })
    }

    fn info(&self, d: &Domain) -> Result<DomainInfo> {
        self.info_of(d)
    }

    fn xml_desc(&self, d: &Domain, flags: XmlFlags) -> Result<String> {
        let mut bits = 0;
        if flags.inactive() {
            bits |= values::xml::INACTIVE;
        }
        if flags.secure() {
            bits |= values::xml::SECURE;
        }
        if flags.migratable() {
            bits |= values::xml::MIGRATABLE;
        }
        Ok(self.conn.domain_get_xml_desc(dom_flags(d, bits))?.xml)
    }

    fn events(&self) -> Result<Box<dyn EventStream>> {
        super::events::subscribe(&self.conn)
    }

    fn console(&self, d: &Domain, force: bool) -> Result<Box<dyn ConsoleStream>> {
        super::streams::console(&self.conn, d, force)
    }

    fn change_media(
        &self,
        d: &Domain,
        target: &str,
        change: MediaChange,
        f: MediaFlags,
    ) -> Result<()> {
        super::jobs::change_media(&self.conn, d, target, change, f)
    }

    fn screenshot(&self, d: &Domain) -> Result<Vec<u8>> {
        super::streams::screenshot(&self.conn, d)
    }

    fn snapshot_create_xml(
        &self,
        dom: &Domain,
        xml: &str,
        flags: SnapshotCreateFlags,
    ) -> Result<Snapshot> {
        snapshots::create(&self.conn, dom, xml, flags)
    }

    fn snapshot_list(&self, dom: &Domain) -> Result<Vec<SnapshotInfo>> {
        snapshots::list(&self.conn, dom)
    }

    fn snapshot_lookup(&self, dom: &Domain, name: &str) -> Result<Snapshot> {
        snapshots::lookup(&self.conn, dom, name)
    }

    fn snapshot_current(&self, dom: &Domain) -> Result<Option<Snapshot>> {
        snapshots::current(&self.conn, dom)
    }

    fn snapshot_info(&self, snap: &Snapshot) -> Result<SnapshotInfo> {
        snapshots::info(&self.conn, snap)
    }

    fn snapshot_xml(&self, snap: &Snapshot) -> Result<String> {
        snapshots::xml(&self.conn, snap)
    }

    fn snapshot_revert(&self, snap: &Snapshot, flags: SnapshotRevertFlags) -> Result<()> {
        snapshots::revert(&self.conn, snap, flags)
    }

    fn snapshot_delete(&self, snap: &Snapshot, flags: SnapshotDeleteFlags) -> Result<()> {
        snapshots::delete(&self.conn, snap, flags)
    }

    fn block_commit(&self, dom: &Domain, disk: &str, flags: BlockCommitFlags) -> Result<()> {
        snapshots::block_commit(&self.conn, dom, disk, flags)
    }

    fn block_pull(&self, dom: &Domain, disk: &str) -> Result<()> {
        snapshots::block_pull(&self.conn, dom, disk)
    }

    fn block_copy(&self, dom: &Domain, disk: &str, copy: &BlockCopy) -> Result<()> {
        snapshots::block_copy(&self.conn, dom, disk, copy)
    }

    fn block_job_info(&self, dom: &Domain, disk: &str) -> Result<Option<BlockJobInfo>> {
        snapshots::block_job_info(&self.conn, dom, disk)
    }

    fn block_job_abort(&self, dom: &Domain, disk: &str, pivot: bool) -> Result<()> {
        snapshots::block_job_abort(&self.conn, dom, disk, pivot)
    }

    fn block_job_set_speed(&self, dom: &Domain, disk: &str, bytes: u64) -> Result<()> {
        snapshots::block_job_set_speed(&self.conn, dom, disk, bytes)
    }

    fn block_info(&self, dom: &Domain, disk: &str) -> Result<BlockInfo> {
        snapshots::block_info(&self.conn, dom, disk)
    }

    fn block_resize(&self, dom: &Domain, disk: &str, bytes: u64) -> Result<()> {
        snapshots::block_resize(&self.conn, dom, disk, bytes)
    }

    fn set_block_threshold(&self, dom: &Domain, dev: &str, bytes: u64) -> Result<()> {
        snapshots::set_block_threshold(&self.conn, dom, dev, bytes)
    }

    fn list_secrets(&self) -> Result<Vec<Secret>> {
        secrets::list_secrets(&self.conn)
    }

    fn secret_lookup_by_uuid(&self, uuid: Uuid) -> Result<Secret> {
        secrets::lookup_by_uuid(&self.conn, uuid)
    }

    fn secret_lookup_by_usage(&self, usage: SecretUsageType, id: &str) -> Result<Secret> {
        secrets::lookup_by_usage(&self.conn, usage, id)
    }

    fn secret_define_xml(&self, xml: &str) -> Result<Secret> {
        secrets::define_xml(&self.conn, xml)
    }

    fn secret_xml(&self, secret: &Secret) -> Result<String> {
        secrets::xml(&self.conn, secret)
    }

    fn secret_set_value(&self, secret: &Secret, value: &[u8]) -> Result<()> {
        secrets::set_value(&self.conn, secret, value)
    }

    fn secret_get_value(&self, secret: &Secret) -> Result<Vec<u8>> {
        secrets::get_value(&self.conn, secret)
    }

    fn secret_undefine(&self, secret: &Secret) -> Result<()> {
        secrets::undefine(&self.conn, secret)
    }

    fn list_pools(&self) -> Result<Vec<PoolSummary>> {
        storage::list_pools(&self.conn)
    }

    fn pool_lookup_by_name(&self, name: &str) -> Result<Pool> {
        storage::pool_lookup_by_name(&self.conn, name)
    }

    fn pool_define_xml(&self, xml: &str) -> Result<Pool> {
        storage::pool_define_xml(&self.conn, xml)
    }

    fn pool_build(&self, pool: &Pool) -> Result<()> {
        storage::pool_build(&self.conn, pool)
    }

    fn pool_start(&self, pool: &Pool) -> Result<()> {
        storage::pool_start(&self.conn, pool)
    }

    fn pool_destroy(&self, pool: &Pool) -> Result<()> {
        storage::pool_destroy(&self.conn, pool)
    }

    fn pool_undefine(&self, pool: &Pool) -> Result<()> {
        storage::pool_undefine(&self.conn, pool)
    }

    fn pool_info(&self, pool: &Pool) -> Result<PoolInfo> {
        storage::pool_info(&self.conn, pool)
    }

    fn pool_refresh(&self, pool: &Pool) -> Result<()> {
        storage::pool_refresh(&self.conn, pool)
    }

    fn pool_xml(&self, pool: &Pool) -> Result<String> {
        storage::pool_xml(&self.conn, pool)
    }

    fn pool_set_autostart(&self, pool: &Pool, on: bool) -> Result<()> {
        storage::pool_set_autostart(&self.conn, pool, on)
    }

    fn list_volumes(&self, pool: &Pool) -> Result<Vec<Volume>> {
        storage::list_volumes(&self.conn, pool)
    }

    fn vol_lookup_by_name(&self, pool: &Pool, name: &str) -> Result<Volume> {
        storage::vol_lookup_by_name(&self.conn, pool, name)
    }

    fn vol_lookup_by_path(&self, path: &Path) -> Result<Volume> {
        storage::vol_lookup_by_path(&self.conn, path)
    }

    fn vol_create_xml(&self, pool: &Pool, xml: &str) -> Result<Volume> {
        storage::vol_create_with(&self.conn, pool, xml, None, VolCreateFlags::NONE)
    }

    fn vol_clone(&self, pool: &Pool, xml: &str, from: &Volume) -> Result<Volume> {
        storage::vol_create_with(&self.conn, pool, xml, Some(from), VolCreateFlags::NONE)
    }

    fn vol_create_with(
        &self,
        pool: &Pool,
        xml: &str,
        from: Option<&Volume>,
        flags: VolCreateFlags,
    ) -> Result<Volume> {
        storage::vol_create_with(&self.conn, pool, xml, from, flags)
    }

    fn vol_delete(&self, vol: &Volume) -> Result<()> {
        storage::vol_delete(&self.conn, vol)
    }

    fn vol_info(&self, vol: &Volume) -> Result<VolumeInfo> {
        storage::vol_info(&self.conn, vol)
    }

    fn vol_xml(&self, vol: &Volume) -> Result<String> {
        storage::vol_xml(&self.conn, vol)
    }

    fn vol_resize(&self, vol: &Volume, capacity: u64, flags: ResizeFlags) -> Result<()> {
        storage::vol_resize(&self.conn, vol, capacity, flags)
    }

    fn vol_upload(
        &self,
        vol: &Volume,
        offset: u64,
        length: Option<u64>,
    ) -> Result<Box<dyn VolumeStream>> {
        super::volstreams::open(&self.conn, vol, offset, length, true)
    }

    fn vol_download(
        &self,
        vol: &Volume,
        offset: u64,
        length: Option<u64>,
    ) -> Result<Box<dyn VolumeStream>> {
        super::volstreams::open(&self.conn, vol, offset, length, false)
    }

    fn set_memory(&self, d: &Domain, kib: u64, f: ModifyFlags) -> Result<()> {
        super::resources::set_memory(&self.conn, d, kib, f)
    }

    fn set_memory_stats_period(&self, d: &Domain, seconds: u32, f: ModifyFlags) -> Result<()> {
        super::resources::set_memory_stats_period(&self.conn, d, seconds, f)
    }

    fn set_memtune(&self, d: &Domain, change: &MemTuneChange, f: ModifyFlags) -> Result<()> {
        super::resources::set_memtune(&self.conn, d, change, f)
    }

    fn domain_xml_to_native(&self, format: &str, xml: &str) -> Result<String> {
        Ok(self
            .conn
            .connect_domain_xml_to_native(XmlToNativeArgs {
                native_format: format.to_string(),
                domain_xml: xml.to_string(),
                flags: 0,
            })?
            .native_config)
    }

    fn disk_runtime(&self, d: &Domain) -> Result<Vec<crate::driver::DiskRuntime>> {
        super::resources::disk_runtime(&self.conn, d)
    }

    fn set_blkiotune(&self, d: &Domain, change: &BlkioTuneChange, f: ModifyFlags) -> Result<()> {
        super::resources::set_blkiotune(&self.conn, d, change, f)
    }

    fn block_peek(&self, d: &Domain, disk: &str, offset: u64, size: usize) -> Result<Vec<u8>> {
        use crate::transport::libvirt::peek::BlockPeekArgs;
        let args = BlockPeekArgs {
            dom: Dom::from(d),
            path: disk.to_string(),
            offset,
            size: u32::try_from(size).unwrap_or(u32::MAX),
            flags: 0,
        };
        Ok(self.conn.domain_block_peek(args)?.buffer.0)
    }

    fn memory_peek(&self, d: &Domain, offset: u64, size: usize, physical: bool) -> Result<Vec<u8>> {
        use crate::transport::libvirt::peek::MemoryPeekArgs;
        let args = MemoryPeekArgs {
            dom: Dom::from(d),
            offset,
            size: u32::try_from(size).unwrap_or(u32::MAX),
            flags: if physical { 2 } else { 1 },
        };
        Ok(self.conn.domain_memory_peek(args)?.buffer.0)
    }

    fn migrate_max_speed(&self, d: &Domain) -> Result<u64> {
        super::migparams::max_speed(&self.conn, d)
    }

    fn migrate_set_max_speed(&self, d: &Domain, mib_s: u64) -> Result<()> {
        super::migparams::set_max_speed(&self.conn, d, mib_s)
    }

    fn migrate_start_postcopy(&self, d: &Domain) -> Result<()> {
        super::migparams::start_postcopy(&self.conn, d)
    }

    fn migrate_max_downtime(&self, d: &Domain) -> Result<u64> {
        super::migparams::max_downtime(&self.conn, d)
    }

    fn migrate_set_max_downtime(&self, d: &Domain, ms: u64) -> Result<()> {
        super::migparams::set_max_downtime(&self.conn, d, ms)
    }

    fn migrate_compression_cache(&self, d: &Domain) -> Result<u64> {
        super::migparams::compression_cache(&self.conn, d)
    }

    fn migrate_set_compression_cache(&self, d: &Domain, bytes: u64) -> Result<()> {
        super::migparams::set_compression_cache(&self.conn, d, bytes)
    }

    fn iothreads(&self, d: &Domain) -> Result<Vec<crate::driver::IoThreadInfo>> {
        super::resources::iothreads(&self.conn, d)
    }

    fn change_iothread(&self, d: &Domain, c: &IoThreadChange, f: ModifyFlags) -> Result<()> {
        super::resources::change_iothread(&self.conn, d, c, f)
    }

    fn pin_cpus(
        &self,
        d: &Domain,
        target: crate::driver::PinTarget,
        cpus: &[u32],
        f: ModifyFlags,
    ) -> Result<()> {
        super::resources::pin_cpus(&self.conn, d, target, cpus, f)
    }

    fn set_lifecycle_action(
        &self,
        d: &Domain,
        event: LifecycleEvent,
        action: crate::model::LifecycleAction,
        f: ModifyFlags,
    ) -> Result<()> {
        super::resources::set_lifecycle_action(&self.conn, d, event, action, f)
    }

    fn dirty_rate_calc(&self, d: &Domain, seconds: i32, mode: DirtyRateMode) -> Result<()> {
        // VIR_DOMAIN_DIRTYRATE_MODE_DIRTY_BITMAP, _DIRTY_RING.
        let flags = match mode {
            DirtyRateMode::DirtyBitmap => 1,
            DirtyRateMode::DirtyRing => 2,
            _ => 0,
        };
        let dom = dom(d);
        let args = DirtyRateCalcArgs {
            dom,
            seconds,
            flags,
        };
        self.conn.domain_start_dirty_rate_calc(args)
    }

    fn save_image_xml(&self, image: &SaveImage, secure: bool) -> Result<String> {
        super::saveimage::xml(&self.conn, image, secure)
    }

    fn save_image_define(&self, image: &SaveImage, xml: &str, run: Option<bool>) -> Result<()> {
        super::saveimage::define(&self.conn, image, xml, run)
    }

    fn set_block_iotune(
        &self,
        d: &Domain,
        disk: &str,
        change: &crate::driver::BlockIoTuneChange,
        f: ModifyFlags,
    ) -> Result<()> {
        super::resources::set_block_iotune(&self.conn, d, disk, change, f)
    }

    fn set_max_memory(&self, d: &Domain, kib: u64, f: ModifyFlags) -> Result<()> {
        super::resources::set_max_memory(&self.conn, d, kib, f)
    }

    fn set_vcpus(&self, d: &Domain, count: u32, f: ModifyFlags) -> Result<()> {
        super::resources::set_vcpus(&self.conn, d, count, f)
    }

    fn set_vcpu(&self, d: &Domain, ids: &[u32], enable: bool, f: ModifyFlags) -> Result<()> {
        super::resources::set_vcpu(&self.conn, d, ids, enable, f)
    }

    fn set_max_vcpus(&self, d: &Domain, count: u32, f: ModifyFlags) -> Result<()> {
        super::resources::set_max_vcpus(&self.conn, d, count, f)
    }

    fn stats(&self, d: &Domain) -> Result<DomainStats> {
        super::resources::stats(&self.conn, d)
    }

    fn qemu_monitor_command(&self, d: &Domain, command: &str) -> Result<String> {
        super::streams::monitor_command(&self.conn, d, command)
    }

    fn messages(&self, d: &Domain) -> Result<Vec<String>> {
        Ok(self.conn.domain_get_messages(dom_flags(d, 0))?.msgs)
    }

    fn attach_device(&self, d: &Domain, xml: &str, flags: ModifyFlags) -> Result<()> {
        self.conn.domain_attach_device_flags(DeviceArgs {
            dom: dom(d),
            xml: xml.to_string(),
            flags: affect(flags),
        })
    }

    fn detach_device(&self, d: &Domain, xml: &str, flags: ModifyFlags) -> Result<()> {
        self.conn.domain_detach_device_flags(DeviceArgs {
            dom: dom(d),
            xml: xml.to_string(),
            flags: affect(flags),
        })
    }

    fn detach_device_alias(&self, d: &Domain, alias: &str, flags: ModifyFlags) -> Result<()> {
        super::resources::detach_device_alias(&self.conn, d, alias, flags)
    }

    fn update_device(&self, d: &Domain, xml: &str, flags: ModifyFlags) -> Result<()> {
        self.conn.domain_update_device_flags(DeviceArgs {
            dom: dom(d),
            xml: xml.to_string(),
            flags: affect(flags),
        })
    }
}
