//! Live migration between two managers: two `qvirtd`s on this host, each
//! with its own state directory (two "hosts" sharing the storage), the
//! source driving the destination over qvirt's protocol and QEMU's
//! stream going from QEMU to QEMU on loopback. The tiny Linux guest shows
//! it was not restarted: its uptime goes on counting on the destination.
//! Faults (an abort, the destination's QEMU killed, either manager killed
//! at a chosen step) end with exactly one copy of the guest able to run,
//! never two.

#[allow(dead_code)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

#[path = "migration/libvirt_clients.rs"]
mod libvirt_clients;

use std::time::{Duration, Instant};

use qvirt::driver::{ConsoleStream, DomainState, JobKind, JobOutcome, MigrateOptions, StateReason};
use qvirt::{Domain, Driver, ErrorCode};

use support::*;

/// The Linux test guest, built (or found) by tests/guest/build-guest.sh.
fn guest_dir() -> std::path::PathBuf {
    let out = std::process::Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/guest/build-guest.sh"
        ))
        .output()
        .expect("run build-guest.sh");
    assert!(
        out.status.success(),
        "build-guest.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// The Linux guest named `name` with `mib` MiB, its console on a pty.
fn guest_xml(name: &str, mib: u64) -> String {
    let dir = guest_dir();
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>{mib}</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>\
         <kernel>{0}/vmlinux</kernel><initrd>{0}/initrd.img</initrd>\
         <cmdline>console=ttyS0 quiet no_timer_check</cmdline></os><features><acpi/></features>\
         <devices><serial type='pty'/><memballoon model='none'/></devices></domain>",
        dir.display()
    )
}

/// A guest console: text read so far, and reads until a marker.
struct Console {
    stream: Box<dyn ConsoleStream>,
    seen: String,
}

impl Console {
    fn open(d: &dyn Driver, dom: &Domain) -> Console {
        Console {
            stream: d.console(dom, true).expect("open the console"),
            seen: String::new(),
        }
    }

    /// Reads until `pattern` has appeared after what was consumed; returns
    /// the text up to it.
    fn until(&mut self, pattern: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(i) = self.seen.find(pattern) {
                let head = self.seen[..i + pattern.len()].to_string();
                self.seen.drain(..i + pattern.len());
                return head;
            }
            assert!(
                Instant::now() < deadline,
                "no '{pattern}' within {within:?}: {}",
                self.seen
            );
            let chunk = self
                .stream
                .read(Duration::from_millis(500))
                .expect("read the console");
            self.seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The guest's uptime in hundredths of a second.
    fn uptime(&mut self) -> u64 {
        self.seen.clear();
        self.stream
            .write(b"cut -d' ' -f1 /proc/uptime | tr -d . | sed 's/^/UP=/;s/$/=PU/'\n")
            .expect("write the console");
        // The typed command echoes "UP=/;s/$/=PU/": the answer is the line
        // with digits between the markers.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = self.until("=PU", Duration::from_secs(60));
            if let Some(n) = text
                .rsplit("UP=")
                .next()
                .and_then(|t| t.trim_end_matches("=PU").trim().parse().ok())
            {
                return n;
            }
            assert!(Instant::now() < deadline, "no uptime on the console");
        }
    }
}

/// Boots the guest `name` on `d` and waits for its shell.
fn boot(d: &dyn Driver, name: &str, mib: u64) -> (Domain, Console) {
    let dom = d
        .create_xml(&guest_xml(name, mib))
        .expect("create the guest");
    let mut console = Console::open(d, &dom);
    // The marker, or the prompt that only comes after it (a console
    // opened late sees the prompt once it asks with Enter).
    let deadline = Instant::now() + Duration::from_secs(120);
    while !console.seen.contains("QVIRT-GUEST-READY") && !console.seen.contains("guest# ") {
        assert!(
            Instant::now() < deadline,
            "the guest did not boot: {}",
            console.seen
        );
        let chunk = console
            .stream
            .read(Duration::from_secs(3))
            .expect("read the console");
        if chunk.is_empty() {
            let _ = console.stream.write(b"\n");
        }
        console.seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    console.seen.clear();
    (dom, console)
}

/// Runs the migration tests one at a time: each moves a guest's memory
/// and several run QEMUs side by side.
fn heavy() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    HEAVY.lock().unwrap_or_else(|p| p.into_inner())
}

