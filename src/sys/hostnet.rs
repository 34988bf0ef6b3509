//! Host resources of a domain's network interfaces, set up around QEMU:
//! the host ports user networking forwards are checked free before QEMU
//! starts (a taken port is then a clear error naming it, not a QEMU
//! failure), and the tap devices of bridge and ethernet interfaces are
//! created before QEMU starts (with a MAC derived from the guest's, added
//! to their bridge, up) and removed once it has stopped.
//!
//! The macvtap devices of direct interfaces are created (on their host
//! device, with the guest's MAC and the mode asked for, up) once the
//! domain's runtime directory exists, opened, and handed to QEMU as
//! descriptors; they are removed with the taps.
//!
//! Taps are made with the TUNSETIFF ioctl and marked persistent so that
//! QEMU can open them by name (`ifname=`, `script=no`). Making one needs
//! CAP_NET_ADMIN in the network namespace the manager runs in: the system
//! instance has it, a session usually does not.

use std::fs::{File, OpenOptions};
use std::io;
use std::net::{IpAddr, Ipv4Addr, TcpListener, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;

use nix::libc;
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socket};

use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, InterfaceType, MacAddr, PortProto};

pub(crate) mod coalesce;
mod macvtap;
pub(crate) mod shaping;
mod sockets;
mod tap_host;
mod tap_open;

pub(crate) use tap_host::move_tap;
pub(crate) use tap_open::open_custom_taps;
use tap_open::use_users_tap;

pub(crate) use sockets::check_socket_ports;

/// The tun/tap control device.
const TUN_DEVICE: &str = "/dev/net/tun";
/// `SIOCBRADDIF` from `<linux/sockios.h>` (the libc crate lacks it).
const SIOCBRADDIF: libc::c_ulong = 0x89a2;
/// The name template of taps qvirt names itself; the kernel fills in the
/// lowest free number, so two managers never pick the same name.
const AUTO_TAP: &str = "vnet%d";
/// Target names with this prefix are qvirt's (or libvirt's) own choice,
/// made afresh at every start, as libvirt does.
const AUTO_PREFIX: &str = "vnet";

/// Runs iproute2's `tool` (`ip`, `tc`) with `args`, its input empty: its
/// output, whatever its status. A host without the tool is `NoSupport`,
/// naming what needed it (`for_what`) and the package.
pub(crate) fn iproute2<S: AsRef<std::ffi::OsStr>>(
    tool: &str,
    args: &[S],
    for_what: &str,
) -> Result<std::process::Output> {
    std::process::Command::new(tool)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            Error::new(
                ErrorCode::NoSupport,
                format!("{for_what} needs {tool} (Debian package iproute2): {e}"),
            )
        })
}

