//! `Driver for LocalDriver`: each method names the state it needs in the
//! trait's docs and delegates to the module that does the work.

use std::path::Path;

use uuid::Uuid;

use super::driver::{LocalDriver, default_emulator};
use super::host;
use crate::driver::error::Result;
use crate::driver::{
    ConsoleStream, Domain, DomainInfo, DomainSummary, Driver, EventStream, ListFilter, MediaChange,
    MediaFlags, NodeInfo, ShutdownOptions, UndefineFlags, VersionInfo,
};
use crate::model::DomainDef;

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
        self.core.undefine(dom, UndefineFlags::default())
    }

    fn undefine_flags(&self, dom: &Domain, flags: UndefineFlags) -> Result<()> {
        self.core.undefine(dom, flags)
    }

    fn create_xml(&self, xml: &str) -> Result<Domain> {
        let def = DomainDef::from_xml(xml)?;
        self.core
            .create_transient(def, crate::driver::StateReason::Booted, false, None)
    }

    fn start(&self, dom: &Domain) -> Result<Domain> {
        self.core.start_domain(dom)
    }

    fn shutdown(&self, dom: &Domain, options: ShutdownOptions) -> Result<()> {
        self.core.shutdown_domain(dom, options)
    }

    fn destroy(&self, dom: &Domain) -> Result<()> {
        self.core.destroy_domain(dom)
    }

    fn reboot(&self, dom: &Domain) -> Result<()> {
        self.core.reboot_domain(dom)
    }

    fn reset(&self, dom: &Domain) -> Result<()> {
        self.core.reset_domain(dom)
    }

    fn suspend(&self, dom: &Domain) -> Result<()> {
        self.core.suspend_domain(dom)
    }

    fn resume(&self, dom: &Domain) -> Result<()> {
        self.core.resume_domain(dom)
    }

    fn save(&self, dom: &Domain, path: &Path) -> Result<()> {
        self.core.save_domain(dom, path, false)
    }

    fn restore(&self, path: &Path) -> Result<Domain> {
        self.core.restore_file(path)
    }

    fn managed_save(&self, dom: &Domain) -> Result<()> {
        let name = self.core.lookup_uuid(dom.uuid)?.name;
        let image = self.core.layout.managed_save_file(&name);
        self.core.save_domain(dom, &image, true)
    }

    fn managed_save_remove(&self, dom: &Domain) -> Result<()> {
        self.core.remove_managed_save(dom)
    }

    fn autostart(&self, dom: &Domain) -> Result<bool> {
        self.core.get_autostart(dom)
    }

    fn set_autostart(&self, dom: &Domain, on: bool) -> Result<()> {
        self.core.put_autostart(dom, on)
    }

    fn info(&self, dom: &Domain) -> Result<DomainInfo> {
        self.core.domain_info(dom)
    }

    fn xml_desc(&self, dom: &Domain, inactive: bool) -> Result<String> {
        self.core.domain_xml(dom, inactive)
    }

    fn events(&self) -> Result<Box<dyn EventStream>> {
        Ok(Box::new(self.core.events.subscribe()))
    }

    fn console(&self, dom: &Domain, force: bool) -> Result<Box<dyn ConsoleStream>> {
        self.core.open_console(dom, force)
    }

    fn change_media(
        &self,
        dom: &Domain,
        target: &str,
        change: MediaChange,
        flags: MediaFlags,
    ) -> Result<()> {
        self.core.change_media(dom, target, change, flags)
    }

    fn screenshot(&self, dom: &Domain) -> Result<Vec<u8>> {
        self.core.screenshot(dom)
    }
}
