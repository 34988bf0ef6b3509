//! Attributes libvirt 9.0 reads on elements qvirt already knows: an
//! audio backend's `timerPeriod`, a UNIX socket's `<reconnect>` and TCP
//! channels, EGD rng backends, `<acpi index>` of PCI devices, the
//! thread pools of I/O threads and of the main loop, and 9p shares'
//! `fmode`, `dmode` and `multidevs`: as libvirt reads, checks and writes
//! them back.

use qvirt::model::{CharSource, FsMultidevs, ModelErrorKind, RngBackend, ThreadPool};

use crate::{accept, doc, reject, reject_at_define, xmllint_validate};

#[test]
fn audio_timer_period_reads_and_writes_back() {
    let d = accept(&doc(
        "",
        "<audio id='1' type='none' timerPeriod='50000'/>\
         <audio id='2' type='file' path='/tmp/a.wav' timerPeriod='1'/>",
    ));
    assert_eq!(d.devices.audios[0].timer_period, Some(50000));
    assert_eq!(d.devices.audios[1].timer_period, Some(1));
    assert!(d.to_xml().contains("timerPeriod='50000'"));
    // libvirt reads it as a non-zero unsigned number.
    for bad in ["0", "-1", "fast"] {
        reject(
            &doc(
                "",
                &format!("<audio id='1' type='none' timerPeriod='{bad}'/>"),
            ),
            ModelErrorKind::Invalid,
            "timerPeriod",
        );
    }
    let dir = crate::scratch_dir("small-attrs-schema");
    let f = dir.join("audio.xml");
    std::fs::write(&f, d.to_xml()).unwrap();
    xmllint_validate(&[f]);
}

#[test]
fn unix_sockets_and_tcp_channels_reconnect() {
    let d = accept(&doc(
        "",
        "<channel type='tcp'><source mode='connect' host='localhost' service='1234'>\
         <reconnect enabled='yes' timeout='10'/></source><target type='virtio' name='asdf'/></channel>\
         <channel type='unix'><source mode='connect' path='/tmp/channel/fdsa'>\
         <reconnect enabled='yes' timeout='3'/></source><target type='virtio' name='fdsa'/></channel>\
         <serial type='unix'><source mode='connect' path='/tmp/s.sock'><reconnect enabled='no'/></source></serial>",
    ));
    let c = &d.devices.channels;
    assert!(
        matches!(
            &c[0].source,
            CharSource::Tcp {
                reconnect: Some(10),
                listen: false,
                ..
            }
        ),
        "{:?}",
        c[0].source
    );
    assert_eq!(
        c[1].source,
        CharSource::Unix {
            path: Some("/tmp/channel/fdsa".into()),
            listen: false,
            reconnect: Some(3),
        }
    );
    assert_eq!(
        d.devices.serials[0].source,
        crate::unix_source(Some("/tmp/s.sock".into()), false)
    );
    let x = d.to_xml();
    assert!(x.contains("<reconnect enabled='yes' timeout='3'/>"), "{x}");
    // As libvirt: only a connecting socket reconnects, after at least a
    // second.
    reject(
        &doc(
            "",
            "<serial type='unix'><source mode='bind' path='/tmp/s.sock'>\
             <reconnect enabled='yes' timeout='1'/></source></serial>",
        ),
        ModelErrorKind::Invalid,
        "does not reconnect",
    );
    reject(
        &doc(
            "",
            "<channel type='unix'><source mode='connect' path='/tmp/c.sock'>\
             <reconnect enabled='yes' timeout='0'/></source><target type='virtio'/></channel>",
        ),
        ModelErrorKind::Invalid,
        "at least 1 second",
    );
    reject(
        &doc(
            "",
            "<channel type='unix'><source mode='connect'><reconnect enabled='yes' timeout='2'/>\
             </source><target type='virtio' name='org.example.0'/></channel>",
        ),
        ModelErrorKind::Invalid,
        "does not reconnect",
    );
    let dir = crate::scratch_dir("reconnect-schema");
    let f = dir.join("reconnect.xml");
    std::fs::write(&f, x).unwrap();
    xmllint_validate(&[f]);
}