/// Checks that every host port the user-networking interfaces of `def`
/// forward can be bound now; `ResourceBusy` names the first that cannot.
/// Addresses QEMU cannot use are left for the command line to refuse.
pub(crate) fn check_forwards(def: &DomainDef) -> Result<()> {
    for net in &def.devices.interfaces {
        if net.kind != InterfaceType::User {
            continue;
        }
        for rule in &net.port_forwards {
            let addr = match rule.address.as_deref() {
                // passt listens on every address, QEMU on loopback.
                None if net.passt.is_some() => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                None => IpAddr::V4(Ipv4Addr::LOCALHOST),
                Some(text) => match text.parse::<IpAddr>() {
                    Ok(a @ IpAddr::V4(_)) => a,
                    _ => continue,
                },
            };
            let excluded = |port: u16| {
                rule.ranges
                    .iter()
                    .any(|r| r.exclude && (r.start..=r.end.unwrap_or(r.start)).contains(&port))
            };
            for range in rule.ranges.iter().filter(|r| !r.exclude) {
                let end = range.end.unwrap_or(range.start).max(range.start);
                for port in (range.start..=end).filter(|p| !excluded(*p)) {
                    let guest =
                        u32::from(range.to.unwrap_or(range.start)) + u32::from(port - range.start);
                    let (proto, bound) = match rule.proto {
                        PortProto::Tcp => ("tcp", TcpListener::bind((addr, port)).map(drop)),
                        PortProto::Udp => ("udp", UdpSocket::bind((addr, port)).map(drop)),
                    };
                    if let Err(e) = bound {
                        return Err(port_taken(def, proto, addr, port, guest, &e));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Why a host port cannot be bound, with the code that says so: in use,
/// privileged, not an address of this host, or the system's words.
fn bind_failure(e: &io::Error) -> (ErrorCode, String) {
    match e.kind() {
        io::ErrorKind::AddrInUse => (ErrorCode::ResourceBusy, "is already in use".to_string()),
        io::ErrorKind::PermissionDenied => (
            ErrorCode::OperationDenied,
            "may not be bound by this manager (ports below 1024 need privilege)".to_string(),
        ),
        io::ErrorKind::AddrNotAvailable => (
            ErrorCode::OperationFailed,
            "is not an address of this host".to_string(),
        ),
        _ => (ErrorCode::OperationFailed, format!("cannot be bound ({e})")),
    }
}

/// The error for a forwarded host port that cannot be bound.
fn port_taken(
    def: &DomainDef,
    proto: &str,
    addr: IpAddr,
    port: u16,
    guest: u32,
    e: &io::Error,
) -> Error {
    let (code, why) = bind_failure(e);
    Error::new(
        code,
        format!(
            "cannot start domain '{}': host port {port}/{proto} on {addr}, forwarded to guest port {guest}, {why}; choose another <range start=...> in its <portForward>",
            def.name
        ),
    )
}

/// Creates a tap for each bridge and ethernet interface of `def` and
/// writes its name into the interface's `target_dev` (a name the
/// definition gives is used, unless it is a `vnet` name, which is chosen
/// afresh); an ethernet interface's tap made beforehand by the user
/// (`<target managed='no'>`) is checked and used as it is. On failure the
/// taps made so far are removed again.
pub(crate) fn create_taps(def: &mut DomainDef) -> Result<()> {
    let name = def.name.clone();
    let vm_id = def.uuid.hyphenated().to_string();
    let mut made: Vec<String> = Vec::new();
    let mut ovs_made: Vec<String> = Vec::new();
    let mut downs: Vec<(String, String)> = Vec::new();
    let mut users: Vec<crate::model::Interface> = Vec::new();
    for (i, net) in def.devices.interfaces.iter_mut().enumerate() {
        let bridge = match &net.kind {
            InterfaceType::Bridge(b) => Some(b.clone()),
            InterfaceType::Ethernet => None,
            _ => continue,
        };
        if !net.tap.is_managed() {
            match use_users_tap(&name, i, net) {
                Ok(()) => {
                    users.push(net.clone());
                    continue;
                }
                Err(e) => {
                    undo_taps(&users, &downs, &ovs_made, &made);
                    return Err(e);
                }
            }
        }
        let wanted = net
            .target_dev
            .clone()
            .filter(|t| !t.starts_with(AUTO_PREFIX));
        let multiqueue = net.driver.is_some_and(|d| d.queue_pairs() > 1);
        // An Open vSwitch bridge takes its ports through ovs-vsctl, not
        // the kernel bridge's ioctl.
        let ovs = net.virtualport.is_some();
        let kernel_bridge = if ovs { None } else { bridge.as_deref() };
        let tap = make_tap(
            &name,
            i,
            wanted.as_deref(),
            kernel_bridge,
            net.mac,
            multiqueue,
            net.mtu,
            net.tap.tun_path.as_deref().unwrap_or(TUN_DEVICE),
        )
        .and_then(|tap| {
            if let (Some(port), Some(br)) = (&net.virtualport, &bridge) {
                // libvirt makes up an interface id when none is written.
                let id = port
                    .interface_id
                    .unwrap_or_else(uuid::Uuid::new_v4)
                    .hyphenated()
                    .to_string();
                if let Err(e) = super::ovs::add_port(&name, br, &tap, net.mac, port, &id, &vm_id) {
                    remove_taps(std::slice::from_ref(&tap));
                    return Err(e);
                }
                ovs_made.push(tap.clone());
            }
            if let Some(bw) = &net.bandwidth
                && let Err(e) = shaping::shape(&tap, bw, false)
            {
                remove_taps(std::slice::from_ref(&tap));
                return Err(e);
            }
            if let Some(isolated) = net.tap.isolated
                && let Err(e) = tap_host::set_isolated(&tap, isolated)
            {
                remove_taps(std::slice::from_ref(&tap));
                return Err(Error::new(
                    e.code,
                    format!("cannot start domain '{name}': {}", e.message),
                ));
            }
            if let (InterfaceType::Ethernet, Some(script)) = (&net.kind, &net.scripts.up)
                && let Err(e) = run_script(script, &tap)
            {
                remove_taps(std::slice::from_ref(&tap));
                return Err(Error::new(
                    e.code,
                    format!("cannot start domain '{name}': {}", e.message),
                ));
            }
            // A tap that is removed takes its addresses and routes along.
            if let Err(e) = tap_host::add_addresses(&tap, &net.tap) {
                remove_taps(std::slice::from_ref(&tap));
                return Err(Error::new(
                    e.code,
                    format!("cannot start domain '{name}': {}", e.message),
                ));
            }
            if let Some(frames) = net.coalesce_rx_frames {
                match set_coalesce(&name, i, &tap, frames) {
                    // The running definition shows what the tap took, as
                    // libvirt's does.
                    Ok(took) => net.coalesce_rx_frames = Some(took),
                    Err(e) => {
                        remove_taps(std::slice::from_ref(&tap));
                        return Err(e);
                    }
                }
            }
            Ok(tap)
        });
        match tap {
            Ok(tap) => {
                if let (InterfaceType::Ethernet, Some(down)) = (&net.kind, &net.scripts.down) {
                    downs.push((tap.clone(), down.clone()));
                }
                net.target_dev = Some(tap.clone());
                made.push(tap);
            }
            Err(e) => {
                undo_taps(&users, &downs, &ovs_made, &made);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Undoes what [`create_taps`] set up before it failed, as a stop would:
/// the user's taps `users` released, the downscripts `downs` (tap,
/// script) run, the Open vSwitch ports `ovs_made` and the taps `made`
/// removed.
fn undo_taps(
    users: &[crate::model::Interface],
    downs: &[(String, String)],
    ovs_made: &[String],
    made: &[String],
) {
    release(users);
    for (tap, down) in downs {
        let _ = run_script(down, tap);
    }
    super::ovs::del_ports(ovs_made);
    remove_taps(made);
}

/// Lets go of the host devices of interfaces `nets` that the manager
/// made (taken out of their Open vSwitch bridge first, for those on one);
/// returns those that could not be, with why, for the caller to log.
pub(crate) fn release(nets: &[crate::model::Interface]) -> Vec<(String, io::Error)> {
    let named = |ovs: bool| -> Vec<String> {
        nets.iter()
            .filter(|n| n.kind.has_host_tap() && n.tap.is_managed())
            .filter(|n| !ovs || n.virtualport.is_some())
            .filter_map(|n| n.target_dev.clone())
            .collect()
    };
    // An ethernet tap's downscript, while the tap is still there.
    let mut failed: Vec<(String, io::Error)> = nets
        .iter()
        .filter(|n| n.kind == InterfaceType::Ethernet)
        .filter_map(|n| Some((n.scripts.down.as_deref()?, n.target_dev.as_deref()?)))
        .filter_map(|(script, tap)| {
            run_script(script, tap)
                .err()
                .map(|e| (tap.to_string(), io::Error::other(e.message)))
        })
        .collect();
    // The user's taps stay, without what the manager gave them.
    for n in nets.iter().filter(|n| !n.tap.is_managed()) {
        if let Some(tap) = &n.target_dev {
            failed.extend(
                tap_host::remove_addresses(tap, &n.tap)
                    .into_iter()
                    .map(|e| (tap.clone(), io::Error::other(e.message))),
            );
        }
    }
    failed.extend(super::ovs::del_ports(&named(true)));
    failed.extend(remove_taps(&named(false)));
    failed
}

/// Runs an interface's `<script>` or `<downscript>` as libvirt does:
/// `SCRIPT TAP`, with the manager's environment; an empty path runs
/// nothing. Its output goes with the error when it fails.
fn run_script(script: &str, tap: &str) -> Result<()> {
    if script.is_empty() {
        return Ok(());
    }
    let out = std::process::Command::new(script)
        .arg(tap)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            Error::new(
                ErrorCode::OperationFailed,
                format!("cannot run the interface script {script} for tap {tap}: {e}"),
            )
        })?;
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr);
    let said = said.trim();
    let mut start = said.len().saturating_sub(512);
    while !said.is_char_boundary(start) {
        start += 1;
    }
    let tail = &said[start..];
    Err(Error::new(
        ErrorCode::OperationFailed,
        format!(
            "the interface script {script} {tap} failed ({}){}",
            out.status,
            if tail.is_empty() {
                String::new()
            } else {
                format!(": {tail}")
            }
        ),
    ))
}

/// Target names with these prefixes on a direct interface are libvirt's
/// own choice, made afresh at every start.
const AUTO_MACVTAP_PREFIXES: [&str; 3] = ["macvtap", "macvlan", AUTO_PREFIX];
/// The name template of macvtaps qvirt names itself.
const AUTO_MACVTAP: &str = "macvtap%d";

/// Creates a macvtap for each direct interface of `def`, writes its name
/// into the interface's `target_dev` (a name the definition gives is
/// used, unless it is a `macvtap`, `macvlan` or `vnet` name, which is
/// chosen afresh), and opens its character device (made in `node_dir`
/// where /dev lacks it). Returns each one's interface index and
/// descriptor. On failure the macvtaps made so far are removed again.
pub(crate) fn create_macvtaps(
    def: &mut DomainDef,
    node_dir: &std::path::Path,
) -> Result<Vec<(usize, OwnedFd)>> {
    let name = def.name.clone();
    let mut made: Vec<String> = Vec::new();
    let mut fds = Vec::new();
    for (i, net) in def.devices.interfaces.iter_mut().enumerate() {
        let InterfaceType::Direct { dev, mode } = &net.kind else {
            continue;
        };
        let wanted = net
            .target_dev
            .clone()
            .filter(|t| !AUTO_MACVTAP_PREFIXES.iter().any(|p| t.starts_with(p)));
        let what = format!("direct interface {i} ({}) of domain '{name}'", net.mac);
        let made_one = make_macvtap(
            &name,
            &what,
            wanted.as_deref(),
            dev,
            mode.as_str(),
            net.mac,
            node_dir,
        )
        .and_then(|(tap, fd)| match &net.bandwidth {
            Some(bw) => match shaping::shape(&tap, bw, true) {
                Ok(()) => Ok((tap, fd)),
                Err(e) => {
                    drop(fd);
                    remove_taps(std::slice::from_ref(&tap));
                    Err(e)
                }
            },
            None => Ok((tap, fd)),
        });
        match made_one {
            Ok((tap, fd)) => {
                net.target_dev = Some(tap.clone());
                made.push(tap);
                fds.push((i, fd));
            }
            Err(e) => {
                remove_taps(&made);
                return Err(e);
            }
        }
    }
    Ok(fds)
}

/// Makes one macvtap on `parent` for `what` and opens it; removes it
/// again when anything after its creation fails.
fn make_macvtap(
    dom: &str,
    what: &str,
    wanted: Option<&str>,
    parent: &str,
    mode: &str,
    mac: MacAddr,
    node_dir: &std::path::Path,
) -> Result<(String, OwnedFd)> {
    let failed = |why: String| {
        Error::new(
            ErrorCode::OperationFailed,
            format!("cannot start domain '{dom}': {why}"),
        )
    };
    let Some(mode_value) = macvtap::mode_value(mode) else {
        return Err(failed(format!("unknown macvtap mode '{mode}' of {what}")));
    };
    let sock = control_socket()?;
    let parent_index = match if_index(&sock, parent) {
        Ok(i) => i,
        Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {
            return Err(failed(format!(
                "host network device '{parent}' of {what} (<source dev='{parent}'>) does not exist on this host"
            )));
        }
        Err(e) => {
            return Err(Error::io(
                format!("cannot look up device '{parent}' of {what}"),
                e,
            ));
        }
    };
    let (tap, index) = match macvtap::add(
        wanted.unwrap_or(AUTO_MACVTAP),
        parent_index,
        mac.0,
        mode_value,
    ) {
        Ok(made) => made,
        Err(e) => {
            return Err(match e.raw_os_error() {
                Some(libc::EEXIST) => Error::new(
                    ErrorCode::ResourceBusy,
                    format!(
                        "cannot start domain '{dom}': network device '{}' of {what} already exists; qvirt creates its macvtaps itself, so name a free device in <target dev> or leave it out",
                        wanted.unwrap_or(AUTO_MACVTAP)
                    ),
                ),
                Some(libc::EPERM | libc::EACCES) => Error::new(
                    ErrorCode::OperationDenied,
                    format!(
                        "cannot start domain '{dom}': creating the macvtap device of {what} needs CAP_NET_ADMIN, which this manager lacks; use the system instance (qemu:///system, as root) for direct interfaces"
                    ),
                ),
                Some(libc::EOPNOTSUPP) => Error::new(
                    ErrorCode::NoSupport,
                    format!(
                        "cannot start domain '{dom}': this kernel cannot make the macvtap device of {what} (load the macvtap module)"
                    ),
                ),
                _ => failed(format!(
                    "cannot create a macvtap device on '{parent}' for {what}: {e}"
                )),
            });
        }
    };
    let opened = set_up(&sock, &tap)
        .and_then(|()| macvtap::open_device(&tap, index, std::path::Path::new("/dev"), node_dir));
    match opened {
        Ok(fd) => Ok((tap, fd)),
        Err(e) => {
            let _ = macvtap::delete(&tap);
            Err(failed(format!(
                "cannot set up macvtap '{tap}' on '{parent}' of {what}: {e}"
            )))
        }
    }
}

/// The taps and macvtaps qvirt made for the running definition `def`:
/// the target devices of its bridge, ethernet and direct interfaces.
pub(crate) fn taps_of(def: &DomainDef) -> Vec<String> {
    def.devices
        .interfaces
        .iter()
        .filter(|n| n.kind.has_host_tap())
        .filter_map(|n| n.target_dev.clone())
        .collect()
}

/// Removes the taps and macvtaps `names`; returns those that could not
/// be removed, with why, for the caller to log. A macvtap already gone
/// is not an error.
pub(crate) fn remove_taps(names: &[String]) -> Vec<(String, io::Error)> {
    names
        .iter()
        .filter_map(|n| {
            let removed = match macvtap::kind(n) {
                Ok(Some(kind)) if kind == "macvtap" => macvtap::delete(n),
                Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
                _ => delete_tap(n),
            };
            removed.err().map(|e| (n.clone(), e))
        })
        .collect()
}

/// Makes one tap for interface `index` of domain `dom`: named `wanted`
/// (which must not exist yet) or by the kernel, with the guest's MAC
/// (first byte 0xfe, so the bridge never takes the guest's address as its
/// own), with MTU `mtu` (else the bridge's, as libvirt's
/// `virNetDevTapAttachBridge`, so that adding it never lowers the
/// bridge's), in `bridge` if any, and up; made through tun/tap control
/// device `tun`.
#[allow(clippy::too_many_arguments)]
fn make_tap(
    dom: &str,
    index: usize,
    wanted: Option<&str>,
    bridge: Option<&str>,
    mac: MacAddr,
    multiqueue: bool,
    mtu: Option<u32>,
    tun: &str,
) -> Result<String> {
    let what = format!("interface {index} ({mac}) of domain '{dom}'");
    let sock = control_socket()?;
    if let Some(br) = bridge
        && let Err(e) = if_index(&sock, br)
    {
        return Err(match e.raw_os_error() {
            Some(libc::ENODEV) => Error::new(
                ErrorCode::OperationFailed,
                format!(
                    "cannot start domain '{dom}': bridge '{br}' of {what} does not exist on this host (create it first, e.g. `ip link add {br} type bridge`)"
                ),
            ),
            _ => Error::io(format!("cannot look up bridge '{br}' of {what}"), e),
        });
    }
    if let Some(name) = wanted
        && if_index(&sock, name).is_ok()
    {
        return Err(Error::new(
            ErrorCode::ResourceBusy,
            format!(
                "cannot start domain '{dom}': network device '{name}' of {what} already exists; qvirt creates its taps itself, so name a free device in <target dev> or leave it out"
            ),
        ));
    }
    let tap = open_tap(wanted.unwrap_or(AUTO_TAP), multiqueue, tun)
        .map_err(|e| tap_error(dom, &what, tun, &e))?;
    let configured = (|| -> io::Result<()> {
        let mut hw = mac.0;
        hw[0] = 0xfe;
        set_hwaddr(&sock, &tap, hw)?;
        match (mtu, bridge) {
            (Some(m), _) => set_mtu(&sock, &tap, m)?,
            (None, Some(br)) => set_mtu(&sock, &tap, self::mtu(&sock, br)?)?,
            (None, None) => {}
        }
        if let Some(br) = bridge {
            let index = if_index(&sock, &tap)?;
            let mut ifr = ifreq(br);
            ifr.ifr_ifru.ifru_ifindex = index;
            ifreq_ioctl(&sock, SIOCBRADDIF, &mut ifr)?;
        }
        set_up(&sock, &tap)
    })();
    if let Err(e) = configured {
        let _ = delete_tap(&tap);
        let why = match (bridge, e.raw_os_error()) {
            (Some(br), Some(libc::EOPNOTSUPP | libc::EINVAL)) => {
                format!("'{br}' is not a bridge")
            }
            _ => e.to_string(),
        };
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!("cannot start domain '{dom}': cannot set up tap '{tap}' of {what}: {why}"),
        ));
    }
    Ok(tap)
}

/// Sets the `rx-frames` coalescing of `tap`, interface `index` of domain
/// `dom`, to `frames`; returns what the tap then reports. A failure
/// fails the start, as libvirt's `virNetDevSetCoalesce` does.
fn set_coalesce(dom: &str, index: usize, tap: &str, frames: u32) -> Result<u32> {
    let sock = control_socket()?;
    coalesce::set_rx_frames(&sock, tap, frames).map_err(|e| {
        let code = match e.raw_os_error() {
            Some(libc::EOPNOTSUPP | libc::EINVAL) => ErrorCode::NoSupport,
            Some(libc::EPERM | libc::EACCES) => ErrorCode::OperationDenied,
            _ => ErrorCode::OperationFailed,
        };
        Error::new(
            code,
            format!(
                "cannot start domain '{dom}': cannot set coalesce info on '{tap}' (interface {index}, <coalesce><rx><frames max='{frames}'/>): {e}"
            ),
        )
    })
}

/// The error for a tap that could not be created through `tun`.
fn tap_error(dom: &str, what: &str, tun: &str, e: &io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => Error::new(
            ErrorCode::OperationDenied,
            format!(
                "cannot start domain '{dom}': creating the tap device of {what} needs CAP_NET_ADMIN, which this manager lacks; use the system instance (qemu:///system, as root) for bridge and ethernet interfaces, or <interface type='user'>"
            ),
        ),
        Some(libc::ENOENT) => Error::new(
            ErrorCode::NoSupport,
            format!(
                "cannot start domain '{dom}': {tun} does not exist, so the tap device of {what} cannot be made (load the tun module, or name an existing tun device in <backend tap>)"
            ),
        ),
        _ => Error::new(
            ErrorCode::OperationFailed,
            format!(
                "cannot start domain '{dom}': cannot create the tap device of {what} through {tun}: {e}"
            ),
        ),
    }
}

/// Creates the persistent tap `name` (a `%d` in it is filled in by the
/// kernel), with several queues when `multiqueue` (QEMU opens one per
/// queue pair); returns its name.
fn open_tap(name: &str, multiqueue: bool, tun: &str) -> io::Result<String> {
    let tun = tun_device(tun)?;
    let mut ifr = ifreq(name);
    let mq = if multiqueue { libc::IFF_MULTI_QUEUE } else { 0 };
    ifr.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI | mq) as libc::c_short;
    ifreq_ioctl(&tun, libc::TUNSETIFF as libc::c_ulong, &mut ifr)?;
    let made = ifr_name(&ifr);
    // Should this fail, the tap is not persistent and goes away with the
    // descriptor.
    set_persist(&tun, true)?;
    Ok(made)
}

/// Removes the persistent tap `name`: attach to it, clear its persistence,
/// and let go of it.
///
/// A QEMU that was just killed may still hold the tap for a moment after
/// its process is gone (the kernel releases a dying process's files
/// later, from a worker), and attaching to it fails with EBUSY until
/// then: that is retried for up to a second.
fn delete_tap(name: &str) -> io::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        let tun = tun_device(TUN_DEVICE)?;
        let mut ifr = ifreq(name);
        ifr.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
        let mut attached = ifreq_ioctl(&tun, libc::TUNSETIFF as libc::c_ulong, &mut ifr);
        // A multiqueue tap is only attached to as one.
        if attached
            .as_ref()
            .is_err_and(|e| e.raw_os_error() == Some(libc::EINVAL))
        {
            let mut ifr = ifreq(name);
            ifr.ifr_ifru.ifru_flags =
                (libc::IFF_TAP | libc::IFF_NO_PI | libc::IFF_MULTI_QUEUE) as libc::c_short;
            attached = ifreq_ioctl(&tun, libc::TUNSETIFF as libc::c_ulong, &mut ifr);
        }
        match attached {
            Err(e)
                if e.raw_os_error() == Some(libc::EBUSY)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => return Err(e),
            Ok(()) => return set_persist(&tun, false),
        }
    }
}

/// Opens the tun/tap control device at `path`.
fn tun_device(path: &str) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
}

