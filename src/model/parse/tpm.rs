//! Reading `<tpm>`: its model and backend (an emulator the manager runs,
//! the host's TPM, or an emulator another process runs).

use super::devices::alias;
use super::el::{El, R, invalid, set};
use crate::model::{Tpm, TpmBackend};

pub(super) fn tpm(e: El) -> R<Tpm> {
    e.allow(&["model"])?;
    let model = e.word("model")?;
    let mut backend = None;
    for c in e.children()? {
        match c.name() {
            "backend" => set(&mut backend, c, backend_of)?,
            "alias" => alias(c)?,
            _ => c.skip()?,
        }
    }
    let backend =
        backend.ok_or_else(|| invalid(format!("missing <backend> in <tpm> at {}", e.at())))?;
    Ok(Tpm { model, backend })
}

fn backend_of(c: El) -> R<TpmBackend> {
    c.req("type")?;
    let kind = c.choice(
        "type",
        &[("emulator", 0), ("passthrough", 1), ("external", 2)],
    )?;
    match kind {
        Some(1) => passthrough(c),
        Some(2) => external(c),
        _ => {
            c.allow(&["type", "version", "persistent_state"])?;
            c.empty()?;
            Ok(TpmBackend::Emulator {
                version: c.word("version")?,
                persistent_state: c.yes_no("persistent_state")?,
            })
        }
    }
}

fn passthrough(c: El) -> R<TpmBackend> {
    c.allow(&["type"])?;
    let mut path = None;
    for d in c.children()? {
        match d.name() {
            "device" => set(&mut path, d, |d| {
                d.allow(&["path"])?;
                d.empty()?;
                Ok(d.req("path")?.to_string())
            })?,
            _ => d.skip()?,
        }
    }
    let path = path.ok_or_else(|| {
        invalid(format!(
            "missing <device path=...> in the passthrough <backend> at {}",
            c.at()
        ))
    })?;
    Ok(TpmBackend::Passthrough { path })
}

/// `<backend type='external'><source type='unix' mode='connect'
/// path=...>`, under libvirt's rules (virDomainTPMDefParseXML and
/// virDomainTPMDevValidate): a UNIX socket QEMU connects to, with a path.
fn external(c: El) -> R<TpmBackend> {
    c.allow(&["type"])?;
    let mut source = None;
    for d in c.children()? {
        match d.name() {
            "source" => set(&mut source, d, |d| {
                d.allow(&["type", "mode", "path"])?;
                d.empty()?;
                let Some(kind) = d.get("type") else {
                    return Err(invalid(format!(
                        "missing external TPM backend type at {}",
                        d.at()
                    )));
                };
                if kind != "unix" {
                    return Err(invalid(format!(
                        "only source type 'unix' is supported for external TPM device, at {}",
                        d.at()
                    )));
                }
                if d.choice("mode", &[("connect", false), ("bind", true)])? == Some(true) {
                    return Err(invalid(format!(
                        "only 'client' mode is supported for external TPM device, at {}",
                        d.at()
                    )));
                }
                match d.get("path").filter(|p| !p.is_empty()) {
                    Some(p) => Ok(p.to_string()),
                    None => Err(invalid(format!(
                        "missing socket path for external TPM device, at {}",
                        d.at()
                    ))),
                }
            })?,
            _ => d.skip()?,
        }
    }
    let path = source.ok_or_else(|| {
        invalid(format!(
            "missing external TPM backend type (no <source>) at {}",
            c.at()
        ))
    })?;
    Ok(TpmBackend::External { path })
}
