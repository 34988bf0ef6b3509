//! The server's [`Handler`]: each procedure of the table as a call of a
//! [`Driver`] method, wire types converted at the edge. A call that opens
//! a stream (events, a console) leaves the stream in [`DriverCalls::opened`]
//! for the server to serve.

use uuid::Uuid;

use super::procedures::Handler;
use super::types::{
    Bytes, WireCompletedJob, WireDomain, WireDumpOptions, WireIncomingParams, WireIncomingReady,
    WireIncomingState, WireInfo, WireInterfaceAddresses, WireJobInfo, WireListFilter, WireMedia,
    WireMediaFlags, WireMetadataKind, WireMigrateOptions, WireModifyFlags, WireNode,
    WireSaveOptions, WireShutdown, WireStats, WireSummary, WireUndefineFlags, WireVersion,
    wire_path,
};
use super::types::{WireBlkioTuneChange, WireDiskRuntime, WireMemTuneChange};
use super::types::{
    WireBlockInfo, WireBlockJobInfo, WirePool, WirePoolInfo, WirePoolSummary, WireSecret,
    WireSecretUsage, WireSnapshot, WireSnapshotInfo, WireVolume, WireVolumeInfo, wire_flags,
};
use super::wire::PROTOCOL_VERSION;
use crate::driver::{
    AddressSource, ConsoleStream, Domain, DomainCapsQuery, Driver, EventStream, KeyCodeset,
    StartFlags, VolumeStream, XmlFlags,
};
use crate::driver::{
    BlockCommitFlags, BlockCopy, BlockCopyFlags, ResizeFlags, SnapshotCreateFlags,
    SnapshotDeleteFlags, SnapshotRevertFlags, UndefineFlags, VolCreateFlags,
};
use crate::error::{Error, ErrorCode, Result};

/// A stream a call opened.
pub enum Opened {
    /// A new event subscription.
    Events(Box<dyn EventStream>),
    /// A console.
    Console(Box<dyn ConsoleStream>),
    /// A volume's upload or download (libvirt's protocol).
    Volume(Box<dyn VolumeStream>),
    /// A domain started with `autodestroy`: the server destroys it when
    /// the connection ends (see [`DriverCalls::start_tied`]).
    Tied(Domain),
    /// An incoming migration prepared for a client that drives it: the
    /// connection keeps its lease, and gives it up when it ends first.
    IncomingLease(uuid::Uuid),
    /// An outgoing migration waiting for the client's confirmation: left
    /// paused when the connection ends first.
    AwaitingConfirm(Domain),
    /// The confirmation came: what the connection held for it
    /// ([`Opened::AwaitingConfirm`]) is let go without a word.
    Confirmed(Domain),
}

/// Runs calls on a driver.
pub struct DriverCalls<'a> {
    /// The driver.
    pub driver: &'a dyn Driver,
    /// The stream the last call opened, if it opened one.
    pub opened: Option<Opened>,
}

impl<'a> DriverCalls<'a> {
    /// Calls on `driver`.
    pub fn new(driver: &'a dyn Driver) -> DriverCalls<'a> {
        DriverCalls {
            driver,
            opened: None,
        }
    }
}

impl DriverCalls<'_> {
    /// Starts `dom` with `flags`. The driver is the server's, shared by
    /// every connection, so `autodestroy` is not passed on: the domain is
    /// left in [`DriverCalls::opened`] for the server to tie to the
    /// connection that asked.
    pub fn start_tied(&mut self, dom: &Domain, flags: StartFlags) -> Result<Domain> {
        let mut shared = flags;
        shared.autodestroy = false;
        let started = self.driver.start_with(dom, shared)?;
        if flags.autodestroy {
            self.opened = Some(Opened::Tied(started.clone()));
        }
        Ok(started)
    }
}

fn dom(d: WireDomain) -> Domain {
    d.into()
}

