//! `update_device` (virsh `update-device`, `domif-setlink`,
//! `change-media`, and `domiftune` through it): a device changed in
//! place, as libvirt's qemuDomainUpdateDeviceLive /
//! qemuDomainUpdateDeviceConfig do it for what qvirt can change: a cdrom
//! or floppy's medium, an interface's link state and bandwidth (its tap
//! shaped again with `tc`), a display's password and its expiry, a
//! virtio-mem device's requested size (`virtio_mem`). Every other change of the
//! element is refused naming what would change, so that nothing is
//! silently dropped; settings the element leaves out are the device's
//! own, as libvirt reads an update.

use std::path::PathBuf;

use serde_json::json;

use super::driver::{Core, LocalDriver};
use super::plug_xml::{Device, Named, find_interface, named, read_element};
use super::tuning::{protocol_name as kind_name, set_display_password};
use crate::driver::{Domain, DomainState, Driver, MediaChange, MediaFlags, ModifyFlags, XmlFlags};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Disk, DomainDef, Graphics, GraphicsListen, Interface, InterfaceType};
use crate::qemu::qmp::QMP_TIMEOUT;

/// [`crate::Driver::update_device`].
pub(super) fn update_device(
    d: &LocalDriver,
    dom: &Domain,
    xml: &str,
    flags: ModifyFlags,
) -> Result<()> {
    let el = read_element(xml)?;
    if el.name == "graphics" {
        let g = el.devices.graphics.into_iter().next().ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidXml,
                "the device XML must hold exactly one <graphics>",
            )
        })?;
        return d.core.update_graphics(dom, &g, flags);
    }
    if el.name == "memory"
        && let Some(m) = el.devices.memories.first()
    {
        return d.core.update_memory(dom, m, flags);
    }
    match named(el)? {
        Named::Hot(dev) => match *dev {
            Device::Disk(disk) => update_disk(d, dom, disk, flags),
            Device::Interface { net, mac_given } => {
                d.core.update_interface(dom, &net, mac_given, flags)
            }
        },
        Named::Cold(c) => Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "updating device '{}' is not supported: qvirt changes a <disk>'s medium, an <interface>'s link state and bandwidth, a <graphics>'s password and a virtio-mem <memory>'s requested size",
                c.type_name()
            ),
        )),
    }
}

/// A cdrom or floppy's medium, through [`crate::Driver::change_media`].
fn update_disk(d: &LocalDriver, dom: &Domain, new: Disk, flags: ModifyFlags) -> Result<()> {
    let running = d.info(dom)?.state != DomainState::Shutoff;
    // The definition the change is checked against: the running one
    // unless only the persistent one changes.
    let inactive = !flags.live && (flags.config || !running);
    let current = DomainDef::from_xml(&d.xml_desc(dom, XmlFlags::inactive_if(inactive))?)
        .map_err(Error::from)?;
    let Some(cur) = current
        .devices
        .disks
        .iter()
        .find(|x| x.target == new.target)
    else {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "domain '{}' has no disk with target '{}'",
                dom.name, new.target
            ),
        ));
    };
    if let Some(what) = other_disk_change(&new, cur) {
        return Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "the update of disk '{}' changes its {what}: qvirt changes only the medium of a cdrom or floppy drive",
                new.target
            ),
        ));
    }
    let change = match new.source {
        None => MediaChange::Eject,
        Some(p) => MediaChange::Update(PathBuf::from(p)),
    };
    d.change_media(
        dom,
        &new.target,
        change,
        MediaFlags::new(flags.live, flags.config),
    )
}

/// Takes `cur`'s value for what `new` leaves out.
fn keep<T: Clone>(new: &mut Option<T>, cur: &Option<T>) {
    if new.is_none() {
        new.clone_from(cur);
    }
}

