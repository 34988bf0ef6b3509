//! `<encryption format='luks'>`: a LUKS raw image (QEMU's `luks` format)
//! and a qcow2 image with LUKS encryption, each opened with the
//! passphrase kept in a secret, found by the volume's path (usage
//! `volume`) or by UUID. QEMU's own block layer reads back through the
//! decryption what was written before the start.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use std::time::Duration;

use crate::support::{State, firmware_vm, must, poll, qemus_under};

const PASSPHRASE: &str = "correct horse battery staple";

/// Makes an encrypted image of `mib` MiB whose first MiB is bytes 0x5a.
fn encrypted_image(path: &Path, qcow2: bool, mib: u32) {
    let secret = format!("secret,id=s0,data={PASSPHRASE}");
    // SHA-512 and a few tries: to size its key derivation, qemu-img
    // times a first round by the thread's user CPU time, which a kernel
    // that accounts CPU time by ticks may leave at 0 for a short round
    // ("Unable to get accurate CPU usage"); SHA-512's round is longer.
    let (format, opts) = if qcow2 {
        (
            "qcow2",
            "encrypt.format=luks,encrypt.key-secret=s0,encrypt.hash-alg=sha512",
        )
    } else {
        ("luks", "key-secret=s0,hash-alg=sha512")
    };
    let create = || {
        Command::new("qemu-img")
            .args([
                "create", "-q", "-f", format, "--object", &secret, "-o", opts,
            ])
            .arg(path)
            .arg(format!("{mib}M"))
            .output()
            .unwrap()
    };
    let made = (0..5).map(|_| create()).find(|o| o.status.success());
    assert!(
        made.is_some(),
        "qemu-img cannot make a LUKS image: {:?}",
        create()
    );
    let image = if qcow2 {
        format!(
            "driver=qcow2,encrypt.key-secret=s0,file.filename={}",
            path.display()
        )
    } else {
        format!("driver=luks,key-secret=s0,file.filename={}", path.display())
    };
    must(
        Command::new("qemu-io")
            .args(["--object", &secret, "--image-opts", &image])
            .args(["-c", "write -P 0x5a 0 1M"]),
    );
}

