//! Unmodified virsh (Debian's libvirt-clients 9.0) against a real qvirtd's
//! libvirt socket, for every verb qvirt serves: each test starts `qvirtd
//! --root DIR` and runs `virsh -c 'qemu+unix:///session?socket=PATH'`,
//! and checks what virsh prints against what qvirt's own client (on
//! qvirt's socket, the same daemon) sees, and the running VM itself.
//! Where the issue names the calls virsh makes, a recording proxy checks
//! them. Runs as root, with QEMU; the Linux guest of `tests/guest/` for
//! shutdown, reboot and the console.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use lv::*;
use qvirt::Driver;
use qvirt::driver::{DomainState, ListFilter, StateReason, XmlFlags};
use support::*;

const BOOT: Duration = Duration::from_secs(180);
const QUICK: Duration = Duration::from_secs(30);

/// How many times the guest's console log says it is ready.
fn ready_count(root: &Path, name: &str) -> usize {
    std::fs::read_to_string(root.join(format!("log/console/{name}.log")))
        .unwrap_or_default()
        .matches("QVIRT-GUEST-READY")
        .count()
}

/// A daemon, its libvirt socket and a qvirt client of the same daemon.
struct World {
    dir: TestDir,
    daemon: Daemon,
    socket: PathBuf,
    qvirt: Box<dyn Driver>,
}

impl World {
    fn new(tag: &str) -> World {
        let dir = TestDir::new(tag);
        let daemon = Daemon::start(&dir.path, &[]);
        let socket = lv_socket(&dir.path);
        let qvirt = daemon.connect();
        World {
            dir,
            daemon,
            socket,
            qvirt,
        }
    }

    fn virsh(&self, args: &[&str]) -> String {
        virsh_ok(&self.socket, args)
    }

    fn define(&self, name: &str, xml: &str) {
        let f = write_file(&self.dir.path, &format!("{name}.xml"), xml);
        let out = self.virsh(&["define", f.to_str().unwrap()]);
        assert!(out.contains(&format!("Domain '{name}' defined")), "{out}");
    }

    fn state(&self, name: &str) -> (DomainState, StateReason) {
        let d = self.qvirt.lookup_by_name(name).unwrap();
        let i = self.qvirt.info(&d).unwrap();
        (i.state, i.reason)
    }

    fn path(&self, name: &str) -> String {
        self.dir.path.join(name).to_str().unwrap().to_string()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if let Ok(list) = self.qvirt.list(ListFilter::ACTIVE) {
            for s in list {
                let _ = self.qvirt.destroy(&s.domain);
            }
        }
        let _ = &self.daemon;
    }
}

/// The names in virsh's `list` table, in order.
fn names(table: &str) -> Vec<String> {
    table
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().nth(1).map(String::from))
        .collect()
}

