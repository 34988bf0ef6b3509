//! Secrets, as libvirt's secret driver keeps them: definitions (with a
//! UUID given or made), the rules of a redefinition, lookups by UUID and
//! usage, values of any bytes up to 64 KiB, private secrets whose value
//! is never given out, ephemeral ones never on disk, persistent ones
//! found again by the next manager, and `NoSecret` for what is not
//! there. No QEMU runs here.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use qvirt::ErrorCode;
use qvirt::driver::Secret;
use qvirt::model::{MAX_SECRET_VALUE, SecretDef, SecretUsageType};
use uuid::Uuid;

use crate::{Ctx, expect_err};

const CEPH: &str = "2c9f4a1e-7b3d-4e5f-8a6b-9c0d1e2f3a4b";
const ISCSI: &str = "8e1d2c3b-4a5f-4e6d-9c7b-0a1b2c3d4e5f";

/// A `<secret>` document.
fn secret_xml(
    uuid: Option<&str>,
    flags: (bool, bool),
    description: Option<&str>,
    usage: &str,
) -> String {
    let yes_no = |b| if b { "yes" } else { "no" };
    let uuid = uuid
        .map(|u| format!("<uuid>{u}</uuid>"))
        .unwrap_or_default();
    let description = description
        .map(|d| format!("<description>{d}</description>"))
        .unwrap_or_default();
    format!(
        "<secret ephemeral='{}' private='{}'>{uuid}{description}{usage}</secret>",
        yes_no(flags.0),
        yes_no(flags.1)
    )
}

/// `<usage type='ceph'>` for client `name`.
fn ceph(name: &str) -> String {
    format!("<usage type='ceph'><name>{name}</name></usage>")
}

/// A persistent, public secret for Ceph client `name`.
fn ceph_secret(uuid: Option<&str>, name: &str) -> String {
    secret_xml(uuid, (false, false), None, &ceph(name))
}

/// The files a persistent secret keeps: its definition and its value.
fn files(cx: &Ctx<'_>, uuid: Uuid) -> (PathBuf, PathBuf) {
    let dir = cx.root().join("secrets");
    (
        dir.join(format!("{uuid}.xml")),
        dir.join(format!("{uuid}.base64")),
    )
}

/// The secret's definition, as the driver describes it.
fn def_of(cx: &Ctx<'_>, s: &Secret) -> SecretDef {
    let xml = cx.d().secret_xml(s).expect("secret_xml");
    assert!(!xml.contains("base64"), "no value in the document: {xml}");
    SecretDef::from_xml(&xml).unwrap_or_else(|e| panic!("the document parses: {e}\n{xml}"))
}

/// A secret defined with a UUID keeps it, one without gets a fresh one;
/// both are found by UUID and by usage, and listed by UUID.
pub fn secrets_define_lookup_and_list(cx: &mut Ctx<'_>) {
    let d = cx.d();
    assert!(d.list_secrets().unwrap().is_empty());
    let given = d
        .secret_define_xml(&secret_xml(
            Some(CEPH),
            (false, false),
            Some("the admin key"),
            &ceph("client.admin"),
        ))
        .unwrap();
    assert_eq!(
        given,
        Secret {
            uuid: Uuid::parse_str(CEPH).unwrap(),
            usage: SecretUsageType::Ceph,
            usage_id: "client.admin".into(),
        }
    );
    let iscsi = "<usage type='iscsi'><target>iqn.2013-07.com.example:t1</target></usage>";
    let made = d
        .secret_define_xml(&secret_xml(None, (false, false), None, iscsi))
        .unwrap();
    assert_eq!(made.usage, SecretUsageType::Iscsi);
    assert_eq!(made.usage_id, "iqn.2013-07.com.example:t1");
    assert!(!made.uuid.is_nil() && made.uuid != given.uuid);
    let unused = d
        .secret_define_xml(&secret_xml(None, (false, false), None, ""))
        .unwrap();
    assert_eq!(
        (unused.usage, unused.usage_id.as_str()),
        (SecretUsageType::None, "")
    );

    // As libvirt: a secret of usage `none` is found by UUID only.
    assert_eq!(
        d.secret_lookup_by_usage(SecretUsageType::None, "")
            .unwrap_err()
            .code,
        ErrorCode::NoSecret
    );
    assert_eq!(d.secret_lookup_by_uuid(unused.uuid).unwrap(), unused);
    assert_eq!(d.secret_lookup_by_uuid(given.uuid).unwrap(), given);
    assert_eq!(d.secret_lookup_by_uuid(made.uuid).unwrap(), made);
    assert_eq!(
        d.secret_lookup_by_usage(SecretUsageType::Ceph, "client.admin")
            .unwrap(),
        given
    );
    assert_eq!(
        d.secret_lookup_by_usage(SecretUsageType::Iscsi, "iqn.2013-07.com.example:t1")
            .unwrap(),
        made
    );
    let mut all = vec![given.clone(), made.clone(), unused];
    all.sort_by_key(|s| s.uuid);
    assert_eq!(d.list_secrets().unwrap(), all);

    let def = def_of(cx, &given);
    assert_eq!(def.uuid, given.uuid);
    assert_eq!(def.description.as_deref(), Some("the admin key"));
    assert_eq!((def.ephemeral, def.private), (false, false));
    assert_eq!(
        (def.usage, def.usage_id.as_str()),
        (SecretUsageType::Ceph, "client.admin")
    );
    // Persistent: the definition is on disk and parses to the same.
    let (xml_file, value_file) = files(cx, given.uuid);
    let text = std::fs::read_to_string(&xml_file).expect("the definition is under secrets/");
    assert_eq!(SecretDef::from_xml(&text).unwrap(), def);
    assert!(!value_file.exists(), "no value yet");
}

