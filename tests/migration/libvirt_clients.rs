//! Migrations libvirt's own clients ask for (virsh and python3-libvirt,
//! peer to peer and step by step), virsh's client-side `--timeout`, and a
//! program that drives the steps of two managers itself over qvirt's
//! protocol. The hosts and the guest are `migration.rs`'s.

use std::time::Duration;

use qvirt::driver::{DomainState, JobOutcome, MigrateOptions, StateReason};
use qvirt::{Driver, ErrorCode};

use super::support::*;
use super::{Console, Hosts, boot, heavy, keep_dirtying, lv, running, wait_migrating};

/// libvirt's own clients migrate between two qvirtds peer to peer:
/// `virsh migrate --p2p` against A's libvirt socket names B's libvirt
/// socket (A reaches B on the qvirt socket beside it), python3-libvirt's
/// `migrateToURI3` brings the guest back (and hears the source's job
/// completed event, with the job's figures), and qvirt's own client over
/// libvirt's protocol moves it once more. What qvirt does not offer
/// (`--tunnelled`, `--dname`, an unknown parameter, a storage copy the
/// client drives) is refused by name with the guest left running where
/// it was.
#[test]
fn libvirt_clients_migrate_peer_to_peer() {
    let _heavy = heavy();
    let hosts = Hosts::new("miglv");
    let (a, b) = (hosts.a.connect(), hosts.b.connect());
    let (sa, sb) = (
        lv::lv_socket(&hosts._dirs.0.path),
        lv::lv_socket(&hosts._dirs.1.path),
    );
    let (dom, mut console) = boot(&*a, "lx-lv", 128);
    let before = console.uptime();
    drop(console);
    let to_b = lv::uri(&sb);
    for (args, says) in [
        (
            vec!["--live", "--copy-storage-all"],
            "needs a peer-to-peer migration",
        ),
        (
            vec!["--live", "--p2p", "--tunnelled"],
            "VIR_MIGRATE_TUNNELLED",
        ),
        (vec!["--live", "--p2p", "--dname", "other"], "--dname"),
        (vec!["--live", "--p2p", "--offline"], "--offline"),
    ] {
        let mut argv = vec!["migrate"];
        argv.extend(args);
        argv.extend(["lx-lv", to_b.as_str()]);
        let err = lv::virsh_err(&sa, &argv);
        assert!(err.contains(says), "virsh {argv:?}: {err}");
    }
    assert_eq!(running(&*a), ["lx-lv"], "refused: the guest stays on A");
    assert_eq!(a.info(&dom).unwrap().state, DomainState::Running);
    assert!(running(&*b).is_empty(), "refused: nothing on B");

    lv::virsh_ok(
        &sa,
        &[
            "migrate",
            "--live",
            "--p2p",
            "--persistent",
            "--verbose",
            "--bandwidth",
            "1000",
            "lx-lv",
            &to_b,
        ],
    );
    assert!(running(&*a).is_empty(), "nothing runs on A any more");
    let there = b.lookup_by_name("lx-lv").unwrap();
    let info = b.info(&there).unwrap();
    assert_eq!(info.state, DomainState::Running);
    assert!(info.persistent, "--persistent defined it on B");
    assert_eq!(lv::virsh_ok(&sb, &["domstate", "lx-lv"]).trim(), "running");
    let mut console = Console::open(&*b, &there);
    let after = console.uptime();
    assert!(after > before, "the guest went on: {before} then {after}");
    drop(console);

    // Back to A with python3-libvirt, naming A's qvirt socket; an unknown
    // parameter first, refused with libvirt's code.
    let script = "import libvirt, queue, sys, threading\n\
        libvirt.virEventRegisterDefaultImpl()\n\
        threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)], daemon=True).start()\n\
        c = libvirt.open(sys.argv[1])\n\
        d = c.lookupByName('lx-lv')\n\
        done = queue.Queue()\n\
        c.domainEventRegisterAny(d, libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, lambda _c, _d, p, _o: done.put(p), None)\n\
        flags = libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER\n\
        try:\n\
        \x20   d.migrateToURI3(sys.argv[2], {libvirt.VIR_MIGRATE_PARAM_TLS_DESTINATION: 'a'}, flags)\n\
        \x20   raise SystemExit('an unknown parameter was taken')\n\
        except libvirt.libvirtError as e:\n\
        \x20   assert e.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT, e\n\
        \x20   assert 'tls.destination' in e.get_error_message(), e\n\
        d.migrateToURI3(sys.argv[2], {libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 2000}, flags)\n\
        assert d.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF, d.state()\n\
        p = done.get(timeout=30)\n\
        assert p[libvirt.VIR_DOMAIN_JOB_OPERATION] == libvirt.VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT, p\n\
        assert p[libvirt.VIR_DOMAIN_JOB_TIME_ELAPSED] > 0 and p[libvirt.VIR_DOMAIN_JOB_DATA_TOTAL] > 0, p\n\
        print('PY-MIGRATED')\n";
    let out = lv::python_ok(script, &[lv::uri(&sb).as_ref(), hosts.a.uri().as_ref()]);
    assert!(out.contains("PY-MIGRATED"), "{out}");
    let back = a.lookup_by_name("lx-lv").unwrap();
    assert_eq!(a.info(&back).unwrap().state, DomainState::Running);
    let left = b.info(&there).unwrap();
    assert_eq!(
        (left.state, left.reason),
        (DomainState::Shutoff, StateReason::Migrated),
        "B keeps its definition, shut off"
    );

    // qvirt's own client over libvirt's protocol.
    let over_lv = qvirt::connect(&lv::uri(&sa)).expect("A over libvirt's protocol");
    over_lv
        .migrate(&back, &to_b, MigrateOptions::default().live())
        .expect("migrate over libvirt's protocol");
    assert!(running(&*a).is_empty());
    let mut console = Console::open(&*b, &there);
    assert!(console.uptime() > after, "still the same boot");
    drop(console);
    b.destroy(&there).unwrap();
}

