//! macvtap devices, for direct interfaces: made and removed over
//! rtnetlink (`RTM_NEWLINK` with link kind `macvtap`, `RTM_DELLINK`), and
//! their character device (`/dev/tapIFINDEX`) opened for QEMU to inherit.
//!
//! Where no udev (or devtmpfs) made the character device, it is made here
//! from the numbers sysfs gives, in a private directory of the caller's,
//! opened, and unlinked at once.
//!
//! Knows nothing of domains: `hostnet` names the devices and words the
//! errors.

use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::libc;
use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, recv, send, socket,
};

/// `<linux/rtnetlink.h>` and `<linux/if_link.h>`: the message types,
/// flags and attributes used here.
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_ECHO: u16 = 0x8;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINK: u16 = 5;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const IFLA_MACVLAN_MODE: u16 = 1;
const NLA_F_NESTED: u16 = 0x8000;
/// `struct nlmsghdr` and `struct ifinfomsg`, in bytes.
const NLMSG_HDR: usize = 16;
const IFINFOMSG: usize = 16;

/// The kernel's `MACVLAN_MODE_*` value of a libvirt mode word.
pub(crate) fn mode_value(mode: &str) -> Option<u32> {
    match mode {
        "private" => Some(1),
        "vepa" => Some(2),
        "bridge" => Some(4),
        "passthrough" => Some(8),
        _ => None,
    }
}

/// An rtnetlink request being put together.
struct Request {
    buf: Vec<u8>,
    /// Where each open nested attribute starts.
    open: Vec<usize>,
}

impl Request {
    /// A request of `kind` with `flags`, about link `index` (0: none),
    /// whose `ifi_flags`/`ifi_change` are zero.
    fn new(kind: u16, flags: u16, index: i32) -> Request {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&0u32.to_ne_bytes()); // length, set in `finish`
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&(flags | NLM_F_REQUEST).to_ne_bytes());
        buf.extend_from_slice(&1u32.to_ne_bytes()); // sequence
        buf.extend_from_slice(&0u32.to_ne_bytes()); // port: the kernel's
        buf.push(libc::AF_UNSPEC as u8);
        buf.push(0);
        buf.extend_from_slice(&0u16.to_ne_bytes()); // ifi_type
        buf.extend_from_slice(&index.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes()); // ifi_flags
        buf.extend_from_slice(&0u32.to_ne_bytes()); // ifi_change
        Request {
            buf,
            open: Vec::new(),
        }
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    /// Appends attribute `kind` with `data`.
    fn attr(mut self, kind: u16, data: &[u8]) -> Request {
        let len = (4 + data.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.pad();
        self
    }

    /// Appends a string attribute, NUL-terminated.
    fn string(self, kind: u16, s: &str) -> Request {
        let mut data = s.as_bytes().to_vec();
        data.push(0);
        self.attr(kind, &data)
    }

    /// Opens a nested attribute; [`Request::end`] closes it.
    fn nest(mut self, kind: u16) -> Request {
        self.open.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        self
    }

    fn end(mut self) -> Request {
        let start = self.open.pop().expect("a nested attribute is open");
        let len = (self.buf.len() - start) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    fn finish(mut self) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&len.to_ne_bytes());
        self.buf
    }
}

/// A link the kernel described: its index, name and kind.
#[derive(Debug, Default)]
struct LinkInfo {
    index: i32,
    name: Option<String>,
    kind: Option<String>,
}

