//! What the host sets on a tap beyond making it: its isolation as a
//! bridge port (`<port isolated>`, through sysfs as libvirt's
//! `virNetDevBridgePortSetIsolated`), and the addresses and routes of an
//! ethernet interface's `<source>` (`ip`, as libvirt's
//! `virNetDevIPInfoAddToDev` adds them over netlink).

use crate::error::{Error, ErrorCode, Result};
use crate::model::{HostIp, HostRoute, TapSettings};

/// Makes `tap`, a port of a kernel bridge, isolated or not: an isolated
/// port's frames reach no other isolated port of the bridge.
pub(crate) fn set_isolated(tap: &str, isolated: bool) -> Result<()> {
    let path = format!("/sys/class/net/{tap}/brport/isolated");
    std::fs::write(&path, if isolated { "1" } else { "0" }).map_err(|e| {
        let code = match e.kind() {
            // A kernel before 5.2 has no port isolation.
            std::io::ErrorKind::NotFound => ErrorCode::NoSupport,
            _ => ErrorCode::OperationFailed,
        };
        Error::new(
            code,
            format!(
                "cannot make bridge port '{tap}' {}isolated (<port isolated>) through {path}: {e}",
                if isolated { "" } else { "not " }
            ),
        )
    })
}

/// The `ip` arguments that give `tap` address `ip`: with a peer, the
/// prefix is the peer's network (point to point), as libvirt's netlink
/// request sets it; else IPv4 gets its broadcast address.
fn addr_args(tap: &str, ip: &HostIp) -> Vec<String> {
    let prefix = ip.effective_prefix().unwrap_or(0);
    let mut args = vec!["addr".to_string(), "add".to_string()];
    match ip.peer {
        Some(peer) => {
            args.extend([ip.address.to_string(), "peer".into()]);
            args.push(format!("{peer}/{prefix}"));
        }
        None => {
            args.push(format!("{}/{prefix}", ip.address));
            if ip.address.is_ipv4() {
                args.extend(["broadcast".into(), "+".into()]);
            }
        }
    }
    args.extend(["dev".into(), tap.to_string()]);
    args
}

/// The `ip` arguments that add (`verb` "add") or remove ("del") `route`
/// through `tap`.
fn route_args(tap: &str, verb: &str, route: &HostRoute) -> Vec<String> {
    let prefix = route.effective_prefix().unwrap_or(0);
    let mut args = vec![
        if route.address.is_ipv6() { "-6" } else { "-4" }.to_string(),
        "route".into(),
        verb.into(),
        format!("{}/{prefix}", route.address),
        "via".into(),
        route.gateway.to_string(),
        "dev".into(),
        tap.to_string(),
    ];
    if let Some(m) = route.metric {
        args.extend(["metric".into(), m.to_string()]);
    }
    args
}

/// Runs `ip ARGS`; the error names the device and `ip`'s words.
fn ip(tap: &str, args: &[String]) -> Result<()> {
    let out = super::iproute2("ip", args, &format!("the host addresses of tap '{tap}'"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::OperationFailed,
        format!(
            "cannot set up tap '{tap}': ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    ))
}

/// Gives `tap` the addresses, then the routes, of `tap_settings`.
pub(crate) fn add_addresses(tap: &str, settings: &TapSettings) -> Result<()> {
    for a in &settings.ips {
        ip(tap, &addr_args(tap, a))?;
    }
    for r in &settings.routes {
        ip(tap, &route_args(tap, "add", r))?;
    }
    Ok(())
}

/// Takes back from a tap the manager did not make (and so does not
/// remove) the routes and addresses it gave it, so that the next start
/// can give them again; returns what could not be taken back.
pub(crate) fn remove_addresses(tap: &str, settings: &TapSettings) -> Vec<Error> {
    let mut failed = Vec::new();
    for r in &settings.routes {
        failed.extend(ip(tap, &route_args(tap, "del", r)).err());
    }
    for a in &settings.ips {
        let mut args = addr_args(tap, a);
        args[1] = "del".into();
        failed.extend(ip(tap, &args).err());
    }
    failed
}

/// `SIOCBRDELIF` from `<linux/sockios.h>` (the libc crate lacks it).
const SIOCBRDELIF: nix::libc::c_ulong = 0x89a3;

/// Moves `tap` from kernel bridge `old` to kernel bridge `new`, as
/// libvirt's qemuDomainChangeNetBridge does for a running interface:
/// `new` must exist; when joining it fails, the tap goes back to `old`.
/// An isolated port (`isolated`) is isolated in its new bridge too.
pub(crate) fn move_tap(tap: &str, old: &str, new: &str, isolated: bool) -> Result<()> {
    let sock = super::control_socket()?;
    if super::if_index(&sock, new).is_err() {
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!("unable to access bridge '{new}'"),
        ));
    }
    let index = super::if_index(&sock, tap)
        .map_err(|e| Error::io(format!("cannot look up tap '{tap}'"), e))?;
    let bridge_ioctl = |request: nix::libc::c_ulong, br: &str| {
        let mut ifr = super::ifreq(br);
        ifr.ifr_ifru.ifru_ifindex = index;
        super::ifreq_ioctl(&sock, request, &mut ifr)
    };
    // A bridge that is gone has let go of its ports already.
    if let Err(e) = bridge_ioctl(SIOCBRDELIF, old)
        && super::if_index(&sock, old).is_ok()
    {
        return Err(Error::io(
            format!("cannot take tap '{tap}' out of bridge '{old}'"),
            e,
        ));
    }
    let joined = bridge_ioctl(super::SIOCBRADDIF, new)
        .map_err(|e| Error::io(format!("cannot add tap '{tap}' to bridge '{new}'"), e))
        .and_then(|()| match isolated {
            true => set_isolated(tap, true),
            false => Ok(()),
        });
    if let Err(e) = joined {
        let _ = bridge_ioctl(SIOCBRDELIF, new);
        if bridge_ioctl(super::SIOCBRADDIF, old).is_err() {
            return Err(Error::new(
                e.code,
                format!(
                    "{}; unable to recover former state by adding port to bridge {old}",
                    e.message
                ),
            ));
        }
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_routes_as_ip_takes_them() {
        let ip = HostIp {
            address: "192.168.125.1".parse().unwrap(),
            prefix: Some(24),
            peer: Some("192.168.125.2".parse().unwrap()),
        };
        assert_eq!(
            addr_args("t0", &ip).join(" "),
            "addr add 192.168.125.1 peer 192.168.125.2/24 dev t0"
        );
        let plain = HostIp {
            address: "10.1.2.3".parse().unwrap(),
            prefix: None,
            peer: None,
        };
        assert_eq!(
            addr_args("t0", &plain).join(" "),
            "addr add 10.1.2.3/8 broadcast + dev t0"
        );
        let route = HostRoute {
            family: None,
            address: "10.20.0.0".parse().unwrap(),
            prefix: Some(16),
            netmask: None,
            gateway: "192.168.125.2".parse().unwrap(),
            metric: Some(5),
        };
        assert_eq!(
            route_args("t0", "add", &route).join(" "),
            "-4 route add 10.20.0.0/16 via 192.168.125.2 dev t0 metric 5"
        );
    }
}
