//! `Driver for LocalDriver`: each method names the state it needs in the
//! trait's docs and delegates to the module that does the work.

use std::path::Path;

use uuid::Uuid;

use super::driver::{LocalDriver, default_emulator};
use crate::driver::Secret;
use crate::driver::{
    AddressSource, BlockCommitFlags, BlockCopy, BlockInfo, BlockJobInfo, ConsoleStream,
    DiskRuntime, Domain, DomainInfo, DomainSummary, Driver, EventStream, InterfaceAddresses,
    JobInfo, KeyCodeset, ListFilter, MediaChange, MediaFlags, MetadataKind, NodeInfo, Pool,
    PoolInfo, PoolSummary, ResizeFlags, RestoreOptions, SaveOptions, ShutdownOptions, Snapshot,
    SnapshotCreateFlags, SnapshotDeleteFlags, SnapshotInfo, SnapshotRevertFlags, UndefineFlags,
    VersionInfo, Volume, VolumeInfo, VolumeStream, XmlFlags,
};
use crate::driver::{BlkioTuneChange, DumpOptions, MemTuneChange};
use crate::driver::{DomainCapsQuery, DomainStats, ModifyFlags, StartFlags, VolCreateFlags};
use crate::driver::{IncomingParams, IncomingReady, IncomingState, MigrateOptions};
use crate::error::Result;
use crate::model::{DomainDef, SecretUsageType};
use crate::qemu::{domcaps, firmware, host};

impl Driver for LocalDriver {
    fn uri(&self) -> String {
        self.core.uri.clone()
    }

    fn version(&self) -> Result<VersionInfo> {
        let emulator = default_emulator("x86_64");
        let caps = self.core.caps(&emulator)?;
        Ok(VersionInfo {
            library: env!("CARGO_PKG_VERSION").to_string(),
            hypervisor: format!("QEMU {}", caps.version),
        })
    }

    fn node_info(&self) -> Result<NodeInfo> {
        host::node_info()
    }

    fn capabilities(&self) -> Result<String> {
        let emulator = default_emulator("x86_64");
        let caps = self.core.caps(&emulator)?;
        Ok(host::capabilities_xml(&caps))
    }

    fn domain_xml_to_native(&self, format: &str, xml: &str) -> Result<String> {
        super::native::check_format(format)?;
        let def = crate::model::DomainDef::from_xml(xml)?;
        let caps = self.core.caps(&super::tuning::emulator(&def))?;
        let argv = super::native::argv_for(def, &caps, &self.core.layout)?;
        Ok(crate::sys::shell::shell_join(&argv))
    }

    fn domain_capabilities(&self, query: &DomainCapsQuery) -> Result<String> {
        let arch = query.arch.as_deref().unwrap_or("x86_64");
        let emulator = query
            .emulator
            .clone()
            .unwrap_or_else(|| default_emulator(arch));
        let caps = self.core.caps(&emulator)?;
        let descriptors = firmware::load(&firmware::search_dirs());
        let path = emulator.display().to_string();
        let q = domcaps::Query {
            emulator: &path,
            arch,
            machine: query.machine.as_deref(),
            virt_type: query.virt_type.as_deref(),
        };
        domcaps::domain_capabilities_xml(&caps, &q, &descriptors)
    }

    fn list(&self, filter: ListFilter) -> Result<Vec<DomainSummary>> {
        Ok(self.core.list_domains(filter))
    }

    fn lookup_by_name(&self, name: &str) -> Result<Domain> {
        self.core.lookup_name(name)
    }

    fn lookup_by_uuid(&self, uuid: Uuid) -> Result<Domain> {
        self.core.lookup_uuid(uuid)
    }

    fn lookup_by_id(&self, id: u32) -> Result<Domain> {
        self.core.lookup_id(id)
    }

    fn define_xml(&self, xml: &str) -> Result<Domain> {
        self.core.define(xml)
    }

    fn undefine(&self, dom: &Domain) -> Result<()> {
        self.core
            .undefine(&self.core.resolve(dom)?, UndefineFlags::default())
    }