/// Sends `request` (which must ask for an acknowledgement) and reads the
/// answers up to the kernel's acknowledgement (or error); returns the links it described on the way
/// (an echo of a new link, the reply to a query).
fn talk(request: Vec<u8>) -> io::Result<Vec<LinkInfo>> {
    let sock = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )?;
    // The kernel answers at once; a bound on the wait keeps a caller
    // (a domain's monitor, cleaning up) from hanging should it not.
    nix::sys::socket::setsockopt(
        &sock,
        nix::sys::socket::sockopt::ReceiveTimeout,
        &nix::sys::time::TimeVal::new(5, 0),
    )?;
    send(sock.as_raw_fd(), &request, MsgFlags::empty())?;
    let mut links = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = recv(sock.as_raw_fd(), &mut buf, MsgFlags::empty())?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "rtnetlink closed before answering",
            ));
        }
        let mut off = 0;
        while off + NLMSG_HDR <= n {
            let len = u32::from_ne_bytes(buf[off..off + 4].try_into().expect("4 bytes")) as usize;
            let kind = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().expect("2 bytes"));
            if len < NLMSG_HDR || off + len > n {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a truncated rtnetlink message",
                ));
            }
            let body = &buf[off + NLMSG_HDR..off + len];
            match kind {
                NLMSG_ERROR => {
                    let code = body
                        .get(..4)
                        .map(|b| i32::from_ne_bytes(b.try_into().expect("4 bytes")))
                        .unwrap_or(-libc::EPROTO);
                    return if code == 0 {
                        Ok(links)
                    } else {
                        Err(io::Error::from_raw_os_error(-code))
                    };
                }
                NLMSG_DONE => return Ok(links),
                RTM_NEWLINK => links.push(parse_link(body)),
                _ => {}
            }
            off += len.next_multiple_of(4);
        }
    }
}

/// The attributes in `data`: (type without flags, payload).
fn attrs(mut data: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while data.len() >= 4 {
        let len = u16::from_ne_bytes([data[0], data[1]]) as usize;
        let kind = u16::from_ne_bytes([data[2], data[3]]) & !NLA_F_NESTED;
        if len < 4 || len > data.len() {
            break;
        }
        out.push((kind, &data[4..len]));
        data = &data[len.next_multiple_of(4).min(data.len())..];
    }
    out
}

/// A NUL-terminated string attribute.
fn attr_string(data: &[u8]) -> String {
    let end = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    String::from_utf8_lossy(&data[..end]).into_owned()
}

/// The index, name and kind of the link an `RTM_NEWLINK` body describes.
fn parse_link(body: &[u8]) -> LinkInfo {
    let mut info = LinkInfo::default();
    if body.len() < IFINFOMSG {
        return info;
    }
    info.index = i32::from_ne_bytes(body[4..8].try_into().expect("4 bytes"));
    for (kind, data) in attrs(&body[IFINFOMSG..]) {
        match kind {
            IFLA_IFNAME => info.name = Some(attr_string(data)),
            IFLA_LINKINFO => {
                info.kind = attrs(data)
                    .into_iter()
                    .find(|(k, _)| *k == IFLA_INFO_KIND)
                    .map(|(_, d)| attr_string(d));
            }
            _ => {}
        }
    }
    info
}

/// Creates a macvtap named `name` (a `%d` in it is filled in by the
/// kernel with the lowest free number) on the link with index `parent`,
/// with Ethernet address `mac`, in kernel mode `mode`; returns its name
/// and index. It is down; `EEXIST` when `name` is taken.
pub(crate) fn add(name: &str, parent: i32, mac: [u8; 6], mode: u32) -> io::Result<(String, i32)> {
    let request = Request::new(
        RTM_NEWLINK,
        NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK | NLM_F_ECHO,
        0,
    )
    .string(IFLA_IFNAME, name)
    .attr(IFLA_LINK, &parent.to_ne_bytes())
    .attr(IFLA_ADDRESS, &mac)
    .nest(IFLA_LINKINFO)
    .string(IFLA_INFO_KIND, "macvtap")
    .nest(IFLA_INFO_DATA)
    .attr(IFLA_MACVLAN_MODE, &mode.to_ne_bytes())
    .end()
    .end()
    .finish();
    let echoed = talk(request)?;
    // The echo (Linux 6.1+) says which name the kernel chose; before it,
    // only a name without `%d` can be looked up.
    if let Some(link) = echoed.into_iter().find(|l| l.name.is_some()) {
        return Ok((link.name.expect("checked"), link.index));
    }
    if name.contains('%') {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the kernel did not say which name it gave the new macvtap (Linux 6.1 or later does)",
        ));
    }
    let index = std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex"))?;
    let index = index
        .trim()
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "a bad ifindex in sysfs"))?;
    Ok((name.to_string(), index))
}

