//! What the tests of libvirt's protocol share: the libvirt sockets of a
//! `qvirtd` under test, real clients (virsh, python3-libvirt) pointed at
//! them, a raw client of the protocol for what a real client cannot be
//! made to send, and a recording proxy that tells which procedures a real
//! client called.

#![allow(dead_code, clippy::result_large_err)]

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qvirt::transport::libvirt::frame::{
    self, HEADER_LEN, Header, KEEPALIVE_PROGRAM, LEN_LEN, MAX_MESSAGE, REMOTE_PROGRAM, RemoteError,
    Status, Type,
};
use qvirt::transport::libvirt::types::{FeatureArgs, OpenArgs};
use qvirt::transport::libvirt::xdr::{Xdr, to_bytes};

/// Debian's python: python3-libvirt is a Debian package.
pub const PYTHON: &str = "/usr/bin/python3";

/// The read-write libvirt socket of the daemon whose root is `root`.
pub fn lv_socket(root: &Path) -> PathBuf {
    root.join("run/libvirt-sock")
}

/// The read-only libvirt socket beside it (`--read-only-socket`).
pub fn lv_socket_ro(root: &Path) -> PathBuf {
    root.join("run/libvirt-sock-ro")
}

/// The URI a libvirt client uses for `socket`.
pub fn uri(socket: &Path) -> String {
    format!("qemu+unix:///session?socket={}", socket.display())
}

/// Runs `virsh -c URI ARGS...` (C locale, so messages are libvirt's
/// English).
pub fn virsh(socket: &Path, args: &[&str]) -> Output {
    Command::new("virsh")
        .arg("-c")
        .arg(uri(socket))
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .expect("run virsh (Debian's libvirt-clients)")
}

/// [`virsh`], which must succeed; its stdout.
#[track_caller]
pub fn virsh_ok(socket: &Path, args: &[&str]) -> String {
    let out = virsh(socket, args);
    assert!(
        out.status.success(),
        "virsh {} failed ({}): {}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("virsh prints UTF-8")
}

/// [`virsh`], which must fail; its stderr.
#[track_caller]
pub fn virsh_err(socket: &Path, args: &[&str]) -> String {
    let out = virsh(socket, args);
    assert!(
        !out.status.success(),
        "virsh {} succeeded: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A raw client of libvirt's protocol, reads timing out after 20 s so a
/// daemon that neither answers nor closes fails the test.
pub struct Raw {
    pub stream: UnixStream,
    serial: u32,
}

/// What [`Raw::read`] found.
#[derive(Debug)]
pub enum Got {
    /// A message.
    Msg(Header, Vec<u8>),
    /// The daemon closed the connection.
    Closed,
}

impl Raw {
    /// Connects to `socket`.
    pub fn connect(socket: &Path) -> Raw {
        let stream = UnixStream::connect(socket)
            .unwrap_or_else(|e| panic!("connect to {}: {e}", socket.display()));
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Raw { stream, serial: 0 }
    }

    /// Sends a message.
    pub fn send(&mut self, h: &Header, body: &[u8]) {
        self.stream
            .write_all(&frame::message(h, body))
            .expect("write a message");
    }

    /// Sends a call of `proc` with `args`; its serial.
    pub fn send_call(&mut self, proc: i32, args: &impl Xdr) -> u32 {
        let serial = self.serial;
        self.serial += 1;
        self.send(
            &Header::remote(proc, Type::Call, serial, Status::Ok),
            &to_bytes(args),
        );
        serial
    }

    /// Reads the next message, or the end of the connection.
    pub fn read(&mut self) -> Got {
        let mut len = [0u8; 4];
        match self.stream.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::UnexpectedEof) => return Got::Closed,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Got::Closed,
            Err(e) => panic!("the daemon neither answered nor closed: {e}"),
        }
        let n = frame::check_len(len, MAX_MESSAGE).expect("a valid length word");
        let mut rest = vec![0u8; n - LEN_LEN];
        self.stream.read_exact(&mut rest).expect("a whole message");
        let h = Header::parse(&rest).expect("a header");
        Got::Msg(h, rest[HEADER_LEN..].to_vec())
    }

    /// Reads the reply to `serial` (skipping events and keepalive):
    /// its body, or the error it carries.
    pub fn reply(&mut self, serial: u32) -> Result<Vec<u8>, RemoteError> {
        self.reply_in(REMOTE_PROGRAM, serial)
    }

    /// Reads the reply to `serial` of program `prog` (replies come in
    /// their call's program).
    pub fn reply_in(&mut self, prog: u32, serial: u32) -> Result<Vec<u8>, RemoteError> {
        loop {
            match self.read() {
                Got::Msg(h, body) if h.kind == Type::Reply && h.serial == serial => {
                    assert_eq!(h.prog, prog, "the reply's program");
                    return match h.status {
                        Status::Ok => Ok(body),
                        _ => Err(RemoteError::decode(&body).expect("an error body")),
                    };
                }
                Got::Msg(h, _) if h.prog == KEEPALIVE_PROGRAM || h.kind == Type::Message => {}
                Got::Msg(h, _) => panic!("unexpected message while waiting for a reply: {h:?}"),
                Got::Closed => panic!("the daemon closed the connection instead of replying"),
            }
        }
    }

    /// A call and its reply.
    pub fn call(&mut self, proc: i32, args: &impl Xdr) -> Result<Vec<u8>, RemoteError> {
        let serial = self.send_call(proc, args);
        self.reply(serial)
    }

    /// The calls every libvirt client opens with, as virsh makes them:
    /// AUTH_LIST, SUPPORTS_FEATURE(keepalive) when `keepalive`,
    /// CONNECT_OPEN with `flags`.
    pub fn open(&mut self, keepalive: bool, flags: u32) {
        self.call(66, &()).expect("AUTH_LIST");
        if keepalive {
            self.call(60, &FeatureArgs { feature: 10 })
                .expect("SUPPORTS_FEATURE");
        }
        self.call(
            1,
            &OpenArgs {
                name: Some("qemu:///session".into()),
                flags,
            },
        )
        .expect("CONNECT_OPEN");
    }
}

/// A proxy between real clients and a daemon's socket that records the
/// procedures the clients call, in order.
pub struct Recorder {
    /// Where clients connect.
    pub socket: PathBuf,
    calls: Arc<Mutex<Vec<i32>>>,
    stop: Arc<AtomicBool>,
}

impl Recorder {
    /// Listens on `socket`, forwarding to `target`.
    pub fn new(socket: &Path, target: &Path) -> Recorder {
        let listener = UnixListener::bind(socket).expect("bind the recorder");
        let calls = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s, t) = (calls.clone(), stop.clone(), target.to_path_buf());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { return };
                let daemon = UnixStream::connect(&t).expect("connect to the daemon");
                let (c2, d2) = (client.try_clone().unwrap(), daemon.try_clone().unwrap());
                std::thread::spawn(move || copy(d2, c2, None));
                let calls = c.clone();
                std::thread::spawn(move || copy(client, daemon, Some(calls)));
            }
        });
        Recorder {
            socket: socket.to_path_buf(),
            calls,
            stop,
        }
    }

    /// The procedures called since the last take.
    pub fn take(&self) -> Vec<i32> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = UnixStream::connect(&self.socket);
    }
}