/// A socket to address network-device ioctls to.
fn control_socket() -> Result<OwnedFd> {
    socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| Error::io("cannot open a socket to set up network devices", e.into()))
}

/// The index of network device `name` (`ENODEV` when there is none).
fn if_index(sock: &OwnedFd, name: &str) -> io::Result<libc::c_int> {
    let mut ifr = ifreq(name);
    ifreq_ioctl(sock, libc::SIOCGIFINDEX, &mut ifr)?;
    // SAFETY: SIOCGIFINDEX succeeded, so the kernel filled in this field.
    #[allow(unsafe_code)]
    let index = unsafe { ifr.ifr_ifru.ifru_ifindex };
    Ok(index)
}

/// Sets the Ethernet address of device `name`.
fn set_hwaddr(sock: &OwnedFd, name: &str, mac: [u8; 6]) -> io::Result<()> {
    let mut ifr = ifreq(name);
    let mut addr: libc::sockaddr = zeroed_sockaddr();
    addr.sa_family = libc::ARPHRD_ETHER;
    for (d, s) in addr.sa_data.iter_mut().zip(mac) {
        *d = s as libc::c_char;
    }
    ifr.ifr_ifru.ifru_hwaddr = addr;
    ifreq_ioctl(sock, libc::SIOCSIFHWADDR, &mut ifr)
}

