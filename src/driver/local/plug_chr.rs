//! Live hot-plug of devices behind a character device: virtio
//! `<channel>`s and `<console>`s, as libvirt's qemuDomainAttachChrDevice
//! and qemuDomainDetachDeviceChr do for them (a console is a
//! `virtconsole`, from port 0), and USB `<redirdev>`s, as its
//! qemuDomainAttachRedirdevDevice (the chardev and the `usb-redir` on
//! the first free USB port, with the domain's `<redirfilter>`). A channel:
//! the backend (`chardev-add`, typed as QMP's `ChardevBackend`) and the
//! `virtserialport` on the first free port of the domain's virtio-serial
//! controller, made exactly as a start makes them; out again by
//! `device_del` and `chardev-remove`. A UNIX channel without a path gets
//! its socket in the run directory as at a start, and a guest agent
//! channel plugged in is the agent's (its calls, its lifecycle events).
//!
//! Every virtio channel of a running domain keeps the port it got (the
//! live XML shows it), and a start numbers the channels' (and the
//! redirection devices') QEMU ids in order; after an unplug in the
//! middle that order no longer holds, so each one's number is kept with
//! the run (and in the status file), as the rngs' are.

use super::numbered::Numbered;
use serde_json::Value;

use super::driver::{Core, emulator_of};
use super::hotplug::{Found, add_to_qemu, attach_failed, has_device, hot_pluggable_slot, renumber};
use super::runtime::Running;
use crate::driver::Domain;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Address, Channel, ChannelTarget, CharDevice, CharSource, DomainDef, Redirdev};
use crate::qemu::argv::{PluggedDevice, channel_id, channel_sockets, device_args, redir_id};
use crate::qemu::qmp::{QMP_TIMEOUT, Qmp};

