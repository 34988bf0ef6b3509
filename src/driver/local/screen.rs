//! Keys and NMIs sent to a guest (QMP `send-key`, `inject-nmi`), and
//! screenshots: QMP `screendump` of the domain's display as PNG, which
//! QEMU writes into the domain's private runtime directory; the bytes are
//! read back and the file removed.

use serde_json::json;

use super::driver::Core;
use crate::driver::{Domain, DomainState, KeyCodeset};
use crate::error::{Error, ErrorCode, Result};
use crate::model::DomainDef;
use crate::qemu::caps::QemuVersion;
use crate::qemu::keys;
use crate::qemu::qmp::QMP_TIMEOUT;

/// The first QEMU whose `screendump` writes PNG (`format: png`).
const PNG_SINCE: QemuVersion = QemuVersion {
    major: 7,
    minor: 1,
    micro: 0,
};

impl Core {
    /// [`crate::Driver::send_key`].
    pub(crate) fn send_key(
        &self,
        dom: &Domain,
        codeset: KeyCodeset,
        hold_ms: u32,
        keys: &[u32],
    ) -> Result<()> {
        if keys.is_empty() || keys.len() > keys::MAX_KEYS {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "send 1 to {} keys at once, not {}",
                    keys::MAX_KEYS,
                    keys.len()
                ),
            ));
        }
        let qnums = keys
            .iter()
            .map(|&k| {
                let qnum = match codeset {
                    KeyCodeset::Linux => keys::qnum_of_linux(k),
                    _ => (1..=0xff).contains(&k).then_some(k),
                };
                let qnum = qnum.ok_or_else(|| {
                    Error::new(
                        ErrorCode::InvalidArgument,
                        format!(
                            "key code {k} is not a key qvirt can send in the {codeset:?} code set"
                        ),
                    )
                })?;
                Ok(json!({"type": "number", "data": qnum}))
            })
            .collect::<Result<Vec<_>>>()?;
        let run = self.running_in(
            dom,
            "send keys to",
            &[DomainState::Running, DomainState::Paused],
        )?;
        let mut args = json!({ "keys": qnums });
        if hold_ms > 0 {
            args["hold-time"] = json!(hold_ms);
        }
        run.qmp()?.execute("send-key", Some(args), QMP_TIMEOUT)?;
        Ok(())
    }

    /// [`crate::Driver::inject_nmi`].
    pub(crate) fn inject_nmi(&self, dom: &Domain) -> Result<()> {
        let run = self.running_in(
            dom,
            "inject an NMI into",
            &[DomainState::Running, DomainState::Paused],
        )?;
        run.qmp()?.execute("inject-nmi", None, QMP_TIMEOUT)?;
        Ok(())
    }

    /// [`crate::Driver::screenshot`].
    pub(crate) fn screenshot(&self, dom: &Domain) -> Result<Vec<u8>> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let run = self.running_in(
            dom,
            "take a screenshot of",
            &[DomainState::Running, DomainState::Paused],
        )?;
        if !has_display(&run.def) {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "domain '{}' has no display to take a screenshot of: give it a <video> (and <graphics>) device",
                    dom.name
                ),
            ));
        }
        let qmp = run.qmp()?;
        if qmp.version() < PNG_SINCE {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!(
                    "domain '{}' runs QEMU {}, which cannot write a PNG screenshot (QEMU {PNG_SINCE} or later can)",
                    dom.name,
                    qmp.version()
                ),
            ));
        }
        let file = run.run_dir.join("screenshot.png");
        let _ = std::fs::remove_file(&file);
        let path = file.to_str().ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("the runtime path {} is not UTF-8", file.display()),
            )
        })?;
        qmp.execute(
            "screendump",
            Some(json!({"filename": path, "format": "png"})),
            QMP_TIMEOUT,
        )?;
        let bytes = std::fs::read(&file)
            .map_err(|e| Error::io(format!("cannot read the screenshot {}", file.display()), e));
        let _ = std::fs::remove_file(&file);
        bytes
    }
}

/// Whether QEMU gives `def` a display: a video card other than `none`,
/// or graphics (which bring a VGA card when no `<video>` is given).
fn has_display(def: &DomainDef) -> bool {
    let videos = &def.devices.videos;
    if videos
        .iter()
        .any(|v| v.model == crate::model::VideoModel::None)
    {
        return false;
    }
    !videos.is_empty()
        || !def.devices.graphics.is_empty()
        || def.devices.egl_headless.is_some()
        || def.devices.dbus_display.is_some()
}
