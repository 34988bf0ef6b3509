//! `qemu-img`, the one tool that makes and inspects disk images: create,
//! `info --output=json`, resize, convert, check and internal snapshots
//! of images no QEMU has open.
//!
//! Every call states the image's format (`-f`), and a backing file's
//! (`-F`): qemu-img never guesses a format from an image's first bytes,
//! which a guest could have written. It runs from an argument vector,
//! never a shell; what it says on failure becomes the error's message.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};
use crate::model::{QcowCompat, VolumeFormat};

/// The qemu-img binary: the first in `$PATH`, else Debian's.
pub fn binary() -> PathBuf {
    crate::sys::process::find_program("qemu-img")
        .unwrap_or_else(|| PathBuf::from("/usr/bin/qemu-img"))
}

/// Runs qemu-img with `args`; its standard output on success. `what`
/// says what was being done, for the error.
fn run(args: &[OsString], what: &str) -> Result<String> {
    let out = Command::new(binary())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            Error::io(
                format!("cannot run qemu-img to {what} (is qemu-utils installed?)"),
                e,
            )
        })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said = stderr
        .lines()
        .map(|l| l.trim().trim_start_matches("qemu-img: "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let code = if said.contains("No space left on device") || said.contains("Disk quota exceeded") {
        ErrorCode::Io
    } else {
        ErrorCode::OperationFailed
    };
    Err(Error::new(
        code,
        format!(
            "cannot {what}: qemu-img: {}",
            if said.is_empty() {
                out.status.to_string()
            } else {
                said
            }
        ),
    ))
}

fn os(s: impl Into<OsString>) -> OsString {
    s.into()
}

/// How [`create`] makes an image.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// The image this one is an overlay of, with its format.
    pub backing: Option<(PathBuf, VolumeFormat)>,
    /// The qcow2 version.
    pub compat: Option<QcowCompat>,
    /// Allocate the whole image now (`preallocation=falloc`).
    pub preallocate: bool,
    /// Allocate a qcow2 image's metadata now, its data on write
    /// (`preallocation=metadata`); `preallocate` wins over it.
    pub preallocate_metadata: bool,
    /// Update a qcow2 image's reference counts lazily
    /// (`lazy_refcounts=on`, compat 1.1).
    pub lazy_refcounts: bool,
}

impl CreateOptions {
    /// The `-o` options of the new image's format (not its backing
    /// file, which has options of its own).
    fn format_options(&self) -> Vec<String> {
        let mut o = Vec::new();
        if let Some(c) = self.compat {
            o.push(format!("compat={}", c.as_str()));
        }
        if self.preallocate {
            o.push("preallocation=falloc".to_string());
        } else if self.preallocate_metadata {
            o.push("preallocation=metadata".to_string());
        }
        if self.lazy_refcounts {
            o.push("lazy_refcounts=on".to_string());
        }
        o
    }
}

/// Makes a new image at `path` of `size` bytes in `format`. qemu-img
/// refuses to replace nothing: the caller checks the path is free.
pub fn create(path: &Path, format: VolumeFormat, size: u64, opts: &CreateOptions) -> Result<()> {
    let mut args = vec![os("create"), os("-q"), os("-f"), os(format.as_str())];
    if let Some((backing, fmt)) = &opts.backing {
        args.extend([os("-b"), backing.clone().into_os_string()]);
        args.extend([os("-F"), os(fmt.as_str())]);
    }
    let o = opts.format_options();
    if !o.is_empty() {
        args.extend([os("-o"), os(o.join(","))]);
    }
    args.push(path.as_os_str().to_os_string());
    args.push(os(size.to_string()));
    run(&args, &format!("create {}", path.display())).map(drop)
}

/// What `qemu-img info` says of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// The size the guest sees, bytes.
    pub virtual_size: u64,
    /// Bytes the file takes on the host.
    pub actual_size: u64,
    /// The backing file, as recorded in the image, and its recorded
    /// format.
    pub backing: Option<(String, Option<String>)>,
    /// The internal snapshots' names.
    pub snapshots: Vec<String>,
    /// Whether a qcow2 image updates its reference counts lazily.
    pub lazy_refcounts: bool,
}

/// `qemu-img info --output=json -f FORMAT`. `shared`: open it while a
/// QEMU holds it (`-U`), as for an image of a running domain.
pub fn info(path: &Path, format: VolumeFormat, shared: bool) -> Result<ImageInfo> {
    let mut args = vec![
        os("info"),
        os("--output=json"),
        os("-f"),
        os(format.as_str()),
    ];
    if shared {
        args.push(os("-U"));
    }
    args.push(path.as_os_str().to_os_string());
    let text = run(&args, &format!("inspect {}", path.display()))?;
    parse_info(&text).ok_or_else(|| {
        Error::new(
            ErrorCode::OperationFailed,
            format!(
                "qemu-img info of {} said something unexpected",
                path.display()
            ),
        )
    })
}

