//! A disk's guest-visible attributes (`<blockio>`, `<geometry>`,
//! `<target rotation_rate>`, the `<driver>` switches and virtio options,
//! `copy_on_read`, `<metadata_cache>`), a filesystem's virtio options and `<memory
//! dumpCore>`: read, written back, valid against libvirt's schema, and
//! refused where libvirt or QEMU's devices refuse them.

use qvirt::model::{DomainDef, GeometryTrans, ModelErrorKind};

use crate::{accept, doc, reject, reject_at_define, round_trip, scratch_dir, xmllint_validate};

use ModelErrorKind::{Invalid, Unsupported};

const ALL: &str = "
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' ioeventfd='on' event_idx='off' copy_on_read='on' iommu='on' ats='off' packed='on' page_per_vq='off'/>
      <source file='/var/lib/img/a.qcow2'/>
      <geometry cyls='2048' heads='16' secs='63'/>
      <blockio logical_block_size='4096' physical_block_size='4096' discard_granularity='8192'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='block' device='disk'>
      <source dev='/dev/sdz'/>
      <geometry cyls='16383' heads='16' secs='63' trans='lba'/>
      <blockio logical_block_size='512'/>
      <target dev='hda' bus='ide' rotation_rate='1'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/var/lib/img/s.img'/>
      <blockio physical_block_size='4096'/>
      <target dev='sda' bus='scsi' rotation_rate='7200'/>
    </disk>
    <controller type='scsi' index='0' model='virtio-scsi'/>
    <filesystem type='mount' accessmode='mapped'>
      <driver type='path' iommu='on' ats='on' packed='off' page_per_vq='on'/>
      <source dir='/srv/share'/>
      <target dir='share'/>
    </filesystem>";

#[test]
fn disk_and_filesystem_attributes_round_trip_and_are_schema_valid() {
    let xml = doc("", ALL).replace(
        "<memory unit='MiB'>64</memory>",
        "<memory unit='MiB' dumpCore='off'>64</memory>",
    );
    let d = accept(&xml);
    assert_eq!(d.dump_core, Some(false));
    let vda = &d.devices.disks[0];
    assert_eq!(vda.driver.ioeventfd, Some(true));
    assert_eq!(vda.driver.event_idx, Some(false));
    assert_eq!(vda.driver.copy_on_read, Some(true));
    assert_eq!(vda.driver.virtio.iommu, Some(true));
    assert_eq!(vda.driver.virtio.page_per_vq, Some(false));
    assert_eq!(vda.blockio.discard_granularity, Some(8192));
    assert_eq!(
        vda.geometry.map(|g| (g.cyls, g.heads, g.secs)),
        Some((2048, 16, 63))
    );
    let hda = &d.devices.disks[1];
    assert_eq!(hda.geometry.and_then(|g| g.trans), Some(GeometryTrans::Lba));
    assert_eq!(hda.rotation_rate, Some(1));
    assert_eq!(hda.blockio.physical_block_size, None);
    assert_eq!(d.devices.filesystems[0].virtio.ats, Some(true));
    let written = round_trip(&d);
    for part in [
        "dumpCore='off'",
        "copy_on_read='on'",
        "page_per_vq='off'",
        "<geometry cyls='16383' heads='16' secs='63' trans='lba'/>",
        "discard_granularity='8192'",
        "rotation_rate='7200'",
    ] {
        assert!(written.contains(part), "{part} in\n{written}");
    }
    let dir = scratch_dir("disk-attrs");
    let file = dir.join("all.xml");
    std::fs::write(&file, &written).unwrap();
    xmllint_validate(&[file]);
    // And QEMU's rules take it as it is.
    crate::read_for_define(&xml).expect("QEMU's checks accept it");
}

