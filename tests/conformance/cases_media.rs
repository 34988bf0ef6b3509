//! Removable media and screenshots: cdrom and floppy media changed in the
//! running domain, the persistent definition or both, checked against the
//! XML and against QEMU's own `query-block`; and PNG screenshots of the
//! firmware VM's VGA screen, decoded and checked not to be blank.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use qvirt::driver::XmlFlags;
use qvirt::driver::{DomainState, EventKind, MediaChange, MediaFlags, StateReason};
use qvirt::{DomainDef, Driver, ErrorCode};
use serde_json::{Value, json};

use crate::*;

/// Only the running domain.
const LIVE: MediaFlags = MediaFlags::LIVE;
/// Only the persistent definition.
const CONFIG: MediaFlags = MediaFlags::CONFIG;
/// Both.
const BOTH: MediaFlags = MediaFlags::new(true, true);
/// The running domain when it runs, else the definition.
const CURRENT: MediaFlags = MediaFlags::CURRENT;

/// The firmware VM with an empty IDE cdrom (hdc) and a floppy (fda)
/// holding `floppy`.
fn media_vm(name: &str, floppy: &Path) -> Vm {
    Vm::firmware(name).device(&format!(
        "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>\
         <disk type='file' device='floppy'><source file='{}'/><target dev='fda'/></disk>",
        floppy.display()
    ))
}

/// A file of `kib` KiB of zeros under the test's directory.
fn image(cx: &Ctx<'_>, name: &str, kib: usize) -> PathBuf {
    let path = cx.root().join(name);
    std::fs::write(&path, vec![0u8; kib * 1024]).expect("write a test image");
    path
}

/// The sources of the disks of `dom`'s live (or inactive) XML, by target.
fn sources(d: &dyn Driver, dom: &qvirt::Domain, inactive: bool) -> Vec<(String, Option<String>)> {
    let def =
        DomainDef::from_xml(&d.xml_desc(dom, XmlFlags::inactive_if(inactive)).unwrap()).unwrap();
    def.devices
        .disks
        .into_iter()
        .map(|disk| (disk.target, disk.source))
        .collect()
}

/// `(hdc, fda)` as plain strings, `-` for empty, for compact asserts.
fn pair(list: &[(String, Option<String>)]) -> (String, String) {
    let of = |t: &str| {
        list.iter()
            .find(|(target, _)| target == t)
            .and_then(|(_, s)| s.clone())
            .unwrap_or_else(|| "-".to_string())
    };
    (of("hdc"), of("fda"))
}

/// Runs one QMP command on the socket of a domain no manager holds (the
/// driver closed), the way an outside observer checks QEMU's view.
fn qmp_now(socket: &Path, command: &str, arguments: Value) -> Value {
    let stream =
        UnixStream::connect(socket).unwrap_or_else(|e| panic!("connect {}: {e}", socket.display()));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut line = String::new();
    reader.read_line(&mut line).expect("the QMP greeting");
    let mut run = |cmd: &str, arguments: Value| -> Value {
        writeln!(
            writer,
            "{}",
            json!({ "execute": cmd, "arguments": arguments })
        )
        .unwrap();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("a QMP reply");
            let v: Value = serde_json::from_str(&line).expect("QMP speaks JSON");
            if v.get("event").is_none() {
                return v;
            }
        }
    };
    run("qmp_capabilities", json!({}));
    run(command, arguments)["return"].clone()
}

/// The file in QEMU's drive `qdev`, from `query-block`.
fn qemu_medium(blocks: &Value, qdev: &str) -> String {
    let block = blocks
        .as_array()
        .expect("query-block returns a list")
        .iter()
        .find(|b| b["qdev"].as_str().is_some_and(|q| q == qdev))
        .unwrap_or_else(|| panic!("no drive {qdev} in {blocks}"));
    block["inserted"]["file"]
        .as_str()
        .unwrap_or("-")
        .to_string()
}

