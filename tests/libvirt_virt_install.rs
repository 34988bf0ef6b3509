//! Unmodified virt-install (Debian's virtinst 4.1) against a real qvirtd's
//! libvirt socket: `virt-install --import` defines and starts a VM that
//! boots the Linux test guest, from the capabilities it reads, and the
//! guest then powers off on virsh's ACPI shutdown. A recording proxy
//! tells which calls virt-install made.
//!
//! The disk is a plain file outside qvirt's pools, under /dev/shm:
//! virt-install makes a pool of a disk's directory unless the path is
//! under /dev (it leaves those to the user). Disks made in pools are
//! `tests/libvirt_storage.rs`'s.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::path::PathBuf;
use std::time::Duration;

use lv::*;
use qvirt::driver::{DomainState, StateReason};
use support::*;

/// A disk image under /dev/shm, removed when dropped.
struct ShmDisk(PathBuf);

impl Drop for ShmDisk {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn virt_install_imports_a_vm_that_boots_the_test_guest() {
    let dir = TestDir::new("lvvi");
    let daemon = Daemon::start(&dir.path, &[]);
    let qvirt = daemon.connect();
    let rec = Recorder::new(&dir.path.join("rec.sock"), &lv_socket(&dir.path));
    let disk = ShmDisk(PathBuf::from(format!(
        "/dev/shm/qvirt-test-{}.img",
        std::process::id()
    )));
    std::fs::File::create(&disk.0)
        .and_then(|f| f.set_len(64 << 20))
        .expect("create the disk image");
    let g = guest_dir();
    let disk_arg = format!("path={}", disk.0.display());
    let boot = format!(
        "kernel={},initrd={},kernel_args=console=ttyS0 quiet no_timer_check",
        g.join("vmlinux").display(),
        g.join("initrd.img").display()
    );
    virt_install_ok(
        &rec.socket,
        &[
            "--name", "vi", "--vcpus", "1", "--disk", &disk_arg, "--boot", &boot,
        ],
        &[],
    );
    let calls = rec.take();
    eprintln!("virt-install called: {calls:?}");
    // It read the version (4) and the capabilities (7), looked the disk
    // up as a storage volume (97) among pools (281), then started the
    // domain as virt-install does an import: created from its XML (10),
    // then defined (11) so it persists.
    for p in [4, 7, 281, 97, 10, 11] {
        assert!(calls.contains(&p), "no call of {p} in {calls:?}");
    }

    let dom = qvirt.lookup_by_name("vi").expect("virt-install's domain");
    let info = qvirt.info(&dom).unwrap();
    assert_eq!(
        (info.state, info.reason),
        (DomainState::Running, StateReason::Booted)
    );
    assert!(info.persistent);
    let xml = qvirt
        .xml_desc(&dom, qvirt::driver::XmlFlags::INACTIVE)
        .unwrap();
    let def = qvirt::DomainDef::from_xml(&xml).unwrap();
    assert_eq!(
        def.devices.disks[0].source.as_deref(),
        disk.0.to_str(),
        "{xml}"
    );
    let console = dir.path.join("log/console/vi.log");
    let ready = || {
        std::fs::read_to_string(&console)
            .unwrap_or_default()
            .contains("QVIRT-GUEST-READY")
    };
    wait_for("the guest to boot", Duration::from_secs(240), || {
        ready().then_some(())
    });
    // virt-install gave it ACPI (from the capabilities), so it powers
    // off on the button.
    let out = virsh_ok(&lv_socket(&dir.path), &["shutdown", "vi"]);
    assert!(out.contains("is being shutdown"), "{out}");
    wait_for("the guest to power off", Duration::from_secs(240), || {
        let i = qvirt.info(&dom).unwrap();
        (i.state == DomainState::Shutoff).then_some(i.reason)
    });
    assert_eq!(qvirt.info(&dom).unwrap().reason, StateReason::Shutdown);
}