#[test]
fn list_dominfo_domstate_and_the_ids() {
    let w = World::new("vlist");
    for n in ["la", "lb"] {
        w.define(n, &firmware_vm(n));
    }
    let lc = write_file(&w.dir.path, "lc.xml", &firmware_vm("lc"));
    w.virsh(&["create", lc.to_str().unwrap()]);
    w.virsh(&["start", "la"]);
    w.virsh(&["autostart", "la"]);
    w.virsh(&["start", "lb"]);
    w.virsh(&["managedsave", "lb"]);

    // virsh orders running domains by id, then the others by name.
    assert_eq!(names(&w.virsh(&["list"])), ["lc", "la"]);
    assert_eq!(names(&w.virsh(&["list", "--all"])), ["lc", "la", "lb"]);
    assert_eq!(names(&w.virsh(&["list", "--inactive"])), ["lb"]);
    assert_eq!(
        names(&w.virsh(&["list", "--all", "--persistent"])),
        ["la", "lb"]
    );
    assert_eq!(names(&w.virsh(&["list", "--transient"])), ["lc"]);
    assert_eq!(names(&w.virsh(&["list", "--all", "--autostart"])), ["la"]);
    assert_eq!(
        names(&w.virsh(&["list", "--all", "--no-autostart"])),
        ["lc", "lb"]
    );
    assert_eq!(
        names(&w.virsh(&["list", "--all", "--with-managed-save"])),
        ["lb"]
    );
    assert_eq!(
        names(&w.virsh(&["list", "--all", "--without-managed-save"])),
        ["lc", "la"]
    );
    assert_eq!(names(&w.virsh(&["list", "--state-shutoff"])), ["lb"]);
    w.virsh(&["suspend", "la"]);
    assert_eq!(names(&w.virsh(&["list", "--state-paused"])), ["la"]);
    assert_eq!(names(&w.virsh(&["list", "--state-running"])), ["lc"]);
    let table = w.virsh(&["list", "--all"]);
    assert!(
        table.contains("paused") && table.contains("shut off"),
        "{table}"
    );
    assert_eq!(
        w.virsh(&["list", "--all", "--name"])
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["lc", "la", "lb"]
    );
    let la = w.qvirt.lookup_by_name("la").unwrap();
    assert!(
        w.virsh(&["list", "--all", "--uuid"])
            .contains(&la.uuid.to_string())
    );

    let info = w.virsh(&["dominfo", "la"]);
    for want in [
        format!("Id:             {}", la.id.unwrap()),
        "Name:           la".to_string(),
        format!("UUID:           {}", la.uuid),
        "OS Type:        hvm".to_string(),
        "State:          paused".to_string(),
        "CPU(s):         1".to_string(),
        "Max memory:     32768 KiB".to_string(),
        "Persistent:     yes".to_string(),
        "Autostart:      enable".to_string(),
        "Managed save:   no".to_string(),
    ] {
        assert!(info.contains(&want), "dominfo lacks '{want}':\n{info}");
    }
    assert!(w.virsh(&["dominfo", "lb"]).contains("Managed save:   yes"));
    assert!(w.virsh(&["dominfo", "lc"]).contains("Persistent:     no"));
    assert_eq!(
        w.virsh(&["domstate", "--reason", "la"]).trim(),
        "paused (user)"
    );
    w.virsh(&["resume", "la"]);
    assert_eq!(
        w.virsh(&["domstate", "--reason", "la"]).trim(),
        "running (unpaused)"
    );
    assert_eq!(
        w.virsh(&["domstate", "--reason", "lb"]).trim(),
        "shut off (saved)"
    );
    assert_eq!(
        w.virsh(&["domstate", "--reason", "lc"]).trim(),
        "running (booted)"
    );
    assert_eq!(w.virsh(&["domid", "la"]).trim(), la.id.unwrap().to_string());
    assert_eq!(w.virsh(&["domuuid", "la"]).trim(), la.uuid.to_string());
    assert_eq!(
        w.virsh(&["domname", &la.id.unwrap().to_string()]).trim(),
        "la"
    );
    assert_eq!(w.virsh(&["domname", &la.uuid.to_string()]).trim(), "la");
    let err = virsh_err(&w.socket, &["dominfo", "nope"]);
    assert!(err.contains("failed to get domain 'nope'"), "{err}");
}

#[test]
fn virsh_makes_the_calls_the_issue_names() {
    let w = World::new("vcalls");
    let rec = Recorder::new(&w.dir.path.join("rec.sock"), &w.socket);
    let via = |args: &[&str]| {
        let out = virsh(&rec.socket, args);
        assert!(out.status.success(), "{out:?}");
        rec.take()
    };
    let handshake_and_close = |calls: Vec<i32>| -> Vec<i32> {
        // Every virsh opens with AUTH_LIST, keepalive, CONNECT_OPEN, the
        // event and close callback features, and registers a close
        // callback; at exit it unregisters it and closes.
        assert_eq!(&calls[..6], [66, 60, 1, 60, 60, 360], "{calls:?}");
        assert_eq!(&calls[calls.len() - 2..], [361, 2], "{calls:?}");
        calls[6..calls.len() - 2].to_vec()
    };
    let xml = write_file(&w.dir.path, "c.xml", &firmware_vm("calls"));
    assert_eq!(
        handshake_and_close(via(&["define", xml.to_str().unwrap()])),
        [11]
    );
    assert_eq!(handshake_and_close(via(&["list", "--all"])), [273, 212]);
    assert_eq!(
        handshake_and_close(via(&["dominfo", "calls"])),
        [23, 19, 16, 151, 15, 183, 122, 426]
    );
    assert_eq!(handshake_and_close(via(&["start", "calls"])), [23, 9, 24]);
    assert_eq!(handshake_and_close(via(&["dumpxml", "calls"])), [23, 14]);
    assert_eq!(handshake_and_close(via(&["destroy", "calls"])), [23, 12]);
    // undefine asks about snapshots (187), which qvirt does not serve:
    // virsh takes the refusal and goes on.
    assert_eq!(
        handshake_and_close(via(&["undefine", "calls"])),
        [23, 150, 183, 187, 231]
    );
}