/// The kind of link `name` (`macvtap`, `tun`, `bridge`, ...; `None` for
/// a plain device); `ENODEV` when there is no such link.
pub(crate) fn kind(name: &str) -> io::Result<Option<String>> {
    // The acknowledgement follows the reply: `talk` reads up to it.
    let request = Request::new(RTM_GETLINK, NLM_F_ACK, 0)
        .string(IFLA_IFNAME, name)
        .finish();
    let links = talk(request)?;
    Ok(links.into_iter().next().and_then(|l| l.kind))
}

/// Removes link `name`.
pub(crate) fn delete(name: &str) -> io::Result<()> {
    let request = Request::new(RTM_DELLINK, NLM_F_ACK, 0)
        .string(IFLA_IFNAME, name)
        .finish();
    talk(request).map(drop)
}

/// Opens the character device of macvtap `name` (index `index`) for
/// reading and writing, close-on-exec: `DEV_DIR/tapINDEX` (`dev_dir` is
/// /dev but in tests), or where that is missing, a node made in
/// `node_dir` from the device numbers sysfs gives, unlinked once open.
pub(crate) fn open_device(
    name: &str,
    index: i32,
    dev_dir: &Path,
    node_dir: &Path,
) -> io::Result<OwnedFd> {
    let open = |path: &Path| {
        OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .map(OwnedFd::from)
    };
    match open(&dev_dir.join(format!("tap{index}"))) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => open_via_node(name, index, node_dir, open),
        other => other,
    }
}

