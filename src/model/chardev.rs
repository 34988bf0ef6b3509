//! Character devices: serial ports, consoles and channels, and the host
//! side (`<source>`) they all share.

use super::devices::{Address, PciAddress};

/// `<serial>` or `<console>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharDevice {
    /// `type` with its `<source>`.
    pub source: CharSource,
    /// `<target port=...>`.
    pub target_port: Option<u32>,
    /// `<target type=...>`: serial, isa-serial, virtio, ...
    pub target_type: Option<String>,
    /// `<log file=... append=...>`: a file that keeps the device's output
    /// (in place of the manager's console log).
    pub log: Option<CharLog>,
    /// `<address>`: ISA (`type='isa' iobase= irq=`) of an ISA serial or
    /// parallel port or debug console, PCI of a PCI serial port.
    pub address: Option<CharAddress>,
    /// `<alias name=...>`: a user alias (`ua-...`), the port's QEMU id (and
    /// `char` + it its chardev's) in place of `serialN`.
    pub alias: Option<String>,
}

impl CharDevice {
    /// The ISA address, if the device has one.
    pub fn isa(&self) -> Option<IsaAddress> {
        match self.address {
            Some(CharAddress::Isa(a)) => Some(a),
            _ => None,
        }
    }

    /// The virtio-serial port, if the device (a virtio console) has one.
    pub fn virtio_serial(&self) -> Option<super::VirtioSerialAddress> {
        match self.address {
            Some(CharAddress::VirtioSerial(a)) => Some(a),
            _ => None,
        }
    }

    /// The PCI address, if the device has one.
    pub fn pci(&self) -> Option<PciAddress> {
        match self.address {
            Some(CharAddress::Pci(a)) => Some(a),
            _ => None,
        }
    }

    /// The USB address, if the device (a USB serial port) has one.
    pub fn usb(&self) -> Option<super::UsbAddress> {
        match self.address {
            Some(CharAddress::Usb(a)) => Some(a),
            _ => None,
        }
    }
}

/// The `<address>` of a serial port, console or parallel port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharAddress {
    /// `type='isa'`.
    Isa(IsaAddress),
    /// `type='pci'` (a PCI serial port).
    Pci(PciAddress),
    /// `type='virtio-serial'` (a virtio console's port).
    VirtioSerial(super::VirtioSerialAddress),
    /// `type='usb'` (a USB serial port's controller and port).
    Usb(super::UsbAddress),
}

/// An ISA device's `<address type='isa' iobase= irq=>`; `None` leaves
/// the device's own default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IsaAddress {
    /// `iobase`: the first I/O port.
    pub iobase: Option<u16>,
    /// `irq`: the interrupt line, 0..=15.
    pub irq: Option<u8>,
}

/// `<log>` of a serial port or console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharLog {
    /// `file`: an absolute path.
    pub file: String,
    /// `append='on|off'`: keep what the file holds (QEMU's default: off,
    /// the file is truncated at start).
    pub append: Option<bool>,
}