/// Media go in and out of the running domain and the definition as the
/// flags say; QEMU's `query-block` agrees with the live XML, also for a
/// manager that reattaches; the definition's media are used at the next
/// start.
pub fn media_change_live_and_config(cx: &mut Ctx<'_>) {
    let floppy = image(cx, "floppy.img", 1440);
    let iso = image(cx, "disc.iso", 64);
    let iso2 = image(cx, "disc2.iso", 64);
    let (iso_s, iso2_s, floppy_s) = (
        iso.display().to_string(),
        iso2.display().to_string(),
        floppy.display().to_string(),
    );
    let d = cx.d();
    let dom = define_and_start(d, &media_vm("fw-media", &floppy));
    // Current = live while running: the definition keeps its empty drive.
    d.change_media(&dom, "hdc", MediaChange::Insert(iso.clone()), CURRENT)
        .unwrap();
    assert_eq!(
        pair(&sources(d, &dom, false)),
        (iso_s.clone(), floppy_s.clone())
    );
    assert_eq!(
        pair(&sources(d, &dom, true)),
        ("-".into(), floppy_s.clone())
    );
    // Both: the floppy leaves the running domain and the definition.
    d.change_media(&dom, "fda", MediaChange::Eject, BOTH)
        .unwrap();
    assert_eq!(pair(&sources(d, &dom, false)), (iso_s.clone(), "-".into()));
    assert_eq!(pair(&sources(d, &dom, true)), ("-".into(), "-".into()));
    // Config only: the running domain keeps its disc.
    d.change_media(&dom, "hdc", MediaChange::Update(iso2.clone()), CONFIG)
        .unwrap();
    assert_eq!(pair(&sources(d, &dom, false)), (iso_s.clone(), "-".into()));
    assert_eq!(pair(&sources(d, &dom, true)), (iso2_s.clone(), "-".into()));
    // Live update replaces the disc in place.
    d.change_media(&dom, "hdc", MediaChange::Update(iso2.clone()), LIVE)
        .unwrap();
    d.change_media(&dom, "fda", MediaChange::Insert(floppy.clone()), LIVE)
        .unwrap();
    assert_eq!(
        pair(&sources(d, &dom, false)),
        (iso2_s.clone(), floppy_s.clone())
    );
    // QEMU says the same, and so does the next manager.
    cx.close();
    let blocks = qmp_now(
        &cx.run_dir("fw-media").join("qmp.sock"),
        "query-block",
        json!({}),
    );
    assert_eq!(qemu_medium(&blocks, "ide0-1-0"), iso2_s);
    assert_eq!(qemu_medium(&blocks, "fdc0-0-0"), floppy_s);
    cx.reopen();
    let d = cx.d();
    let dom = d.lookup_by_name("fw-media").unwrap();
    assert_eq!(
        pair(&sources(d, &dom, false)),
        (iso2_s.clone(), floppy_s.clone())
    );
    d.change_media(&dom, "hdc", MediaChange::Eject, LIVE)
        .unwrap();
    assert_eq!(
        pair(&sources(d, &dom, false)),
        ("-".into(), floppy_s.clone())
    );
    // Shut off, current means the definition; live is refused.
    d.destroy(&dom).unwrap();
    expect_err(
        d.change_media(&dom, "fda", MediaChange::Insert(floppy.clone()), LIVE),
        ErrorCode::OperationInvalid,
        "live change of a shut-off domain",
    );
    d.change_media(&dom, "fda", MediaChange::Insert(floppy.clone()), CURRENT)
        .unwrap();
    // The next start uses the definition's media.
    let dom = d.start(&dom).unwrap();
    assert_eq!(pair(&sources(d, &dom, false)), (iso2_s, floppy_s));
    assert_eq!(info(d, &dom).state, DomainState::Running);
}