/// What in `new` differs from `current` beyond the medium; `None` when
/// only the medium does. The comparison is of the whole disk, so a
/// setting this function does not name still counts.
fn other_disk_change(new: &Disk, current: &Disk) -> Option<&'static str> {
    let mut merged = new.clone();
    keep(&mut merged.format, &current.format);
    keep(&mut merged.bus, &current.bus);
    keep(&mut merged.removable, &current.removable);
    keep(&mut merged.serial, &current.serial);
    keep(&mut merged.boot_order, &current.boot_order);
    keep(&mut merged.address, &current.address);
    keep(&mut merged.alias, &current.alias);
    keep(&mut merged.driver.cache, &current.driver.cache);
    keep(&mut merged.driver.io, &current.driver.io);
    keep(&mut merged.driver.discard, &current.driver.discard);
    keep(
        &mut merged.driver.detect_zeroes,
        &current.driver.detect_zeroes,
    );
    // A cdrom is read-only whether the element says so or not.
    if merged.readonly != current.readonly && !merged.readonly {
        merged.readonly = current.readonly;
    }
    merged.source.clone_from(&current.source);
    if merged == *current {
        return None;
    }
    Some(if merged.device != current.device {
        "device"
    } else if merged.kind != current.kind {
        "type"
    } else if merged.format != current.format {
        "driver type"
    } else if merged.driver != current.driver {
        "driver options"
    } else if merged.bus != current.bus {
        "target bus"
    } else if merged.readonly != current.readonly {
        "readonly"
    } else if merged.shareable != current.shareable {
        "shareable"
    } else if merged.address != current.address {
        "address"
    } else {
        "other settings"
    })
}

/// Refuses an interface update that changes more than the link state, the
/// bandwidth and a kernel bridge's name (libvirt's qemuDomainChangeNet
/// changes more; qvirt names what it would have to drop).
fn check_interface_update(new: &Interface, cur: &Interface) -> Result<()> {
    let mut merged = new.clone();
    if new_bridge(cur, new).is_some() {
        merged.kind = cur.kind.clone();
    }
    keep(&mut merged.model, &cur.model);
    keep(&mut merged.target_dev, &cur.target_dev);
    keep(&mut merged.address, &cur.address);
    keep(&mut merged.alias, &cur.alias);
    merged.link_up = cur.link_up;
    merged.bandwidth = cur.bandwidth;
    if merged == *cur {
        return Ok(());
    }
    let what = if merged.kind != cur.kind {
        "type or source"
    } else if merged.model != cur.model {
        "model"
    } else if merged.address != cur.address {
        "address"
    } else if merged.filterref != cur.filterref {
        "filterref"
    } else {
        "settings"
    };
    Err(Error::new(
        ErrorCode::NoSupport,
        format!(
            "the update of interface {} changes its {what}: qvirt changes only the link state, the bandwidth and the bridge of an interface",
            cur.mac
        ),
    ))
}

/// The bridge `new` moves interface `cur` to, where both are bridged
/// interfaces, the bridges differ, and the Open vSwitch port (if any) is
/// the same.
fn new_bridge<'a>(cur: &Interface, new: &'a Interface) -> Option<&'a str> {
    match (&cur.kind, &new.kind) {
        (InterfaceType::Bridge(old), InterfaceType::Bridge(to))
            if old != to && cur.virtualport == new.virtualport =>
        {
            Some(to)
        }
        _ => None,
    }
}

/// Moves the tap of running interface `cur` of domain `dom` into bridge
/// `to` (libvirt's qemuDomainChangeNetBridge): a kernel bridge's port
/// by the bridge ioctls, an Open vSwitch port with its ids and VLANs.
fn move_to_bridge(dom: &Domain, cur: &Interface, to: &str) -> Result<()> {
    let (InterfaceType::Bridge(old), Some(tap)) = (&cur.kind, cur.target_dev.as_deref()) else {
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!("Missing bridge name or tap of interface {}", cur.mac),
        ));
    };
    let Some(port) = &cur.virtualport else {
        return crate::sys::hostnet::move_tap(tap, old, to, cur.tap.isolated == Some(true));
    };
    let id = port
        .interface_id
        .unwrap_or_default()
        .hyphenated()
        .to_string();
    let vm = dom.uuid.hyphenated().to_string();
    crate::sys::ovs::add_port(&dom.name, to, tap, cur.mac, port, &id, &vm).map_err(|e| {
        // Back on the bridge it was on.
        if crate::sys::ovs::add_port(&dom.name, old, tap, cur.mac, port, &id, &vm).is_err() {
            return Error::new(
                e.code,
                format!(
                    "{}; unable to recover former state by adding port to bridge {old}",
                    e.message
                ),
            );
        }
        e
    })
}