/// Two daemons, source and destination, on their own roots.
struct Hosts {
    _dirs: (TestDir, TestDir),
    a: Daemon,
    b: Daemon,
}

impl Hosts {
    fn new(tag: &str) -> Hosts {
        let (da, db) = (
            TestDir::new(&format!("{tag}-a")),
            TestDir::new(&format!("{tag}-b")),
        );
        let a = Daemon::start(&da.path, &[]);
        let b = Daemon::start(&db.path, &[]);
        Hosts {
            _dirs: (da, db),
            a,
            b,
        }
    }
}

/// The domains running on `d`, by name.
impl Hosts {
    /// After a migration of `name` from A to B (`a` and `b` connected to
    /// them) that switched to
    /// post-copy: A's log says so, nothing runs on A, and the guest runs
    /// on B with its uptime past `before`; then it is destroyed there.
    fn ended_in_postcopy(&self, a: &dyn Driver, b: &dyn Driver, name: &str, before: u64) {
        let log = std::fs::read_to_string(self._dirs.0.path.join("log/qvirt.log")).unwrap();
        assert!(
            log.contains(&format!("domain '{name}' switched to post-copy")),
            "the source never switched to post-copy:\n{log}"
        );
        assert!(running(a).is_empty(), "nothing runs on A any more");
        let there = b.lookup_by_name(name).unwrap();
        assert_eq!(b.info(&there).unwrap().state, DomainState::Running);
        let mut console = Console::open(b, &there);
        let after = console.uptime();
        assert!(
            after > before,
            "the guest went on counting: {before} then {after}"
        );
        drop(console);
        b.destroy(&there).unwrap();
    }
}

fn running(d: &dyn Driver) -> Vec<String> {
    d.list(qvirt::driver::ListFilter::ACTIVE)
        .unwrap()
        .into_iter()
        .map(|s| s.domain.name)
        .collect()
}

#[test]
fn a_live_migration_moves_the_running_guest_and_back() {
    let _heavy = heavy();
    let hosts = Hosts::new("mig");
    let (a, b) = (hosts.a.connect(), hosts.b.connect());
    let (dom, mut console) = boot(&*a, "lx-mig", 128);
    let before = console.uptime();
    drop(console);
    a.migrate(
        &dom,
        &hosts.b.uri(),
        MigrateOptions::default().live().persistent(),
    )
    .expect("migrate to B");
    assert!(running(&*a).is_empty(), "nothing runs on A any more");
    let there = b.lookup_by_name("lx-mig").unwrap();
    let info = b.info(&there).unwrap();
    assert_eq!(info.state, DomainState::Running);
    assert!(info.persistent, "--persistent defined it on B");
    let mut console = Console::open(&*b, &there);
    let after = console.uptime();
    assert!(
        after > before,
        "the guest went on counting: {before} then {after}"
    );
    drop(console);
    // The destination keeps its own record of the move.
    let arrived = b.job_completed(&there).unwrap().expect("B's record");
    eprintln!("the destination's record: {arrived:?}");
    assert_eq!(
        (arrived.outcome, arrived.info.kind),
        (JobOutcome::Completed, JobKind::IncomingMigration)
    );
    assert!(arrived.info.elapsed > Duration::ZERO);

    // And back, without --persistent: B keeps its definition, shut off.
    b.migrate(&there, &hosts.a.uri(), MigrateOptions::default().live())
        .expect("migrate back to A");
    let back = a.lookup_by_name("lx-mig").unwrap();
    assert_eq!(a.info(&back).unwrap().state, DomainState::Running);
    let left = b.info(&there).unwrap();
    assert_eq!(
        (left.state, left.reason),
        (DomainState::Shutoff, StateReason::Migrated)
    );
    // domjobinfo --completed on the source that kept its definition: the
    // migration as it ended, with QEMU's measure of the guest's downtime.
    let done = b.job_completed(&there).unwrap().expect("the migration");
    assert_eq!(
        (done.outcome, done.info.kind),
        (JobOutcome::Completed, JobKind::Migration)
    );
    assert!(
        done.info.data_processed > 0 && done.info.data_remaining == 0,
        "{done:?}"
    );
    let downtime = done.downtime.expect("QEMU's downtime");
    // The managers' measure: from the source seeing its guest stopped to
    // the destination's answer that it runs it.
    let total = done.total_downtime.expect("the managers' downtime");
    eprintln!("migration downtime: QEMU {downtime:?}, managers {total:?}");
    assert!(total > Duration::ZERO);
    let mut console = Console::open(&*a, &back);
    assert!(console.uptime() > after, "still the same boot");
    a.destroy(&back).unwrap();
}

