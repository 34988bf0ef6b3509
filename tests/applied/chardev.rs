//! TCP character devices on a running QEMU: a serial port QEMU listens
//! on with telnet's protocol (its option negotiation is the first thing
//! a client reads), and one QEMU connects out of, reconnecting to a
//! listener that comes later; ISA addresses and the debug console;
//! channels that reconnect when their listener closes; `<protocol>` on
//! parallel ports and channels.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::support::{State, firmware_vm, poll};

/// A TCP port free on the loopback address now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn tcp_serial_ports_listen_with_telnet_or_connect_out() {
    let st = State::new("serial-tcp");
    let (telnet, raw, out) = (free_port(), free_port(), free_port());
    let xml = firmware_vm(
        "stcp",
        "",
        &format!(
            "<serial type='tcp'><source mode='bind' host='127.0.0.1' service='{telnet}'/><protocol type='telnet'/><target port='0'/></serial>\
             <serial type='tcp'><source mode='bind' host='127.0.0.1' service='{raw}'/><protocol type='raw'/><target port='1'/></serial>\
             <serial type='tcp'><source mode='connect' host='127.0.0.1' service='{out}'><reconnect enabled='yes' timeout='1'/></source><target port='2'/></serial>"
        ),
    );
    // Nothing listens on `out` yet: with reconnect, QEMU starts anyway.
    st.start(&xml);
    let mut first = [0u8; 1];
    let mut t = TcpStream::connect(("127.0.0.1", telnet)).unwrap();
    t.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    t.read_exact(&mut first).unwrap();
    assert_eq!(first[0], 0xff, "telnet's IAC opens the negotiation");
    let mut r = TcpStream::connect(("127.0.0.1", raw)).unwrap();
    r.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    assert!(
        r.read(&mut first).is_err(),
        "a raw port sends nothing unasked"
    );
    let listener = TcpListener::bind(("127.0.0.1", out)).unwrap();
    listener.set_nonblocking(true).unwrap();
    poll("QEMU to connect out", Duration::from_secs(30), || {
        listener.accept().ok()
    });
    st.stop("stcp");
}

/// `<parallel>`: QEMU's `isa-parallel` on a `file` backend it opens at
/// start, and on a pty (named in the live XML), each at its port
/// (`qom-get` on the devices).
#[test]
fn parallel_ports_reach_qemu() {
    let st = State::new("parallel");
    let out = st.root().join("lpt.out");
    st.start(&firmware_vm(
        "lpt",
        "",
        &format!(
            "<parallel type='file'><source path='{}'/><target port='0'/></parallel>\
             <parallel type='pty'><target port='1'/></parallel>",
            out.display()
        ),
    ));
    assert!(out.exists(), "QEMU opened {}", out.display());
    let mut qmp = st.qmp("lpt");
    for (n, index) in [(0, 0), (1, 1)] {
        let dev = format!("/machine/peripheral/parallel{n}");
        assert_eq!(qmp.qom_get(&dev, "chardev"), format!("charparallel{n}"));
        assert_eq!(qmp.qom_get(&dev, "index"), index);
    }
    drop(qmp);
    let live = st.live_xml("lpt");
    // The terminal, also in `tty` as libvirt writes it (virsh's
    // ttyconsole reads that).
    assert!(
        live.contains("<parallel type='pty' tty='/dev/pts/")
            && live.contains("<source path='/dev/pts/"),
        "the live XML names the pty: {live}"
    );
    st.stop("lpt");
}

