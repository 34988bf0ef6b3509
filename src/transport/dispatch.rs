//! The server's [`Handler`]: each procedure of the table as a call of a
//! [`Driver`] method, wire types converted at the edge. A call that opens
//! a stream (events, a console) leaves the stream in [`DriverCalls::opened`]
//! for the server to serve.

use uuid::Uuid;

use super::procedures::Handler;
use super::types::{
    Bytes, WireDomain, WireIncomingParams, WireIncomingReady, WireIncomingState, WireInfo,
    WireJobInfo, WireListFilter, WireMedia, WireMediaFlags, WireMigrateOptions, WireModifyFlags,
    WireNode, WireSaveOptions, WireShutdown, WireStats, WireSummary, WireUndefineFlags,
    WireVersion, wire_path,
};
use super::wire::PROTOCOL_VERSION;
use crate::driver::{ConsoleStream, Domain, Driver, EventStream, XmlFlags};
use crate::error::{Error, ErrorCode, Result};

/// A stream a call opened.
pub enum Opened {
    /// A new event subscription.
    Events(Box<dyn EventStream>),
    /// A console.
    Console(Box<dyn ConsoleStream>),
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

    fn undefine_flags(&mut self, (d, flags): (WireDomain, WireUndefineFlags)) -> Result<()> {
        self.driver.undefine_flags(&dom(d), flags.into())
    }

    fn migrate(
        &mut self,
        (d, uri, options): (WireDomain, String, WireMigrateOptions),
    ) -> Result<()> {
        self.driver.migrate(&dom(d), &uri, options.into())
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

    fn set_vcpus(&mut self, (d, n, flags): (WireDomain, u32, WireModifyFlags)) -> Result<()> {
        self.driver.set_vcpus(&dom(d), n, flags.into())
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
}
