//! Secrets through libvirt's protocol, with the real clients: unmodified
//! virsh 9.0 and python3-libvirt 9.0 (Debian's) against a `qvirtd --root
//! DIR` on its libvirt sockets. What each verb does is checked against
//! the manager's files (`secrets/UUID.xml`, `UUID.base64`) and against
//! qvirt's own libvirt client of the same daemon; errors against
//! libvirt's codes and words; the procedures each client called, through
//! a recording proxy. A value never leaves through the read-only socket,
//! nor a private secret's through either. No QEMU is needed.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use lv::*;
use qvirt::model::{SecretDef, SecretUsageType};
use qvirt::transport::libvirt::frame::code;
use qvirt::transport::libvirt::types::*;
use qvirt::transport::libvirt::xdr::from_bytes;
use qvirt::{Driver, ErrorCode};
use support::*;
use uuid::Uuid;

/// A daemon with its read-only socket, its libvirt socket behind a
/// recording proxy.
struct World {
    dir: TestDir,
    _daemon: Daemon,
    rec: Recorder,
}

impl World {
    fn new(tag: &str) -> World {
        let dir = TestDir::new(tag);
        let daemon = Daemon::start(&dir.path, &["--read-only-socket"]);
        let rec = Recorder::new(&dir.path.join("rec.sock"), &lv_socket(&dir.path));
        World {
            dir,
            _daemon: daemon,
            rec,
        }
    }

    /// `virsh ARGS`, which must succeed: its output and the secret
    /// procedures it called, in order.
    #[track_caller]
    fn virsh(&self, args: &[&str]) -> (String, Vec<i32>) {
        self.rec.take();
        let out = virsh_ok(&self.rec.socket, args);
        (out, secret_calls(self.rec.take()))
    }

    /// `virsh ARGS`, which must fail: its stdout, its stderr and the
    /// secret procedures it called.
    #[track_caller]
    fn virsh_fails(&self, args: &[&str]) -> (String, String, Vec<i32>) {
        self.rec.take();
        let out = virsh(&self.rec.socket, args);
        assert!(
            !out.status.success(),
            "virsh {} succeeded: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            secret_calls(self.rec.take()),
        )
    }

    fn ro(&self) -> PathBuf {
        lv_socket_ro(&self.dir.path)
    }

    /// qvirt's own libvirt client of the daemon's socket `socket`.
    fn qvirt_over(&self, socket: &Path) -> Box<dyn Driver> {
        let uri = format!(
            "qemu+unix:///session?socket={}&proto=libvirt",
            socket.display()
        );
        qvirt::connect(&uri).unwrap_or_else(|e| panic!("connect {uri}: {e}"))
    }

    /// The manager's files of secret `uuid`: its definition and its value.
    fn files(&self, uuid: &str) -> (PathBuf, PathBuf) {
        let dir = self.dir.path.join("secrets");
        (
            dir.join(format!("{uuid}.xml")),
            dir.join(format!("{uuid}.base64")),
        )
    }
}

/// The secret procedures among `calls` (libvirt's numbers: 139-147 and
/// 287).
fn secret_calls(calls: Vec<i32>) -> Vec<i32> {
    calls
        .into_iter()
        .filter(|p| matches!(p, 139..=147 | 287))
        .collect()
}

const ISCSI: &str = "<secret ephemeral='no' private='no'>\
    <description>CHAP for the array</description>\
    <usage type='iscsi'><target>target</target></usage></secret>";
const PRIVATE: &str = "<secret ephemeral='yes' private='yes'>\
    <usage type='ceph'><name>client.admin</name></usage></secret>";

/// The UUID in virsh's `Secret UUID created`.
fn created(out: &str) -> String {
    let uuid = out
        .trim()
        .strip_prefix("Secret ")
        .and_then(|r| r.strip_suffix(" created"))
        .unwrap_or_else(|| panic!("not 'Secret UUID created': {out}"));
    assert!(uuid.parse::<Uuid>().is_ok(), "{uuid}");
    uuid.to_string()
}

/// The UUIDs in the first column of virsh's `secret-list`.
fn listed(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.parse::<Uuid>().is_ok())
        .map(str::to_string)
        .collect()
}

