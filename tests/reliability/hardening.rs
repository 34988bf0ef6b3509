//! What a badly timed kill, a full descriptor table, a planted symlink or
//! an open directory did to the manager's files and VMs, each reproduced:
//! a save image written through a predictable temporary name, a stale
//! managed save image restored over newer disks, half-done saves and
//! media changes after a kill, a create that panicked on EMFILE, a
//! destroy that reported success for a QEMU it could not watch, a state
//! directory under a directory others can write, domain names that met
//! the manager's own files, logs that followed links, and state
//! directories swapped for links after the manager opened them.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use qvirt::driver::local::LocalDriver;
use qvirt::driver::{DomainState, ListFilter, MediaChange, MediaFlags, StateReason, XmlFlags};
use qvirt::{DomainDef, Driver, ErrorCode};

use crate::support::*;

/// Starts a daemon on `dir` that kills itself at `point` (see the
/// library's crash points).
fn crashing_daemon(dir: &TestDir, point: &str) -> Daemon {
    let env = format!("QVIRT_CRASH_AT={point}");
    Daemon::start_under(&["env", &env], &dir.path, &[])
}

/// Waits for a daemon that killed itself, and checks it did.
fn expect_crash(daemon: &mut Daemon) {
    let status = daemon.wait_exit(Duration::from_secs(30));
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(9),
        "the daemon killed itself at its crash point: {status}"
    );
}

/// The temporary files (`.NAME.tmp-…`) left in `dir`.
fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n.contains(".tmp-"))
        .collect()
}

/// The QEMU processes whose command line names guest `name`.
fn qemus_of(name: &str) -> Vec<i32> {
    let needle = format!("guest={name},");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| process_alive(pid))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                c.split(|&b| b == 0).any(|a| {
                    a.starts_with(needle.as_bytes()) || a == &needle.as_bytes()[..needle.len() - 1]
                })
            })
        })
        .collect()
}

/// A root-owned file a planted link points at.
fn victim(dir: &TestDir) -> PathBuf {
    let path = dir.path.join("victim");
    std::fs::write(&path, b"precious").unwrap();
    path
}

