//! Network interfaces: `<interface>` with its type and source, its
//! `<driver>` (the virtio-net device's options and its host backend's
//! data path) and its `<bandwidth>`.

use super::words::words;
use super::{Address, HostdevRom, VirtioOptions};

words! {
    /// `<interface><driver name=...>`: where the virtio-net data path runs.
    pub enum NetDriverName {
        /// In QEMU itself.
        Qemu = "qemu",
        /// In the host kernel (vhost-net), for tap backends.
        Vhost = "vhost",
    }

    /// `<interface><driver txmode=...>`: how QEMU transmits.
    pub enum NetTxMode {
        /// From a bottom half (QEMU's `tx=bh`).
        Iothread = "iothread",
        /// From a timer (QEMU's `tx=timer`).
        Timer = "timer",
    }
}

/// `<host>` offloads of an interface driver: what the device accepts
/// from the host side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostOffloads {
    /// `csum`.
    pub csum: Option<bool>,
    /// `gso`.
    pub gso: Option<bool>,
    /// `tso4`.
    pub tso4: Option<bool>,
    /// `tso6`.
    pub tso6: Option<bool>,
    /// `ecn`.
    pub ecn: Option<bool>,
    /// `ufo`.
    pub ufo: Option<bool>,
    /// `mrg_rxbuf`: mergeable receive buffers.
    pub mrg_rxbuf: Option<bool>,
}

/// `<guest>` offloads of an interface driver: what the guest may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GuestOffloads {
    /// `csum`.
    pub csum: Option<bool>,
    /// `tso4`.
    pub tso4: Option<bool>,
    /// `tso6`.
    pub tso6: Option<bool>,
    /// `ecn`.
    pub ecn: Option<bool>,
    /// `ufo`.
    pub ufo: Option<bool>,
}

/// `<interface><driver ...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetDriver {
    /// `name`.
    pub name: Option<NetDriverName>,
    /// `txmode`.
    pub txmode: Option<NetTxMode>,
    /// `ioeventfd='on|off'`.
    pub ioeventfd: Option<bool>,
    /// `event_idx='on|off'`.
    pub event_idx: Option<bool>,
    /// `queues`: the number of queue pairs (multiqueue when above 1).
    pub queues: Option<u32>,
    /// `rx_queue_size`.
    pub rx_queue_size: Option<u32>,
    /// `tx_queue_size`.
    pub tx_queue_size: Option<u32>,
    /// `rss='on|off'`: receive-side scaling.
    pub rss: Option<bool>,
    /// `rss_hash_report='on|off'`.
    pub rss_hash_report: Option<bool>,
    /// `<host>`.
    pub host: HostOffloads,
    /// `<guest>`.
    pub guest: GuestOffloads,
    /// The virtio options (`iommu`, `ats`, `packed`, `page_per_vq`).
    pub virtio: VirtioOptions,
}

impl NetDriver {
    /// The queue pairs the device gets: `queues`, or one.
    pub fn queue_pairs(&self) -> u32 {
        self.queues.unwrap_or(1).max(1)
    }
}

/// `<bandwidth>` of an interface: the guest's traffic shaped on the
/// host device with `tc`, as libvirt does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bandwidth {
    /// `<inbound>`: traffic to the guest.
    pub inbound: Option<BandwidthRate>,
    /// `<outbound>`: traffic from the guest.
    pub outbound: Option<BandwidthRate>,
}

/// `<inbound>` or `<outbound average= peak= burst=>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BandwidthRate {
    /// `average`: the rate kept on average, in KiB/s.
    pub average: u64,
    /// `peak`: the most it may send at, in KiB/s (`<inbound>` only takes
    /// effect as the class ceiling).
    pub peak: Option<u64>,
    /// `burst`: how much may go at peak speed, in KiB.
    pub burst: Option<u64>,
}