#[test]
fn lifecycle_verbs_change_what_qvirt_sees() {
    let w = World::new("vlife");
    w.define("lf", &firmware_vm("lf"));
    // Defined through virsh, seen by qvirt; and the other way round.
    let dom = w
        .qvirt
        .lookup_by_name("lf")
        .expect("qvirt sees virsh's domain");
    w.qvirt
        .define_xml(&firmware_vm("from-qvirt"))
        .expect("qvirt defines");
    assert!(names(&w.virsh(&["list", "--all"])).contains(&"from-qvirt".to_string()));

    w.virsh(&["start", "lf"]);
    assert_eq!(w.state("lf"), (DomainState::Running, StateReason::Booted));
    let pid = qemu_pid(&w.dir.path, "lf");
    assert!(process_alive(pid));
    w.virsh(&["suspend", "lf"]);
    assert_eq!(w.state("lf").0, DomainState::Paused);
    w.virsh(&["resume", "lf"]);
    assert_eq!(w.state("lf").0, DomainState::Running);
    assert!(w.virsh(&["reset", "lf"]).contains("was reset"));
    assert_eq!(
        qemu_pid(&w.dir.path, "lf"),
        pid,
        "a reset keeps the process"
    );
    assert!(w.virsh(&["reboot", "lf"]).contains("is being rebooted"));

    // Live and persistent XML, as qvirt gives them.
    let live = w.virsh(&["dumpxml", "lf"]);
    let inactive = w.virsh(&["dumpxml", "--inactive", "lf"]);
    assert_eq!(live, w.qvirt.xml_desc(&dom, XmlFlags::NONE).unwrap() + "\n");
    assert_eq!(
        inactive,
        w.qvirt.xml_desc(&dom, XmlFlags::INACTIVE).unwrap() + "\n"
    );

    let image = w.path("lf.save");
    w.virsh(&["save", "lf", &image]);
    assert_eq!(w.state("lf"), (DomainState::Shutoff, StateReason::Saved));
    assert!(!process_alive(pid));
    w.virsh(&["restore", &image]);
    assert_eq!(w.state("lf"), (DomainState::Running, StateReason::Restored));
    w.virsh(&["managedsave", "lf"]);
    assert!(w.qvirt.info(&dom).unwrap().managed_save);
    w.virsh(&["start", "lf"]);
    assert_eq!(w.state("lf"), (DomainState::Running, StateReason::Restored));
    assert!(!w.qvirt.info(&dom).unwrap().managed_save);

    w.virsh(&["autostart", "lf"]);
    assert!(w.qvirt.autostart(&dom).unwrap());
    w.virsh(&["autostart", "--disable", "lf"]);
    assert!(!w.qvirt.autostart(&dom).unwrap());

    w.virsh(&["destroy", "lf"]);
    assert_eq!(
        w.state("lf"),
        (DomainState::Shutoff, StateReason::Destroyed)
    );
    w.virsh(&["undefine", "lf"]);
    assert_eq!(
        w.qvirt.lookup_by_name("lf").unwrap_err().code,
        qvirt::ErrorCode::NoDomain
    );

    // A transient domain: gone once destroyed.
    let tx = write_file(&w.dir.path, "tx.xml", &firmware_vm("tx"));
    assert!(
        w.virsh(&["create", tx.to_str().unwrap()])
            .contains("Domain 'tx' created")
    );
    let t = w.qvirt.lookup_by_name("tx").unwrap();
    assert!(!w.qvirt.info(&t).unwrap().persistent);
    w.virsh(&["destroy", "tx"]);
    wait_until(QUICK, || w.qvirt.lookup_by_name("tx").is_err());

    // Errors come back with qvirt's message.
    let bad = write_file(&w.dir.path, "bad.xml", "<domain type='qemu'><name>x</name>");
    let err = virsh_err(&w.socket, &["define", bad.to_str().unwrap()]);
    assert!(
        err.contains("malformed XML at 1:1"),
        "the XML error says where: {err}"
    );
    let err = virsh_err(&w.socket, &["suspend", "from-qvirt"]);
    assert!(
        err.contains("cannot suspend domain 'from-qvirt': it is shut off"),
        "{err}"
    );
}