    fn undefine_flags(&self, dom: &Domain, flags: UndefineFlags) -> Result<()> {
        self.core.undefine(&self.core.resolve(dom)?, flags)
    }

    fn create_xml(&self, xml: &str) -> Result<Domain> {
        let mut def = DomainDef::from_xml(xml)?;
        crate::qemu::validate::validate(&def)?;
        def.drop_runtime_values();
        self.core
            .create_transient(def, crate::driver::StateReason::Booted, false, None, None)
    }

    fn start(&self, dom: &Domain) -> Result<Domain> {
        self.core.start_domain(&self.core.resolve(dom)?)
    }

    fn start_paused(&self, dom: &Domain) -> Result<Domain> {
        self.core.start_domain_with(&self.core.resolve(dom)?, true)
    }

    fn start_with(&self, dom: &Domain, flags: StartFlags) -> Result<Domain> {
        let started = self
            .core
            .start_domain_with(&self.core.resolve(dom)?, flags.paused)?;
        if flags.autodestroy {
            self.tie(started.clone());
        }
        Ok(started)
    }

    fn interface_addresses(
        &self,
        dom: &Domain,
        source: AddressSource,
    ) -> Result<Vec<InterfaceAddresses>> {
        self.core
            .interface_addresses(&self.core.resolve(dom)?, source)
    }

    fn send_key(
        &self,
        dom: &Domain,
        codeset: KeyCodeset,
        hold_ms: u32,
        keys: &[u32],
    ) -> Result<()> {
        self.core
            .send_key(&self.core.resolve(dom)?, codeset, hold_ms, keys)
    }

    fn pm_wakeup(&self, dom: &Domain) -> Result<()> {
        self.core.pm_wakeup(&self.core.resolve(dom)?)
    }

    fn agent_call(
        &self,
        dom: &Domain,
        call: crate::driver::AgentCall,
    ) -> Result<crate::driver::AgentAnswer> {
        self.core.agent_call(&self.core.resolve(dom)?, call)
    }

    fn inject_nmi(&self, dom: &Domain) -> Result<()> {
        self.core.inject_nmi(&self.core.resolve(dom)?)
    }

    fn rename(&self, dom: &Domain, new_name: &str) -> Result<Domain> {
        self.core.rename(&self.core.resolve(dom)?, new_name)
    }

    fn set_metadata(
        &self,
        dom: &Domain,
        kind: &MetadataKind,
        value: Option<&str>,
        flags: ModifyFlags,
    ) -> Result<()> {
        self.core
            .set_metadata(&self.core.resolve(dom)?, kind, value, flags)
    }

    fn metadata(
        &self,
        dom: &Domain,
        kind: &MetadataKind,
        inactive: bool,
    ) -> Result<Option<String>> {
        self.core
            .get_metadata(&self.core.resolve(dom)?, kind, inactive)
    }

    fn shutdown(&self, dom: &Domain, options: ShutdownOptions) -> Result<()> {
        self.core.shutdown_domain(&self.core.resolve(dom)?, options)
    }

    fn destroy(&self, dom: &Domain) -> Result<()> {
        self.core.destroy_domain(&self.core.resolve(dom)?)
    }

    fn reboot(&self, dom: &Domain) -> Result<()> {
        self.core.reboot_domain(&self.core.resolve(dom)?)
    }

    fn reset(&self, dom: &Domain) -> Result<()> {
        self.core.reset_domain(&self.core.resolve(dom)?)
    }

    fn suspend(&self, dom: &Domain) -> Result<()> {
        self.core.suspend_domain(&self.core.resolve(dom)?)
    }

    fn resume(&self, dom: &Domain) -> Result<()> {
        self.core.resume_domain(&self.core.resolve(dom)?)
    }

    fn save_with(&self, dom: &Domain, path: &Path, options: SaveOptions) -> Result<()> {
        self.core
            .save_domain(&self.core.resolve(dom)?, path, false, options)
    }