/// Whether QEMU has the tray of drive `qdev` open, from `query-block`.
fn qemu_tray_open(blocks: &Value, qdev: &str) -> bool {
    blocks
        .as_array()
        .expect("query-block returns a list")
        .iter()
        .find(|b| b["qdev"].as_str().is_some_and(|q| q == qdev))
        .and_then(|b| b["tray_open"].as_bool())
        .unwrap_or_else(|| panic!("no tray for {qdev} in {blocks}"))
}

/// Whether the (live or inactive) XML of `dom` says hdc's tray is open.
fn tray_open(d: &dyn Driver, dom: &qvirt::Domain, inactive: bool) -> bool {
    let def =
        DomainDef::from_xml(&d.xml_desc(dom, XmlFlags::inactive_if(inactive)).unwrap()).unwrap();
    def.devices
        .disks
        .iter()
        .find(|disk| disk.target == "hdc")
        .expect("hdc")
        .tray_open
}

/// QEMU's answer to one QMP command sent through the driver.
fn monitor(d: &dyn Driver, dom: &qvirt::Domain, command: &str, arguments: Value) -> Value {
    let cmd = json!({"execute": command, "arguments": arguments}).to_string();
    let reply = d.qemu_monitor_command(dom, &cmd).unwrap();
    serde_json::from_str::<Value>(&reply).unwrap()["return"].clone()
}

