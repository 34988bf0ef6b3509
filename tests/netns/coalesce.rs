//! `<coalesce><rx><frames max>`: the tap's receive batching, read back
//! from the tap with ethtool's own ioctl (`ETHTOOL_GCOALESCE`), made from
//! a thread that enters the test's namespace, so no `ethtool` is needed.

use std::fs::File;
use std::io;

use nix::libc;
use nix::sched::{CloneFlags, setns};
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socket};

use super::{Daemon, Netns, TestDir, acpi_firmware, taps};
use qvirt::driver::{ModifyFlags, XmlFlags};
use qvirt::{DomainDef, ErrorCode};

/// `struct ethtool_coalesce`: the command and 22 settings.
#[repr(C)]
#[derive(Default)]
struct Coalesce {
    cmd: u32,
    rx_usecs: u32,
    rx_frames: u32,
    rest: [u32; 20],
}

const GCOALESCE: u32 = 0xe;
const SCOALESCE: u32 = 0xf;

/// Runs `f` on a thread inside namespace `ns`.
fn in_ns<T: Send>(ns: &Netns, f: impl FnOnce() -> T + Send) -> T {
    let handle = File::open(format!("/run/netns/{}", ns.name)).expect("the namespace's handle");
    std::thread::scope(|s| {
        s.spawn(|| {
            setns(&handle, CloneFlags::CLONE_NEWNET).expect("setns into the test namespace");
            f()
        })
        .join()
        .expect("the namespace thread")
    })
}

/// One ethtool coalesce command on `dev`, in the calling thread's
/// namespace.
fn ethtool(dev: &str, c: &mut Coalesce) -> io::Result<()> {
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // SAFETY: ifreq is plain old data, for which all zero bytes are valid.
    #[allow(unsafe_code)]
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in ifr.ifr_name.iter_mut().zip(dev.bytes().take(15)) {
        *d = s as libc::c_char;
    }
    ifr.ifr_ifru.ifru_data = (c as *mut Coalesce).cast();
    use std::os::fd::AsRawFd;
    // SAFETY: `ifr` and the ethtool struct it points to outlive the
    // call; SIOCETHTOOL with a coalesce command reads and writes those
    // two only.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCETHTOOL as _, &mut ifr) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The `rx-frames` coalescing of `dev` in `ns`.
fn rx_frames(ns: &Netns, dev: &str) -> io::Result<u32> {
    in_ns(ns, || {
        let mut c = Coalesce {
            cmd: GCOALESCE,
            ..Coalesce::default()
        };
        ethtool(dev, &mut c).map(|()| c.rx_frames)
    })
}

/// What a fresh tap of this kernel does with `rx-frames` set to `want`:
/// the value it then reports, or why it cannot be set.
fn probe(ns: &Netns, want: u32) -> io::Result<u32> {
    ns.ip(&["tuntap", "add", "dev", "qvprobe", "mode", "tap"]);
    let got = in_ns(ns, || {
        let mut c = Coalesce {
            cmd: GCOALESCE,
            ..Coalesce::default()
        };
        ethtool("qvprobe", &mut c)?;
        c.cmd = SCOALESCE;
        c.rx_frames = want;
        ethtool("qvprobe", &mut c)?;
        let mut c = Coalesce {
            cmd: GCOALESCE,
            ..Coalesce::default()
        };
        ethtool("qvprobe", &mut c).map(|()| c.rx_frames)
    });
    ns.ip(&["link", "del", "qvprobe"]);
    got
}

/// The taps of bridge interfaces get the `rx-frames` coalescing asked
/// for, at a start and when plugged in live, and the live XML shows what
/// the tap took (the kernel caps it, 64 for tun, as libvirt shows). On a
/// kernel whose taps cannot coalesce (which a fresh tap shows), the start
/// fails naming the tap, as libvirt's does, and leaves no tap.
#[test]
fn coalesce_sets_the_taps_rx_frames_or_the_start_says_why_not() {
    let ns = Netns::new("coal");
    let dir = TestDir::new("coal");
    // What this kernel's taps do, asked of the kernel itself.
    let small = probe(&ns, 32);
    let large = probe(&ns, 1000);
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    let dom = d
        .define_xml(&acpi_firmware(
            "fw-coal",
            "<interface type='bridge'><mac address='52:54:00:00:0c:01'/><source bridge='br0'/>\
             <target dev='qvco0'/><model type='e1000'/>\
             <coalesce><rx><frames max='32'/></rx></coalesce></interface>\
             <interface type='bridge'><mac address='52:54:00:00:0c:02'/><source bridge='br0'/>\
             <target dev='qvco1'/><model type='e1000'/>\
             <coalesce><rx><frames max='1000'/></rx></coalesce></interface>\
             <interface type='bridge'><mac address='52:54:00:00:0c:03'/><source bridge='br0'/>\
             <target dev='qvco2'/><model type='e1000'/></interface>",
        ))
        .unwrap();
    let (small, large) = match (small, large) {
        (Ok(s), Ok(l)) => (s, l),
        (Err(e), _) | (_, Err(e)) => {
            let err = d.start(&dom).unwrap_err();
            assert!(
                err.message.contains("cannot set coalesce info on 'qvco0'"),
                "{err}"
            );
            if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EINVAL)) {
                assert_eq!(err.code, ErrorCode::NoSupport, "{err}");
            }
            assert_eq!(ns.links(), ["br0", "lo"], "no tap is left");
            eprintln!("this kernel's taps cannot coalesce ({e}); the start refused: {err}");
            return;
        }
    };
    assert_eq!(small, 32, "a tap takes 32 frames");
    d.start(&dom).unwrap();
    assert_eq!(rx_frames(&ns, "qvco0").unwrap(), 32);
    assert_eq!(rx_frames(&ns, "qvco1").unwrap(), large);
    // A tap without the setting keeps the kernel's default.
    assert_eq!(
        rx_frames(&ns, "qvco2").unwrap(),
        0,
        "an untouched tap batches nothing"
    );
    let live = DomainDef::from_xml(&d.xml_desc(&dom, XmlFlags::NONE).unwrap()).unwrap();
    let shown: Vec<_> = live
        .devices
        .interfaces
        .iter()
        .map(|i| i.coalesce_rx_frames)
        .collect();
    assert_eq!(shown, [Some(32), Some(large), None]);
    // The definition keeps what was written.
    let inactive = DomainDef::from_xml(&d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap()).unwrap();
    assert_eq!(
        inactive.devices.interfaces[1].coalesce_rx_frames,
        Some(1000)
    );

    // Plugged in live: its tap coalesces too.
    let nic = "<interface type='bridge'><mac address='52:54:00:00:0c:04'/><source bridge='br0'/>\
               <model type='e1000'/><coalesce><rx><frames max='16'/></rx></coalesce></interface>";
    d.attach_device(&dom, nic, ModifyFlags::LIVE).unwrap();
    let plugged = taps(&*d, "fw-coal").pop().unwrap();
    assert_eq!(rx_frames(&ns, &plugged).unwrap(), 16, "{plugged}");
    d.destroy(&dom).unwrap();
    assert_eq!(ns.links(), ["br0", "lo"]);
}
