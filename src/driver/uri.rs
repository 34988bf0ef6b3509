//! Connection URIs, as libvirt spells them, and `connect`.
//!
//! | URI | driver |
//! |---|---|
//! | `qemu:///embed?root=DIR` | in-process, state under DIR |
//! | `qemu:///session` | the user's daemon, started on demand |
//! | `qemu:///system` | the host's daemon (read-only socket unless root) |
//! | `qemu+unix:///session?socket=PATH` (or `/system`) | a daemon at PATH |
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
}

/// Parses `uri`.
pub fn parse(uri: &str) -> Result<Target> {
    let bad = |why: &str| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("cannot use URI '{uri}': {why}"),
        )
    };
    let (unix, rest) = if let Some(rest) = uri.strip_prefix("qemu+unix:///") {
        (true, rest)
    } else if let Some(rest) = uri.strip_prefix("qemu:///") {
        (false, rest)
    } else {
        return Err(bad(
            "qvirt URIs start with qemu:/// or qemu+unix:/// (e.g. qemu:///session)",
        ));
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let params: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    if unix {
        if path != "session" && path != "system" {
            return Err(bad("qemu+unix URIs name /session or /system"));
        }
        let mut socket = None;
        for (k, v) in params {
            match k {
                "socket" => socket = Some(percent_decode(v).map_err(|e| bad(&e))?),
                other => return Err(bad(&format!("unknown parameter '{other}'"))),
            }
        }
        return match socket {
            Some(p) if !p.is_empty() => Ok(Target::Socket {
                path: PathBuf::from(p),
            }),
            _ => Ok(if path == "session" {
                Target::Session
            } else {
                Target::System
            }),
        };
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
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument, "{bad}");
            assert!(err.message.contains(bad), "{}", err.message);
        }
    }
}