/// `<interface>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// `type` with its source.
    pub kind: InterfaceType,
    /// `<mac address=...>`; generated (52:54:00:xx:xx:xx) when absent.
    pub mac: MacAddr,
    /// `<model type=...>`, as written (virtio, e1000, rtl8139, ...).
    pub model: Option<String>,
    /// `<target dev=...>`: the host tap (or macvtap) device name.
    pub target_dev: Option<String>,
    /// `<portForward>` rules (user networking).
    pub port_forwards: Vec<PortForward>,
    /// `<boot order=...>`.
    pub boot_order: Option<u32>,
    /// `<driver>`; `None` when not written.
    pub driver: Option<NetDriver>,
    /// `<rom bar= file= enabled=>`: the NIC's boot ROM.
    pub rom: Option<HostdevRom>,
    /// `<link state='up|down'>`: whether the guest sees its link up.
    pub link_up: Option<bool>,
    /// `<mtu size=...>`: the MTU of the host tap and, on a virtio NIC,
    /// the one the guest is told (`host_mtu`).
    pub mtu: Option<u32>,
    /// `<bandwidth>`: traffic shaping on the host device; `None` when
    /// absent or empty.
    pub bandwidth: Option<Bandwidth>,
    /// `<virtualport type='openvswitch'>`: the bridge is Open vSwitch's.
    pub virtualport: Option<OvsPort>,
    /// `<coalesce><rx><frames max=...>`: how many received frames the
    /// host tap batches before it hands them on (the tap's
    /// `rx-frames` coalescing, set with ethtool's ioctl). A bridge
    /// interface's only; `None` when not written.
    pub coalesce_rx_frames: Option<u32>,
    /// `<filterref>`: the libvirt network filter the host applies to the
    /// interface's traffic; `None` when not written.
    pub filterref: Option<FilterRef>,
    /// `<script path=...>` and `<downscript path=...>` (ethernet).
    pub scripts: NetScripts,
    /// `<ip address= family= prefix=>`: the guest-side network of a user
    /// interface (at most one IPv4 and one IPv6), in document order.
    pub ips: Vec<GuestIp>,
    /// `<backend type='passt'>` of a user interface; `None`: QEMU's own
    /// user networking.
    pub passt: Option<Passt>,
    /// `<acpi index=...>`: the index the guest's firmware gives the NIC
    /// (Linux names it `eno<index>`).
    pub acpi_index: Option<u32>,
    /// How the host sets up the interface's tap: whose it is, its bridge
    /// port's isolation, the addresses and routes it gets.
    pub tap: TapSettings,
    /// `<address>`.
    pub address: Option<Address>,
    /// `<alias name=...>`: a user alias (`ua-...`), the NIC's QEMU id (and
    /// `host` + it its backend's) in place of `netN`.
    pub alias: Option<String>,
}

/// The host side of a bridge or ethernet interface's tap, as libvirt's
/// `virDomainNetDef` keeps it (`managed_tap`, `isolatedPort`, `hostIP`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TapSettings {
    /// `<target managed=...>` (ethernet only): `Some(false)` when the tap
    /// named by `<target dev>` is the user's, made before the domain
    /// starts: the host then neither creates, configures (MAC, MTU, up)
    /// nor removes it, and QEMU only opens it. `None` when not written
    /// (the host makes the tap, as with `yes`).
    pub managed: Option<bool>,
    /// `<port isolated=...>` (bridge only): `Some(true)` makes the tap an
    /// isolated port of its bridge, which forwards nothing between two
    /// isolated ports. `None` when not written (not isolated).
    pub isolated: Option<bool>,
    /// `<source><ip>` of an ethernet interface: the addresses the host
    /// gives the tap, in document order.
    pub ips: Vec<HostIp>,
    /// `<source><route>` of an ethernet interface: the routes the host
    /// adds through the tap, in document order.
    pub routes: Vec<HostRoute>,
    /// `<backend tap=...>` (bridge and ethernet): the tun/tap control
    /// device the tap is made and opened through (default
    /// `/dev/net/tun`); QEMU then gets the tap as a descriptor.
    pub tun_path: Option<String>,
    /// `<backend vhost=...>` (virtio bridge and ethernet NICs): the
    /// vhost-net device QEMU's kernel data path opens (default
    /// `/dev/vhost-net`); it turns vhost-net on, unless `<driver
    /// name='qemu'>` (then refused).
    pub vhost_path: Option<String>,
}

