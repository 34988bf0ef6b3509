//! `<disk type='network' device='lun'>` over iSCSI: QEMU's `scsi-block`
//! on its own iSCSI initiator, so the guest's SCSI commands reach the
//! target itself. The Linux test guest reads the INQUIRY data of each
//! disk: tgtd's own ("IET") through a LUN, QEMU's ("QEMU") through a
//! plain disk on the same target, and a LUN plugged in while it runs is
//! the target's too.

use qvirt::driver::ModifyFlags;

use crate::inguest::Shell;
use crate::iscsi::{IQN, Target};
use crate::support::{State, linux_vm};

/// An iSCSI disk of LUN `lun` of the target, as `device` on `dev`.
fn iscsi_disk(device: &str, lun: u32, dev: &str) -> String {
    format!(
        "<disk type='network' device='{device}'>
      <driver name='qemu' type='raw'/>
      <source protocol='iscsi' name='{IQN}/{lun}'><host name='127.0.0.1' port='3260'/></source>
      <target dev='{dev}' bus='scsi'/>
    </disk>"
    )
}

/// What the guest's SCSI layer says of each disk, `LUN VENDOR`, one a
/// line, in order of the QEMU SCSI address's LUN number (sda is 0, sdb
/// 1, sdc 2), once `count` disks are there.
fn inquiry(sh: &mut Shell, count: usize) -> Vec<String> {
    let out = sh.run(&format!(
        "for i in $(seq 300); do [ $(ls -d /sys/bus/scsi/devices/[0-9]* 2>/dev/null | wc -l) -ge {count} ] && break; sleep 0.1; done; \
         for d in /sys/bus/scsi/devices/[0-9]*; do echo ${{d##*:}} $(sed 's/ *$//' $d/vendor); done"
    ));
    out.lines().map(str::to_string).collect()
}

#[test]
fn an_iscsi_lun_passes_the_guests_scsi_commands_to_the_target() {
    let st = State::new("iscsilun");
    let images: Vec<_> = (1..=3)
        .map(|n| {
            let p = st.root().join(format!("lun{n}.raw"));
            std::fs::File::create(&p).unwrap().set_len(8 << 20).unwrap();
            p
        })
        .collect();
    let target = Target::serve(&images[0]);
    target.add_lun(2, &images[1]);
    target.add_lun(3, &images[2]);
    let xml = linux_vm(
        "iscsilun",
        256,
        "",
        &format!(
            "<controller type='scsi' model='virtio-scsi'/>{}{}<memballoon model='none'/>",
            iscsi_disk("lun", 1, "sda"),
            iscsi_disk("disk", 2, "sdb"),
        ),
    );
    st.driver().define_xml(&xml).unwrap();
    let out = target.start_in(st.root(), "iscsilun");
    assert!(out.status.success(), "{out:?}");
    let d = st.driver();
    let dom = d.lookup_by_name("iscsilun").unwrap();
    let mut sh = Shell::open(&*d, "iscsilun");
    assert_eq!(
        inquiry(&mut sh, 2),
        ["0 IET", "1 QEMU"],
        "the LUN answers as the target, the plain disk as QEMU"
    );
    // A LUN plugged in live is scsi-block on the initiator too.
    d.attach_device(&dom, &iscsi_disk("lun", 3, "sdc"), ModifyFlags::LIVE)
        .unwrap();
    assert_eq!(inquiry(&mut sh, 3), ["0 IET", "1 QEMU", "2 IET"]);
    let live = d.xml_desc(&dom, Default::default()).unwrap();
    assert_eq!(live.matches("device='lun'").count(), 2, "{live}");
    drop(sh);
    d.destroy(&dom).unwrap();
    drop(d);
    drop(target);
}