#[test]
fn undefine_with_managed_save_and_nvram() {
    let w = World::new("vundef");
    w.define("ms", &firmware_vm("ms"));
    w.virsh(&["start", "ms"]);
    w.virsh(&["managedsave", "ms"]);
    let image = w.dir.path.join("save/ms.save");
    assert!(image.exists());
    let err = virsh_err(&w.socket, &["undefine", "ms"]);
    assert!(err.contains("managed save"), "{err}");
    w.virsh(&["undefine", "--managed-save", "ms"]);
    assert!(!image.exists(), "--managed-save removes the image");
    assert!(w.qvirt.lookup_by_name("ms").is_err());

    // A UEFI domain: its variable store is made at the first start.
    let efi = firmware_vm("efi")
        .replace(
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>",
            "<os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>\
         <features><acpi/></features>",
        )
        .replace("bus='ide'", "bus='sata'");
    w.define("efi", &efi);
    w.virsh(&["start", "efi"]);
    w.virsh(&["destroy", "efi"]);
    let vars = w.dir.path.join("nvram/efi_VARS.fd");
    assert!(vars.exists(), "the start made {}", vars.display());
    let err = virsh_err(&w.socket, &["undefine", "efi"]);
    assert!(err.to_lowercase().contains("nvram"), "{err}");
    w.virsh(&["undefine", "--nvram", "efi"]);
    assert!(!vars.exists(), "--nvram removes the variable store");
    assert!(w.qvirt.lookup_by_name("efi").is_err());
}

#[test]
fn the_linux_guest_reboots_and_shuts_down() {
    let w = World::new("vlin");
    w.define("lin", &linux_vm("lin"));
    w.virsh(&["start", "lin"]);
    wait_until(BOOT, || ready_count(&w.dir.path, "lin") >= 1);
    let pid = qemu_pid(&w.dir.path, "lin");
    w.virsh(&["reboot", "lin"]);
    wait_until(BOOT, || ready_count(&w.dir.path, "lin") >= 2);
    assert_eq!(qemu_pid(&w.dir.path, "lin"), pid, "a reboot keeps QEMU");
    assert!(w.virsh(&["shutdown", "lin"]).contains("is being shutdown"));
    wait_until(BOOT, || {
        w.virsh(&["domstate", "--reason", "lin"]).trim() == "shut off (shutdown)"
    });
    assert!(!process_alive(pid));
}

