//! Connection URIs, as libvirt spells them, and `connect`.
//!
//! | URI | driver |
//! |---|---|
//! | `qemu:///embed?root=DIR` | in-process, state under DIR |
//! | `qemu:///session` | the user's daemon, started on demand |
//! | `qemu:///system` | the host's daemon (read-only socket unless root) |
//! | `qemu+unix:///session?socket=PATH` (or `/system`) | a daemon at PATH |
//! | `qemu+ssh://[user@]host[:port]/session` (or `/system`) | a daemon on another host, through OpenSSH |
//! | `qemu:///session?proto=libvirt` (or `/system`) | the daemon's libvirt socket (`libvirt-sock`, `libvirt-sock-ro` as above), over libvirt's protocol |
//! | `qemu+unix:///session?socket=PATH&proto=libvirt` | a daemon (qvirtd or libvirtd) at PATH, over libvirt's protocol |
//! | `qemu+unix:///system?socket=/run/libvirt/libvirt-sock` | the same: a socket named `libvirt-sock` or `libvirt-sock-ro` is libvirt's unless `proto=qvirt` says otherwise |
//! | `qemu+ssh://host/system?proto=libvirt` | the remote daemon's libvirt socket, through `qvirtd --proto libvirt --proxy` |
//!
//! `proto=qvirt|libvirt` (default `qvirt`, except for a socket named as
//! libvirt names its own) picks the protocol; the libvirt one is
//! `LvDriver`, which makes the calls virsh makes.
//!
//! `qemu+ssh` takes libvirt's parameters for its `ssh` transport:
//!
//! | parameter | meaning | default |
//! |---|---|---|
//! | `keyfile=PATH` | `ssh -i PATH` | ssh's own choice |
//! | `no_verify=1` | `-o StrictHostKeyChecking=no`: an unknown host key is accepted | `0`: ssh's config decides |
//! | `no_tty=1` | `-o BatchMode=yes`: ssh never asks for a password or passphrase | `0` |
//! | `command=PATH` | the ssh program | `ssh` from `$PATH` |
//! | `socket=PATH` | the daemon's socket on the remote host | the URI's instance there |
//! | `known_hosts=PATH` | `-o UserKnownHostsFile=PATH` | ssh's config decides |
//! | `proto=qvirt\|libvirt` | whose protocol qvirt speaks, and whose socket the remote proxy reaches | `qvirt` |
//!
//! libvirt's other parameters (`netcat`, `proxy`, `mode`, `sshauth`,
//! `known_hosts_verify`, ...) belong to transports qvirt does not have and
//! are refused by name, as is anything unknown.
//!
//! Parsing only: `crate::connect` opens the driver a URI names.

use std::path::PathBuf;

use super::error::{Error, ErrorCode, Result};

/// A parsed connection URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `qemu:///embed?root=DIR`.
    Embed {
        /// The state directory.
        root: PathBuf,
    },
    /// `qemu:///session`: the user's daemon.
    Session,
    /// `qemu:///system`: the host's daemon.
    System,
    /// `qemu+unix:///session?socket=PATH` or `/system`: a daemon at PATH.
    Socket {
        /// The socket.
        path: PathBuf,
    },
    /// `qemu+ssh://[user@]host[:port]/session` or `/system`.
    Ssh(Box<SshTarget>),
    /// A local daemon (`Session`, `System` or `Socket`) reached over
    /// libvirt's protocol: `proto=libvirt`, or a `socket=` path named
    /// `libvirt-sock` or `libvirt-sock-ro`.
    Libvirt(Box<Target>),
}

/// Which daemon instance a remote URI names on its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteInstance {
    /// `/session`: the remote user's daemon, started there on demand.
    Session,
    /// `/system`: the remote host's daemon (its read-only socket unless
    /// the remote user is root).
    System,
}

/// Whose protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Proto {
    /// qvirt's own (the default).
    #[default]
    Qvirt,
    /// libvirt's RPC protocol, on the daemon's libvirt sockets.
    Libvirt,
}