/// A redefinition may change the description and keeps the value; it may
/// not change the usage nor make a private secret public, and no two
/// secrets share a usage.
pub fn secrets_redefine_rules(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let s = d
        .secret_define_xml(&ceph_secret(Some(CEPH), "client.a"))
        .unwrap();
    d.secret_set_value(&s, b"kept").unwrap();
    let again = d
        .secret_define_xml(&secret_xml(
            Some(CEPH),
            (false, false),
            Some("now described"),
            &ceph("client.a"),
        ))
        .unwrap();
    assert_eq!(again, s);
    assert_eq!(def_of(cx, &s).description.as_deref(), Some("now described"));
    assert_eq!(d.secret_get_value(&s).unwrap(), b"kept");

    for (xml, what) in [
        (ceph_secret(Some(CEPH), "client.b"), "another usage id"),
        (
            secret_xml(
                Some(CEPH),
                (false, false),
                None,
                "<usage type='tls'><name>client.a</name></usage>",
            ),
            "another usage type",
        ),
        (
            ceph_secret(Some(ISCSI), "client.a"),
            "a second secret of one usage",
        ),
        (
            ceph_secret(None, "client.a"),
            "a new secret of a taken usage",
        ),
    ] {
        let e = expect_err(d.secret_define_xml(&xml), ErrorCode::OperationInvalid, what);
        assert!(e.message.contains("already defined"), "{what}: {e}");
    }

    let private = secret_xml(Some(ISCSI), (false, true), None, &ceph("client.p"));
    let p = d.secret_define_xml(&private).unwrap();
    let e = expect_err(
        d.secret_define_xml(&secret_xml(
            Some(ISCSI),
            (false, false),
            None,
            &ceph("client.p"),
        )),
        ErrorCode::OperationInvalid,
        "a private secret made public",
    );
    assert!(e.message.contains("private"), "{e}");
    assert!(def_of(cx, &p).private, "still private");

    // Nothing refused changed anything.
    let mut all = vec![s.clone(), p];
    all.sort_by_key(|s| s.uuid);
    assert_eq!(d.list_secrets().unwrap(), all);
    assert_eq!(def_of(cx, &s).usage_id, "client.a");
    assert_eq!(d.secret_get_value(&s).unwrap(), b"kept");
}

/// A value is any bytes (NUL among them) up to 64 KiB, given back as it
/// was set and kept in base64 beside the definition; one byte more is
/// `LimitExceeded` and leaves the value as it was.
pub fn secret_values_round_trip(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let s = d
        .secret_define_xml(&ceph_secret(Some(CEPH), "client.v"))
        .unwrap();
    let every_byte: Vec<u8> = (0..=255u8).rev().chain(0..=255).collect();
    d.secret_set_value(&s, &every_byte).unwrap();
    assert_eq!(d.secret_get_value(&s).unwrap(), every_byte);
    let nul = b"\0\0 key \0".to_vec();
    d.secret_set_value(&s, &nul).unwrap();
    assert_eq!(d.secret_get_value(&s).unwrap(), nul);

    let (_, value_file) = files(cx, s.uuid);
    let stored = std::fs::read_to_string(&value_file).expect("the value is under secrets/");
    assert_eq!(stored.trim(), "AAAga2V5IAA=");
    let mode = std::fs::metadata(&value_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "only the manager reads a value: {mode:o}");

    let largest: Vec<u8> = (0..MAX_SECRET_VALUE).map(|i| (i * 7 % 251) as u8).collect();
    assert_eq!(largest.len(), 65536);
    d.secret_set_value(&s, &largest).unwrap();
    assert_eq!(d.secret_get_value(&s).unwrap(), largest);
    let e = expect_err(
        d.secret_set_value(&s, &vec![1u8; MAX_SECRET_VALUE + 1]),
        ErrorCode::LimitExceeded,
        "a value of 65537 bytes",
    );
    assert!(e.message.contains("65536"), "{e}");
    assert_eq!(d.secret_get_value(&s).unwrap(), largest);
}

/// A private secret takes a value but never gives it back.
pub fn private_secret_value_is_never_given(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let xml = secret_xml(Some(CEPH), (false, true), None, &ceph("client.p"));
    let s = d.secret_define_xml(&xml).unwrap();
    d.secret_set_value(&s, b"hidden").unwrap();
    let e = expect_err(
        d.secret_get_value(&s),
        ErrorCode::OperationDenied,
        "a private secret's value",
    );
    assert!(e.message.contains("private"), "{e}");
    assert!(!e.message.contains("hidden"), "{e}");
    assert!(!d.secret_xml(&s).unwrap().contains("hidden"));
    // It is kept all the same (for QEMU), on disk like any other.
    let (_, value_file) = files(cx, s.uuid);
    assert_eq!(
        std::fs::read_to_string(value_file).unwrap().trim(),
        "aGlkZGVu"
    );
}