#[test]
fn luks_disks_open_with_their_passphrase_secret() {
    let st = State::new("luks");
    let (raw, qcow2) = (st.root().join("enc.luks"), st.root().join("enc.qcow2"));
    encrypted_image(&raw, false, 16);
    encrypted_image(&qcow2, true, 24);
    let d = st.driver();
    let by_path = d
        .secret_define_xml(&format!(
            "<secret ephemeral='no' private='yes'><usage type='volume'><volume>{}</volume></usage></secret>",
            raw.display()
        ))
        .unwrap();
    let by_uuid = d
        .secret_define_xml(
            "<secret ephemeral='no' private='no'><description>qcow2</description></secret>",
        )
        .unwrap();
    let xml = firmware_vm(
        "luks",
        "",
        &format!(
            "<disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{raw}'>
        <encryption format='luks'><secret type='passphrase' usage='{raw}'/></encryption>
      </source>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{qcow2}'/>
      <target dev='vdb' bus='virtio'/>
      <encryption format='luks' engine='qemu'><secret type='passphrase' uuid='{uuid}'/></encryption>
    </disk>",
            raw = raw.display(),
            qcow2 = qcow2.display(),
            uuid = by_uuid.uuid
        ),
    );
    let dom = d.define_xml(&xml).unwrap();
    // Both placements are written back where they were.
    let inactive = d.xml_desc(&dom, qvirt::driver::XmlFlags::INACTIVE).unwrap();
    assert!(
        inactive.contains("<secret type='passphrase' usage="),
        "{inactive}"
    );
    assert!(inactive.contains("engine='qemu'"), "{inactive}");
    // No passphrase yet: refused before QEMU, naming the disk.
    let e = d.start(&dom).unwrap_err();
    assert_eq!(e.code, qvirt::ErrorCode::NoSecret, "{e}");
    assert!(e.message.contains("disk 'vda'"), "{e}");
    assert!(qemus_under(st.root()).is_empty());
    // A wrong one: QEMU cannot unlock the image, and the start says so.
    d.secret_set_value(&by_path, b"wrong horse").unwrap();
    d.secret_set_value(&by_uuid, PASSPHRASE.as_bytes()).unwrap();
    let e = d.start(&dom).unwrap_err();
    assert!(e.message.contains("keyslot"), "{e}");
    assert!(qemus_under(st.root()).is_empty());
    // The right ones.
    d.secret_set_value(&by_path, PASSPHRASE.as_bytes()).unwrap();
    d.start(&dom).unwrap();
    let qmp = |cmd: &str, args: Value| -> Value {
        let line = json!({"execute": cmd, "arguments": args}).to_string();
        let out = d.qemu_monitor_command(&dom, &line).unwrap();
        serde_json::from_str::<Value>(&out).unwrap()["return"].clone()
    };
    let block = qmp("query-block", json!({}));
    let inserted =
        |dev: &str| qvirt::qemu::qmp::device_entry(&block, dev).unwrap()["inserted"].clone();
    let vda = inserted("virtio-disk0");
    assert_eq!(vda["drv"], "luks", "{vda}");
    assert_eq!(vda["image"]["virtual-size"], 16 << 20, "{vda}");
    let vdb = inserted("virtio-disk1");
    assert_eq!(
        (vdb["drv"].as_str(), vdb["encrypted"].as_bool()),
        (Some("qcow2"), Some(true)),
        "{vdb}"
    );
    assert_eq!(vdb["image"]["virtual-size"], 24 << 20, "{vdb}");
    // What the guest reads: each disk's top node copied by QEMU itself
    // (a full backup job) into a plain file, whose first MiB is the
    // pattern written before the start, decrypted.
    for (node, mib) in [("virtio-disk0-format", 16u64), ("virtio-disk1-format", 24)] {
        let out = st.root().join(format!("{node}.plain"));
        std::fs::File::create(&out)
            .unwrap()
            .set_len(mib << 20)
            .unwrap();
        let target = format!("{node}-copy");
        qmp(
            "blockdev-add",
            json!({"driver": "raw", "node-name": target,
                   "file": {"driver": "file", "filename": out}}),
        );
        qmp(
            "blockdev-backup",
            json!({"job-id": target, "device": node, "target": target, "sync": "full"}),
        );
        poll("the copy to finish", Duration::from_secs(30), || {
            let jobs = qmp("query-jobs", json!({}));
            let gone = !jobs
                .as_array()
                .unwrap()
                .iter()
                .any(|j| j["id"] == target.as_str());
            gone.then_some(())
        });
        qmp("blockdev-del", json!({"node-name": target}));
        let plain = std::fs::read(&out).unwrap();
        assert!(
            plain[..1 << 20].iter().all(|&b| b == 0x5a),
            "{node}: the guest would not read what was written"
        );
    }
    // An external snapshot would put a plain overlay over the encrypted
    // image: refused, naming the disk.
    let e = d
        .snapshot_create_xml(
            &dom,
            "<domainsnapshot><name>s1</name></domainsnapshot>",
            qvirt::driver::SnapshotCreateFlags::DISK_ONLY,
        )
        .unwrap_err();
    assert_eq!(e.code, qvirt::ErrorCode::ConfigUnsupported, "{e}");
    assert!(e.message.contains("disk vda is encrypted"), "{e}");
    // The passphrases are in private files, not on the command line.
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", st.qemu_pid("luks"))).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains(PASSPHRASE));
    d.destroy(&dom).unwrap();
}

/// An encrypted drive's medium is the image its passphrase opens: it is
/// not changed, whichever way the change is asked for.
#[test]
fn an_encrypted_drive_keeps_its_medium() {
    use qvirt::driver::MediaChange;
    let xml = firmware_vm(
        "luksmedia",
        "",
        "<disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/images/enc.iso'>
        <encryption format='luks'><secret type='passphrase' usage='/var/lib/images/enc.iso'/></encryption>
      </source>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>",
    );
    let def = qvirt::DomainDef::from_xml(&xml).unwrap();
    for change in [
        MediaChange::Eject,
        MediaChange::Update("/var/lib/images/other.iso".into()),
    ] {
        let e = change.drive_in(&def, "hdc", "definition").unwrap_err();
        assert_eq!(e.code, qvirt::ErrorCode::NoSupport, "{e}");
        assert!(e.message.contains("encrypted"), "{e}");
    }
}