impl Proto {
    /// The name URIs and `qvirtd --proxy --proto` use.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Qvirt => "qvirt",
            Proto::Libvirt => "libvirt",
        }
    }
}

/// A parsed `qemu+ssh://` URI: where to run ssh to, and with what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    /// The remote login (`-l`); ssh's default when `None`.
    pub user: Option<String>,
    /// The host as ssh should see it (an alias of `~/.ssh/config` works);
    /// `localhost` when the URI names none, as libvirt does.
    pub host: String,
    /// The port (`-p`); ssh's default when `None`.
    pub port: Option<u16>,
    /// The instance on the remote host.
    pub instance: RemoteInstance,
    /// `socket=`: an explicit socket on the remote host.
    pub socket: Option<PathBuf>,
    /// `keyfile=`.
    pub keyfile: Option<PathBuf>,
    /// `no_verify=1`.
    pub no_verify: bool,
    /// `no_tty=1`.
    pub no_tty: bool,
    /// `command=`: the ssh program.
    pub command: Option<PathBuf>,
    /// `known_hosts=`.
    pub known_hosts: Option<PathBuf>,
    /// `proto=`.
    pub proto: Proto,
}

impl SshTarget {
    /// The URI `qvirtd --proxy` is given on the remote host: the local
    /// form of this one there (`qemu:///system`, or with `socket=`,
    /// `qemu+unix:///system?socket=PATH`).
    pub fn proxy_uri(&self) -> String {
        let instance = match self.instance {
            RemoteInstance::System => "system",
            RemoteInstance::Session => "session",
        };
        match &self.socket {
            Some(path) => format!(
                "qemu+unix:///{instance}?socket={}",
                percent_encode(path.as_os_str().as_encoded_bytes())
            ),
            None => format!("qemu:///{instance}"),
        }
    }
}

/// Escapes every byte a URI value cannot hold as it is (`%XX`).
pub fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// libvirt's parameters of transports qvirt does not have.
const LIBVIRT_ONLY: [&str; 10] = [
    "netcat",
    "proxy",
    "mode",
    "sshauth",
    "known_hosts_verify",
    "pkipath",
    "tls_priority",
    "no_sanity",
    "name",
    "auth",
];

/// Parses `uri`.
pub fn parse(uri: &str) -> Result<Target> {
    let bad = |why: &str| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("cannot use URI '{uri}': {why}"),
        )
    };
    if let Some(rest) = uri.strip_prefix("qemu+ssh://") {
        return parse_ssh(rest)
            .map(|t| Target::Ssh(Box::new(t)))
            .map_err(|e| bad(&e));
    }
    let (unix, rest) = if let Some(rest) = uri.strip_prefix("qemu+unix:///") {
        (true, rest)
    } else if let Some(rest) = uri.strip_prefix("qemu:///") {
        (false, rest)
    } else {
        return Err(bad(
            "qvirt URIs start with qemu:///, qemu+unix:/// or qemu+ssh:// (e.g. qemu:///session)",
        ));
    };
    let (path, params) = split_query(rest);
    if unix {
        if path != "session" && path != "system" {
            return Err(bad("qemu+unix URIs name /session or /system"));
        }
        let mut socket = None;
        let mut proto = None;
        for (k, v) in params {
            match k {
                "socket" => socket = Some(percent_decode(v).map_err(|e| bad(&e))?),
                "proto" => proto = Some(parse_proto(v).map_err(|e| bad(&e))?),
                other => return Err(bad(&format!("unknown parameter '{other}'"))),
            }
        }
        let target = match socket {
            Some(p) if !p.is_empty() => Target::Socket {
                path: PathBuf::from(p),
            },
            _ => {
                if path == "session" {
                    Target::Session
                } else {
                    Target::System
                }
            }
        };
        // A socket libvirt names as its own speaks libvirt's protocol,
        // as a libvirt user who names it expects.
        let libvirt_named = matches!(&target, Target::Socket { path }
            if path.file_name().is_some_and(|n| n == "libvirt-sock" || n == "libvirt-sock-ro"));
        return Ok(match proto {
            Some(Proto::Libvirt) => Target::Libvirt(Box::new(target)),
            None if libvirt_named => Target::Libvirt(Box::new(target)),
            _ => target,
        });
    }
    if matches!(path, "session" | "system") {
        let mut proto = Proto::Qvirt;
        for (k, v) in &params {
            match *k {
                "proto" => proto = parse_proto(v).map_err(|e| bad(&e))?,
                other => return Err(bad(&format!("unknown parameter '{other}'"))),
            }
        }
        let target = if path == "session" {
            Target::Session
        } else {
            Target::System
        };
        return Ok(match proto {
            Proto::Libvirt => Target::Libvirt(Box::new(target)),
            Proto::Qvirt => target,
        });
    }
    if path != "embed" && !params.is_empty() {
        return Err(bad("only embed takes parameters"));
    }
    match path {
        "embed" => {
            let mut root = None;
            for (k, v) in params {
                match k {
                    "root" => root = Some(percent_decode(v).map_err(|e| bad(&e))?),
                    other => return Err(bad(&format!("unknown parameter '{other}'"))),
                }
            }
            let root = root.ok_or_else(|| bad("embed needs root=DIR"))?;
            if root.is_empty() {
                return Err(bad("root is empty"));
            }
            let root = PathBuf::from(root);
            let root = if root.is_absolute() {
                root
            } else {
                std::env::current_dir()
                    .map_err(|e| Error::io("cannot read the current directory", e))?
                    .join(root)
            };
            Ok(Target::Embed { root })
        }
        "session" => Ok(Target::Session),
        "system" => Ok(Target::System),
        other => Err(bad(&format!(
            "unknown path '/{other}' (use /embed?root=DIR, /session or /system)"
        ))),
    }
}

