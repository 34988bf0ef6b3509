//! Connection URIs, as libvirt spells them, and `connect`.
//!
//! | URI | driver |
//! |---|---|
//! | `qemu:///embed?root=DIR` | in-process, state under DIR |
//! | `qemu:///session`, `qemu:///system` | the daemons (not in this build) |

use std::path::PathBuf;

use super::Driver;
use super::error::{Error, ErrorCode, Result};
use super::local::LocalDriver;

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
}

/// Parses `uri`.
pub fn parse(uri: &str) -> Result<Target> {
    let bad = |why: &str| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("cannot use URI '{uri}': {why}"),
        )
    };
    let rest = uri
        .strip_prefix("qemu:///")
        .ok_or_else(|| bad("qvirt URIs start with qemu:/// (e.g. qemu:///embed?root=DIR)"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let params: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
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

/// The URI used when none is given: `QVIRT_DEFAULT_URI`, else the
/// embedded state under `$XDG_DATA_HOME/qvirt/embed` (or
/// `~/.local/share/qvirt/embed`).
pub fn default_uri() -> String {
    if let Ok(uri) = std::env::var("QVIRT_DEFAULT_URI")
        && !uri.is_empty()
    {
        return uri;
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("/var/lib"));
    format!("qemu:///embed?root={}", data.join("qvirt/embed").display())
}

/// Opens a driver for `uri`.
pub fn connect(uri: &str) -> Result<Box<dyn Driver>> {
    match parse(uri)? {
        Target::Embed { root } => Ok(Box::new(LocalDriver::open_embedded(&root)?)),
        Target::Session | Target::System => Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "cannot connect to {uri}: this build has no daemon; use qemu:///embed?root=DIR"
            ),
        )),
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
        assert_eq!(parse("qemu:///system").unwrap(), Target::System);
        for bad in [
            "xen:///system",
            "qemu:///embed",
            "qemu:///embed?root=",
            "qemu:///embed?root=/a&x=1",
            "qemu:///other",
            "qemu:///embed?root=%zz",
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument, "{bad}");
            assert!(err.message.contains(bad), "{}", err.message);
        }
    }
}