#[test]
fn the_console_talks_to_the_guest() {
    let w = World::new("vcon");
    w.define("con", &linux_vm("con"));
    w.virsh(&["start", "con"]);
    wait_until(BOOT, || ready_count(&w.dir.path, "con") >= 1);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/libvirt/console.py");
    let out = Command::new(PYTHON)
        .arg(script)
        .arg(uri(&w.socket))
        .arg("con")
        .output()
        .expect("run the console script");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("CONSOLE-OK"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The guest still runs, and its console can be opened again.
    assert_eq!(w.state("con").0, DomainState::Running);
}

#[test]
fn screenshot_change_media_and_device_lists() {
    let w = World::new("vdev");
    w.define("dev", &firmware_vm("dev"));
    w.virsh(&["start", "dev"]);
    let shot = w.path("shot.png");
    let out = w.virsh(&["screenshot", "dev", &shot]);
    assert!(out.contains("image/png"), "{out}");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let reader = decoder.read_info().expect("a PNG");
    let (wdt, hgt) = (reader.info().width, reader.info().height);
    assert!(wdt >= 640 && hgt >= 400, "{wdt}x{hgt}");

    let blk = w.virsh(&["domblklist", "dev"]);
    assert!(blk.contains("hdc") && blk.contains(" -"), "{blk}");
    let ifl = w.virsh(&["domiflist", "dev"]);
    assert!(
        ifl.contains("52:54:00:12:34:56") && ifl.contains("e1000"),
        "{ifl}"
    );

    let iso = w.path("medium.iso");
    std::fs::write(&iso, vec![0u8; 1 << 20]).unwrap();
    let dom = w.qvirt.lookup_by_name("dev").unwrap();
    let live_source = || {
        let xml = w.qvirt.xml_desc(&dom, XmlFlags::NONE).unwrap();
        qvirt::DomainDef::from_xml(&xml).unwrap().devices.disks[0]
            .source
            .clone()
    };
    w.virsh(&["change-media", "dev", "hdc", &iso, "--insert"]);
    assert_eq!(live_source().as_deref(), Some(iso.as_str()));
    assert!(w.virsh(&["domblklist", "dev"]).contains(&iso));
    let err = virsh_err(&w.socket, &["change-media", "dev", "hdc", &iso, "--insert"]);
    assert!(
        err.contains("already has media") || err.contains("media"),
        "{err}"
    );
    w.virsh(&["change-media", "dev", "hdc", "--eject"]);
    assert_eq!(live_source(), None);
    w.virsh(&["change-media", "dev", "hdc", &iso, "--update", "--config"]);
    let config = w.qvirt.xml_desc(&dom, XmlFlags::INACTIVE).unwrap();
    assert!(config.contains(&iso), "--config changes the definition");
    assert_eq!(live_source(), None, "and not the running domain");
}

/// virsh's hot-plug verbs reach qvirtd through libvirt's
/// `DomainAttachDeviceFlags` / `DomainDetachDeviceFlags`: a disk plugged
/// into the running domain shows in qvirt's live XML with its PCI slot;
/// `--config` changes the definition only; a controller is refused by
/// name.
#[test]
fn virsh_attaches_and_detaches_devices() {
    let w = World::new("vplug");
    w.define(
        "plug",
        &firmware_vm("plug").replace("</os>", "</os><features><acpi/></features>"),
    );
    w.virsh(&["start", "plug"]);
    let dom = w.qvirt.lookup_by_name("plug").unwrap();
    let disks = |flags| {
        let xml = w.qvirt.xml_desc(&dom, flags).unwrap();
        qvirt::DomainDef::from_xml(&xml).unwrap().devices.disks
    };
    let img = w.path("b.img");
    std::fs::write(&img, vec![0u8; 1 << 20]).unwrap();
    let out = w.virsh(&["attach-disk", "plug", &img, "vdb", "--targetbus", "virtio"]);
    assert!(out.contains("Disk attached successfully"), "{out}");
    let live = disks(XmlFlags::NONE);
    let vdb = live
        .iter()
        .find(|d| d.target == "vdb")
        .expect("vdb is live");
    assert!(matches!(vdb.address, Some(qvirt::model::Address::Pci(_))));
    assert!(!disks(XmlFlags::INACTIVE).iter().any(|d| d.target == "vdb"));
    let out = w.virsh(&[
        "attach-disk",
        "plug",
        &img,
        "vdc",
        "--config",
        "--mode",
        "readonly",
    ]);
    assert!(out.contains("Disk attached successfully"), "{out}");
    assert!(disks(XmlFlags::INACTIVE).iter().any(|d| d.target == "vdc"));
    assert!(!disks(XmlFlags::NONE).iter().any(|d| d.target == "vdc"));
    let out = w.virsh(&["detach-disk", "plug", "vdc", "--config"]);
    assert!(out.contains("Disk detached successfully"), "{out}");
    assert!(!disks(XmlFlags::INACTIVE).iter().any(|d| d.target == "vdc"));
    let nic = write_file(
        &w.dir.path,
        "nic.xml",
        "<interface type='user'><mac address='52:54:00:12:34:99'/><model type='virtio'/></interface>",
    );
    let nic = nic.to_str().unwrap();
    let out = w.virsh(&["attach-device", "plug", nic]);
    assert!(out.contains("Device attached successfully"), "{out}");
    assert!(
        w.virsh(&["domiflist", "plug"])
            .contains("52:54:00:12:34:99")
    );
    let ctl = write_file(
        &w.dir.path,
        "ctl.xml",
        "<controller type='usb' index='1' model='qemu-xhci'/>",
    );
    let err = virsh_err(&w.socket, &["attach-device", "plug", ctl.to_str().unwrap()]);
    assert!(
        err.contains("'usb' controller cannot be hot plugged."),
        "{err}"
    );
}

#[test]
fn event_loop_prints_the_lifecycle_of_qvirts_calls() {
    let w = World::new("vevt");
    let mut child = Command::new("virsh")
        .arg("-c")
        .arg(uri(&w.socket))
        .args(["event", "--loop", "--all"])
        .env("LC_ALL", "C")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("virsh event");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    // virsh has registered its callbacks once a define shows: define
    // probes (each its own name) until one does, then forget the probes.
    let mut probe = 0;
    wait_for("virsh's subscription", QUICK, || {
        probe += 1;
        w.qvirt
            .define_xml(&firmware_vm(&format!("probe{probe}")))
            .unwrap();
        rx.recv_timeout(Duration::from_millis(500)).ok()
    });
    let next = || loop {
        let line = rx.recv_timeout(QUICK).expect("the next event line");
        if !line.contains("'probe") {
            return line;
        }
    };
    let dom = w.qvirt.define_xml(&firmware_vm("ev")).unwrap();
    assert_eq!(next(), "event 'lifecycle' for domain 'ev': Defined Added");
    let d = w.qvirt.start(&dom).unwrap();
    w.qvirt.suspend(&d).unwrap();
    w.qvirt.resume(&d).unwrap();
    w.qvirt.reset(&d).unwrap();
    w.qvirt.destroy(&d).unwrap();
    w.qvirt.undefine(&d).unwrap();
    let want = [
        "event 'lifecycle' for domain 'ev': Started Booted",
        "event 'lifecycle' for domain 'ev': Suspended Paused",
        "event 'lifecycle' for domain 'ev': Resumed Unpaused",
        "event 'reboot' for domain 'ev'",
        "event 'lifecycle' for domain 'ev': Stopped Destroyed",
        "event 'lifecycle' for domain 'ev': Undefined Removed",
    ];
    // SeaBIOS, reset after it has run, may reset the machine once more
    // itself (its "hard reboot"): a second reboot event is the guest's.
    let mut got = next();
    for (i, line) in want.iter().enumerate() {
        while i > 0 && want[i - 1].contains("'reboot'") && got == want[i - 1] && got != *line {
            got = next();
        }
        assert_eq!(got, *line);
        if i + 1 < want.len() {
            got = next();
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn host_queries() {
    let w = World::new("vhost");
    let node = w.virsh(&["nodeinfo"]);
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert!(node.contains("CPU model:           x86_64"), "{node}");
    assert!(
        node.contains(&format!("CPU(s):              {cpus}")),
        "{node}"
    );
    let caps = w.virsh(&["capabilities"]);
    assert!(
        caps.contains("<capabilities>") && caps.contains("<domain type='qemu'"),
        "{caps}"
    );
    let version = w.virsh(&["version", "--daemon"]);
    let qemu = Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .unwrap();
    let qemu = String::from_utf8_lossy(&qemu.stdout);
    let qv = qemu
        .split_whitespace()
        .nth(3)
        .unwrap()
        .trim_end_matches(|c: char| !c.is_ascii_digit());
    assert!(
        version.contains(&format!("Running hypervisor: QEMU {qv}")),
        "{version} vs {qemu}"
    );
    assert!(
        version.contains("Running against daemon: 9.0.0"),
        "{version}"
    );
    assert_eq!(w.virsh(&["uri"]).trim(), uri(&w.socket));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(w.virsh(&["hostname"]).trim(), host.trim());
}

/// Polls `f` every 20 ms until it holds; fails after `within`.
fn wait_until(within: Duration, mut f: impl FnMut() -> bool) {
    wait_for("a condition", within, || f().then_some(()));
}

/// The daily verbs through virsh's own calls: `start --paused`
/// (virDomainCreateWithFlags), `desc` and `metadata` (virDomainSetMetadata,
/// GetMetadata), `send-key`, `domifaddr`, `qemu-monitor-command` (libvirt's
/// qemu program) and its taint in `dominfo`'s messages, `domrename`; each
/// seen by qvirt's own client.
#[test]
fn daily_verbs_through_virsh() {
    let w = World::new("vdaily");
    w.define("dv", &firmware_vm("dv"));
    w.virsh(&["start", "dv", "--paused"]);
    assert_eq!(w.state("dv"), (DomainState::Paused, StateReason::User));
    w.virsh(&["resume", "dv"]);

    w.virsh(&["desc", "dv", "--title", "--live", "--new-desc", "web front"]);
    assert_eq!(w.virsh(&["desc", "dv", "--title"]).trim(), "web front");
    let dom = w.qvirt.lookup_by_name("dv").unwrap();
    let live = w.qvirt.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(live.contains("<title>web front</title>"), "{live}");
    let uri = "http://example.org/app/1";
    w.virsh(&[
        "metadata",
        "dv",
        uri,
        "--key",
        "app",
        "--set",
        "<cfg port='80'/>",
        "--config",
    ]);
    assert_eq!(
        w.virsh(&["metadata", "dv", uri, "--config"]).trim(),
        "<cfg port=\"80\"/>"
    );

    // Keys reach QEMU (a firmware VM has no kernel to see them; the
    // conformance suite's guest does).
    w.virsh(&["send-key", "dv", "KEY_LEFTSHIFT", "KEY_A"]);
    let err = virsh_err(&w.socket, &["send-key", "dv", "--codeset", "usb", "4"]);
    assert!(err.contains("code set 7"), "{err}");
    let addrs = w.virsh(&["domifaddr", "dv"]);
    assert!(addrs.starts_with(" Name"), "{addrs}");
    assert_eq!(
        addrs.lines().filter(|l| !l.trim().is_empty()).count(),
        2,
        "no lease: the header only\n{addrs}"
    );

    // libvirt's qemu program: QMP through virsh, the human monitor
    // refused by name; the taint shows in virsh's dominfo.
    let answer = w.virsh(&[
        "qemu-monitor-command",
        "dv",
        "--pretty",
        r#"{"execute":"query-status"}"#,
    ]);
    assert!(answer.contains("\"status\": \"running\""), "{answer}");
    let err = virsh_err(
        &w.socket,
        &["qemu-monitor-command", "dv", "--hmp", "info status"],
    );
    assert!(err.contains("human monitor"), "{err}");
    let info = w.virsh(&["dominfo", "dv"]);
    assert!(
        info.contains("Messages:       tainted: custom monitor control commands issued"),
        "{info}"
    );

    w.virsh(&["destroy", "dv"]);
    // start --autodestroy: virsh's connection ends when virsh exits, and
    // the daemon, still serving others, destroys the domain then.
    assert!(
        w.virsh(&["start", "dv", "--autodestroy"])
            .contains("Domain 'dv' started")
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while w.state("dv") != (DomainState::Shutoff, StateReason::Destroyed) {
        assert!(
            std::time::Instant::now() < deadline,
            "dv still {:?} after virsh exited",
            w.state("dv")
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        w.virsh(&["domrename", "dv", "dw"])
            .contains("Domain successfully renamed")
    );
    let renamed = w.qvirt.lookup_by_name("dw").unwrap();
    assert_eq!(renamed.uuid, dom.uuid);
    assert!(w.qvirt.lookup_by_name("dv").is_err());
}

/// `virsh memtune` and `virsh blkiotune` without values read the
/// definition's `<memtune>` (KiB, "unlimited" where unset) and
/// `<blkiotune>` (the weight, and each device's settings as libvirt
/// lists them).
#[test]
fn memtune_and_blkiotune_show_the_definition() {
    let w = World::new("vtune");
    w.define(
        "tuned",
        "<domain type='qemu'><name>tuned</name><memory unit='MiB'>64</memory>\
         <memtune><hard_limit unit='MiB'>200</hard_limit><soft_limit unit='MiB'>150</soft_limit></memtune>\
         <blkiotune><weight>800</weight><device><path>/dev/loop0</path>\
         <read_bytes_sec>1048576</read_bytes_sec><write_iops_sec>100</write_iops_sec></device>\
         <device><path>/dev/loop1</path><weight>300</weight></device></blkiotune>\
         <os><type arch='x86_64' machine='pc'>hvm</type></os><devices/></domain>",
    );
    let field = |out: &str, name: &str| {
        out.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == name).then(|| v.trim().to_string())
            })
            .unwrap_or_else(|| panic!("no {name} in:\n{out}"))
    };
    let mem = w.virsh(&["memtune", "tuned"]);
    assert_eq!(field(&mem, "hard_limit"), "204800", "{mem}");
    assert_eq!(field(&mem, "soft_limit"), "153600", "{mem}");
    assert_eq!(field(&mem, "swap_hard_limit"), "unlimited", "{mem}");
    let blk = w.virsh(&["blkiotune", "tuned", "--config"]);
    assert_eq!(field(&blk, "weight"), "800", "{blk}");
    assert_eq!(field(&blk, "device_weight"), "/dev/loop1,300", "{blk}");
    assert_eq!(
        field(&blk, "device_read_bytes_sec"),
        "/dev/loop0,1048576",
        "{blk}"
    );
    assert_eq!(
        field(&blk, "device_write_iops_sec"),
        "/dev/loop0,100",
        "{blk}"
    );
    assert_eq!(field(&blk, "device_read_iops_sec"), "", "{blk}");
}