/// The URI of the same daemon over qvirt's protocol, for a URI that
/// names a qvirtd over libvirt's (a migration's destination, as a libvirt
/// client names it): `socket=DIR/libvirt-sock` becomes `DIR/qvirt-sock`,
/// the qvirt socket beside it, and `proto=libvirt` goes. Any other URI is
/// returned as it is. A read-only socket is refused: a migration changes
/// the destination.
pub fn own_protocol_uri(uri: &str) -> Result<String> {
    let libvirt = match parse(uri)? {
        Target::Libvirt(_) => true,
        Target::Ssh(t) => {
            t.proto == Proto::Libvirt
                || t.socket.as_ref().is_some_and(|p| {
                    p.file_name()
                        .is_some_and(|n| n == "libvirt-sock" || n == "libvirt-sock-ro")
                })
        }
        _ => false,
    };
    if !libvirt {
        return Ok(uri.to_string());
    }
    let (head, query) = uri.split_once('?').unwrap_or((uri, ""));
    let mut kept = Vec::new();
    for param in query.split('&').filter(|p| !p.is_empty()) {
        match param.split_once('=') {
            Some(("proto", _)) => {}
            Some(("socket", v)) => {
                let path = percent_decode(v).map_err(|e| {
                    Error::new(
                        ErrorCode::InvalidArgument,
                        format!("cannot use URI '{uri}': {e}"),
                    )
                })?;
                let path = if let Some(dir) = path.strip_suffix("/libvirt-sock") {
                    format!("{dir}/qvirt-sock")
                } else if path.ends_with("/libvirt-sock-ro") {
                    return Err(Error::new(
                        ErrorCode::InvalidArgument,
                        format!(
                            "cannot use URI '{uri}' for a migration: it names a read-only socket, and a migration changes the destination"
                        ),
                    ));
                } else {
                    return Err(Error::new(
                        ErrorCode::NoSupport,
                        format!(
                            "cannot use URI '{uri}' for a migration: it speaks libvirt's protocol on a socket qvirt cannot match to a qvirt manager; qvirt migrates between qvirt managers (name the destination's qvirt-sock or libvirt-sock)"
                        ),
                    ));
                };
                kept.push(format!("socket={}", percent_encode(path.as_bytes())));
            }
            _ => kept.push(param.to_string()),
        }
    }
    let own = if kept.is_empty() {
        head.to_string()
    } else {
        format!("{head}?{}", kept.join("&"))
    };
    // A socket qvirt's protocol is spoken on, checked.
    match parse(&own)? {
        Target::Libvirt(_) => Err(Error::new(
            ErrorCode::Internal,
            format!("'{own}' still names libvirt's protocol"),
        )),
        _ => Ok(own),
    }
}

