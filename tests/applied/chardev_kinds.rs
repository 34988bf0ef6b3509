//! Virtual consoles (`type='vc'`), QEMU's vdagent channel and PCI serial
//! ports on a running QEMU; named pipes that are missing, and a guestfwd
//! channel without a user-mode network, refused before QEMU starts; a
//! VNC display on the UNIX socket its `socket` attribute names, whose
//! `<audio>` backend is the one its clients hear; a serial console on a
//! SPICE port.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{State, firmware_vm, poll};

/// `<serial type='vc'>` and a virtio `<console type='vc'>` are QEMU's
/// `vc` backends, a `<parallel type='pipe'>` on a single FIFO its `pipe`; `<target type='pci-serial'>` is a `pci-serial` device on
/// the PCI bus (`query-pci`: Red Hat's 1b36:0002) with its backend; the
/// qemu-vdagent channels are QEMU's `qemu-vdagent` backends behind the
/// virtio-serial ports they name; the one with `<mouse mode='client'>` is
/// an absolute pointer (`query-mice`), and the clipboard settings are on
/// QEMU's command line.
#[test]
fn virtual_consoles_pci_serial_ports_and_the_vdagent() {
    let st = State::new("chr-vc");
    let out = st.root().join("pci-serial.out");
    // A parallel port on one named pipe both ways.
    let lpt = st.root().join("lpt");
    nix::unistd::mkfifo(&lpt, nix::sys::stat::Mode::S_IRWXU).unwrap();
    st.start(&firmware_vm(
        "vc",
        "",
        &format!(
            "<serial type='vc'><target port='0'/></serial>\
             <serial type='file'><source path='{}'/><target type='pci-serial' port='1'/></serial>\
             <console type='vc'><target type='virtio' port='0'/></console>\
             <parallel type='pipe'><source path='{}'/><target port='0'/></parallel>\
             <graphics type='vnc' socket='{}'/>\
             <channel type='qemu-vdagent'><source><clipboard copypaste='yes'/><mouse mode='client'/></source>\
             <target type='virtio' name='com.redhat.spice.0'/></channel>\
             <channel type='qemu-vdagent'><source><clipboard copypaste='no'/><mouse mode='server'/></source>\
             <target type='virtio' name='org.example.vdagent'/></channel>",
            out.display(),
            lpt.display(),
            st.root().join("vnc.sock").display()
        ),
    ));
    assert!(out.exists(), "QEMU opened {}", out.display());
    let mut qmp = st.qmp("vc");
    let kinds = qmp.chardev_filenames().into_iter().collect::<Vec<_>>();
    for (label, kind) in [
        ("charserial0", "vc"),
        ("charconsole0", "vc"),
        ("charchannel0", "qemu-vdagent"),
        ("charchannel1", "qemu-vdagent"),
        ("charparallel0", "pipe"),
    ] {
        assert!(
            kinds.iter().any(|(l, k)| l == label && k == kind),
            "{label} is no {kind}: {kinds:?}"
        );
    }
    assert!(
        kinds
            .iter()
            .any(|(l, k)| l == "charserial1" && k.starts_with("file")),
        "{kinds:?}"
    );
    assert_eq!(
        qmp.qom_get("/machine/peripheral/serial0", "chardev"),
        "charserial0"
    );
    assert_eq!(
        qmp.qom_get("/machine/peripheral/console0", "chardev"),
        "charconsole0"
    );
    for (n, name) in [(0, "com.redhat.spice.0"), (1, "org.example.vdagent")] {
        let port = format!("/machine/peripheral/channel{n}");
        assert_eq!(qmp.qom_get(&port, "chardev"), format!("charchannel{n}"));
        assert_eq!(qmp.qom_get(&port, "name"), name);
    }
    // mode='client': the vdagent is an absolute pointer of QEMU's (one:
    // the other channel's mode is 'server').
    let mice = qmp.exec("query-mice", json!({}));
    let agents: Vec<&Value> = mice
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["name"] == "vdagent mouse")
        .collect();
    assert_eq!(agents.len(), 1, "{mice}");
    assert_eq!(agents[0]["absolute"], true, "{mice}");
    // The PCI serial port: a pci-serial device whose backend is the file.
    let pci = qmp.exec("query-pci", json!({}));
    let devices: Vec<&Value> = pci[0]["devices"].as_array().unwrap().iter().collect();
    let serial = devices
        .iter()
        .find(|d| d["qdev_id"] == "serial1")
        .unwrap_or_else(|| panic!("no serial1 on the PCI bus: {pci}"));
    assert_eq!(serial["id"]["vendor"], 0x1b36, "{serial}");
    assert_eq!(serial["id"]["device"], 0x0002, "{serial}");
    assert_eq!(
        qmp.qom_get("/machine/peripheral/serial1", "chardev"),
        "charserial1"
    );
    drop(qmp);
    // The live definition names the slot the port got, as libvirt's does.
    let live = st.live_xml("vc");
    let slot = format!("slot='{:#04x}'", serial["slot"].as_u64().unwrap());
    let port = live
        .split("<serial type='file'>")
        .nth(1)
        .and_then(|s| s.split("</serial>").next())
        .unwrap_or_else(|| panic!("no file serial port in {live}"));
    assert!(
        port.contains("<address type='pci'") && port.contains(&slot),
        "{slot} not in {port}"
    );
    // The vdagent's settings exist only as its backend's options.
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", st.qemu_pid("vc"))).unwrap();
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    for want in [
        "qemu-vdagent,id=charchannel0,name=vdagent,clipboard=on,mouse=on",
        "qemu-vdagent,id=charchannel1,name=vdagent,clipboard=off,mouse=off",
    ] {
        assert!(args.iter().any(|a| a == want), "{want} not in {args:?}");
    }
    st.stop("vc");
}