impl Core {
    /// Plugs the virtio channel `ch` into the running domain `run`. A
    /// guestfwd channel (a rule of the user network's backend, made at
    /// start), a channel the domain has already and one without a
    /// virtio-serial controller to sit on are refused by name.
    pub(crate) fn plug_channel(&self, dom: &Domain, run: &Running, ch: &Channel) -> Result<()> {
        let ChannelTarget::Virtio { name } = &ch.target else {
            return Err(Error::new(
                ErrorCode::NoSupport,
                "a guestfwd channel is not hot-plugged (its forward is a rule of the user network's backend, made at start): attach it with --config and restart the domain",
            ));
        };
        let what = format!("channel '{}'", name.as_deref().unwrap_or("(unnamed)"));
        let live = run.live_def();
        if find_channel(&live, ch).is_some() {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                "chardev already exists",
            ));
        }
        let mut new = live.clone();
        new.devices.channels.push(ch.clone());
        let k = new.devices.channels.len() - 1;
        let caps = self.caps(&emulator_of(&live))?;
        let addressed = crate::qemu::argv::with_pci_addresses(&new, &caps)?;
        let qmp = run.qmp()?;
        let Some(Address::VirtioSerial(at)) = addressed.devices.channels[k].address else {
            return Err(Error::new(
                ErrorCode::Internal,
                format!("{what} got no virtio-serial port"),
            ));
        };
        if !has_device(qmp, &format!("virtio-serial{}", at.controller))? {
            return Err(no_virtio_serial(dom, &what, at.controller));
        }
        let taken = run.plugged().ids[Numbered::Channel].clone();
        let result = (|| -> Result<u32> {
            let paths = super::hotplug::plug_paths(run);
            let mut args = device_args(&addressed, &caps, &paths, PluggedDevice::Channel(k))?;
            let n = renumber(qmp, &mut args, k as u32, &taken, |n| {
                let id = channel_id(n as usize);
                vec![id.clone(), format!("char{id}")]
            })?;
            add_to_qemu(qmp, &args)?;
            Ok(n)
        })();
        let n = result.map_err(|e| attach_failed(dom, &what, e))?;
        // The live XML shows the socket made up in the run directory, or
        // the terminal QEMU opened, as after a start.
        let mut plugged = addressed.devices.channels[k].clone();
        let sockets = channel_sockets(&addressed, &run.run_dir).unwrap_or_default();
        match (&mut plugged.source, sockets.get(k).cloned().flatten()) {
            (CharSource::Unix { path, listen, .. }, Some(socket)) => {
                *path = Some(socket.to_string_lossy().into_owned());
                *listen = true;
            }
            (CharSource::Pty { path }, _) => {
                *path = pty_path(qmp, &format!("char{}", channel_id(n as usize)));
            }
            _ => {}
        }
        run.update_plugged(|p| {
            p.channels.push(plugged);
            p.ids[Numbered::Channel].push(n);
        });
        self.plugged_in(dom, run, channel_id(n as usize));
        Ok(())
    }

    /// Plugs the virtio console `c` into the running domain `run`, on
    /// the first free port of its virtio-serial controller; a console
    /// written without a port (`given` false) takes the lowest the
    /// domain's consoles leave. A serial console is refused as libvirt
    /// refuses it.
    pub(crate) fn plug_console(
        &self,
        dom: &Domain,
        run: &Running,
        c: &CharDevice,
        given: bool,
    ) -> Result<()> {
        if c.target_type.as_deref() != Some("virtio") {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                "attaching serial console is not supported",
            ));
        }
        let what = "virtio console";
        let live = run.live_def();
        let mut c = c.clone();
        if !given {
            let taken = |p: u32| {
                live.devices
                    .consoles
                    .iter()
                    .any(|o| o.target_port == Some(p))
            };
            c.target_port = Some((0..).find(|p| !taken(*p)).expect("a free port"));
        }
        if find_console(&live, &c).is_some() {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                "chardev already exists",
            ));
        }
        let mut new = live.clone();
        new.devices.consoles.push(c);
        let i = new.devices.consoles.len() - 1;
        let caps = self.caps(&emulator_of(&live))?;
        let addressed = crate::qemu::argv::with_pci_addresses(&new, &caps)?;
        let qmp = run.qmp()?;
        let plugged = addressed.devices.consoles[i].clone();
        let Some(at) = plugged.virtio_serial() else {
            return Err(Error::new(
                ErrorCode::Internal,
                format!("the {what} got no virtio-serial port"),
            ));
        };
        if !has_device(qmp, &format!("virtio-serial{}", at.controller))? {
            return Err(no_virtio_serial(dom, what, at.controller));
        }
        let console = Terminal {
            device: PluggedDevice::Console(i),
            kind: Numbered::Console,
            prefix: "console",
            made: crate::qemu::argv::virtio_console_rank(&addressed, i) as u32,
            list: |p| &mut p.consoles,
        };
        self.plug_terminal(dom, run, (&caps, &addressed), console, plugged, what)
    }

    /// Unplugs the virtio console `c` names (its source, and its target
    /// port when given) from the running domain.
    pub(crate) fn unplug_console(
        &self,
        dom: &Domain,
        run: &Running,
        c: &CharDevice,
        given: bool,
    ) -> Result<()> {
        let live = run.live_def();
        let mut c = c.clone();
        if !given {
            c.target_port = None;
        }
        let index = find_console(&live, &c).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "chr type 'console' device not present in domain configuration",
            )
        })?;
        if live.devices.consoles[index].target_type.as_deref() != Some("virtio") {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                "detaching serial console is not supported",
            ));
        }
        self.unplug(dom, run, Found::Console(index))
    }

    /// Plugs the USB redirection device `r` into the running domain
    /// `run`.
    pub(crate) fn plug_redirdev(&self, dom: &Domain, run: &Running, r: &Redirdev) -> Result<()> {
        let what = format!("USB redirection device ({})", r.source.type_name());
        let live = run.live_def();
        let mut new = live.clone();
        new.devices.redirdevs.push(r.clone());
        let i = new.devices.redirdevs.len() - 1;
        let caps = self.caps(&emulator_of(&live))?;
        let addressed = hot_pluggable_slot(&live, &new, &caps, &what, false)?;
        let qmp = run.qmp()?;
        let taken = run.plugged().ids[Numbered::Redir].clone();
        let result = (|| -> Result<u32> {
            let paths = super::hotplug::plug_paths(run);
            let mut args = device_args(&addressed, &caps, &paths, PluggedDevice::Redirdev(i))?;
            let n = renumber(qmp, &mut args, i as u32, &taken, |n| {
                let id = redir_id(n as usize);
                vec![id.clone(), format!("char{id}")]
            })?;
            add_to_qemu(qmp, &args)?;
            Ok(n)
        })();
        let n = result.map_err(|e| attach_failed(dom, &what, e))?;
        run.update_plugged(|p| {
            p.redirdevs.push(addressed.devices.redirdevs[i].clone());
            p.ids[Numbered::Redir].push(n);
        });
        self.plugged_in(dom, run, redir_id(n as usize));
        Ok(())
    }

    /// Unplugs the redirection device `r` names (its source, and its
    /// address when given: libvirt's virDomainRedirdevDefFind).
    pub(crate) fn unplug_redirdev(&self, dom: &Domain, run: &Running, r: &Redirdev) -> Result<()> {
        let live = run.live_def();
        let index = live
            .devices
            .redirdevs
            .iter()
            .position(|o| o.source == r.source && (r.address.is_none() || r.address == o.address))
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::OperationInvalid,
                    "no matching redirdev was not found",
                )
            })?;
        self.unplug(dom, run, Found::Redirdev(index))
    }

    /// Unplugs the channel `ch` names (its source and target, as
    /// libvirt's virDomainChrFind) from the running domain.
    pub(crate) fn unplug_channel(&self, dom: &Domain, run: &Running, ch: &Channel) -> Result<()> {
        let live = run.live_def();
        let index = find_channel(&live, ch).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "chr type 'channel' device not present in domain configuration",
            )
        })?;
        if !live.devices.channels[index].is_virtio() {
            return Err(Error::new(
                ErrorCode::NoSupport,
                "a guestfwd channel is not hot-unplugged: detach it with --config and restart the domain",
            ));
        }
        self.unplug(dom, run, Found::Channel(index))
    }
}