#[test]
fn save_never_writes_through_a_planted_link() {
    let dir = TestDir::new("savelink");
    let daemon = Daemon::start(&dir.path, &[]);
    let d = daemon.connect();
    let victim = victim(&dir);
    let shared = dir.path.join("shared");
    std::fs::create_dir(&shared).unwrap();
    // The names the old code used: `.vm.save.tmp-<daemon pid>`, and the
    // daemon's pid with a counter.
    symlink(
        &victim,
        shared.join(format!(".vm.save.tmp-{}", daemon.pid())),
    )
    .unwrap();
    for n in 0..8 {
        symlink(
            &victim,
            shared.join(format!(".vm.save.tmp-{}-{n}", daemon.pid())),
        )
        .unwrap();
    }
    let dom = d.define_xml(&small_vm_xml("sl", "", "")).unwrap();
    d.start(&dom).unwrap();
    let target = shared.join("vm.save");
    d.save(&dom, &target).unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert!(std::fs::symlink_metadata(&target).unwrap().is_file());
    let restored = d.restore(&target).unwrap();
    assert_eq!(d.info(&restored).unwrap().state, DomainState::Running);

    // A target that is a symlink is refused; the guest keeps running.
    let linked = shared.join("linked.save");
    symlink(&victim, &linked).unwrap();
    let e = assert_code(d.save(&restored, &linked), ErrorCode::OperationDenied);
    assert!(e.message.contains("symbolic link"), "{e}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert_eq!(d.info(&restored).unwrap().state, DomainState::Running);
    assert!(std::fs::symlink_metadata(&linked).unwrap().is_symlink());

    // A directory that does not exist is named as the user gave it.
    let missing = dir.path.join("no/such/dir/x.sav");
    let e = d.save(&restored, &missing).unwrap_err();
    assert!(e.message.contains(&missing.display().to_string()), "{e}");
    assert!(!e.message.contains(".tmp-"), "no temporary name: {e}");
    assert_eq!(d.info(&restored).unwrap().state, DomainState::Running);

    // Two saves to one path at once share nothing: each succeeds or
    // fails whole, and the file left is a complete image.
    let other = d.define_xml(&small_vm_xml("sl2", "", "")).unwrap();
    d.start(&other).unwrap();
    let both = shared.join("both.save");
    let results: Vec<qvirt::Result<()>> = std::thread::scope(|s| {
        let a = s.spawn(|| daemon.connect().save(&restored, &both));
        let b = s.spawn(|| daemon.connect().save(&other, &both));
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    let back = d.restore(&both).unwrap();
    assert_eq!(d.info(&back).unwrap().state, DomainState::Running);
    assert!(
        temp_files(&shared).iter().all(|n| !n.starts_with(".both")),
        "{:?}",
        temp_files(&shared)
    );
    for dom in d.list(ListFilter::ACTIVE).unwrap() {
        d.destroy(&dom.domain).unwrap();
    }
}

#[test]
fn a_save_cut_off_before_its_rename_is_undone() {
    let dir = TestDir::new("crash-written");
    let mut daemon = crashing_daemon(&dir, "save-written");
    let d = daemon.connect();
    let dom = d.define_xml(&small_vm_xml("cw", "", "")).unwrap();
    d.start(&dom).unwrap();
    let target = dir.path.join("cw.save");
    assert!(d.save(&dom, &target).is_err(), "the daemon died mid-save");
    expect_crash(&mut daemon);
    drop(d);
    assert!(
        !temp_files(&dir.path).is_empty(),
        "the kill left the temporary image"
    );

    let m = LocalDriver::open_embedded(&dir.path).unwrap();
    let dom = m.lookup_by_name("cw").unwrap();
    let info = m.info(&dom).unwrap();
    assert_eq!(info.state, DomainState::Running, "the guest runs again");
    assert!(!target.exists());
    assert!(
        temp_files(&dir.path).is_empty(),
        "{:?}",
        temp_files(&dir.path)
    );
    // Nothing is left half done: the next save works.
    m.save(&dom, &target).unwrap();
    let back = m.restore(&target).unwrap();
    assert_eq!(m.info(&back).unwrap().state, DomainState::Running);
    m.destroy(&back).unwrap();
}

#[test]
fn a_save_cut_off_after_its_rename_is_finished() {
    let dir = TestDir::new("crash-renamed");
    let mut daemon = crashing_daemon(&dir, "save-renamed");
    let d = daemon.connect();
    let dom = d.define_xml(&small_vm_xml("cr", "", "")).unwrap();
    d.start(&dom).unwrap();
    let pid = qemu_pid(&dir.path, "cr");
    let target = dir.path.join("cr.save");
    assert!(d.save(&dom, &target).is_err(), "the daemon died mid-save");
    expect_crash(&mut daemon);
    drop(d);
    assert!(
        process_alive(pid),
        "the kill left QEMU paused after its migration"
    );

    let m = LocalDriver::open_embedded(&dir.path).unwrap();
    let dom = m.lookup_by_name("cr").unwrap();
    let info = m.info(&dom).unwrap();
    assert_eq!(
        (info.state, info.reason),
        (DomainState::Shutoff, StateReason::Saved)
    );
    assert!(
        !process_alive(pid),
        "the QEMU whose state is in the image is gone"
    );
    assert!(temp_files(&dir.path).is_empty());
    let back = m.restore(&target).unwrap();
    assert_eq!(m.info(&back).unwrap().state, DomainState::Running);
    m.destroy(&back).unwrap();
}

#[test]
fn a_managed_save_cut_off_after_its_rename_is_finished() {
    let dir = TestDir::new("crash-managed");
    let mut daemon = crashing_daemon(&dir, "save-renamed");
    let d = daemon.connect();
    let dom = d.define_xml(&small_vm_xml("cm", "", "")).unwrap();
    d.start(&dom).unwrap();
    assert!(d.managed_save(&dom).is_err(), "the daemon died mid-save");
    expect_crash(&mut daemon);
    drop(d);

    let m = LocalDriver::open_embedded(&dir.path).unwrap();
    let dom = m.lookup_by_name("cm").unwrap();
    let info = m.info(&dom).unwrap();
    assert_eq!(info.state, DomainState::Shutoff);
    assert!(info.managed_save);
    m.start(&dom).unwrap();
    let info = m.info(&dom).unwrap();
    assert_eq!(
        (info.state, info.reason),
        (DomainState::Running, StateReason::Restored)
    );
    assert!(!info.managed_save);
    m.destroy(&dom).unwrap();
}

/// A start from a managed save image killed at `point` leaves the domain
/// paused with its state loaded, and the image gone: it can never be
/// restored again over disks the guest has written since.
fn start_from_image_cut_off(point: &str) {
    let dir = TestDir::new(point);
    let name = "ci";
    {
        let daemon = Daemon::start(&dir.path, &[]);
        let d = daemon.connect();
        let dom = d.define_xml(&small_vm_xml(name, "", "")).unwrap();
        d.start(&dom).unwrap();
        d.managed_save(&dom).unwrap();
        assert!(d.info(&dom).unwrap().managed_save);
    }
    let image = dir.path.join(format!("save/{name}.save"));
    assert!(image.exists());
    let mut daemon = crashing_daemon(&dir, point);
    let d = daemon.connect();
    let dom = d.lookup_by_name(name).unwrap();
    assert!(d.start(&dom).is_err(), "the daemon died mid-start");
    expect_crash(&mut daemon);
    drop(d);

    let m = LocalDriver::open_embedded(&dir.path).unwrap();
    let dom = m.lookup_by_name(name).unwrap();
    let info = m.info(&dom).unwrap();
    assert_eq!(
        info.state,
        DomainState::Paused,
        "{point}: its state is loaded, the vCPUs never ran"
    );
    assert!(!info.managed_save, "{point}: the image is gone");
    assert!(!image.exists());
    m.resume(&dom).unwrap();
    m.destroy(&dom).unwrap();
    m.start(&dom).unwrap();
    let info = m.info(&dom).unwrap();
    assert_eq!(
        (info.state, info.reason),
        (DomainState::Running, StateReason::Booted),
        "{point}: the next start boots, it does not restore"
    );
    m.destroy(&dom).unwrap();
}

#[test]
fn a_start_from_an_image_cut_off_before_the_image_went() {
    start_from_image_cut_off("restore-recorded");
}

#[test]
fn a_start_from_an_image_cut_off_after_the_image_went() {
    start_from_image_cut_off("restore-consumed");
}

#[test]
fn a_media_change_cut_off_is_taken_from_qemu() {
    let dir = TestDir::new("crash-media");
    let iso = dir.path.join("b.iso");
    std::fs::write(&iso, vec![0u8; 64 * 1024]).unwrap();
    let mut daemon = crashing_daemon(&dir, "media-changed");
    let d = daemon.connect();
    let dom = d
        .define_xml(&small_vm_xml(
            "cmd",
            "",
            "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>",
        ))
        .unwrap();
    d.start(&dom).unwrap();
    let change = MediaChange::Insert(iso.clone());
    let live = MediaFlags::LIVE;
    assert!(d.change_media(&dom, "hdc", change, live).is_err());
    expect_crash(&mut daemon);
    drop(d);

    let m = LocalDriver::open_embedded(&dir.path).unwrap();
    let dom = m.lookup_by_name("cmd").unwrap();
    let def = DomainDef::from_xml(&m.xml_desc(&dom, XmlFlags::NONE).unwrap()).unwrap();
    let cdrom = def
        .devices
        .disks
        .iter()
        .find(|d| d.target == "hdc")
        .unwrap();
    assert_eq!(cdrom.source.as_deref(), Some(iso.to_str().unwrap()));
    m.destroy(&dom).unwrap();
}

/// Sets the soft open-file limit of `pid`.
fn set_nofile(pid: i32, soft: usize) {
    let out = Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--nofile={soft}:"))
        .output()
        .expect("run prlimit");
    assert!(
        out.status.success(),
        "prlimit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The descriptors `pid` has open.
fn open_fds(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

#[test]
fn creates_short_of_descriptors_fail_cleanly() {
    let dir = TestDir::new("emfile");
    let daemon = Daemon::start(&dir.path, &[]);
    let d = daemon.connect();
    let xml = small_vm_xml("emf", "", VNC);
    let mut failures = 0;
    for spare in 0..64 {
        set_nofile(daemon.pid(), open_fds(daemon.pid()) + spare);
        let created = d.create_xml(&xml);
        set_nofile(daemon.pid(), 4096);
        match created {
            Ok(dom) => {
                assert!(failures > 0, "some start was short of descriptors");
                d.destroy(&dom).unwrap();
                return;
            }
            Err(e) => {
                failures += 1;
                assert!(
                    !matches!(e.code, ErrorCode::Protocol | ErrorCode::Internal),
                    "{spare} spare descriptors: {} {e}",
                    e.code.name()
                );
                // The daemon answers, left nothing running, and let go
                // of the name.
                assert!(d.list(ListFilter::ALL).unwrap().is_empty());
                assert!(
                    wait_until(Duration::from_secs(10), || qemus_of("emf").is_empty()),
                    "{spare} spare descriptors: a QEMU was left: {e}"
                );
                let dom = d.create_xml(&xml).unwrap_or_else(|e| {
                    panic!("after a failure with {spare} spare descriptors: {e}")
                });
                d.destroy(&dom).unwrap();
            }
        }
    }
    panic!("no create succeeded with up to 64 spare descriptors");
}

#[test]
fn destroy_without_a_pidfd_still_stops_the_process() {
    let dir = TestDir::new("nopidfd");
    let daemon = Daemon::start(&dir.path, &[]);
    let d = daemon.connect();
    let mut pids = Vec::new();
    for i in 0..3 {
        let dom = d
            .create_xml(&small_vm_xml(&format!("np{i}"), "", ""))
            .unwrap();
        pids.push((dom, qemu_pid(&dir.path, &format!("np{i}"))));
    }
    // Not one descriptor to spare: pidfd_open fails.
    set_nofile(daemon.pid(), open_fds(daemon.pid()));
    for (dom, pid) in &pids {
        match d.destroy(dom) {
            Ok(()) => assert!(
                !process_alive(*pid),
                "destroy of {} reported success while QEMU {pid} runs",
                dom.name
            ),
            Err(e) => assert!(process_alive(*pid), "{e}"),
        }
    }
    set_nofile(daemon.pid(), 4096);
    for (dom, pid) in &pids {
        if process_alive(*pid) {
            d.destroy(dom).unwrap();
        }
        assert!(!process_alive(*pid));
    }
    assert!(d.list(ListFilter::ACTIVE).unwrap().is_empty());
}

#[test]
fn state_under_a_directory_others_can_write_is_refused() {
    let (uid, gid) = other_user();
    let dir = TestDir::new("untrusted");
    // Mode 0777, no sticky bit.
    let open = dir.path.join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    // Another user's directory.
    let theirs = dir.path.join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    nix::unistd::chown(&theirs, Some(uid.into()), Some(gid.into())).unwrap();
    std::fs::create_dir(open.join("state")).unwrap();
    std::fs::create_dir(theirs.join("state")).unwrap();
    for root in [
        open.clone(),
        open.join("state"),
        theirs.clone(),
        theirs.join("state"),
    ] {
        let mut daemon = Daemon::spawn(&root, &[]);
        let status = daemon.wait_exit(Duration::from_secs(15));
        assert!(!status.success(), "{}", root.display());
        let err = daemon.stderr_text();
        assert!(err.contains("unsafe"), "{}: {err}", root.display());
        assert!(
            !root.join("run").exists(),
            "{}: nothing made",
            root.display()
        );
    }
    // The session's state under a 0777 home.
    let home = open.join("home");
    std::fs::create_dir(&home).unwrap();
    let runtime = dir.path.join("xdg-run");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = Command::new(QVIRTD)
        .arg("--session")
        .env("HOME", &home)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env_remove("XDG_STATE_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CACHE_HOME")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unsafe"), "{err}");
    // A sticky, root-owned directory such as /tmp is fine: nobody else
    // can rename what is in it.
    let sticky = dir.path.join("sticky");
    std::fs::create_dir(&sticky).unwrap();
    std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::fs::create_dir(sticky.join("state")).unwrap();
    let daemon = Daemon::start(&sticky.join("state"), &[]);
    daemon.connect().list(ListFilter::ALL).unwrap();
}

#[test]
fn domain_names_cannot_meet_the_managers_files() {
    let dir = TestDir::new("names");
    let d = LocalDriver::open_embedded(&dir.path).unwrap();
    let long = "n".repeat(200);
    let names = [
        "qvirt",
        "x",
        "x.console",
        "lock",
        "qvirt-sock",
        long.as_str(),
    ];
    for name in names {
        let dom = d
            .define_xml(&small_vm_xml(name, "", "<serial type='pty'/>"))
            .unwrap();
        d.start(&dom).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for name in names {
        let dom = d.lookup_by_name(name).unwrap();
        assert_eq!(d.info(&dom).unwrap().state, DomainState::Running, "{name}");
        let qemu_log =
            std::fs::read_to_string(dir.path.join(format!("log/qemu/{name}.log"))).unwrap();
        assert!(
            qemu_log.contains(&format!("guest={name}")),
            "{name}: {qemu_log}"
        );
        assert!(
            dir.path.join(format!("log/console/{name}.log")).is_file(),
            "{name}"
        );
    }
    assert!(manager_log(&dir.path).contains("started domain 'qvirt'"));
    assert!(
        !manager_log(&dir.path).contains("starting: "),
        "no QEMU output in the manager's log"
    );
    assert!(dir.path.join("run/lock").is_file());
    for name in names {
        d.destroy(&d.lookup_by_name(name).unwrap()).unwrap();
    }
}

#[test]
fn logs_do_not_follow_links_or_trust_a_callers_name() {
    let dir = TestDir::new("loglinks");
    let victim = victim(&dir);
    let d = LocalDriver::open_embedded(&dir.path).unwrap();
    let dom = d
        .define_xml(&small_vm_xml("ll", "", "<serial type='pty'/>"))
        .unwrap();
    for planted in ["log/qemu/ll.log", "log/console/ll.log"] {
        let path = dir.path.join(planted);
        let _ = std::fs::remove_file(&path);
        symlink(&victim, &path).unwrap();
        let e = assert_code(d.start(&dom), ErrorCode::OperationDenied);
        assert!(e.message.contains("symbolic link"), "{planted}: {e}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious", "{planted}");
        assert_eq!(d.info(&dom).unwrap().state, DomainState::Shutoff);
        std::fs::remove_file(&path).unwrap();
    }
    d.start(&dom).unwrap();
    // A handle whose name a caller made up: the log names the domain.
    let mut forged = d.lookup_by_name("ll").unwrap();
    forged.name = "ll'\n2026-01-01 00:00:00.000 info: forged entry".into();
    d.destroy(&forged).unwrap();
    let log = manager_log(&dir.path);
    assert!(!log.contains("forged"), "{log}");
    assert!(log.lines().all(|l| !l.starts_with("2026-01-01")), "{log}");
}

#[test]
fn directories_swapped_for_links_after_open_are_not_followed() {
    let dir = TestDir::new("swapped");
    // Another directory whose files the manager must never touch: it
    // holds what a swapped `run` or `log/qemu` would lead to.
    let elsewhere = dir.path.join("elsewhere");
    let d = LocalDriver::open_embedded(&dir.path.join("state")).unwrap();
    let state = dir.path.join("state");
    let dom = d
        .define_xml(&small_vm_xml("sw", "", "<serial type='pty'/>"))
        .unwrap();
    let uuid = d.lookup_by_name("sw").unwrap().uuid;
    std::fs::create_dir_all(elsewhere.join(uuid.to_string())).unwrap();
    std::fs::write(elsewhere.join(uuid.to_string()).join("keep"), b"precious").unwrap();
    std::fs::write(elsewhere.join("keep"), b"precious").unwrap();

    // The QEMU log directory swapped for a link: the start is refused
    // and nothing is written where the link leads.
    std::fs::rename(state.join("log/qemu"), state.join("log/qemu.real")).unwrap();
    symlink(&elsewhere, state.join("log/qemu")).unwrap();
    let e = assert_code(d.start(&dom), ErrorCode::OperationDenied);
    assert!(e.message.contains("symbolic link"), "{e}");
    assert!(!elsewhere.join("sw.log").exists());
    assert_eq!(d.info(&dom).unwrap().state, DomainState::Shutoff);
    std::fs::remove_file(state.join("log/qemu")).unwrap();
    std::fs::rename(state.join("log/qemu.real"), state.join("log/qemu")).unwrap();

    // The runtime directory swapped while the domain runs: its end
    // removes nothing where the link leads, and no start goes there.
    d.start(&dom).unwrap();
    std::fs::rename(state.join("run"), state.join("run.real")).unwrap();
    symlink(&elsewhere, state.join("run")).unwrap();
    d.destroy(&dom).unwrap();
    assert!(!process_alive_named("sw"), "the QEMU stopped");
    assert_eq!(
        std::fs::read(elsewhere.join(uuid.to_string()).join("keep")).unwrap(),
        b"precious"
    );
    assert_eq!(std::fs::read(elsewhere.join("keep")).unwrap(), b"precious");
    let e = assert_code(d.start(&dom), ErrorCode::OperationDenied);
    assert!(e.message.contains("symbolic link"), "{e}");
    let made: Vec<_> = std::fs::read_dir(&elsewhere)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(made.len(), 2, "nothing made where the link leads: {made:?}");
    std::fs::remove_file(state.join("run")).unwrap();
    std::fs::rename(state.join("run.real"), state.join("run")).unwrap();
    d.start(&dom).unwrap();
    d.destroy(&dom).unwrap();
}

/// Whether a QEMU for guest `name` still runs.
fn process_alive_named(name: &str) -> bool {
    !qemus_of(name).is_empty()
}

#[test]
fn a_vnc_listen_address_unix_is_refused_not_a_socket_in_the_cwd() {
    let dir = TestDir::new("vncunix");
    let d = LocalDriver::open_embedded(&dir.path).unwrap();
    let dom = d
        .define_xml(&small_vm_xml(
            "vu",
            "",
            "<graphics type='vnc' port='5977' listen='unix'/>",
        ))
        .unwrap();
    let cwd = std::env::current_dir().unwrap();
    let e = d.start(&dom).expect_err("listen='unix' is not a host");
    assert!(e.message.contains("'unix'"), "{e}");
    assert_eq!(d.info(&dom).unwrap().state, DomainState::Shutoff);
    assert!(qemus_of("vu").is_empty(), "no QEMU left");
    for name in ["77", "5977"] {
        assert!(
            !cwd.join(name).exists(),
            "a socket {name} in {}",
            cwd.display()
        );
    }
}