impl TapSettings {
    /// Whether the host made the tap (not `<target managed='no'>`).
    pub fn is_managed(&self) -> bool {
        self.managed != Some(false)
    }
}

/// `<source><ip address= prefix= peer=>` of an ethernet interface: an
/// address the host gives the tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostIp {
    /// `address` (its `family` follows from it).
    pub address: std::net::IpAddr,
    /// `prefix`: the network's length in bits; `None` when not written
    /// (then the class of an IPv4 address gives it, and 64 an IPv6
    /// one's, as libvirt's `virSocketAddrGetIPPrefix`).
    pub prefix: Option<u8>,
    /// `peer`: the address at the other end of a point-to-point link (the
    /// guest's), of the same family.
    pub peer: Option<std::net::IpAddr>,
}

impl HostIp {
    /// The prefix the host gives the address: the one written, else
    /// libvirt's default (see [`natural_prefix`]).
    pub fn effective_prefix(&self) -> Option<u8> {
        self.prefix.or_else(|| natural_prefix(self.address))
    }
}

/// libvirt's `virSocketAddrGetIPPrefix` without a prefix or netmask: 0
/// for the unspecified address, an IPv4 address's class (8, 16 or 24),
/// 64 for IPv6; `None` for a class D or E address, which has none.
pub fn natural_prefix(address: std::net::IpAddr) -> Option<u8> {
    match address {
        a if a.is_unspecified() => Some(0),
        std::net::IpAddr::V6(_) => Some(64),
        std::net::IpAddr::V4(a) => match a.octets()[0] {
            o if o & 0x80 == 0 => Some(8),
            o if o & 0xc0 == 0x80 => Some(16),
            o if o & 0xe0 == 0xc0 => Some(24),
            _ => None,
        },
    }
}

words! {
    /// `family=...` of an address: IPv4 or IPv6.
    pub enum IpFamily {
        /// IPv4.
        Ipv4 = "ipv4",
        /// IPv6.
        Ipv6 = "ipv6",
    }
}

/// `<source><route family= address= prefix= netmask= gateway= metric=>`
/// of an ethernet interface: a route the host adds through the tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostRoute {
    /// `family`, as written (`None`: IPv4).
    pub family: Option<IpFamily>,
    /// `address`: the destination network's address.
    pub address: std::net::IpAddr,
    /// `prefix`: the destination's length in bits, as written.
    pub prefix: Option<u8>,
    /// `netmask` (IPv4 only, instead of `prefix`).
    pub netmask: Option<std::net::Ipv4Addr>,
    /// `gateway`: the next hop.
    pub gateway: std::net::IpAddr,
    /// `metric`: the route's priority (1 or more); `None`: the kernel's.
    pub metric: Option<u32>,
}

impl HostRoute {
    /// The destination's length, as libvirt's `virNetDevIPRouteGetPrefix`
    /// finds it: `prefix` (when above 0), else the netmask's bits, else
    /// 0 for the default route, else the address's class.
    pub fn effective_prefix(&self) -> Option<u8> {
        match (self.prefix, self.netmask) {
            (Some(p), _) if p > 0 => Some(p),
            (_, Some(m)) => Some(u32::from(m).count_ones() as u8),
            (Some(0), None) => Some(0),
            _ => natural_prefix(self.address),
        }
    }
}