/// The position of the channel of the running domain's definition `live`
/// that `ch` names: the same target, and the same source where `ch`
/// gives one (a UNIX socket's path the start made up, a terminal's path,
/// are the running domain's).
fn find_channel(live: &DomainDef, ch: &Channel) -> Option<usize> {
    live.devices.channels.iter().position(|o| {
        let source = match (&ch.source, &o.source) {
            (CharSource::Unix { path: None, .. }, CharSource::Unix { .. }) => true,
            (CharSource::Pty { path: None }, CharSource::Pty { .. }) => true,
            (a, b) => a == b,
        };
        o.target == ch.target && source
    })
}

/// The position of the console of `live` that `c` names: the same
/// target type, its target port when `c` gives one, and the same source
/// (a terminal's path is the running domain's).
fn find_console(live: &DomainDef, c: &CharDevice) -> Option<usize> {
    live.devices.consoles.iter().position(|o| {
        let source = match (&c.source, &o.source) {
            (CharSource::Pty { .. }, CharSource::Pty { .. }) => true,
            (a, b) => a == b,
        };
        source
            && o.target_type == c.target_type
            && (c.target_port.is_none() || o.target_port == c.target_port)
    })
}

/// The QEMU id of console `index` of the run: its user alias, else
/// `consoleN`, its number kept with the run.
pub(super) fn live_console_id(run: &Running, index: usize) -> String {
    let live = run.live_def();
    let c = &live.devices.consoles[index];
    if let Some(a) = &c.alias {
        return a.clone();
    }
    let rank = crate::qemu::argv::virtio_console_rank(&live, index);
    format!("console{}", run.number(Numbered::Console, rank))
}

