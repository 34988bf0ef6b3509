//! libvirt's secret procedures (`virSecret*`) on the [`Driver`]'s
//! secrets: the XDR shapes of `remote_protocol.x`, and what each call
//! answers, with libvirt's list filters, its handle rules (a handle names
//! its secret by UUID alone, as libvirt's `secretObjFromSecret`) and its
//! errors (`VIR_ERR_NO_SECRET` with libvirt's words, `VIR_ERR_INVALID_SECRET`
//! for a private secret's value).
//!
//! A value leaves here only in the reply to `SECRET_GET_VALUE`, which
//! the procedure table refuses on a read-only connection before it gets
//! here; a value is never part of a document, and its `Debug` shows its
//! length only.

use uuid::Uuid;

use super::frame::{code, libvirt_error};
use super::types::{
    ListAllArgs, ListNamesArgs, ListNamesRet, NumRet, UuidArgs, XmlFlagsArgs, XmlRet,
};
use super::values::check_flags;
use super::xdr::{Dec, Enc, Xdr, xdr_struct};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Driver, Secret};
use crate::model::{MAX_SECRET_VALUE, SecretDef, SecretUsageType};

xdr_struct! {
    /// `remote_nonnull_secret`: a secret as a handle.
    pub struct SecretHandle { pub uuid: Uuid, pub usage_type: i32, pub usage_id: String }
    /// The reply of the calls that give a secret
    /// (`remote_secret_*_ret { remote_nonnull_secret secret; }`).
    pub struct SecretRet { pub secret: SecretHandle }
    /// `remote_secret_undefine_args`.
    pub struct SecretArgs { pub secret: SecretHandle }
    /// `remote_secret_get_xml_desc_args`, `remote_secret_get_value_args`.
    pub struct SecretFlagsArgs { pub secret: SecretHandle, pub flags: u32 }
    /// `remote_secret_set_value_args`.
    pub struct SecretSetValueArgs { pub secret: SecretHandle, pub value: SecretValue, pub flags: u32 }
    /// `remote_secret_get_value_ret`.
    pub struct SecretValueRet { pub value: SecretValue }
    /// `remote_secret_lookup_by_usage_args`.
    pub struct SecretUsageArgs { pub usage_type: i32, pub usage_id: String }
    /// `remote_connect_list_all_secrets_ret`.
    pub struct ListSecretsRet { pub secrets: Vec<SecretHandle>, pub ret: u32 }
}

/// `opaque value<REMOTE_SECRET_VALUE_MAX>`: a secret's bytes, at most
/// [`MAX_SECRET_VALUE`] (a longer one is a malformed message). Its
/// `Debug` shows how long it is, never what it holds.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretValue(pub Vec<u8>);

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretValue({} bytes)", self.0.len())
    }
}

impl Xdr for SecretValue {
    fn put(&self, e: &mut Enc) {
        e.opaque(&self.0)
    }
    fn get(d: &mut Dec<'_>) -> Result<SecretValue> {
        d.opaque(MAX_SECRET_VALUE).map(|b| SecretValue(b.to_vec()))
    }
}

/// `virConnectListAllSecretsFlags`.
pub mod list {
    #![allow(missing_docs)]
    pub const EPHEMERAL: u32 = 1 << 0;
    pub const NO_EPHEMERAL: u32 = 1 << 1;
    pub const PRIVATE: u32 = 1 << 2;
    pub const NO_PRIVATE: u32 = 1 << 3;
    /// Every flag above.
    pub const ALL: u32 = 15;
}

/// `VIR_SECRET_DEFINE_VALIDATE`: qvirt always reads a `<secret>`
/// strictly, so asking for the schema's check changes nothing.
const DEFINE_VALIDATE: u32 = 1;

/// `REMOTE_SECRET_LIST_MAX`: a libvirt client refuses a longer list.
const LIST_MAX: usize = 16384;

impl From<&Secret> for SecretHandle {
    fn from(s: &Secret) -> SecretHandle {
        SecretHandle {
            uuid: s.uuid,
            usage_type: s.usage.number() as i32,
            usage_id: s.usage_id.clone(),
        }
    }
}

impl SecretHandle {
    /// The secret this handle names, as the handle has it; a usage type
    /// libvirt 9.0 does not have is a protocol error.
    pub fn secret(&self) -> Result<Secret> {
        Ok(Secret {
            uuid: self.uuid,
            usage: usage_of(self.usage_type).ok_or_else(|| {
                Error::new(
                    ErrorCode::Protocol,
                    format!(
                        "secret {} has usage type {}, which libvirt 9.0 does not have",
                        self.uuid, self.usage_type
                    ),
                )
            })?,
            usage_id: self.usage_id.clone(),
        })
    }
}

