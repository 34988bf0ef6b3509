//! Secrets, as libvirt's secret driver keeps them: each persistent
//! secret's definition in the state directory's `secrets/UUID.xml` and
//! its value beside it in `UUID.base64` (base64, mode 0600, in a
//! directory only the manager can enter, written like definitions);
//! ephemeral secrets and their values in memory only. Read at first use.
//!
//! Values leave this module in two ways only: to a client that may read
//! them ([`Core::secret_value_for_client`]: never a private secret's), and
//! to the domain start that hands them to QEMU
//! ([`Core::secret_for_disk`]).

use std::collections::BTreeMap;
use std::sync::Mutex;

use uuid::Uuid;

use super::driver::{Core, lock};
use crate::driver::Secret;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{SecretDef, SecretLookup, SecretUsageType, base64_decode, base64_encode};
use crate::sys::fsutil::{is_leftover_temp, remove_durable, replace_atomic, write_atomic};

/// The secrets of one manager, read from disk at first use.
#[derive(Default)]
pub(crate) struct Secrets {
    state: Mutex<Option<BTreeMap<Uuid, SecretEntry>>>,
}

/// One secret: its definition and its value, if set.
#[derive(Clone)]
struct SecretEntry {
    def: SecretDef,
    value: Option<Vec<u8>>,
}

fn handle(def: &SecretDef) -> Secret {
    Secret {
        uuid: def.uuid,
        usage: def.usage,
        usage_id: def.usage_id.clone(),
    }
}

/// The error for a secret that does not exist.
fn no_secret(what: String) -> Error {
    Error::new(
        ErrorCode::NoSecret,
        format!("no secret with matching {what} (see secret-list)"),
    )
}

impl Core {
    fn with_secrets<T>(
        &self,
        f: impl FnOnce(&mut BTreeMap<Uuid, SecretEntry>) -> Result<T>,
    ) -> Result<T> {
        let mut state = lock(&self.secrets.state);
        if state.is_none() {
            *state = Some(self.load_secrets()?);
        }
        f(state.as_mut().expect("loaded above"))
    }

