//! The server's [`Handler`]: each libvirt procedure of the table as calls
//! of [`Driver`] methods, libvirt's values converted at the edge. Flags
//! qvirt cannot honour are refused by name, never ignored. A call that
//! opens a stream (a console) leaves it in [`LvCalls::opened`]; a call
//! whose data follows as a stream (a screenshot) leaves the data in
//! [`LvCalls::stream_data`].

use std::path::PathBuf;

use super::delegate::{calls_in, free_calls, opening_calls_in, storage_calls};
use super::frame::{code, libvirt_error};
use super::procedures::Handler;
use super::types::*;
use super::values::{self, check_flags};
use super::xdr::Chars;
use super::{
    absent, agent, blockcopy, blockjobs, coredump, devalias, dirtyrate, domlist, domparams,
    domstats, drives, guestpm, hostcaps, hostfacts, iftune, jobstats, lifecycle, migparams,
    migrate, migspeed, nodestats, numatune, peek, pins, resources, saveimage, saveparams, sched,
    secrets, snapshots, storage, threads, tunables, vcpus,
};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{
    Domain, DomainCapsQuery, DomainState, Driver, KeyCodeset, ListFilter, ModifyFlags,
    ShutdownOptions, StartFlags, UndefineFlags, XmlFlags,
};
use crate::transport::dispatch::{DriverCalls, Opened};

/// The libvirt API level qvirtd speaks: 9.0.0 (`virConnectGetLibVersion`
/// reports it, and clients use it to pick the calls they make).
pub const LIB_VERSION: u64 = 9_000_000;

/// Runs libvirt calls on a driver.
pub struct LvCalls<'a> {
    /// The driver.
    pub driver: &'a dyn Driver,
    /// The stream the call opened, if it opened one.
    pub opened: Option<Opened>,
    /// The data the call sends as a stream after its reply.
    pub stream_data: Option<Vec<u8>>,
}

impl<'a> LvCalls<'a> {
    /// Calls on `driver`.
    pub fn new(driver: &'a dyn Driver) -> LvCalls<'a> {
        LvCalls {
            driver,
            opened: None,
            stream_data: None,
        }
    }

    fn info(&self, dom: &Dom) -> Result<crate::driver::DomainInfo> {
        self.driver.info(&Domain::from(dom))
    }
}

/// libvirt's `major * 1,000,000 + minor * 1,000 + micro` of the first
/// `N.N[.N]` in `text` (`QEMU 7.2.22`).
pub fn version_number(text: &str) -> u64 {
    let word = text
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or("0");
    let mut parts = word.split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse::<u64>()
            .unwrap_or(0)
    });
    let (a, b, c) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    a * 1_000_000 + b * 1000 + c
}

/// The host's name, as the kernel has it.
pub(super) fn hostname() -> Result<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .map_err(|e| Error::io("cannot read the host name", e))
}

fn no_support(what: String) -> Error {
    Error::new(ErrorCode::NoSupport, what)
}

fn path(s: &str) -> PathBuf {
    PathBuf::from(s)
}