/// Has the guest dirty memory faster than a slow link moves it, so that
/// a migration lasts until something ends it.
fn keep_dirtying(console: &mut Console) {
    console
        .stream
        .write(b"while :; do dd if=/dev/urandom of=/dev/shm/x bs=1M count=24 2>/dev/null; done &\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
}

/// Waits until `d` reports a migration job of `dom` that has moved data.
fn wait_migrating(d: &dyn Driver, dom: &Domain) {
    wait_for(
        "the migration to move data",
        Duration::from_secs(60),
        || {
            d.job_info(dom)
                .unwrap()
                .filter(|j| j.data_processed > 0)
                .map(drop)
        },
    );
}

/// A guest that dirties its memory faster than a 1 MiB/s link carries it
/// never converges; `--timeout 3 --timeout-postcopy` switches to
/// post-copy: the guest runs on B while the rest of its memory follows,
/// the migration completes, and the guest has gone on counting.
#[test]
fn a_migration_that_cannot_converge_switches_to_postcopy() {
    let _heavy = heavy();
    let hosts = Hosts::new("migpost");
    let (a, b) = (hosts.a.connect(), hosts.b.connect());
    let (dom, mut console) = boot(&*a, "lx-post", 128);
    let before = console.uptime();
    keep_dirtying(&mut console);
    drop(console);
    let options = MigrateOptions::default()
        .live()
        .bandwidth(1)
        .timeout(Duration::from_secs(3), true);
    a.migrate(&dom, &hosts.b.uri(), options)
        .expect("a post-copy migration");
    hosts.ended_in_postcopy(&*a, &*b, "lx-post", before);
}

/// A migration started with `--postcopy` stays pre-copy (the guest
/// dirtying faster than 1 MiB/s, it never converges) until virsh's
/// `migrate-postcopy` on the source's libvirt socket switches it: the
/// guest then runs on B and the migration completes. Without a
/// migration, python3-libvirt's `migrateStartPostCopy` is refused as
/// libvirt refuses it. The downtime a user set stays QEMU's through the
/// migration qvirt drives.
#[test]
fn migrate_postcopy_switches_a_postcopy_migration_on_request() {
    let _heavy = heavy();
    let hosts = Hosts::new("migpc");
    let (a, b) = (hosts.a.connect(), hosts.b.connect());
    let socket = lv::lv_socket(&hosts._dirs.0.path);
    let (dom, mut console) = boot(&*a, "lx-pc", 128);
    let before = console.uptime();
    let script = "import libvirt, sys\n\
        d = libvirt.open(sys.argv[1]).lookupByName('lx-pc')\n\
        try:\n\
        \x20   d.migrateStartPostCopy(0)\n\
        \x20   raise SystemExit('switched without a migration')\n\
        except libvirt.libvirtError as e:\n\
        \x20   assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID, e\n\
        \x20   assert 'outgoing migration is in progress' in e.get_error_message(), e\n\
        print('PY-POSTCOPY-OK')\n";
    let out = lv::python_ok(script, &[lv::uri(&socket).as_ref()]);
    assert!(out.contains("PY-POSTCOPY-OK"), "{out}");
    lv::virsh_ok(&socket, &["migrate-setmaxdowntime", "lx-pc", "1500"]);
    keep_dirtying(&mut console);
    drop(console);
    let dest = hosts.b.uri();
    std::thread::scope(|s| {
        let job = s.spawn(|| {
            let options = MigrateOptions::default().live().bandwidth(1).postcopy();
            hosts.a.connect().migrate(&dom, &dest, options)
        });
        wait_migrating(&*a, &dom);
        let downtime = lv::virsh_ok(&socket, &["migrate-getmaxdowntime", "lx-pc"]);
        assert_eq!(downtime.trim(), "1500");
        lv::virsh_ok(&socket, &["migrate-postcopy", "lx-pc"]);
        job.join().unwrap().expect("the post-copy migration");
    });
    hosts.ended_in_postcopy(&*a, &*b, "lx-pc", before);
}

#[test]
fn an_aborted_migration_leaves_the_guest_running_on_the_source() {
    let _heavy = heavy();
    let hosts = Hosts::new("migabort");
    let (a, b) = (hosts.a.connect(), hosts.b.connect());
    let (dom, mut console) = boot(&*a, "lx-abort", 128);
    keep_dirtying(&mut console);
    let dest = hosts.b.uri();
    std::thread::scope(|s| {
        let job = s.spawn(|| {
            hosts
                .a
                .connect()
                .migrate(&dom, &dest, MigrateOptions::default().live().bandwidth(1))
        });
        wait_migrating(&*a, &dom);
        // Started without --postcopy: no switch, as libvirt refuses it.
        let e = a.migrate_start_postcopy(&dom).unwrap_err();
        assert_eq!(e.code, ErrorCode::OperationInvalid, "{e}");
        assert!(e.message.contains("VIR_MIGRATE_POSTCOPY"), "{e}");
        a.job_abort(&dom).unwrap();
        let e = job.join().unwrap().unwrap_err();
        assert_eq!(e.code, ErrorCode::OperationAborted, "{e}");
    });
    assert_eq!(a.info(&dom).unwrap().state, DomainState::Running);
    assert!(
        running(&*b).is_empty(),
        "B keeps nothing: {:?}",
        running(&*b)
    );
    console.stream.write(b"kill %1\n").unwrap();
    a.destroy(&dom).unwrap();
}

#[test]
fn the_destination_qemu_killed_mid_way_leaves_the_source_running() {
    let _heavy = heavy();
    let hosts = Hosts::new("migkill");
    let (a, b) = (hosts.a.connect(), hosts.b.connect());
    let (dom, mut console) = boot(&*a, "lx-kill", 128);
    keep_dirtying(&mut console);
    let dest = hosts.b.uri();
    std::thread::scope(|s| {
        let job = s.spawn(|| {
            hosts
                .a
                .connect()
                .migrate(&dom, &dest, MigrateOptions::default().live().bandwidth(1))
        });
        wait_migrating(&*a, &dom);
        let pid = qemu_pid(&hosts._dirs.1.path, "lx-kill");
        signal(pid, nix::sys::signal::Signal::SIGKILL);
        assert!(job.join().unwrap().is_err(), "the migration failed");
    });
    assert_eq!(a.info(&dom).unwrap().state, DomainState::Running);
    assert!(running(&*b).is_empty());
    console.stream.write(b"kill %1\n").unwrap();
    assert!(console.uptime() > 0, "the guest answers on A");
    a.destroy(&dom).unwrap();
}

/// The source manager killed at `point`: a new one finds the guest
/// running at the source and nothing at the destination.
fn source_killed_at(point: &str) {
    let _heavy = heavy();
    let da = TestDir::new(&format!("{point}-a"));
    let db = TestDir::new(&format!("{point}-b"));
    let env = format!("QVIRT_CRASH_AT={point}");
    let mut a = Daemon::start_under(&["env", &env], &da.path, &[]);
    let b = Daemon::start(&db.path, &[]);
    let (dom, console) = boot(&*a.connect(), "lx-crash", 128);
    drop(console);
    let e = a
        .connect()
        .migrate(&dom, &b.uri(), MigrateOptions::default().live())
        .unwrap_err();
    assert!(
        matches!(e.code, ErrorCode::Protocol | ErrorCode::Io),
        "the source manager died: {e}"
    );
    let status = a.wait_exit(Duration::from_secs(30));
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(9),
        "{point}: it died at its crash point"
    );
    let a = Daemon::start(&da.path, &[]);
    let (a, bd) = (a.connect(), b.connect());
    let dom = a.lookup_by_name("lx-crash").unwrap();
    wait_for(
        "the guest to run at the source",
        Duration::from_secs(30),
        || (a.info(&dom).unwrap().state == DomainState::Running).then_some(()),
    );
    assert!(
        running(&*bd).is_empty(),
        "{point}: nothing at the destination"
    );
    let mut console = Console::open(&*a, &dom);
    assert!(console.uptime() > 0);
    a.destroy(&dom).unwrap();
}