/// The programs the host runs for an ethernet interface's tap, as
/// libvirt's `virNetDevRunEthernetScript` runs them: `PATH TAP`, the
/// script once the tap is up (a failure fails the start), the downscript
/// when the domain stops or the interface is unplugged (a failure is
/// logged). An empty path runs nothing, as libvirt's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetScripts {
    /// `<script path=...>`.
    pub up: Option<String>,
    /// `<downscript path=...>`.
    pub down: Option<String>,
}

/// `<filterref filter=...>` with its `<parameter name= value=>`
/// children: a host's network filter (nwfilter) named, with the values
/// of its variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterRef {
    /// `filter`: the filter's name on the host.
    pub filter: String,
    /// The `<parameter>` children as `(name, value)`, in document order; a
    /// name given more than once makes a list of values (several `IP`).
    pub parameters: Vec<(String, String)>,
}

/// `<virtualport type='openvswitch'><parameters interfaceid profileid>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OvsPort {
    /// `interfaceid`: the port's `iface-id` (an SDN controller's name for
    /// it); libvirt makes one up when absent.
    pub interface_id: Option<uuid::Uuid>,
    /// `profileid`: the port profile, set as the port's
    /// `external-ids:port-profile`, as libvirt sets it.
    pub profile_id: Option<String>,
    /// The interface's `<vlan>`: the port's VLAN tags, which libvirt
    /// applies only to Open vSwitch ports (and SR-IOV devices).
    pub vlan: Option<Vlan>,
}

/// `<vlan trunk=...><tag id= nativeMode=/>...</vlan>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vlan {
    /// Each `<tag id=...>` (0 to 4095), in order.
    pub tags: Vec<u32>,
    /// A trunk port (more than one tag, or `trunk='yes'`).
    pub trunk: bool,
    /// The tag with `nativeMode` and whether it is `tagged`.
    pub native: Option<(u32, bool)>,
}

/// `<interface type=...>` with what its `<source>` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterfaceType {
    /// `user`: QEMU's own NAT (slirp).
    User,
    /// `network`: a libvirt managed network, `<source network=...>`.
    Network(String),
    /// `bridge`: a tap on a host bridge, `<source bridge=...>`.
    Bridge(String),
    /// `ethernet`: a tap device configured by the host.
    Ethernet,
    /// `direct`: a macvtap device on the host device `<source dev=...>`,
    /// in `<source mode=...>` (default `vepa`).
    Direct {
        /// `dev`: the host network device the macvtap sits on.
        dev: String,
        /// `mode`: how the macvtap delivers packets between its siblings.
        mode: DirectMode,
    },
    /// `vhostuser`: a vhost-user backend (a userspace switch such as
    /// OVS-DPDK) on a UNIX socket, `<source type='unix' path= mode=>`.
    VhostUser {
        /// `path`: the socket.
        path: String,
        /// `mode='server'`: QEMU listens on the socket (else it connects).
        server: bool,
        /// `<reconnect enabled='yes' timeout=...>` (client mode): the
        /// seconds between QEMU's tries to reach the backend again, from
        /// its start on; `None` when it does not.
        reconnect: Option<u32>,
    },
    /// `server`: listens on a TCP port for one `client` interface (of
    /// another domain), whose frames it then exchanges with the guest.
    Server(NetSocket),
    /// `client`: connects to a `server` interface's TCP port.
    Client(NetSocket),
    /// `mcast`: joins a multicast group's UDP port, where every member's
    /// frames reach every other member.
    Mcast(NetSocket),
    /// `udp`: sends frames to a UDP port and receives them on a local one.
    Udp {
        /// `<source address= port=>`: where frames are sent.
        remote: NetSocket,
        /// `<source><local address= port=>`: where frames arrive.
        local: NetSocket,
    },
}

/// `<source address= port=>` of a socket interface (server, client,
/// mcast, udp), or its `<local>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetSocket {
    /// `address`: a host name or IP address; always set, except on a
    /// server, where `None` listens on every address of the host.
    pub address: Option<String>,
    /// `port`.
    pub port: u16,
}

