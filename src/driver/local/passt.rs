//! One passt per user interface with `<backend type='passt'>`, as
//! libvirt's `qemu_passt.c` runs it: started before QEMU on the UNIX
//! socket QEMU's `-netdev stream` connects to, with the guest's network
//! and port forwards as its options. passt (`--one-off`) exits when QEMU
//! closes the socket; the pids kept in the run directory let the run's
//! end stop any left, and a failed start kills them.

use std::ffi::OsString;
use std::path::Path;

use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, Interface, PortForward, PortProto};
use crate::qemu::argv::passt_socket;

/// The file in the run directory listing the passt processes.
const PIDS_FILE: &str = "passt.pids";

/// Where Debian's package `passt` puts it.
const PROGRAM: &str = "/usr/bin/passt";

/// The running passt processes of a start.
pub type PasstProcs = super::helper_procs::HelperProcs;

/// passt's `-t`/`-u` specification of `<portForward>`, as libvirt writes
/// it: `[ADDRESS[%DEV]/]RANGE,...`, each range `[~]START[-END][:TO[-TOEND]]`
/// (`~` for an excluded one).
fn port_spec(pf: &PortForward) -> String {
    let mut spec = String::new();
    if let Some(a) = &pf.address {
        spec.push_str(a);
        if let Some(d) = &pf.dev {
            spec.push('%');
            spec.push_str(d);
        }
        spec.push('/');
    }
    let ranges: Vec<String> = pf
        .ranges
        .iter()
        .map(|r| {
            let mut s = if r.exclude { "~" } else { "" }.to_string();
            s.push_str(&r.start.to_string());
            if let Some(e) = r.end {
                s.push_str(&format!("-{e}"));
            }
            if let Some(to) = r.to {
                s.push_str(&format!(":{to}"));
                if let Some(e) = r.end {
                    s.push_str(&format!(
                        "-{}",
                        u32::from(e) + u32::from(to) - u32::from(r.start)
                    ));
                }
            }
            s
        })
        .collect();
    spec.push_str(&ranges.join(","));
    spec
}

/// passt's command line for interface `net` on `socket`, running as the
/// user QEMU runs as (`uid:gid`; passt started by root otherwise drops
/// to `nobody`, who cannot reach the run directory). libvirt 9.0 also
/// passes the guest's MAC as `--mac-addr`, which passt takes as its own
/// address towards the guest; it is left out, and passt learns the
/// guest's MAC from its first frame.
pub fn argv(net: &Interface, socket: &Path, uid: u32, gid: u32) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec![PROGRAM.into()];
    let mut add = |words: &[&str]| argv.extend(words.iter().map(OsString::from));
    add(&["--foreground", "--one-off"]);
    add(&["--socket", &socket.to_string_lossy()]);
    add(&["--runas", &format!("{uid}:{gid}")]);
    if let Some(mtu) = net.mtu {
        add(&["--mtu", &mtu.to_string()]);
    }
    if let Some(p) = &net.passt {
        if let Some(dev) = &p.dev {
            add(&["--interface", dev]);
        }
        if let Some(log) = &p.log_file {
            add(&["--log-file", log]);
        }
    }
    for ip in &net.ips {
        add(&["--address", &ip.address.to_string()]);
        if let (Some(p), true) = (ip.prefix, ip.address.is_ipv4()) {
            add(&["--netmask", &p.to_string()]);
        }
    }
    for pf in &net.port_forwards {
        let flag = match pf.proto {
            PortProto::Tcp => "--tcp-ports",
            PortProto::Udp => "--udp-ports",
        };
        add(&[flag, &port_spec(pf)]);
    }
    argv
}

/// Starts one passt per passt interface of `def`, each listening before
/// this returns; `log` takes their output.
///
/// Errors: [`ErrorCode::NoSupport`] without passt;
/// [`ErrorCode::OperationFailed`] when passt exits or does not listen
/// (with its log's tail).
pub fn start(def: &DomainDef, run_dir: &Path, log: &Path) -> Result<PasstProcs> {
    let mut started = PasstProcs::default();
    let (uid, gid) = (nix::unistd::getuid(), nix::unistd::getgid());
    for (i, net) in def.devices.interfaces.iter().enumerate() {
        if net.passt.is_none() {
            continue;
        }
        if !Path::new(PROGRAM).is_file() {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!(
                    "cannot start domain '{}': passt is not installed ({PROGRAM}), which interface {} (<backend type='passt'>) needs; install the Debian package passt",
                    def.name, net.mac
                ),
            ));
        }
        let socket = passt_socket(run_dir, i);
        started.spawn_listening(
            &argv(net, &socket, uid.as_raw(), gid.as_raw()),
            &socket,
            log,
            &def.name,
            &format!("passt for interface {}", net.mac),
        )?;
    }
    started.record(run_dir, PIDS_FILE)?;
    Ok(started)
}

/// Ends the passt processes of a run that is over.
pub fn stop(run_dir: &Path) {
    super::helper_procs::stop(run_dir, PIDS_FILE);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_forwards_are_written_as_libvirt_writes_them() {
        let def = DomainDef::from_xml(
            "<domain type='qemu'><name>p</name><memory>65536</memory><os><type>hvm</type></os><devices>\
             <interface type='user'><source dev='eth42'/>\
             <ip address='172.17.2.0' family='ipv4' prefix='24'/>\
             <ip address='2001:db8:ac10:fd01::feed' family='ipv6'/>\
             <portForward proto='tcp' address='2001:db8:ac10:fd01::1:10'>\
             <range start='22' to='2022'/><range start='1000' end='1050'/>\
             <range start='1020' exclude='yes'/><range start='1030' end='1040' exclude='yes'/></portForward>\
             <portForward proto='udp' address='1.2.3.4' dev='eth0'>\
             <range start='5000' end='5020' to='6000'/><range start='5010' end='5015' exclude='yes'/></portForward>\
             <portForward proto='tcp'><range start='443' to='344'/></portForward>\
             <mtu size='1400'/><backend type='passt' logFile='/var/log/loglaw.blog'/></interface></devices></domain>",
        )
        .unwrap();
        let argv: Vec<String> = argv(
            &def.devices.interfaces[0],
            Path::new("/run/x/net0-passt.sock"),
            0,
            0,
        )
        .into_iter()
        .map(|a| a.into_string().unwrap())
        .collect();
        assert_eq!(
            argv.join(" "),
            "/usr/bin/passt --foreground --one-off --socket /run/x/net0-passt.sock --runas 0:0 --mtu 1400 \
             --interface eth42 --log-file /var/log/loglaw.blog \
             --address 172.17.2.0 --netmask 24 --address 2001:db8:ac10:fd01::feed \
             --tcp-ports 2001:db8:ac10:fd01::1:10/22:2022,1000-1050,~1020,~1030-1040 \
             --udp-ports 1.2.3.4%eth0/5000-5020:6000-6020,~5010-5015 \
             --tcp-ports 443:344"
        );
    }
}