#[test]
fn malformed_values_are_refused_when_read() {
    let disk = |driver: &str, inner: &str, target: &str| {
        doc(
            "",
            &format!(
                "<disk type='file' device='disk'><driver name='qemu' {driver}/><source file='/a'/>{inner}<target dev='sda' bus='scsi' {target}/></disk>"
            ),
        )
    };
    for (xml, kind, fragment) in [
        (disk("", "", "rotation_rate='0'"), Invalid, "rotation_rate"),
        (
            disk("", "", "rotation_rate='fast'"),
            Invalid,
            "rotation_rate",
        ),
        (disk("copy_on_read='yes'", "", ""), Invalid, "copy_on_read"),
        (disk("event_idx='1'", "", ""), Invalid, "event_idx"),
        (
            disk("", "<geometry cyls='10' heads='2'/>", ""),
            Invalid,
            "missing attribute secs",
        ),
        (
            disk("", "<geometry cyls='0' heads='2' secs='3'/>", ""),
            Invalid,
            "cyls",
        ),
        (
            disk(
                "",
                "<geometry cyls='1' heads='2' secs='3' trans='large'/>",
                "",
            ),
            Unsupported,
            "trans",
        ),
        (
            disk("", "<blockio logical_block_size='0'/>", ""),
            Invalid,
            "logical_block_size",
        ),
        (
            disk("", "<blockio sizes='512'/>", ""),
            Unsupported,
            "attribute sizes",
        ),
        (
            disk("", "<blockio/><blockio/>", ""),
            Invalid,
            "more than once",
        ),
        (
            doc("<memory dumpCore='yes'>1</memory>", "")
                .replace("<memory unit='MiB'>64</memory>", ""),
            Invalid,
            "dumpCore",
        ),
    ] {
        reject(&xml, kind, fragment);
    }
    reject(
        &doc(
            "",
            "<filesystem><driver type='path' iommu='maybe'/><source dir='/s'/><target dir='t'/></filesystem>",
        ),
        Invalid,
        "iommu",
    );
}

/// libvirt's rules (domain_validate.c, qemu_validate.c) and those of
/// QEMU's devices, refused at define.
#[test]
fn what_the_disk_device_cannot_take_is_refused_at_define() {
    let disk = |device: &str, bus: &str, inner: &str, target: &str| {
        let dev = match bus {
            "virtio" => "vda",
            "ide" => "hda",
            "fdc" => "fda",
            _ => "sda",
        };
        let src = if device == "lun" {
            "type='block' device='lun'><source dev='/dev/sdz'/>".to_string()
        } else {
            format!("type='file' device='{device}'><source file='/a'/>")
        };
        doc(
            "",
            &format!(
                "<disk {src}{inner}<target dev='{dev}' bus='{bus}' {target}/></disk><controller type='scsi' model='virtio-scsi'/>"
            ),
        )
    };
    let d = |bus: &str, inner: &str| disk("disk", bus, inner, "");
    for (xml, kind, fragment) in [
        (
            disk("disk", "virtio", "", "rotation_rate='7200'"),
            Unsupported,
            "rotation rate is only valid for SCSI/IDE/SATA bus",
        ),
        (
            disk("cdrom", "scsi", "<readonly/>", "rotation_rate='7200'"),
            Unsupported,
            "rotation rate is only valid for disk device",
        ),
        (
            disk("disk", "scsi", "", "rotation_rate='65536'"),
            Invalid,
            "more than 65535",
        ),
        (
            d("sata", "<driver name='qemu' event_idx='on'/>"),
            Unsupported,
            "only supported on virtio disks",
        ),
        (
            d("ide", "<driver name='qemu' ioeventfd='off'/>"),
            Unsupported,
            "only supported on virtio disks",
        ),
        (
            d("scsi", "<driver name='qemu' iommu='on'/>"),
            Unsupported,
            "only supported on virtio disks",
        ),
        (
            d("usb", "<geometry cyls='1' heads='1' secs='1'/>"),
            Unsupported,
            "CHS geometry can not be set",
        ),
        (
            disk(
                "cdrom",
                "ide",
                "<geometry cyls='1' heads='1' secs='1'/><readonly/>",
                "",
            ),
            Unsupported,
            "CHS geometry can not be set",
        ),
        (
            d(
                "scsi",
                "<geometry cyls='1' heads='1' secs='1' trans='lba'/>",
            ),
            Unsupported,
            "CHS translation mode can only be set for 'ide' bus not 'scsi'",
        ),
        (
            d("ide", "<geometry cyls='1' heads='17' secs='1'/>"),
            Invalid,
            "between 1 and 16",
        ),
        (
            d("virtio", "<geometry cyls='65536' heads='1' secs='1'/>"),
            Invalid,
            "between 1 and 65535",
        ),
        (
            d("virtio", "<blockio logical_block_size='1000'/>"),
            Invalid,
            "must be a power of two from 512 bytes to 2 MiB",
        ),
        (
            d("virtio", "<blockio physical_block_size='256'/>"),
            Invalid,
            "must be a power of two",
        ),
        (
            d(
                "virtio",
                "<blockio logical_block_size='4096' physical_block_size='512'/>",
            ),
            Invalid,
            "larger than physical_block_size",
        ),
        (
            d("virtio", "<blockio discard_granularity='1000'/>"),
            Invalid,
            "multiple of the logical block size (512)",
        ),
        (
            d("ide", "<blockio discard_granularity='4096'/>"),
            Invalid,
            "can only be 0 or 512",
        ),
        (
            disk(
                "floppy",
                "fdc",
                "<blockio logical_block_size='4096' physical_block_size='4096'/>",
                "",
            ),
            Invalid,
            "a floppy's <blockio logical_block_size> can only be 512",
        ),
        (
            disk("lun", "scsi", "<blockio logical_block_size='512'/>", ""),
            Unsupported,
            "<blockio> is not supported on a device='lun' disk",
        ),
        (
            disk(
                "disk",
                "virtio",
                "<driver name='qemu' copy_on_read='on'/><readonly/>",
                "",
            ),
            Unsupported,
            "copy_on_read is not compatible with a read-only disk",
        ),
        (
            disk(
                "cdrom",
                "ide",
                "<driver name='qemu' copy_on_read='on'/>",
                "",
            ),
            Unsupported,
            "copy_on_read is not supported with a cdrom device",
        ),
        (
            disk("lun", "scsi", "<driver name='qemu' copy_on_read='on'/>", ""),
            Unsupported,
            "copy_on_read is not supported with a lun device",
        ),
    ] {
        reject_at_define(&xml, kind, fragment);
    }
    // What libvirt's tests write is taken: 0 is no discard alignment.
    crate::read_for_define(&d("sata", "<blockio discard_granularity='0'/>"))
        .expect("discard_granularity 0 on SATA");
}

