//! The block nodes of network disks (libvirt's
//! qemuBlockStorageSourceGetBackendProps): the protocol node of each
//! protocol, with its credentials and the options of QEMU's curl
//! drivers, and the runtime files that hand secrets to QEMU.

use super::opts::Opts;
use super::{Ctx, invalid, unsupported};
use crate::error::Error;
use crate::model::{DiskHost, DiskProtocol, NetworkSource};

/// The protocol node of a network disk, as libvirt's
/// qemuBlockStorageSourceGetBackendProps builds it.
pub(super) fn network_node(n: &NetworkSource, t: &str) -> Result<Opts, Error> {
    if n.tls == Some(true) && n.protocol != DiskProtocol::Nbd {
        return Err(unsupported(format!(
            "disk '{t}': TLS (tls='yes') is supported for protocol 'nbd' only, not '{}'",
            n.protocol.as_str()
        )));
    }
    let host = |i: usize| -> Result<&DiskHost, Error> {
        n.hosts.get(i).ok_or_else(|| {
            invalid(format!(
                "disk '{t}': a {} disk needs a <host>",
                n.protocol.as_str()
            ))
        })
    };
    let name = |what: &str| -> Result<&str, Error> {
        n.name.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| {
            invalid(format!(
                "disk '{t}': a {} disk needs a name ({what})",
                n.protocol.as_str()
            ))
        })
    };
    let tcp_name = |h: &DiskHost| -> Result<String, Error> {
        h.name
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid(format!("disk '{t}': its <host> needs a name")))
    };
    Ok(match n.protocol {
        DiskProtocol::Nbd => {
            if n.hosts.len() != 1 {
                return Err(invalid(format!(
                    "disk '{t}': protocol 'nbd' accepts only one host"
                )));
            }
            let h = host(0)?;
            let o = Opts::empty().set("driver", "nbd");
            let o = match &h.socket {
                Some(sock) => {
                    o.set("server.type", "unix")
                        .set_user("server.path", "NBD socket", sock)?
                }
                None => o
                    .set("server.type", "inet")
                    .set_user("server.host", "NBD host", &tcp_name(h)?)?
                    .set("server.port", h.port.unwrap_or(10809)),
            };
            match n.name.as_deref().filter(|s| !s.is_empty()) {
                Some(export) => o.set_user("export", "NBD export", export)?,
                None => o,
            }
        }
        DiskProtocol::Http | DiskProtocol::Https | DiskProtocol::Ftp | DiskProtocol::Ftps => {
            if n.hosts.len() != 1 {
                return Err(invalid(format!(
                    "disk '{t}': protocol '{}' accepts only one host",
                    n.protocol.as_str()
                )));
            }
            let h = host(0)?;
            if h.socket.is_some() {
                return Err(invalid(format!(
                    "disk '{t}': protocol '{}' takes a TCP host, not a socket",
                    n.protocol.as_str()
                )));
            }
            let scheme = n.protocol.as_str();
            let mut url = format!("{scheme}://{}", tcp_name(h)?);
            if let Some(p) = h.port {
                url.push_str(&format!(":{p}"));
            }
            let path = name("the path")?;
            if !path.starts_with('/') {
                url.push('/');
            }
            url.push_str(path);
            if let Some(q) = &n.query {
                url.push('?');
                url.push_str(q);
            }
            Opts::empty()
                .set("driver", scheme)
                .set_user("url", "disk URL", &url)?
        }
        DiskProtocol::Iscsi => {
            let h = host(0)?;
            let full = name("target/LUN")?;
            let (target, lun) = match full.rsplit_once('/') {
                Some((target, lun)) => (target, lun),
                None => (full, "0"),
            };
            let lun: u32 = lun
                .parse()
                .map_err(|_| invalid(format!("disk '{t}': iSCSI LUN '{lun}' is not a number")))?;
            let o = Opts::empty()
                .set("driver", "iscsi")
                .set(
                    "portal",
                    format!("{}:{}", tcp_name(h)?, h.port.unwrap_or(3260)),
                )
                .set_user("target", "iSCSI target", target)?
                .set("lun", lun)
                .set("transport", "tcp");
            match &n.initiator {
                Some(iqn) => o.set_user("initiator-name", "iSCSI initiator name", iqn)?,
                None => o,
            }
        }
        DiskProtocol::Rbd => {
            let full = name("pool/image")?;
            let (pool, image) = full.split_once('/').ok_or_else(|| {
                invalid(format!(
                    "disk '{t}': an RBD name is 'pool/image', not '{full}'"
                ))
            })?;
            let (namespace, image) = match image.split_once('/') {
                Some((ns, img)) => (Some(ns), img),
                None => (None, image),
            };
            let mut o = Opts::empty()
                .set("driver", "rbd")
                .set_user("pool", "RBD pool", pool)?;
            if let Some(ns) = namespace {
                o = o.set_user("namespace", "RBD namespace", ns)?;
            }
            o = o.set_user("image", "RBD image", image)?;
            for (i, h) in n.hosts.iter().enumerate() {
                o = o
                    .set_user(&format!("server.{i}.host"), "RBD host", &tcp_name(h)?)?
                    .set(&format!("server.{i}.port"), h.port.unwrap_or(6789));
            }
            o
        }
    })
}

/// The file a network disk's secret value is handed to QEMU in: its run
/// directory (private to the manager and QEMU), written by the manager
/// before QEMU starts and gone with the run. Disk device id `id`.
pub fn disk_secret_file(run_dir: &std::path::Path, id: &str) -> std::path::PathBuf {
    run_dir.join(format!("secret-{id}"))
}

