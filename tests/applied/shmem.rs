//! `<shmem>`: the Linux guest reads and writes the memory it shares with
//! the host, through the ivshmem device's memory BAR (busybox `devmem`).
//! ivshmem-plain shares a file in `/dev/shm`; ivshmem-doorbell gets its
//! memory and the peers' event descriptors from an ivshmem server, here
//! one the test runs (QEMU's protocol, `docs/specs/ivshmem-spec.rst`):
//! the guest reads the ID the server gave it and rings a peer, whose
//! event descriptor the test then finds signalled. `role` is QEMU's
//! `master` switch, read back from the device.

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::Duration;

use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
use serde_json::json;

use crate::inguest::Shell;
use crate::support::{State, linux_vm, poll};

/// One MiB: the smallest size libvirt allows.
const MIB: u64 = 1 << 20;

/// The PCI directories (under `/sys/bus/pci/devices`) of the guest's
/// ivshmem devices (1af4:1110), in bus order.
fn ivshmem_devices(sh: &mut Shell) -> Vec<String> {
    sh.run("cd /sys/bus/pci/devices");
    let out = sh.run("for d in *; do grep -q 0x1110 $d/device && echo $d; done");
    out.split_whitespace().map(str::to_string).collect()
}

/// The start address of BAR `bar` of guest PCI device `dev`, with the
/// device's memory decoding on.
fn bar(sh: &mut Shell, dev: &str, bar: u32) -> u64 {
    sh.run(&format!("cd /sys/bus/pci/devices/{dev} && echo 1 > enable"));
    let line = sh.run(&format!("sed -n {}p resource", bar + 1));
    let start = line.split_whitespace().next().unwrap_or_default();
    let addr = u64::from_str_radix(start.trim_start_matches("0x"), 16)
        .unwrap_or_else(|_| panic!("BAR {bar} of {dev}: {line:?}"));
    assert_ne!(addr, 0, "BAR {bar} of {dev} has no address: {line:?}");
    addr
}

/// The 32-bit word at guest physical address `addr`.
fn peek(sh: &mut Shell, addr: u64) -> u32 {
    let out = sh.run(&format!("devmem {addr:#x} 32"));
    u32::from_str_radix(out.trim().trim_start_matches("0x"), 16)
        .unwrap_or_else(|_| panic!("devmem {addr:#x}: {out:?}"))
}

fn word_at(file: &std::fs::File, offset: u64) -> u32 {
    let mut b = [0u8; 4];
    file.read_exact_at(&mut b, offset).unwrap();
    u32::from_le_bytes(b)
}

#[test]
fn the_guest_shares_a_dev_shm_file_with_the_host_and_its_role_is_applied() {
    let st = State::new("shmem");
    let name = format!("qvirt-test-shmem-{}", std::process::id());
    let path = Path::new("/dev/shm").join(&name);
    let peer = format!("{name}-peer");
    // The host's words are there before QEMU maps the file.
    let file = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    file.set_len(MIB).unwrap();
    file.write_all_at(&0x5156_4952u32.to_le_bytes(), 0).unwrap();
    st.start(&linux_vm(
        "shm",
        128,
        "",
        &format!(
            "<shmem name='{name}' role='master'><model type='ivshmem-plain'/>\
               <size unit='M'>1</size></shmem>\
             <shmem name='{peer}' role='peer'><model type='ivshmem-plain'/>\
               <size unit='M'>1</size></shmem>\
             <memballoon model='none'/>"
        ),
    ));
    // The guest first: its ready line comes once.
    let d = st.driver();
    let mut sh = Shell::open(&*d, "shm");
    let devices = ivshmem_devices(&mut sh);
    assert_eq!(devices.len(), 2, "two ivshmem devices: {devices:?}");
    let mem = bar(&mut sh, &devices[0], 2);
    assert_eq!(
        peek(&mut sh, mem),
        0x5156_4952,
        "the host's word, read by the guest"
    );
    sh.run(&format!("devmem {:#x} 32 0x600dcafe", mem + 4));
    assert_eq!(
        word_at(&file, 4),
        0x600d_cafe,
        "the guest's word, read by the host"
    );
    drop(sh);
    drop(d);
    // QEMU's monitor serves one client: the driver's went first.
    let mut qmp = st.qmp("shm");
    for (id, master) in [("shmem0", true), ("shmem1", false)] {
        assert_eq!(
            qmp.qom_get(&format!("/machine/peripheral/{id}"), "master"),
            json!(if master { "on" } else { "off" }),
            "{id}'s master switch"
        );
    }
    drop(qmp);
    st.stop("shm");
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(Path::new("/dev/shm").join(&peer));
}