/// A serial port on a host terminal (`type='dev'`: here the slave of a
/// pty whose master the test holds) and one on UDP: QEMU opens the
/// terminal, and binds the UDP port to receive on, which no one else can
/// take then; `query-chardev` names both.
#[test]
fn serial_ports_on_a_host_terminal_and_on_udp() {
    let st = State::new("serial-dev");
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = nix::unistd::ttyname(&pty.slave).unwrap();
    let bind = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = bind.local_addr().unwrap().port();
    drop(bind);
    st.start(&firmware_vm(
        "sdev",
        "",
        &format!(
            "<serial type='dev'><source path='{}'/><target port='0'/></serial>\
             <serial type='udp'><source mode='bind' host='127.0.0.1' service='{port}'/>\
             <source mode='connect' host='127.0.0.1' service='9'/><target port='1'/></serial>",
            slave.display()
        ),
    ));
    let pid = st.qemu_pid("sdev");
    let open: Vec<_> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|f| std::fs::read_link(f.path()).ok())
        .collect();
    assert!(
        open.contains(&slave),
        "QEMU holds {}: {open:?}",
        slave.display()
    );
    let taken = std::net::UdpSocket::bind(("127.0.0.1", port)).unwrap_err();
    assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse, "{taken}");
    let mut qmp = st.qmp("sdev");
    let chardevs = qmp.chardev_filenames();
    let filename = |label: &str| {
        chardevs
            .get(label)
            .cloned()
            .unwrap_or_else(|| panic!("no chardev {label}: {chardevs:?}"))
    };
    // QEMU's names of the two backends.
    assert_eq!(
        [filename("charserial0"), filename("charserial1")],
        ["serial", "udp"]
    );
    drop(qmp);
    st.stop("sdev");
}

/// ISA addresses of serial and parallel ports, and a debug console
/// (`<target type='isa-debug'>`): SeaBIOS writes its log to I/O port
/// 0x402, so the console's file holds it at that address and stays empty
/// at another; the ports' I/O bases and interrupts are read back.
#[test]
fn isa_addresses_and_the_debug_console() {
    let st = State::new("isa");
    let at = |port: u16| st.root().join(format!("debug-{port:x}.log"));
    st.start(&firmware_vm(
        "isa",
        "",
        &format!(
            "<serial type='null'><target type='isa-serial' port='0'/>\
             <address type='isa' iobase='0x2f8' irq='0x3'/></serial>\
             <serial type='file'><source path='{}'/><target type='isa-debug'/>\
             <address type='isa' iobase='0x402'/></serial>\
             <serial type='file'><source path='{}'/><target type='isa-debug'/>\
             <address type='isa' iobase='0x403'/></serial>\
             <parallel type='null'><target port='0'/><address type='isa' iobase='0x278' irq='0x5'/></parallel>",
            at(0x402).display(),
            at(0x403).display()
        ),
    ));
    let log = poll(
        "SeaBIOS on the debug console",
        Duration::from_secs(60),
        || {
            let text = std::fs::read_to_string(at(0x402)).unwrap_or_default();
            text.contains("SeaBIOS").then_some(text)
        },
    );
    assert!(log.contains("SeaBIOS"), "{log}");
    assert_eq!(
        std::fs::read(at(0x403)).unwrap().len(),
        0,
        "a debug console at a port SeaBIOS does not write to got output"
    );
    let mut qmp = st.qmp("isa");
    for (dev, iobase, irq) in [("serial0", 0x2f8, 3), ("parallel0", 0x278, 5)] {
        let path = format!("/machine/peripheral/{dev}");
        assert_eq!(qmp.qom_get(&path, "iobase"), iobase, "{dev}");
        assert_eq!(qmp.qom_get(&path, "irq"), irq, "{dev}");
    }
    assert_eq!(qmp.qom_get("/machine/peripheral/serial1", "iobase"), 0x402);
    drop(qmp);
    let live = st.live_xml("isa");
    assert!(
        live.contains("<address type='isa' iobase='0x2f8' irq='0x3'/>"),
        "{live}"
    );
    st.stop("isa");
}