/// The file a LUKS disk's passphrase is handed to QEMU in, as
/// [`disk_secret_file`] for credentials.
pub fn disk_encryption_file(run_dir: &std::path::Path, id: &str) -> std::path::PathBuf {
    run_dir.join(format!("secret-{id}-encryption"))
}

/// The id of the QEMU `secret` object holding a LUKS disk's passphrase.
pub fn disk_encryption_id(id: &str) -> String {
    format!("{id}-encryption-secret")
}

/// Adds the `secret` object that reads disk `id`'s passphrase from
/// [`disk_encryption_file`]; its id.
pub(super) fn encryption_secret(cx: &mut Ctx<'_>, id: &str) -> Result<String, Error> {
    let file = disk_encryption_file(&cx.paths.runtime_dir, id);
    let secret = disk_encryption_id(id);
    let object = Opts::new("secret")
        .set("id", &secret)
        .set("format", "raw")
        .set("file", super::runtime_path("disk passphrase", &file)?);
    cx.arg("-object", object.build());
    Ok(secret)
}

/// The id of the QEMU `secret` object of disk device `id`.
pub fn disk_secret_id(id: &str) -> String {
    format!("{id}-auth-secret")
}

/// A network disk's credentials, as libvirt's
/// qemuBlockStorageSourceGetBackendProps passes them: a `secret` object
/// that reads the value from [`disk_secret_file`] (never on the command
/// line), and the protocol node's user and secret options.
pub(super) fn with_credentials(
    cx: &mut Ctx<'_>,
    o: Opts,
    n: &NetworkSource,
    auth: &crate::model::DiskAuth,
    id: &str,
) -> Result<Opts, Error> {
    let file = disk_secret_file(&cx.paths.runtime_dir, id);
    let secret = disk_secret_id(id);
    let object = Opts::new("secret")
        .set("id", &secret)
        .set("format", "raw")
        .set("file", super::runtime_path("disk secret", &file)?);
    cx.arg("-object", object.build());
    let user = |key: &str| o.clone().set_user(key, "<auth> username", &auth.username);
    Ok(match n.protocol {
        DiskProtocol::Iscsi => user("user")?.set("password-secret", &secret),
        DiskProtocol::Rbd => user("user")?
            .set("auth-client-required.0", "cephx")
            .set("auth-client-required.1", "none")
            .set("key-secret", &secret),
        DiskProtocol::Http | DiskProtocol::Https | DiskProtocol::Ftp | DiskProtocol::Ftps => {
            user("username")?.set("password-secret", &secret)
        }
        DiskProtocol::Nbd => {
            return Err(unsupported(format!(
                "disk '{}': authentication is not supported for protocol 'nbd'",
                id
            )));
        }
    })
}

/// The file an HTTP(S) disk's cookies are handed to QEMU in, as
/// [`disk_secret_file`] for credentials (cookies may carry a session).
pub fn disk_cookie_file(run_dir: &std::path::Path, id: &str) -> std::path::PathBuf {
    run_dir.join(format!("secret-{id}-cookies"))
}

/// The cookies of a network disk in the form QEMU's curl driver sends
/// them (libvirt's qemuBlockStorageSourceGetCookieString): `name=value`
/// joined by `; `; `None` without cookies.
pub fn disk_cookie_string(n: &NetworkSource) -> Option<String> {
    if n.cookies.is_empty() {
        return None;
    }
    let parts: Vec<String> = n.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Some(parts.join("; "))
}

/// The options of QEMU's curl drivers, as libvirt's
/// qemuBlockStorageSourceGetCURLProps sets them: `sslverify`, the
/// cookies through a `secret` object reading [`disk_cookie_file`]
/// (never on the command line), `timeout` and `readahead`.
pub(super) fn curl_options(
    cx: &mut Ctx<'_>,
    o: Opts,
    n: &NetworkSource,
    id: &str,
) -> Result<Opts, Error> {
    let o = o.maybe_switch("sslverify", n.ssl_verify);
    let o = if n.cookies.is_empty() {
        o
    } else {
        let file = disk_cookie_file(&cx.paths.runtime_dir, id);
        let secret = format!("{id}-httpcookie-secret");
        let object = Opts::new("secret")
            .set("id", &secret)
            .set("format", "raw")
            .set("file", super::runtime_path("disk cookies", &file)?);
        cx.arg("-object", object.build());
        o.set("cookie-secret", &secret)
    };
    Ok(o.maybe("timeout", n.timeout)
        .maybe("readahead", n.readahead))
}

/// NBD over TLS, as libvirt's qemuBlockStorageSourceGetNBDProps passes
/// it: a `tls-creds-x509` client object on the certificates directory
/// ([`super::RuntimePaths::nbd_tls_dir`]), checking the server's
/// certificate (`verify-peer`), and `tls-hostname` when the certificate
/// names another host than the one connected to.
pub(super) fn tls_options(
    cx: &mut Ctx<'_>,
    o: Opts,
    n: &NetworkSource,
    id: &str,
    target: &str,
) -> Result<Opts, Error> {
    if n.tls != Some(true) {
        return Ok(o);
    }
    let Some(dir) = cx.paths.nbd_tls_dir.clone() else {
        return Err(unsupported(format!(
            "disk '{target}': NBD over TLS (tls='yes') needs the directory of the client's TLS certificates, and none is configured"
        )));
    };
    let creds = format!("{id}-storage-tls0");
    let object =
        super::opts::tls_creds_x509(&creds, &dir, "NBD TLS certificates directory", false)?;
    cx.arg("-object", object.build());
    let o = o.set("tls-creds", &creds);
    match &n.tls_hostname {
        Some(h) => o.set_user("tls-hostname", "NBD tlsHostname", h),
        None => Ok(o),
    }
}
