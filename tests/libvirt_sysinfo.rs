//! The host's SMBIOS through libvirt's protocol (virsh's `sysinfo`,
//! python3-libvirt's `getSysinfo`) against a `qvirtd --root DIR`. Which
//! answer is right is read from the host by the test itself: where
//! `dmidecode` reads the tables, the BIOS and system entries must be the
//! kernel's (`/sys/class/dmi/id`); where it cannot (no SMBIOS, as in
//! many containers), the call is refused as libvirt refuses it
//! (`VIR_ERR_CONFIG_UNSUPPORTED`, "Host SMBIOS information is not
//! available").

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::process::Command;

use lv::*;
use support::*;

/// The kernel's DMI field `name`, as libvirt's dmidecode would read it.
fn dmi(name: &str) -> Option<String> {
    std::fs::read_to_string(format!("/sys/class/dmi/id/{name}"))
        .ok()
        .map(|s| s.trim().to_string())
}

#[test]
fn sysinfo_is_the_hosts_smbios_or_refused_as_libvirt_refuses_it() {
    let dir = TestDir::new("lvsysinfo");
    let _daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let readable = Command::new("dmidecode")
        .args(["-q", "-t", "0,1"])
        .output()
        .is_ok_and(|o| o.status.success());
    let script = "import libvirt, sys\n\
        c = libvirt.openReadOnly(sys.argv[1])\n\
        try:\n\
        \x20   sys.stdout.write(c.getSysinfo(0))\n\
        except libvirt.libvirtError as e:\n\
        \x20   print('ERROR', e.get_error_code(), e.get_error_message())\n";
    let out = Command::new(PYTHON)
        .args(["-c", script, &uri(s)])
        .output()
        .expect("run python3");
    let py = String::from_utf8_lossy(&out.stdout).into_owned();
    if readable {
        let xml = virsh_ok(s, &["sysinfo"]);
        assert!(xml.starts_with("<sysinfo type='smbios'>"), "{xml}");
        assert_eq!(py.trim(), xml.trim());
        for (file, entry) in [
            ("bios_vendor", "vendor"),
            ("bios_version", "version"),
            ("sys_vendor", "manufacturer"),
            ("product_name", "product"),
        ] {
            if let Some(v) = dmi(file).filter(|v| !v.is_empty()) {
                assert!(
                    xml.contains(&format!("<entry name='{entry}'>{v}</entry>")),
                    "{file} {v}: {xml}"
                );
            }
        }
    } else {
        let err = virsh_err(s, &["sysinfo"]);
        assert!(
            err.contains("Host SMBIOS information is not available"),
            "{err}"
        );
        // VIR_ERR_CONFIG_UNSUPPORTED is 67.
        assert!(
            py.starts_with("ERROR 67 ") && py.contains("Host SMBIOS information is not available"),
            "{py} {out:?}"
        );
    }
}