/// The host side of a character device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CharSource {
    /// `pty`: a pseudo-terminal; `path` is filled in while running.
    Pty {
        /// `<source path=...>` of a running domain.
        path: Option<String>,
    },
    /// `file`: output appended to a file.
    File {
        /// `<source path=...>`.
        path: String,
        /// `<source append='on|off'>`.
        append: Option<bool>,
    },
    /// `unix`: a UNIX socket.
    Unix {
        /// `<source path=...>`; `None` (virtio channels only) puts the
        /// socket in the domain's runtime directory, named after the
        /// channel.
        path: Option<String>,
        /// `mode='bind'`: QEMU listens; `connect`: QEMU connects.
        listen: bool,
        /// `<source><reconnect enabled='yes' timeout=...>`: seconds
        /// between QEMU's tries to connect again (connect mode).
        reconnect: Option<u32>,
    },
    /// `tcp`: a TCP socket, raw or with telnet's protocol.
    Tcp {
        /// `<source host=...>`: the address QEMU binds to (all when
        /// absent) or connects to.
        host: Option<String>,
        /// `<source service=...>`: the port.
        service: u16,
        /// `mode='bind'`: QEMU listens; `connect` (the default): it
        /// connects.
        listen: bool,
        /// `<protocol type='telnet'>` (else `raw`).
        telnet: bool,
        /// `<source><reconnect enabled='yes' timeout=...>`: seconds
        /// between QEMU's tries to connect again (connect mode).
        reconnect: Option<u32>,
        /// `<source tls='yes|no'>`: whether QEMU speaks TLS on the
        /// socket, with the x509 certificates the manager keeps for
        /// character devices (libvirt's `chardev_tls_x509_cert_dir`).
        /// Default: `None`, not written: no TLS (libvirt's default
        /// `chardev_tls = 0`).
        tls: Option<bool>,
    },
    /// `dev`: a host terminal device (a serial port's `/dev/ttyS0`, a
    /// pty's slave) or, for a parallel port, a host parallel port
    /// (`/dev/parport0`).
    Dev {
        /// `<source path=...>`.
        path: String,
    },
    /// `udp`: datagrams sent to `host`:`service` and received on the
    /// bind address.
    Udp {
        /// `<source mode='bind' host=...>`: the local address.
        bind_host: Option<String>,
        /// `<source mode='bind' service=...>`: the local port.
        bind_service: Option<u16>,
        /// `<source mode='connect' host=...>`: where output goes.
        host: Option<String>,
        /// `<source mode='connect' service=...>`.
        service: u16,
    },
    /// `null`: output discarded.
    Null,
    /// `spicevmc`: a channel to the SPICE client.
    SpiceVmc,
    /// `spiceport`: a named port of the SPICE session (WebDAV folder
    /// sharing, `org.spice-space.webdav.0`, and the like).
    SpicePort {
        /// `<source channel=...>`: the port's name.
        channel: String,
    },
    /// `pipe`: named pipes on the host, `PATH.in` (read by the guest's
    /// side) and `PATH.out` (written by it), or `PATH` both ways when
    /// the pair does not exist.
    Pipe {
        /// `<source path=...>`.
        path: String,
    },
    /// `vc`: a virtual console of the emulator's own display.
    Vc,
    /// `qemu-vdagent`: the SPICE agent's protocol spoken by the emulator
    /// itself, for VNC clients: clipboard sharing and an absolute pointer.
    QemuVdagent {
        /// `<source><clipboard copypaste='yes|no'>`; `None` leaves the
        /// emulator's default (off).
        clipboard: Option<bool>,
        /// `<source><mouse mode='client|server'>`: `client` moves the
        /// guest's pointer to where the client's is; `None` leaves the
        /// emulator's default (client).
        mouse: Option<super::SpiceMouseMode>,
    },
}

impl CharSource {
    /// libvirt's word for the source type.
    pub fn type_name(&self) -> &'static str {
        match self {
            CharSource::Pty { .. } => "pty",
            CharSource::File { .. } => "file",
            CharSource::Unix { .. } => "unix",
            CharSource::Tcp { .. } => "tcp",
            CharSource::Dev { .. } => "dev",
            CharSource::Udp { .. } => "udp",
            CharSource::Null => "null",
            CharSource::SpiceVmc => "spicevmc",
            CharSource::SpicePort { .. } => "spiceport",
            CharSource::Pipe { .. } => "pipe",
            CharSource::Vc => "vc",
            CharSource::QemuVdagent { .. } => "qemu-vdagent",
        }
    }
}

/// `<channel>`: a named stream between host and guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// `type` with its `<source>`.
    pub source: CharSource,
    /// `<target>`.
    pub target: ChannelTarget,
    /// `<address type='virtio-serial'>`.
    pub address: Option<Address>,
    /// `<alias name=...>`: output only, the id a running domain's XML
    /// shows (`channel0`, ...); a definition's is not kept.
    pub alias: Option<String>,
}

impl Channel {
    /// Whether the channel is a port of a virtio-serial controller.
    pub fn is_virtio(&self) -> bool {
        matches!(self.target, ChannelTarget::Virtio { .. })
    }
}

/// `<channel><target type=...>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelTarget {
    /// `virtio`: a port of a virtio-serial controller.
    Virtio {
        /// `name`: what the guest sees the port as
        /// (`org.qemu.guest_agent.0`, `com.redhat.spice.0`).
        name: Option<String>,
    },
    /// `guestfwd`: TCP connections the guest makes to `address`:`port`
    /// (through user-mode networking) reach the channel's host side.
    Guestfwd {
        /// `address`: an IPv4 address on the user-mode network.
        address: std::net::Ipv4Addr,
        /// `port`.
        port: u16,
    },
}

/// The name of the qemu-guest-agent channel.
pub const GUEST_AGENT_CHANNEL: &str = "org.qemu.guest_agent.0";
/// The name of the SPICE agent channel.
pub const SPICE_AGENT_CHANNEL: &str = "com.redhat.spice.0";