    fn core_dump(&self, dom: &Domain, path: &Path, options: DumpOptions) -> Result<()> {
        self.core.core_dump(&self.core.resolve(dom)?, path, options)
    }

    fn restore(&self, path: &Path) -> Result<Domain> {
        self.core.restore_file(path, RestoreOptions::default())
    }

    fn restore_with(&self, path: &Path, options: RestoreOptions) -> Result<Domain> {
        self.core.restore_file(path, options)
    }

    fn managed_save_with(&self, dom: &Domain, options: SaveOptions) -> Result<()> {
        let dom = self.core.resolve(dom)?;
        let image = self.core.layout.managed_save_file(&dom.name);
        self.core.save_domain(&dom, &image, true, options)
    }

    fn migrate(&self, dom: &Domain, dest_uri: &str, mut options: MigrateOptions) -> Result<()> {
        let dom = self.core.resolve(dom)?;
        // Without its own bandwidth, a migration takes the domain's.
        if options.bandwidth_mib_s.is_none() {
            options.bandwidth_mib_s = self.core.with_entry(&dom, |e| Ok(e.migrate_speed))?;
        }
        self.core.migrate_out(&dom, dest_uri, options)
    }

    fn block_peek(&self, dom: &Domain, disk: &str, offset: u64, size: usize) -> Result<Vec<u8>> {
        self.core
            .block_peek(&self.core.resolve(dom)?, disk, offset, size)
    }

    fn memory_peek(
        &self,
        dom: &Domain,
        offset: u64,
        size: usize,
        physical: bool,
    ) -> Result<Vec<u8>> {
        self.core
            .memory_peek(&self.core.resolve(dom)?, offset, size, physical)
    }

    fn migrate_perform(&self, dom: &Domain, uri: &str, options: MigrateOptions) -> Result<()> {
        self.core
            .migrate_perform(&self.core.resolve(dom)?, uri, options)
    }

    fn migrate_confirm(
        &self,
        dom: &Domain,
        how: crate::driver::Confirmation,
        undefine_source: bool,
    ) -> Result<()> {
        self.core
            .migrate_confirm(&self.core.resolve(dom)?, how, undefine_source)
    }

    fn migrate_max_speed(&self, dom: &Domain) -> Result<u64> {
        self.core.migrate_max_speed(&self.core.resolve(dom)?)
    }

    fn migrate_set_max_speed(&self, dom: &Domain, mib_s: u64) -> Result<()> {
        self.core
            .migrate_set_max_speed(&self.core.resolve(dom)?, mib_s)
    }

    fn set_block_threshold(&self, dom: &Domain, dev: &str, bytes: u64) -> Result<()> {
        self.core
            .set_block_threshold(&self.core.resolve(dom)?, dev, bytes)
    }

    fn migrate_start_postcopy(&self, dom: &Domain) -> Result<()> {
        self.core.migrate_start_postcopy(&self.core.resolve(dom)?)
    }

    fn migrate_max_downtime(&self, dom: &Domain) -> Result<u64> {
        self.core.migrate_max_downtime(&self.core.resolve(dom)?)
    }

    fn migrate_set_max_downtime(&self, dom: &Domain, ms: u64) -> Result<()> {
        self.core
            .migrate_set_max_downtime(&self.core.resolve(dom)?, ms)
    }

    fn migrate_compression_cache(&self, dom: &Domain) -> Result<u64> {
        self.core
            .migrate_compression_cache(&self.core.resolve(dom)?)
    }

    fn migrate_set_compression_cache(&self, dom: &Domain, bytes: u64) -> Result<()> {
        self.core
            .migrate_set_compression_cache(&self.core.resolve(dom)?, bytes)
    }

    fn migrate_incoming(&self, params: IncomingParams) -> Result<IncomingReady> {
        self.core.incoming_prepare(params)
    }

    fn migrate_finish(
        &self,
        uuid: Uuid,
        resume: bool,
        persistent_xml: Option<String>,
    ) -> Result<Domain> {
        self.core.incoming_finish(uuid, resume, persistent_xml)
    }