/// `<backend type='passt' logFile=>` of a user interface, with its
/// `<source dev=>`: a passt process carries the guest's traffic through
/// the host's own sockets, instead of QEMU's user networking.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Passt {
    /// `logFile`: where passt logs; `None`: into the domain's log.
    pub log_file: Option<String>,
    /// `<source dev=...>`: the host interface passt takes its addresses
    /// and routes from and sends through; `None`: the one with the
    /// default route.
    pub dev: Option<String>,
}

/// `<ip address= family= prefix=>` of a user interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestIp {
    /// `address`: the network's address (its `family` follows from it).
    pub address: std::net::IpAddr,
    /// `prefix`: the network's length in bits; `None` when not written.
    pub prefix: Option<u8>,
}

words! {
    /// `<interface type='direct'><source mode=...>`: the macvtap mode.
    pub enum DirectMode {
        /// Every packet goes out to the external switch (the default).
        Vepa = "vepa",
        /// As vepa, and packets from a sibling are never delivered.
        Private = "private",
        /// Packets between siblings in bridge mode go directly.
        Bridge = "bridge",
        /// The device takes over its parent (SR-IOV virtual functions).
        Passthrough = "passthrough",
    }
}

impl InterfaceType {
    /// libvirt's word for the type, as `<interface type=...>` writes it.
    pub fn type_name(&self) -> &'static str {
        match self {
            InterfaceType::User => "user",
            InterfaceType::Network(_) => "network",
            InterfaceType::Bridge(_) => "bridge",
            InterfaceType::Ethernet => "ethernet",
            InterfaceType::Direct { .. } => "direct",
            InterfaceType::VhostUser { .. } => "vhostuser",
            InterfaceType::Server(_) => "server",
            InterfaceType::Client(_) => "client",
            InterfaceType::Mcast(_) => "mcast",
            InterfaceType::Udp { .. } => "udp",
        }
    }

    /// Whether the interface's backend is a tap or macvtap device on the
    /// host that the manager makes (bridge, ethernet, direct), rather
    /// than QEMU's own networking or a vhost-user socket.
    pub fn has_host_tap(&self) -> bool {
        matches!(
            self,
            InterfaceType::Bridge(_) | InterfaceType::Ethernet | InterfaceType::Direct { .. }
        )
    }
}

/// A MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl std::fmt::Display for MacAddr {
    /// Lower-case, colon-separated: `52:54:00:12:34:56`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl std::str::FromStr for MacAddr {
    type Err = ();

    /// Six colon-separated pairs of hex digits, either case.
    fn from_str(s: &str) -> Result<MacAddr, ()> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for byte in &mut out {
            let p = parts.next().ok_or(())?;
            if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(());
            }
            *byte = u8::from_str_radix(p, 16).map_err(|_| ())?;
        }
        if parts.next().is_some() {
            return Err(());
        }
        Ok(MacAddr(out))
    }
}

words! {
    /// `<portForward proto=...>`.
    pub enum PortProto {
        /// TCP.
        Tcp = "tcp",
        /// UDP.
        Udp = "udp",
    }
}

/// `<portForward proto= address= dev=>` with its `<range>` children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortForward {
    /// `proto`.
    pub proto: PortProto,
    /// `address`: the host address to listen on; `None` means loopback
    /// (QEMU's user networking) or every address (passt).
    pub address: Option<String>,
    /// `dev`: the host interface the address is on (passt only).
    pub dev: Option<String>,
    /// `<range start= end= to= exclude=>` children.
    pub ranges: Vec<PortRange>,
}

/// `<range start=HOSTPORT end=HOSTPORT to=GUESTPORT/>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    /// `start`: the first host port.
    pub start: u16,
    /// `end`: the last host port of a range; `None` for a single port.
    pub end: Option<u16>,
    /// `to`: the guest port `start` maps to; `None` means the same port.
    pub to: Option<u16>,
    /// `exclude='yes'`: these ports are taken out of the rule's other
    /// ranges (passt only).
    pub exclude: bool,
}