/// Shapes the host device of running interface `cur` as `new` asks, as
/// libvirt's virDomainSetInterfaceParameters does it live: only a tap or
/// macvtap qvirt made can be shaped.
fn reshape(cur: &Interface, new: &Interface) -> Result<()> {
    let dev = cur
        .target_dev
        .as_deref()
        .filter(|_| cur.kind.has_host_tap())
        .ok_or_else(|| {
            Error::new(
                ErrorCode::ConfigUnsupported,
                format!(
                    "setting bandwidth on interfaces of type '{}' is not implemented yet",
                    cur.kind.type_name()
                ),
            )
        })?;
    let host_view = matches!(cur.kind, crate::model::InterfaceType::Direct { .. });
    crate::sys::hostnet::shaping::reshape(
        dev,
        new.bandwidth.as_ref(),
        cur.bandwidth.as_ref(),
        host_view,
    )
}

/// Refuses a display update that changes more than the password, its
/// expiry and `connected`.
fn check_password_only(new: &Graphics, cur: &Graphics) -> Result<()> {
    let mut merged = new.clone();
    keep(&mut merged.port, &cur.port);
    keep(&mut merged.tls_port, &cur.tls_port);
    keep(&mut merged.autoport, &cur.autoport);
    keep(&mut merged.listen, &cur.listen);
    keep(&mut merged.keymap, &cur.keymap);
    keep(&mut merged.default_mode, &cur.default_mode);
    keep(&mut merged.share_policy, &cur.share_policy);
    keep(&mut merged.websocket, &cur.websocket);
    keep(&mut merged.power_control, &cur.power_control);
    keep(&mut merged.audio, &cur.audio);
    if merged.listens.is_empty() {
        merged.listens.clone_from(&cur.listens);
    }
    // A socket without a path is the one the start chose.
    for (listen, now) in merged.listens.iter_mut().zip(&cur.listens) {
        if let (GraphicsListen::Socket(path @ None), GraphicsListen::Socket(chosen)) = (listen, now)
        {
            path.clone_from(chosen);
        }
    }
    merged.passwd.clone_from(&cur.passwd);
    merged.passwd_valid_to = cur.passwd_valid_to;
    merged.connected = cur.connected;
    if merged == *cur {
        return Ok(());
    }
    let what = if merged.port != cur.port || merged.autoport != cur.autoport {
        "port settings"
    } else if merged.listen != cur.listen || merged.listens != cur.listens {
        "listen address setting"
    } else if merged.keymap != cur.keymap {
        "keymap setting"
    } else {
        "settings"
    };
    Err(Error::new(
        ErrorCode::NoSupport,
        format!(
            "cannot change {what} on {} graphics: qvirt changes only the password and its expiry",
            kind_name(cur.kind)
        ),
    ))
}

/// The display of `def` an update of `new` changes.
fn find_graphics(def: &DomainDef, new: &Graphics, which: &str) -> Result<usize> {
    def.devices
        .graphics
        .iter()
        .position(|g| g.kind == new.kind)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "cannot find existing graphics device to modify: domain '{}' has no {} display in its {which}",
                    def.name,
                    kind_name(new.kind)
                ),
            )
        })
}

impl Core {
    /// Runs `check` on the running domain's definition (given its run)
    /// and, when `config`, on the persistent one: every check of an
    /// update comes before anything changes.
    fn check_targets(
        &self,
        dom: &Domain,
        run: Option<&super::runtime::Running>,
        config: bool,
        check: &dyn Fn(&DomainDef, &str) -> Result<usize>,
    ) -> Result<()> {
        if let Some(run) = run {
            check(&run.live_def(), "running domain")?;
        }
        if config {
            self.with_entry(dom, |e| match &e.persistent {
                Some(def) => check(def, "persistent definition").map(drop),
                None => Ok(()),
            })?;
        }
        Ok(())
    }

