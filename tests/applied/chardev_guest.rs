//! What the Linux test guest sees of character devices on named pipes,
//! a PCI serial port and a guestfwd channel: bytes written by the host
//! into a serial port's `PATH.in` reach the guest's `/dev/ttyS1`, and
//! what it writes there comes out of `PATH.out`, as what it writes to
//! a virtio channel's port on a pipe does; the guest's driver binds
//! the PCI serial port and its output reaches the port's file; a TCP
//! connection the guest makes to the guestfwd address comes out of the
//! channel's pipe, and the host's answer goes back through it; QEMU's
//! vdagent answers the guest's agent with the clipboard and mouse
//! capabilities its `<source>` turned on.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use crate::inguest::Shell;
use crate::support::{State, linux_vm, poll};

/// A FIFO at `path`.
fn fifo(path: &Path) {
    nix::unistd::mkfifo(
        path,
        nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
    )
    .unwrap_or_else(|e| panic!("mkfifo {}: {e}", path.display()));
}

/// Reads what comes out of FIFO `path` until it holds `want`.
fn read_until(path: &Path, want: &str) -> String {
    // QEMU holds the FIFO open for reading and writing: opening it does
    // not block, and reading never sees an end.
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .unwrap();
    let mut got = Vec::new();
    poll(
        &format!("'{want}' out of {}", path.display()),
        Duration::from_secs(60),
        || {
            let mut buf = [0u8; 256];
            while let Ok(n) = f.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            let text = String::from_utf8_lossy(&got).into_owned();
            if text.contains(want) {
                return Some(text);
            }
            std::thread::sleep(Duration::from_millis(100));
            None
        },
    )
}

/// The capabilities QEMU's vdagent on the guest's virtio-serial port
/// `name` announces, after the guest announced none and asked for them:
/// VDIChunkHeader (port 1, size) and VDAgentMessage (protocol 1, type 6
/// ANNOUNCE_CAPABILITIES, opaque, size) then `request`, `caps[0]`, all
/// little-endian.
fn vdagent_caps(sh: &mut Shell, name: &str) -> u32 {
    let port = sh.run(&format!(
        "grep -l '^{name}$' /sys/class/virtio-ports/*/name | cut -d/ -f5"
    ));
    assert!(port.starts_with("vport"), "no port {name}: {port}");
    let announce = "\\001\\0\\0\\0\\034\\0\\0\\0\\001\\0\\0\\0\\006\\0\\0\\0\
                    \\0\\0\\0\\0\\0\\0\\0\\0\\010\\0\\0\\0\\001\\0\\0\\0\\0\\0\\0\\0";
    let reply = sh.run(&format!(
        "exec 3<>/dev/{port}; printf '{announce}' >&3; head -c 36 <&3 | od -An -v -tx1; exec 3<&-"
    ));
    let bytes: Vec<u8> = reply
        .split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    assert_eq!(bytes.len(), 36, "{reply}");
    assert_eq!(bytes[12], 6, "an announcement: {reply}");
    u32::from_le_bytes(bytes[32..36].try_into().unwrap())
}

