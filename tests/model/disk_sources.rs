//! What a disk's `<source>` may be or add beyond a file: a storage
//! `<slices>` range, the options of an HTTP(S)/FTP(S) source, a
//! directory (`type='dir'`). Read, written back, valid against libvirt's
//! schema, and refused where libvirt refuses it.

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

fn web(protocol: &str, inside: &str) -> String {
    doc(
        "",
        &format!(
            "<disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='{protocol}' name='test.img'>
        <host name='example.org' port='1234'/>
        {inside}
      </source>
      <target dev='vda' bus='virtio'/>
      <readonly/>
    </disk>"
        ),
    )
}

#[test]
fn curl_options_round_trip_and_are_schema_valid() {
    let xml = web(
        "https",
        "<ssl verify='no'/>
        <cookies>
          <cookie name='test'>testcookievalue</cookie>
          <cookie name='test2'>&quot;blurb&quot;</cookie>
        </cookies>
        <readahead size='1024'/>
        <timeout seconds='1234'/>",
    );
    let d = accept(&xml);
    let n = d.devices.disks[0].network.as_ref().unwrap();
    assert_eq!(n.ssl_verify, Some(false));
    assert_eq!(
        n.cookies,
        [
            ("test".to_string(), "testcookievalue".to_string()),
            ("test2".to_string(), "\"blurb\"".to_string())
        ]
    );
    assert_eq!((n.readahead, n.timeout), (Some(1024), Some(1234)));
    let written = round_trip(&d);
    // Without security information, the cookies are left out.
    let public = d.without_secrets().to_xml();
    assert!(!public.contains("cookie"), "{public}");
    assert!(public.contains("<readahead size='1024'/>"), "{public}");
    // libvirt's 0 is unset, and not written back.
    let zero = accept(&web("ftp", "<readahead size='0'/><timeout seconds='0'/>"));
    assert!(!round_trip(&zero).contains("readahead"));
    let dir = scratch_dir("curl");
    let files = [dir.join("https.xml"), dir.join("public.xml")];
    std::fs::write(&files[0], &written).unwrap();
    std::fs::write(&files[1], &public).unwrap();
    xmllint_validate(&files);
}

#[test]
fn curl_options_are_refused_where_libvirt_refuses_them() {
    for (inside, why) in [
        (
            "<cookies><cookie name='a'>1</cookie><cookie name='a'>2</cookie></cookies>",
            "duplicate cookie 'a'",
        ),
        (
            "<cookies><cookie name='a b'>1</cookie></cookies>",
            "cookie name 'a b' contains invalid characters",
        ),
        (
            "<cookies><cookie name='a='>1</cookie></cookies>",
            "cookie name 'a=' contains invalid characters",
        ),
        (
            "<cookies><cookie name='a'>x;y</cookie></cookies>",
            "value of cookie 'a' contains invalid characters",
        ),
        (
            "<cookies><cookie name='a'>\"open</cookie></cookies>",
            "value of cookie 'a' contains invalid characters",
        ),
        (
            "<cookies><cookie name='a'></cookie></cookies>",
            "missing value for cookie 'a'",
        ),
        (
            "<cookies><cookie>1</cookie></cookies>",
            "missing cookie name",
        ),
        (
            "<readahead size='lots'/>",
            "invalid readahead size or timeout",
        ),
        (
            "<timeout seconds='-1'/>",
            "invalid readahead size or timeout",
        ),
    ] {
        reject(&web("http", inside), Invalid, why);
    }
    // Where the protocol has no such option, it is no option at all.
    reject(&web("http", "<ssl verify='no'/>"), Unsupported, "<ssl>");
    reject(
        &web("ftp", "<cookies><cookie name='a'>1</cookie></cookies>"),
        Unsupported,
        "<cookies>",
    );
    let nbd = doc(
        "",
        "<disk type='network' device='disk'>
      <source protocol='nbd' name='e'><host name='h'/><timeout seconds='3'/></source>
      <target dev='vda' bus='virtio'/>
    </disk>",
    );
    reject(&nbd, Unsupported, "<timeout>");
    // tlsHostname names the certificate of an NBD server over TLS.
    let tls = nbd
        .replace(
            "name='e'>",
            "name='e' tls='yes' tlsHostname='other.example'>",
        )
        .replace("<timeout seconds='3'/>", "");
    let d = accept(&tls);
    let n = d.devices.disks[0].network.as_ref().unwrap();
    assert_eq!(
        (n.tls, n.tls_hostname.as_deref()),
        (Some(true), Some("other.example"))
    );
    let dir = scratch_dir("nbd-tls");
    let file = dir.join("tls.xml");
    std::fs::write(&file, round_trip(&d)).unwrap();
    xmllint_validate(&[file]);
    reject(
        &tls.replace(" tls='yes'", ""),
        Unsupported,
        "only with protocol='nbd' and tls='yes'",
    );
    reject(
        &web("http", "").replace("name='test.img'", "name='test.img' tlsHostname='x'"),
        Unsupported,
        "only with protocol='nbd' and tls='yes'",
    );
}