#[test]
fn virsh_manages_secrets() {
    let w = World::new("lvsecv");
    let file = write_file(&w.dir.path, "s.xml", ISCSI);
    let (out, calls) = w.virsh(&["secret-define", file.to_str().unwrap()]);
    let uuid = created(&out);
    assert_eq!(calls, [142]);
    let (xml_file, value_file) = w.files(&uuid);
    let def = SecretDef::from_xml(&std::fs::read_to_string(&xml_file).unwrap()).unwrap();
    assert_eq!(def.uuid.to_string(), uuid);
    assert_eq!(
        (def.usage, def.usage_id.as_str()),
        (SecretUsageType::Iscsi, "target")
    );
    assert!(!value_file.exists(), "no value yet");

    let (out, calls) = w.virsh(&["secret-list"]);
    eprintln!("secret-list called {calls:?}");
    assert_eq!(calls[0], 287, "{calls:?}");
    assert_eq!(listed(&out), [uuid.as_str()]);
    let line = out.lines().find(|l| l.contains(&uuid)).unwrap();
    assert!(line.contains("iscsi target"), "{out}");

    let (out, calls) = w.virsh(&["secret-dumpxml", &uuid]);
    assert_eq!(calls, [141, 143]);
    assert_eq!(SecretDef::from_xml(&out).unwrap(), def);
    assert!(out.contains("<description>CHAP for the array</description>"));

    // No value yet: libvirt's "not found", in its words.
    let (_, err, calls) = w.virsh_fails(&["secret-get-value", &uuid]);
    assert!(
        err.contains(&format!(
            "error: Secret not found: secret '{uuid}' does not have a value"
        )),
        "{err}"
    );
    assert_eq!(calls, [141, 145]);

    // A value with a NUL in it, set and read back as base64.
    let (out, calls) = w.virsh(&[
        "secret-set-value",
        "--secret",
        &uuid,
        "--base64",
        "aGVsbG8Ad29ybGQ=",
    ]);
    assert!(out.contains("Secret value set"), "{out}");
    assert_eq!(calls, [141, 144]);
    assert_eq!(
        std::fs::read_to_string(&value_file).unwrap().trim(),
        "aGVsbG8Ad29ybGQ="
    );
    let mode = std::fs::metadata(&value_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the value file is the manager's only");
    let (out, calls) = w.virsh(&["secret-get-value", &uuid]);
    assert_eq!(out.trim(), "aGVsbG8Ad29ybGQ=");
    assert_eq!(calls, [141, 145]);
    // The document never holds it.
    let (out, _) = w.virsh(&["secret-dumpxml", &uuid]);
    assert!(!out.contains("aGVsbG8") && !out.contains("value"), "{out}");

    // A private secret: its value is set, never given back.
    let file = write_file(&w.dir.path, "p.xml", PRIVATE);
    let (out, _) = w.virsh(&["secret-define", file.to_str().unwrap()]);
    let private = created(&out);
    w.virsh(&["secret-set-value", "--secret", &private, "--base64", "AAEC"]);
    let (out, err, calls) = w.virsh_fails(&["secret-get-value", &private]);
    assert!(
        err.contains("error: Invalid secret: secret is private"),
        "{err}"
    );
    assert!(!out.contains("AAEC"), "{out}");
    assert_eq!(calls, [141, 145]);
    // Ephemeral: nothing of it on disk.
    let (xml_p, value_p) = w.files(&private);
    assert!(!xml_p.exists() && !value_p.exists());

    // The list filters.
    let mut both = vec![uuid.clone(), private.clone()];
    both.sort();
    let filtered = |flag: &str| {
        let (out, calls) = w.virsh(&["secret-list", flag]);
        assert_eq!(calls[0], 287, "{calls:?}");
        let mut l = listed(&out);
        l.sort();
        l
    };
    assert_eq!(filtered("--ephemeral"), [private.as_str()]);
    assert_eq!(filtered("--no-ephemeral"), [uuid.as_str()]);
    assert_eq!(filtered("--private"), [private.as_str()]);
    assert_eq!(filtered("--no-private"), [uuid.as_str()]);
    let (out, _) = w.virsh(&["secret-list"]);
    let mut all = listed(&out);
    all.sort();
    assert_eq!(all, both);

    // Undefine: the files go with it.
    let (out, calls) = w.virsh(&["secret-undefine", &uuid]);
    assert!(out.contains(&format!("Secret {uuid} deleted")), "{out}");
    assert_eq!(calls, [141, 146]);
    assert!(!xml_file.exists() && !value_file.exists());
    let (out, _) = w.virsh(&["secret-list"]);
    assert_eq!(listed(&out), [private.as_str()]);

    // What does not exist: libvirt's words.
    let (_, err, calls) = w.virsh_fails(&["secret-dumpxml", &uuid]);
    assert!(
        err.contains(&format!(
            "error: Secret not found: no secret with matching uuid '{uuid}'"
        )),
        "{err}"
    );
    assert_eq!(calls, [141]);
    let (_, err, _) = w.virsh_fails(&["secret-undefine", &uuid]);
    assert!(err.contains("Secret not found"), "{err}");
}

#[test]
fn the_read_only_socket_never_gives_a_value() {
    let w = World::new("lvsecro");
    let ro = w.ro();
    let file = write_file(&w.dir.path, "s.xml", ISCSI);
    let (out, _) = w.virsh(&["secret-define", file.to_str().unwrap()]);
    let uuid = created(&out);
    w.virsh(&[
        "secret-set-value",
        "--secret",
        &uuid,
        "--base64",
        "czNjcjN0",
    ]);

    // What it may read: the list and the document.
    let out = virsh_ok(&ro, &["secret-list"]);
    assert_eq!(listed(&out), [uuid.as_str()]);
    let out = virsh_ok(&ro, &["secret-dumpxml", &uuid]);
    assert!(out.contains("<target>target</target>"), "{out}");

    // What it may not: the value, and any change.
    let file2 = write_file(
        &w.dir.path,
        "n.xml",
        "<secret><usage type='iscsi'><target>other</target></usage></secret>",
    );
    for args in [
        &["secret-get-value", &uuid][..],
        &["secret-define", file2.to_str().unwrap()],
        &["secret-set-value", "--secret", &uuid, "--base64", "AAAA"],
        &["secret-undefine", &uuid],
    ] {
        let out = virsh(&ro, args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {stdout}");
        assert!(
            err.contains("error: operation forbidden: read only access prevents"),
            "{args:?}: {err}"
        );
        assert!(!stdout.contains("czNjcjN0"), "{args:?}: {stdout}");
    }
    // `virsh -r` on the read-write socket: libvirt's client refuses
    // before anything is sent; the daemon would refuse it all the same.
    let (out, err, calls) = w.virsh_fails(&["-r", "secret-get-value", &uuid]);
    assert!(
        err.contains("operation forbidden: read only access prevents virSecretGetValue"),
        "{err}"
    );
    assert!(!out.contains("czNjcjN0"), "{out}");
    assert_eq!(calls, [141], "no SECRET_GET_VALUE sent");
    let (_, err, _) = w.virsh_fails(&["-r", "secret-define", file2.to_str().unwrap()]);
    assert!(err.contains("read only access prevents"), "{err}");

    // What virsh does not send, the daemon refuses: on the read-only
    // socket, and on a read-write one opened read-only (VIR_CONNECT_RO).
    for (socket, flags) in [(ro.clone(), 0), (lv_socket(&w.dir.path), 1)] {
        let mut c = Raw::connect(&socket);
        c.open(false, flags);
        let h: SecretRet = from_bytes(
            &c.call(
                141,
                &UuidArgs {
                    uuid: uuid.parse().unwrap(),
                },
            )
            .unwrap(),
            "secret",
        )
        .unwrap();
        let on = SecretFlagsArgs {
            secret: h.secret.clone(),
            flags: 0,
        };
        let e = c.call(145, &on).unwrap_err();
        assert_eq!(e.code, code::OPERATION_DENIED);
        assert!(!format!("{e:?}").contains("s3cr3t"));
        let set = SecretSetValueArgs {
            secret: h.secret.clone(),
            value: SecretValue(b"x".to_vec()),
            flags: 0,
        };
        assert_eq!(c.call(144, &set).unwrap_err().code, code::OPERATION_DENIED);
        let undefine = SecretArgs {
            secret: h.secret.clone(),
        };
        assert_eq!(
            c.call(146, &undefine).unwrap_err().code,
            code::OPERATION_DENIED
        );
        let define = XmlFlagsArgs {
            xml: "<secret><usage type='none'/></secret>".into(),
            flags: 0,
        };
        assert_eq!(
            c.call(142, &define).unwrap_err().code,
            code::OPERATION_DENIED
        );
    }

    // qvirt's own libvirt client on the read-only socket: the same.
    let qro = w.qvirt_over(&ro);
    let s = qro.secret_lookup_by_uuid(uuid.parse().unwrap()).unwrap();
    assert!(
        qro.secret_xml(&s)
            .unwrap()
            .contains("<target>target</target>")
    );
    assert_code(qro.secret_get_value(&s), ErrorCode::OperationDenied);
    assert_code(qro.secret_set_value(&s, b"x"), ErrorCode::OperationDenied);
    assert_code(qro.secret_undefine(&s), ErrorCode::OperationDenied);
    assert_code(
        qro.secret_define_xml("<secret><usage type='none'/></secret>"),
        ErrorCode::OperationDenied,
    );

    // Nothing changed.
    let out = virsh_ok(&w.rec.socket, &["secret-get-value", &uuid]);
    assert_eq!(out.trim(), "czNjcjN0");
    let out = virsh_ok(&w.rec.socket, &["secret-list"]);
    assert_eq!(listed(&out), [uuid]);
}

#[test]
fn a_python3_libvirt_program_makes_every_secret_call() {
    let w = World::new("lvsecpy");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/libvirt/secrets.py");
    w.rec.take();
    let out = Command::new(PYTHON)
        .arg(script)
        .arg(uri(&w.rec.socket))
        .arg(uri(&w.ro()))
        .output()
        .expect("run the python3-libvirt program");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("PY-SECRETS-OK"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = secret_calls(w.rec.take());
    eprintln!("python3-libvirt called {calls:?}");
    for p in [139, 140, 141, 142, 143, 144, 145, 146, 147, 287] {
        assert!(calls.contains(&p), "no call of {p} in {calls:?}");
    }
    // What it left: the persistent secret on disk with the bytes it set,
    // the ephemeral one in the daemon only.
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {text}"))
            .trim()
            .to_string()
    };
    let (persistent, ephemeral) = (field("PERSISTENT "), field("EPHEMERAL "));
    let (xml, value) = w.files(&persistent);
    assert!(xml.exists());
    assert_eq!(
        std::fs::read_to_string(&value).unwrap().trim(),
        qvirt::model::base64_encode(b"\0pass\0word\0")
    );
    let (xml, value) = w.files(&ephemeral);
    assert!(!xml.exists() && !value.exists());
    let q = w.qvirt_over(&lv_socket(&w.dir.path));
    let mut want: Vec<Uuid> = [&persistent, &ephemeral]
        .iter()
        .map(|u| u.parse().unwrap())
        .collect();
    want.sort();
    let uuids: Vec<Uuid> = q.list_secrets().unwrap().iter().map(|s| s.uuid).collect();
    assert_eq!(uuids, want);
    let s = q
        .secret_lookup_by_uuid(persistent.parse().unwrap())
        .unwrap();
    assert_eq!(q.secret_get_value(&s).unwrap(), b"\0pass\0word\0");
}

/// The secret calls of qvirt's API, on `d`: what a manager answers, and
/// what qvirt's libvirt client must answer the same.
fn secret_calls_on(d: &dyn Driver) {
    assert!(d.list_secrets().unwrap().is_empty());
    let a = d
        .secret_define_xml(
            "<secret ephemeral='no' private='no'><uuid>00000000-0000-4000-8000-00000000000a</uuid>\
             <usage type='iscsi'><target>target</target></usage></secret>",
        )
        .unwrap();
    assert_eq!(
        (a.usage, a.usage_id.as_str()),
        (SecretUsageType::Iscsi, "target")
    );
    let b = d
        .secret_define_xml(
            "<secret ephemeral='yes' private='yes'><uuid>00000000-0000-4000-8000-000000000001</uuid>\
             <usage type='ceph'><name>client.admin</name></usage></secret>",
        )
        .unwrap();
    let c = d
        .secret_define_xml("<secret><usage type='none'/></secret>")
        .unwrap();
    assert_eq!((c.usage, c.usage_id.as_str()), (SecretUsageType::None, ""));
    // By UUID, whatever order they were made in.
    let mut want = vec![a.uuid, b.uuid, c.uuid];
    want.sort();
    let got: Vec<Uuid> = d.list_secrets().unwrap().iter().map(|s| s.uuid).collect();
    assert_eq!(got, want);
    assert_eq!(d.secret_lookup_by_uuid(a.uuid).unwrap(), a);
    assert_eq!(
        d.secret_lookup_by_usage(SecretUsageType::Iscsi, "target")
            .unwrap(),
        a
    );
    assert_eq!(
        d.secret_lookup_by_usage(SecretUsageType::Ceph, "client.admin")
            .unwrap(),
        b
    );
    assert_code(
        d.secret_lookup_by_usage(SecretUsageType::Ceph, "target"),
        ErrorCode::NoSecret,
    );
    assert_code(
        d.secret_lookup_by_uuid(Uuid::from_u128(5)),
        ErrorCode::NoSecret,
    );
    let def = SecretDef::from_xml(&d.secret_xml(&b).unwrap()).unwrap();
    assert!(def.ephemeral && def.private);

    // Values.
    assert_code(d.secret_get_value(&a), ErrorCode::NoSecret);
    d.secret_set_value(&a, b"\0a\0").unwrap();
    assert_eq!(d.secret_get_value(&a).unwrap(), b"\0a\0");
    d.secret_set_value(&b, b"key").unwrap();
    assert_code(d.secret_get_value(&b), ErrorCode::OperationDenied);
    let max = vec![7u8; 65536];
    d.secret_set_value(&a, &max).unwrap();
    assert_eq!(d.secret_get_value(&a).unwrap(), max);
    assert_code(
        d.secret_set_value(&a, &[0; 65537]),
        ErrorCode::LimitExceeded,
    );
    assert_eq!(d.secret_get_value(&a).unwrap(), max);

    // Redefinition: another usage for the UUID is refused; a private
    // secret stays private.
    assert_code(
        d.secret_define_xml(
            "<secret><uuid>00000000-0000-4000-8000-00000000000a</uuid>\
             <usage type='iscsi'><target>other</target></usage></secret>",
        ),
        ErrorCode::OperationInvalid,
    );
    assert_code(
        d.secret_define_xml(
            "<secret ephemeral='yes' private='no'><uuid>00000000-0000-4000-8000-000000000001</uuid>\
             <usage type='ceph'><name>client.admin</name></usage></secret>",
        ),
        ErrorCode::OperationInvalid,
    );
    let e = assert_code(
        d.secret_define_xml("<secret><bad/></secret>"),
        ErrorCode::ConfigUnsupported,
    );
    assert!(e.message.contains("<bad>"), "{e}");

    // Undefine.
    d.secret_undefine(&c).unwrap();
    assert_code(d.secret_xml(&c), ErrorCode::NoSecret);
    assert_code(d.secret_undefine(&c), ErrorCode::NoSecret);
    assert_eq!(d.list_secrets().unwrap().len(), 2);
}

#[test]
fn qvirts_libvirt_client_answers_as_the_manager() {
    // The manager itself, in process.
    let local_dir = TestDir::new("lvseclocal");
    let local = qvirt::LocalDriver::open_embedded(&local_dir.path).unwrap();
    secret_calls_on(&local);
    // qvirt's libvirt client of a daemon's libvirt socket.
    let w = World::new("lvsecq");
    let q = w.qvirt_over(&lv_socket(&w.dir.path));
    secret_calls_on(&*q);
}

#[test]
fn a_malformed_secret_call_is_refused_and_the_connection_goes_on() {
    let w = World::new("lvsecbad");
    let mut c = Raw::connect(&lv_socket(&w.dir.path));
    c.open(true, 0);
    let h: SecretRet = from_bytes(
        &c.call(
            142,
            &XmlFlagsArgs {
                xml: "<secret><usage type='iscsi'><target>t</target></usage></secret>".into(),
                flags: 0,
            },
        )
        .unwrap(),
        "secret",
    )
    .unwrap();
    // A value one byte over REMOTE_SECRET_VALUE_MAX does not decode.
    let too_long = SecretSetValueArgs {
        secret: h.secret.clone(),
        value: SecretValue(vec![1; 65537]),
        flags: 0,
    };
    let e = c.call(144, &too_long).unwrap_err();
    assert_eq!(e.code, code::RPC, "{e:?}");
    // Cut short, and with unknown flags.
    let e = c
        .call(
            145,
            &UuidArgs {
                uuid: h.secret.uuid,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::RPC, "{e:?}");
    let e = c
        .call(
            145,
            &SecretFlagsArgs {
                secret: h.secret.clone(),
                flags: 2,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::INVALID_ARG);
    // A handle is its UUID: a stale usage in it does not matter, an
    // unknown UUID is VIR_ERR_NO_SECRET.
    let odd = SecretHandle {
        usage_type: 99,
        usage_id: "x".into(),
        ..h.secret.clone()
    };
    let xml: XmlRet = from_bytes(
        &c.call(
            143,
            &SecretFlagsArgs {
                secret: odd.clone(),
                flags: 0,
            },
        )
        .unwrap(),
        "xml",
    )
    .unwrap();
    assert!(xml.xml.contains("<target>t</target>"), "{}", xml.xml);
    let gone = SecretHandle {
        uuid: Uuid::from_u128(3),
        ..odd
    };
    let e = c
        .call(
            143,
            &SecretFlagsArgs {
                secret: gone,
                flags: 0,
            },
        )
        .unwrap_err();
    assert_eq!((e.code, e.domain), (code::NO_SECRET, 30));
    let e = c
        .call(
            147,
            &SecretUsageArgs {
                usage_type: -4,
                usage_id: "t".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::NO_SECRET);
    // The connection still answers, and the secret is as it was.
    let n: NumRet = from_bytes(&c.call(139, &()).unwrap(), "num").unwrap();
    assert_eq!(n.num, 1);
}
