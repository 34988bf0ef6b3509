//! `SocketDriver`: the [`Driver`] trait forwarded over a stream to a
//! daemon. Each method encodes its call, sends it, waits for the reply
//! with its serial, and matches one reply variant.
//!
//! No reader thread: a thread waiting for a reply, an event or console
//! output reads the socket itself if no other thread is, and hands what
//! else arrives to the state the others wait on. A call costs two thread
//! wake-ups (the daemon's, the caller's), not three, and the reader
//! polls briefly ([`spin`](super::spin)) before it sleeps. Any number of
//! threads may call at once.
//!
//! The stream is a UNIX socket: a daemon's, or for `qemu+ssh://` one end
//! of a pair whose other end is an `ssh` process's stdin and stdout
//! ([`ssh`]), which then also explains why a connection ended.

use std::collections::{HashMap, VecDeque};
use std::io::BufWriter;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Condvar, Mutex};

use uuid::Uuid;

mod open;
pub(crate) use open::check_server;
mod read;
mod route;
pub mod ssh;
mod streams;
mod wait;

use read::{Pending, ReadSide};
use ssh::Tunnel;
use streams::{Events, Local, RemoteConsole, Subscription};
use wait::Wait;

use super::spin::Spinner;
use super::types::{Bytes, WireDumpOptions, WireSaveOptions, WireUndefineFlags};
use super::types_changes::WireSaveState;
use super::wire::{
    Call, Caller, Frame, HEADER_LEN, Header, Kind, MAX_FRAME, PROTOCOL_VERSION, Reply, StreamMsg,
    WireDomain, WireMedia,
};
use crate::driver::{
    AddressSource, DomainStats, InterfaceAddresses, KeyCodeset, MetadataKind, ModifyFlags,
};
use crate::driver::{BlkioTuneChange, Confirmation, DumpOptions, MemTuneChange, PinTarget};
use crate::driver::{
    BlockCommitFlags, BlockCopy, BlockInfo, BlockJobInfo, Pool, PoolInfo, PoolSummary, ResizeFlags,
    Secret, Snapshot, SnapshotCreateFlags, SnapshotDeleteFlags, SnapshotInfo, SnapshotRevertFlags,
    VolCreateFlags, Volume, VolumeInfo,
};
use crate::driver::{
    ConsoleStream, Domain, DomainCapsQuery, DomainInfo, DomainSummary, Driver, EventStream,
    JobInfo, ListFilter, MediaChange, MediaFlags, NodeInfo, RestoreOptions, SaveOptions,
    ShutdownOptions, StartFlags, UndefineFlags, VersionInfo, XmlFlags,
};
use crate::driver::{IncomingParams, IncomingReady, IncomingState, MigrateOptions};
use crate::error::{Error, ErrorCode, Result};
use crate::model::SecretUsageType;

/// Bytes the read buffer keeps between frames; it grows for a larger
/// frame and shrinks back once that frame is consumed.
const READ_BUFFER: usize = 64 * 1024;

/// A driver that talks to a daemon over a UNIX socket.
pub struct SocketDriver {
    uri: String,
    conn: Arc<Conn>,
}

/// The shared side of one connection.
struct Conn {
    writer: Mutex<BufWriter<UnixStream>>,
    socket: UnixStream,
    /// The read side; only the thread that set `ConnState::reading` locks it.
    read: Mutex<ReadSide>,
    state: Mutex<ConnState>,
    changed: Condvar,
    next_serial: AtomicU32,
    /// Held while the daemon's event subscription is opened or ended,
    /// so that an end and the next opening go out in that order.
    subscribing: Mutex<()>,
    /// The ssh process under a `qemu+ssh://` connection.
    tunnel: Option<Tunnel>,
}

#[derive(Default)]
struct ConnState {
    /// Calls waiting: serial -> (procedure, reply frame once it came).
    waiting: HashMap<u32, (u32, Option<Frame>)>,
    /// The event subscription at the daemon, with its local streams.
    events: Option<Subscription>,
    /// Local streams whose subscription the daemon ended.
    ended_locals: HashMap<u64, Local>,
    /// The id of the next local event stream.
    next_local: u64,
    /// Open consoles' messages by the serial of their `Console` call.
    streams: HashMap<u32, VecDeque<StreamMsg>>,
    /// A thread is reading the socket for everyone.
    reading: bool,
    /// Why the connection ended, once it has: the code a caller sees
    /// (the daemon's own when it refused us, else `Protocol`) and words.
    closed: Option<(ErrorCode, String)>,
}