#[test]
fn dump_core_is_written_only_when_set() {
    let d = accept(&doc("", ""));
    assert_eq!(d.dump_core, None);
    assert!(!d.to_xml().contains("dumpCore"));
    let on = doc("", "").replace(
        "<memory unit='MiB'>64</memory>",
        "<memory unit='MiB' dumpCore='on'>64</memory>",
    );
    assert_eq!(DomainDef::from_xml(&on).unwrap().dump_core, Some(true));
}

#[test]
fn iscsi_initiator_name() {
    let d = accept(&doc(
        "",
        "<disk type='network' device='disk'><source protocol='iscsi' name='iqn.2026-12.org.x:t/1'>\
         <host name='h'/><initiator><iqn name='iqn.2020-07.com.example:test'/></initiator></source>\
         <target dev='vda' bus='virtio'/></disk>",
    ));
    let x = d.to_xml();
    assert!(
        x.contains("<iqn name='iqn.2020-07.com.example:test'/>"),
        "{x}"
    );
    reject(
        &doc(
            "",
            "<disk type='network' device='disk'><source protocol='nbd' name='e'>\
             <host name='h'/><initiator><iqn name='iqn.2020-07.com.example:test'/></initiator></source>\
             <target dev='vda' bus='virtio'/></disk>",
        ),
        ModelErrorKind::Unsupported,
        "<initiator>",
    );
    reject(
        &doc(
            "",
            "<disk type='network' device='disk'><source protocol='iscsi' name='iqn.2026-12.org.x:t/1'>\
             <host name='h'/><initiator/></source><target dev='vda' bus='virtio'/></disk>",
        ),
        ModelErrorKind::Invalid,
        "names no <iqn",
    );
}

#[test]
fn vhost_user_disks() {
    let disk = |driver: &str, extra: &str, target: &str| {
        doc(
            "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>",
            &format!(
                "<disk type='vhostuser' device='disk'><driver name='qemu' type='raw'{driver}/>\
                 <source type='unix' path='/run/vu.sock'><reconnect enabled='yes' timeout='3'/></source>\
                 <target dev='{target}'/>{extra}</disk>"
            ),
        )
    };
    let d = accept(&disk("", "", "vda"));
    let v = d.devices.disks[0].vhost_user.as_ref().unwrap();
    assert_eq!((v.path.as_str(), v.reconnect), ("/run/vu.sock", Some(3)));
    assert!(
        d.to_xml()
            .contains("<reconnect enabled='yes' timeout='3'/>")
    );
    for (driver, extra, target, what) in [
        ("", "", "sda", "only virtio bus"),
        ("", "<readonly/>", "vda", "readonly is not supported"),
        (" cache='none'", "", "vda", "cache is not supported"),
        ("", "<serial>x</serial>", "vda", "serial is not supported"),
        (
            "",
            "<iotune><total_bytes_sec>1000</total_bytes_sec></iotune>",
            "vda",
            "iotune",
        ),
    ] {
        reject(&disk(driver, extra, target), Unsupported, what);
    }
    reject(
        &doc(
            "",
            "<disk type='vhostuser' device='disk'><source type='unix'/><target dev='vda'/></disk>",
        ),
        Invalid,
        "path",
    );
    reject(
        &doc(
            "",
            "<disk type='vhostuser' device='disk'><target dev='vda'/></disk>",
        ),
        Invalid,
        "needs <source type='unix'",
    );
}

