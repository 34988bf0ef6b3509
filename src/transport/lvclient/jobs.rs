//! A domain's jobs and its removable media as libvirt's calls: virsh's
//! `domjobinfo [--completed]` is `virDomainGetJobStats` (read back by the
//! table the server writes with, [`jobstats`]), and `change-media` reads
//! the domain's XML, checks the drive as qvirt does
//! ([`MediaChange::drive_in`]), and sends the drive's `<disk>` with its
//! medium changed to `virDomainUpdateDeviceFlags`.

use super::conn::Conn;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{CompletedJob, Domain, DomainState, JobInfo, MediaChange, MediaFlags};
use crate::model::DomainDef;
use crate::transport::libvirt::jobstats::{self, JobStatsArgs};
use crate::transport::libvirt::procedures::Caller;
use crate::transport::libvirt::types::{DeviceArgs, Dom, DomFlagsArgs};
use crate::transport::libvirt::values::{affect, state_of, xml};

/// [`crate::Driver::job_info`].
pub(super) fn job_info(conn: &Conn, d: &Domain) -> Result<Option<JobInfo>> {
    let ret = conn.domain_get_job_stats(JobStatsArgs {
        dom: Dom::from(d),
        flags: 0,
    })?;
    jobstats::running_of(&ret)
}

/// [`crate::Driver::job_completed`].
pub(super) fn job_completed(conn: &Conn, d: &Domain) -> Result<Option<CompletedJob>> {
    let ret = conn.domain_get_job_stats(JobStatsArgs {
        dom: Dom::from(d),
        flags: jobstats::STATS_COMPLETED,
    })?;
    jobstats::completed_of(&ret)
}

/// [`crate::Driver::change_media`], as virsh's `change-media` does it.
pub(super) fn change_media(
    conn: &Conn,
    d: &Domain,
    target: &str,
    change: MediaChange,
    f: MediaFlags,
) -> Result<()> {
    let running = {
        let s = conn.domain_get_state(DomFlagsArgs {
            dom: Dom::from(d),
            flags: 0,
        })?;
        state_of(s.state) != DomainState::Shutoff
    };
    // The definition the change is made to: the running one unless only
    // the persistent one is asked for (or the domain is shut off).
    let inactive = !f.live && (f.config || !running);
    let bits = if inactive { xml::INACTIVE } else { 0 };
    let text = conn
        .domain_get_xml_desc(DomFlagsArgs {
            dom: Dom::from(d),
            flags: bits,
        })?
        .xml;
    let def = DomainDef::from_xml(&text).map_err(Error::from)?;
    let which = if inactive {
        "persistent definition"
    } else {
        "running domain"
    };
    let index = change.drive_in(&def, target, which)?;
    let mut disk = def.devices.disks[index].clone();
    disk.source = match change {
        MediaChange::Eject => None,
        MediaChange::Insert(p) | MediaChange::Update(p) => {
            let p = std::path::absolute(&p)
                .map_err(|e| Error::io(format!("cannot resolve {}", p.display()), e))?;
            Some(p.to_str().map(str::to_string).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("the medium path {} is not UTF-8", p.display()),
                )
            })?)
        }
    };
    // As virsh without --force: qvirtd opens the tray by force anyway.
    let mut flags = 0;
    if f.live {
        flags |= affect::LIVE;
    }
    if f.config {
        flags |= affect::CONFIG;
    }
    conn.domain_update_device_flags(DeviceArgs {
        dom: Dom::from(d),
        xml: disk.to_xml(),
        flags,
    })
}

/// [`crate::Driver::core_dump`]: `virDomainCoreDumpWithFormat`.
pub(super) fn core_dump(
    c: &Conn,
    dom: &Domain,
    path: &std::path::Path,
    options: crate::driver::DumpOptions,
) -> Result<()> {
    use crate::transport::libvirt::coredump::{CoreDumpFormatArgs, flags_of, format_number};
    c.domain_core_dump_with_format(CoreDumpFormatArgs {
        dom: Dom::from(dom),
        to: path.display().to_string(),
        dumpformat: format_number(options.format),
        flags: flags_of(&options),
    })
}