use crate::sys::sync::lock;

impl Drop for SocketDriver {
    fn drop(&mut self) {
        // Wakes a thread reading for an event stream or a console that
        // outlives the driver; they then see the connection closed.
        let _ = self.conn.socket.shutdown(std::net::Shutdown::Both);
        if let Some(t) = &self.conn.tunnel {
            t.close();
        }
    }
}

/// The error for a call on a connection that has ended.
fn closed(uri: &str, code: ErrorCode, why: &str) -> Error {
    Error::new(code, format!("the connection to {uri} ended: {why}"))
}

/// The error for a reply of the wrong shape.
fn unexpected(reply: &Reply) -> Error {
    Error::new(
        ErrorCode::Protocol,
        format!("the daemon sent an unexpected reply: {reply:?}"),
    )
}

/// The typed calls of the procedure table over this connection.
struct Rpc<'a>(&'a SocketDriver);

impl Caller for Rpc<'_> {
    fn call(&self, call: Call) -> Result<Reply> {
        self.0.call(call)
    }
}

impl SocketDriver {
    fn rpc(&self) -> Rpc<'_> {
        Rpc(self)
    }
}

fn wire(dom: &Domain) -> WireDomain {
    dom.clone().into()
}

impl Driver for SocketDriver {
    fn uri(&self) -> String {
        self.uri.clone()
    }

    fn version(&self) -> Result<VersionInfo> {
        self.rpc().version(()).map(Into::into)
    }

    fn node_info(&self) -> Result<NodeInfo> {
        self.rpc().node_info(()).map(Into::into)
    }

    fn capabilities(&self) -> Result<String> {
        self.rpc().capabilities(())
    }

    fn domain_capabilities(&self, q: &DomainCapsQuery) -> Result<String> {
        let emulator = q.emulator.as_ref().map(|p| p.display().to_string());
        let call = (
            emulator,
            q.arch.clone(),
            q.machine.clone(),
            q.virt_type.clone(),
        );
        self.rpc().domain_capabilities(call)
    }