/// `proto=`'s value.
fn parse_proto(v: &str) -> std::result::Result<Proto, String> {
    match v {
        "qvirt" => Ok(Proto::Qvirt),
        "libvirt" => Ok(Proto::Libvirt),
        other => Err(format!("unknown proto '{other}' (qvirt or libvirt)")),
    }
}

/// Splits `path?a=1&b=2` into the path and its parameters.
fn split_query(rest: &str) -> (&str, Vec<(&str, &str)>) {
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let params = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    (path, params)
}

/// Parses what follows `qemu+ssh://`; the error says why it is refused.
fn parse_ssh(rest: &str) -> std::result::Result<SshTarget, String> {
    let (authority, rest) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (path, params) = split_query(rest);
    let instance = match path {
        "/system" => RemoteInstance::System,
        "/session" => RemoteInstance::Session,
        "" | "/" => return Err("name the remote instance: /system or /session".into()),
        other => {
            return Err(format!(
                "unknown path '{other}' (qemu+ssh URIs name /system or /session)"
            ));
        }
    };
    let (user, hostport) = match authority.rsplit_once('@') {
        Some(("", h)) => return Err(format!("empty user before '@{h}'")),
        Some((u, h)) => (Some(percent_decode(u)?), h),
        None => (None, authority),
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or("an IPv6 host in '[' lacks its ']'")?;
        match after {
            "" => (host.to_string(), None),
            p => (
                host.to_string(),
                Some(p.strip_prefix(':').ok_or("junk after ']'")?),
            ),
        }
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (hostport.to_string(), None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(format!("bad port '{p}' (1-65535)")),
        },
    };
    let host = percent_decode(&host)?;
    // ssh would read a host or user that starts with '-' as an option.
    if host.starts_with('-') || user.as_deref().is_some_and(|u| u.starts_with('-')) {
        return Err("a host or user may not start with '-'".into());
    }
    let mut t = SshTarget {
        user,
        host: if host.is_empty() {
            "localhost".into()
        } else {
            host
        },
        port,
        instance,
        socket: None,
        keyfile: None,
        no_verify: false,
        no_tty: false,
        command: None,
        known_hosts: None,
        proto: Proto::Qvirt,
    };
    for (k, v) in params {
        let path = |v: &str| -> std::result::Result<PathBuf, String> {
            let p = percent_decode(v)?;
            if p.is_empty() {
                return Err(format!("{k} is empty"));
            }
            Ok(PathBuf::from(p))
        };
        match k {
            "socket" => t.socket = Some(path(v)?),
            "keyfile" => t.keyfile = Some(path(v)?),
            "command" => t.command = Some(path(v)?),
            "known_hosts" => t.known_hosts = Some(path(v)?),
            "no_verify" => t.no_verify = flag(k, v)?,
            "no_tty" => t.no_tty = flag(k, v)?,
            "proto" => {
                t.proto = match v {
                    "qvirt" => Proto::Qvirt,
                    "libvirt" => Proto::Libvirt,
                    other => return Err(format!("unknown proto '{other}' (qvirt or libvirt)")),
                }
            }
            other if LIBVIRT_ONLY.contains(&other) => {
                return Err(format!(
                    "parameter '{other}' belongs to a libvirt transport that qvirt does not have"
                ));
            }
            other => return Err(format!("unknown parameter '{other}'")),
        }
    }
    if t.socket.as_ref().is_some_and(|s| !s.is_absolute()) {
        return Err("socket must be an absolute path on the remote host".into());
    }
    Ok(t)
}

/// A libvirt boolean parameter: an integer, true unless 0.
fn flag(name: &str, value: &str) -> std::result::Result<bool, String> {
    value
        .parse::<i64>()
        .map(|n| n != 0)
        .map_err(|_| format!("{name} takes 0 or 1, not '{value}'"))
}

