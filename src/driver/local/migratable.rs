//! The migratable form of a definition (virsh's `dumpxml --migratable`),
//! as libvirt's `qemuDomainDefFormatBufInternal` makes it: without what
//! the manager adds to every such domain by itself, so that another
//! manager (or an older one) reads the same machine back. For qvirt's
//! model that is the default USB controller and pci-root of an i440fx
//! machine when they are the only ones of their kind, a PS/2 keyboard
//! (x86 machines always have one), and the socket paths the manager chose
//! in the run directory (a virtio channel's, a display's). What the user
//! set stays.

use std::path::Path;

use crate::model::{CharSource, ControllerType, DomainDef, GraphicsListen, InputBus, InputType};

/// Whether `def` runs an i440fx machine (`pc`, `pc-i440fx-*`, and the
/// old `pc-0.*` and `pc-1.*`; the default machine when none is named).
fn is_i440fx(def: &DomainDef) -> bool {
    match def.os.machine.as_deref() {
        None => true,
        Some(m) => {
            m == "pc"
                || ["pc-i440fx-", "pc-0.", "pc-1."]
                    .iter()
                    .any(|p| m.starts_with(p))
        }
    }
}

/// `def` in its migratable form; `run_dir` is the run directory of the
/// running domain `def` is the live definition of.
pub(crate) fn migratable(def: &mut DomainDef, run_dir: Option<&Path>) {
    let controllers = &def.devices.controllers;
    let only = |kind: ControllerType| {
        let mut of = controllers
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == kind);
        match (of.next(), of.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    };
    let usb = only(ControllerType::Usb).filter(|&i| {
        let c = &controllers[i];
        c.index == 0 && c.model.as_deref().is_none_or(|m| m == "piix3-uhci") && is_i440fx(def)
    });
    let pci = only(ControllerType::Pci).filter(|&i| {
        let c = &controllers[i];
        c.index == 0 && c.model.as_deref() == Some("pci-root") && c.pcihole64_kib.is_none()
    });
    let mut i = 0;
    def.devices.controllers.retain(|_| {
        let keep = Some(i) != usb && Some(i) != pci;
        i += 1;
        keep
    });
    def.devices
        .inputs
        .retain(|d| !(d.kind == InputType::Keyboard && d.bus == Some(InputBus::Ps2)));
    if let Some(run_dir) = run_dir {
        forget_run_paths(def, run_dir);
    }
}

/// Forgets the socket paths the start chose in the run directory
/// `run_dir` (a virtio channel's, a display's on a UNIX socket, a D-Bus
/// display's private bus): another run chooses its own.
pub(crate) fn forget_run_paths(def: &mut DomainDef, run_dir: &Path) {
    let ours = |path: &Option<String>| {
        path.as_deref()
            .is_some_and(|p| Path::new(p).starts_with(run_dir))
    };
    for c in &mut def.devices.channels {
        if let CharSource::Unix { path, .. } = &mut c.source
            && ours(path)
        {
            *path = None;
        }
    }
    for g in &mut def.devices.graphics {
        for listen in &mut g.listens {
            if let GraphicsListen::Socket(path) = listen
                && ours(path)
            {
                *path = None;
            }
        }
    }
    if let Some(db) = &mut def.devices.dbus_display
        && db
            .address
            .as_deref()
            .and_then(|a| a.strip_prefix("unix:path="))
            == Some(&*crate::qemu::argv::dbus_socket(run_dir).to_string_lossy())
    {
        db.address = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(machine: &str, devices: &str) -> DomainDef {
        DomainDef::from_xml(&format!(
            "<domain type='qemu'><name>t</name><memory unit='MiB'>64</memory>\
             <os><type arch='x86_64' machine='{machine}'>hvm</type></os><devices>{devices}</devices></domain>"
        ))
        .unwrap()
    }

    #[test]
    fn the_defaults_go_and_what_the_user_chose_stays() {
        let mut d = def(
            "pc",
            "<controller type='usb' index='0' model='piix3-uhci'/>\
             <controller type='pci' index='0' model='pci-root'/>\
             <input type='keyboard' bus='ps2'/><input type='mouse' bus='ps2'/>",
        );
        migratable(&mut d, None);
        assert!(
            d.devices.controllers.is_empty(),
            "{:?}",
            d.devices.controllers
        );
        assert_eq!(d.devices.inputs.len(), 1);
        assert_eq!(d.devices.inputs[0].kind, InputType::Mouse);

        let xml = "<controller type='usb' index='0' model='qemu-xhci'/>\
                   <controller type='pci' index='0' model='pcie-root'/>";
        let mut q35 = def("q35", xml);
        migratable(&mut q35, None);
        assert_eq!(q35.devices.controllers.len(), 2);
        let mut q35_uhci = def(
            "q35",
            "<controller type='usb' index='0' model='piix3-uhci'/>",
        );
        migratable(&mut q35_uhci, None);
        assert_eq!(
            q35_uhci.devices.controllers.len(),
            1,
            "not an i440fx machine"
        );
    }

    #[test]
    fn sockets_the_start_chose_are_forgotten_and_the_users_kept() {
        let mut d = def(
            "pc",
            "<graphics type='vnc'><listen type='socket' socket='/run/q/u/vnc.sock'/></graphics>\
             <graphics type='spice'><listen type='socket' socket='/home/me/spice.sock'/></graphics>\
             <channel type='unix'><source mode='bind' path='/run/q/u/agent.sock'/>\
             <target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
        );
        migratable(&mut d, Some(Path::new("/run/q/u")));
        let g = &d.devices.graphics;
        assert_eq!(g[0].listens, [GraphicsListen::Socket(None)]);
        let mine = GraphicsListen::Socket(Some("/home/me/spice.sock".into()));
        assert_eq!(g[1].listens, [mine]);
        assert!(matches!(
            &d.devices.channels[0].source,
            CharSource::Unix { path: None, .. }
        ));
    }
}