    fn list(&self, filter: ListFilter) -> Result<Vec<DomainSummary>> {
        let list = self.rpc().list(filter.into())?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    fn lookup_by_name(&self, name: &str) -> Result<Domain> {
        self.rpc().lookup_by_name(name.to_string()).map(Into::into)
    }

    fn lookup_by_uuid(&self, uuid: Uuid) -> Result<Domain> {
        self.rpc().lookup_by_uuid(uuid).map(Into::into)
    }

    fn lookup_by_id(&self, id: u32) -> Result<Domain> {
        self.rpc().lookup_by_id(id).map(Into::into)
    }

    fn define_xml(&self, xml: &str) -> Result<Domain> {
        self.rpc().define_xml(xml.to_string()).map(Into::into)
    }

    fn undefine(&self, dom: &Domain) -> Result<()> {
        self.rpc().undefine(wire(dom))
    }

    fn create_xml(&self, xml: &str) -> Result<Domain> {
        self.rpc().create_xml(xml.to_string()).map(Into::into)
    }

    fn start(&self, dom: &Domain) -> Result<Domain> {
        self.rpc().start(wire(dom)).map(Into::into)
    }

    fn start_paused(&self, dom: &Domain) -> Result<Domain> {
        self.rpc().start_paused(wire(dom)).map(Into::into)
    }

    fn start_with(&self, dom: &Domain, flags: StartFlags) -> Result<Domain> {
        let call = (wire(dom), flags.bits());
        self.rpc().start_with(call).map(Into::into)
    }

    fn set_metadata(
        &self,
        dom: &Domain,
        kind: &MetadataKind,
        value: Option<&str>,
        flags: ModifyFlags,
    ) -> Result<()> {
        self.rpc().set_metadata((
            wire(dom),
            kind.clone().into(),
            value.map(str::to_string),
            flags.into(),
        ))
    }

    fn metadata(
        &self,
        dom: &Domain,
        kind: &MetadataKind,
        inactive: bool,
    ) -> Result<Option<String>> {
        self.rpc()
            .metadata((wire(dom), kind.clone().into(), inactive))
    }

    fn interface_addresses(
        &self,
        dom: &Domain,
        source: AddressSource,
    ) -> Result<Vec<InterfaceAddresses>> {
        Ok(self
            .rpc()
            .interface_addresses((wire(dom), source.number()))?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    fn send_key(
        &self,
        dom: &Domain,
        codeset: KeyCodeset,
        hold_ms: u32,
        keys: &[u32],
    ) -> Result<()> {
        self.rpc()
            .send_key((wire(dom), codeset.number(), hold_ms, keys.to_vec()))
    }

    fn agent_call(
        &self,
        dom: &Domain,
        call: crate::driver::AgentCall,
    ) -> Result<crate::driver::AgentAnswer> {
        self.rpc()
            .agent_call((wire(dom), call.try_into()?))
            .map(Into::into)
    }

    fn inject_nmi(&self, dom: &Domain) -> Result<()> {
        self.rpc().inject_nmi(wire(dom))
    }

    fn rename(&self, dom: &Domain, new_name: &str) -> Result<Domain> {
        self.rpc()
            .rename((wire(dom), new_name.to_string()))
            .map(Into::into)
    }

    fn shutdown(&self, dom: &Domain, options: ShutdownOptions) -> Result<()> {
        self.rpc().shutdown((wire(dom), options.into()))
    }

    fn destroy(&self, dom: &Domain) -> Result<()> {
        self.rpc().destroy(wire(dom))
    }

    fn reboot(&self, dom: &Domain) -> Result<()> {
        self.rpc().reboot(wire(dom))
    }

    fn reset(&self, dom: &Domain) -> Result<()> {
        self.rpc().reset(wire(dom))
    }

    fn suspend(&self, dom: &Domain) -> Result<()> {
        self.rpc().suspend(wire(dom))
    }

    fn resume(&self, dom: &Domain) -> Result<()> {
        self.rpc().resume(wire(dom))
    }

    fn save_with(&self, dom: &Domain, path: &Path, options: SaveOptions) -> Result<()> {
        let state = WireSaveState::of_save(&options);
        if !state.is_empty() {
            let args = (wire(dom), Some(path_bytes(path)?), options.into(), state);
            return self.rpc().save_state(args);
        }
        self.rpc()
            .save_with((wire(dom), path_bytes(path)?, WireSaveOptions::from(options)))
    }

    fn core_dump(&self, dom: &Domain, path: &Path, options: DumpOptions) -> Result<()> {
        self.rpc()
            .core_dump((wire(dom), path_bytes(path)?, WireDumpOptions::from(options)))
    }

    fn restore(&self, path: &Path) -> Result<Domain> {
        self.rpc().restore(path_bytes(path)?).map(Into::into)
    }

    fn restore_with(&self, path: &Path, options: RestoreOptions) -> Result<Domain> {
        let args = (path_bytes(path)?, options.into());
        self.rpc().restore_with(args).map(Into::into)
    }

    fn managed_save_with(&self, dom: &Domain, options: SaveOptions) -> Result<()> {
        let state = WireSaveState::of_save(&options);
        if !state.is_empty() {
            return self
                .rpc()
                .save_state((wire(dom), None, options.into(), state));
        }
        self.rpc()
            .managed_save_with((wire(dom), WireSaveOptions::from(options)))
    }

    fn job_info(&self, dom: &Domain) -> Result<Option<JobInfo>> {
        Ok(self.rpc().job_info(wire(dom))?.map(Into::into))
    }

    fn job_completed(&self, dom: &Domain) -> Result<Option<crate::driver::CompletedJob>> {
        Ok(self.rpc().job_completed(wire(dom))?.map(Into::into))
    }

    fn undefine_flags(&self, dom: &Domain, flags: UndefineFlags) -> Result<()> {
        if flags.snapshots_metadata {
            return self
                .rpc()
                .undefine_snapshots((wire(dom), WireUndefineFlags::from(flags)));
        }
        self.rpc()
            .undefine_flags((wire(dom), WireUndefineFlags::from(flags)))
    }

    fn migrate(&self, dom: &Domain, dest_uri: &str, options: MigrateOptions) -> Result<()> {
        self.rpc()
            .migrate((wire(dom), dest_uri.to_string(), options.into()))
    }

    fn migrate_perform(&self, dom: &Domain, uri: &str, options: MigrateOptions) -> Result<()> {
        self.rpc()
            .migrate_perform((wire(dom), uri.to_string(), options.into()))
    }

    fn migrate_confirm(&self, dom: &Domain, how: Confirmation, undefine: bool) -> Result<()> {
        let how = crate::transport::types::confirmation_number(how);
        self.rpc().migrate_confirm((wire(dom), how, undefine))
    }

    fn migrate_incoming(&self, params: IncomingParams) -> Result<IncomingReady> {
        self.rpc().migrate_incoming(params.into()).map(Into::into)
    }

    fn migrate_finish(
        &self,
        uuid: Uuid,
        resume: bool,
        persistent_xml: Option<String>,
    ) -> Result<Domain> {
        self.rpc()
            .migrate_finish((uuid, resume, persistent_xml))
            .map(Into::into)
    }

    fn migrate_abort_incoming(&self, uuid: Uuid) -> Result<()> {
        self.rpc().migrate_abort_incoming(uuid)
    }

    fn migrate_incoming_state(&self, uuid: Uuid) -> Result<IncomingState> {
        self.rpc().migrate_incoming_state(uuid).map(Into::into)
    }

    fn job_abort(&self, dom: &Domain) -> Result<()> {
        self.rpc().job_abort(wire(dom))
    }

    fn managed_save_remove(&self, dom: &Domain) -> Result<()> {
        self.rpc().managed_save_remove(wire(dom))
    }

    fn autostart(&self, dom: &Domain) -> Result<bool> {
        self.rpc().autostart(wire(dom))
    }

    fn set_autostart(&self, dom: &Domain, on: bool) -> Result<()> {
        self.rpc().set_autostart((wire(dom), on))
    }

    fn info(&self, dom: &Domain) -> Result<DomainInfo> {
        self.rpc().info(wire(dom)).map(Into::into)
    }

    fn xml_desc(&self, dom: &Domain, flags: XmlFlags) -> Result<String> {
        self.rpc().xml_desc((wire(dom), flags.bits()))
    }

    fn events(&self) -> Result<Box<dyn EventStream>> {
        let subscribing = lock(&self.conn.subscribing);
        let id = {
            let mut st = lock(&self.conn.state);
            if let Some((code, why)) = &st.closed {
                return Err(closed(&self.uri, *code, why));
            }
            st.next_local += 1;
            let id = st.next_local;
            if let Some(sub) = &mut st.events {
                sub.locals.insert(id, Local::default());
                Some(id)
            } else {
                None
            }
        };
        let id = match id {
            Some(id) => id,
            None => {
                let id = lock(&self.conn.state).next_local;
                let (reply, _) = self.call_with(Call::Events(()), |st, serial| {
                    let mut locals = HashMap::new();
                    locals.insert(id, Local::default());
                    st.events = Some(Subscription { serial, locals });
                })?;
                if !matches!(reply, Reply::Events(())) {
                    lock(&self.conn.state).events = None;
                    return Err(unexpected(&reply));
                }
                id
            }
        };
        drop(subscribing);
        Ok(Box::new(Events {
            conn: self.conn.clone(),
            id,
            uri: self.uri.clone(),
        }))
    }

    fn console(&self, dom: &Domain, force: bool) -> Result<Box<dyn ConsoleStream>> {
        let (reply, serial) = self.call_with(Call::Console((wire(dom), force)), |st, serial| {
            st.streams.insert(serial, VecDeque::new());
        })?;
        if let Reply::Console(()) = reply {
            Ok(Box::new(RemoteConsole {
                conn: self.conn.clone(),
                serial,
                ended: None,
                pending: Vec::new(),
                uri: self.uri.clone(),
            }))
        } else {
            self.forget(serial);
            Err(unexpected(&reply))
        }
    }

    fn change_media(
        &self,
        dom: &Domain,
        target: &str,
        change: MediaChange,
        flags: MediaFlags,
    ) -> Result<()> {
        // The path is resolved here, where the caller's current directory is.
        let media = match change {
            MediaChange::Eject => WireMedia::Eject,
            MediaChange::Insert(p) => WireMedia::Insert(path_bytes(&p)?),
            MediaChange::Update(p) => WireMedia::Update(path_bytes(&p)?),
        };
        self.rpc()
            .change_media((wire(dom), target.to_string(), media, flags.into()))
    }

    fn screenshot(&self, dom: &Domain) -> Result<Vec<u8>> {
        self.rpc().screenshot(wire(dom)).map(|b| b.0)
    }

    fn set_memory(&self, dom: &Domain, kib: u64, flags: ModifyFlags) -> Result<()> {
        self.rpc().set_memory((wire(dom), kib, flags.into()))
    }

    fn set_max_memory(&self, dom: &Domain, kib: u64, flags: ModifyFlags) -> Result<()> {
        self.rpc().set_max_memory((wire(dom), kib, flags.into()))
    }

    fn set_memory_stats_period(
        &self,
        dom: &Domain,
        seconds: u32,
        flags: ModifyFlags,
    ) -> Result<()> {
        self.rpc()
            .set_memory_stats_period((wire(dom), seconds, flags.into()))
    }

    fn set_vcpus(&self, dom: &Domain, count: u32, flags: ModifyFlags) -> Result<()> {
        self.rpc().set_vcpus((wire(dom), count, flags.into()))
    }

    fn set_vcpu(&self, dom: &Domain, ids: &[u32], enable: bool, flags: ModifyFlags) -> Result<()> {
        self.rpc()
            .set_vcpu((wire(dom), ids.to_vec(), enable, flags.into()))
    }

    fn set_max_vcpus(&self, dom: &Domain, count: u32, flags: ModifyFlags) -> Result<()> {
        self.rpc().set_max_vcpus((wire(dom), count, flags.into()))
    }

    fn stats(&self, dom: &Domain) -> Result<DomainStats> {
        self.rpc().stats(wire(dom)).map(Into::into)
    }

    fn qemu_monitor_command(&self, dom: &Domain, command: &str) -> Result<String> {
        self.rpc()
            .qemu_monitor_command((wire(dom), command.to_string()))
    }

    fn messages(&self, dom: &Domain) -> Result<Vec<String>> {
        self.rpc().messages(wire(dom))
    }

    fn attach_device(&self, dom: &Domain, xml: &str, flags: ModifyFlags) -> Result<()> {
        self.rpc()
            .attach_device((wire(dom), xml.to_string(), flags.into()))
    }

    fn detach_device(&self, dom: &Domain, xml: &str, flags: ModifyFlags) -> Result<()> {
        self.rpc()
            .detach_device((wire(dom), xml.to_string(), flags.into()))
    }

    fn detach_device_alias(&self, dom: &Domain, alias: &str, flags: ModifyFlags) -> Result<()> {
        self.rpc()
            .detach_device_alias((wire(dom), alias.to_string(), flags.into()))
    }

    fn pin_cpus(
        &self,
        dom: &Domain,
        target: PinTarget,
        cpus: &[u32],
        f: ModifyFlags,
    ) -> Result<()> {
        let vcpu = match target {
            PinTarget::Vcpu(n) => Some(n),
            PinTarget::Emulator => None,
        };
        self.rpc()
            .pin_cpus((wire(dom), vcpu, cpus.to_vec(), f.into()))
    }

    fn update_device(&self, dom: &Domain, xml: &str, flags: ModifyFlags) -> Result<()> {
        self.rpc()
            .update_device((wire(dom), xml.to_string(), flags.into()))
    }

    // Storage, snapshots and block jobs. Volume uploads and downloads
    // are streams qvirt's protocol does not carry yet: the trait's
    // default refuses them with `NoSupport`.

    fn list_pools(&self) -> Result<Vec<PoolSummary>> {
        Ok(from_all(self.rpc().list_pools(())?))
    }

    fn pool_lookup_by_name(&self, name: &str) -> Result<Pool> {
        self.rpc()
            .pool_lookup_by_name(name.to_string())
            .map(Into::into)
    }

    fn pool_define_xml(&self, xml: &str) -> Result<Pool> {
        self.rpc().pool_define_xml(xml.to_string()).map(Into::into)
    }

    fn pool_build(&self, pool: &Pool) -> Result<()> {
        self.rpc().pool_build(pool.clone().into())
    }

    fn pool_start(&self, pool: &Pool) -> Result<()> {
        self.rpc().pool_start(pool.clone().into())
    }

    fn pool_destroy(&self, pool: &Pool) -> Result<()> {
        self.rpc().pool_destroy(pool.clone().into())
    }

    fn pool_undefine(&self, pool: &Pool) -> Result<()> {
        self.rpc().pool_undefine(pool.clone().into())
    }

    fn pool_info(&self, pool: &Pool) -> Result<PoolInfo> {
        self.rpc().pool_info(pool.clone().into()).map(Into::into)
    }

    fn pool_refresh(&self, pool: &Pool) -> Result<()> {
        self.rpc().pool_refresh(pool.clone().into())
    }

    fn pool_xml(&self, pool: &Pool) -> Result<String> {
        self.rpc().pool_xml(pool.clone().into())
    }

    fn pool_set_autostart(&self, pool: &Pool, on: bool) -> Result<()> {
        self.rpc().pool_set_autostart((pool.clone().into(), on))
    }

    fn list_volumes(&self, pool: &Pool) -> Result<Vec<Volume>> {
        Ok(from_all(self.rpc().list_volumes(pool.clone().into())?))
    }

    fn vol_lookup_by_name(&self, pool: &Pool, name: &str) -> Result<Volume> {
        self.rpc()
            .vol_lookup_by_name((pool.clone().into(), name.to_string()))
            .map(Into::into)
    }

    fn vol_lookup_by_path(&self, path: &Path) -> Result<Volume> {
        self.rpc()
            .vol_lookup_by_path(path_bytes(path)?)
            .map(Into::into)
    }

    fn vol_create_xml(&self, pool: &Pool, xml: &str) -> Result<Volume> {
        self.rpc()
            .vol_create_xml((pool.clone().into(), xml.to_string()))
            .map(Into::into)
    }

    fn vol_clone(&self, pool: &Pool, xml: &str, from: &Volume) -> Result<Volume> {
        self.rpc()
            .vol_clone((pool.clone().into(), xml.to_string(), from.clone().into()))
            .map(Into::into)
    }

    fn vol_create_with(
        &self,
        pool: &Pool,
        xml: &str,
        from: Option<&Volume>,
        flags: VolCreateFlags,
    ) -> Result<Volume> {
        let call = (
            pool.clone().into(),
            xml.to_string(),
            from.map(|v| v.clone().into()),
            flags.bits(),
        );
        self.rpc().vol_create_with(call).map(Into::into)
    }

    fn vol_delete(&self, vol: &Volume) -> Result<()> {
        self.rpc().vol_delete(vol.clone().into())
    }

    fn vol_info(&self, vol: &Volume) -> Result<VolumeInfo> {
        self.rpc().vol_info(vol.clone().into()).map(Into::into)
    }

    fn vol_xml(&self, vol: &Volume) -> Result<String> {
        self.rpc().vol_xml(vol.clone().into())
    }

    fn vol_resize(&self, vol: &Volume, capacity: u64, flags: ResizeFlags) -> Result<()> {
        self.rpc()
            .vol_resize((vol.clone().into(), capacity, flags.bits()))
    }

    fn snapshot_create_xml(
        &self,
        dom: &Domain,
        xml: &str,
        flags: SnapshotCreateFlags,
    ) -> Result<Snapshot> {
        self.rpc()
            .snapshot_create_xml((wire(dom), xml.to_string(), flags.bits()))
            .map(Into::into)
    }

    fn snapshot_list(&self, dom: &Domain) -> Result<Vec<SnapshotInfo>> {
        Ok(from_all(self.rpc().snapshot_list(wire(dom))?))
    }

    fn snapshot_lookup(&self, dom: &Domain, name: &str) -> Result<Snapshot> {
        self.rpc()
            .snapshot_lookup((wire(dom), name.to_string()))
            .map(Into::into)
    }

    fn snapshot_current(&self, dom: &Domain) -> Result<Option<Snapshot>> {
        Ok(self.rpc().snapshot_current(wire(dom))?.map(Into::into))
    }

    fn snapshot_info(&self, snap: &Snapshot) -> Result<SnapshotInfo> {
        self.rpc()
            .snapshot_info(snap.clone().into())
            .map(Into::into)
    }

    fn snapshot_xml(&self, snap: &Snapshot) -> Result<String> {
        self.rpc().snapshot_xml(snap.clone().into())
    }

    fn snapshot_revert(&self, snap: &Snapshot, flags: SnapshotRevertFlags) -> Result<()> {
        self.rpc()
            .snapshot_revert((snap.clone().into(), flags.bits()))
    }

    fn snapshot_delete(&self, snap: &Snapshot, flags: SnapshotDeleteFlags) -> Result<()> {
        self.rpc()
            .snapshot_delete((snap.clone().into(), flags.bits()))
    }

    fn block_commit(&self, dom: &Domain, disk: &str, flags: BlockCommitFlags) -> Result<()> {
        self.rpc()
            .block_commit((wire(dom), disk.to_string(), flags.bits()))
    }

    fn block_pull(&self, dom: &Domain, disk: &str) -> Result<()> {
        self.rpc().block_pull((wire(dom), disk.to_string()))
    }

    fn block_copy(&self, dom: &Domain, disk: &str, copy: &BlockCopy) -> Result<()> {
        let args = (wire(dom), disk.to_string(), copy.clone().into());
        self.rpc().block_copy(args)
    }

    fn block_job_info(&self, dom: &Domain, disk: &str) -> Result<Option<BlockJobInfo>> {
        Ok(self
            .rpc()
            .block_job_info((wire(dom), disk.to_string()))?
            .map(Into::into))
    }

    fn block_job_abort(&self, dom: &Domain, disk: &str, pivot: bool) -> Result<()> {
        self.rpc()
            .block_job_abort((wire(dom), disk.to_string(), pivot))
    }

    fn block_job_set_speed(&self, dom: &Domain, disk: &str, bytes_per_s: u64) -> Result<()> {
        self.rpc()
            .block_job_set_speed((wire(dom), disk.to_string(), bytes_per_s))
    }

    fn block_info(&self, dom: &Domain, disk: &str) -> Result<BlockInfo> {
        self.rpc()
            .block_info((wire(dom), disk.to_string()))
            .map(Into::into)
    }

    fn block_resize(&self, dom: &Domain, disk: &str, bytes: u64) -> Result<()> {
        self.rpc()
            .block_resize((wire(dom), disk.to_string(), bytes))
    }

    fn list_secrets(&self) -> Result<Vec<Secret>> {
        Ok(from_all(self.rpc().list_secrets(())?))
    }

    fn secret_lookup_by_uuid(&self, uuid: Uuid) -> Result<Secret> {
        self.rpc().secret_lookup_by_uuid(uuid).map(Into::into)
    }

    fn secret_lookup_by_usage(&self, usage: SecretUsageType, id: &str) -> Result<Secret> {
        self.rpc()
            .secret_lookup_by_usage((usage.into(), id.to_string()))
            .map(Into::into)
    }

    fn secret_define_xml(&self, xml: &str) -> Result<Secret> {
        self.rpc()
            .secret_define_xml(xml.to_string())
            .map(Into::into)
    }

    fn secret_xml(&self, secret: &Secret) -> Result<String> {
        self.rpc().secret_xml(secret.clone().into())
    }

    fn secret_set_value(&self, secret: &Secret, value: &[u8]) -> Result<()> {
        self.rpc()
            .secret_set_value((secret.clone().into(), Bytes(value.to_vec())))
    }

    fn secret_get_value(&self, secret: &Secret) -> Result<Vec<u8>> {
        self.rpc()
            .secret_get_value(secret.clone().into())
            .map(|b| b.0)
    }

    fn secret_undefine(&self, secret: &Secret) -> Result<()> {
        self.rpc().secret_undefine(secret.clone().into())
    }

    fn set_memtune(&self, dom: &Domain, change: &MemTuneChange, flags: ModifyFlags) -> Result<()> {
        self.rpc()
            .set_memtune((wire(dom), (*change).into(), flags.into()))
    }

    fn domain_xml_to_native(&self, format: &str, xml: &str) -> Result<String> {
        self.rpc()
            .domain_xml_to_native((format.to_string(), xml.to_string()))
    }

    fn disk_runtime(&self, dom: &Domain) -> Result<Vec<crate::driver::DiskRuntime>> {
        self.rpc().disk_runtime(wire(dom)).map(from_all)
    }

    fn set_blkiotune(
        &self,
        dom: &Domain,
        change: &BlkioTuneChange,
        flags: ModifyFlags,
    ) -> Result<()> {
        self.rpc()
            .set_blkiotune((wire(dom), change.clone().into(), flags.into()))
    }

    fn block_peek(&self, dom: &Domain, disk: &str, offset: u64, size: usize) -> Result<Vec<u8>> {
        let args = (wire(dom), disk.to_string(), offset, size as u64);
        self.rpc().block_peek(args).map(|b| b.0)
    }

    fn memory_peek(
        &self,
        dom: &Domain,
        offset: u64,
        size: usize,
        physical: bool,
    ) -> Result<Vec<u8>> {
        let args = (wire(dom), offset, size as u64, physical);
        self.rpc().memory_peek(args).map(|b| b.0)
    }

    fn migrate_max_speed(&self, dom: &Domain) -> Result<u64> {
        self.rpc().migrate_max_speed(wire(dom))
    }

    fn migrate_set_max_speed(&self, dom: &Domain, mib_s: u64) -> Result<()> {
        self.rpc().migrate_set_max_speed((wire(dom), mib_s))
    }

    fn set_block_threshold(&self, dom: &Domain, dev: &str, bytes: u64) -> Result<()> {
        self.rpc()
            .set_block_threshold((wire(dom), dev.to_string(), bytes))
    }

    fn migrate_start_postcopy(&self, dom: &Domain) -> Result<()> {
        self.rpc().migrate_start_postcopy(wire(dom))
    }

    fn migrate_max_downtime(&self, dom: &Domain) -> Result<u64> {
        self.rpc().migrate_max_downtime(wire(dom))
    }

    fn migrate_set_max_downtime(&self, dom: &Domain, ms: u64) -> Result<()> {
        self.rpc().migrate_set_max_downtime((wire(dom), ms))
    }

    fn migrate_compression_cache(&self, dom: &Domain) -> Result<u64> {
        self.rpc().migrate_compression_cache(wire(dom))
    }

    fn migrate_set_compression_cache(&self, dom: &Domain, bytes: u64) -> Result<()> {
        self.rpc().migrate_set_compression_cache((wire(dom), bytes))
    }

    fn iothreads(&self, dom: &Domain) -> Result<Vec<crate::driver::IoThreadInfo>> {
        let threads = self.rpc().iothreads(wire(dom))?;
        Ok(threads
            .into_iter()
            .map(|(id, cpus)| crate::driver::IoThreadInfo::new(id, cpus))
            .collect())
    }

    fn change_iothread(
        &self,
        dom: &Domain,
        change: &crate::driver::IoThreadChange,
        flags: ModifyFlags,
    ) -> Result<()> {
        let change = change.clone().into();
        self.rpc()
            .change_iothread((wire(dom), change, flags.into()))
    }

    fn set_lifecycle_action(
        &self,
        dom: &Domain,
        event: crate::driver::LifecycleEvent,
        action: crate::model::LifecycleAction,
        flags: ModifyFlags,
    ) -> Result<()> {
        let event = super::types_changes::lifecycle_event_number(event);
        let args = (wire(dom), event, action.as_str().to_string(), flags.into());
        self.rpc().set_lifecycle_action(args)
    }

    fn dirty_rate_calc(
        &self,
        dom: &Domain,
        seconds: i32,
        mode: crate::driver::DirtyRateMode,
    ) -> Result<()> {
        let args = (wire(dom), seconds, mode.as_str().to_string());
        self.rpc().dirty_rate_calc(args)
    }

    fn pm_wakeup(&self, dom: &Domain) -> Result<()> {
        self.rpc().pm_wakeup(wire(dom))
    }

    fn dirty_rate(&self, dom: &Domain) -> Result<crate::driver::DirtyRate> {
        let (status, start_time, period, mode, mib_per_s) = self.rpc().dirty_rate(wire(dom))?;
        let mut r = crate::driver::DirtyRate::default();
        (r.status, r.start_time, r.period, r.mib_per_s) = (status, start_time, period, mib_per_s);
        r.mode = crate::driver::DirtyRateMode::from_word(&mode).unwrap_or_default();
        Ok(r)
    }

    fn save_image_xml(&self, image: &crate::driver::SaveImage, secure: bool) -> Result<String> {
        self.rpc().save_image_xml((image.try_into()?, secure))
    }

    fn save_image_define(
        &self,
        image: &crate::driver::SaveImage,
        xml: &str,
        running: Option<bool>,
    ) -> Result<()> {
        let args = (image.try_into()?, xml.to_string(), running);
        self.rpc().save_image_define(args)
    }

    fn set_block_iotune(
        &self,
        dom: &Domain,
        disk: &str,
        change: &crate::driver::BlockIoTuneChange,
        flags: ModifyFlags,
    ) -> Result<()> {
        let (limits, group) = (change.limits.clone(), change.group_name.clone());
        self.rpc()
            .set_block_iotune((wire(dom), disk.into(), limits, group, flags.into()))
    }
}

/// Each wire value converted to its API twin.
fn from_all<W, A: From<W>>(values: Vec<W>) -> Vec<A> {
    values.into_iter().map(Into::into).collect()
}

/// A path as the bytes the wire carries.
fn path_bytes(path: &Path) -> Result<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io("cannot read the current directory", e))?
            .join(path)
    };
    Ok(absolute.as_os_str().as_bytes().to_vec())
}