/// An ivshmem server for one client: the protocol version, the client's
/// ID, the shared memory, a peer's event descriptor (vector 0) and the
/// client's own. Returns the peer's event descriptor, which the client
/// signals when the guest rings peer `PEER`.
fn serve_one(listener: &UnixListener, memory: &std::fs::File) -> EventFd {
    let (conn, _) = listener.accept().unwrap();
    let send = |value: i64, fd: Option<&dyn AsRawFd>| {
        let bytes = value.to_le_bytes();
        let iov = [IoSlice::new(&bytes)];
        let fds = fd.map(|f| [f.as_raw_fd()]);
        let cmsgs: Vec<ControlMessage> = fds.iter().map(|f| ControlMessage::ScmRights(f)).collect();
        sendmsg::<()>(conn.as_raw_fd(), &iov, &cmsgs, MsgFlags::empty(), None).unwrap();
    };
    send(0, None);
    send(i64::from(CLIENT), None);
    send(-1, Some(memory));
    let peer = EventFd::from_flags(EfdFlags::EFD_NONBLOCK).unwrap();
    send(i64::from(PEER), Some(&peer.as_fd().as_raw_fd()));
    let own: OwnedFd = EventFd::new().unwrap().into();
    send(i64::from(CLIENT), Some(&own.as_raw_fd()));
    // The connection stays open for QEMU's lifetime: a closed one is a
    // server gone, and QEMU drops the peers.
    std::mem::forget(conn);
    peer
}

/// The ID the test's server gives QEMU, and the one of its fake peer.
const CLIENT: u16 = 7;
const PEER: u16 = 9;