impl Handler for DriverCalls<'_> {
    fn hello(&mut self, _client: u32) -> Result<u32> {
        Ok(u32::from(PROTOCOL_VERSION))
    }

    fn version(&mut self, (): ()) -> Result<WireVersion> {
        self.driver.version().map(Into::into)
    }

    fn node_info(&mut self, (): ()) -> Result<WireNode> {
        self.driver.node_info().map(Into::into)
    }

    fn capabilities(&mut self, (): ()) -> Result<String> {
        self.driver.capabilities()
    }

    fn domain_capabilities(
        &mut self,
        (emulator, arch, machine, virt_type): (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        ),
    ) -> Result<String> {
        let query = DomainCapsQuery::new(emulator.map(Into::into), arch, machine, virt_type);
        self.driver.domain_capabilities(&query)
    }

    fn list(&mut self, filter: WireListFilter) -> Result<Vec<WireSummary>> {
        let list = self.driver.list(filter.into())?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    fn lookup_by_name(&mut self, name: String) -> Result<WireDomain> {
        self.driver.lookup_by_name(&name).map(Into::into)
    }

    fn lookup_by_uuid(&mut self, uuid: Uuid) -> Result<WireDomain> {
        self.driver.lookup_by_uuid(uuid).map(Into::into)
    }

    fn lookup_by_id(&mut self, id: u32) -> Result<WireDomain> {
        self.driver.lookup_by_id(id).map(Into::into)
    }

    fn define_xml(&mut self, xml: String) -> Result<WireDomain> {
        self.driver.define_xml(&xml).map(Into::into)
    }

    fn undefine(&mut self, d: WireDomain) -> Result<()> {
        self.driver.undefine(&dom(d))
    }

    fn create_xml(&mut self, xml: String) -> Result<WireDomain> {
        self.driver.create_xml(&xml).map(Into::into)
    }

    fn start(&mut self, d: WireDomain) -> Result<WireDomain> {
        self.driver.start(&dom(d)).map(Into::into)
    }

    fn start_paused(&mut self, d: WireDomain) -> Result<WireDomain> {
        self.driver.start_paused(&dom(d)).map(Into::into)
    }

    fn start_with(&mut self, (d, bits): (WireDomain, u32)) -> Result<WireDomain> {
        let flags = StartFlags::from_bits(bits).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("unknown start flags {bits:#x}"),
            )
        })?;
        let started = self.start_tied(&dom(d), flags)?;
        Ok(started.into())
    }

    fn interface_addresses(
        &mut self,
        (d, source): (WireDomain, u32),
    ) -> Result<Vec<WireInterfaceAddresses>> {
        let source = AddressSource::from_number(source).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("unknown address source {source}"),
            )
        })?;
        Ok(self
            .driver
            .interface_addresses(&dom(d), source)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    fn send_key(
        &mut self,
        (d, codeset, hold_ms, keys): (WireDomain, u32, u32, Vec<u32>),
    ) -> Result<()> {
        let codeset = KeyCodeset::from_number(codeset).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("unknown key code set {codeset}"),
            )
        })?;
        self.driver.send_key(&dom(d), codeset, hold_ms, &keys)
    }

    fn agent_call(
        &mut self,
        (d, call): (WireDomain, super::types_agent::WireAgentCall),
    ) -> Result<super::types_agent::WireAgentAnswer> {
        self.driver
            .agent_call(&dom(d), call.try_into()?)?
            .try_into()
    }

    fn inject_nmi(&mut self, d: WireDomain) -> Result<()> {
        self.driver.inject_nmi(&dom(d))
    }

    fn rename(&mut self, (d, name): (WireDomain, String)) -> Result<WireDomain> {
        self.driver.rename(&dom(d), &name).map(Into::into)
    }

    fn set_metadata(
        &mut self,
        (d, kind, value, flags): (
            WireDomain,
            WireMetadataKind,
            Option<String>,
            WireModifyFlags,
        ),
    ) -> Result<()> {
        self.driver
            .set_metadata(&dom(d), &kind.into(), value.as_deref(), flags.into())
    }

    fn metadata(
        &mut self,
        (d, kind, inactive): (WireDomain, WireMetadataKind, bool),
    ) -> Result<Option<String>> {
        self.driver.metadata(&dom(d), &kind.into(), inactive)
    }

    fn shutdown(&mut self, (d, options): (WireDomain, WireShutdown)) -> Result<()> {
        self.driver.shutdown(&dom(d), options.into())
    }

    fn destroy(&mut self, d: WireDomain) -> Result<()> {
        self.driver.destroy(&dom(d))
    }

    fn reboot(&mut self, d: WireDomain) -> Result<()> {
        self.driver.reboot(&dom(d))
    }

    fn reset(&mut self, d: WireDomain) -> Result<()> {
        self.driver.reset(&dom(d))
    }

    fn suspend(&mut self, d: WireDomain) -> Result<()> {
        self.driver.suspend(&dom(d))
    }

    fn resume(&mut self, d: WireDomain) -> Result<()> {
        self.driver.resume(&dom(d))
    }

    fn save(&mut self, (d, path): (WireDomain, Vec<u8>)) -> Result<()> {
        self.driver.save(&dom(d), &wire_path(path))
    }

    fn restore(&mut self, path: Vec<u8>) -> Result<WireDomain> {
        self.driver.restore(&wire_path(path)).map(Into::into)
    }

    fn managed_save(&mut self, d: WireDomain) -> Result<()> {
        self.driver.managed_save(&dom(d))
    }

    fn job_info(&mut self, d: WireDomain) -> Result<Option<WireJobInfo>> {
        Ok(self.driver.job_info(&dom(d))?.map(Into::into))
    }

    fn job_completed(&mut self, d: WireDomain) -> Result<Option<WireCompletedJob>> {
        Ok(self.driver.job_completed(&dom(d))?.map(Into::into))
    }

    fn undefine_flags(&mut self, (d, flags): (WireDomain, WireUndefineFlags)) -> Result<()> {
        self.driver.undefine_flags(&dom(d), flags.into())
    }

    fn migrate(
        &mut self,
        (d, uri, options): (WireDomain, String, WireMigrateOptions),
    ) -> Result<()> {
        self.driver.migrate(&dom(d), &uri, options.into())
    }

    fn migrate_perform(
        &mut self,
        (d, uri, options): (WireDomain, String, WireMigrateOptions),
    ) -> Result<()> {
        let d = dom(d);
        self.driver.migrate_perform(&d, &uri, options.into())?;
        // Left paused if this connection ends before the confirmation.
        self.opened = Some(Opened::AwaitingConfirm(d));
        Ok(())
    }

    fn migrate_confirm(&mut self, (d, how, undefine): (WireDomain, u32, bool)) -> Result<()> {
        let how = crate::transport::types::confirmation_of(how)?;
        let d = dom(d);
        self.driver.migrate_confirm(&d, how, undefine)?;
        self.opened = Some(Opened::Confirmed(d));
        Ok(())
    }

    fn migrate_incoming(&mut self, params: WireIncomingParams) -> Result<WireIncomingReady> {
        self.driver.migrate_incoming(params.into()).map(Into::into)
    }

    fn migrate_finish(
        &mut self,
        (uuid, resume, xml): (Uuid, bool, Option<String>),
    ) -> Result<WireDomain> {
        self.driver
            .migrate_finish(uuid, resume, xml)
            .map(Into::into)
    }

    fn migrate_abort_incoming(&mut self, uuid: Uuid) -> Result<()> {
        self.driver.migrate_abort_incoming(uuid)
    }

    fn migrate_incoming_state(&mut self, uuid: Uuid) -> Result<WireIncomingState> {
        self.driver.migrate_incoming_state(uuid).map(Into::into)
    }

    fn job_abort(&mut self, d: WireDomain) -> Result<()> {
        self.driver.job_abort(&dom(d))
    }

    fn save_with(
        &mut self,
        (d, path, options): (WireDomain, Vec<u8>, WireSaveOptions),
    ) -> Result<()> {
        self.driver
            .save_with(&dom(d), &wire_path(path), options.into())
    }

    fn core_dump(
        &mut self,
        (d, path, options): (WireDomain, Vec<u8>, WireDumpOptions),
    ) -> Result<()> {
        self.driver
            .core_dump(&dom(d), &wire_path(path), options.into())
    }

    fn managed_save_with(&mut self, (d, options): (WireDomain, WireSaveOptions)) -> Result<()> {
        self.driver.managed_save_with(&dom(d), options.into())
    }

    fn managed_save_remove(&mut self, d: WireDomain) -> Result<()> {
        self.driver.managed_save_remove(&dom(d))
    }

    fn autostart(&mut self, d: WireDomain) -> Result<bool> {
        self.driver.autostart(&dom(d))
    }

    fn set_autostart(&mut self, (d, on): (WireDomain, bool)) -> Result<()> {
        self.driver.set_autostart(&dom(d), on)
    }

    fn info(&mut self, d: WireDomain) -> Result<WireInfo> {
        self.driver.info(&dom(d)).map(Into::into)
    }

    fn xml_desc(&mut self, (d, bits): (WireDomain, u32)) -> Result<String> {
        let flags = XmlFlags::from_bits(bits).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("unknown flags {bits:#x} of xml_desc"),
            )
        })?;
        self.driver.xml_desc(&dom(d), flags)
    }

    fn events(&mut self, (): ()) -> Result<()> {
        self.opened = Some(Opened::Events(self.driver.events()?));
        Ok(())
    }

    fn console(&mut self, (d, force): (WireDomain, bool)) -> Result<()> {
        self.opened = Some(Opened::Console(self.driver.console(&dom(d), force)?));
        Ok(())
    }

    fn change_media(
        &mut self,
        (d, target, media, flags): (WireDomain, String, WireMedia, WireMediaFlags),
    ) -> Result<()> {
        self.driver
            .change_media(&dom(d), &target, media.into(), flags.into())
    }

    fn screenshot(&mut self, d: WireDomain) -> Result<Bytes> {
        self.driver.screenshot(&dom(d)).map(Bytes)
    }

    fn set_memory(&mut self, (d, kib, flags): (WireDomain, u64, WireModifyFlags)) -> Result<()> {
        self.driver.set_memory(&dom(d), kib, flags.into())
    }

    fn set_max_memory(
        &mut self,
        (d, kib, flags): (WireDomain, u64, WireModifyFlags),
    ) -> Result<()> {
        self.driver.set_max_memory(&dom(d), kib, flags.into())
    }

    fn set_memory_stats_period(
        &mut self,
        (d, seconds, flags): (WireDomain, u32, WireModifyFlags),
    ) -> Result<()> {
        self.driver
            .set_memory_stats_period(&dom(d), seconds, flags.into())
    }

    fn set_vcpus(&mut self, (d, n, flags): (WireDomain, u32, WireModifyFlags)) -> Result<()> {
        self.driver.set_vcpus(&dom(d), n, flags.into())
    }

    fn set_vcpu(
        &mut self,
        (d, ids, enable, flags): (WireDomain, Vec<u32>, bool, WireModifyFlags),
    ) -> Result<()> {
        self.driver.set_vcpu(&dom(d), &ids, enable, flags.into())
    }

    fn set_max_vcpus(&mut self, (d, n, flags): (WireDomain, u32, WireModifyFlags)) -> Result<()> {
        self.driver.set_max_vcpus(&dom(d), n, flags.into())
    }

    fn stats(&mut self, d: WireDomain) -> Result<WireStats> {
        self.driver.stats(&dom(d)).map(Into::into)
    }

    fn qemu_monitor_command(&mut self, (d, command): (WireDomain, String)) -> Result<String> {
        self.driver.qemu_monitor_command(&dom(d), &command)
    }

    fn messages(&mut self, d: WireDomain) -> Result<Vec<String>> {
        self.driver.messages(&dom(d))
    }

    fn attach_device(
        &mut self,
        (d, xml, flags): (WireDomain, String, WireModifyFlags),
    ) -> Result<()> {
        self.driver.attach_device(&dom(d), &xml, flags.into())
    }

    fn detach_device(
        &mut self,
        (d, xml, flags): (WireDomain, String, WireModifyFlags),
    ) -> Result<()> {
        self.driver.detach_device(&dom(d), &xml, flags.into())
    }

    fn detach_device_alias(
        &mut self,
        (d, alias, flags): (WireDomain, String, WireModifyFlags),
    ) -> Result<()> {
        self.driver
            .detach_device_alias(&dom(d), &alias, flags.into())
    }

    fn update_device(
        &mut self,
        (d, xml, flags): (WireDomain, String, WireModifyFlags),
    ) -> Result<()> {
        self.driver.update_device(&dom(d), &xml, flags.into())
    }

    fn pin_cpus(
        &mut self,
        (d, vcpu, cpus, flags): (WireDomain, Option<u32>, Vec<u32>, WireModifyFlags),
    ) -> Result<()> {
        let target = vcpu.map_or(crate::driver::PinTarget::Emulator, |n| {
            crate::driver::PinTarget::Vcpu(n)
        });
        self.driver.pin_cpus(&dom(d), target, &cpus, flags.into())
    }

    fn list_pools(&mut self, (): ()) -> Result<Vec<WirePoolSummary>> {
        Ok(into_all(self.driver.list_pools()?))
    }

    fn pool_lookup_by_name(&mut self, name: String) -> Result<WirePool> {
        self.driver.pool_lookup_by_name(&name).map(Into::into)
    }

    fn pool_define_xml(&mut self, xml: String) -> Result<WirePool> {
        self.driver.pool_define_xml(&xml).map(Into::into)
    }

    fn pool_build(&mut self, p: WirePool) -> Result<()> {
        self.driver.pool_build(&p.into())
    }

    fn pool_start(&mut self, p: WirePool) -> Result<()> {
        self.driver.pool_start(&p.into())
    }

    fn pool_destroy(&mut self, p: WirePool) -> Result<()> {
        self.driver.pool_destroy(&p.into())
    }

    fn pool_undefine(&mut self, p: WirePool) -> Result<()> {
        self.driver.pool_undefine(&p.into())
    }

    fn pool_info(&mut self, p: WirePool) -> Result<WirePoolInfo> {
        self.driver.pool_info(&p.into()).map(Into::into)
    }

    fn pool_refresh(&mut self, p: WirePool) -> Result<()> {
        self.driver.pool_refresh(&p.into())
    }

    fn pool_xml(&mut self, p: WirePool) -> Result<String> {
        self.driver.pool_xml(&p.into())
    }

    fn pool_set_autostart(&mut self, (p, on): (WirePool, bool)) -> Result<()> {
        self.driver.pool_set_autostart(&p.into(), on)
    }

    fn list_volumes(&mut self, p: WirePool) -> Result<Vec<WireVolume>> {
        Ok(into_all(self.driver.list_volumes(&p.into())?))
    }

    fn vol_lookup_by_name(&mut self, (p, name): (WirePool, String)) -> Result<WireVolume> {
        self.driver
            .vol_lookup_by_name(&p.into(), &name)
            .map(Into::into)
    }

    fn vol_lookup_by_path(&mut self, path: Vec<u8>) -> Result<WireVolume> {
        self.driver
            .vol_lookup_by_path(&wire_path(path))
            .map(Into::into)
    }

    fn vol_create_xml(&mut self, (p, xml): (WirePool, String)) -> Result<WireVolume> {
        self.driver.vol_create_xml(&p.into(), &xml).map(Into::into)
    }

    fn vol_clone(&mut self, (p, xml, from): (WirePool, String, WireVolume)) -> Result<WireVolume> {
        self.driver
            .vol_clone(&p.into(), &xml, &from.into())
            .map(Into::into)
    }

    fn vol_create_with(
        &mut self,
        (p, xml, from, bits): (WirePool, String, Option<WireVolume>, u32),
    ) -> Result<WireVolume> {
        let flags = wire_flags(bits, VolCreateFlags::from_bits, "volume creation")?;
        let from = from.map(Into::into);
        self.driver
            .vol_create_with(&p.into(), &xml, from.as_ref(), flags)
            .map(Into::into)
    }

    fn vol_delete(&mut self, v: WireVolume) -> Result<()> {
        self.driver.vol_delete(&v.into())
    }

    fn vol_info(&mut self, v: WireVolume) -> Result<WireVolumeInfo> {
        self.driver.vol_info(&v.into()).map(Into::into)
    }

    fn vol_xml(&mut self, v: WireVolume) -> Result<String> {
        self.driver.vol_xml(&v.into())
    }

    fn vol_resize(&mut self, (v, capacity, bits): (WireVolume, u64, u32)) -> Result<()> {
        let flags = wire_flags(bits, ResizeFlags::from_bits, "resize")?;
        self.driver.vol_resize(&v.into(), capacity, flags)
    }

    fn snapshot_create_xml(
        &mut self,
        (d, xml, bits): (WireDomain, String, u32),
    ) -> Result<WireSnapshot> {
        let flags = wire_flags(bits, SnapshotCreateFlags::from_bits, "snapshot create")?;
        self.driver
            .snapshot_create_xml(&dom(d), &xml, flags)
            .map(Into::into)
    }

    fn snapshot_list(&mut self, d: WireDomain) -> Result<Vec<WireSnapshotInfo>> {
        Ok(into_all(self.driver.snapshot_list(&dom(d))?))
    }

    fn snapshot_lookup(&mut self, (d, name): (WireDomain, String)) -> Result<WireSnapshot> {
        self.driver.snapshot_lookup(&dom(d), &name).map(Into::into)
    }

    fn snapshot_current(&mut self, d: WireDomain) -> Result<Option<WireSnapshot>> {
        Ok(self.driver.snapshot_current(&dom(d))?.map(Into::into))
    }

    fn snapshot_info(&mut self, s: WireSnapshot) -> Result<WireSnapshotInfo> {
        self.driver.snapshot_info(&s.into()).map(Into::into)
    }

    fn snapshot_xml(&mut self, s: WireSnapshot) -> Result<String> {
        self.driver.snapshot_xml(&s.into())
    }

    fn snapshot_revert(&mut self, (s, bits): (WireSnapshot, u32)) -> Result<()> {
        let flags = wire_flags(bits, SnapshotRevertFlags::from_bits, "snapshot revert")?;
        self.driver.snapshot_revert(&s.into(), flags)
    }

    fn snapshot_delete(&mut self, (s, bits): (WireSnapshot, u32)) -> Result<()> {
        let flags = wire_flags(bits, SnapshotDeleteFlags::from_bits, "snapshot delete")?;
        self.driver.snapshot_delete(&s.into(), flags)
    }

    fn block_commit(&mut self, (d, disk, bits): (WireDomain, String, u32)) -> Result<()> {
        let flags = wire_flags(bits, BlockCommitFlags::from_bits, "block commit")?;
        self.driver.block_commit(&dom(d), &disk, flags)
    }

    fn save_state(
        &mut self,
        (d, path, options, state): (
            WireDomain,
            Option<Vec<u8>>,
            WireSaveOptions,
            super::types_changes::WireSaveState,
        ),
    ) -> Result<()> {
        let options = state.save_options(options);
        match path {
            Some(path) => self.driver.save_with(&dom(d), &wire_path(path), options),
            None => self.driver.managed_save_with(&dom(d), options),
        }
    }

    fn restore_with(
        &mut self,
        (path, state): (Vec<u8>, super::types_changes::WireSaveState),
    ) -> Result<WireDomain> {
        self.driver
            .restore_with(&wire_path(path), state.into())
            .map(Into::into)
    }

    fn block_copy(
        &mut self,
        (d, disk, c): (WireDomain, String, super::types_changes::WireBlockCopy),
    ) -> Result<()> {
        let copy = BlockCopy {
            dest: wire_path(c.dest),
            format: c.format.map(Into::into),
            bandwidth: c.bandwidth,
            granularity: c.granularity,
            buf_size: c.buf_size,
            flags: wire_flags(c.flags, BlockCopyFlags::from_bits, "block copy")?,
        };
        self.driver.block_copy(&dom(d), &disk, &copy)
    }

    fn block_pull(&mut self, (d, disk): (WireDomain, String)) -> Result<()> {
        self.driver.block_pull(&dom(d), &disk)
    }

    fn block_job_info(
        &mut self,
        (d, disk): (WireDomain, String),
    ) -> Result<Option<WireBlockJobInfo>> {
        Ok(self.driver.block_job_info(&dom(d), &disk)?.map(Into::into))
    }

    fn block_job_abort(&mut self, (d, disk, pivot): (WireDomain, String, bool)) -> Result<()> {
        self.driver.block_job_abort(&dom(d), &disk, pivot)
    }

    fn block_job_set_speed(&mut self, (d, disk, speed): (WireDomain, String, u64)) -> Result<()> {
        self.driver.block_job_set_speed(&dom(d), &disk, speed)
    }

    fn block_info(&mut self, (d, disk): (WireDomain, String)) -> Result<WireBlockInfo> {
        self.driver.block_info(&dom(d), &disk).map(Into::into)
    }

    fn block_resize(&mut self, (d, disk, bytes): (WireDomain, String, u64)) -> Result<()> {
        self.driver.block_resize(&dom(d), &disk, bytes)
    }

    fn undefine_snapshots(&mut self, (d, flags): (WireDomain, WireUndefineFlags)) -> Result<()> {
        let mut flags: UndefineFlags = flags.into();
        flags.snapshots_metadata = true;
        self.driver.undefine_flags(&dom(d), flags)
    }

    fn list_secrets(&mut self, (): ()) -> Result<Vec<WireSecret>> {
        Ok(into_all(self.driver.list_secrets()?))
    }

    fn secret_lookup_by_uuid(&mut self, uuid: Uuid) -> Result<WireSecret> {
        self.driver.secret_lookup_by_uuid(uuid).map(Into::into)
    }

    fn secret_lookup_by_usage(
        &mut self,
        (usage, id): (WireSecretUsage, String),
    ) -> Result<WireSecret> {
        self.driver
            .secret_lookup_by_usage(usage.into(), &id)
            .map(Into::into)
    }

    fn secret_define_xml(&mut self, xml: String) -> Result<WireSecret> {
        self.driver.secret_define_xml(&xml).map(Into::into)
    }

    fn secret_xml(&mut self, s: WireSecret) -> Result<String> {
        self.driver.secret_xml(&s.into())
    }

    fn secret_set_value(&mut self, (s, value): (WireSecret, Bytes)) -> Result<()> {
        self.driver.secret_set_value(&s.into(), &value.0)
    }

    fn secret_get_value(&mut self, s: WireSecret) -> Result<Bytes> {
        self.driver.secret_get_value(&s.into()).map(Bytes)
    }

    fn secret_undefine(&mut self, s: WireSecret) -> Result<()> {
        self.driver.secret_undefine(&s.into())
    }

    fn set_memtune(
        &mut self,
        (d, change, flags): (WireDomain, WireMemTuneChange, WireModifyFlags),
    ) -> Result<()> {
        self.driver
            .set_memtune(&dom(d), &change.into(), flags.into())
    }

    fn domain_xml_to_native(&mut self, (format, xml): (String, String)) -> Result<String> {
        self.driver.domain_xml_to_native(&format, &xml)
    }

    fn disk_runtime(&mut self, d: WireDomain) -> Result<Vec<WireDiskRuntime>> {
        self.driver.disk_runtime(&dom(d)).map(into_all)
    }

    fn set_blkiotune(
        &mut self,
        (d, change, flags): (WireDomain, WireBlkioTuneChange, WireModifyFlags),
    ) -> Result<()> {
        self.driver
            .set_blkiotune(&dom(d), &change.into(), flags.into())
    }

    fn block_peek(
        &mut self,
        (d, disk, offset, size): (WireDomain, String, u64, u64),
    ) -> Result<Bytes> {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        self.driver
            .block_peek(&dom(d), &disk, offset, size)
            .map(Bytes)
    }

    fn memory_peek(
        &mut self,
        (d, offset, size, physical): (WireDomain, u64, u64, bool),
    ) -> Result<Bytes> {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        self.driver
            .memory_peek(&dom(d), offset, size, physical)
            .map(Bytes)
    }

    fn migrate_max_speed(&mut self, d: WireDomain) -> Result<u64> {
        self.driver.migrate_max_speed(&dom(d))
    }

    fn migrate_set_max_speed(&mut self, (d, mib_s): (WireDomain, u64)) -> Result<()> {
        self.driver.migrate_set_max_speed(&dom(d), mib_s)
    }

    fn set_block_threshold(&mut self, (d, dev, bytes): (WireDomain, String, u64)) -> Result<()> {
        self.driver.set_block_threshold(&dom(d), &dev, bytes)
    }

    fn migrate_start_postcopy(&mut self, d: WireDomain) -> Result<()> {
        self.driver.migrate_start_postcopy(&dom(d))
    }

    fn migrate_max_downtime(&mut self, d: WireDomain) -> Result<u64> {
        self.driver.migrate_max_downtime(&dom(d))
    }

    fn migrate_set_max_downtime(&mut self, (d, ms): (WireDomain, u64)) -> Result<()> {
        self.driver.migrate_set_max_downtime(&dom(d), ms)
    }

    fn migrate_compression_cache(&mut self, d: WireDomain) -> Result<u64> {
        self.driver.migrate_compression_cache(&dom(d))
    }

    fn migrate_set_compression_cache(&mut self, (d, bytes): (WireDomain, u64)) -> Result<()> {
        self.driver.migrate_set_compression_cache(&dom(d), bytes)
    }

    fn iothreads(&mut self, d: WireDomain) -> Result<Vec<(u32, Vec<u32>)>> {
        let threads = self.driver.iothreads(&dom(d))?;
        Ok(threads.into_iter().map(|t| (t.id, t.cpus)).collect())
    }

    fn change_iothread(
        &mut self,
        (d, change, flags): (
            WireDomain,
            super::types_changes::WireIoThreadChange,
            WireModifyFlags,
        ),
    ) -> Result<()> {
        self.driver
            .change_iothread(&dom(d), &change.into(), flags.into())
    }

    fn set_lifecycle_action(
        &mut self,
        (d, event, action, flags): (WireDomain, u32, String, WireModifyFlags),
    ) -> Result<()> {
        use crate::model::Word;
        let event = super::types_changes::lifecycle_event(event)?;
        let action = crate::model::LifecycleAction::from_word(&action).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("unknown lifecycle action '{action}': destroy, restart or preserve"),
            )
        })?;
        self.driver
            .set_lifecycle_action(&dom(d), event, action, flags.into())
    }

    fn dirty_rate_calc(&mut self, (d, seconds, mode): (WireDomain, i32, String)) -> Result<()> {
        let mode = crate::driver::DirtyRateMode::from_word(&mode).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("unknown dirty rate mode '{mode}'"),
            )
        })?;
        self.driver.dirty_rate_calc(&dom(d), seconds, mode)
    }

    fn pm_wakeup(&mut self, d: WireDomain) -> Result<()> {
        self.driver.pm_wakeup(&dom(d))
    }

    fn dirty_rate(&mut self, d: WireDomain) -> Result<(u32, i64, i32, String, Option<i64>)> {
        let r = self.driver.dirty_rate(&dom(d))?;
        let mode = r.mode.as_str().to_string();
        Ok((r.status, r.start_time, r.period, mode, r.mib_per_s))
    }

    fn save_image_xml(
        &mut self,
        (image, secure): (super::types_changes::WireSaveImage, bool),
    ) -> Result<String> {
        self.driver.save_image_xml(&image.into(), secure)
    }

    fn save_image_define(
        &mut self,
        (image, xml, running): (super::types_changes::WireSaveImage, String, Option<bool>),
    ) -> Result<()> {
        self.driver.save_image_define(&image.into(), &xml, running)
    }

    fn set_block_iotune(
        &mut self,
        (d, disk, limits, group, flags): (
            WireDomain,
            String,
            Vec<(String, u64)>,
            Option<String>,
            WireModifyFlags,
        ),
    ) -> Result<()> {
        let change = crate::driver::BlockIoTuneChange::new(limits, group);
        self.driver
            .set_block_iotune(&dom(d), &disk, &change, flags.into())
    }
}

/// Each value converted to its wire twin.
fn into_all<A, W: From<A>>(values: Vec<A>) -> Vec<W> {
    values.into_iter().map(Into::into).collect()
}