/// `<target tray>` (libvirt's removable drives' tray status): an open
/// cdrom tray is read and written back; closed is the default and is not
/// written; a tray on a hard disk, and an open floppy (QEMU's floppy
/// drives have none), are refused by name.
#[test]
fn cdrom_trays_are_read_and_refused_where_there_is_none() {
    let cd = |tray: &str| {
        doc(
            "",
            &format!(
                "<disk type='file' device='cdrom'><source file='/srv/a.iso'/><target dev='hdc' bus='ide' tray='{tray}'/><readonly/></disk>"
            ),
        )
    };
    let open = accept(&cd("open"));
    assert!(open.devices.disks[0].tray_open);
    let written = open.to_xml();
    assert!(written.contains("tray='open'"), "{written}");
    let dir = scratch_dir("disk-tray");
    let file = dir.join("tray.xml");
    std::fs::write(&file, &written).unwrap();
    xmllint_validate(&[file]);
    let closed = accept(&cd("closed"));
    assert!(!closed.devices.disks[0].tray_open);
    assert!(!closed.to_xml().contains("tray="));
    reject(&cd("ajar"), Invalid, "expected 'open' or 'closed'");
    reject(
        &doc(
            "",
            "<disk type='file' device='disk'><source file='/srv/a.img'/><target dev='vda' bus='virtio' tray='open'/></disk>",
        ),
        Invalid,
        "a disk has no tray",
    );
    reject(
        &doc(
            "",
            "<disk type='file' device='floppy'><source file='/srv/f.img'/><target dev='fda' tray='open'/></disk>",
        ),
        Unsupported,
        "floppy drives have no tray",
    );
    accept(&doc(
        "",
        "<disk type='file' device='floppy'><source file='/srv/f.img'/><target dev='fda' tray='closed'/></disk>",
    ));
}

/// `<metadata_cache><max_size>` of a qcow2 image, the disk's own (in
/// `<driver>`) and a backing image's (in `<format>`): bytes, scaled by
/// its unit, written back in bytes as libvirt writes it; refused for
/// other formats and for nothing at all.
#[test]
fn metadata_cache_sizes() {
    let with = |format: &str, cache: &str, backing: &str| {
        doc(
            "",
            &format!(
                "<disk type='file' device='disk'><driver name='qemu' type='{format}'>{cache}</driver>\
                 <source file='/var/lib/a.img'/>{backing}<target dev='vda' bus='virtio'/></disk>"
            ),
        )
    };
    let cache =
        |size: &str| format!("<metadata_cache><max_size {size}</max_size></metadata_cache>");
    let backing = format!(
        "<backingStore type='file'><format type='qcow2'>{}</format>\
         <source file='/var/lib/b.qcow2'/><backingStore/></backingStore>",
        cache("unit='KiB'>1024")
    );
    let d = accept(&with("qcow2", &cache(">12345"), &backing));
    let disk = &d.devices.disks[0];
    assert_eq!(disk.driver.metadata_cache_max_size, Some(12345));
    let b = disk.backing.as_ref().unwrap().as_ref().unwrap();
    assert_eq!(b.metadata_cache_max_size, Some(1024 * 1024));
    let x = round_trip(&d);
    assert!(
        x.contains("<max_size unit='bytes'>12345</max_size>")
            && x.contains("<max_size unit='bytes'>1048576</max_size>"),
        "{x}"
    );
    let dir = scratch_dir("metadata-cache");
    let file = dir.join("disk.xml");
    std::fs::write(&file, x).unwrap();
    xmllint_validate(&[file]);
    reject(
        &with("raw", &cache(">4096"), ""),
        Unsupported,
        "supported only with qcow2 images (the image at 6:",
    );
    reject(
        &with(
            "qcow2",
            "",
            &backing.replace("<format type='qcow2'>", "<format type='raw'>"),
        ),
        Unsupported,
        "supported only with qcow2 images",
    );
    reject(&with("qcow2", &cache(">0"), ""), Invalid, "at least 1 byte");
    reject(
        &with("qcow2", &cache("unit='parsecs'>1"), ""),
        Invalid,
        "unknown unit",
    );
}