impl Handler for LvCalls<'_> {
    fn connect_get_type(&mut self, (): ()) -> Result<TypeRet> {
        Ok(TypeRet {
            kind: "QEMU".to_string(),
        })
    }

    fn connect_get_version(&mut self, (): ()) -> Result<VersionRet> {
        let v = self.driver.version()?;
        Ok(VersionRet {
            hv_ver: version_number(&v.hypervisor),
        })
    }

    fn node_get_info(&mut self, (): ()) -> Result<NodeInfoRet> {
        let n = self.driver.node_info()?;
        let cpus = i32::try_from(n.cpus).unwrap_or(i32::MAX);
        // The daemon's own host, as its capabilities' <topology> shows it.
        let t = crate::sys::hosttopo::Topology::host();
        let int = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        Ok(NodeInfoRet {
            model: Chars(n.arch),
            memory: n.memory_kib,
            cpus,
            mhz: i32::try_from(n.mhz).unwrap_or(0),
            nodes: int(t.cells.len() as u32),
            sockets: int(t.sockets),
            cores: int(t.dies * t.cores),
            threads: int(t.threads),
        })
    }

    fn connect_get_capabilities(&mut self, (): ()) -> Result<CapabilitiesRet> {
        Ok(CapabilitiesRet {
            capabilities: self.driver.capabilities()?,
        })
    }

    fn domain_create(&mut self, a: DomArgs) -> Result<()> {
        self.driver.start(&a.dom.into()).map(drop)
    }

    fn domain_create_xml(&mut self, a: XmlFlagsArgs) -> Result<DomRet> {
        // VIR_DOMAIN_START_AUTODESTROY: the server destroys the domain
        // when this connection ends.
        check_flags(a.flags, 2, "virDomainCreateXML")?;
        let dom = self.driver.create_xml(&a.xml)?;
        if a.flags & 2 != 0 {
            self.opened = Some(Opened::Tied(dom.clone()));
        }
        Ok(DomRet { dom: dom.into() })
    }

    fn domain_define_xml(&mut self, a: XmlArgs) -> Result<DomRet> {
        Ok(DomRet {
            dom: self.driver.define_xml(&a.xml)?.into(),
        })
    }

    fn domain_destroy(&mut self, a: DomArgs) -> Result<()> {
        self.driver.destroy(&a.dom.into())
    }

    fn domain_get_xml_desc(&mut self, a: DomFlagsArgs) -> Result<XmlRet> {
        use values::xml as x;
        check_flags(
            a.flags,
            x::SECURE | x::INACTIVE | x::MIGRATABLE,
            "virDomainGetXMLDesc",
        )?;
        let mut flags = XmlFlags::inactive_if(a.flags & x::INACTIVE != 0);
        if a.flags & x::SECURE != 0 {
            flags = flags | XmlFlags::SECURE;
        }
        if a.flags & x::MIGRATABLE != 0 {
            flags = flags | XmlFlags::MIGRATABLE;
        }
        Ok(XmlRet {
            xml: self.driver.xml_desc(&a.dom.into(), flags)?,
        })
    }

    fn domain_get_autostart(&mut self, a: DomArgs) -> Result<IntRet> {
        Ok(IntRet {
            value: i32::from(self.info(&a.dom)?.autostart),
        })
    }

    fn domain_get_info(&mut self, a: DomArgs) -> Result<InfoRet> {
        let i = self.info(&a.dom)?;
        Ok(InfoRet {
            state: values::state_code(i.state) as u8,
            max_mem: i.max_memory_kib,
            memory: i.memory_kib,
            nr_virt_cpu: u16::try_from(i.vcpus).unwrap_or(u16::MAX),
            cpu_time: i.cpu_time_ns,
        })
    }

    fn domain_get_max_memory(&mut self, a: DomArgs) -> Result<MaxMemoryRet> {
        Ok(MaxMemoryRet {
            memory: self.info(&a.dom)?.max_memory_kib,
        })
    }

    fn domain_get_os_type(&mut self, a: DomArgs) -> Result<OsTypeRet> {
        // Every qvirt domain is a full virtual machine.
        self.info(&a.dom)?;
        Ok(OsTypeRet {
            kind: "hvm".to_string(),
        })
    }

    fn connect_list_defined_domains(&mut self, a: ListNamesArgs) -> Result<ListNamesRet> {
        let max = usize::try_from(a.maxnames).unwrap_or(0);
        let names = self
            .driver
            .list(ListFilter::INACTIVE)?
            .into_iter()
            .take(max)
            .map(|s| s.domain.name)
            .collect();
        Ok(ListNamesRet { names })
    }

    fn domain_lookup_by_id(&mut self, a: IdArgs) -> Result<DomRet> {
        let id = u32::try_from(a.id).map_err(|_| {
            Error::new(
                ErrorCode::NoDomain,
                format!("no domain with matching id {}", a.id),
            )
        })?;
        Ok(DomRet {
            dom: self.driver.lookup_by_id(id)?.into(),
        })
    }

    fn domain_lookup_by_name(&mut self, a: NameArgs) -> Result<DomRet> {
        Ok(DomRet {
            dom: self.driver.lookup_by_name(&a.name)?.into(),
        })
    }

    fn domain_lookup_by_uuid(&mut self, a: UuidArgs) -> Result<DomRet> {
        Ok(DomRet {
            dom: self.driver.lookup_by_uuid(a.uuid)?.into(),
        })
    }

    fn connect_num_of_defined_domains(&mut self, (): ()) -> Result<NumRet> {
        Ok(NumRet {
            num: self.driver.list(ListFilter::INACTIVE)?.len() as i32,
        })
    }

    fn domain_resume(&mut self, a: DomArgs) -> Result<()> {
        self.driver.resume(&a.dom.into())
    }

    fn domain_set_autostart(&mut self, a: SetAutostartArgs) -> Result<()> {
        self.driver.set_autostart(&a.dom.into(), a.autostart != 0)
    }

    fn domain_shutdown(&mut self, a: DomArgs) -> Result<()> {
        self.driver
            .shutdown(&a.dom.into(), ShutdownOptions::NO_WAIT)
    }

    fn domain_suspend(&mut self, a: DomArgs) -> Result<()> {
        self.driver.suspend(&a.dom.into())
    }

    fn domain_attach_device(&mut self, a: DeviceNoFlagsArgs) -> Result<()> {
        self.driver
            .attach_device(&a.dom.into(), &a.xml, ModifyFlags::LIVE)
    }

    fn domain_detach_device(&mut self, a: DeviceNoFlagsArgs) -> Result<()> {
        self.driver
            .detach_device(&a.dom.into(), &a.xml, ModifyFlags::LIVE)
    }

    fn domain_attach_device_flags(&mut self, a: DeviceArgs) -> Result<()> {
        let flags = affect(a.flags, "virDomainAttachDeviceFlags")?;
        self.driver.attach_device(&a.dom.into(), &a.xml, flags)
    }

    fn domain_detach_device_flags(&mut self, a: DeviceArgs) -> Result<()> {
        let flags = affect(a.flags, "virDomainDetachDeviceFlags")?;
        self.driver.detach_device(&a.dom.into(), &a.xml, flags)
    }

    fn domain_undefine(&mut self, a: DomArgs) -> Result<()> {
        self.driver.undefine(&a.dom.into())
    }

    fn connect_list_domains(&mut self, a: ListIdsArgs) -> Result<ListIdsRet> {
        let max = usize::try_from(a.maxids).unwrap_or(0);
        let ids = self
            .driver
            .list(ListFilter::ACTIVE)?
            .into_iter()
            .filter_map(|s| s.domain.id)
            .take(max)
            .map(|id| id as i32)
            .collect();
        Ok(ListIdsRet { ids })
    }

    fn connect_num_of_domains(&mut self, (): ()) -> Result<NumRet> {
        Ok(NumRet {
            num: self.driver.list(ListFilter::ACTIVE)?.len() as i32,
        })
    }

    fn domain_restore(&mut self, a: RestoreArgs) -> Result<()> {
        self.driver.restore(&path(&a.from)).map(drop)
    }

    fn domain_save(&mut self, a: SaveArgs) -> Result<()> {
        self.driver.save(&a.dom.into(), &path(&a.to))
    }

    fn connect_get_hostname(&mut self, (): ()) -> Result<HostnameRet> {
        Ok(HostnameRet {
            hostname: hostname()?,
        })
    }

    fn node_get_security_model(&mut self, (): ()) -> Result<SecurityModelRet> {
        // qvirt confines no domain with a security driver (SELinux,
        // AppArmor): libvirt's answer for that is an empty model.
        Ok(SecurityModelRet::default())
    }

    fn domain_is_active(&mut self, a: DomArgs) -> Result<IntRet> {
        Ok(IntRet {
            value: i32::from(self.info(&a.dom)?.state != DomainState::Shutoff),
        })
    }

    fn domain_is_persistent(&mut self, a: DomArgs) -> Result<IntRet> {
        Ok(IntRet {
            value: i32::from(self.info(&a.dom)?.persistent),
        })
    }

    fn connect_get_lib_version(&mut self, (): ()) -> Result<LibVersionRet> {
        Ok(LibVersionRet {
            lib_ver: LIB_VERSION,
        })
    }

    fn domain_get_job_info(&mut self, a: DomArgs) -> Result<JobInfoRet> {
        let job = self.driver.job_info(&a.dom.into())?;
        Ok(match job {
            None => JobInfoRet::default(),
            Some(j) => JobInfoRet {
                kind: values::job::BOUNDED,
                time_elapsed: j.elapsed.as_millis() as u64,
                data_total: j.data_total,
                data_processed: j.data_processed,
                data_remaining: j.data_remaining,
                mem_total: j.data_total,
                mem_processed: j.data_processed,
                mem_remaining: j.data_remaining,
                ..JobInfoRet::default()
            },
        })
    }

    fn domain_abort_job(&mut self, a: DomArgs) -> Result<()> {
        self.driver.job_abort(&a.dom.into())
    }

    fn domain_update_device_flags(&mut self, a: DeviceArgs) -> Result<()> {
        // FORCE (4): qvirt always opens a tray by force, as libvirt's
        // force does.
        let flags = affect(a.flags & !4, "virDomainUpdateDeviceFlags")?;
        self.driver.update_device(&a.dom.into(), &a.xml, flags)
    }

    fn domain_has_managed_save_image(&mut self, a: DomFlagsArgs) -> Result<IntRet> {
        check_flags(a.flags, 0, "virDomainHasManagedSaveImage")?;
        Ok(IntRet {
            value: i32::from(self.info(&a.dom)?.managed_save),
        })
    }

    fn domain_managed_save_remove(&mut self, a: DomFlagsArgs) -> Result<()> {
        check_flags(a.flags, 0, "virDomainManagedSaveRemove")?;
        self.driver.managed_save_remove(&a.dom.into())
    }

    fn domain_create_with_flags(&mut self, a: DomFlagsArgs) -> Result<DomRet> {
        // VIR_DOMAIN_START_PAUSED and VIR_DOMAIN_START_AUTODESTROY.
        check_flags(a.flags, 3, "virDomainCreateWithFlags")?;
        let flags = StartFlags::from_bits(a.flags).unwrap_or_default();
        let mut calls = DriverCalls::new(self.driver);
        let dom = calls.start_tied(&a.dom.into(), flags)?;
        self.opened = calls.opened;
        Ok(DomRet { dom: dom.into() })
    }

    fn domain_get_job_stats(&mut self, a: JobStatsArgs) -> Result<JobStatsRet> {
        jobstats::job_stats(self.driver, a)
    }

    fn domain_get_control_info(&mut self, a: DomFlagsArgs) -> Result<ControlInfoRet> {
        jobstats::control_info(self.driver, a)
    }

    fn domain_get_block_info(&mut self, a: BlockPathArgs) -> Result<BlockInfoRet> {
        blockjobs::block_info(self.driver, a)
    }

    fn domain_block_job_abort(&mut self, a: BlockPathArgs) -> Result<()> {
        blockjobs::abort(self.driver, a)
    }

    fn domain_block_job_set_speed(&mut self, a: BlockJobSetSpeedArgs) -> Result<()> {
        blockjobs::set_speed(self.driver, a)
    }

    fn domain_get_block_job_info(&mut self, a: BlockPathArgs) -> Result<BlockJobInfoRet> {
        blockjobs::job_info(self.driver, a)
    }

    fn domain_block_pull(&mut self, a: BlockPullArgs) -> Result<()> {
        blockjobs::pull(self.driver, a)
    }

    fn domain_block_rebase(&mut self, a: BlockRebaseArgs) -> Result<()> {
        blockjobs::rebase(self.driver, a)
    }

    fn domain_block_commit(&mut self, a: BlockCommitArgs) -> Result<()> {
        blockjobs::commit(self.driver, a)
    }

    fn domain_block_copy(&mut self, a: BlockCopyArgs) -> Result<()> {
        blockcopy::copy(self.driver, a)
    }

    fn domain_snapshot_create_xml(&mut self, a: SnapCreateArgs) -> Result<SnapRet> {
        snapshots::create(self.driver, a)
    }

    fn domain_snapshot_get_xml_desc(&mut self, a: SnapFlagsArgs) -> Result<XmlRet> {
        let xml = snapshots::xml(self.driver, a)?;
        Ok(XmlRet { xml })
    }

    fn domain_snapshot_num(&mut self, a: DomFlagsArgs) -> Result<NumRet> {
        let num = snapshots::num(self.driver, &a.dom, a.flags)?;
        Ok(NumRet { num })
    }

    fn domain_snapshot_list_names(&mut self, a: SnapNamesArgs) -> Result<ListNamesRet> {
        let names = snapshots::list_names(self.driver, a)?;
        Ok(ListNamesRet { names })
    }

    fn domain_snapshot_lookup_by_name(&mut self, a: SnapLookupArgs) -> Result<SnapRet> {
        snapshots::lookup_by_name(self.driver, a)
    }

    fn domain_has_current_snapshot(&mut self, a: DomFlagsArgs) -> Result<IntRet> {
        let value = snapshots::has_current(self.driver, a.dom, a.flags)?;
        Ok(IntRet { value })
    }

    fn domain_snapshot_current(&mut self, a: DomFlagsArgs) -> Result<SnapRet> {
        snapshots::current(self.driver, a.dom, a.flags)
    }

    fn domain_revert_to_snapshot(&mut self, a: SnapFlagsArgs) -> Result<()> {
        snapshots::revert(self.driver, a)
    }

    fn domain_snapshot_delete(&mut self, a: SnapFlagsArgs) -> Result<()> {
        snapshots::delete(self.driver, a)
    }

    fn domain_snapshot_get_parent(&mut self, a: SnapFlagsArgs) -> Result<SnapRet> {
        snapshots::parent(self.driver, a)
    }

    fn domain_snapshot_num_children(&mut self, a: SnapFlagsArgs) -> Result<NumRet> {
        let num = snapshots::num_children(self.driver, a)?;
        Ok(NumRet { num })
    }

    fn domain_snapshot_list_children_names(
        &mut self,
        a: SnapChildNamesArgs,
    ) -> Result<ListNamesRet> {
        let names = snapshots::list_children_names(self.driver, a)?;
        Ok(ListNamesRet { names })
    }

    fn domain_snapshot_is_current(&mut self, a: SnapFlagsArgs) -> Result<IntRet> {
        let value = snapshots::is_current(self.driver, a)?;
        Ok(IntRet { value })
    }

    fn domain_snapshot_has_metadata(&mut self, a: SnapFlagsArgs) -> Result<IntRet> {
        let value = snapshots::has_metadata(self.driver, a)?;
        Ok(IntRet { value })
    }

    fn domain_list_all_snapshots(&mut self, a: SnapListAllArgs) -> Result<SnapListRet> {
        snapshots::list_all(self.driver, a)
    }

    fn domain_snapshot_list_all_children(&mut self, a: SnapChildrenArgs) -> Result<SnapListRet> {
        snapshots::list_all_children(self.driver, a)
    }

    fn domain_open_console(&mut self, a: ConsoleArgs) -> Result<()> {
        check_flags(
            a.flags,
            values::console::FORCE | values::console::SAFE,
            "virDomainOpenConsole",
        )?;
        // qvirt serves the first serial console, which libvirt names so.
        if let Some(dev) = a.dev_name.as_deref()
            && !matches!(dev, "serial0" | "console0")
        {
            return Err(no_support(format!(
                "console device '{dev}': qvirt opens the first serial console only (serial0)"
            )));
        }
        let console = self
            .driver
            .console(&a.dom.into(), a.flags & values::console::FORCE != 0)?;
        self.opened = Some(Opened::Console(console));
        Ok(())
    }

    fn domain_is_updated(&mut self, a: DomArgs) -> Result<IntRet> {
        // A definition changed while running applies at the next start;
        // qvirt does not track whether the live one differs.
        self.info(&a.dom)?;
        Ok(IntRet { value: 0 })
    }

    fn storage_vol_upload(&mut self, a: VolStreamArgs) -> Result<()> {
        let stream = storage::storage_vol_upload(self.driver, a)?;
        self.opened = Some(Opened::Volume(stream));
        Ok(())
    }

    fn storage_vol_download(&mut self, a: VolStreamArgs) -> Result<()> {
        let stream = storage::storage_vol_download(self.driver, a)?;
        self.opened = Some(Opened::Volume(stream));
        Ok(())
    }

    fn domain_screenshot(&mut self, a: ScreenshotArgs) -> Result<ScreenshotRet> {
        check_flags(a.flags, 0, "virDomainScreenshot")?;
        if a.screen != 0 {
            return Err(no_support(format!(
                "screen {}: qvirt domains have one display (screen 0)",
                a.screen
            )));
        }
        let png = self.driver.screenshot(&a.dom.into())?;
        self.stream_data = Some(png);
        Ok(ScreenshotRet {
            mime: Some("image/png".to_string()),
        })
    }

    fn domain_get_state(&mut self, a: DomFlagsArgs) -> Result<StateRet> {
        check_flags(a.flags, 0, "virDomainGetState")?;
        let i = self.info(&a.dom)?;
        Ok(StateRet {
            state: values::state_code(i.state),
            reason: values::reason_code(i.state, i.reason),
        })
    }

    fn domain_undefine_flags(&mut self, a: DomFlagsArgs) -> Result<()> {
        use values::undefine as u;
        // Checkpoints are a kind qvirt keeps none of: removing their
        // (absent) metadata or keeping it is the same.
        check_flags(
            a.flags,
            u::MANAGED_SAVE
                | u::SNAPSHOTS_METADATA
                | u::NVRAM
                | u::KEEP_NVRAM
                | u::CHECKPOINTS_METADATA
                | u::TPM
                | u::KEEP_TPM,
            "virDomainUndefineFlags",
        )?;
        let dom = Domain::from(a.dom);
        // The managed save image goes first, as libvirt removes it.
        if a.flags & u::MANAGED_SAVE != 0 && self.driver.info(&dom)?.managed_save {
            self.driver.managed_save_remove(&dom)?;
        }
        let flags = UndefineFlags {
            nvram: a.flags & u::NVRAM != 0,
            keep_nvram: a.flags & u::KEEP_NVRAM != 0,
            tpm: a.flags & u::TPM != 0,
            keep_tpm: a.flags & u::KEEP_TPM != 0,
            snapshots_metadata: a.flags & u::SNAPSHOTS_METADATA != 0,
        };
        self.driver.undefine_flags(&dom, flags)
    }

    fn domain_destroy_flags(&mut self, a: DomFlagsArgs) -> Result<()> {
        check_flags(a.flags, 0, "virDomainDestroyFlags")?;
        self.driver.destroy(&a.dom.into())
    }

    fn domain_reset(&mut self, a: DomFlagsArgs) -> Result<()> {
        check_flags(a.flags, 0, "virDomainReset")?;
        self.driver.reset(&a.dom.into())
    }

    fn connect_list_all_networks(&mut self, a: ListAllArgs) -> Result<ListNetworksRet> {
        // qvirt keeps no virtual networks (libvirt's default network is
        // QEMU's user networking, defined by no object).
        check_flags(a.flags, (1 << 6) - 1, "virConnectListAllNetworks")?;
        Ok(ListNetworksRet::default())
    }

    fn connect_get_domain_capabilities(&mut self, a: DomainCapsArgs) -> Result<DomainCapsRet> {
        check_flags(a.flags, 0, "virConnectGetDomainCapabilities")?;
        let query = DomainCapsQuery::new(
            a.emulatorbin.map(PathBuf::from),
            a.arch,
            a.machine,
            a.virttype,
        );
        Ok(DomainCapsRet {
            capabilities: self.driver.domain_capabilities(&query)?,
        })
    }

    fn domain_define_xml_flags(&mut self, a: XmlFlagsArgs) -> Result<DomRet> {
        // VIR_DOMAIN_DEFINE_VALIDATE asks for the XML to be checked
        // against the schema: qvirt's reader refuses anything it does
        // not support by name, which is at least as strict.
        check_flags(a.flags, 1, "virDomainDefineXMLFlags")?;
        Ok(DomRet {
            dom: self.driver.define_xml(&a.xml)?.into(),
        })
    }

    fn domain_inject_nmi(&mut self, a: DomFlagsArgs) -> Result<()> {
        check_flags(a.flags, 0, "virDomainInjectNMI")?;
        self.driver.inject_nmi(&Domain::from(&a.dom))
    }

    fn domain_send_key(&mut self, a: SendKeyArgs) -> Result<()> {
        check_flags(a.flags, 0, "virDomainSendKey")?;
        let codeset = KeyCodeset::from_number(a.codeset).ok_or_else(|| {
            Error::new(
                ErrorCode::NoSupport,
                format!(
                    "key code set {} is not offered: send Linux (0) or QEMU (9) key codes",
                    a.codeset
                ),
            )
        })?;
        self.driver
            .send_key(&Domain::from(&a.dom), codeset, a.holdtime, &a.keycodes)
    }

    fn domain_set_metadata(&mut self, a: SetMetadataArgs) -> Result<()> {
        // VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG.
        check_flags(a.flags, 3, "virDomainSetMetadata")?;
        let kind = values::metadata_kind(a.kind, a.uri, a.key)?;
        let flags = ModifyFlags::new(a.flags & 1 != 0, a.flags & 2 != 0);
        self.driver
            .set_metadata(&Domain::from(&a.dom), &kind, a.metadata.as_deref(), flags)
    }

    fn domain_get_metadata(&mut self, a: GetMetadataArgs) -> Result<GetMetadataRet> {
        check_flags(a.flags, 3, "virDomainGetMetadata")?;
        let kind = values::metadata_kind(a.kind, a.uri, None)?;
        let metadata = self
            .driver
            .metadata(&Domain::from(&a.dom), &kind, a.flags & 2 != 0)?
            .ok_or_else(|| {
                libvirt_error(
                    code::NO_DOMAIN_METADATA,
                    ErrorCode::InvalidArgument,
                    "metadata not found: Requested metadata element is not present",
                )
            })?;
        Ok(GetMetadataRet { metadata })
    }

    fn domain_rename(&mut self, a: RenameArgs) -> Result<RenameRet> {
        check_flags(a.flags, 0, "virDomainRename")?;
        let name = a.new_name.ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "virDomainRename needs a new name",
            )
        })?;
        self.driver.rename(&Domain::from(&a.dom), &name)?;
        Ok(RenameRet { retcode: 0 })
    }

    fn domain_get_messages(&mut self, a: DomFlagsArgs) -> Result<MessagesRet> {
        // VIR_DOMAIN_MESSAGE_DEPRECATION (2) alone asks only for
        // deprecation notes, of which qvirt records none.
        check_flags(a.flags, 3, "virDomainGetMessages")?;
        let msgs = self.driver.messages(&Domain::from(&a.dom))?;
        let tainting = a.flags == 0 || a.flags & 1 != 0;
        Ok(MessagesRet {
            msgs: if tainting { msgs } else { Vec::new() },
        })
    }

    // Memory, vCPUs and statistics: see `resources.rs` and `domstats.rs`.
    calls_in! { resources:
        domain_set_memory_flags(SetMemoryFlagsArgs) -> () = set_memory_flags;
        domain_set_memory(SetMemoryArgs) -> () = set_memory;
        domain_set_memory_stats_period(SetMemoryStatsPeriodArgs) -> () = set_memory_stats_period;
        domain_set_max_memory(SetMemoryArgs) -> () = set_max_memory;
        domain_set_vcpus_flags(SetVcpusFlagsArgs) -> () = set_vcpus_flags;
        domain_set_vcpus(SetVcpusArgs) -> () = set_vcpus;
        domain_set_vcpu(SetVcpuArgs) -> () = set_vcpu;
        domain_get_vcpus_flags(DomFlagsArgs) -> NumRet = get_vcpus_flags;
        domain_get_max_vcpus(DomArgs) -> NumRet = get_max_vcpus;
        domain_memory_stats(MemoryStatsArgs) -> MemoryStatsRet = memory_stats;
        domain_block_stats(BlockStatsArgs) -> BlockStatsRet = block_stats;
        domain_block_stats_flags(BlockStatsFlagsArgs) -> ParamsRet = block_stats_flags;
        domain_interface_stats(InterfaceStatsArgs) -> InterfaceStatsRet = interface_stats;
        domain_get_cpu_stats(CpuStatsArgs) -> ParamsRet = cpu_stats;
    }
    // `<memtune>` and `<blkiotune>`: see `tunables.rs`.
    calls_in! { tunables:
        domain_get_memory_parameters(TunableArgs) -> ParamsRet = memory_parameters;
        domain_get_blkio_parameters(TunableArgs) -> ParamsRet = blkio_parameters;
        domain_set_memory_parameters(SetTunableArgs) -> () = set_memory_parameters;
        domain_set_blkio_parameters(SetTunableArgs) -> () = set_blkio_parameters;
    }

    calls_in! { domstats:
        connect_get_all_domain_stats(AllDomainStatsArgs) -> AllDomainStatsRet = all_domain_stats;
    }

    // Secrets: see `secrets.rs`.
    calls_in! { secrets:
        connect_num_of_secrets(()) -> NumRet = num_of_secrets;
        connect_list_secrets(ListNamesArgs) -> ListNamesRet = list_secrets;
        connect_list_all_secrets(ListAllArgs) -> ListSecretsRet = list_all_secrets;
        secret_lookup_by_uuid(UuidArgs) -> SecretRet = lookup_by_uuid;
        secret_lookup_by_usage(SecretUsageArgs) -> SecretRet = lookup_by_usage;
        secret_define_xml(XmlFlagsArgs) -> SecretRet = define_xml;
        secret_get_xml_desc(SecretFlagsArgs) -> XmlRet = get_xml_desc;
        secret_set_value(SecretSetValueArgs) -> () = set_value;
        secret_get_value(SecretFlagsArgs) -> SecretValueRet = get_value;
        secret_undefine(SecretArgs) -> () = undefine;
    }

    // Where vCPUs run, and the host's CPUs: see `vcpus.rs`.
    calls_in! { vcpus:
        domain_get_vcpus(VcpusArgs) -> VcpusRet = get_vcpus;
        domain_get_vcpu_pin_info(VcpuPinInfoArgs) -> VcpuPinInfoRet = get_vcpu_pin_info;
        domain_get_emulator_pin_info(EmulatorPinInfoArgs) -> EmulatorPinInfoRet = get_emulator_pin_info;
    }

    fn node_get_cpu_map(&mut self, a: CpuMapArgs) -> Result<CpuMapRet> {
        vcpus::node_get_cpu_map(a)
    }

    fn node_get_free_memory(&mut self, (): ()) -> Result<FreeMemoryRet> {
        vcpus::node_get_free_memory()
    }

    fn node_get_cpu_stats(&mut self, a: NodeCpuStatsArgs) -> Result<NodeStatsRet> {
        nodestats::cpu_stats(a)
    }

    fn node_get_memory_stats(&mut self, a: NodeMemoryStatsArgs) -> Result<NodeStatsRet> {
        nodestats::memory_stats(a)
    }

    // Host facts and absent objects: see `hostfacts.rs` and `absent.rs`.
    free_calls! {
        connect_get_max_vcpus(MaxVcpusArgs) -> MaxVcpusRet = hostfacts::max_vcpus;
        node_get_cells_free_memory(CellsFreeMemoryArgs) -> CellsFreeMemoryRet = hostfacts::cells_free_memory;
        node_get_free_pages(FreePagesArgs) -> FreePagesRet = hostfacts::node_free_pages;
        node_get_memory_parameters(NodeMemoryParamsArgs) -> ParamsRet = hostfacts::memory_parameters;
        connect_num_of_networks(()) -> NumRet = absent::num_of_networks;
        connect_num_of_defined_networks(()) -> NumRet = absent::num_of_networks;
        connect_list_networks(ListNamesArgs) -> ListNamesRet = absent::list_networks;
        connect_list_defined_networks(ListNamesArgs) -> ListNamesRet = absent::list_networks;
        network_lookup_by_name(NameArgs) -> NetworkRet = absent::network_by_name;
        network_lookup_by_uuid(UuidArgs) -> NetworkRet = absent::network_by_uuid;
    }
    calls_in! { absent:
        domain_get_security_label(DomArgs) -> SecurityLabelRet = security_label;
        domain_get_security_label_list(DomArgs) -> SecurityLabelListRet = security_label_list;
        domain_list_all_checkpoints(ListCheckpointsArgs) -> ListCheckpointsRet = list_checkpoints;
        domain_checkpoint_lookup_by_name(CheckpointLookupArgs) -> CheckpointRet = checkpoint_by_name;
    }
    calls_in! { domparams:
        domain_get_numa_parameters(TunableArgs) -> ParamsRet = numa_parameters;
        domain_get_interface_parameters(InterfaceParamsArgs) -> ParamsRet = interface_parameters;
        domain_get_perf_events(DomParamsArgs) -> DomParamsRet = perf_events;
        domain_get_launch_security_info(DomParamsArgs) -> DomParamsRet = launch_security_info;
    }
    calls_in! { hostcaps:
        connect_get_cpu_model_names(CpuModelNamesArgs) -> CpuModelNamesRet = cpu_model_names;
        connect_domain_xml_to_native(XmlToNativeArgs) -> XmlToNativeRet = xml_to_native;
        node_get_sev_info(SevInfoArgs) -> SevInfoRet = sev_info;
    }
    free_calls! {
        connect_get_storage_pool_capabilities(PoolCapsArgs) -> PoolCapsRet = hostcaps::pool_capabilities;
        connect_get_sysinfo(SysinfoArgs) -> SysinfoRet = super::sysinfo::get_sysinfo;
    }
    calls_in! { guestpm:
        domain_fstrim(FsTrimArgs) -> () = fs_trim;
        domain_get_guest_vcpus(DomFlagsArgs) -> GuestVcpusRet = get_guest_vcpus;
        domain_set_guest_vcpus(SetGuestVcpusArgs) -> () = set_guest_vcpus;
        domain_pm_suspend_for_duration(PmSuspendArgs) -> () = pm_suspend;
        domain_pm_wakeup(DomFlagsArgs) -> () = pm_wakeup;
    }
    // What the guest agent answers: see `agent.rs`.
    calls_in! { agent:
        domain_reboot(DomFlagsArgs) -> () = reboot;
        domain_shutdown_flags(DomFlagsArgs) -> () = shutdown_flags;
        domain_get_hostname(DomFlagsArgs) -> HostnameRet = get_hostname;
        domain_get_time(DomFlagsArgs) -> TimeRet = get_time;
        domain_set_time(SetTimeArgs) -> () = set_time;
        domain_fsfreeze(FsFreezeArgs) -> FsCountRet = fs_freeze;
        domain_fsthaw(FsFreezeArgs) -> FsCountRet = fs_thaw;
        domain_get_guest_info(GuestInfoArgs) -> GuestInfoRet = guest_info;
        domain_get_fsinfo(DomFlagsArgs) -> FsInfoRet = fs_info;
        domain_set_user_password(SetUserPasswordArgs) -> () = set_user_password;
        domain_authorized_ssh_keys_get(SshKeysGetArgs) -> SshKeysRet = ssh_keys_get;
        domain_authorized_ssh_keys_set(SshKeysSetArgs) -> () = ssh_keys_set;
        domain_agent_set_response_timeout(AgentTimeoutArgs) -> AgentTimeoutRet = set_response_timeout;
    }
    calls_in! { drives:
        domain_get_block_io_tune(BlockIoTuneArgs) -> ParamsRet = block_io_tune;
        domain_set_block_io_tune(SetBlockIoTuneArgs) -> () = set_block_io_tune;
        domain_get_disk_errors(DiskErrorsArgs) -> DiskErrorsRet = disk_errors;
        domain_block_resize(BlockResizeArgs) -> () = block_resize;
        domain_set_block_threshold(SetBlockThresholdArgs) -> () = set_block_threshold;
    }
    calls_in! { iftune:
        domain_set_interface_parameters(SetIfParamsArgs) -> () = set;
    }
    calls_in! { coredump:
        domain_core_dump(CoreDumpArgs) -> () = core_dump;
        domain_core_dump_with_format(CoreDumpFormatArgs) -> () = core_dump_with_format;
    }
    calls_in! { threads:
        domain_get_iothread_info(IoThreadInfoArgs) -> IoThreadInfoRet = get_iothread_info;
        domain_add_iothread(IoThreadIdArgs) -> () = add_iothread;
        domain_del_iothread(IoThreadIdArgs) -> () = del_iothread;
        domain_pin_iothread(PinIoThreadArgs) -> () = pin_iothread;
        domain_set_iothread_params(SetIoThreadParamsArgs) -> () = set_iothread_params;
    }
    calls_in! { lifecycle:
        domain_set_lifecycle_action(SetLifecycleActionArgs) -> () = set_lifecycle_action;
    }
    calls_in! { devalias:
        domain_detach_device_alias(DetachAliasArgs) -> () = detach_device_alias;
    }
    calls_in! { dirtyrate:
        domain_start_dirty_rate_calc(DirtyRateCalcArgs) -> () = start_dirty_rate_calc;
    }
    calls_in! { saveparams:
        domain_save_flags(SaveFlagsArgs) -> () = save_flags;
        domain_restore_flags(RestoreFlagsArgs) -> () = restore_flags;
        domain_managed_save(DomFlagsArgs) -> () = managed_save;
        domain_save_params(SaveParamsArgs) -> () = save_params;
        domain_restore_params(RestoreParamsArgs) -> () = restore_params;
        domain_abort_job_flags(DomFlagsArgs) -> () = abort_job_flags;
    }
    calls_in! { saveimage:
        domain_save_image_get_xml_desc(SaveImageXmlArgs) -> XmlRet = save_image_xml;
        domain_save_image_define_xml(SaveImageDefineArgs) -> () = save_image_define;
        domain_managed_save_get_xml_desc(DomFlagsArgs) -> XmlRet = managed_save_xml;
        domain_managed_save_define_xml(ManagedSaveDefineArgs) -> () = managed_save_define;
    }
    calls_in! { sched:
        domain_get_scheduler_type(DomArgs) -> SchedTypeRet = scheduler_type;
        domain_get_scheduler_parameters(SchedParamsArgs) -> SchedParamsRet = parameters;
        domain_get_scheduler_parameters_flags(SchedParamsFlagsArgs) -> SchedParamsRet = parameters_flags;
        domain_set_scheduler_parameters(SetSchedArgs) -> () = set_parameters;
        domain_set_scheduler_parameters_flags(SetSchedFlagsArgs) -> () = set_parameters_flags;
    }
    calls_in! { domlist:
        connect_list_all_domains(ListAllArgs) -> ListAllRet = list_all;
        domain_interface_addresses(IfAddrArgs) -> IfAddrRet = interface_addresses;
    }
    calls_in! { peek:
        domain_block_peek(BlockPeekArgs) -> PeekRet = block_peek;
        domain_memory_peek(MemoryPeekArgs) -> PeekRet = memory_peek;
    }
    calls_in! { migspeed:
        domain_migrate_set_max_speed(SetMaxSpeedArgs) -> () = set_max_speed;
        domain_migrate_get_max_speed(MaxSpeedArgs) -> MaxSpeedRet = get_max_speed;
    }
    calls_in! { numatune:
        domain_set_numa_parameters(SetNumaArgs) -> () = set;
    }
    calls_in! { pins:
        domain_pin_vcpu(PinVcpuArgs) -> () = pin_vcpu;
        domain_pin_vcpu_flags(PinVcpuFlagsArgs) -> () = pin_vcpu_flags;
        domain_pin_emulator(PinEmulatorArgs) -> () = pin_emulator;
    }
    opening_calls_in! { migrate:
        domain_migrate_perform3_params(Perform3ParamsArgs) -> Perform3ParamsRet = perform;
        domain_migrate_prepare3_params(Prepare3ParamsArgs) -> Prepare3ParamsRet = prepare;
        domain_migrate_confirm3_params(Confirm3ParamsArgs) -> () = confirm;
    }
    calls_in! { migrate:
        domain_migrate_begin3_params(Begin3ParamsArgs) -> Begin3ParamsRet = begin;
        domain_migrate_finish3_params(Finish3ParamsArgs) -> Finish3ParamsRet = finish;
    }
    calls_in! { migparams:
        domain_migrate_set_max_downtime(SetMaxDowntimeArgs) -> () = set_max_downtime;
        domain_migrate_get_max_downtime(MaxDowntimeArgs) -> MaxDowntimeRet = get_max_downtime;
        domain_migrate_get_compression_cache(CompressionCacheArgs) -> CompressionCacheRet = get_compression_cache;
        domain_migrate_set_compression_cache(SetCompressionCacheArgs) -> () = set_compression_cache;
        domain_migrate_start_post_copy(StartPostCopyArgs) -> () = start_post_copy;
    }

    // Storage pools and volumes: see `storage.rs`.
    storage_calls! {
        connect_num_of_storage_pools(()) -> NumRet;
        connect_list_storage_pools(ListNamesArgs) -> ListNamesRet;
        connect_num_of_defined_storage_pools(()) -> NumRet;
        connect_list_defined_storage_pools(ListNamesArgs) -> ListNamesRet;
        connect_list_all_storage_pools(ListAllArgs) -> ListPoolsRet;
        storage_pool_create_xml(XmlFlagsArgs) -> PoolRet;
        storage_pool_define_xml(XmlFlagsArgs) -> PoolRet;
        storage_pool_create(PoolFlagsArgs) -> ();
        storage_pool_build(PoolFlagsArgs) -> ();
        storage_pool_destroy(PoolArgs) -> ();
        storage_pool_undefine(PoolArgs) -> ();
        storage_pool_refresh(PoolFlagsArgs) -> ();
        storage_pool_lookup_by_name(NameArgs) -> PoolRet;
        storage_pool_lookup_by_uuid(UuidArgs) -> PoolRet;
        storage_pool_lookup_by_volume(VolArgs) -> PoolRet;
        storage_pool_get_info(PoolArgs) -> PoolInfoRet;
        storage_pool_get_xml_desc(PoolFlagsArgs) -> XmlRet;
        storage_pool_get_autostart(PoolArgs) -> IntRet;
        storage_pool_set_autostart(PoolSetAutostartArgs) -> ();
        storage_pool_num_of_volumes(PoolArgs) -> NumRet;
        storage_pool_list_volumes(PoolListVolumesArgs) -> ListNamesRet;
        storage_pool_list_all_volumes(PoolListAllVolumesArgs) -> ListVolsRet;
        storage_pool_is_active(PoolArgs) -> IntRet;
        storage_pool_is_persistent(PoolArgs) -> IntRet;
        storage_vol_create_xml(VolCreateArgs) -> VolRet;
        storage_vol_create_xml_from(VolCreateFromArgs) -> VolRet;
        storage_vol_delete(VolFlagsArgs) -> ();
        storage_vol_lookup_by_name(VolLookupByNameArgs) -> VolRet;
        storage_vol_lookup_by_key(KeyArgs) -> VolRet;
        storage_vol_lookup_by_path(PathArgs) -> VolRet;
        storage_vol_get_info(VolArgs) -> VolInfoRet;
        storage_vol_get_info_flags(VolFlagsArgs) -> VolInfoRet;
        storage_vol_get_xml_desc(VolFlagsArgs) -> XmlRet;
        storage_vol_get_path(VolArgs) -> VolPathRet;
        storage_vol_resize(VolResizeArgs) -> ();
    }
}

/// `VIR_DOMAIN_AFFECT_LIVE` and `VIR_DOMAIN_AFFECT_CONFIG` (neither:
/// `VIR_DOMAIN_AFFECT_CURRENT`) as qvirt's flags.
fn affect(flags: u32, function: &str) -> Result<ModifyFlags> {
    check_flags(flags, 3, function)?;
    Ok(ModifyFlags::new(flags & 1 != 0, flags & 2 != 0))
}