/// Waits until the live XML of `dom` says hdc's tray is `open`.
fn wait_tray(d: &dyn Driver, dom: &qvirt::Domain, open: bool, why: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while tray_open(d, dom, false) != open {
        assert!(
            Instant::now() < deadline,
            "{why}: the live XML never said the tray is {}",
            if open { "open" } else { "closed" }
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `<target tray='open'>`: a start opens the tray its definition says is
/// open (QEMU has it open before the guest runs); the live XML then
/// follows QEMU's tray wherever it moves: moved in QEMU itself (as the
/// guest's eject and load do), closed by a media change, moved while no
/// manager watched (found by the next one). The definition keeps what
/// the user wrote, and the next start applies it again. The domain stays
/// paused, so that only these commands move the tray: a running firmware
/// closes an open tray as it probes the drive for a disc to boot.
pub fn cdrom_tray_follows_qemu(cx: &mut Ctx<'_>) {
    let iso = image(cx, "tray.iso", 64);
    let iso2 = image(cx, "tray2.iso", 64);
    let d = cx.d();
    let vm = Vm::firmware("fw-tray").device(&format!(
        "<disk type='file' device='cdrom'><source file='{}'/><target dev='hdc' bus='ide' tray='open'/><readonly/></disk>",
        iso.display()
    ));
    let dom = d.start_paused(&define(d, &vm)).unwrap();
    assert!(qemu_tray_open(
        &monitor(d, &dom, "query-block", json!({})),
        "ide0-1-0"
    ));
    assert!(tray_open(d, &dom, false), "the live XML says open");
    assert!(tray_open(d, &dom, true), "the definition says open");
    // QEMU closes it, then opens it: the live XML follows each move.
    monitor(d, &dom, "blockdev-close-tray", json!({"id": "ide0-1-0"}));
    wait_tray(d, &dom, false, "closed in QEMU");
    monitor(
        d,
        &dom,
        "blockdev-open-tray",
        json!({"id": "ide0-1-0", "force": true}),
    );
    wait_tray(d, &dom, true, "opened in QEMU");
    // A media change closes it, reported as soon as the change returns.
    d.change_media(&dom, "hdc", MediaChange::Update(iso2.clone()), LIVE)
        .unwrap();
    assert!(!tray_open(d, &dom, false), "closed by the media change");
    assert!(!qemu_tray_open(
        &monitor(d, &dom, "query-block", json!({})),
        "ide0-1-0"
    ));
    assert!(tray_open(d, &dom, true), "the definition still says open");
    // Opened while no manager watched: the next manager finds it open.
    cx.close();
    let sock = cx.run_dir("fw-tray").join("qmp.sock");
    qmp_now(
        &sock,
        "blockdev-open-tray",
        json!({"id": "ide0-1-0", "force": true}),
    );
    assert!(qemu_tray_open(
        &qmp_now(&sock, "query-block", json!({})),
        "ide0-1-0"
    ));
    cx.reopen();
    let d = cx.d();
    let dom = d.lookup_by_name("fw-tray").unwrap();
    assert!(tray_open(d, &dom, false), "found open by the next manager");
    // The next start applies the definition again.
    d.destroy(&dom).unwrap();
    let dom = d.start_paused(&dom).unwrap();
    assert!(tray_open(d, &dom, false));
    assert!(qemu_tray_open(
        &monitor(d, &dom, "query-block", json!({})),
        "ide0-1-0"
    ));
    d.destroy(&dom).unwrap();
}

/// Each move of a tray is told once, when its state changes, and the
/// live XML follows QEMU's tray throughout. A machine reset shuts the
/// tray without `DEVICE_TRAY_MOVED` (QEMU's reset of the drive clears its
/// tray flag), so QEMU says "opened" twice in a row when the tray is
/// opened again: the shutting is told at the reset, and the second
/// "opened" is the one move it is. The domain stays paused, so that only
/// these commands move the tray.
pub fn tray_moves_are_told_once_each(cx: &mut Ctx<'_>) {
    let iso = image(cx, "once.iso", 64);
    let d = cx.d();
    let vm = Vm::firmware("fw-once").device(&format!(
        "<disk type='file' device='cdrom'><source file='{}'/><target dev='hdc' bus='ide'/><readonly/></disk>",
        iso.display()
    ));
    let dom = d.start_paused(&define(d, &vm)).unwrap();
    let mut w = Watch::new(d);
    let moved = |open| EventKind::TrayMoved {
        alias: "ide0-1-0".into(),
        open,
    };
    let tray = |cmd: &str, args: Value| {
        monitor(d, &dom, cmd, args);
    };
    let both_say = |open: bool, why: &str| {
        let qemu = qemu_tray_open(&monitor(d, &dom, "query-block", json!({})), "ide0-1-0");
        assert_eq!((qemu, tray_open(d, &dom, false)), (open, open), "{why}");
    };
    tray(
        "blockdev-open-tray",
        json!({"id": "ide0-1-0", "force": true}),
    );
    w.expect(vm.uuid, &[moved(true)]);
    both_say(true, "opened in QEMU");
    d.reset(&dom).unwrap();
    w.expect(vm.uuid, &[EventKind::Reset, moved(false)]);
    both_say(false, "shut by the reset");
    tray(
        "blockdev-open-tray",
        json!({"id": "ide0-1-0", "force": true}),
    );
    w.expect(vm.uuid, &[moved(true)]);
    both_say(true, "opened again");
    tray("blockdev-close-tray", json!({"id": "ide0-1-0"}));
    w.expect(vm.uuid, &[moved(false)]);
    both_say(false, "closed in QEMU");
    d.destroy(&dom).unwrap();
    w.expect(vm.uuid, &[EventKind::Stopped(StateReason::Destroyed)]);
    w.expect_none(vm.uuid, Duration::from_millis(300));
}

/// Changes that cannot apply are refused with the promised codes and
/// change nothing.
pub fn media_change_refusals(cx: &mut Ctx<'_>) {
    let floppy = image(cx, "floppy.img", 1440);
    let disk = image(cx, "disk.img", 64);
    let d = cx.d();
    let vm = media_vm("fw-mref", &floppy).device(&format!(
        "<disk type='file' device='disk'><source file='{}'/><target dev='vda' bus='virtio'/></disk>",
        disk.display()
    ));
    let dom = define(d, &vm);
    let before = d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap();
    let insert = || MediaChange::Insert(floppy.clone());
    let e = expect_err(
        d.change_media(&dom, "hdz", insert(), CURRENT),
        ErrorCode::InvalidArgument,
        "unknown target",
    );
    assert!(e.message.contains("hdc, fda, vda"), "{}", e.message);
    expect_err(
        d.change_media(&dom, "vda", MediaChange::Eject, CURRENT),
        ErrorCode::OperationInvalid,
        "a hard disk",
    );
    expect_err(
        d.change_media(&dom, "fda", insert(), CURRENT),
        ErrorCode::OperationInvalid,
        "insert into a full drive",
    );
    expect_err(
        d.change_media(&dom, "hdc", MediaChange::Eject, CURRENT),
        ErrorCode::OperationInvalid,
        "eject an empty drive",
    );
    let missing = cx.root().join("no-such.iso");
    expect_err(
        d.change_media(&dom, "hdc", MediaChange::Insert(missing), CURRENT),
        ErrorCode::Io,
        "a missing file",
    );
    assert_eq!(d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap(), before);
    // A transient domain has no definition to change.
    let t = d.create_xml(&media_vm("fw-mtrans", &floppy).xml()).unwrap();
    expect_err(
        d.change_media(&t, "fda", MediaChange::Eject, CONFIG),
        ErrorCode::OperationInvalid,
        "config of a transient domain",
    );
    d.change_media(&t, "fda", MediaChange::Eject, CURRENT)
        .unwrap();
}

/// The colours of a decoded PNG's pixels are not all one: the screen
/// shows something.
fn decode_png(png: &[u8]) -> (u32, u32, usize) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "the PNG signature");
    assert_eq!(&png[12..16], b"IHDR", "the first chunk is IHDR");
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("a valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane size")];
    let frame = reader.next_frame(&mut buf).expect("a decodable image");
    let bytes = &buf[..frame.buffer_size()];
    let pixel = frame.color_type.samples() * usize::from(frame.bit_depth as u8).div_ceil(8);
    let mut colours: Vec<&[u8]> = bytes.chunks(pixel.max(1)).collect();
    colours.sort();
    colours.dedup();
    (frame.width, frame.height, colours.len())
}