/// Makes the character device of macvtap `name` in `node_dir`, opens it
/// with `open`, and unlinks it.
fn open_via_node(
    name: &str,
    index: i32,
    node_dir: &Path,
    open: impl Fn(&Path) -> io::Result<OwnedFd>,
) -> io::Result<OwnedFd> {
    let numbers = std::fs::read_to_string(format!("/sys/class/net/{name}/macvtap/tap{index}/dev"))?;
    let (major, minor) = numbers
        .trim()
        .split_once(':')
        .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("sysfs gives macvtap '{name}' the device number '{numbers}'"),
            )
        })?;
    let node = node_dir.join(format!("tap{index}"));
    let _ = std::fs::remove_file(&node);
    nix::sys::stat::mknod(
        &node,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o600),
        nix::sys::stat::makedev(major, minor),
    )?;
    let opened = open(&node).map_err(|e| match e.raw_os_error() {
        // A filesystem mounted nodev refuses to open device nodes.
        Some(libc::EACCES) => io::Error::new(
            e.kind(),
            format!(
                "/dev has no tap{index} and the node made for it in {} cannot be opened ({e}; is that filesystem mounted nodev?)",
                node_dir.display()
            ),
        ),
        _ => e,
    });
    let _ = std::fs::remove_file(&node);
    opened
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_nest_and_attributes_parse_back() {
        let msg = Request::new(RTM_NEWLINK, NLM_F_CREATE, 7)
            .string(IFLA_IFNAME, "macvtap%d")
            .nest(IFLA_LINKINFO)
            .string(IFLA_INFO_KIND, "macvtap")
            .nest(IFLA_INFO_DATA)
            .attr(IFLA_MACVLAN_MODE, &4u32.to_ne_bytes())
            .end()
            .end()
            .finish();
        assert_eq!(
            u32::from_ne_bytes(msg[..4].try_into().unwrap()) as usize,
            msg.len()
        );
        let link = parse_link(&msg[NLMSG_HDR..]);
        assert_eq!(link.index, 7);
        assert_eq!(link.name.as_deref(), Some("macvtap%d"));
        assert_eq!(link.kind.as_deref(), Some("macvtap"));
        let info = attrs(&msg[NLMSG_HDR + IFINFOMSG..]);
        let data = attrs(info[1].1)[1].1;
        assert_eq!(attrs(data), [(IFLA_MACVLAN_MODE, &4u32.to_ne_bytes()[..])]);
    }

    /// Runs `program ARGS` in the caller's namespaces; must succeed.
    fn run(program: &str, args: &[&str]) {
        let out = std::process::Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// In network and mount namespaces of a thread's own (with sysfs
    /// mounted anew, as `ip netns exec` does) and a veth as the parent:
    /// a macvtap is made under the name the kernel picks, its kind read
    /// back, its character device opened through a node made in a scratch
    /// directory (as where /dev lacks it, no udev), and it is removed.
    #[test]
    fn a_macvtap_is_made_opened_through_its_own_node_and_removed() {
        assert!(
            nix::unistd::geteuid().is_root(),
            "this test needs root: it makes a network namespace, links and a device node"
        );
        std::thread::spawn(|| {
            use nix::sched::{CloneFlags, unshare};
            unshare(CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS).unwrap();
            // Children run in this thread's namespaces.
            run("mount", &["--make-rslave", "/"]);
            run("mount", &["-t", "sysfs", "sysfs", "/sys"]);
            run(
                "ip",
                &[
                    "link", "add", "qvp0", "type", "veth", "peer", "name", "qvp1",
                ],
            );
            run("ip", &["link", "set", "qvp0", "up"]);
            let parent: i32 = std::fs::read_to_string("/sys/class/net/qvp0/ifindex")
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            let mac = [0x52, 0x54, 0, 0, 0x0a, 0x01];
            let (name, index) =
                add("macvtap%d", parent, mac, mode_value("bridge").unwrap()).unwrap();
            assert!(name.starts_with("macvtap") && !name.contains('%'), "{name}");
            assert_eq!(kind(&name).unwrap().as_deref(), Some("macvtap"));
            assert_eq!(kind("qvp0").unwrap().as_deref(), Some("veth"));
            let again = add(&name, parent, [0x52, 0x54, 0, 0, 0x0a, 0x02], 4).unwrap_err();
            assert_eq!(again.raw_os_error(), Some(libc::EEXIST), "{again}");
            let address =
                std::fs::read_to_string(format!("/sys/class/net/{name}/address")).unwrap();
            assert_eq!(address.trim(), "52:54:00:00:0a:01");
            let nodes = std::env::temp_dir().join(format!("qvirt-macvtap-{}", std::process::id()));
            std::fs::create_dir_all(&nodes).unwrap();
            let fd = open_device(&name, index, Path::new("/nonexistent-dev"), &nodes).unwrap();
            let numbers =
                std::fs::read_to_string(format!("/sys/class/net/{name}/macvtap/tap{index}/dev"))
                    .unwrap();
            let (major, minor) = numbers.trim().split_once(':').unwrap();
            let st = nix::sys::stat::fstat(&fd).unwrap();
            assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFCHR);
            assert_eq!(
                st.st_rdev,
                nix::sys::stat::makedev(major.parse().unwrap(), minor.parse().unwrap())
            );
            assert_eq!(
                std::fs::read_dir(&nodes).unwrap().count(),
                0,
                "the node is unlinked once open"
            );
            std::fs::remove_dir(&nodes).unwrap();
            drop(fd);
            delete(&name).unwrap();
            let gone = kind(&name).unwrap_err();
            assert_eq!(gone.raw_os_error(), Some(libc::ENODEV), "{gone}");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn modes_are_the_kernels() {
        assert_eq!(mode_value("vepa"), Some(2));
        assert_eq!(mode_value("bridge"), Some(4));
        assert_eq!(mode_value("nope"), None);
    }
}
