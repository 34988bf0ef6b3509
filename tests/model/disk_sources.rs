//! What a disk's `<source>` may add beyond where the data is: a storage
//! `<slices>` range. Read, written back, valid against libvirt's schema,
//! and refused where libvirt refuses it.

use qvirt::model::{DiskSlice, ModelErrorKind};

use crate::{accept, doc, reject, round_trip, scratch_dir, xmllint_validate};

use ModelErrorKind::{Invalid, Unsupported};

fn sliced(device: &str, slice: &str) -> String {
    doc(
        "",
        &format!(
            "<disk type='file' device='{device}'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/img/raw.img'>
        <slices>{slice}</slices>
      </source>
      <target dev='vda' bus='virtio'/>
    </disk>"
        ),
    )
}

#[test]
fn a_storage_slice_round_trips_and_is_schema_valid() {
    let xml = sliced(
        "disk",
        "<slice type='storage' offset='9876' size='123456789'/>",
    );
    let d = accept(&xml);
    assert_eq!(
        d.devices.disks[0].slice,
        Some(DiskSlice {
            offset: 9876,
            size: 123456789
        })
    );
    let written = round_trip(&d);
    assert!(written.contains("<slices>"), "{written}");
    let dir = scratch_dir("disk-sources");
    let file = dir.join("slices.xml");
    std::fs::write(&file, &written).unwrap();
    xmllint_validate(&[file]);
}

#[test]
fn a_slice_is_refused_where_libvirt_refuses_it() {
    reject(
        &sliced("disk", "<slice type='storage' offset='1'/>"),
        Invalid,
        "missing offset or size attribute of slice",
    );
    reject(
        &sliced("disk", "<slice type='storage' offset='-1' size='2'/>"),
        Invalid,
        "offset",
    );
    reject(
        &sliced("disk", "<slice type='format' offset='0' size='2'/>"),
        Unsupported,
        "unsupported value 'format' for attribute type",
    );
    reject(
        &sliced("lun", "<slice type='storage' offset='0' size='512'/>")
            .replace("type='file' device='lun'", "type='block' device='lun'"),
        Unsupported,
        "doesn't support storage slice",
    );
    // A backing image's slice is not taken.
    let backing = doc(
        "",
        "<disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/img/top.qcow2'/>
      <backingStore type='file'>
        <format type='raw'/>
        <source file='/var/lib/img/base.img'>
          <slices><slice type='storage' offset='0' size='512'/></slices>
        </source>
      </backingStore>
      <target dev='vda' bus='virtio'/>
    </disk>",
    );
    reject(
        &backing,
        Unsupported,
        "<slices> in the <source> of a <backingStore>",
    );
}
