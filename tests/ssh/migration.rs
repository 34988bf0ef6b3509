//! `qvirt migrate DOMAIN qemu+ssh://HOST/system`: the source manager, a
//! `qvirtd --root DIR` in host A, reaches the destination manager, the
//! system daemon of host B, through its peer connector: OpenSSH and
//! `qvirtd --proxy` on B, as any client does. QEMU's own stream goes from
//! the QEMU in A to the QEMU in B over the veth pair (`--migrateuri
//! tcp://B`). The command is the real `qvirt`, as a user types it.

use std::process::Command;
use std::time::{Duration, Instant};

use qvirt::ErrorCode;
use qvirt::driver::{ConsoleStream, DomainState, ListFilter};

use crate::support::{Daemon, QVIRT, TestDir, process_alive, qemu_pid};
use crate::world::{B_ADDR, World};
use crate::{connect, guest_dir, linux_xml, read_until};

/// The guest's uptime in hundredths of a second, asked on its shell.
fn uptime(console: &mut dyn ConsoleStream) -> u64 {
    // The echoed command holds "UP=$(", never "UP=" and digits.
    console
        .write(b"echo UP=$(cut -d' ' -f1 /proc/uptime | tr -d .)=PU\n")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = String::new();
    loop {
        for (i, _) in seen.match_indices("UP=") {
            let rest = &seen[i + 3..];
            if let Some((digits, _)) = rest.split_once("=PU")
                && !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
            {
                return digits.parse().unwrap();
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no uptime on the console: {seen}");
        seen.push_str(&String::from_utf8_lossy(
            &console.read(left.min(Duration::from_secs(1))).unwrap(),
        ));
    }
}

/// Runs `qvirt -c SOURCE ARGS...`; its exit status and stderr.
fn qvirt(source: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(QVIRT)
        .arg("-c")
        .arg(source)
        .args(args)
        .output()
        .expect("run qvirt");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn qvirt_migrate_reaches_the_destination_manager_over_ssh() {
    let guest = guest_dir();
    let w = World::new("migrate");
    let _dest_daemon = w.start_system_daemon();
    let src_dir = TestDir::new("ssh-mig-src");
    let src_daemon = Daemon::start_under(&["ip", "netns", "exec", w.a_netns()], &src_dir.path, &[]);
    let source = src_daemon.uri();
    let a = src_daemon.connect();
    let dom = a.define_xml(&linux_xml("lx-mig", &guest)).unwrap();
    let dom = a.start(&dom).unwrap();
    let src_qemu = qemu_pid(&src_dir.path, "lx-mig");
    assert!(w.in_a(src_qemu), "the source QEMU runs in host A");
    let mut console = a.console(&dom, false).unwrap();
    read_until(&mut *console, "QVIRT-GUEST-READY", Duration::from_secs(300));
    let before = uptime(&mut *console);
    drop(console);

    let dest = w.uri("root", "system", "");
    let stream = format!("tcp://{B_ADDR}");
    let migrate = |dest: &str| {
        qvirt(
            &source,
            &[
                "migrate",
                "--live",
                "--persistent",
                "--undefine-source",
                "--migrateuri",
                &stream,
                "lx-mig",
                dest,
            ],
        )
    };

    // A destination ssh refuses: ssh's words reach the user, and the
    // guest runs on here as before.
    let wrong = dest.replace(
        &format!("keyfile={}", w.dir.join("id").display()),
        &format!("keyfile={}", w.dir.join("wrong").display()),
    );
    let (ok, stderr) = migrate(&wrong);
    assert!(!ok, "migrating with a wrong key succeeded");
    assert!(
        stderr.contains(&format!(
            "ended: ssh to {B_ADDR} exited with status 255, saying: \
             root@{B_ADDR}: Permission denied (publickey)."
        )),
        "ssh's words: {stderr}"
    );
    assert_eq!(a.info(&dom).unwrap().state, DomainState::Running);
    assert!(process_alive(src_qemu), "the source QEMU runs on");

    // Through ssh to host B's manager.
    let (ok, stderr) = migrate(&dest);
    assert!(ok, "qvirt migrate failed: {stderr}");
    assert!(
        a.list(ListFilter::ALL).unwrap().is_empty(),
        "--undefine-source: nothing left in A"
    );
    let b = connect(&dest);
    let there = b.lookup_by_name("lx-mig").unwrap();
    let info = b.info(&there).unwrap();
    assert_eq!(info.state, DomainState::Running);
    assert!(info.persistent, "--persistent defined it on B");
    let moved = w.b_processes("guest=lx-mig");
    assert_eq!(moved.len(), 1, "one QEMU in host B: {moved:?}");
    assert!(w.in_b_net(moved[0]));
    crate::world::wait_for("the source QEMU to end", Duration::from_secs(30), || {
        (!process_alive(src_qemu)).then_some(())
    });
    // The same guest, not a new boot: its uptime went on counting.
    let mut console = b.console(&there, true).unwrap();
    let after = uptime(&mut *console);
    assert!(after > before, "uptime {before} then {after}: rebooted?");
    drop(console);
    b.destroy(&there).unwrap();
    assert_eq!(b.info(&there).unwrap().state, DomainState::Shutoff);
    let err = a.lookup_by_name("lx-mig").unwrap_err();
    assert_eq!(err.code, ErrorCode::NoDomain, "{err}");
}