#[test]
fn the_guest_talks_through_pipes_a_pci_serial_port_and_a_guestfwd_channel() {
    let st = State::new("chr-guest");
    let ser = st.root().join("ser");
    let fwd = st.root().join("fwd");
    let chan = st.root().join("chan");
    for p in [&ser, &fwd, &chan] {
        fifo(&p.with_extension("in"));
        fifo(&p.with_extension("out"));
    }
    let pci_out = st.root().join("pci-serial.out");
    let xml = linux_vm(
        "chrguest",
        192,
        "",
        &format!(
            "<serial type='pipe'><source path='{}'/><target port='1'/></serial>\
             <serial type='file'><source path='{}'/><target type='pci-serial' port='2'/></serial>\
             <interface type='user'><mac address='52:54:00:00:0e:01'/><model type='e1000'/></interface>\
             <channel type='pipe'><source path='{}'/><target type='guestfwd' address='10.0.2.100' port='4600'/></channel>\
             <channel type='pipe'><source path='{}'/><target type='virtio' name='org.example.pipe'/></channel>\
             <channel type='qemu-vdagent'><source><clipboard copypaste='yes'/><mouse mode='client'/></source>\
             <target type='virtio' name='com.redhat.spice.0'/></channel>\
             <channel type='qemu-vdagent'><source><clipboard copypaste='no'/><mouse mode='server'/></source>\
             <target type='virtio' name='org.example.vdagent'/></channel>\
             <memballoon model='none'/>",
            ser.display(),
            pci_out.display(),
            fwd.display(),
            chan.display()
        ),
    )
    .replace("console=ttyS0 quiet", "console=ttyS0 quiet guestnet");
    st.start(&xml);
    let d = st.driver();
    let mut sh = Shell::open(&*d, "chrguest");

    // Host to guest through ser.in: the guest reads its ttyS1 raw. The
    // port's driver empties the UART's FIFO when the reader opens it, so
    // the host writes again until the guest has the line.
    sh.run("stty -F /dev/ttyS1 raw -echo && (cat /dev/ttyS1 > /tmp/ser.got &)");
    let mut into = OpenOptions::new()
        .write(true)
        .open(ser.with_extension("in"))
        .unwrap();
    poll(
        "the bytes on the guest's ttyS1",
        Duration::from_secs(60),
        || {
            into.write_all(b"host-to-guest!\n").unwrap();
            (sh.run("grep -c host-to-guest! /tmp/ser.got") != "0").then_some(())
        },
    );
    // Guest to host through ser.out.
    sh.run("echo guest-to-host > /dev/ttyS1");
    read_until(&ser.with_extension("out"), "guest-to-host");

    // The PCI serial port: Red Hat's 1b36:0002, bound by the guest's
    // 8250 driver to a tty whose output reaches the port's file.
    let tty = sh.run(
        "for d in /sys/bus/pci/devices/*; do \
         [ \"$(cat $d/vendor):$(cat $d/device)\" = 0x1b36:0x0002 ] && ls $d/tty; done",
    );
    assert!(
        tty.starts_with("ttyS"),
        "no tty on the PCI serial port: {tty}"
    );
    sh.run(&format!(
        "stty -F /dev/{tty} raw -echo; echo through-pci-serial > /dev/{tty}"
    ));
    poll(
        "the PCI serial port's output",
        Duration::from_secs(30),
        || {
            std::fs::read_to_string(&pci_out)
                .ok()
                .filter(|t| t.contains("through-pci-serial"))
        },
    );

    // guestfwd: the guest's connection to 10.0.2.100:4600 is the pipe.
    sh.run("(echo guest-via-guestfwd | nc 10.0.2.100 4600 > /tmp/fwd.got &)");
    read_until(&fwd.with_extension("out"), "guest-via-guestfwd");
    OpenOptions::new()
        .write(true)
        .open(fwd.with_extension("in"))
        .unwrap()
        .write_all(b"host-answer\n")
        .unwrap();
    poll(
        "the host's answer in the guest",
        Duration::from_secs(60),
        || {
            sh.run("cat /tmp/fwd.got")
                .contains("host-answer")
                .then_some(())
        },
    );

    // A virtio channel on a pipe: what the guest writes to its port comes
    // out of chan.out.
    let port = sh.run("grep -l '^org.example.pipe$' /sys/class/virtio-ports/*/name | cut -d/ -f5");
    assert!(
        port.starts_with("vport"),
        "no port org.example.pipe: {port}"
    );
    sh.run(&format!("echo through-a-virtio-pipe > /dev/{port}"));
    read_until(&chan.with_extension("out"), "through-a-virtio-pipe");

    // The vdagents, as the guest's agent meets them: it announces its
    // capabilities (none) asking for QEMU's, and reads them back. With
    // copypaste='yes' they are the clipboard's (by demand, selections:
    // bits 5 and 6) with the mouse state (bit 0); with 'no' and
    // mode='server', neither.
    for (name, has) in [("com.redhat.spice.0", true), ("org.example.vdagent", false)] {
        let caps = vdagent_caps(&mut sh, name);
        assert_eq!(caps & 0x61 == 0x61, has, "{name}: capabilities {caps:#x}");
        assert_eq!(caps & 0x61 == 0, !has, "{name}: capabilities {caps:#x}");
    }
    drop(sh);
    drop(d);
    st.stop("chrguest");
}