/// Channels QEMU connects out of, on a UNIX and on a TCP socket the test
/// listens on, with `<reconnect enabled='yes' timeout='1'>`: when the
/// test closes its side, QEMU connects again.
#[test]
fn channels_connect_out_and_reconnect_when_the_listener_closes() {
    let st = State::new("chan-reconnect");
    let path = st.root().join("chan.sock");
    let (unix, tcp, port) = crate::support::listeners(&path);
    st.start(&firmware_vm(
        "chre",
        "",
        &format!(
            "<channel type='unix'><source mode='connect' path='{}'><reconnect enabled='yes' timeout='1'/></source>\
             <target type='virtio' name='org.example.unix'/></channel>\
             <channel type='tcp'><source mode='connect' host='127.0.0.1' service='{port}'><reconnect enabled='yes' timeout='1'/></source>\
             <target type='virtio' name='org.example.tcp'/></channel>",
            path.display()
        ),
    ));
    let wait = Duration::from_secs(30);
    let first = poll("QEMU to connect to the UNIX socket", wait, || {
        unix.accept().ok()
    });
    let first_tcp = poll("QEMU to connect to the TCP port", wait, || {
        tcp.accept().ok()
    });
    // QEMU reads a channel only while the guest has it open (the
    // firmware never does), so it learns of a plain close only from a
    // hang-up: a UNIX socket's peer closing is one; a TCP peer's FIN is
    // not, its reset is.
    let reset = nix::libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    nix::sys::socket::setsockopt(&first_tcp.0, nix::sys::socket::sockopt::Linger, &reset).unwrap();
    drop((first, first_tcp));
    poll("QEMU to connect to the UNIX socket again", wait, || {
        unix.accept().ok()
    });
    poll("QEMU to connect to the TCP port again", wait, || {
        tcp.accept().ok()
    });
    st.stop("chre");
}

/// `<protocol>` on parallel ports and channels, read as on serial ports:
/// telnet on a TCP parallel port and channel (`query-chardev` names them
/// `telnet:`, and telnet's IAC is the first byte a client reads), raw on
/// UNIX sockets (plain `unix:` listeners a client connects to); all
/// waiting for their client.
#[test]
fn parallel_ports_and_channels_take_their_protocol() {
    let st = State::new("protocols");
    let (lpt, chan) = (free_port(), free_port());
    let lpt_sock = st.root().join("lpt.sock");
    let chan_sock = st.root().join("chan.sock");
    st.start(&firmware_vm(
        "proto",
        "",
        &format!(
            "<parallel type='unix'><source mode='bind' path='{}'/><protocol type='raw'/><target port='0'/></parallel>\
             <parallel type='tcp'><source mode='bind' host='127.0.0.1' service='{lpt}'/><protocol type='telnet'/><target port='1'/></parallel>\
             <channel type='unix'><source mode='bind' path='{}'/><protocol type='raw'/><target type='virtio' name='org.example.raw'/></channel>\
             <channel type='tcp'><source mode='bind' host='127.0.0.1' service='{chan}'/><protocol type='telnet'/><target type='virtio' name='org.example.telnet'/></channel>",
            lpt_sock.display(),
            chan_sock.display()
        ),
    ));
    let mut qmp = st.qmp("proto");
    let chardevs = qmp.chardev_filenames();
    let filename = |label: &str| {
        chardevs
            .get(label)
            .cloned()
            .unwrap_or_else(|| panic!("no chardev {label}: {chardevs:?}"))
    };
    assert_eq!(
        [
            filename("charparallel0"),
            filename("charparallel1"),
            filename("charchannel0"),
            filename("charchannel1")
        ],
        [
            format!("disconnected:unix:{},server=on", lpt_sock.display()),
            format!("disconnected:telnet:127.0.0.1:{lpt},server=on"),
            format!("disconnected:unix:{},server=on", chan_sock.display()),
            format!("disconnected:telnet:127.0.0.1:{chan},server=on"),
        ]
    );
    drop(qmp);
    for port in [lpt, chan] {
        let mut first = [0u8; 1];
        let mut t = TcpStream::connect(("127.0.0.1", port)).unwrap();
        t.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        t.read_exact(&mut first).unwrap();
        assert_eq!(first[0], 0xff, "telnet's IAC opens the negotiation");
    }
    for path in [&lpt_sock, &chan_sock] {
        std::os::unix::net::UnixStream::connect(path)
            .unwrap_or_else(|e| panic!("QEMU listens on {}: {e}", path.display()));
    }
    st.stop("proto");
}
