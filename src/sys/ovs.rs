//! Open vSwitch ports for `<interface type='bridge'>` with `<virtualport
//! type='openvswitch'>`: the tap qvirt made is added to the Open vSwitch
//! bridge (and taken out again) with `ovs-vsctl`, as libvirt does, with
//! the external ids an SDN controller reads (`attached-mac`, `iface-id`,
//! `vm-id`, `iface-status`, and `port-profile` when the port has one).

use std::io;
use std::process::Command;

use crate::error::{Error, ErrorCode, Result};
use crate::model::MacAddr;

/// How long `ovs-vsctl` may wait for the database.
const TIMEOUT: &str = "--timeout=5";

fn ovs_vsctl(args: &[String]) -> io::Result<std::process::Output> {
    Command::new("ovs-vsctl").arg(TIMEOUT).args(args).output()
}

/// Adds tap `tap` to Open vSwitch bridge `bridge` (replacing a stale port
/// of that name), with the interface's ids (`iface_id`: the port's, or
/// the one made up for it) and `port`'s VLAN tags.
pub(crate) fn add_port(
    dom: &str,
    bridge: &str,
    tap: &str,
    mac: MacAddr,
    port: &crate::model::OvsPort,
    iface_id: &str,
    vm_id: &str,
) -> Result<()> {
    let args: Vec<String> = [
        "--",
        "--if-exists",
        "del-port",
        tap,
        "--",
        "add-port",
        bridge,
        tap,
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(port.vlan.as_ref().map(vlan_settings).unwrap_or_default())
    .chain(["--", "set", "Interface", tap].map(str::to_string))
    .chain([
        format!("external-ids:attached-mac={mac}"),
        format!("external-ids:iface-id={iface_id}"),
        format!("external-ids:vm-id={vm_id}"),
    ])
    // Quoted as libvirt quotes it, so that any profile name is one
    // ovs-vsctl value.
    .chain(
        port.profile_id
            .as_ref()
            .map(|p| format!("external-ids:port-profile=\"{p}\"")),
    )
    .chain(["external-ids:iface-status=active".to_string()])
    .collect();
    let out = ovs_vsctl(&args).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            Error::new(
                ErrorCode::NoSupport,
                format!(
                    "domain '{dom}': <virtualport type='openvswitch'> needs Open vSwitch, and this host has no ovs-vsctl (Debian: openvswitch-switch)"
                ),
            )
        } else {
            Error::io("cannot run ovs-vsctl", e)
        }
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!(
                "cannot add tap '{tap}' of domain '{dom}' to the Open vSwitch bridge '{bridge}': {}",
                err.trim()
            ),
        ));
    }
    Ok(())
}

/// Takes ports `taps` out of Open vSwitch; returns those that could not
/// be, with why.
pub(crate) fn del_ports(taps: &[String]) -> Vec<(String, io::Error)> {
    taps.iter()
        .filter_map(|tap| {
            let args: Vec<String> = ["--", "--if-exists", "del-port", tap]
                .iter()
                .map(|s| s.to_string())
                .collect();
            match ovs_vsctl(&args) {
                Ok(out) if out.status.success() => None,
                Ok(out) => Some((
                    tap.clone(),
                    io::Error::other(String::from_utf8_lossy(&out.stderr).trim().to_string()),
                )),
                Err(e) => Some((tap.clone(), e)),
            }
        })
        .collect()
}

/// The port's VLAN columns, as libvirt's
/// virNetDevOpenvswitchConstructVlans writes them on `add-port`.
fn vlan_settings(v: &crate::model::Vlan) -> Vec<String> {
    let mut out = Vec::new();
    if let Some((tag, tagged)) = v.native {
        let mode = if tagged {
            "native-tagged"
        } else {
            "native-untagged"
        };
        out.push(format!("vlan_mode={mode}"));
        out.push(format!("tag={tag}"));
    }
    if v.trunk {
        let list: Vec<String> = v.tags.iter().map(u32::to_string).collect();
        out.push(format!("trunks={}", list.join(",")));
    } else if let (None, Some(t)) = (v.native, v.tags.first()) {
        out.push(format!("tag={t}"));
    }
    out
}