/// The usage type of libvirt's number `n`.
fn usage_of(n: i32) -> Option<SecretUsageType> {
    u32::try_from(n).ok().and_then(SecretUsageType::from_number)
}

fn ret(s: &Secret) -> SecretRet {
    SecretRet { secret: s.into() }
}

/// libvirt's words for a secret that is not there (the code comes with
/// qvirt's, `NoSecret`).
fn no_secret(what: String) -> Error {
    Error::new(ErrorCode::NoSecret, format!("Secret not found: {what}"))
}

fn no_uuid(uuid: &Uuid) -> Error {
    no_secret(format!("no secret with matching uuid '{uuid}'"))
}

/// The secret with `uuid`, with libvirt's words when there is none.
fn by_uuid(d: &dyn Driver, uuid: Uuid) -> Result<Secret> {
    d.secret_lookup_by_uuid(uuid).map_err(|e| match e.code {
        ErrorCode::NoSecret => no_uuid(&uuid),
        _ => e,
    })
}

/// The secret a handle names: by its UUID alone, as libvirt finds it.
fn secret_of(d: &dyn Driver, h: &SecretHandle) -> Result<Secret> {
    by_uuid(d, h.uuid)
}

/// Every secret, for a list of them all: more than a client takes is an
/// error.
fn secrets(d: &dyn Driver) -> Result<Vec<Secret>> {
    let all = d.list_secrets()?;
    if all.len() > LIST_MAX {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            format!(
                "{} secrets: a libvirt client takes at most {LIST_MAX}",
                all.len()
            ),
        ));
    }
    Ok(all)
}

/// Whether a secret of these kinds passes the filters of
/// `virConnectListAllSecrets` (a group with neither or both of its flags
/// lets every secret through, as libvirt's `virSecretObjMatch`).
fn passes(flags: u32, ephemeral: bool, private: bool) -> bool {
    let group = |a: u32, b: u32, is_a: bool| {
        let want = flags & (a | b);
        want == 0 || want == (a | b) || (want == a) == is_a
    };
    group(list::EPHEMERAL, list::NO_EPHEMERAL, ephemeral)
        && group(list::PRIVATE, list::NO_PRIVATE, private)
}

/// `virConnectNumOfSecrets`.
pub fn num_of_secrets(d: &dyn Driver, (): ()) -> Result<NumRet> {
    let n = d.list_secrets()?.len();
    Ok(NumRet {
        num: i32::try_from(n).unwrap_or(i32::MAX),
    })
}

/// `virConnectListSecrets`: at most `maxuuids` UUIDs.
pub fn list_secrets(d: &dyn Driver, a: ListNamesArgs) -> Result<ListNamesRet> {
    let max = usize::try_from(a.maxnames).unwrap_or(0).min(LIST_MAX);
    let names = d
        .list_secrets()?
        .into_iter()
        .take(max)
        .map(|s| s.uuid.to_string())
        .collect();
    Ok(ListNamesRet { names })
}

/// `virConnectListAllSecrets`. The filters need what only a secret's
/// document says (ephemeral, private): it is read only when asked.
pub fn list_all_secrets(d: &dyn Driver, a: ListAllArgs) -> Result<ListSecretsRet> {
    check_flags(a.flags, list::ALL, "virConnectListAllSecrets")?;
    let mut out = Vec::new();
    for s in secrets(d)? {
        if a.flags != 0 {
            let def = match d.secret_xml(&s) {
                Ok(xml) => SecretDef::from_xml(&xml)?,
                // Undefined since the list was made.
                Err(e) if e.code == ErrorCode::NoSecret => continue,
                Err(e) => return Err(e),
            };
            if !passes(a.flags, def.ephemeral, def.private) {
                continue;
            }
        }
        out.push(SecretHandle::from(&s));
    }
    let ret = out.len() as u32;
    if a.need_results == 0 {
        out.clear();
    }
    Ok(ListSecretsRet { secrets: out, ret })
}

/// `virSecretLookupByUUID`.
pub fn lookup_by_uuid(d: &dyn Driver, a: UuidArgs) -> Result<SecretRet> {
    Ok(ret(&by_uuid(d, a.uuid)?))
}

/// `virSecretLookupByUsage`. A usage type libvirt does not have finds
/// nothing, as in libvirt.
pub fn lookup_by_usage(d: &dyn Driver, a: SecretUsageArgs) -> Result<SecretRet> {
    let missing = || no_secret(format!("no secret with matching usage '{}'", a.usage_id));
    let usage = usage_of(a.usage_type).ok_or_else(missing)?;
    match d.secret_lookup_by_usage(usage, &a.usage_id) {
        Ok(s) => Ok(ret(&s)),
        Err(e) if e.code == ErrorCode::NoSecret => Err(missing()),
        Err(e) => Err(e),
    }
}