/// virsh's own `--timeout` (the client watches the job and suspends the
/// guest, libvirt's `virDomainSuspend`, when the time is up): the
/// suspend is served while the migration runs, and the copy of the
/// paused guest converges (once the test lifts the 1 MiB/s limit with
/// `migrate-setspeed`); the guest runs on B, the same boot.
#[test]
fn virsh_migrate_timeout_suspends_the_guest_mid_way() {
    let _heavy = heavy();
    let hosts = Hosts::new("migto");
    let (a, b) = (hosts.a.connect(), hosts.b.connect());
    let sa = lv::lv_socket(&hosts._dirs.0.path);
    let (dom, mut console) = boot(&*a, "lx-to", 128);
    let before = console.uptime();
    keep_dirtying(&mut console);
    drop(console);
    let dest = hosts.b.uri();
    std::thread::scope(|s| {
        let job = s.spawn(|| {
            lv::virsh(
                &sa,
                &[
                    "migrate",
                    "--live",
                    "--p2p",
                    "--timeout",
                    "2",
                    "--bandwidth",
                    "1",
                    "lx-to",
                    &dest,
                ],
            )
        });
        wait_for(
            "virsh to suspend the guest at its timeout",
            Duration::from_secs(60),
            || (a.info(&dom).unwrap().state == DomainState::Paused).then_some(()),
        );
        assert!(
            a.job_info(&dom).unwrap().is_some(),
            "suspended while the migration runs"
        );
        lv::virsh_ok(&sa, &["migrate-setspeed", "lx-to", "8000"]);
        let out = job.join().unwrap();
        assert!(
            out.status.success(),
            "virsh migrate --timeout: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    assert!(running(&*a).is_empty(), "nothing runs on A any more");
    let there = b.lookup_by_name("lx-to").unwrap();
    assert_eq!(b.info(&there).unwrap().state, DomainState::Running);
    let mut console = Console::open(&*b, &there);
    assert!(console.uptime() > before, "the same boot goes on");
    drop(console);
    b.destroy(&there).unwrap();
}

/// `virsh migrate --live` without `--p2p`: virsh drives the steps itself
/// (Begin on A, Prepare on B, Perform on A, Finish on B, Confirm on A),
/// and the guest moves, the same boot; python3-libvirt's `migrate3` with
/// a destination connection brings it back the same way. A client that
/// vanishes after B's Prepare leaves nothing on B (its connection held
/// the copy's lease), and the guest runs on A.
#[test]
fn virsh_drives_a_migration_step_by_step() {
    let _heavy = heavy();
    let hosts = Hosts::new("migsteps");
    let (a, b) = (hosts.a.connect(), hosts.b.connect());
    let (sa, sb) = (
        lv::lv_socket(&hosts._dirs.0.path),
        lv::lv_socket(&hosts._dirs.1.path),
    );
    let (dom, mut console) = boot(&*a, "lx-st", 128);
    let before = console.uptime();
    drop(console);
    lv::virsh_ok(
        &sa,
        &[
            "migrate",
            "--live",
            "--persistent",
            "--verbose",
            "--migrateuri",
            "tcp:127.0.0.1",
            "lx-st",
            &lv::uri(&sb),
        ],
    );
    assert!(running(&*a).is_empty(), "nothing runs on A any more");
    let there = b.lookup_by_name("lx-st").unwrap();
    let info = b.info(&there).unwrap();
    assert_eq!(info.state, DomainState::Running);
    assert!(info.persistent, "--persistent defined it on B");
    let mut console = Console::open(&*b, &there);
    let after = console.uptime();
    assert!(after > before, "the guest went on: {before} then {after}");
    drop(console);
    let done = a.job_completed(&dom).ok().flatten();
    assert!(done.is_none() || done.unwrap().outcome == JobOutcome::Completed);

    // Back with python3-libvirt's migrate3 (a destination connection, no
    // peer to peer), B's definition kept.
    let script = "import libvirt, sys\n\
        src = libvirt.open(sys.argv[1])\n\
        dst = libvirt.open(sys.argv[2])\n\
        d = src.lookupByName('lx-st')\n\
        params = {libvirt.VIR_MIGRATE_PARAM_URI: 'tcp:127.0.0.1'}\n\
        back = d.migrate3(dst, params, libvirt.VIR_MIGRATE_LIVE)\n\
        assert back.name() == 'lx-st' and back.isActive(), back\n\
        assert d.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF, d.state()\n\
        print('PY-MIGRATED')\n";
    let out = lv::python_ok(script, &[lv::uri(&sb).as_ref(), lv::uri(&sa).as_ref()]);
    assert!(out.contains("PY-MIGRATED"), "{out}");
    let back = a.lookup_by_name("lx-st").unwrap();
    assert_eq!(a.info(&back).unwrap().state, DomainState::Running);
    let left = b.info(&there).unwrap();
    assert_eq!(
        (left.state, left.reason),
        (DomainState::Shutoff, StateReason::Migrated)
    );

    // virsh killed while the stream flows: B's connection held its copy's
    // lease, so B gives the copy up at once, A's stream fails, and the
    // guest runs on A.
    let mut console = Console::open(&*a, &back);
    keep_dirtying(&mut console);
    drop(console);
    let mut virsh = std::process::Command::new("virsh")
        .arg("-c")
        .arg(lv::uri(&sa))
        .args([
            "migrate",
            "--live",
            "--bandwidth",
            "1",
            "--migrateuri",
            "tcp:127.0.0.1",
        ])
        .args(["lx-st", &lv::uri(&sb)])
        .env("LC_ALL", "C")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run virsh");
    wait_migrating(&*a, &back);
    assert_eq!(running(&*b), ["lx-st"], "B holds the incoming copy");
    virsh.kill().unwrap();
    virsh.wait().unwrap();
    wait_for(
        "B to give up the copy of the vanished client",
        Duration::from_secs(30),
        || running(&*b).is_empty().then_some(()),
    );
    wait_for(
        "the guest to run on A again",
        Duration::from_secs(30),
        || {
            (a.info(&back).unwrap().state == DomainState::Running
                && a.job_info(&back).unwrap().is_none())
            .then_some(())
        },
    );
    let mut console = Console::open(&*a, &back);
    assert!(console.uptime() > after, "still the same boot");
    drop(console);
    a.destroy(&back).unwrap();
}

/// A program that drives both managers itself, over qvirt's own
/// protocol: B prepared, A's `migrate_perform` streams and keeps the
/// guest paused under its job, B's `migrate_finish` runs it, A's
/// `migrate_confirm` ends the copy there. Then the same with a cancel:
/// B gives its copy up, and A's guest runs again.
#[test]
fn the_api_drives_a_migration_step_by_step() {
    let _heavy = heavy();
    let hosts = Hosts::new("migapi");
    let (a, b) = (hosts.a.connect(), hosts.b.connect());
    let (dom, mut console) = boot(&*a, "lx-api", 128);
    let before = console.uptime();
    drop(console);
    let prepare = |d: &dyn Driver| {
        let xml = a
            .xml_desc(&dom, qvirt::driver::XmlFlags::MIGRATABLE)
            .unwrap();
        let mut params = qvirt::driver::IncomingParams::new(xml);
        params.listen = Some("127.0.0.1".into());
        d.migrate_incoming(params).expect("prepare on B").port
    };
    // Cancelled after the stream: B gives its copy up, A runs on. (On a
    // connection of its own, kept open: its confirmed wait must not
    // touch a later migration when it ends.)
    let first = hosts.a.connect();
    let port = prepare(&*b);
    first
        .migrate_perform(
            &dom,
            &format!("tcp:127.0.0.1:{port}"),
            MigrateOptions::default().live(),
        )
        .expect("perform on A");
    assert_eq!(a.info(&dom).unwrap().state, DomainState::Paused);
    assert!(a.job_info(&dom).unwrap().is_some(), "A's job waits");
    b.migrate_abort_incoming(dom.uuid).unwrap();
    first
        .migrate_confirm(&dom, qvirt::driver::Confirmation::Cancelled, false)
        .unwrap();
    assert_eq!(a.info(&dom).unwrap().state, DomainState::Running);
    assert!(running(&*b).is_empty());
    // The client gone after the stream: the guest stays paused on A, its
    // job over; whoever looks decides (here: B's copy goes, A resumes).
    let port = prepare(&*b);
    let gone = hosts.a.connect();
    gone.migrate_perform(
        &dom,
        &format!("tcp:127.0.0.1:{port}"),
        MigrateOptions::default().live(),
    )
    .expect("perform on A");
    drop(gone);
    wait_for(
        "A to end the job of the abandoned migration",
        Duration::from_secs(10),
        || a.job_info(&dom).unwrap().is_none().then_some(()),
    );
    assert_eq!(a.info(&dom).unwrap().state, DomainState::Paused);
    b.migrate_abort_incoming(dom.uuid).unwrap();
    a.resume(&dom).unwrap();
    // Done: B runs the guest, A's copy ends.
    let port = prepare(&*b);
    a.migrate_perform(
        &dom,
        &format!("tcp:127.0.0.1:{port}"),
        MigrateOptions::default().live(),
    )
    .expect("perform on A");
    drop(first);
    // What must not happen (the wait given up) cannot be polled for: the
    // server hands a closed connection's ties to a worker, so give it
    // time to do wrong before looking.
    std::thread::sleep(Duration::from_millis(500));
    assert!(a.job_info(&dom).unwrap().is_some(), "A's job still waits");
    let there = b.migrate_finish(dom.uuid, true, None).expect("finish on B");
    a.migrate_confirm(&dom, qvirt::driver::Confirmation::Done, false)
        .unwrap();
    assert!(running(&*a).is_empty(), "A's copy ended");
    let e = a
        .migrate_confirm(&dom, qvirt::driver::Confirmation::Done, false)
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::NoDomain,
        "a transient domain is gone: {e}"
    );
    let mut console = Console::open(&*b, &there);
    assert!(console.uptime() > before, "the same boot");
    drop(console);
    b.destroy(&there).unwrap();
}
