//! The secret verbs as virsh's users know them: `secret-define`,
//! `secret-list`, `secret-dumpxml`, `secret-set-value`,
//! `secret-get-value`, `secret-undefine`, their wording and virsh's
//! table, values as base64 or raw bytes, and the files under `secrets/`.

use crate::Root;

const CEPH_UUID: &str = "0a81f5b2-8403-4b23-88d6-21ccc2f80d6f";

/// A `<secret>` for Ceph client `name`, with `uuid` if given.
fn ceph_xml(uuid: Option<&str>, name: &str, private: bool) -> String {
    let uuid = uuid
        .map(|u| format!("<uuid>{u}</uuid>"))
        .unwrap_or_default();
    let private = if private { "yes" } else { "no" };
    format!(
        "<secret ephemeral='no' private='{private}'>{uuid}\
         <usage type='ceph'><name>{name}</name></usage></secret>"
    )
}

#[test]
fn secrets_defined_listed_set_read_and_undefined() {
    let root = Root::new("secrets");
    assert_eq!(
        root.ok(&["secret-list"]),
        " UUID   Usage\n---------------\n"
    );

    let given = root.file(
        "ceph.xml",
        &ceph_xml(Some(CEPH_UUID), "client.admin", false),
    );
    assert_eq!(
        root.ok(&["secret-define", &given]),
        format!("Secret {CEPH_UUID} created\n")
    );
    let made = root.file(
        "vol.xml",
        "<secret ephemeral='no' private='no'><description>disk key</description>\
         <usage type='volume'><volume>/var/lib/x.img</volume></usage></secret>",
    );
    let out = root.ok(&["secret-define", &made]);
    let vol_uuid = out
        .strip_prefix("Secret ")
        .and_then(|r| r.strip_suffix(" created\n"))
        .unwrap_or_else(|| panic!("{out}"))
        .to_string();
    assert!(uuid::Uuid::parse_str(&vol_uuid).is_ok(), "{out}");

    // virsh's table: ordered by UUID, `TYPE ID` per secret.
    let mut rows = [
        (CEPH_UUID.to_string(), "ceph client.admin".to_string()),
        (vol_uuid.clone(), "volume /var/lib/x.img".to_string()),
    ];
    rows.sort();
    let width = rows.iter().map(|(_, u)| u.len()).max().unwrap();
    let mut want = format!(
        " UUID{}Usage\n{}\n",
        " ".repeat(35),
        "-".repeat(39 + width + 3)
    );
    for (uuid, usage) in &rows {
        want.push_str(&format!(" {uuid}   {usage}\n"));
    }
    assert_eq!(root.ok(&["secret-list"]), want);

    // By UUID or by usage id, like virsh's lookups.
    let xml = root.ok(&["secret-dumpxml", "client.admin"]);
    assert!(xml.contains(&format!("<uuid>{CEPH_UUID}</uuid>")), "{xml}");
    assert!(xml.contains("<name>client.admin</name>"), "{xml}");
    assert!(
        root.ok(&["secret-dumpxml", &vol_uuid])
            .contains("<description>disk key</description>")
    );

    // No value yet.
    let err = root.fails(&["secret-get-value", CEPH_UUID]);
    assert!(err.contains("does not have a value"), "{err}");

    // --base64 (with virsh's warning), printed back as base64.
    let out = root.run(&["secret-set-value", CEPH_UUID, "--base64", "aGVsbG8="]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Secret value set\n");
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(warning.starts_with("warning: "), "{warning}");
    assert_eq!(root.ok(&["secret-get-value", CEPH_UUID]), "aGVsbG8=\n");
    let plain = root.run(&["secret-get-value", CEPH_UUID, "--plain"]);
    assert!(plain.status.success());
    assert_eq!(plain.stdout, b"hello");

    // A file of base64 text (wrapped, as base64 files are).
    let b64 = root.file("value.b64", "AAEC\n/wA=\n");
    assert_eq!(
        root.ok(&["secret-set-value", "client.admin", "--file", &b64]),
        "Secret value set\n"
    );
    let out = root.run(&["secret-get-value", "client.admin", "--plain"]);
    assert_eq!(out.stdout, [0, 1, 2, 0xff, 0]);
    assert_eq!(root.ok(&["secret-get-value", CEPH_UUID]), "AAEC/wA=\n");

    // A file of raw bytes with --plain.
    let raw = root.dir.join("value.raw");
    std::fs::write(&raw, b"a\0b\n").unwrap();
    let raw = raw.display().to_string();
    root.ok(&["secret-set-value", &vol_uuid, "--file", &raw, "--plain"]);
    let out = root.run(&["secret-get-value", &vol_uuid, "--plain"]);
    assert_eq!(out.stdout, b"a\0b\n");
    let on_disk = std::fs::read_to_string(root.dir.join(format!("secrets/{vol_uuid}.base64")));
    assert_eq!(on_disk.unwrap().trim(), "YQBiCg==");

    // What is not base64 is refused, and the value stays.
    let err = root.fails(&["secret-set-value", CEPH_UUID, "--base64", "not base64!"]);
    assert!(err.contains("not base64"), "{err}");
    let err = root.fails(&["secret-set-value", CEPH_UUID, "--file", &raw]);
    assert!(err.contains("--plain"), "{err}");
    let err = root.fails(&["secret-set-value", CEPH_UUID]);
    assert!(err.contains("--file"), "{err}");
    assert_eq!(root.ok(&["secret-get-value", CEPH_UUID]), "AAEC/wA=\n");

    // Unknown secrets.
    let err = root.fails(&["secret-dumpxml", "client.nobody"]);
    assert!(err.contains("client.nobody"), "{err}");
    root.fails(&["secret-get-value", "5f0c6a52-8d43-4c1e-9b7a-2f4e1d3c6b70"]);

    assert_eq!(
        root.ok(&["secret-undefine", CEPH_UUID]),
        format!("Secret {CEPH_UUID} deleted\n")
    );
    assert!(!root.dir.join(format!("secrets/{CEPH_UUID}.xml")).exists());
    assert!(
        !root
            .dir
            .join(format!("secrets/{CEPH_UUID}.base64"))
            .exists()
    );
    let list = root.ok(&["secret-list"]);
    assert!(!list.contains(CEPH_UUID), "{list}");
    assert!(list.contains(&vol_uuid), "{list}");
    root.fails(&["secret-undefine", CEPH_UUID]);
}

#[test]
fn private_secrets_keep_their_value_and_lists_filter() {
    let root = Root::new("secrets-private");
    let xml = root.file("p.xml", &ceph_xml(Some(CEPH_UUID), "client.p", true));
    root.ok(&["secret-define", &xml]);
    let public = root.file(
        "q.xml",
        "<secret ephemeral='no' private='no'><usage type='tls'><name>q</name></usage></secret>",
    );
    root.ok(&["secret-define", &public]);
    root.ok(&["secret-set-value", "client.p", "--base64", "c2VjcmV0"]);
    let err = root.fails(&["secret-get-value", "client.p"]);
    assert!(err.contains("private"), "{err}");
    assert!(
        std::fs::read_to_string(root.dir.join(format!("secrets/{CEPH_UUID}.base64")))
            .unwrap()
            .starts_with("c2VjcmV0")
    );

    let private = root.ok(&["secret-list", "--private"]);
    assert!(private.contains("ceph client.p"), "{private}");
    assert!(!private.contains("tls q"), "{private}");
    let readable = root.ok(&["secret-list", "--no-private"]);
    assert!(!readable.contains("ceph client.p"), "{readable}");
    assert!(readable.contains("tls q"), "{readable}");
    let on_disk = root.ok(&["secret-list", "--no-ephemeral"]);
    assert!(on_disk.contains("ceph client.p") && on_disk.contains("tls q"));

    // An embedded manager lives as long as one command: an ephemeral
    // secret is gone with it, and never was on disk.
    let eph = root.file(
        "e.xml",
        "<secret ephemeral='yes' private='no'><usage type='tls'><name>e</name></usage></secret>",
    );
    root.ok(&["secret-define", &eph]);
    assert_eq!(
        root.ok(&["secret-list", "--ephemeral"]),
        " UUID   Usage\n---------------\n"
    );
    assert_eq!(
        std::fs::read_dir(root.dir.join("secrets")).unwrap().count(),
        3,
        "two definitions and one value"
    );
}
