//! `Driver for LocalDriver`: each method names the state it needs in the
//! trait's docs and delegates to the module that does the work.

use std::path::Path;

use uuid::Uuid;

use super::driver::{LocalDriver, default_emulator};
use crate::driver::{
    ConsoleStream, Domain, DomainInfo, DomainSummary, Driver, EventStream, JobInfo, ListFilter,
    MediaChange, MediaFlags, NodeInfo, SaveOptions, ShutdownOptions, UndefineFlags, VersionInfo,
    XmlFlags,
};
use crate::driver::{DomainStats, ModifyFlags};
use crate::driver::{IncomingParams, IncomingReady, IncomingState, MigrateOptions};
use crate::error::Result;
use crate::model::DomainDef;
use crate::qemu::host;

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
        def.drop_runtime_values();
        self.core
            .create_transient(def, crate::driver::StateReason::Booted, false, None, None)
    }

    fn start(&self, dom: &Domain) -> Result<Domain> {
        self.core.start_domain(&self.core.resolve(dom)?)
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

    fn restore(&self, path: &Path) -> Result<Domain> {
        self.core.restore_file(path)
    }

    fn managed_save_with(&self, dom: &Domain, options: SaveOptions) -> Result<()> {
        let dom = self.core.resolve(dom)?;
        let image = self.core.layout.managed_save_file(&dom.name);
        self.core.save_domain(&dom, &image, true, options)
    }

    fn migrate(&self, dom: &Domain, dest_uri: &str, options: MigrateOptions) -> Result<()> {
        self.core
            .migrate_out(&self.core.resolve(dom)?, dest_uri, options)
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

    fn job_abort(&self, dom: &Domain) -> Result<()> {
        match self.core.jobs(dom)?.request_abort() {
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

    fn set_memory(&self, dom: &Domain, kib: u64, flags: ModifyFlags) -> Result<()> {
        self.core.set_memory(&self.core.resolve(dom)?, kib, flags)
    }

    fn set_max_memory(&self, dom: &Domain, kib: u64, flags: ModifyFlags) -> Result<()> {
        self.core
            .set_max_memory(&self.core.resolve(dom)?, kib, flags)
    }

    fn set_vcpus(&self, dom: &Domain, count: u32, flags: ModifyFlags) -> Result<()> {
        self.core.set_vcpus(&self.core.resolve(dom)?, count, flags)
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
}
