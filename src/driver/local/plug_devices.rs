//! Live hot-plug of `<watchdog>`, `<input>` and SCSI `<controller>`
//! devices, as libvirt's qemuDomainAttachWatchdog,
//! qemuDomainAttachInputDevice and qemuDomainAttachControllerDevice (and
//! their detach): devices without a backend, made exactly as a start
//! makes them (`device_add`), an i6300esb watchdog, a virtio input or a
//! SCSI host adapter on a free hot-pluggable PCI slot, a USB input on
//! the first free USB port. A watchdog's action becomes QEMU's
//! (`set-action`) before the device is added. Out again by `device_del`,
//! with the guest's consent; a SCSI controller only once no disk sits on
//! it. A SCSI disk plugged in for a controller the domain does not have
//! brings it along, as libvirt's qemuDomainFindOrCreateSCSIDiskController.
//!
//! A start numbers the inputs' QEMU ids in order (`input0`, ..., the
//! PS/2 ones too); after an unplug in the middle that order no longer
//! holds, so each input's number is kept with the run (and in the status
//! file), as the rngs' are. A domain has one watchdog at most (libvirt
//! 9.0's rule), so its id is always `watchdog0`.

use super::driver::{Core, emulator_of};
use super::hotplug::{Found, add_to_qemu, attach_failed, hot_pluggable_slot, renumber};
use super::numbered::Numbered;
use super::runtime::Running;
use crate::driver::Domain;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    Controller, ControllerType, DomainDef, Input, InputBus, Watchdog, WatchdogAction, WatchdogModel,
};
use crate::qemu::argv::{
    PluggedDevice, device_args, input_id, scsi_controller_id, scsi_controllers_used, watchdog_id,
};
use crate::qemu::qmp::QMP_TIMEOUT;

