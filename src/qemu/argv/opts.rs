//! QEMU's `key=value,key=value` option syntax, built so that no string can
//! add an option: every value goes through [`escape`], which doubles each
//! comma (QEMU reads `,,` as a literal comma in QemuOpts and keyval alike).
//!
//! Knows nothing of domains; [`user`] is the one gate for strings that come
//! from a definition.

use super::unsupported;
use crate::error::{Error, ErrorCode};
use crate::model::VirtioOptions;

/// Escapes `value` for a QEMU option value: `,` becomes `,,`.
pub fn escape(value: &str) -> String {
    value.replace(',', ",,")
}

/// Checks a string taken from the definition before it enters the command
/// line. `what` names it in the error (`disk source`, `serial path`).
///
/// A NUL byte cannot be passed in an argument at all, and an empty value
/// would silently mean "no value" to QEMU, so both are refused.
pub fn user<'a>(what: &str, value: &'a str) -> Result<&'a str, Error> {
    if value.contains('\0') {
        return Err(Error::new(
            ErrorCode::ConfigInvalid,
            format!("the {what} contains a NUL character"),
        ));
    }
    if value.is_empty() {
        return Err(Error::new(
            ErrorCode::ConfigInvalid,
            format!("the {what} is empty"),
        ));
    }
    Ok(value)
}

/// One option value under construction, e.g. the text after `-device`.
///
/// Every value is escaped, including the ones qvirt makes itself (ids,
/// numbers), so there is no unescaped path to forget.
#[derive(Debug, Default, Clone)]
pub struct Opts {
    text: String,
}

impl Opts {
    /// Starts with an implied first value (`virtio-blk-pci`, `socket`).
    pub fn new(first: &str) -> Opts {
        Opts {
            text: escape(first),
        }
    }

    /// Starts with nothing: the first item will be a `key=value`.
    pub fn empty() -> Opts {
        Opts::default()
    }

    /// Appends `key=value`; `value` is escaped.
    pub fn set(mut self, key: &str, value: impl std::fmt::Display) -> Opts {
        debug_assert!(
            !key.contains([',', '=']),
            "option keys are qvirt's own constants"
        );
        if !self.text.is_empty() {
            self.text.push(',');
        }
        self.text.push_str(key);
        self.text.push('=');
        self.text.push_str(&escape(&value.to_string()));
        self
    }

    /// Appends `key=value` for a string from the definition, checked by
    /// [`user`]; `what` names it in the error.
    pub fn set_user(self, key: &str, what: &str, value: &str) -> Result<Opts, Error> {
        Ok(self.set(key, user(what, value)?))
    }

    /// Appends `key=on` or `key=off`.
    pub fn switch(self, key: &str, on: bool) -> Opts {
        self.set(key, if on { "on" } else { "off" })
    }

    /// Appends `key=on|off` when `value` is set.
    pub fn maybe_switch(self, key: &str, value: Option<bool>) -> Opts {
        match value {
            Some(on) => self.switch(key, on),
            None => self,
        }
    }

    /// Appends `key=value` when `value` is set.
    pub fn maybe(self, key: &str, value: Option<impl std::fmt::Display>) -> Opts {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    /// Appends pre-built options (a PCI address, virtio switches).
    pub fn extend(mut self, more: Opts) -> Opts {
        if more.text.is_empty() {
            return self;
        }
        if !self.text.is_empty() {
            self.text.push(',');
        }
        self.text.push_str(&more.text);
        self
    }

    /// The finished option value.
    pub fn build(self) -> String {
        self.text
    }
}

/// Appends virtio options; `virtio` says whether the device takes them.
///
/// `iommu_platform=on` is a virtio 1.0 feature that QEMU refuses on a
/// device that also offers the legacy interface (the default on a PCI
/// bus), so it comes with `disable-legacy=on` (but for a
/// `-non-transitional` device, which has no legacy interface).
pub fn with_virtio(o: Opts, v: &VirtioOptions, virtio: bool, what: &str) -> Result<Opts, Error> {
    if v.is_empty() {
        return Ok(o);
    }
    if !virtio {
        return Err(unsupported(format!(
            "virtio <driver> options (iommu, ats, packed, page_per_vq) are not supported on the {what}"
        )));
    }
    // A non-transitional device has no legacy interface, nor the switch;
    // neither has vhost-user-fs, which is virtio 1.0 only.
    let modern_only = o
        .text
        .split(',')
        .next()
        .is_some_and(|d| d.ends_with("-non-transitional") || d == "vhost-user-fs-pci");
    let o = if v.iommu == Some(true) && !modern_only {
        o.switch("disable-legacy", true)
    } else {
        o
    };
    Ok(o.maybe_switch("iommu_platform", v.iommu)
        .maybe_switch("ats", v.ats)
        .maybe_switch("packed", v.packed)
        .maybe_switch("page-per-vq", v.page_per_vq))
}

/// A `tls-creds-x509` object `id` on the certificates in `dir` (what
/// names the directory in errors), as libvirt's
/// qemuBuildTLSx509CommandLine makes it: the server's end for a
/// listener, the client's otherwise, checking the peer's certificate.
pub fn tls_creds_x509(
    id: &str,
    dir: &std::path::Path,
    what: &str,
    server: bool,
) -> Result<Opts, Error> {
    Ok(Opts::new("tls-creds-x509")
        .set("id", id)
        .set_user("dir", what, &dir.to_string_lossy())?
        .set("endpoint", if server { "server" } else { "client" })
        .switch("verify-peer", true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_are_doubled_everywhere() {
        let o = Opts::new("drv,x")
            .set("filename", "/tmp/a,file=/etc/shadow")
            .switch("read-only", true)
            .build();
        assert_eq!(o, "drv,,x,filename=/tmp/a,,file=/etc/shadow,read-only=on");
    }

    #[test]
    fn user_strings_refuse_nul_and_empty() {
        assert_eq!(
            user("disk source", "a\0b").unwrap_err().code,
            ErrorCode::ConfigInvalid
        );
        assert!(
            user("disk source", "")
                .unwrap_err()
                .message
                .contains("disk source")
        );
        assert_eq!(user("x", "a=b,c").unwrap(), "a=b,c");
    }

    #[test]
    fn empty_start_and_extend() {
        let addr = Opts::empty().set("bus", "pci.0").set("addr", "0x3");
        let o = Opts::new("e1000")
            .extend(addr)
            .extend(Opts::empty())
            .build();
        assert_eq!(o, "e1000,bus=pci.0,addr=0x3");
    }
}
