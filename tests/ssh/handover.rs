//! The ssh channel handed to the daemon: `qvirtd --proxy` gives the
//! daemon its stdin and stdout (the pipes sshd made), and copies nothing
//! itself; a daemon that refuses the hand-over is still reached through
//! the proxy's byte copy.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::world::{World, wait_for};
use super::{connect, firmware_xml, names};

/// `(rchar, wchar)` of `/proc/PID/io`: the bytes a process read and
/// wrote through read and write calls.
fn io_of(pid: i32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/{pid}/io: {text}"))
    };
    (field("rchar:"), field("wchar:"))
}

/// What descriptor `fd` of `pid` is (`pipe:[INODE]`, `socket:[INODE]`...).
fn fd_link(pid: i32, fd: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/fd/{fd}"))
        .unwrap()
        .display()
        .to_string()
}

/// Every descriptor `pid` holds, as `fd_link` names them.
fn fd_links(pid: i32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|p| p.display().to_string())
        .collect()
}

/// The one proxy running in host B.
fn the_proxy(w: &World) -> i32 {
    wait_for("the proxy", Duration::from_secs(10), || {
        let p = w.b_processes("--proxy");
        (p.len() == 1).then(|| p[0])
    })
}

#[test]
fn the_daemon_serves_the_ssh_channel_and_the_proxy_copies_nothing() {
    let w = World::new("handover");
    let daemon = w.start_system_daemon();
    let d = connect(&w.uri("root", "system", ""));
    d.define_xml(&firmware_xml("fw-ho")).unwrap();
    let proxy = the_proxy(&w);
    // The proxy's stdin and stdout are sshd's pipes, and the daemon
    // holds both.
    let (input, output) = (fd_link(proxy, "0"), fd_link(proxy, "1"));
    assert!(
        input.starts_with("pipe:") && output.starts_with("pipe:"),
        "{input} {output}"
    );
    let held = fd_links(daemon.pid());
    assert!(
        held.contains(&input) && held.contains(&output),
        "daemon holds {held:?}"
    );
    // Calls and replies pass without the proxy reading or writing a byte.
    let before = io_of(proxy);
    for _ in 0..200 {
        assert_eq!(names(&*d), ["fw-ho"]);
    }
    assert_eq!(
        io_of(proxy),
        before,
        "the proxy read or wrote while calls went"
    );
    // The end of the connection ends the proxy, and the daemon lets the
    // pipes go.
    drop(d);
    wait_for("the proxy to end", Duration::from_secs(10), || {
        w.b_processes("--proxy").is_empty().then_some(())
    });
    wait_for(
        "the daemon to close the pipes",
        Duration::from_secs(10),
        || {
            let held = fd_links(daemon.pid());
            (!held.contains(&input) && !held.contains(&output)).then_some(())
        },
    );
    assert_eq!(w.ssh_clients(), Vec::<i32>::new());
}

/// A socket in front of the daemon that passes bytes and not
/// descriptors (as a daemon that knows no hand-over reads its socket):
/// the daemon sees the request without the descriptors and refuses it.
/// Keeps the first four bytes the daemon sent on each connection.
fn relay(listen: &Path, daemon: &Path) -> Arc<Mutex<Vec<Vec<u8>>>> {
    let listener = UnixListener::bind(listen).unwrap();
    let firsts = Arc::new(Mutex::new(Vec::new()));
    let daemon = daemon.to_path_buf();
    let record = firsts.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let Ok(mut up) = UnixStream::connect(&daemon) else {
                return;
            };
            let (mut c2, mut u2) = (client.try_clone().unwrap(), up.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c2, &mut u2);
                let _ = u2.shutdown(std::net::Shutdown::Write);
            });
            let record = record.clone();
            std::thread::spawn(move || {
                let mut first = [0u8; 4];
                if up.read_exact(&mut first).is_err() {
                    return;
                }
                record.lock().unwrap().push(first.to_vec());
                let _ = client.write_all(&first);
                let _ = std::io::copy(&mut up, &mut client);
                let _ = client.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    firsts
}

#[test]
fn a_daemon_that_refuses_the_channel_is_reached_through_the_copy() {
    let w = World::new("refused");
    let _daemon = w.start_system_daemon();
    let sock = w.dir.join("relay-sock");
    let firsts = relay(&sock, &w.on_b("/run/qvirt/qvirt-sock"));
    let d = connect(&w.uri("root", "system", &format!("socket={}", sock.display())));
    d.define_xml(&firmware_xml("fw-copy")).unwrap();
    let proxy = the_proxy(&w);
    let before = io_of(proxy);
    for _ in 0..200 {
        assert_eq!(names(&*d), ["fw-copy"]);
    }
    let after = io_of(proxy);
    // The proxy copied every call and reply.
    assert!(
        after.0 > before.0 + 200 * 16 && after.1 > before.1 + 200 * 16,
        "{before:?} {after:?}"
    );
    // It first asked on a connection the daemon refused, then copied on
    // a second one.
    let firsts = firsts.lock().unwrap().clone();
    assert_eq!(firsts.len(), 2, "{firsts:?}");
    assert_eq!(firsts[0], b"QVNO", "{firsts:?}");
    assert_ne!(firsts[1], b"QVNO", "{firsts:?}");
    drop(d);
    wait_for("the proxy to end", Duration::from_secs(10), || {
        w.b_processes("--proxy").is_empty().then_some(())
    });
}

/// libvirt's side: `virt-ssh-helper` (what virsh runs over ssh) hands
/// the channel to the daemon's libvirt socket the same way, before any
/// byte of libvirt's protocol.
#[test]
fn virt_ssh_helper_hands_the_channel_to_the_daemon() {
    let w = World::new("lvhandover");
    let daemon = w.start_system_daemon();
    let mut ssh = std::process::Command::new(w.dir.join("ssh"))
        .arg("-i")
        .arg(w.dir.join("id"))
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            w.dir.join("known_hosts").display()
        ))
        .args(["-T", "-o", "BatchMode=yes"])
        .arg(format!("root@{}", super::world::B_ADDR))
        .arg("virt-ssh-helper qemu:///system")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let helper = wait_for("virt-ssh-helper", Duration::from_secs(20), || {
        let p = w.b_processes("virt-ssh-helper");
        (p.len() == 1).then(|| p[0])
    });
    let input = fd_link(helper, "0");
    assert!(input.starts_with("pipe:"), "{input}");
    wait_for(
        "the daemon to hold the channel",
        Duration::from_secs(10),
        || fd_links(daemon.pid()).contains(&input).then_some(()),
    );
    // The client's end closes the connection: the helper ends.
    drop(ssh.stdin.take());
    let status = ssh.wait().unwrap();
    assert!(status.success(), "{status}");
    wait_for("the helper to end", Duration::from_secs(10), || {
        w.b_processes("virt-ssh-helper").is_empty().then_some(())
    });
}
