//! The host checks of network interfaces: the devices and sockets their
//! backends use must be there before QEMU starts.

use std::os::unix::fs::FileTypeExt;

use super::{Host, lacks};
use crate::error::Result;
use crate::model::{DomainDef, InterfaceType, NetDriverName};

impl Host {
    /// A vhost-user interface QEMU connects to (mode 'client') needs its
    /// backend's socket; in mode 'server' QEMU makes it, and with
    /// `<reconnect>` QEMU waits for it, trying again every so often.
    pub(super) fn vhost_user_sockets(&self, def: &DomainDef) -> Result<()> {
        for (i, n) in def.devices.interfaces.iter().enumerate() {
            if let InterfaceType::VhostUser {
                path,
                server: false,
                reconnect: None,
            } = &n.kind
                && !self.file_type(path).is_some_and(|t| t.is_socket())
            {
                return Err(lacks(
                    def,
                    format!(
                        "the vhost-user socket {path} of interface {i} is not there: its backend (a userspace switch such as OVS-DPDK) must listen on it first"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The devices `<backend tap= vhost=>` names must be character
    /// devices of this host (the tun/tap control device, vhost-net).
    pub(super) fn net_backend_devices(&self, def: &DomainDef) -> Result<()> {
        for (i, n) in def.devices.interfaces.iter().enumerate() {
            for (attr, path, what) in [
                ("tap", &n.tap.tun_path, "tun/tap control device"),
                ("vhost", &n.tap.vhost_path, "vhost-net device"),
            ] {
                let Some(path) = path else { continue };
                if !self.file_type(path).is_some_and(|t| t.is_char_device()) {
                    return Err(lacks(
                        def,
                        format!(
                            "the {what} {path} of interface {i} (<backend {attr}='{path}'>) is not a character device on this host"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// `<driver name='vhost'>` on a tap interface needs the host's
    /// vhost-net device, which QEMU opens.
    pub(super) fn vhost_net(&self, def: &DomainDef) -> Result<()> {
        let wants = def.devices.interfaces.iter().position(|n| {
            n.kind.has_host_tap()
                && n.tap.vhost_path.is_none()
                && n.driver
                    .is_some_and(|d| d.name == Some(NetDriverName::Vhost))
        });
        match wants {
            Some(i) if !self.path("dev/vhost-net").exists() => Err(lacks(
                def,
                format!(
                    "interface {i} asks for vhost-net (<driver name='vhost'>) and this host has no /dev/vhost-net (load the vhost_net module, or use <driver name='qemu'>)"
                ),
            )),
            _ => Ok(()),
        }
    }
}