/// A pipe that does not exist (neither `PATH.in` and `PATH.out` nor
/// `PATH`) and a guestfwd channel on a domain without a user-mode
/// network are refused before QEMU starts, each by name.
#[test]
fn missing_pipes_and_guestfwd_without_user_networking_are_refused() {
    let st = State::new("chr-refused");
    let pipe = st.root().join("no-such-pipe");
    assert!(!pipe.exists() && !pipe.with_extension("in").exists());
    let e = st
        .try_start(&firmware_vm(
            "nopipe",
            "",
            &format!(
                "<serial type='pipe'><source path='{}'/><target port='0'/></serial>",
                pipe.display()
            ),
        ))
        .unwrap_err();
    assert!(
        e.message.contains("serial pipe") && e.message.contains(&*pipe.to_string_lossy()),
        "{e}"
    );
    assert!(crate::support::qemus_under(st.root()).is_empty());
    // The pair is enough: PATH itself need not exist.
    for end in ["in", "out"] {
        nix::unistd::mkfifo(
            &st.root().join(format!("no-such-pipe.{end}")),
            nix::sys::stat::Mode::S_IRWXU,
        )
        .unwrap();
    }
    let e = st
        .try_start(&firmware_vm(
            "nofwd",
            "",
            &format!(
                "<channel type='pipe'><source path='{}'/>\
                 <target type='guestfwd' address='10.0.2.100' port='4600'/></channel>",
                pipe.display()
            ),
        ))
        .unwrap_err();
    assert!(e.message.contains("<interface type='user'>"), "{e}");
    assert!(crate::support::qemus_under(st.root()).is_empty());
    st.stop("nopipe");
    st.stop("nofwd");
}

/// An RFB client on a UNIX socket: the version handshake, no security,
/// a shared session.
struct Rfb(UnixStream);

impl Rfb {
    fn connect(path: &std::path::Path) -> (Rfb, String) {
        let s = UnixStream::connect(path)
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", path.display()));
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut rfb = Rfb(s);
        let greeting = String::from_utf8_lossy(&rfb.bytes(12)).into_owned();
        rfb.0.write_all(b"RFB 003.008\n").unwrap();
        let n = rfb.bytes(1)[0] as usize;
        let types = rfb.bytes(n);
        assert!(types.contains(&1), "no 'None' security: {types:?}");
        rfb.0.write_all(&[1]).unwrap();
        assert_eq!(rfb.bytes(4), [0, 0, 0, 0], "security result");
        rfb.0.write_all(&[1]).unwrap();
        // ServerInit: size, pixel format, then the name.
        let init = rfb.bytes(24);
        let len = u32::from_be_bytes(init[20..24].try_into().unwrap()) as usize;
        rfb.bytes(len);
        (rfb, greeting)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut b = vec![0; n];
        self.0.read_exact(&mut b).unwrap();
        b
    }
}