/// An ephemeral secret and its value live in the manager only: nothing
/// of it is on disk, and the next manager does not know it. A persistent
/// one is found again, with its value and document.
pub fn secrets_persist_across_reopen(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let kept = d
        .secret_define_xml(&ceph_secret(Some(CEPH), "client.kept"))
        .unwrap();
    d.secret_set_value(&kept, b"\0persistent\xff").unwrap();
    let eph_xml = secret_xml(Some(ISCSI), (true, false), None, &ceph("client.eph"));
    let eph = d.secret_define_xml(&eph_xml).unwrap();
    d.secret_set_value(&eph, b"in memory").unwrap();
    assert_eq!(d.secret_get_value(&eph).unwrap(), b"in memory");
    assert!(def_of(cx, &eph).ephemeral);
    let (eph_xml_file, eph_value_file) = files(cx, eph.uuid);
    assert!(!eph_xml_file.exists() && !eph_value_file.exists());
    let kept_def = def_of(cx, &kept);

    cx.reopen();
    let d = cx.d();
    assert_eq!(d.list_secrets().unwrap(), std::slice::from_ref(&kept));
    assert_eq!(d.secret_lookup_by_uuid(kept.uuid).unwrap(), kept);
    assert_eq!(d.secret_get_value(&kept).unwrap(), b"\0persistent\xff");
    assert_eq!(def_of(cx, &kept), kept_def);
    expect_err(
        d.secret_lookup_by_uuid(eph.uuid),
        ErrorCode::NoSecret,
        "an ephemeral secret after a restart",
    );
    expect_err(
        d.secret_lookup_by_usage(SecretUsageType::Ceph, "client.eph"),
        ErrorCode::NoSecret,
        "an ephemeral secret's usage after a restart",
    );
    let names: Vec<String> = std::fs::read_dir(cx.root().join("secrets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| n.starts_with(CEPH)), "{names:?}");
}

/// Undefining removes the secret, its document and its value; its UUID
/// and usage are free again.
pub fn secret_undefine_removes_it(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let s = d
        .secret_define_xml(&ceph_secret(Some(CEPH), "client.u"))
        .unwrap();
    d.secret_set_value(&s, b"value").unwrap();
    let (xml_file, value_file) = files(cx, s.uuid);
    assert!(xml_file.exists() && value_file.exists());
    d.secret_undefine(&s).unwrap();
    assert!(!xml_file.exists() && !value_file.exists());
    assert!(d.list_secrets().unwrap().is_empty());
    expect_err(
        d.secret_lookup_by_uuid(s.uuid),
        ErrorCode::NoSecret,
        "undefined",
    );
    expect_err(
        d.secret_undefine(&s),
        ErrorCode::NoSecret,
        "undefined twice",
    );
    let other = d
        .secret_define_xml(&ceph_secret(Some(ISCSI), "client.u"))
        .unwrap();
    assert_eq!(
        d.secret_lookup_by_usage(SecretUsageType::Ceph, "client.u")
            .unwrap(),
        other
    );
}

/// What is not there is `NoSecret`: an unknown UUID or usage, a stale
/// handle, and a value never set.
pub fn unknown_secrets_are_no_secret(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let unknown = Uuid::parse_str(ISCSI).unwrap();
    expect_err(
        d.secret_lookup_by_uuid(unknown),
        ErrorCode::NoSecret,
        "unknown UUID",
    );
    let s = d
        .secret_define_xml(&ceph_secret(Some(CEPH), "client.n"))
        .unwrap();
    expect_err(
        d.secret_lookup_by_usage(SecretUsageType::Ceph, "client.other"),
        ErrorCode::NoSecret,
        "unknown usage id",
    );
    expect_err(
        d.secret_lookup_by_usage(SecretUsageType::Tls, "client.n"),
        ErrorCode::NoSecret,
        "a known id of another usage type",
    );
    let e = expect_err(d.secret_get_value(&s), ErrorCode::NoSecret, "no value yet");
    assert!(e.message.contains("value"), "{e}");
    let stale = Secret {
        uuid: unknown,
        ..s.clone()
    };
    expect_err(
        d.secret_xml(&stale),
        ErrorCode::NoSecret,
        "xml of a stale handle",
    );
    expect_err(
        d.secret_set_value(&stale, b"x"),
        ErrorCode::NoSecret,
        "set_value of a stale handle",
    );
    expect_err(
        d.secret_get_value(&stale),
        ErrorCode::NoSecret,
        "get_value of a stale handle",
    );
    expect_err(
        d.secret_undefine(&stale),
        ErrorCode::NoSecret,
        "undefine a stale handle",
    );
    assert_eq!(d.list_secrets().unwrap(), [s]);
}