    fn migrate_abort_incoming(&self, uuid: Uuid) -> Result<()> {
        self.core.incoming_abort(uuid)
    }

    fn migrate_incoming_state(&self, uuid: Uuid) -> Result<IncomingState> {
        self.core.incoming_state(uuid)
    }

    fn job_info(&self, dom: &Domain) -> Result<Option<JobInfo>> {
        Ok(self.core.jobs(dom)?.info())
    }

    fn job_completed(&self, dom: &Domain) -> Result<Option<crate::driver::CompletedJob>> {
        Ok(self.core.jobs(dom)?.completed())
    }

    fn job_abort(&self, dom: &Domain) -> Result<()> {
        let jobs = self.core.jobs(dom)?;
        if let Some((kind, false)) = jobs.abortable() {
            return Err(crate::Error::new(
                crate::ErrorCode::OperationInvalid,
                format!(
                    "cannot abort the {} of domain '{}': QEMU cannot stop a memory-only dump once started",
                    kind.as_str(),
                    dom.name
                ),
            ));
        }
        match jobs.request_abort() {
            Some(_) => Ok(()),
            None => Err(crate::Error::new(
                crate::ErrorCode::OperationInvalid,
                format!("domain '{}' has no job to abort", dom.name),
            )),
        }
    }

    fn managed_save_remove(&self, dom: &Domain) -> Result<()> {
        self.core.remove_managed_save(&self.core.resolve(dom)?)
    }

    fn autostart(&self, dom: &Domain) -> Result<bool> {
        self.core.get_autostart(dom)
    }

    fn set_autostart(&self, dom: &Domain, on: bool) -> Result<()> {
        self.core.put_autostart(&self.core.resolve(dom)?, on)
    }

    fn info(&self, dom: &Domain) -> Result<DomainInfo> {
        self.core.domain_info(dom)
    }

    fn xml_desc(&self, dom: &Domain, flags: XmlFlags) -> Result<String> {
        self.core.domain_xml(dom, flags)
    }

    fn events(&self) -> Result<Box<dyn EventStream>> {
        Ok(Box::new(self.core.events.subscribe()))
    }

    fn console(&self, dom: &Domain, force: bool) -> Result<Box<dyn ConsoleStream>> {
        self.core.open_console(&self.core.resolve(dom)?, force)
    }

    fn change_media(
        &self,
        dom: &Domain,
        target: &str,
        change: MediaChange,
        flags: MediaFlags,
    ) -> Result<()> {
        self.core
            .change_media(&self.core.resolve(dom)?, target, change, flags)
    }

    fn screenshot(&self, dom: &Domain) -> Result<Vec<u8>> {
        self.core.screenshot(&self.core.resolve(dom)?)
    }

    // Storage: see `storage` (pools) and `volumes`.

    fn list_secrets(&self) -> Result<Vec<Secret>> {
        self.core.list_secrets()
    }

    fn secret_lookup_by_uuid(&self, uuid: Uuid) -> Result<Secret> {
        self.core.secret_by_uuid(uuid)
    }

    fn secret_lookup_by_usage(&self, usage: SecretUsageType, id: &str) -> Result<Secret> {
        self.core.secret_by_usage(usage, id)
    }

    fn secret_define_xml(&self, xml: &str) -> Result<Secret> {
        self.core.secret_define(xml)
    }

    fn secret_xml(&self, secret: &Secret) -> Result<String> {
        self.core.secret_xml(secret)
    }

    fn secret_set_value(&self, secret: &Secret, value: &[u8]) -> Result<()> {
        self.core.secret_set_value(secret, value)
    }

    fn secret_get_value(&self, secret: &Secret) -> Result<Vec<u8>> {
        self.core.secret_value_for_client(secret)
    }

    fn secret_undefine(&self, secret: &Secret) -> Result<()> {
        self.core.secret_undefine(secret)
    }

    fn list_pools(&self) -> Result<Vec<PoolSummary>> {
        self.core.list_pools()
    }

    fn pool_lookup_by_name(&self, name: &str) -> Result<Pool> {
        self.core.pool_lookup(name)
    }