#[test]
fn egd_rng_backends_read_and_write_back() {
    let d = accept(&doc(
        "",
        "<rng model='virtio'><backend model='egd' type='tcp'>\
         <source mode='connect' host='1.2.3.4' service='1234'><reconnect enabled='yes' timeout='5'/></source>\
         <protocol type='raw'/></backend></rng>\
         <rng model='virtio'><backend model='egd' type='unix'>\
         <source mode='bind' path='/tmp/rng.socket'/></backend></rng>",
    ));
    assert!(matches!(
        &d.devices.rngs[0].backend,
        RngBackend::Egd(CharSource::Tcp {
            service: 1234,
            reconnect: Some(5),
            ..
        })
    ));
    assert_eq!(
        d.devices.rngs[1].backend,
        RngBackend::Egd(CharSource::Unix {
            path: Some("/tmp/rng.socket".into()),
            listen: true,
            reconnect: None,
        })
    );
    // A UNIX socket needs its path (libvirt's virtio-rng-egd-crash).
    reject(
        &doc(
            "",
            "<rng model='virtio'><backend model='egd' type='unix'>\
             <source mode='connect'/></backend></rng>",
        ),
        ModelErrorKind::Invalid,
        "missing <source path=...>",
    );
    // Only sockets reach an EGD here.
    reject(
        &doc(
            "",
            "<rng model='virtio'><backend model='egd' type='pty'/></rng>",
        ),
        ModelErrorKind::Unsupported,
        "pty",
    );
    reject(
        &doc(
            "",
            "<rng model='virtio'><backend model='builtin' type='tcp'/></rng>",
        ),
        ModelErrorKind::Invalid,
        "only an egd backend has a type",
    );
    let dir = crate::scratch_dir("egd-schema");
    let f = dir.join("egd.xml");
    std::fs::write(&f, d.to_xml()).unwrap();
    xmllint_validate(&[f]);
}

#[test]
fn acpi_indexes_of_pci_devices_read_check_and_write_back() {
    let devices = "<disk type='file' device='disk'><source file='/var/lib/a.img'/>\
         <target dev='vda' bus='virtio'/><acpi index='1'/></disk>\
         <interface type='user'><model type='virtio'/><acpi index='100'/>\
         <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></interface>\
         <video><model type='cirrus'/><acpi index='16383'/></video>";
    let d = accept(&doc("", devices));
    assert_eq!(d.devices.disks[0].acpi_index, Some(1));
    assert_eq!(d.devices.interfaces[0].acpi_index, Some(100));
    assert_eq!(d.devices.videos[0].acpi_index, Some(16383));
    let x = d.to_xml();
    assert!(
        x.contains("<acpi index='100'/>\n      <address type='pci'"),
        "written before the address: {x}"
    );
    let nic = |index: &str| {
        doc(
            "",
            &format!("<interface type='user'><acpi index='{index}'/></interface>"),
        )
    };
    reject(&nic("0"), ModelErrorKind::Invalid, "from 1");
    reject(
        &nic("16384"),
        ModelErrorKind::Invalid,
        "out of range 1-16383",
    );
    // Unique in the domain, whatever the devices.
    reject(
        &doc(
            "",
            "<interface type='user'><acpi index='7'/></interface>\
             <video><model type='vga'/><acpi index='7'/></video>",
        ),
        ModelErrorKind::Invalid,
        "already used by interface 0",
    );
    // Only PCI devices have one.
    reject(
        &doc(
            "",
            "<disk type='file' device='disk'><source file='/var/lib/a.img'/>\
             <target dev='sda' bus='sata'/><acpi index='3'/>\
             <address type='drive' controller='0' bus='0' target='0' unit='0'/></disk>",
        ),
        ModelErrorKind::Unsupported,
        "only supported for PCI devices",
    );
    reject_at_define(
        &doc(
            "",
            "<disk type='file' device='disk'><source file='/var/lib/a.img'/>\
             <target dev='sda' bus='sata'/><acpi index='3'/></disk>",
        ),
        ModelErrorKind::Unsupported,
        "a disk on bus 'sata' is not one",
    );
    reject_at_define(
        &doc("", "<video><model type='ramfb'/><acpi index='3'/></video>"),
        ModelErrorKind::Unsupported,
        "a ramfb video device is not one",
    );
    let dir = crate::scratch_dir("acpi-schema");
    let f = dir.join("acpi.xml");
    std::fs::write(&f, x).unwrap();
    xmllint_validate(&[f]);
}