#[test]
fn the_source_manager_killed_while_the_stream_flows() {
    source_killed_at("migrate-performing");
}

#[test]
fn the_source_manager_killed_before_it_asks_the_destination_to_finish() {
    source_killed_at("migrate-finishing");
}

#[test]
fn the_destination_manager_killed_after_its_commit_never_gives_two_copies() {
    let _heavy = heavy();
    let da = TestDir::new("commit-a");
    let db = TestDir::new("commit-b");
    let a = Daemon::start(&da.path, &[]);
    let mut b = Daemon::start_under(&["env", "QVIRT_CRASH_AT=incoming-committed"], &db.path, &[]);
    let (dom, console) = boot(&*a.connect(), "lx-commit", 128);
    drop(console);
    let e = a
        .connect()
        .migrate(&dom, &b.uri(), MigrateOptions::default().live())
        .unwrap_err();
    assert!(
        e.message.contains("stays paused here"),
        "the source cannot know and keeps the guest paused: {e}"
    );
    b.wait_exit(Duration::from_secs(30));
    let b = Daemon::start(&db.path, &[]);
    let (a, bd) = (a.connect(), b.connect());
    let running_copies = running(&*a).len() + running(&*bd).len();
    // Both QEMUs exist, neither runs the guest's vCPUs.
    let at_a = a.info(&dom).unwrap().state;
    let there = bd.lookup_by_name("lx-commit").unwrap();
    let at_b = bd.info(&there).unwrap().state;
    assert_eq!((at_a, at_b), (DomainState::Paused, DomainState::Paused));
    assert_eq!(
        running_copies, 2,
        "both QEMUs are kept: the guest is not lost"
    );
    // The destination committed: it is the one to keep.
    bd.resume(&there).unwrap();
    a.destroy(&dom).unwrap();
    bd.destroy(&there).unwrap();
}