    fn pool_define_xml(&self, xml: &str) -> Result<Pool> {
        self.core.pool_define(xml)
    }

    fn pool_build(&self, pool: &Pool) -> Result<()> {
        self.core.pool_build(pool)
    }

    fn pool_start(&self, pool: &Pool) -> Result<()> {
        self.core.pool_start(pool)
    }

    fn pool_destroy(&self, pool: &Pool) -> Result<()> {
        self.core.pool_stop(pool)
    }

    fn pool_undefine(&self, pool: &Pool) -> Result<()> {
        self.core.pool_undefine(pool)
    }

    fn pool_info(&self, pool: &Pool) -> Result<PoolInfo> {
        self.core.pool_info(pool)
    }

    fn pool_refresh(&self, pool: &Pool) -> Result<()> {
        self.core.pool_refresh(pool)
    }

    fn pool_xml(&self, pool: &Pool) -> Result<String> {
        self.core.pool_xml(pool)
    }

    fn pool_set_autostart(&self, pool: &Pool, on: bool) -> Result<()> {
        self.core.pool_set_autostart(pool, on)
    }

    fn list_volumes(&self, pool: &Pool) -> Result<Vec<Volume>> {
        self.core.list_volumes(pool)
    }

    fn vol_lookup_by_name(&self, pool: &Pool, name: &str) -> Result<Volume> {
        self.core.vol_lookup(pool, name)
    }

    fn vol_lookup_by_path(&self, path: &Path) -> Result<Volume> {
        self.core.vol_lookup_path(path)
    }

    fn vol_create_xml(&self, pool: &Pool, xml: &str) -> Result<Volume> {
        self.core.vol_create(pool, xml, None, VolCreateFlags::NONE)
    }

    fn vol_clone(&self, pool: &Pool, xml: &str, from: &Volume) -> Result<Volume> {
        self.core
            .vol_create(pool, xml, Some(from), VolCreateFlags::NONE)
    }

    fn vol_create_with(
        &self,
        pool: &Pool,
        xml: &str,
        from: Option<&Volume>,
        flags: VolCreateFlags,
    ) -> Result<Volume> {
        self.core.vol_create(pool, xml, from, flags)
    }

    fn vol_delete(&self, vol: &Volume) -> Result<()> {
        self.core.vol_delete(vol)
    }

    fn vol_info(&self, vol: &Volume) -> Result<VolumeInfo> {
        self.core.vol_info(vol)
    }

    fn vol_xml(&self, vol: &Volume) -> Result<String> {
        self.core.vol_xml(vol)
    }

    fn vol_resize(&self, vol: &Volume, capacity: u64, flags: ResizeFlags) -> Result<()> {
        self.core.vol_resize(vol, capacity, flags)
    }

    fn vol_upload(
        &self,
        vol: &Volume,
        offset: u64,
        length: Option<u64>,
    ) -> Result<Box<dyn VolumeStream>> {
        self.core.vol_transfer(vol, offset, length, true)
    }

    fn vol_download(
        &self,
        vol: &Volume,
        offset: u64,
        length: Option<u64>,
    ) -> Result<Box<dyn VolumeStream>> {
        self.core.vol_transfer(vol, offset, length, false)
    }

    // Snapshots and block jobs: see `snapshots` and `blockjobs`.

    fn snapshot_create_xml(
        &self,
        dom: &Domain,
        xml: &str,
        flags: SnapshotCreateFlags,
    ) -> Result<Snapshot> {
        self.core
            .snapshot_create(&self.core.resolve(dom)?, xml, flags)
    }

    fn snapshot_list(&self, dom: &Domain) -> Result<Vec<SnapshotInfo>> {
        self.core.snapshot_list(&self.core.resolve(dom)?)
    }

    fn snapshot_lookup(&self, dom: &Domain, name: &str) -> Result<Snapshot> {
        self.core.snapshot_lookup(dom, name)
    }

    fn snapshot_current(&self, dom: &Domain) -> Result<Option<Snapshot>> {
        self.core.snapshot_current(dom)
    }

