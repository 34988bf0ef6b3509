//! Reading `<tpm>`: its model and backend (an emulator the manager runs,
//! the host's TPM, or an emulator another process runs).

use super::devices::alias_unused;
use super::el::{El, R, invalid, set};
use super::storage::parse_uuid;
use crate::model::{ModelErrorKind, Tpm, TpmBackend, TpmModel, TpmPcrBank, TpmVersion, Word};

pub(super) fn tpm(e: El) -> R<Tpm> {
    e.allow(&["model"])?;
    let model = e.word("model")?;
    let mut backend = None;
    for c in e.children()? {
        match c.name() {
            "backend" => set(&mut backend, c, |c| backend_of(c, model))?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    let backend =
        backend.ok_or_else(|| invalid(format!("missing <backend> in <tpm> at {}", e.at())))?;
    Ok(Tpm { model, backend })
}

fn backend_of(c: El, model: Option<TpmModel>) -> R<TpmBackend> {
    c.req("type")?;
    let kind = c.choice(
        "type",
        &[("emulator", 0), ("passthrough", 1), ("external", 2)],
    )?;
    match kind {
        Some(1) => passthrough(c),
        Some(2) => external(c),
        _ => emulator(c, model),
    }
}

/// `<backend type='emulator' version= persistent_state=>` with its
/// `<encryption secret=UUID>` and `<active_pcr_banks>` (libvirt's
/// virDomainTPMDefParseXML).
fn emulator(c: El, model: Option<TpmModel>) -> R<TpmBackend> {
    c.allow(&["type", "version", "persistent_state"])?;
    let version = c.word("version")?;
    let (mut encryption, mut banks) = (None, None);
    for d in c.children()? {
        match d.name() {
            "encryption" => set(&mut encryption, d, |d| {
                d.allow(&["secret"])?;
                d.empty()?;
                parse_uuid(d.req("secret")?).ok_or_else(|| {
                    d.bad_value(
                        ModelErrorKind::Invalid,
                        "secret",
                        "expected a secret's UUID",
                    )
                })
            })?,
            "active_pcr_banks" => set(&mut banks, d, pcr_banks)?,
            _ => d.skip()?,
        }
    }
    let active_pcr_banks = banks.flatten();
    // virDomainTPMDevValidate: PCR banks are TPM 2.0's.
    let effective = version.unwrap_or(crate::model::Tpm::default_version(model));
    if active_pcr_banks.is_some() && effective != TpmVersion::V2_0 {
        return Err(invalid(format!(
            "<active_pcr_banks/> requires TPM version '2.0', and the TPM at {} is a {} one",
            c.at(),
            effective.as_str()
        )));
    }
    Ok(TpmBackend::Emulator {
        version,
        persistent_state: c.yes_no("persistent_state")?,
        encryption,
        active_pcr_banks,
    })
}

/// `<active_pcr_banks>`: each child names a bank (`<sha256/>`); the set,
/// in libvirt's order; `None` when it names none.
fn pcr_banks(e: El) -> R<Option<Vec<TpmPcrBank>>> {
    e.allow(&[])?;
    let mut banks = Vec::new();
    for b in e.children()? {
        let bank = TpmPcrBank::from_word(b.name()).ok_or_else(|| {
            super::el::unsupported(format!(
                "Unsupported PCR banks '{}' at {}: use sha1, sha256, sha384 or sha512",
                b.name(),
                b.at()
            ))
        })?;
        b.allow(&[])?;
        b.empty()?;
        banks.push(bank);
    }
    banks.sort();
    banks.dedup();
    Ok((!banks.is_empty()).then_some(banks))
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