/// A terminal device (a virtio console, a serial port) to plug in: the
/// device of the live definition with it added, its numbered kind, the
/// prefix of its QEMU ids, the number the command line gives it, and the
/// list of the run's devices it joins.
pub(super) struct Terminal {
    pub device: PluggedDevice,
    pub kind: Numbered,
    pub prefix: &'static str,
    pub made: u32,
    pub list: fn(&mut super::runtime::Plugged) -> &mut Vec<CharDevice>,
}

impl Core {
    /// Plugs in `plugged`, the terminal device `t` names in `addressed`
    /// (the live definition with it added): its chardev and device as a
    /// start makes them, under the number of its kind QEMU has free
    /// instead of the command line's (`t.made`); then the run has it, with
    /// its terminal's path, and subscribers hear of it by its QEMU id
    /// (its user alias, else numbered). `what` names it in errors.
    pub(super) fn plug_terminal(
        &self,
        dom: &Domain,
        run: &Running,
        (caps, addressed): (&crate::qemu::caps::QemuCaps, &DomainDef),
        t: Terminal,
        mut plugged: CharDevice,
        what: &str,
    ) -> Result<()> {
        let result = (|| -> Result<(u32, String)> {
            let qmp = run.qmp()?;
            let taken = run.plugged().ids[t.kind].clone();
            let paths = super::hotplug::plug_paths(run);
            let mut args = device_args(addressed, caps, &paths, t.device)?;
            let prefix = t.prefix;
            let n = renumber(qmp, &mut args, t.made, &taken, |n| {
                vec![format!("{prefix}{n}"), format!("char{prefix}{n}")]
            })?;
            let id = plugged.alias.clone().unwrap_or(format!("{prefix}{n}"));
            add_to_qemu(qmp, &args)?;
            if let CharSource::Pty { path } = &mut plugged.source {
                *path = pty_path(qmp, &format!("char{id}"));
            }
            Ok((n, id))
        })();
        let (n, id) = result.map_err(|e| attach_failed(dom, what, e))?;
        run.update_plugged(|p| {
            (t.list)(p).push(plugged);
            p.ids[t.kind].push(n);
        });
        self.plugged_in(dom, run, id);
        Ok(())
    }
}

/// The refusal of a virtio-serial port the domain has no controller for.
fn no_virtio_serial(dom: &Domain, what: &str, controller: u32) -> Error {
    Error::new(
        ErrorCode::OperationInvalid,
        format!(
            "cannot attach {what} to domain '{}': the domain has no virtio-serial controller {controller} with a free port, and such controllers are not plugged in; add <controller type='virtio-serial'/> to the definition and restart the domain",
            dom.name
        ),
    )
}

/// The QEMU id of redirection device `index` of the run (`redirN`, its
/// number kept with the run).
pub(super) fn live_redir_id(run: &Running, index: usize) -> String {
    redir_id(run.number(Numbered::Redir, index) as usize)
}

/// The QEMU id of channel `index` of the run (`channelN`, its number kept
/// with the run).
pub(super) fn live_channel_id(run: &Running, index: usize) -> String {
    channel_id(run.number(Numbered::Channel, index) as usize)
}

/// The terminal QEMU opened for chardev `label` (`query-chardev`'s
/// `pty:/dev/pts/N`).
pub(super) fn pty_path(qmp: &Qmp, label: &str) -> Option<String> {
    let list = qmp.execute("query-chardev", None, QMP_TIMEOUT).ok()?;
    list.as_array()?
        .iter()
        .find(|c| c.get("label").and_then(Value::as_str) == Some(label))
        .and_then(|c| c.get("filename").and_then(Value::as_str))
        .and_then(|f| f.strip_prefix("pty:"))
        .map(str::to_string)
}