/// A screenshot of the firmware VM with VGA is a PNG that decodes and,
/// once SeaBIOS has written to the screen, is not one flat colour; a
/// paused domain has a screen too.
pub fn screenshot_of_firmware_vga(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-shot")
        .device("<graphics type='vnc' autoport='yes'/><video><model type='vga'/></video>");
    let dom = define_and_start(d, &vm);
    let deadline = Instant::now() + QUICK;
    let (w, h) = loop {
        let png = d.screenshot(&dom).expect("screenshot");
        let (w, h, colours) = decode_png(&png);
        if colours > 1 {
            break (w, h);
        }
        assert!(
            Instant::now() < deadline,
            "the screen stayed one colour for {QUICK:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(w >= 320 && h >= 200, "{w}x{h}");
    // (The size may change as the BIOS switches modes.)
    d.suspend(&dom).unwrap();
    let (pw, ph, colours) = decode_png(&d.screenshot(&dom).expect("screenshot while paused"));
    assert!(
        pw >= 320 && ph >= 200 && colours > 1,
        "{pw}x{ph}, {colours} colours"
    );
    // Nothing is left behind in the runtime directory.
    let left: Vec<_> = std::fs::read_dir(cx.run_dir("fw-shot"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().ends_with(".png"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// No screenshot of a shut-off domain, nor of one without a display.
pub fn screenshot_refusals(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define(d, &Vm::firmware("fw-noshot"));
    expect_err(d.screenshot(&dom), ErrorCode::OperationInvalid, "shut off");
    let dom = d.start(&dom).unwrap();
    let e = expect_err(
        d.screenshot(&dom),
        ErrorCode::OperationInvalid,
        "no display",
    );
    assert!(e.message.contains("<video>"), "{}", e.message);
}
