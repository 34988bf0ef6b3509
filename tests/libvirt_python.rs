//! A python3-libvirt program (Debian's python3-libvirt 9.0, unmodified)
//! against a real qvirtd's libvirt socket: `tests/libvirt/api.py` makes
//! every call the issue names, with lifecycle events on a keepalive
//! connection, and checks each answer; this test then checks with qvirt's
//! own client, on the same daemon, what the program left behind.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::path::PathBuf;
use std::process::Command;

use lv::*;
use qvirt::driver::ListFilter;
use support::*;

#[test]
fn a_python3_libvirt_program_drives_qvirtd() {
    let dir = TestDir::new("lvpy");
    let daemon = Daemon::start(&dir.path, &["--read-only-socket"]);
    let qvirt = daemon.connect();
    let files = dir.path.join("py");
    std::fs::create_dir(&files).unwrap();
    write_file(&files, "fw.xml", &firmware_vm("py-fw"));
    write_file(&files, "tx.xml", &firmware_vm("py-tx"));
    write_file(&files, "kept.xml", &firmware_vm("py-kept"));
    write_file(&files, "lin.xml", &linux_vm("py-lin"));
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/libvirt/api.py");
    let out = Command::new(PYTHON)
        .arg(script)
        .arg(uri(&lv_socket(&dir.path)))
        .arg(&files)
        .arg(&dir.path)
        .output()
        .expect("run the python3-libvirt program");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("PY-OK"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What the program left, as qvirt sees it: only py-kept, with the
    // UUID python read and the autostart it set.
    let all = qvirt.list(ListFilter::ALL).unwrap();
    let names: Vec<&str> = all.iter().map(|s| s.domain.name.as_str()).collect();
    assert_eq!(names, ["py-kept"]);
    let uuid = text
        .lines()
        .find_map(|l| l.strip_prefix("KEPT "))
        .expect("the kept domain's UUID");
    assert_eq!(all[0].domain.uuid.to_string(), uuid);
    assert!(qvirt.autostart(&all[0].domain).unwrap());
    assert!(
        files.join("py-fw.save").exists(),
        "the save image python asked for"
    );
}