    fn snapshot_info(&self, snap: &Snapshot) -> Result<SnapshotInfo> {
        self.core.snapshot_info(snap)
    }

    fn snapshot_xml(&self, snap: &Snapshot) -> Result<String> {
        self.core.snapshot_xml(snap)
    }

    fn snapshot_revert(&self, snap: &Snapshot, flags: SnapshotRevertFlags) -> Result<()> {
        self.core.snapshot_revert(snap, flags)
    }

    fn snapshot_delete(&self, snap: &Snapshot, flags: SnapshotDeleteFlags) -> Result<()> {
        self.core.snapshot_delete(snap, flags)
    }

    fn block_commit(&self, dom: &Domain, disk: &str, flags: BlockCommitFlags) -> Result<()> {
        self.core
            .block_commit(&self.core.resolve(dom)?, disk, flags)
    }

    fn block_pull(&self, dom: &Domain, disk: &str) -> Result<()> {
        self.core.block_pull(&self.core.resolve(dom)?, disk)
    }

    fn block_copy(&self, dom: &Domain, disk: &str, copy: &BlockCopy) -> Result<()> {
        self.core.block_copy(&self.core.resolve(dom)?, disk, copy)
    }

    fn block_job_info(&self, dom: &Domain, disk: &str) -> Result<Option<BlockJobInfo>> {
        self.core.block_job_info(&self.core.resolve(dom)?, disk)
    }

    fn block_job_abort(&self, dom: &Domain, disk: &str, pivot: bool) -> Result<()> {
        self.core
            .block_job_abort(&self.core.resolve(dom)?, disk, pivot)
    }

    fn block_job_set_speed(&self, dom: &Domain, disk: &str, bytes_per_s: u64) -> Result<()> {
        self.core
            .block_job_set_speed(&self.core.resolve(dom)?, disk, bytes_per_s)
    }

    fn block_info(&self, dom: &Domain, disk: &str) -> Result<BlockInfo> {
        self.core.block_info(&self.core.resolve(dom)?, disk)
    }

    fn block_resize(&self, dom: &Domain, disk: &str, bytes: u64) -> Result<()> {
        self.core
            .block_resize(&self.core.resolve(dom)?, disk, bytes)
    }

    fn set_memory(&self, dom: &Domain, kib: u64, flags: ModifyFlags) -> Result<()> {
        self.core.set_memory(&self.core.resolve(dom)?, kib, flags)
    }

    fn set_memory_stats_period(
        &self,
        dom: &Domain,
        seconds: u32,
        flags: ModifyFlags,
    ) -> Result<()> {
        self.core
            .set_memory_stats_period(&self.core.resolve(dom)?, seconds, flags)
    }

    fn set_memtune(&self, dom: &Domain, change: &MemTuneChange, flags: ModifyFlags) -> Result<()> {
        self.core
            .set_memtune(&self.core.resolve(dom)?, change, flags)
    }

    fn disk_runtime(&self, dom: &Domain) -> Result<Vec<DiskRuntime>> {
        self.core.disk_runtime(&self.core.resolve(dom)?)
    }

    fn set_blkiotune(
        &self,
        dom: &Domain,
        change: &BlkioTuneChange,
        flags: ModifyFlags,
    ) -> Result<()> {
        self.core
            .set_blkiotune(&self.core.resolve(dom)?, change, flags)
    }

    fn iothreads(&self, dom: &Domain) -> Result<Vec<crate::driver::IoThreadInfo>> {
        self.core.iothreads(&self.core.resolve(dom)?)
    }

    fn change_iothread(
        &self,
        dom: &Domain,
        change: &crate::driver::IoThreadChange,
        flags: ModifyFlags,
    ) -> Result<()> {
        self.core
            .change_iothread(&self.core.resolve(dom)?, change, flags)
    }

    fn pin_cpus(
        &self,
        dom: &Domain,
        target: crate::driver::PinTarget,
        cpus: &[u32],
        flags: ModifyFlags,
    ) -> Result<()> {
        self.core
            .pin_cpus(&self.core.resolve(dom)?, target, cpus, flags)
    }