/// The MTU of device `name`.
fn mtu(sock: &OwnedFd, name: &str) -> io::Result<u32> {
    let mut ifr = ifreq(name);
    ifreq_ioctl(sock, libc::SIOCGIFMTU, &mut ifr)?;
    // SAFETY: SIOCGIFMTU succeeded, so the kernel filled in this field.
    #[allow(unsafe_code)]
    let mtu = unsafe { ifr.ifr_ifru.ifru_mtu };
    Ok(mtu as u32)
}

/// Sets the MTU of device `name`.
fn set_mtu(sock: &OwnedFd, name: &str, mtu: u32) -> io::Result<()> {
    let mut ifr = ifreq(name);
    ifr.ifr_ifru.ifru_mtu = mtu as libc::c_int;
    ifreq_ioctl(sock, libc::SIOCSIFMTU, &mut ifr)
}

/// Brings device `name` up.
fn set_up(sock: &OwnedFd, name: &str) -> io::Result<()> {
    let mut ifr = ifreq(name);
    ifreq_ioctl(sock, libc::SIOCGIFFLAGS, &mut ifr)?;
    // SAFETY: SIOCGIFFLAGS succeeded, so the kernel filled in this field.
    #[allow(unsafe_code)]
    let flags = unsafe { ifr.ifr_ifru.ifru_flags };
    ifr.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    ifreq_ioctl(sock, libc::SIOCSIFFLAGS, &mut ifr)
}