    /// An interface's link state (QEMU's `set_link`), bandwidth (its tap
    /// shaped) and bridge (its tap moved), live and in the definition.
    fn update_interface(
        &self,
        dom: &Domain,
        net: &Interface,
        mac_given: bool,
        flags: ModifyFlags,
    ) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let (run, config) = self.targets(dom, flags, "update an interface of")?;
        let check = |def: &DomainDef, which: &str| -> Result<usize> {
            let i = find_interface(def, net, mac_given, which)?;
            check_interface_update(net, &def.devices.interfaces[i])?;
            Ok(i)
        };
        self.check_targets(dom, run.as_deref(), config, &check)?;
        if let Some(run) = &run {
            let live = run.live_def();
            let i = check(&live, "running domain")?;
            let cur = &live.devices.interfaces[i];
            if net.bandwidth != cur.bandwidth {
                reshape(cur, net)?;
            }
            let moved = new_bridge(cur, net);
            if let Some(to) = moved
                && let Err(e) = move_to_bridge(dom, cur, to)
            {
                if net.bandwidth != cur.bandwidth {
                    let _ = reshape(cur, cur);
                }
                return Err(e);
            }
            let id = crate::qemu::argv::nic_id(cur, run.nic_ids()[i]);
            let link = run.qmp().and_then(|q| {
                q.execute(
                    "set_link",
                    Some(json!({"name": id, "up": net.link_up != Some(false)})),
                    QMP_TIMEOUT,
                )
            });
            if let Err(e) = link {
                // The device's own bandwidth and bridge again.
                if net.bandwidth != cur.bandwidth {
                    let _ = reshape(cur, cur);
                }
                if let (Some(to), InterfaceType::Bridge(old)) = (moved, &cur.kind) {
                    let mut there = cur.clone();
                    there.kind = InterfaceType::Bridge(to.to_string());
                    let _ = move_to_bridge(dom, &there, old);
                }
                return Err(e);
            }
            run.update_plugged(|p| {
                p.interfaces[i].link_up = net.link_up;
                p.interfaces[i].bandwidth = net.bandwidth;
                if let Some(to) = moved {
                    p.interfaces[i].kind = InterfaceType::Bridge(to.to_string());
                }
            });
            self.save_status(dom.uuid, run);
        }
        if config {
            self.edit_config(dom, &|def, which| {
                let i = check(def, which)?;
                let cur = &mut def.devices.interfaces[i];
                if let Some(to) = new_bridge(cur, net) {
                    cur.kind = InterfaceType::Bridge(to.to_string());
                }
                cur.link_up = net.link_up;
                cur.bandwidth = net.bandwidth;
                Ok(())
            })?;
        }
        self.log.info(&format!(
            "domain '{}': interface {} updated: link {}, bandwidth {}",
            dom.name,
            net.mac,
            if net.link_up == Some(false) {
                "down"
            } else {
                "up"
            },
            if net.bandwidth.is_some() {
                "set"
            } else {
                "none"
            }
        ));
        Ok(())
    }

    /// A display's password and its expiry, live (QEMU's `set_password`
    /// and `expire_password`) and in the definition.
    fn update_graphics(&self, dom: &Domain, new: &Graphics, flags: ModifyFlags) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let (run, config) = self.targets(dom, flags, "update the display of")?;
        let check = |def: &DomainDef, which: &str| -> Result<usize> {
            let i = find_graphics(def, new, which)?;
            check_password_only(new, &def.devices.graphics[i])?;
            Ok(i)
        };
        self.check_targets(dom, run.as_deref(), config, &check)?;
        if let Some(run) = &run {
            // As libvirt: a password left out is cleared.
            set_display_password(run.qmp()?, new)?;
            crate::sys::sync::lock(&run.live).graphics_passwd = Some(new.clone());
            self.save_status(dom.uuid, run);
        }
        if config {
            self.edit_config(dom, &|def, which| {
                let i = check(def, which)?;
                let g = &mut def.devices.graphics[i];
                g.passwd.clone_from(&new.passwd);
                g.passwd_valid_to = new.passwd_valid_to;
                g.connected = new.connected;
                Ok(())
            })?;
        }
        self.log.info(&format!(
            "domain '{}': the {} password changed",
            dom.name,
            kind_name(new.kind)
        ));
        Ok(())
    }
}
