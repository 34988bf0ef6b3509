//! Displays: `<graphics>` (VNC and SPICE) with its listen addresses and
//! SPICE options.

use super::words::words;

words! {
    /// `<graphics type=...>`.
    pub enum GraphicsType {
        /// A VNC server.
        Vnc = "vnc",
        /// A SPICE server.
        Spice = "spice",
    }

    /// A SPICE channel name (`<channel name=...>`).
    pub enum SpiceChannelName {
        /// The main channel.
        Main = "main",
        /// The display.
        Display = "display",
        /// Keyboard and mouse.
        Inputs = "inputs",
        /// The cursor.
        Cursor = "cursor",
        /// Audio output.
        Playback = "playback",
        /// Audio input.
        Record = "record",
        /// Smartcards.
        Smartcard = "smartcard",
        /// USB redirection.
        Usbredir = "usbredir",
    }

    /// `<channel mode=...>` and `defaultMode` of SPICE.
    pub enum SpiceChannelMode {
        /// Either port.
        Any = "any",
        /// The TLS port only.
        Secure = "secure",
        /// The plain port only.
        Insecure = "insecure",
    }

    /// `<image compression=...>` of SPICE.
    pub enum SpiceImageCompression {
        /// Automatic GLZ.
        AutoGlz = "auto_glz",
        /// Automatic LZ.
        AutoLz = "auto_lz",
        /// QUIC.
        Quic = "quic",
        /// GLZ.
        Glz = "glz",
        /// LZ.
        Lz = "lz",
        /// No compression.
        Off = "off",
    }

    /// `<jpeg compression=...>` and `<zlib compression=...>` of SPICE.
    pub enum SpiceWanCompression {
        /// When the link is slow.
        Auto = "auto",
        /// Never.
        Never = "never",
        /// Always.
        Always = "always",
    }

    /// `<streaming mode=...>` of SPICE.
    pub enum SpiceStreaming {
        /// Stream what looks like video.
        Filter = "filter",
        /// Stream everything.
        All = "all",
        /// No streaming.
        Off = "off",
    }

    /// `<graphics sharePolicy=...>` of VNC.
    pub enum VncSharePolicy {
        /// A client asking for exclusive access gets it.
        AllowExclusive = "allow-exclusive",
        /// Clients always share the display.
        ForceShared = "force-shared",
        /// Every client may connect, whatever it asks.
        Ignore = "ignore",
    }

    /// `<graphics connected=...>`: what a change of the password does to
    /// the clients connected (libvirt's virDomainGraphicsAuthConnected).
    pub enum GraphicsConnected {
        /// The change fails while a client is connected (SPICE).
        Fail = "fail",
        /// The clients are disconnected (SPICE).
        Disconnect = "disconnect",
        /// The clients stay connected.
        Keep = "keep",
    }

    /// `<mouse mode=...>` of SPICE.
    pub enum SpiceMouseMode {
        /// Server-side pointer.
        Server = "server",
        /// Client-side pointer.
        Client = "client",
    }
}

/// `<graphics>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graphics {
    /// `type`.
    pub kind: GraphicsType,
    /// `port`: the TCP port; `None` or -1 with `autoport` means chosen at
    /// start.
    pub port: Option<i32>,
    /// `tlsPort` (SPICE): the TLS port; -1 means chosen at start.
    pub tls_port: Option<i32>,
    /// `autoport='yes|no'`; `None` when not written.
    pub autoport: Option<bool>,
    /// `listen`: the address to listen on (default: loopback).
    pub listen: Option<String>,
    /// `<listen>` children.
    pub listens: Vec<GraphicsListen>,
    /// `passwd`: the password (VNC uses 8 characters).
    pub passwd: Option<String>,
    /// `passwdValidTo`: when the password expires (seconds since the
    /// epoch, written `YYYY-MM-DDTHH:MM:SS` in UTC).
    pub passwd_valid_to: Option<i64>,
    /// `connected`: what a change of the password does to the clients
    /// connected (only with a password, as libvirt reads it).
    pub connected: Option<GraphicsConnected>,
    /// `keymap`: the keyboard layout of the server (`en-us`).
    pub keymap: Option<String>,
    /// `defaultMode` (SPICE).
    pub default_mode: Option<SpiceChannelMode>,
    /// `sharePolicy` (VNC): how clients share the display.
    pub share_policy: Option<VncSharePolicy>,
    /// `websocket` (VNC): the TCP port of the WebSocket listener (for
    /// browser clients such as noVNC); -1 means chosen at start, from
    /// 5700 up.
    pub websocket: Option<i32>,
    /// `powerControl='yes|no'` (VNC): clients may reset, reboot or shut
    /// down the guest (the XVP extension).
    pub power_control: Option<bool>,
    /// `<audio id=...>` (VNC): the `<audio>` backend whose sound VNC
    /// clients hear; `None` takes the first backend.
    pub audio: Option<u32>,
    /// The SPICE children.
    pub spice: SpiceOptions,
}