/// Copies `from` to `to`; with `calls`, records the procedure of each
/// call of the main program.
fn copy(mut from: UnixStream, mut to: UnixStream, calls: Option<Arc<Mutex<Vec<i32>>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        let n = match from.read(&mut chunk) {
            Ok(0) | Err(_) => {
                let _ = to.shutdown(std::net::Shutdown::Write);
                return;
            }
            Ok(n) => n,
        };
        if to.write_all(&chunk[..n]).is_err() {
            return;
        }
        let Some(calls) = &calls else { continue };
        buf.extend_from_slice(&chunk[..n]);
        while buf.len() >= LEN_LEN + HEADER_LEN {
            let len = u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
            if buf.len() < len {
                break;
            }
            if let Ok(h) = Header::parse(&buf[LEN_LEN..])
                && h.prog == REMOTE_PROGRAM
                && h.kind == Type::Call
            {
                calls.lock().unwrap().push(h.proc);
            }
            buf.drain(..len);
        }
    }
}

/// The firmware-only VM with a cdrom drive, a NIC and a display: it sits
/// in the BIOS, starts at once and can be looked at. The display listens
/// on a UNIX socket: daemons of tests running side by side would race for
/// the same free TCP port.
pub fn firmware_vm(name: &str) -> String {
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>32</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>\
         <devices><disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>\
         <interface type='user'><mac address='52:54:00:12:34:56'/><model type='e1000'/></interface>\
         <graphics type='vnc'><listen type='socket'/></graphics><video><model type='vga'/></video>\
         <memballoon model='none'/></devices></domain>"
    )
}

/// Writes `text` to `dir/name`; the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write a test file");
    p
}

/// Defines `xml` through virsh on `socket`, from a file `dir/name`.
pub fn virsh_define(socket: &Path, dir: &Path, name: &str, xml: &str) {
    let file = write_file(dir, name, xml);
    virsh_ok(socket, &["define", file.to_str().unwrap()]);
}

/// The Linux test guest's directory (built once by `build-guest.sh`).
pub fn guest_dir() -> PathBuf {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/guest/build-guest.sh");
    let out = Command::new(&script).output().expect("run build-guest.sh");
    assert!(out.status.success(), "build-guest.sh failed: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    PathBuf::from(text.lines().last().expect("the guest directory").trim())
}

/// The Linux guest: it prints `QVIRT-GUEST-READY` on its serial console
/// and powers off on the ACPI button.
pub fn linux_vm(name: &str) -> String {
    let g = guest_dir();
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>\
         <os><type arch='x86_64' machine='pc'>hvm</type><kernel>{}</kernel><initrd>{}</initrd>\
         <cmdline>console=ttyS0 quiet no_timer_check</cmdline></os><features><acpi/></features>\
         <devices><serial type='pty'><target port='0'/></serial>\
         <console type='pty'><target type='serial' port='0'/></console>\
         <memballoon model='none'/></devices></domain>",
        g.join("vmlinux").display(),
        g.join("initrd.img").display()
    )
}