/// Decodes `%XX` escapes.
fn percent_decode(s: &str) -> std::result::Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad escape at byte {i}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the decoded value is not UTF-8".to_string())
}

/// The URI used when none is given: `QVIRT_DEFAULT_URI`, else
/// `LIBVIRT_DEFAULT_URI` (a libvirt user's shell may set it), else
/// `qemu:///system` for root and `qemu:///session` for anyone else.
pub fn default_uri() -> String {
    for var in ["QVIRT_DEFAULT_URI", "LIBVIRT_DEFAULT_URI"] {
        if let Ok(uri) = std::env::var(var)
            && !uri.is_empty()
        {
            return uri;
        }
    }
    if nix::unistd::geteuid().is_root() {
        "qemu:///system".to_string()
    } else {
        "qemu:///session".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_migration_reaches_a_qvirtd_named_by_its_libvirt_socket_on_its_own() {
        let own = |u: &str| own_protocol_uri(u).unwrap();
        assert_eq!(
            own("qemu+unix:///system?socket=/run/b/libvirt-sock"),
            "qemu+unix:///system?socket=/run/b/qvirt-sock"
        );
        assert_eq!(own("qemu:///session?proto=libvirt"), "qemu:///session");
        assert_eq!(
            own("qemu+ssh://root@h/system?socket=/run/qvirt/libvirt-sock&no_verify=1"),
            "qemu+ssh://root@h/system?socket=/run/qvirt/qvirt-sock&no_verify=1"
        );
        assert_eq!(
            own("qemu+ssh://h:2222/system?proto=libvirt"),
            "qemu+ssh://h:2222/system"
        );
        for same in [
            "qemu+unix:///session?socket=/tmp/x/qvirt-sock",
            "qemu+ssh://h/system",
            "qemu:///system",
        ] {
            assert_eq!(own(same), same);
        }
        let err =
            own_protocol_uri("qemu+unix:///system?socket=/run/b/libvirt-sock-ro").unwrap_err();
        assert!(err.message.contains("read-only"), "{err}");
        let err =
            own_protocol_uri("qemu+unix:///system?socket=/run/b/other&proto=libvirt").unwrap_err();
        assert_eq!(err.code, ErrorCode::NoSupport, "{err}");
    }

    #[test]
    fn proto_libvirt_picks_libvirts_protocol() {
        let lv = |t: Target| Target::Libvirt(Box::new(t));
        let sock = |p: &str| Target::Socket {
            path: PathBuf::from(p),
        };
        assert_eq!(
            parse("qemu:///session?proto=libvirt").unwrap(),
            lv(Target::Session)
        );
        assert_eq!(
            parse("qemu:///system?proto=libvirt").unwrap(),
            lv(Target::System)
        );
        assert_eq!(parse("qemu:///system?proto=qvirt").unwrap(), Target::System);
        assert_eq!(
            parse("qemu+unix:///system?socket=/tmp/s&proto=libvirt").unwrap(),
            lv(sock("/tmp/s"))
        );
        // libvirt's own socket names need no proto=, unless it says qvirt.
        assert_eq!(
            parse("qemu+unix:///system?socket=/run/libvirt/libvirt-sock").unwrap(),
            lv(sock("/run/libvirt/libvirt-sock"))
        );
        assert_eq!(
            parse("qemu+unix:///system?socket=/run/libvirt/libvirt-sock-ro").unwrap(),
            lv(sock("/run/libvirt/libvirt-sock-ro"))
        );
        assert_eq!(
            parse("qemu+unix:///system?socket=/x/libvirt-sock&proto=qvirt").unwrap(),
            sock("/x/libvirt-sock")
        );
        for bad in [
            "qemu:///session?proto=xdr",
            "qemu:///session?socket=/x",
            "qemu+unix:///session?proto=",
        ] {
            assert_eq!(
                parse(bad).unwrap_err().code,
                ErrorCode::InvalidArgument,
                "{bad}"
            );
        }
    }

    #[test]
    fn parses_the_uris() {
        assert_eq!(
            parse("qemu:///embed?root=/tmp/x%20y").unwrap(),
            Target::Embed {
                root: PathBuf::from("/tmp/x y")
            }
        );
        assert_eq!(parse("qemu:///session").unwrap(), Target::Session);
        assert_eq!(
            parse("qemu+unix:///session?socket=/tmp/s").unwrap(),
            Target::Socket {
                path: PathBuf::from("/tmp/s")
            }
        );
        assert_eq!(parse("qemu+unix:///system").unwrap(), Target::System);
        assert_eq!(parse("qemu:///system").unwrap(), Target::System);
        for bad in [
            "xen:///system",
            "qemu:///embed",
            "qemu:///embed?root=",
            "qemu:///embed?root=/a&x=1",
            "qemu:///other",
            "qemu:///embed?root=%zz",
            "qemu:///session?x=1",
            "qemu+unix:///other?socket=/s",
            "qemu+ssh://host",
            "qemu+ssh://host/",
            "qemu+ssh://host/embed",
            "qemu+ssh://host:0/system",
            "qemu+ssh://host:99999/system",
            "qemu+ssh://host:x/system",
            "qemu+ssh://@host/system",
            "qemu+ssh://-oProxyCommand=x/system",
            "qemu+ssh://-l@host/system",
            "qemu+ssh://[::1/system",
            "qemu+ssh://host/system?no_verify=yes",
            "qemu+ssh://host/system?netcat=nc",
            "qemu+ssh://host/system?proxy=native",
            "qemu+ssh://host/system?root=/x",
            "qemu+ssh://host/system?proto=xdr",
            "qemu+ssh://host/system?socket=relative",
            "qemu+ssh://host/system?keyfile=",
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument, "{bad}");
            assert!(err.message.contains(bad), "{}", err.message);
        }
    }

    fn ssh(uri: &str) -> SshTarget {
        match parse(uri).unwrap() {
            Target::Ssh(t) => *t,
            other => panic!("{uri}: {other:?}"),
        }
    }

    #[test]
    fn parses_ssh_uris() {
        let t = ssh("qemu+ssh://tester@10.0.0.2:2222/system");
        assert_eq!(t.user.as_deref(), Some("tester"));
        assert_eq!(t.host, "10.0.0.2");
        assert_eq!(t.port, Some(2222));
        assert_eq!(t.instance, RemoteInstance::System);
        assert_eq!(t.proxy_uri(), "qemu:///system");
        assert!(!t.no_verify && !t.no_tty);
        assert_eq!(t.proto, Proto::Qvirt);

        let t = ssh("qemu+ssh:///session");
        assert_eq!(
            (t.user.as_deref(), t.host.as_str(), t.port),
            (None, "localhost", None)
        );
        assert_eq!(t.proxy_uri(), "qemu:///session");

        let t = ssh("qemu+ssh://[fe80::1%25eth0]:22/system");
        assert_eq!((t.host.as_str(), t.port), ("fe80::1%eth0", Some(22)));

        let t = ssh(
            "qemu+ssh://u%40x@h/session?keyfile=/k%20ey&no_verify=1&no_tty=5\
             &command=/usr/bin/ssh&socket=/tmp/a%20b/qvirt-sock&known_hosts=/kh&proto=libvirt",
        );
        assert_eq!(t.user.as_deref(), Some("u@x"));
        assert_eq!(t.keyfile, Some(PathBuf::from("/k ey")));
        assert!(t.no_verify && t.no_tty);
        assert_eq!(t.command, Some(PathBuf::from("/usr/bin/ssh")));
        assert_eq!(t.known_hosts, Some(PathBuf::from("/kh")));
        assert_eq!(t.proto, Proto::Libvirt);
        assert_eq!(
            t.proxy_uri(),
            "qemu+unix:///session?socket=/tmp/a%20b/qvirt-sock"
        );
        // The proxy's URI parses back to the same socket on the far side.
        assert_eq!(
            parse(&t.proxy_uri()).unwrap(),
            Target::Socket {
                path: PathBuf::from("/tmp/a b/qvirt-sock")
            }
        );
        assert!(!ssh("qemu+ssh://h/system?no_verify=0").no_verify);
    }
}