/// `virSecretDefineXML`.
pub fn define_xml(d: &dyn Driver, a: XmlFlagsArgs) -> Result<SecretRet> {
    check_flags(a.flags, DEFINE_VALIDATE, "virSecretDefineXML")?;
    Ok(ret(&d.secret_define_xml(&a.xml)?))
}

/// `virSecretGetXMLDesc`.
pub fn get_xml_desc(d: &dyn Driver, a: SecretFlagsArgs) -> Result<XmlRet> {
    check_flags(a.flags, 0, "virSecretGetXMLDesc")?;
    let s = secret_of(d, &a.secret)?;
    Ok(XmlRet {
        xml: d.secret_xml(&s)?,
    })
}

/// `virSecretSetValue`.
pub fn set_value(d: &dyn Driver, a: SecretSetValueArgs) -> Result<()> {
    check_flags(a.flags, 0, "virSecretSetValue")?;
    let s = secret_of(d, &a.secret)?;
    d.secret_set_value(&s, &a.value.0)
}

/// `virSecretGetValue`: never a private secret's value (libvirt's
/// `VIR_ERR_INVALID_SECRET`, "secret is private"); `VIR_ERR_NO_SECRET`
/// when it has none.
pub fn get_value(d: &dyn Driver, a: SecretFlagsArgs) -> Result<SecretValueRet> {
    check_flags(a.flags, 0, "virSecretGetValue")?;
    let s = secret_of(d, &a.secret)?;
    match d.secret_get_value(&s) {
        Ok(v) => Ok(SecretValueRet {
            value: SecretValue(v),
        }),
        // The read-only connection is refused before the call gets here:
        // the driver denies a private secret's value only.
        Err(e) if e.code == ErrorCode::OperationDenied => Err(libvirt_error(
            code::INVALID_SECRET,
            ErrorCode::OperationDenied,
            "Invalid secret: secret is private",
        )),
        Err(e) if e.code == ErrorCode::NoSecret => Err(no_secret(format!(
            "secret '{}' does not have a value",
            s.uuid
        ))),
        Err(e) => Err(e),
    }
}

/// `virSecretUndefine`.
pub fn undefine(d: &dyn Driver, a: SecretArgs) -> Result<()> {
    let s = secret_of(d, &a.secret)?;
    d.secret_undefine(&s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::libvirt::xdr::{from_bytes, to_bytes};

    #[test]
    fn list_filters_are_libvirts() {
        use list::*;
        // (flags, ephemeral private, ephemeral public, persistent private,
        // persistent public)
        for (flags, want) in [
            (0, [true, true, true, true]),
            (EPHEMERAL, [true, true, false, false]),
            (NO_EPHEMERAL, [false, false, true, true]),
            (EPHEMERAL | NO_EPHEMERAL, [true, true, true, true]),
            (PRIVATE, [true, false, true, false]),
            (NO_PRIVATE, [false, true, false, true]),
            (NO_EPHEMERAL | PRIVATE, [false, false, true, false]),
            (EPHEMERAL | NO_PRIVATE, [false, true, false, false]),
        ] {
            let got = [
                passes(flags, true, true),
                passes(flags, true, false),
                passes(flags, false, true),
                passes(flags, false, false),
            ];
            assert_eq!(got, want, "flags {flags:#x}");
        }
    }

    #[test]
    fn a_value_is_bounded_and_never_shown() {
        let v = SecretValue(vec![0; MAX_SECRET_VALUE]);
        assert_eq!(from_bytes::<SecretValue>(&to_bytes(&v), "v").unwrap(), v);
        let over = SecretValue(vec![0; MAX_SECRET_VALUE + 1]);
        let e = from_bytes::<SecretValue>(&to_bytes(&over), "v").unwrap_err();
        assert_eq!(e.code, ErrorCode::Protocol);
        let shown = format!("{:?}", SecretValue(b"hunter2".to_vec()));
        assert_eq!(shown, "SecretValue(7 bytes)");
    }

    #[test]
    fn handles_carry_libvirts_usage_numbers() {
        let s = Secret {
            uuid: Uuid::from_u128(1),
            usage: SecretUsageType::Iscsi,
            usage_id: "target".into(),
        };
        let h = SecretHandle::from(&s);
        assert_eq!(h.usage_type, 3);
        assert_eq!(h.secret().unwrap(), s);
        let odd = SecretHandle {
            usage_type: 99,
            ..h.clone()
        };
        assert_eq!(odd.secret().unwrap_err().code, ErrorCode::Protocol);
        assert_eq!(
            SecretHandle {
                usage_type: -1,
                ..h
            }
            .secret()
            .unwrap_err()
            .code,
            ErrorCode::Protocol
        );
    }
}