/// Reads `qemu-img info --output=json`.
pub fn parse_info(text: &str) -> Option<ImageInfo> {
    let v: Value = serde_json::from_str(text).ok()?;
    let backing = v.get("backing-filename").and_then(Value::as_str).map(|b| {
        (
            b.to_string(),
            v.get("backing-filename-format")
                .and_then(Value::as_str)
                .map(str::to_string),
        )
    });
    let snapshots = v
        .get("snapshots")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|s| s.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Some(ImageInfo {
        virtual_size: v.get("virtual-size")?.as_u64()?,
        actual_size: v.get("actual-size").and_then(Value::as_u64).unwrap_or(0),
        backing,
        snapshots,
        lazy_refcounts: v
            .pointer("/format-specific/data/lazy-refcounts")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// Changes the virtual size of an image no QEMU has open; `shrink` must
/// be set to make it smaller.
pub fn resize(path: &Path, format: VolumeFormat, size: u64, shrink: bool) -> Result<()> {
    let mut args = vec![os("resize"), os("-q"), os("-f"), os(format.as_str())];
    if shrink {
        args.push(os("--shrink"));
    }
    args.push(path.as_os_str().to_os_string());
    args.push(os(size.to_string()));
    run(&args, &format!("resize {}", path.display())).map(drop)
}

/// Copies the image `from` (in `from_format`) to a new image `to` in
/// `to_format`, sparse, made with the format options of `opts` (its
/// backing file is not one: a copy stands alone).
pub fn convert(
    from: &Path,
    from_format: VolumeFormat,
    to: &Path,
    to_format: VolumeFormat,
    opts: &CreateOptions,
) -> Result<()> {
    let mut args = vec![
        os("convert"),
        os("-q"),
        os("-f"),
        os(from_format.as_str()),
        os("-O"),
        os(to_format.as_str()),
    ];
    let o = opts.format_options();
    if !o.is_empty() {
        args.extend([os("-o"), os(o.join(","))]);
    }
    args.extend([
        from.as_os_str().to_os_string(),
        to.as_os_str().to_os_string(),
    ]);
    run(
        &args,
        &format!("copy {} to {}", from.display(), to.display()),
    )
    .map(drop)
}

/// What an internal snapshot operation on a closed qcow2 image does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotOp {
    /// `-c`: take one.
    Create,
    /// `-a`: bring the image back to it.
    Apply,
    /// `-d`: delete it.
    Delete,
}

/// `qemu-img snapshot` on a qcow2 image no QEMU has open.
pub fn snapshot(path: &Path, op: SnapshotOp, name: &str) -> Result<()> {
    let (flag, what) = match op {
        SnapshotOp::Create => ("-c", "take snapshot"),
        SnapshotOp::Apply => ("-a", "revert to snapshot"),
        SnapshotOp::Delete => ("-d", "delete snapshot"),
    };
    // `qemu-img snapshot` has no `-f`: the format is stated through
    // `--image-opts` (a comma in the path doubled, so it adds no option).
    let Some(file) = path.to_str() else {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("{what} '{name}': {} is not UTF-8", path.display()),
        ));
    };
    let image = format!(
        "driver=qcow2,file.driver=file,file.filename={}",
        super::argv::escape(file)
    );
    let args = vec![
        os("snapshot"),
        os("-q"),
        os(flag),
        os(name),
        os("--image-opts"),
        OsString::from(image),
    ];
    run(&args, &format!("{what} '{name}' of {}", path.display())).map(drop)
}

/// `qemu-img check`: `Ok` when the image has no errors (leaked clusters
/// are not errors); `shared` as for [`info`].
pub fn check(path: &Path, format: VolumeFormat, shared: bool) -> Result<()> {
    let mut args = vec![os("check"), os("-q"), os("-f"), os(format.as_str())];
    if shared {
        args.push(os("-U"));
    }
    args.push(path.as_os_str().to_os_string());
    run(&args, &format!("check {}", path.display())).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_info_json() {
        let text = r#"{"snapshots":[{"name":"s1","id":"1"}],"virtual-size":1073741824,
            "filename":"/x.qcow2","format":"qcow2","actual-size":200704,
            "backing-filename":"/b.raw","backing-filename-format":"raw","dirty-flag":false}"#;
        let i = parse_info(text).unwrap();
        assert_eq!(i.virtual_size, 1 << 30);
        assert_eq!(i.actual_size, 200704);
        assert_eq!(i.backing, Some(("/b.raw".into(), Some("raw".into()))));
        assert_eq!(i.snapshots, ["s1"]);
        assert!(!i.lazy_refcounts);
        assert_eq!(parse_info("{}"), None);
        let lazy = r#"{"virtual-size":1,"format-specific":{"type":"qcow2",
            "data":{"compat":"1.1","lazy-refcounts":true}}}"#;
        assert!(parse_info(lazy).unwrap().lazy_refcounts);
    }
}