/// Sets or clears the persistence of the tap attached to `tun`.
fn set_persist(tun: &File, on: bool) -> io::Result<()> {
    // SAFETY: TUNSETPERSIST takes its argument by value (an unsigned
    // long); no memory is passed.
    #[allow(unsafe_code)]
    let rc = unsafe {
        libc::ioctl(
            tun.as_raw_fd(),
            libc::TUNSETPERSIST as _,
            libc::c_ulong::from(on),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Runs an ioctl that takes a `struct ifreq`.
fn ifreq_ioctl(fd: &impl AsRawFd, request: libc::c_ulong, ifr: &mut libc::ifreq) -> io::Result<()> {
    // SAFETY: `ifr` is a valid, initialised ifreq that outlives the call,
    // and every request passed here reads or writes that struct only,
    // except SIOCETHTOOL, which also uses the ethtool struct `ifru_data`
    // points to: its caller (`coalesce::ethtool`) passes a live one of
    // the size the command takes.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request as _, ifr as *mut libc::ifreq) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// An all-zero `ifreq` naming device `name` (cut to the 15 bytes a name
/// may have; the model checks names before they get here).
fn ifreq(name: &str) -> libc::ifreq {
    // SAFETY: ifreq is plain old data (arrays and a union of integers,
    // addresses and a pointer), for which all zero bytes are valid.
    #[allow(unsafe_code)]
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in ifr
        .ifr_name
        .iter_mut()
        .zip(name.bytes().take(libc::IFNAMSIZ - 1))
    {
        *d = s as libc::c_char;
    }
    ifr
}

/// An all-zero `sockaddr`.
fn zeroed_sockaddr() -> libc::sockaddr {
    libc::sockaddr {
        sa_family: 0,
        sa_data: [0; 14],
    }
}

/// The device name an ioctl left in `ifr`.
fn ifr_name(ifr: &libc::ifreq) -> String {
    let bytes: Vec<u8> = ifr
        .ifr_name
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_ifreq() {
        assert_eq!(ifr_name(&ifreq("vnet%d")), "vnet%d");
        assert_eq!(
            ifr_name(&ifreq("a-very-long-device-name")),
            "a-very-long-dev"
        );
    }

    #[test]
    fn taken_port_is_resource_busy_and_named() {
        let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = held.local_addr().unwrap().port();
        let xml = format!(
            "<domain type='qemu'><name>fwd</name><memory unit='MiB'>32</memory>\
             <os><type arch='x86_64'>hvm</type></os><devices>\
             <interface type='user'><portForward proto='tcp'>\
             <range start='{port}' to='80'/></portForward></interface>\
             </devices></domain>"
        );
        let def = DomainDef::from_xml(&xml).unwrap();
        let e = check_forwards(&def).unwrap_err();
        assert_eq!(e.code, ErrorCode::ResourceBusy);
        assert!(e.message.contains(&format!("host port {port}/tcp")), "{e}");
        drop(held);
        // Free again, it is accepted, unless another process took it in
        // between (an outgoing connection's ephemeral port): then the
        // refusal is right, which a bind of our own confirms.
        if let Err(e) = check_forwards(&def) {
            assert_eq!(e.code, ErrorCode::ResourceBusy, "{e}");
            assert!(
                TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err(),
                "{e}"
            );
        }
    }
}

/// The IPv4 neighbours of this network namespace's ARP table
/// (`/proc/net/arp`) that are complete: (address, MAC in lower case).
pub(crate) fn arp_table() -> io::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string("/proc/net/arp")?;
    Ok(parse_arp(&text))
}

/// `/proc/net/arp`'s rows: `IP address, HW type, Flags, HW address, Mask,
/// Device`; flag 0x2 marks a complete entry.
fn parse_arp(text: &str) -> Vec<(String, String)> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let flags = u32::from_str_radix(f.get(2)?.trim_start_matches("0x"), 16).ok()?;
            let mac = f.get(3)?.to_ascii_lowercase();
            (flags & 0x2 != 0).then(|| (f[0].to_string(), mac))
        })
        .collect()
}

#[cfg(test)]
mod arp_tests {
    #[test]
    fn complete_entries_only() {
        let text = "IP address       HW type     Flags       HW address            Mask     Device\n\
                    10.0.3.11        0x1         0x2         52:54:00:03:00:11     *        br0\n\
                    10.0.3.99        0x1         0x0         00:00:00:00:00:00     *        br0\n";
        assert_eq!(
            super::parse_arp(text),
            [("10.0.3.11".to_string(), "52:54:00:03:00:11".to_string())]
        );
    }
}