impl Graphics {
    /// A display of `kind` with nothing set: autoport on loopback.
    pub fn new(kind: GraphicsType) -> Graphics {
        Graphics {
            kind,
            port: None,
            tls_port: None,
            autoport: None,
            listen: None,
            listens: Vec::new(),
            passwd: None,
            passwd_valid_to: None,
            connected: None,
            keymap: None,
            default_mode: None,
            share_policy: None,
            websocket: None,
            power_control: None,
            audio: None,
            spice: SpiceOptions::default(),
        }
    }

    /// Whether the port is chosen at start: `autoport='yes'`, or no port
    /// (or -1) given.
    pub fn wants_autoport(&self) -> bool {
        self.autoport == Some(true) || self.port.is_none_or(|p| p < 0)
    }

    /// Whether the display listens on TCP: every listen (or none written)
    /// is an address, not a socket, nothing, or a network.
    pub fn listens_on_tcp(&self) -> bool {
        self.listens
            .iter()
            .all(|l| matches!(l, GraphicsListen::Address(_)))
    }

    /// The first address to listen on: the first `<listen type='address'>`
    /// with an address, else the `listen` attribute.
    pub fn listen_address(&self) -> Option<&str> {
        self.listens
            .iter()
            .find_map(|l| match l {
                GraphicsListen::Address(Some(a)) => Some(a.as_str()),
                _ => None,
            })
            .or(self.listen.as_deref())
    }
}

/// `<graphics><listen type=...>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphicsListen {
    /// `type='address' address=...`; without an address, the default one.
    Address(Option<String>),
    /// `type='socket' socket=...`: a UNIX socket; without a path, one in
    /// the domain's runtime directory.
    Socket(Option<String>),
    /// `type='none'`: no network listener at all.
    None,
    /// `type='network' network=...`: the address of a libvirt network
    /// (its bridge's), which the host must have when the domain starts.
    Network(String),
}

/// The children of a SPICE `<graphics>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpiceOptions {
    /// `<channel name= mode=>`, in order.
    pub channels: Vec<(SpiceChannelName, SpiceChannelMode)>,
    /// `<image compression=...>`.
    pub image_compression: Option<SpiceImageCompression>,
    /// `<jpeg compression=...>`.
    pub jpeg_compression: Option<SpiceWanCompression>,
    /// `<zlib compression=...>`.
    pub zlib_compression: Option<SpiceWanCompression>,
    /// `<playback compression='on|off'>`.
    pub playback_compression: Option<bool>,
    /// `<streaming mode=...>`.
    pub streaming: Option<SpiceStreaming>,
    /// `<clipboard copypaste='yes|no'>`.
    pub copypaste: Option<bool>,
    /// `<mouse mode=...>`.
    pub mouse_mode: Option<SpiceMouseMode>,
    /// `<filetransfer enable='yes|no'>`.
    pub filetransfer: Option<bool>,
    /// `<gl enable='yes|no' rendernode=...>`.
    pub gl: Option<SpiceGl>,
}

/// `<gl enable= rendernode=>` of SPICE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpiceGl {
    /// `enable`.
    pub enable: bool,
    /// `rendernode`: the DRM render node.
    pub rendernode: Option<String>,
}

/// `<graphics type='dbus'>`: QEMU's D-Bus display (`-display dbus`),
/// which D-Bus clients show and drive.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DbusDisplay {
    /// `p2p='yes'`: clients connect to QEMU directly (QMP's
    /// `add_client`), through no bus.
    pub p2p: bool,
    /// `address`: the bus QEMU joins; without it (and without `p2p`) a
    /// private bus the start runs beside QEMU, whose address the running
    /// domain's XML shows.
    pub address: Option<String>,
    /// `<gl enable rendernode>`: OpenGL rendering on a host GPU.
    pub gl: Option<SpiceGl>,
    /// `<audio id>`: the `<audio type='dbus'>` its clients hear.
    pub audio: Option<u32>,
}

/// `<graphics type='egl-headless'>` with its `<gl rendernode=...>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EglHeadless {
    /// `<gl rendernode=...>`: the host GPU's render node; the host's
    /// first is taken at start when absent.
    pub rendernode: Option<String>,
}