impl Core {
    /// Plugs `watchdog` into the running domain `run`: refused by name
    /// when the domain has a watchdog already or the model is not one
    /// QEMU plugs in (only the PCI i6300esb).
    pub(crate) fn plug_watchdog(&self, dom: &Domain, run: &Running, w: &Watchdog) -> Result<()> {
        let live = run.live_def();
        if !live.devices.watchdogs.is_empty() {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                "domain already has a watchdog",
            ));
        }
        if w.model != WatchdogModel::I6300esb {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!(
                    "hotplug of watchdog of model {} is not supported",
                    w.model.as_str()
                ),
            ));
        }
        let what = format!("{} watchdog", w.model.as_str());
        let mut new = live.clone();
        new.devices.watchdogs.push(w.clone());
        let index = new.devices.watchdogs.len() - 1;
        let caps = self.caps(&emulator_of(&live))?;
        let addressed = hot_pluggable_slot(&live, &new, &caps, &what, true)?;
        let qmp = run.qmp()?;
        let result = (|| -> Result<()> {
            let paths = super::hotplug::plug_paths(run);
            let args = device_args(&addressed, &caps, &paths, PluggedDevice::Watchdog(index))?;
            // QEMU has no dump: it pauses, and the driver dumps on its
            // WATCHDOG event, as at a start.
            let action = match w.action.unwrap_or(WatchdogAction::Reset) {
                WatchdogAction::Dump => "pause",
                other => other.as_str(),
            };
            qmp.execute(
                "set-action",
                Some(serde_json::json!({ "watchdog": action })),
                QMP_TIMEOUT,
            )?;
            add_to_qemu(qmp, &args)
        })();
        result.map_err(|e| attach_failed(dom, &what, e))?;
        run.update_plugged(|p| p.watchdogs.push(addressed.devices.watchdogs[index].clone()));
        self.plugged_in(dom, run, watchdog_id(index));
        Ok(())
    }

    /// Unplugs the watchdog `w` names (its model, action and address
    /// when given, as libvirt's qemuDomainDetachPrepWatchdog) from the
    /// running domain; only an i6300esb leaves a running machine.
    pub(crate) fn unplug_watchdog(&self, dom: &Domain, run: &Running, w: &Watchdog) -> Result<()> {
        let index = live_watchdog(&run.live_def(), w)?;
        self.unplug(dom, run, Found::Watchdog(index))
    }

    /// Plugs `input` into the running domain `run`: a USB input on a
    /// free port, a virtio one on a free hot-pluggable PCI slot; the
    /// built-in PS/2 devices and an evdev input (no guest device) are
    /// refused by name, as libvirt refuses them.
    pub(crate) fn plug_input(&self, dom: &Domain, run: &Running, input: &Input) -> Result<()> {
        let bus = input.effective_bus();
        if !matches!(bus, InputBus::Usb | InputBus::Virtio) {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!(
                    "input device on bus '{}' cannot be hot plugged.",
                    bus.as_str()
                ),
            ));
        }
        let what = format!(
            "{} input device on bus {}",
            input.kind.as_str(),
            bus.as_str()
        );
        let live = run.live_def();
        let mut new = live.clone();
        new.devices.inputs.push(input.clone());
        let index = new.devices.inputs.len() - 1;
        let caps = self.caps(&emulator_of(&live))?;
        let addressed = hot_pluggable_slot(&live, &new, &caps, &what, bus == InputBus::Virtio)?;
        let qmp = run.qmp()?;
        let taken = run.plugged().ids[Numbered::Input].clone();
        let result = (|| -> Result<u32> {
            let paths = super::hotplug::plug_paths(run);
            let mut args = device_args(&addressed, &caps, &paths, PluggedDevice::Input(index))?;
            // The lowest number neither the run nor QEMU uses (a device an
            // earlier unplug is still waiting for keeps its id).
            let n = renumber(qmp, &mut args, index as u32, &taken, |n| {
                vec![input_id(n as usize)]
            })?;
            add_to_qemu(qmp, &args)?;
            Ok(n)
        })();
        let n = result.map_err(|e| attach_failed(dom, &what, e))?;
        run.update_plugged(|p| {
            p.inputs.push(addressed.devices.inputs[index].clone());
            p.ids[Numbered::Input].push(n);
        });
        self.plugged_in(dom, run, input_id(n as usize));
        Ok(())
    }

    /// Unplugs the input `input` names (libvirt's virDomainInputDefFind)
    /// from the running domain; a PS/2 one is part of the machine.
    pub(crate) fn unplug_input(&self, dom: &Domain, run: &Running, input: &Input) -> Result<()> {
        let live = run.live_def();
        let index = super::plug_config::find_input(&live, input).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "matching input device not found",
            )
        })?;
        let bus = live.devices.inputs[index].effective_bus();
        if !matches!(bus, InputBus::Usb | InputBus::Virtio) {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!("input device on bus '{}' cannot be detached", bus.as_str()),
            ));
        }
        self.unplug(dom, run, Found::Input(index))
    }

    /// Plugs the SCSI controller `c` into the running domain `run`; one
    /// written without an index (`given` false) takes the lowest the
    /// domain has free. Another type of controller is refused by name,
    /// as is an index the domain has (declared, or made at the start for
    /// a disk).
    pub(crate) fn plug_controller(
        &self,
        dom: &Domain,
        run: &Running,
        c: &Controller,
        given: bool,
    ) -> Result<()> {
        if c.kind != ControllerType::Scsi {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!("'{}' controller cannot be hot plugged.", c.kind.as_str()),
            ));
        }
        let live = run.live_def();
        let used = scsi_controllers_used(&live)?;
        let taken = |i: u32| {
            used.contains(&i)
                || live
                    .devices
                    .controllers
                    .iter()
                    .any(|o| o.kind == ControllerType::Scsi && o.index == i)
        };
        let mut c = c.clone();
        if !given {
            c.index = (0..).find(|i| !taken(*i)).expect("a free index");
        } else if taken(c.index) {
            return Err(Error::new(
                ErrorCode::OperationFailed,
                format!("target scsi:{} already exists", c.index),
            ));
        }
        self.plug_scsi_controller(dom, run, &live, c)
    }

    /// Plugs SCSI controller `c` (its index free) into the running
    /// domain whose live definition is `live`.
    fn plug_scsi_controller(
        &self,
        dom: &Domain,
        run: &Running,
        live: &DomainDef,
        c: Controller,
    ) -> Result<()> {
        let what = format!("scsi controller {}", c.index);
        let id = scsi_controller_id(c.index);
        let mut new = live.clone();
        new.devices.controllers.push(c);
        let pos = new.devices.controllers.len() - 1;
        let caps = self.caps(&emulator_of(live))?;
        let addressed = hot_pluggable_slot(live, &new, &caps, &what, true)?;
        let qmp = run.qmp()?;
        let result = (|| -> Result<()> {
            let paths = super::hotplug::plug_paths(run);
            let args = device_args(&addressed, &caps, &paths, PluggedDevice::Controller(pos))?;
            add_to_qemu(qmp, &args)
        })();
        result.map_err(|e| attach_failed(dom, &what, e))?;
        run.update_plugged(|p| {
            p.controllers
                .push(addressed.devices.controllers[pos].clone())
        });
        self.plugged_in(dom, run, id);
        Ok(())
    }

    /// Before SCSI disks are plugged into the running domain `run`
    /// (`new` is its live definition with them): the SCSI controllers
    /// they sit on that neither the definition nor QEMU has, plugged in
    /// first, of the model of the domain's last SCSI controller (or
    /// libvirt's default), as libvirt's
    /// qemuDomainFindOrCreateSCSIDiskController.
    pub(crate) fn plug_missing_scsi_controllers(
        &self,
        dom: &Domain,
        run: &Running,
        new: &DomainDef,
    ) -> Result<()> {
        for index in scsi_controllers_used(new)? {
            let live = run.live_def();
            let declared = |i: u32| {
                live.devices
                    .controllers
                    .iter()
                    .any(|o| o.kind == ControllerType::Scsi && o.index == i)
            };
            let qmp = run.qmp()?;
            if declared(index) || super::hotplug::has_device(qmp, &scsi_controller_id(index))? {
                continue;
            }
            let model = live
                .devices
                .controllers
                .iter()
                .rfind(|o| o.kind == ControllerType::Scsi)
                .and_then(|o| o.model.clone());
            let c = Controller::new(ControllerType::Scsi, index, model);
            self.log.info(&format!(
                "domain '{}': no SCSI controller {index} for the disk, plugging one in",
                dom.name
            ));
            self.plug_scsi_controller(dom, run, &live, c)?;
        }
        Ok(())
    }

    /// Unplugs the SCSI controller `c` names (by its index, which a
    /// detach must give: `given`) from the running domain; one a disk
    /// sits on is busy, another type is refused by name.
    pub(crate) fn unplug_controller(
        &self,
        dom: &Domain,
        run: &Running,
        c: &Controller,
        given: bool,
    ) -> Result<()> {
        if c.kind != ControllerType::Scsi {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!("'{}' controller cannot be hot unplugged.", c.kind.as_str()),
            ));
        }
        if !given {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "device not present in domain configuration: name the controller by its index",
            ));
        }
        let live = run.live_def();
        let index = live
            .devices
            .controllers
            .iter()
            .position(|o| o.kind == c.kind && o.index == c.index)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("controller scsi:{} not found", c.index),
                )
            })?;
        self.unplug(dom, run, Found::Controller(index))
    }
}

/// The position of the watchdog of the running domain's definition
/// `live` that `w` names, or libvirt's refusal: none there, another one,
/// or one of a model QEMU cannot unplug.
fn live_watchdog(live: &DomainDef, w: &Watchdog) -> Result<usize> {
    let Some(have) = live.devices.watchdogs.first() else {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "watchdog device not present in domain configuration",
        ));
    };
    let same_action =
        have.action.unwrap_or(WatchdogAction::Reset) == w.action.unwrap_or(WatchdogAction::Reset);
    let same_address = w.address.is_none() || w.address == have.address;
    if have.model != w.model || !same_action || !same_address {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "model '{}' watchdog device not present in domain configuration",
                have.model.as_str()
            ),
        ));
    }
    if have.model != WatchdogModel::I6300esb {
        return Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "hot unplug of watchdog of model {} is not supported",
                have.model.as_str()
            ),
        ));
    }
    Ok(0)
}

/// The QEMU id of input `index` of the run (`inputN`, its number kept
/// with the run).
pub(super) fn live_input_id(run: &Running, index: usize) -> String {
    input_id(run.number(Numbered::Input, index) as usize)
}