#[test]
fn a_doorbell_takes_its_memory_and_peers_from_the_ivshmem_server() {
    let st = State::new("shmemdb");
    let socket = st.root().join("ivshmem.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let memory = tempfile_in(st.root(), "ivshmem.mem");
    memory.set_len(MIB).unwrap();
    memory
        .write_all_at(&0x0dd0_beefu32.to_le_bytes(), 16)
        .unwrap();
    let server = {
        let memory = memory.try_clone().unwrap();
        std::thread::spawn(move || serve_one(&listener, &memory))
    };
    st.start(&linux_vm(
        "db",
        128,
        "",
        &format!(
            "<shmem name='db0'><model type='ivshmem-doorbell'/>\
               <server path='{}'/><msi vectors='1' ioeventfd='on'/></shmem>\
             <memballoon model='none'/>",
            socket.display()
        ),
    ));
    let peer = server.join().unwrap();
    let d = st.driver();
    let mut sh = Shell::open(&*d, "db");
    let devices = ivshmem_devices(&mut sh);
    assert_eq!(devices.len(), 1, "one ivshmem device: {devices:?}");
    let regs = bar(&mut sh, &devices[0], 0);
    let mem = bar(&mut sh, &devices[0], 2);
    assert_eq!(peek(&mut sh, mem + 16), 0x0dd0_beef, "the server's memory");
    assert_eq!(
        peek(&mut sh, regs + 8),
        u32::from(CLIENT),
        "IVPosition: the ID the server gave"
    );
    // Doorbell register: the peer's ID in the high half, the vector low.
    sh.run(&format!(
        "devmem {:#x} 32 {:#x}",
        regs + 12,
        u32::from(PEER) << 16
    ));
    let rung = poll(
        "the peer's event descriptor",
        Duration::from_secs(10),
        || peer.read().ok(),
    );
    assert_eq!(rung, 1, "one ring of peer {PEER}'s vector 0");
    drop(sh);
    drop(d);
    let mut qmp = st.qmp("db");
    assert_eq!(
        qmp.qom_get("/machine/peripheral/shmem0", "vectors"),
        json!(1)
    );
    drop(qmp);
    st.stop("db");
}

/// A new file `name` under `dir`, open for reading and writing.
fn tempfile_in(dir: &Path, name: &str) -> std::fs::File {
    std::fs::File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(dir.join(name))
        .unwrap()
}

#[test]
fn a_doorbell_without_its_server_does_not_start() {
    let st = State::new("shmemnosrv");
    let socket = st.root().join("absent.sock");
    let err = st
        .try_start(&linux_vm(
            "ns",
            128,
            "",
            &format!(
                "<shmem name='ns0'><model type='ivshmem-doorbell'/><server path='{}'/></shmem>",
                socket.display()
            ),
        ))
        .expect_err("no server listens");
    assert!(
        err.message.contains("absent.sock"),
        "the error names the socket: {err}"
    );
    let d = st.driver();
    let dom = d.lookup_by_name("ns").unwrap();
    assert_eq!(d.info(&dom).unwrap().state, qvirt::DomainState::Shutoff);
    drop(d);
    st.stop("ns");
}

/// A `<shmem>` plugged into the running guest (`attach-device --live`):
/// QEMU gets the shared file's backend and the ivshmem-plain device on a
/// free slot, the guest reads the host's word through it; the detach
/// takes the device (the guest lets go) and its backend away.
#[test]
fn a_shared_memory_device_plugs_into_and_out_of_the_running_guest() {
    use qvirt::driver::{ModifyFlags, XmlFlags};
    let st = State::new("shmplug");
    let name = format!("qvirt-test-shmplug-{}", std::process::id());
    let path = Path::new("/dev/shm").join(&name);
    let file = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    file.set_len(MIB).unwrap();
    file.write_all_at(&0x504c_5547u32.to_le_bytes(), 0).unwrap();
    st.start(&linux_vm("shp", 128, "", "<memballoon model='none'/>"));
    let d = st.driver();
    let dom = d.lookup_by_name("shp").unwrap();
    let mut sh = Shell::open(&*d, "shp");
    let xml = format!(
        "<shmem name='{name}'><model type='ivshmem-plain'/><size unit='M'>1</size></shmem>"
    );
    d.attach_device(&dom, &xml, ModifyFlags::LIVE).unwrap();
    let devices = poll(
        "the guest to find the device",
        Duration::from_secs(30),
        || {
            let found = ivshmem_devices(&mut sh);
            (!found.is_empty()).then_some(found)
        },
    );
    let mem = bar(&mut sh, &devices[0], 2);
    assert_eq!(peek(&mut sh, mem), 0x504c_5547, "the host's word");
    let qom = |d: &dyn qvirt::Driver, path: &str| -> String {
        d.qemu_monitor_command(
            &dom,
            &json!({"execute": "qom-list", "arguments": {"path": path}}).to_string(),
        )
        .unwrap()
    };
    assert!(qom(&*d, "/machine/peripheral").contains("\"shmem0\""));
    assert!(qom(&*d, "/objects").contains("\"shmmem-shmem0\""));
    let live = d.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(live.contains(&format!("<shmem name='{name}'>")), "{live}");
    // Another of the same is refused: nothing changes.
    let e = d.attach_device(&dom, &xml, ModifyFlags::LIVE).unwrap_err();
    assert!(e.message.contains("already"), "{e}");

    sh.run("cd /");
    d.detach_device(&dom, &xml, ModifyFlags::LIVE).unwrap();
    assert!(!qom(&*d, "/machine/peripheral").contains("\"shmem0\""));
    assert!(!qom(&*d, "/objects").contains("\"shmmem-shmem0\""));
    let live = d.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(!live.contains("<shmem"), "{live}");
    // The guest let go of it (its ACPI eject came before QEMU's unplug).
    let out = sh.run("echo N=$(grep -l 0x1110 /sys/bus/pci/devices/*/device | wc -l)");
    let left = out.lines().rev().find_map(|l| l.strip_prefix("N="));
    assert_eq!(left, Some("0"), "{out}");
    drop(sh);
    drop(d);
    st.stop("shp");
    let _ = std::fs::remove_file(&path);
}