#[test]
fn copy_storage_all_moves_the_disks_with_the_guest() {
    let _heavy = heavy();
    let hosts = Hosts::new("migcopy");
    let (a, b) = (hosts.a.connect(), hosts.b.connect());
    // Each "host" has its own disk path: the destination's comes with
    // --xml, and does not exist there yet.
    let src = hosts._dirs.0.path.join("disk.qcow2");
    let dst = hosts._dirs.1.path.join("disk.qcow2");
    let ok = std::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&src)
        .arg("32M")
        .status()
        .unwrap();
    assert!(ok.success());
    let disk = |path: &std::path::Path| {
        format!(
            "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
             <source file='{}'/><target dev='vdb' bus='virtio'/></disk>",
            path.display()
        )
    };
    // Data on the disk, a pattern written before the guest starts.
    let qemu_io = |path: &std::path::Path, cmd: &str| -> String {
        let out = std::process::Command::new("qemu-io")
            .args(["-f", "qcow2", "-c", cmd])
            .arg(path)
            .output()
            .expect("qemu-io runs (Debian package qemu-utils)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let wrote = qemu_io(&src, "write -P 0x5a 1M 256k");
    assert!(wrote.contains("wrote 262144/262144 bytes"), "{wrote}");
    let xml = guest_xml("lx-copy", 128).replace("<devices>", &format!("<devices>{}", disk(&src)));
    let dom = a.create_xml(&xml).expect("create the guest");
    let mut console = Console::open(&*a, &dom);
    console.until("QVIRT-GUEST-READY", Duration::from_secs(120));
    let before = console.uptime();
    drop(console);
    let mut live =
        qvirt::DomainDef::from_xml(&a.xml_desc(&dom, Default::default()).unwrap()).unwrap();
    for d in &mut live.devices.disks {
        d.source = Some(dst.display().to_string());
    }
    for s in &mut live.devices.serials {
        s.source = qvirt::model::CharSource::Pty { path: None };
    }
    a.migrate(
        &dom,
        &hosts.b.uri(),
        MigrateOptions::default()
            .live()
            .copy_storage_all()
            .dest_xml(live.to_xml()),
    )
    .expect("migrate with a storage copy");
    assert!(running(&*a).is_empty());
    assert!(dst.exists(), "the destination made its disk");
    let there = b.lookup_by_name("lx-copy").unwrap();
    assert_eq!(b.info(&there).unwrap().state, DomainState::Running);
    let mut console = Console::open(&*b, &there);
    assert!(console.uptime() > before, "the same boot");
    drop(console);
    b.destroy(&there).unwrap();
    // And the image on the destination's host, as qemu-img compares it.
    let same = std::process::Command::new("qemu-img")
        .args(["compare", "-f", "qcow2", "-F", "qcow2"])
        .arg(&src)
        .arg(&dst)
        .output()
        .unwrap();
    assert!(
        same.status.success(),
        "{}",
        String::from_utf8_lossy(&same.stdout)
    );
    let read = qemu_io(&dst, "read -P 0x5a 1M 256k");
    assert!(read.contains("read 262144/262144 bytes"), "{read}");
}

#[test]
fn a_storage_copy_given_up_leaves_no_disk_behind() {
    let _heavy = heavy();
    let hosts = Hosts::new("migcopyabort");
    let (a, b) = (hosts.a.connect(), hosts.b.connect());
    let src = hosts._dirs.0.path.join("disk.img");
    std::fs::File::create(&src)
        .unwrap()
        .set_len(16 << 20)
        .unwrap();
    let dst = hosts._dirs.1.path.join("disk.img");
    let xml = guest_xml("lx-copy2", 64).replace(
        "<devices>",
        &format!(
            "<devices><disk type='file' device='disk'><driver name='qemu' type='raw'/>\
             <source file='{}'/><target dev='vdb' bus='virtio'/></disk>",
            src.display()
        ),
    );
    let dom = a.create_xml(&xml).unwrap();
    // A destination definition whose disk has another size there: refused
    // before anything runs, and nothing is made.
    std::fs::File::create(&dst)
        .unwrap()
        .set_len(8 << 20)
        .unwrap();
    let mut live =
        qvirt::DomainDef::from_xml(&a.xml_desc(&dom, Default::default()).unwrap()).unwrap();
    for d in &mut live.devices.disks {
        d.source = Some(dst.display().to_string());
    }
    for c in &mut live.devices.serials {
        c.source = qvirt::model::CharSource::Pty { path: None };
    }
    let dest_xml = live.to_xml();
    let e = a
        .migrate(
            &dom,
            &hosts.b.uri(),
            MigrateOptions::default()
                .live()
                .copy_storage_all()
                .dest_xml(dest_xml.clone()),
        )
        .expect_err("a disk of another size");
    assert_eq!(e.code, ErrorCode::InvalidArgument, "{e}");
    assert!(e.message.contains("same size"), "{e}");
    assert_eq!(
        std::fs::metadata(&dst).unwrap().len(),
        8 << 20,
        "left as it was"
    );
    assert!(running(&*b).is_empty());
    assert_eq!(a.info(&dom).unwrap().state, DomainState::Running);
    // A copy aborted while it runs: the disk made there goes.
    std::fs::remove_file(&dst).unwrap();
    let options = MigrateOptions::default()
        .live()
        .copy_storage_all()
        .bandwidth(1)
        .dest_xml(dest_xml);
    std::thread::scope(|s| {
        let migrating = s.spawn(|| a.migrate(&dom, &hosts.b.uri(), options));
        let deadline = Instant::now() + Duration::from_secs(60);
        while !dst.exists() || a.job_info(&dom).ok().flatten().is_none() {
            if migrating.is_finished() {
                panic!(
                    "the migration ended before the copy could be aborted: {:?}",
                    migrating.join().unwrap()
                );
            }
            assert!(Instant::now() < deadline, "the copy did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        a.job_abort(&dom).unwrap();
        let e = migrating.join().unwrap().expect_err("aborted");
        assert_eq!(e.code, ErrorCode::OperationAborted, "{e}");
    });
    assert_eq!(a.info(&dom).unwrap().state, DomainState::Running);
    assert!(running(&*b).is_empty(), "no copy runs on B");
    assert!(!dst.exists(), "the disk made for the copy is gone");
    a.destroy(&dom).unwrap();
}