    /// Reads every `UUID.xml` and its `UUID.base64`; a damaged one is
    /// logged and skipped (and left in place for a person to look at).
    fn load_secrets(&self) -> Result<BTreeMap<Uuid, SecretEntry>> {
        let dir = &self.layout.secrets;
        crate::sys::fsutil::ensure_private_dir(dir)?;
        let mut map = BTreeMap::new();
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
        for file in entries.flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            if is_leftover_temp(&name) {
                let _ = std::fs::remove_file(file.path());
                continue;
            }
            let Some(stem) = name.strip_suffix(".xml") else {
                continue;
            };
            let read = || -> Result<SecretEntry> {
                let xml = std::fs::read_to_string(file.path())
                    .map_err(|e| Error::io(format!("cannot read {}", file.path().display()), e))?;
                let def = SecretDef::from_xml(&xml)?;
                if def.uuid.to_string() != stem {
                    return Err(Error::new(
                        ErrorCode::ConfigInvalid,
                        format!("<uuid> does not match the file name '{name}'"),
                    ));
                }
                let value_file = dir.join(format!("{stem}.base64"));
                let value = match std::fs::read_to_string(&value_file) {
                    Ok(text) => Some(base64_decode(text.trim()).ok_or_else(|| {
                        Error::new(
                            ErrorCode::ConfigInvalid,
                            format!("{} is not base64", value_file.display()),
                        )
                    })?),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => {
                        return Err(Error::io(
                            format!("cannot read {}", value_file.display()),
                            e,
                        ));
                    }
                };
                Ok(SecretEntry { def, value })
            };
            match read() {
                Ok(entry) => {
                    map.insert(entry.def.uuid, entry);
                }
                Err(e) => self
                    .log
                    .error(&format!("secrets: skipping {}: {e}", file.path().display())),
            }
        }
        Ok(map)
    }

    fn secret_files(&self, uuid: &Uuid) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = &self.layout.secrets;
        (
            dir.join(format!("{uuid}.xml")),
            dir.join(format!("{uuid}.base64")),
        )
    }

    /// Every secret, by UUID.
    pub(crate) fn list_secrets(&self) -> Result<Vec<Secret>> {
        self.with_secrets(|m| Ok(m.values().map(|e| handle(&e.def)).collect()))
    }

    /// The secret with `uuid`.
    pub(crate) fn secret_by_uuid(&self, uuid: Uuid) -> Result<Secret> {
        self.with_secrets(|m| {
            m.get(&uuid)
                .map(|e| handle(&e.def))
                .ok_or_else(|| no_secret(format!("uuid '{uuid}'")))
        })
    }

    /// The secret for `usage` `id`.
    pub(crate) fn secret_by_usage(&self, usage: SecretUsageType, id: &str) -> Result<Secret> {
        self.with_secrets(|m| {
            m.values()
                // As libvirt: a secret of usage `none` is found by UUID only.
                .find(|e| {
                    usage != SecretUsageType::None && e.def.usage == usage && e.def.usage_id == id
                })
                .map(|e| handle(&e.def))
                .ok_or_else(|| no_secret(format!("usage '{id}'")))
        })
    }

    /// Defines or redefines a secret (libvirt's `virSecretObjListAdd`
    /// and `secretDefineXML`).
    pub(crate) fn secret_define(&self, xml: &str) -> Result<Secret> {
        let def = SecretDef::from_xml(xml)?;
        self.with_secrets(|m| {
            let old = m.get(&def.uuid).cloned();
            match &old {
                Some(old) if old.def.usage_id != def.usage_id || old.def.usage != def.usage => {
                    return Err(Error::new(
                        ErrorCode::OperationInvalid,
                        format!(
                            "a secret with UUID {} is already defined for use with {}",
                            def.uuid,
                            usage_text(&old.def)
                        ),
                    ));
                }
                Some(old) if old.def.private && !def.private => {
                    return Err(Error::new(
                        ErrorCode::OperationInvalid,
                        "cannot change private flag on existing secret",
                    ));
                }
                Some(_) => {}
                None => {
                    if let Some(other) = m.values().find(|e| {
                        def.usage != SecretUsageType::None
                            && e.def.usage == def.usage
                            && e.def.usage_id == def.usage_id
                    }) {
                        return Err(Error::new(
                            ErrorCode::OperationInvalid,
                            format!(
                                "a secret with UUID {} is already defined for use with {}",
                                other.def.uuid,
                                usage_text(&def)
                            ),
                        ));
                    }
                }
            }
            let value = old.as_ref().and_then(|o| o.value.clone());
            let (xml_file, value_file) = self.secret_files(&def.uuid);
            if def.ephemeral {
                // Now kept in memory only: nothing of it stays on disk.
                remove_durable(&value_file)?;
                remove_durable(&xml_file)?;
            } else {
                if let Some(v) = &value
                    && old.as_ref().is_some_and(|o| o.def.ephemeral)
                {
                    write_atomic(&value_file, base64_encode(v).as_bytes())?;
                }
                write_atomic(&xml_file, def.to_xml().as_bytes())?;
            }
            let h = handle(&def);
            m.insert(def.uuid, SecretEntry { def, value });
            Ok(h)
        })
    }

    /// The secret's document.
    pub(crate) fn secret_xml(&self, s: &Secret) -> Result<String> {
        self.with_secrets(|m| Ok(entry(m, s)?.def.to_xml()))
    }

    /// Sets the secret's value, on disk first for a persistent one.
    pub(crate) fn secret_set_value(&self, s: &Secret, value: &[u8]) -> Result<()> {
        Secret::check_value(value)?;
        self.with_secrets(|m| {
            let persistent = !entry(m, s)?.def.ephemeral;
            if persistent {
                let (_, value_file) = self.secret_files(&s.uuid);
                write_atomic(&value_file, base64_encode(value).as_bytes())?;
            }
            m.get_mut(&s.uuid).expect("found above").value = Some(value.to_vec());
            Ok(())
        })
    }

    /// The value, for a client: never a private secret's (libvirt: "secret
    /// is private"), `NoSecret` when none is set.
    pub(crate) fn secret_value_for_client(&self, s: &Secret) -> Result<Vec<u8>> {
        self.with_secrets(|m| {
            let e = entry(m, s)?;
            if e.def.private {
                return Err(Error::new(
                    ErrorCode::OperationDenied,
                    format!(
                        "secret '{}' is private: its value is never given out",
                        s.uuid
                    ),
                ));
            }
            value_of(e)
        })
    }

    /// Removes the secret, its definition and its value.
    pub(crate) fn secret_undefine(&self, s: &Secret) -> Result<()> {
        self.with_secrets(|m| {
            entry(m, s)?;
            let (xml_file, value_file) = self.secret_files(&s.uuid);
            remove_durable(&xml_file)?;
            remove_durable(&value_file)?;
            m.remove(&s.uuid);
            Ok(())
        })
    }

    /// The value of the secret a disk's `<auth>` or `<encryption>` names,
    /// for QEMU: found by UUID or by usage (of the type the disk needs:
    /// its protocol's for credentials, `volume` for a passphrase; as
    /// libvirt's `virSecretGetSecretString`, which also refuses a secret
    /// named by UUID whose usage is another's), private or not.
    pub(crate) fn secret_for_disk(
        &self,
        lookup: &SecretLookup,
        want: SecretUsageType,
    ) -> Result<(Uuid, Vec<u8>)> {
        self.with_secrets(|m| {
            let found = match lookup {
                SecretLookup::Uuid(u) => {
                    let found = m.get(u).ok_or_else(|| no_secret(format!("uuid '{u}'")))?;
                    // As libvirt: one named by UUID must be for this use
                    // (or for none).
                    let usage = found.def.usage;
                    if usage != SecretUsageType::None && usage != want {
                        return Err(Error::new(
                            ErrorCode::InvalidArgument,
                            format!(
                                "secret with uuid {u} is of type '{}' not expected '{}' type",
                                usage.as_str(),
                                want.as_str()
                            ),
                        ));
                    }
                    found
                }
                SecretLookup::Usage(id) => m
                    .values()
                    .find(|e| e.def.usage == want && &e.def.usage_id == id)
                    .ok_or_else(|| no_secret(format!("{} usage '{id}'", want.as_str())))?,
            };
            Ok((found.def.uuid, value_of(found)?))
        })
    }
}

