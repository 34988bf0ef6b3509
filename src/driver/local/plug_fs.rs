//! Live hot-plug of virtiofs `<filesystem>` shares, as libvirt's
//! qemuDomainAttachFSDevice and qemuDomainRemoveFSDevice: a virtiofsd
//! for the share, listening on its socket in the run directory, then the
//! socket's chardev (`chardev-add`) and the `vhost-user-fs-pci` device on
//! a free hot-pluggable PCI slot, made exactly as a start makes them; out
//! again by `device_del` (with the guest's consent), `chardev-remove`,
//! and the end of that virtiofsd. A 9p share is refused by name, as
//! libvirt refuses it.
//!
//! A start numbers the shares' QEMU ids and sockets in order (`fs0`,
//! `chr-vu-fs0`, `fs0-fs.sock`); a plugged one takes a number neither
//! the run nor QEMU uses, kept with the run (and in the status file).

use super::driver::{Core, emulator_of};
use super::hotplug::{Found, add_to_qemu, attach_failed, hot_pluggable_slot, renumber};
use super::numbered::Numbered;
use super::plug_config::ColdDevice;
use super::runtime::Running;
use crate::driver::Domain;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, Filesystem, FsDriver};
use crate::qemu::argv::{PluggedDevice, device_args, fs_id, virtiofs_socket};

impl Core {
    /// Plugs the virtiofs share `f` into the running domain `run`.
    pub(crate) fn plug_filesystem(
        &self,
        dom: &Domain,
        run: &Running,
        f: &Filesystem,
    ) -> Result<()> {
        if f.driver != FsDriver::Virtiofs {
            return Err(Error::new(
                ErrorCode::NoSupport,
                "only virtiofs filesystems can be hotplugged",
            ));
        }
        let what = format!("filesystem '{}'", f.target_dir);
        let live = run.live_def();
        // libvirt's refusal of a target the domain has.
        ColdDevice::Filesystem(f.clone()).insert(&mut live.clone())?;
        let mut new = live.clone();
        new.devices.filesystems.push(f.clone());
        let i = new.devices.filesystems.len() - 1;
        let caps = self.caps(&emulator_of(&live))?;
        let addressed = hot_pluggable_slot(&live, &new, &caps, &what, true)?;
        let qmp = run.qmp()?;
        // The run's numbers, and those of sockets left in the run
        // directory (virtiofsd would not listen on them).
        let mut taken = run.plugged().ids[Numbered::Fs].clone();
        taken.extend(sockets_left(&run.run_dir));
        let fail = |e: Error| attach_failed(dom, &what, e);
        let paths = super::hotplug::plug_paths(run);
        let mut args =
            device_args(&addressed, &caps, &paths, PluggedDevice::Filesystem(i)).map_err(fail)?;
        let n = renumber(qmp, &mut args, i as u32, &taken, |n| {
            let id = fs_id(n as usize);
            let socket = virtiofs_socket(&run.run_dir, n as usize);
            vec![
                id.clone(),
                format!("chr-vu-{id}"),
                socket.to_string_lossy().into_owned(),
            ]
        })
        .map_err(fail)?;
        let id = fs_id(n as usize);
        let socket = virtiofs_socket(&run.run_dir, n as usize);
        let log = self.layout.log_file(&format!("{}-virtiofsd", dom.name));
        let virtiofsd =
            super::virtiofs::start_plugged(f, n, &socket, &run.run_dir, &log, &dom.name)
                .map_err(fail)?;
        if let Err(e) = add_to_qemu(qmp, &args) {
            drop(virtiofsd);
            super::virtiofs::stop_plugged(&run.run_dir, n);
            let _ = std::fs::remove_file(&socket);
            return Err(fail(e));
        }
        virtiofsd.keep();
        run.update_plugged(|p| {
            p.filesystems.push(addressed.devices.filesystems[i].clone());
            p.ids[Numbered::Fs].push(n);
        });
        self.plugged_in(dom, run, id);
        Ok(())
    }

    /// Unplugs the share `f` names (by its target, as libvirt's
    /// virDomainFSDefFind) from the running domain.
    pub(crate) fn unplug_filesystem(
        &self,
        dom: &Domain,
        run: &Running,
        f: &Filesystem,
    ) -> Result<()> {
        let live = run.live_def();
        let index = find_filesystem(&live, f).ok_or_else(|| {
            Error::new(ErrorCode::InvalidArgument, "matching filesystem not found")
        })?;
        if live.devices.filesystems[index].driver != FsDriver::Virtiofs {
            return Err(Error::new(
                ErrorCode::NoSupport,
                "only virtiofs filesystems can be hotplugged",
            ));
        }
        self.unplug(dom, run, Found::Filesystem(index))
    }
}

/// The position of the share of `def` that `f` names: the same target.
fn find_filesystem(def: &DomainDef, f: &Filesystem) -> Option<usize> {
    def.devices
        .filesystems
        .iter()
        .position(|o| o.target_dir == f.target_dir)
}

/// The number of filesystem `index` of the run (its QEMU ids and
/// socket).
pub(super) fn live_fs_number(run: &Running, index: usize) -> u32 {
    run.number(Numbered::Fs, index)
}

/// The numbers of the virtiofs sockets in the run directory
/// (`fsN-fs.sock`).
fn sockets_left(run_dir: &std::path::Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(run_dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n: u32 = name
                .strip_prefix("fs")?
                .strip_suffix("-fs.sock")?
                .parse()
                .ok()?;
            // The name the socket of that number has.
            (virtiofs_socket(run_dir, n as usize) == e.path()).then_some(n)
        })
        .collect()
}
