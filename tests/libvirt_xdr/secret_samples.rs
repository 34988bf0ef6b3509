//! The samples of the secret procedures (see `samples.rs`).

use qvirt::transport::libvirt::procedures::{Call, Procedure, Reply};
use qvirt::transport::libvirt::types::*;
use uuid::Uuid;

const XML: &str = "<secret ephemeral='no' private='yes'><usage type='iscsi'><target>iqn.2013-07.com.example:t1</target></usage></secret>";

/// An iSCSI secret (usage type 3).
fn secret() -> SecretHandle {
    SecretHandle {
        uuid: Uuid::from_u128(0x0a1b_2c3d_4e5f_4a6b_8c7d_9e0f_1a2b_3c4d),
        usage_type: 3,
        usage_id: "iqn.2013-07.com.example:t1".into(),
    }
}

/// A value with a NUL inside and a length that needs padding.
fn value() -> SecretValue {
    SecretValue(b"chap\0pw".to_vec())
}

fn on(f: u32) -> SecretFlagsArgs {
    SecretFlagsArgs {
        secret: secret(),
        flags: f,
    }
}

fn ret() -> SecretRet {
    SecretRet { secret: secret() }
}

/// The sample call of secret procedure `p`.
pub fn call(p: Procedure) -> Call {
    use Procedure as P;
    match p {
        P::ConnectNumOfSecrets => Call::ConnectNumOfSecrets(()),
        P::ConnectListSecrets => Call::ConnectListSecrets(ListNamesArgs { maxnames: 16 }),
        P::SecretLookupByUuid => Call::SecretLookupByUuid(UuidArgs {
            uuid: secret().uuid,
        }),
        P::SecretDefineXml => Call::SecretDefineXml(XmlFlagsArgs {
            xml: XML.into(),
            flags: 1,
        }),
        P::SecretGetXmlDesc => Call::SecretGetXmlDesc(on(0)),
        P::SecretSetValue => Call::SecretSetValue(SecretSetValueArgs {
            secret: secret(),
            value: value(),
            flags: 0,
        }),
        P::SecretGetValue => Call::SecretGetValue(on(0)),
        P::SecretUndefine => Call::SecretUndefine(SecretArgs { secret: secret() }),
        P::SecretLookupByUsage => Call::SecretLookupByUsage(SecretUsageArgs {
            usage_type: 3,
            usage_id: "iqn.2013-07.com.example:t1".into(),
        }),
        P::ConnectListAllSecrets => Call::ConnectListAllSecrets(ListAllArgs {
            need_results: 1,
            flags: 6,
        }),
        other => unreachable!("{other:?} is not a secret procedure"),
    }
}

/// The sample reply of secret procedure `p`.
pub fn reply(p: Procedure) -> Reply {
    use Procedure as P;
    match p {
        P::ConnectNumOfSecrets => Reply::ConnectNumOfSecrets(NumRet { num: 2 }),
        P::ConnectListSecrets => Reply::ConnectListSecrets(ListNamesRet {
            names: vec![secret().uuid.to_string()],
        }),
        P::SecretLookupByUuid => Reply::SecretLookupByUuid(ret()),
        P::SecretDefineXml => Reply::SecretDefineXml(ret()),
        P::SecretGetXmlDesc => Reply::SecretGetXmlDesc(XmlRet { xml: XML.into() }),
        P::SecretSetValue => Reply::SecretSetValue(()),
        P::SecretGetValue => Reply::SecretGetValue(SecretValueRet { value: value() }),
        P::SecretUndefine => Reply::SecretUndefine(()),
        P::SecretLookupByUsage => Reply::SecretLookupByUsage(ret()),
        // A secret of usage `none`: its usage ID is empty.
        P::ConnectListAllSecrets => Reply::ConnectListAllSecrets(ListSecretsRet {
            secrets: vec![
                secret(),
                SecretHandle {
                    uuid: Uuid::from_u128(0x5e),
                    usage_type: 0,
                    usage_id: String::new(),
                },
            ],
            ret: 2,
        }),
        other => unreachable!("{other:?} is not a secret procedure"),
    }
}