#[test]
fn thread_pool_bounds_read_check_and_write_back() {
    let top = |ids: &str, default: &str| {
        doc(
            &format!("<iothreads>2</iothreads><iothreadids>{ids}</iothreadids>{default}"),
            "",
        )
    };
    let d = accept(&top(
        "<iothread id='2' thread_pool_min='0' thread_pool_max='60'/><iothread id='1'/>",
        "<defaultiothread thread_pool_min='8' thread_pool_max='16'/>",
    ));
    let pools = &d.thread_pools;
    assert_eq!(
        pools.iothreads.get(&2),
        Some(&ThreadPool {
            min: Some(0),
            max: Some(60)
        })
    );
    assert_eq!(pools.iothreads.get(&1), None);
    assert_eq!(
        pools.default,
        Some(ThreadPool {
            min: Some(8),
            max: Some(16)
        })
    );
    let x = d.to_xml();
    assert!(
        x.contains(
            "<iothread id='2' thread_pool_min='0' thread_pool_max='60'/>\n    <iothread id='1'/>\n  </iothreadids>\n  <defaultiothread thread_pool_min='8' thread_pool_max='16'/>"
        ),
        "{x}"
    );
    // A <defaultiothread> that bounds nothing is dropped, as libvirt does.
    let plain = accept(&top("<iothread id='1'/>", "<defaultiothread/>"));
    assert_eq!(plain.thread_pools.default, None);
    // libvirt's rules: a maximum from 1, and a minimum only under a
    // maximum at least as large.
    let one = |attrs: &str| top(&format!("<iothread id='1' {attrs}/>"), "");
    reject(
        &one("thread_pool_max='0'"),
        ModelErrorKind::Unsupported,
        "thread_pool_max must be a positive integer",
    );
    for attrs in [
        "thread_pool_min='4' thread_pool_max='2'",
        "thread_pool_min='0'",
    ] {
        reject(
            &one(attrs),
            ModelErrorKind::Unsupported,
            "thread_pool_min must be smaller or equal to thread_pool_max",
        );
    }
    reject(
        &top("", "<defaultiothread thread_pool_max='-1'/>"),
        ModelErrorKind::Invalid,
        "thread_pool_max",
    );
    let dir = crate::scratch_dir("pools-schema");
    let f = dir.join("pools.xml");
    std::fs::write(&f, x).unwrap();
    xmllint_validate(&[f]);
}

#[test]
fn nine_p_modes_and_multidevs_read_check_and_write_back() {
    let fs = |attrs: &str, driver: &str| {
        doc(
            "",
            &format!(
                "<filesystem type='mount' {attrs}>{driver}<source dir='/export/fs0'/>\
                 <target dir='fs0'/></filesystem>"
            ),
        )
    };
    let d = accept(&fs(
        "accessmode='mapped' fmode='644' dmode='0750' multidevs='remap'",
        "",
    ));
    let f = &d.devices.filesystems[0];
    assert_eq!((f.fmode, f.dmode), (Some(0o644), Some(0o750)));
    assert_eq!(f.multidevs, Some(FsMultidevs::Remap));
    let x = d.to_xml();
    assert!(
        x.contains("multidevs='remap' fmode='0644' dmode='0750'"),
        "{x}"
    );
    // libvirt's unset values: mode 0 and multidevs='default'.
    let unset = accept(&fs("accessmode='mapped' fmode='0' multidevs='default'", ""));
    let f = &unset.devices.filesystems[0];
    assert_eq!((f.fmode, f.multidevs), (None, None));
    reject(
        &fs("accessmode='mapped' fmode='1000'", ""),
        ModelErrorKind::Invalid,
        "at most 0777",
    );
    reject(
        &fs("accessmode='mapped' dmode='758'", ""),
        ModelErrorKind::Invalid,
        "dmode",
    );
    reject(
        &fs("accessmode='passthrough' fmode='0644'", ""),
        ModelErrorKind::Unsupported,
        "fmode and dmode must be used with accessmode=mapped",
    );
    let virtiofs = "<driver type='virtiofs'/>";
    reject(
        &fs("multidevs='forbid'", virtiofs),
        ModelErrorKind::Unsupported,
        "virtiofs does not support multidevs",
    );
    reject(
        &fs("dmode='0700'", virtiofs),
        ModelErrorKind::Unsupported,
        "virtiofs does not support fmode and dmode",
    );
    reject(
        &fs("model='virtio-transitional'", virtiofs),
        ModelErrorKind::Unsupported,
        "virtiofs does not support model",
    );
    let dir = crate::scratch_dir("ninep-schema");
    let f = dir.join("ninep.xml");
    std::fs::write(&f, x).unwrap();
    xmllint_validate(&[f]);
}

/// A 9p share's `model`: libvirt's three virtio words read and written
/// back ('default' is not written), another word refused where it is.
#[test]
fn nine_p_models_read_and_write_back() {
    use qvirt::model::FsModel;
    let fs = |model: &str| {
        doc(
            "",
            &format!(
                "<filesystem type='mount' model='{model}'><source dir='/export/fs0'/>\
                 <target dir='fs0'/></filesystem>"
            ),
        )
    };
    for m in FsModel::ALL {
        let d = accept(&fs(m.as_str()));
        assert_eq!(d.devices.filesystems[0].model, Some(*m));
        assert!(d.to_xml().contains(&format!("model='{}'", m.as_str())));
    }
    let d = accept(&fs("default"));
    assert_eq!(d.devices.filesystems[0].model, None);
    reject(
        &fs("virtio-legacy"),
        ModelErrorKind::Unsupported,
        "'virtio-legacy' for attribute model on <devices><filesystem> at 6:",
    );
}