fn dir_disk(device: &str, driver: &str, extra: &str) -> String {
    doc(
        "",
        &format!(
            "<disk type='dir' device='{device}'>
      {driver}
      <source dir='/var/somefiles'/>
      <target dev='fda' bus='fdc'/>
      {extra}
    </disk>"
        ),
    )
}

#[test]
fn a_directory_disk_round_trips_and_is_schema_valid() {
    let d = accept(&dir_disk(
        "floppy",
        "<driver name='qemu' type='fat'/>",
        "<readonly/>",
    ));
    let disk = &d.devices.disks[0];
    assert_eq!(disk.kind, qvirt::model::DiskType::Dir);
    assert_eq!(disk.source.as_deref(), Some("/var/somefiles"));
    assert_eq!(disk.format, Some(qvirt::model::DiskFormat::Fat));
    let written = round_trip(&d);
    assert!(
        written.contains("<source dir='/var/somefiles'/>"),
        "{written}"
    );
    // A cdrom is read-only without saying so; the format may be left out.
    let cdrom = round_trip(&accept(&dir_disk("cdrom", "", "").replace(
        "<target dev='fda' bus='fdc'/>",
        "<target dev='hdc' bus='ide'/>",
    )));
    let dir = scratch_dir("dir-disk");
    let files = [dir.join("floppy.xml"), dir.join("cdrom.xml")];
    std::fs::write(&files[0], &written).unwrap();
    std::fs::write(&files[1], &cdrom).unwrap();
    xmllint_validate(&files);
}

#[test]
fn a_directory_disk_is_refused_where_libvirt_refuses_it() {
    reject(
        &dir_disk("floppy", "<driver name='qemu' type='fat'/>", ""),
        Unsupported,
        "virtual FAT storage can't be accessed in read-write mode",
    );
    reject(
        &dir_disk("floppy", "<driver name='qemu' type='raw'/>", "<readonly/>"),
        Unsupported,
        "storage type 'dir' requires use of storage format 'fat'",
    );
    reject(
        &doc(
            "",
            "<disk type='file' device='disk'>
      <driver name='qemu' type='fat'/>
      <source file='/var/lib/img/a.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>",
        ),
        Unsupported,
        "storage format 'fat' is supported only with 'dir' storage type",
    );
}

fn mirrored(mirror: &str) -> String {
    doc(
        "",
        &format!(
            "<disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/img/raw.img'/>
      {mirror}
      <target dev='vda' bus='virtio'/>
    </disk>"
        ),
    )
}

/// A running domain's `<mirror>` (a copy under way, as libvirt writes
/// it) is read, written back the same and valid against libvirt's
/// schema; a definition read to be kept drops it, as libvirt does.
#[test]
fn a_copy_under_way_round_trips_and_a_kept_definition_drops_it() {
    use qvirt::model::{DiskFormat, DiskMirror, DiskType, MirrorJob};
    let xml = mirrored(
        "<mirror type='file' file='/var/lib/img/copy.qcow2' format='qcow2' job='copy' ready='yes'>
        <format type='qcow2'/>
        <source file='/var/lib/img/copy.qcow2'/>
      </mirror>",
    );
    let mut d = accept(&xml);
    assert_eq!(
        d.devices.disks[0].mirror,
        Some(DiskMirror {
            kind: DiskType::File,
            path: "/var/lib/img/copy.qcow2".into(),
            format: Some(DiskFormat::Qcow2),
            job: MirrorJob::Copy,
            ready: true,
        })
    );
    let written = round_trip(&d);
    let block = accept(&mirrored(
        "<mirror type='block' job='copy'><format type='raw'/><source dev='/dev/sdz'/></mirror>",
    ));
    let written_block = round_trip(&block);
    assert!(
        written_block.contains("<source dev='/dev/sdz'/>"),
        "{written_block}"
    );
    let dir = scratch_dir("disk-sources");
    let (a, b) = (dir.join("mirror.xml"), dir.join("mirror-block.xml"));
    std::fs::write(&a, &written).unwrap();
    std::fs::write(&b, &written_block).unwrap();
    xmllint_validate(&[a, b]);
    d.drop_runtime_values();
    assert_eq!(d.devices.disks[0].mirror, None);
    reject(
        &mirrored("<mirror type='network' job='copy'/>"),
        Unsupported,
        "a file or a block device",
    );
    reject(
        &mirrored("<mirror type='file' job='copy'/>"),
        Invalid,
        "needs its copy's file or device",
    );
}