impl Core {
    /// Writes the value of each network disk's `<auth>` secret to the
    /// file the command line's `secret` object reads
    /// ([`crate::qemu::argv::disk_secret_file`]), mode 0600 in the run
    /// directory (a runtime file, written as the others: 0600, by
    /// rename): before QEMU starts, and for a disk plugged in later.
    /// A missing secret or value stops the start, naming the disk.
    pub(crate) fn write_disk_secrets(
        &self,
        def: &crate::model::DomainDef,
        run_dir: &std::path::Path,
        only: Option<usize>,
    ) -> Result<()> {
        use crate::model::DiskProtocol;
        let ids = crate::qemu::argv::disk_device_ids(def)?;
        for (i, (disk, id)) in def.devices.disks.iter().zip(&ids).enumerate() {
            if only.is_some_and(|o| o != i) {
                continue;
            }
            let named =
                |e: Error| Error::new(e.code, format!("disk '{}': {}", disk.target, e.message));
            if let Some((n, auth)) = disk
                .network
                .as_ref()
                .and_then(|n| n.auth.as_ref().map(|a| (n, a)))
            {
                let want = match n.protocol {
                    DiskProtocol::Rbd => SecretUsageType::Ceph,
                    DiskProtocol::Iscsi => SecretUsageType::Iscsi,
                    _ => auth.secret_type.unwrap_or(SecretUsageType::Iscsi),
                };
                let (_, value) = self.secret_for_disk(&auth.lookup, want).map_err(named)?;
                let file = crate::qemu::argv::disk_secret_file(run_dir, id);
                replace_atomic(&file, &value)?;
            }
            // An HTTP(S) disk's cookies: not the store's secrets, but
            // handed over the same way.
            if let Some(cookies) = disk
                .network
                .as_ref()
                .and_then(crate::qemu::argv::disk_cookie_string)
            {
                let file = crate::qemu::argv::disk_cookie_file(run_dir, id);
                replace_atomic(&file, cookies.as_bytes())?;
            }
            if let Some(enc) = &disk.encryption {
                let (_, value) = self
                    .secret_for_disk(&enc.secret, SecretUsageType::Volume)
                    .map_err(named)?;
                let file = crate::qemu::argv::disk_encryption_file(run_dir, id);
                replace_atomic(&file, &value)?;
            }
        }
        if only.is_none() {
            self.write_nvram_secret(def, run_dir)?;
        }
        Ok(())
    }

    /// The value of the secret (usage `vtpm`) that keys the state of the
    /// domain's emulated TPM, if `<encryption secret>` names one; a
    /// missing secret or value stops the start, naming the TPM.
    pub(crate) fn tpm_key(&self, def: &crate::model::DomainDef) -> Result<Option<Vec<u8>>> {
        let Some(uuid) = super::tpm::encryption_secret(def) else {
            return Ok(None);
        };
        let (_, value) = self
            .secret_for_disk(&SecretLookup::Uuid(uuid), SecretUsageType::Vtpm)
            .map_err(|e| {
                Error::new(e.code, format!("the TPM's state encryption: {}", e.message))
            })?;
        Ok(Some(value))
    }

    /// The CHAP password of an iSCSI `<nvram type='network'>` store,
    /// handed over as a disk's ([`Core::write_disk_secrets`]).
    fn write_nvram_secret(
        &self,
        def: &crate::model::DomainDef,
        run_dir: &std::path::Path,
    ) -> Result<()> {
        let Some(auth) = def
            .os
            .nvram
            .as_ref()
            .and_then(|n| n.network.as_ref())
            .and_then(|n| n.auth.as_ref())
        else {
            return Ok(());
        };
        let (_, value) = self
            .secret_for_disk(&auth.lookup, SecretUsageType::Iscsi)
            .map_err(|e| Error::new(e.code, format!("<nvram>: {}", e.message)))?;
        let id = crate::qemu::argv::NVRAM_STORE_ID;
        replace_atomic(&crate::qemu::argv::disk_secret_file(run_dir, id), &value)
    }
}

fn entry<'m>(m: &'m BTreeMap<Uuid, SecretEntry>, s: &Secret) -> Result<&'m SecretEntry> {
    m.get(&s.uuid)
        .ok_or_else(|| no_secret(format!("uuid '{}'", s.uuid)))
}

fn value_of(e: &SecretEntry) -> Result<Vec<u8>> {
    e.value.clone().ok_or_else(|| {
        Error::new(
            ErrorCode::NoSecret,
            format!(
                "secret '{}' does not have a value (see secret-set-value)",
                e.def.uuid
            ),
        )
    })
}

/// What a secret is for, as libvirt's messages name it.
fn usage_text(def: &SecretDef) -> String {
    match def.usage {
        SecretUsageType::None => "nothing (usage none)".to_string(),
        _ => def.usage_id.clone(),
    }
}