/// The Linux guest with the agent's channel, user networking on a
/// virtio NIC and an 8 MiB virtio disk at `disk` (serial `qvirt-vda`);
/// `cmdline` words added (`guestagent` starts qemu-ga).
pub fn agent_vm(name: &str, disk: &Path, cmdline: &str) -> String {
    agent_vm_with(name, disk, cmdline, 1, 8 << 20, "")
}

/// [`agent_vm`] with `vcpus`, a disk of `disk_bytes` (sparse) and
/// `driver` attributes on the disk's `<driver>` (`discard='unmap'`).
pub fn agent_vm_with(
    name: &str,
    disk: &Path,
    cmdline: &str,
    vcpus: u32,
    disk_bytes: u64,
    driver: &str,
) -> String {
    std::fs::File::create(disk)
        .unwrap()
        .set_len(disk_bytes)
        .unwrap();
    let g = guest_dir();
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>256</memory><vcpu>{vcpus}</vcpu>\
         <os><type arch='x86_64' machine='pc'>hvm</type><kernel>{}</kernel><initrd>{}</initrd>\
         <cmdline>console=ttyS0 quiet no_timer_check guestnet{cmdline}</cmdline></os>\
         <features><acpi/></features><devices>\
         <disk type='file' device='disk'><driver name='qemu' type='raw'{driver}/>\
         <source file='{}'/><target dev='vda' bus='virtio'/><serial>qvirt-vda</serial></disk>\
         <interface type='user'><mac address='52:54:00:aa:bb:01'/><model type='virtio'/></interface>\
         <channel type='unix'><source mode='bind'/>\
         <target type='virtio' name='org.qemu.guest_agent.0'/></channel>\
         <serial type='pty'><target port='0'/></serial>\
         <console type='pty'><target type='serial' port='0'/></console>\
         <memballoon model='none'/></devices></domain>",
        g.join("vmlinux").display(),
        g.join("initrd.img").display(),
        disk.display()
    )
}

#[track_caller]
/// Runs a python3-libvirt snippet with `conn` and `dom` bound; its
/// stdout.
pub fn python(socket: &Path, name: &str, body: &str) -> String {
    let script = format!(
        "import libvirt, sys\nconn = libvirt.open({:?})\ndom = conn.lookupByName({name:?})\n{body}\n",
        uri(socket)
    );
    let out = Command::new(PYTHON)
        .arg("-c")
        .arg(script)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The number python3-libvirt gives a libvirt constant.
pub fn libvirt_code(name: &str) -> String {
    python_ok(&format!("import libvirt; print(libvirt.{name})"), &[])
        .trim()
        .to_string()
}

/// Runs the python3-libvirt program `script` (`python3 -c`) with `args`,
/// which must succeed: its output.
#[track_caller]
pub fn python_ok(script: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(PYTHON)
        .args(["-c", script])
        .args(args)
        .output()
        .expect("run python3-libvirt (Debian's python3-libvirt)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// `virt-install --connect URI ARGS` with `env`: in the C locale, an
/// `--import` of 128 MiB under TCG (as every test guest), with no
/// console, display or network.
pub fn virt_install(socket: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new("virt-install");
    cmd.arg("--connect").arg(uri(socket)).args(args).args([
        "--memory",
        "128",
        "--import",
        "--osinfo",
        "detect=on,require=off",
        "--noautoconsole",
        "--graphics",
        "none",
        "--network",
        "none",
        "--virt-type",
        "qemu",
    ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.env("LC_ALL", "C")
        .output()
        .expect("run virt-install (Debian's virtinst)")
}

#[track_caller]
pub fn virt_install_ok(socket: &Path, args: &[&str], env: &[(&str, &Path)]) {
    let out = virt_install(socket, args, env);
    assert!(
        out.status.success(),
        "virt-install failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What `qvirt -c URI ARGS...` prints, asserting that it succeeded.
#[allow(dead_code)]
pub fn qvirt_ok(uri: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .args(["-c", uri])
        .args(args)
        .output()
        .expect("run qvirt");
    assert!(out.status.success(), "qvirt {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// libvirt's error code (a number) of python3-libvirt's `call` on the
/// domain `name`, or `ok` when it succeeds.
#[allow(dead_code)]
pub fn python_code(socket: &Path, name: &str, call: &str) -> String {
    python(
        socket,
        name,
        &format!(
            "try:\n    {call}\n    print('ok')\nexcept libvirt.libvirtError as e:\n    print(e.get_error_code())\nexcept AssertionError:\n    print(libvirt.virGetLastErrorCode())"
        ),
    )
}