    fn set_lifecycle_action(
        &self,
        dom: &Domain,
        event: crate::driver::LifecycleEvent,
        action: crate::model::LifecycleAction,
        flags: ModifyFlags,
    ) -> Result<()> {
        self.core
            .set_lifecycle_action(&self.core.resolve(dom)?, event, action, flags)
    }

    fn dirty_rate_calc(
        &self,
        dom: &Domain,
        seconds: i32,
        mode: crate::driver::DirtyRateMode,
    ) -> Result<()> {
        self.core
            .dirty_rate_calc(&self.core.resolve(dom)?, seconds, mode)
    }

    fn dirty_rate(&self, dom: &Domain) -> Result<crate::driver::DirtyRate> {
        self.core.dirty_rate(&self.core.resolve(dom)?)
    }

    fn save_image_xml(&self, image: &crate::driver::SaveImage, secure: bool) -> Result<String> {
        self.core
            .save_image_xml(&self.resolve_image(image)?, secure)
    }

    fn save_image_define(
        &self,
        image: &crate::driver::SaveImage,
        xml: &str,
        running: Option<bool>,
    ) -> Result<()> {
        self.core
            .save_image_define(&self.resolve_image(image)?, xml, running)
    }

    fn set_block_iotune(
        &self,
        dom: &Domain,
        disk: &str,
        change: &crate::driver::BlockIoTuneChange,
        flags: ModifyFlags,
    ) -> Result<()> {
        self.core
            .set_block_iotune(&self.core.resolve(dom)?, disk, change, flags)
    }

    fn set_max_memory(&self, dom: &Domain, kib: u64, flags: ModifyFlags) -> Result<()> {
        self.core
            .set_max_memory(&self.core.resolve(dom)?, kib, flags)
    }

    fn set_vcpus(&self, dom: &Domain, count: u32, flags: ModifyFlags) -> Result<()> {
        self.core.set_vcpus(&self.core.resolve(dom)?, count, flags)
    }

    fn set_vcpu(&self, dom: &Domain, ids: &[u32], enable: bool, flags: ModifyFlags) -> Result<()> {
        self.core
            .set_vcpu(&self.core.resolve(dom)?, ids, enable, flags)
    }

    fn set_max_vcpus(&self, dom: &Domain, count: u32, flags: ModifyFlags) -> Result<()> {
        self.core
            .set_max_vcpus(&self.core.resolve(dom)?, count, flags)
    }

    fn stats(&self, dom: &Domain) -> Result<DomainStats> {
        self.core.domain_stats(&self.core.resolve(dom)?)
    }

    fn qemu_monitor_command(&self, dom: &Domain, command: &str) -> Result<String> {
        self.core
            .qemu_monitor_command(&self.core.resolve(dom)?, command)
    }

    fn attach_device(&self, dom: &Domain, xml: &str, flags: ModifyFlags) -> Result<()> {
        self.core
            .attach_device(&self.core.resolve(dom)?, xml, flags)
    }

    fn detach_device(&self, dom: &Domain, xml: &str, flags: ModifyFlags) -> Result<()> {
        self.core
            .detach_device(&self.core.resolve(dom)?, xml, flags)
    }

    fn detach_device_alias(&self, dom: &Domain, alias: &str, flags: ModifyFlags) -> Result<()> {
        self.core
            .detach_device_alias(&self.core.resolve(dom)?, alias, flags)
    }

    fn update_device(&self, dom: &Domain, xml: &str, flags: ModifyFlags) -> Result<()> {
        super::update::update_device(self, &self.core.resolve(dom)?, xml, flags)
    }

    fn messages(&self, dom: &Domain) -> Result<Vec<String>> {
        let run = self
            .core
            .with_entry(&self.core.resolve(dom)?, |e| Ok(e.running.clone()))?;
        Ok(run.map_or_else(Vec::new, |r| {
            r.taints()
                .into_iter()
                .map(|t| format!("tainted: {}", t.message()))
                .collect()
        }))
    }
}