/// `<graphics type='vnc' socket=...>`: the VNC server listens on that
/// socket (an RFB client reads its greeting there). Its `<audio id='2'>`
/// is the backend VNC clients hear: a client that asks for QEMU's audio
/// receives the samples of the PC speaker, which plays through that
/// backend, not through the first one.
#[test]
fn vnc_on_its_socket_attribute_carries_its_audio_backend() {
    let st = State::new("vnc-audio");
    let socket = st.root().join("vnc.sock");
    let wav = st.root().join("speaker.wav");
    st.start(&firmware_vm(
        "vncaudio",
        "",
        &format!(
            "<graphics type='vnc' socket='{}'><audio id='2'/></graphics>\
             <sound model='pcspk'><audio id='2'/></sound>\
             <audio id='1' type='none'/>\
             <audio id='2' type='file' path='{}'/>",
            socket.display(),
            wav.display()
        ),
    ));
    let (mut rfb, greeting) = Rfb::connect(&socket);
    assert_eq!(greeting, "RFB 003.008\n");
    // SetEncodings: QEMU's audio pseudo-encoding (-259) alone; then
    // QEMU's audio messages: set the format (S16, 2 channels, 44.1 kHz)
    // and enable.
    let mut m = vec![2, 0, 0, 1];
    m.extend_from_slice(&(-259i32).to_be_bytes());
    m.extend_from_slice(&[255, 1, 0, 2, 3, 2]);
    m.extend_from_slice(&44100u32.to_be_bytes());
    m.extend_from_slice(&[255, 1, 0, 0]);
    rfb.0.write_all(&m).unwrap();
    // The speaker plays (as in the audio tests: the PIT's channel 2 as
    // a square wave, the gate open) until audio data comes.
    let mut qmp = st.qmp("vncaudio");
    let (tx, rx) = std::sync::mpsc::channel();
    let mut reader = rfb.0.try_clone().unwrap();
    let read = std::thread::spawn(move || {
        // Server messages: 255 (QEMU) 1 (audio) then an operation: 2 is
        // data with its length; 0 and 1 (end, begin) carry none. QEMU
        // acknowledges the audio encoding with a framebuffer update (0)
        // of one pseudo-rectangle of that encoding, which has no pixels.
        let mut head = [0u8; 4];
        loop {
            if reader.read_exact(&mut head).is_err() {
                return;
            }
            if head[0] == 0 {
                let rects = u16::from_be_bytes([head[2], head[3]]) as usize;
                let mut r = vec![0u8; 12 * rects];
                reader.read_exact(&mut r).unwrap();
                for rect in r.chunks(12) {
                    let encoding = i32::from_be_bytes(rect[8..12].try_into().unwrap());
                    assert_eq!(encoding, -259, "only the audio acknowledgement");
                }
                continue;
            }
            assert_eq!(&head[..2], [255, 1], "an audio message");
            if u16::from_be_bytes([head[2], head[3]]) == 2 {
                let mut len = [0u8; 4];
                reader.read_exact(&mut len).unwrap();
                let mut data = vec![0; u32::from_be_bytes(len) as usize];
                reader.read_exact(&mut data).unwrap();
                let _ = tx.send(data.len());
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let samples = loop {
        if let Ok(n) = rx.try_recv() {
            break n;
        }
        assert!(Instant::now() < deadline, "no audio reached the VNC client");
        for out in ["0x43 0xb6", "0x42 0xa9", "0x42 0x04", "0x61 3"] {
            qmp.exec(
                "human-monitor-command",
                json!({"command-line": format!("o /b {out}")}),
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(samples > 0);
    drop(qmp);
    drop(rfb);
    read.join().unwrap();
    // The speaker's backend is the file one.
    poll("the speaker's WAV file", Duration::from_secs(10), || {
        std::fs::metadata(&wav).ok().filter(|m| m.len() > 44)
    });
    st.stop("vncaudio");
}

/// A serial port and its console on a SPICE port (`type='spiceport'`):
/// QEMU's `spiceport` backend named for the SPICE client, behind the
/// ISA serial port; without a SPICE display it is refused by name.
#[test]
fn a_serial_console_on_a_spice_port() {
    let st = State::new("spiceport");
    let serial = "<serial type='spiceport'><source channel='org.qemu.console.serial.0'/>\
                  <target port='0'/></serial>\
                  <console type='spiceport'><source channel='org.qemu.console.serial.0'/>\
                  <target type='serial' port='0'/></console>";
    let e = st
        .try_start(&firmware_vm("nospice", "", serial))
        .unwrap_err();
    assert!(e.message.contains("<graphics type='spice'>"), "{e}");
    st.start(&firmware_vm(
        "sp",
        "",
        &format!(
            "{serial}<graphics type='spice' autoport='yes'/><video><model type='qxl'/></video>"
        ),
    ));
    let mut qmp = st.qmp("sp");
    let chardevs = qmp.chardev_filenames();
    assert_eq!(
        chardevs.get("charserial0").map(String::as_str),
        Some("spiceport"),
        "{chardevs:?}"
    );
    let serial = qmp.exec(
        "qom-get",
        json!({"path": "/machine/peripheral/serial0", "property": "chardev"}),
    );
    assert_eq!(serial, "charserial0");
    drop(qmp);
    st.stop("sp");
}
