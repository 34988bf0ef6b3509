//! Tests of the hot-plug arguments (`hotplug`): each kind of device as
//! the QMP arguments a start's command line makes of it.

use super::*;

#[test]
fn an_rng_is_its_backend_object_and_its_device() {
    let def = crate::model::DomainDef::from_xml(
        "<domain type='qemu'><name>r</name><memory>65536</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
         <rng model='virtio'><backend model='builtin'/></rng>\
         <rng model='virtio'><rate bytes='1024'/><backend model='random'>/dev/urandom</backend></rng>\
         </devices></domain>",
    )
    .unwrap();
    let caps = QemuCaps::assumed("/usr/bin/qemu-system-x86_64");
    let paths = RuntimePaths::for_test("/run/r");
    let args = device_args(&def, &caps, &paths, PluggedDevice::Rng(1)).unwrap();
    assert_eq!(
        args.objects,
        [json!({"qom-type": "rng-random", "id": "objrng1", "filename": "/dev/urandom"})]
    );
    assert!(args.blockdevs.is_empty() && args.netdev.is_none());
    let d = &args.device;
    assert_eq!(d["driver"], "virtio-rng-pci");
    assert_eq!((&d["id"], &d["rng"]), (&json!("rng1"), &json!("objrng1")));
    assert_eq!(
        (&d["max-bytes"], &d["period"]),
        (&json!(1024), &json!(1000))
    );
    assert!(args.chardevs.is_empty());
}

#[test]
fn an_egd_rng_adds_its_socket_chardev() {
    let def = crate::model::DomainDef::from_xml(
        "<domain type='qemu'><name>r</name><memory>65536</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
         <rng model='virtio'><backend model='egd' type='unix'><source mode='connect' path='/run/egd.sock'/></backend></rng>\
         <rng model='virtio'><backend model='egd' type='tcp'><source mode='bind' host='127.0.0.1' service='1024'/></backend></rng>\
         </devices></domain>",
    )
    .unwrap();
    let caps = QemuCaps::assumed("/usr/bin/qemu-system-x86_64");
    let paths = RuntimePaths::for_test("/run/r");
    let args = device_args(&def, &caps, &paths, PluggedDevice::Rng(0)).unwrap();
    assert_eq!(
        args.chardevs,
        [
            json!({"id": "charrng0", "backend": {"type": "socket", "data": {
            "addr": {"type": "unix", "data": {"path": "/run/egd.sock"}},
            "server": false}}})
        ]
    );
    assert_eq!(
        args.objects,
        [json!({"qom-type": "rng-egd", "id": "objrng0", "chardev": "charrng0"})]
    );
    let args = device_args(&def, &caps, &paths, PluggedDevice::Rng(1)).unwrap();
    assert_eq!(
        args.chardevs,
        [
            json!({"id": "charrng1", "backend": {"type": "socket", "data": {
            "addr": {"type": "inet", "data": {"host": "127.0.0.1", "port": "1024"}},
            "server": true, "wait": false}}})
        ]
    );
}

#[test]
fn a_watchdog_and_inputs_are_devices_alone() {
    let def = crate::model::DomainDef::from_xml(
        "<domain type='qemu'><name>w</name><memory>65536</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
         <input type='mouse' bus='ps2'/><input type='tablet' bus='usb'/>\
         <input type='keyboard' bus='virtio'/>\
         <watchdog model='i6300esb' action='poweroff'/>\
         </devices></domain>",
    )
    .unwrap();
    let caps = QemuCaps::assumed("/usr/bin/qemu-system-x86_64");
    let paths = RuntimePaths::for_test("/run/w");
    let def = with_pci_addresses(&def, &caps).unwrap();
    let args = device_args(&def, &caps, &paths, PluggedDevice::Watchdog(0)).unwrap();
    let d = &args.device;
    assert_eq!(
        (&d["driver"], &d["id"]),
        (&json!("i6300esb"), &json!("watchdog0"))
    );
    assert_eq!(d["bus"], "pci.0");
    assert!(args.objects.is_empty() && args.chardevs.is_empty() && args.netdev.is_none());
    let tablet = device_args(&def, &caps, &paths, PluggedDevice::Input(1)).unwrap();
    assert_eq!(
        tablet.device,
        json!({"driver": "usb-tablet", "id": "input1", "bus": "usb.0", "port": "1"})
    );
    let keyboard = device_args(&def, &caps, &paths, PluggedDevice::Input(2)).unwrap();
    let k = &keyboard.device;
    assert_eq!(
        (&k["driver"], &k["id"]),
        (&json!("virtio-keyboard-pci"), &json!("input2"))
    );
    // The PS/2 mouse is the machine's own: nothing to plug.
    let e = device_args(&def, &caps, &paths, PluggedDevice::Input(0)).unwrap_err();
    assert!(e.message.contains("no device 'input0'"), "{e}");
    assert_eq!(usb_hubs(&def, &caps).unwrap(), 0);
}

#[test]
fn a_channel_is_its_chardev_and_its_port() {
    let def = crate::model::DomainDef::from_xml(
        "<domain type='qemu'><name>c</name><memory>65536</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
         <channel type='pty'><target type='virtio' name='a.pty'/></channel>\
         <channel type='file'><source path='/var/log/c.out' append='on'/><target type='virtio' name='a.file'/></channel>\
         <channel type='udp'><source mode='bind' host='127.0.0.1' service='4444'/><source mode='connect' host='127.0.0.1' service='5555'/><target type='virtio' name='a.udp'/></channel>\
         <channel type='null'><target type='virtio' name='a.null'/></channel>\
         </devices></domain>",
    )
    .unwrap();
    let caps = QemuCaps::assumed("/usr/bin/qemu-system-x86_64");
    let paths = RuntimePaths::for_test("/run/c");
    let def = with_pci_addresses(&def, &caps).unwrap();
    let port = |k: usize| match def.devices.channels[k].address {
        Some(Address::VirtioSerial(a)) => (a.controller, a.port),
        ref other => panic!("{other:?}"),
    };
    assert_eq!((port(0), port(3)), ((0, 1), (0, 4)));
    let chardev = |k: usize| {
        let args = device_args(&def, &caps, &paths, PluggedDevice::Channel(k)).unwrap();
        let d = &args.device;
        assert_eq!(d["driver"], "virtserialport");
        assert_eq!(d["id"], json!(channel_id(k)));
        assert_eq!(d["chardev"], json!(format!("charchannel{k}")));
        assert_eq!(d["nr"], json!(port(k).1));
        args.chardevs
    };
    assert_eq!(
        chardev(0),
        [json!({"id": "charchannel0", "backend": {"type": "pty", "data": {}}})]
    );
    assert_eq!(
        chardev(1),
        [json!({"id": "charchannel1", "backend": {"type": "file",
            "data": {"out": "/var/log/c.out", "append": true}}})]
    );
    assert_eq!(
        chardev(2),
        [
            json!({"id": "charchannel2", "backend": {"type": "udp", "data": {
            "remote": {"type": "inet", "data": {"host": "127.0.0.1", "port": "5555"}},
            "local": {"type": "inet", "data": {"host": "127.0.0.1", "port": "4444"}}}}})
        ]
    );
    assert_eq!(
        chardev(3),
        [json!({"id": "charchannel3", "backend": {"type": "null", "data": {}}})]
    );
}

#[test]
fn a_shmem_is_its_typed_memory_backend_and_its_device() {
    let def = crate::model::DomainDef::from_xml(
        "<domain type='qemu'><name>s</name><memory>65536</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
         <shmem name='shared' role='master'><model type='ivshmem-plain'/><size unit='M'>2</size></shmem>\
         </devices></domain>",
    )
    .unwrap();
    let caps = QemuCaps::assumed("/usr/bin/qemu-system-x86_64");
    let paths = RuntimePaths::for_test("/run/s");
    let def = with_pci_addresses(&def, &caps).unwrap();
    let args = device_args(&def, &caps, &paths, PluggedDevice::Shmem(0)).unwrap();
    assert_eq!(
        args.objects,
        [
            json!({"qom-type": "memory-backend-file", "id": "shmmem-shmem0",
            "mem-path": "/dev/shm/shared", "size": 2097152, "share": true})
        ]
    );
    let d = &args.device;
    assert_eq!(
        (&d["driver"], &d["id"]),
        (&json!("ivshmem-plain"), &json!("shmem0"))
    );
    assert_eq!(
        (&d["memdev"], &d["master"]),
        (&json!("shmmem-shmem0"), &json!("on"))
    );
    assert!(args.chardevs.is_empty());
}

#[test]
fn a_pci_serial_port_is_its_chardev_and_its_uart_an_isa_one_is_refused() {
    let def = crate::model::DomainDef::from_xml(
        "<domain type='qemu'><name>s</name><memory>65536</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
         <serial type='pty'><target port='0'/></serial>\
         <serial type='unix'><source mode='bind' path='/run/s/ser.sock'/><target type='pci-serial' port='1'/></serial>\
         </devices></domain>",
    )
    .unwrap();
    let caps = QemuCaps::assumed("/usr/bin/qemu-system-x86_64");
    let mut paths = RuntimePaths::for_test("/run/s");
    paths.serial_log = Some("/run/s/console.log".into());
    let def = with_pci_addresses(&def, &caps).unwrap();
    let slot = match &def.devices.serials[1].address {
        Some(crate::model::CharAddress::Pci(a)) => a.slot,
        other => panic!("{other:?}"),
    };
    let args = device_args(&def, &caps, &paths, PluggedDevice::Serial(1)).unwrap();
    assert_eq!(
        args.device,
        json!({"driver": "pci-serial", "chardev": "charserial1", "id": "serial1",
               "bus": "pci.0", "addr": format!("{slot:#x}")})
    );
    assert_eq!(
        args.chardevs,
        [
            json!({"id": "charserial1", "backend": {"type": "socket", "data": {
            "addr": {"type": "unix", "data": {"path": "/run/s/ser.sock"}},
            "server": true, "wait": false, "logfile": "/run/s/console.log", "logappend": true}}})
        ]
    );
    let e = device_args(&def, &caps, &paths, PluggedDevice::Serial(0)).unwrap_err();
    assert!(
        e.message
            .contains("target type 'isa-serial' cannot be hot plugged"),
        "{e}"
    );
}

#[test]
fn a_usb_serial_port_is_its_chardev_and_its_adapter_on_a_usb_port() {
    let def = crate::model::DomainDef::from_xml(
        "<domain type='qemu'><name>s</name><memory>65536</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
         <input type='tablet' bus='usb'/>\
         <serial type='pty'><target type='usb-serial' port='0'/></serial>\
         </devices></domain>",
    )
    .unwrap();
    let caps = QemuCaps::assumed("/usr/bin/qemu-system-x86_64");
    let paths = RuntimePaths::for_test("/run/s");
    let def = with_pci_addresses(&def, &caps).unwrap();
    // libvirt's order: the inputs' ports first.
    let port = def.devices.serials[0].usb().and_then(|a| a.port);
    assert_eq!(port.map(|p| p.to_string()).as_deref(), Some("2"));
    let args = device_args(&def, &caps, &paths, PluggedDevice::Serial(0)).unwrap();
    assert_eq!(
        args.device,
        json!({"driver": "usb-serial", "chardev": "charserial0", "id": "serial0",
               "bus": "usb.0", "port": "2"})
    );
    assert_eq!(
        args.chardevs,
        [
            json!({"id": "charserial0", "backend": {"type": "pty", "data": {
            "logfile": "/run/s/console.log", "logappend": true}}})
        ]
    );
}

#[test]
fn an_egd_rng_over_tls_is_not_hot_plugged() {
    let def = crate::model::DomainDef::from_xml(
        "<domain type='qemu'><name>r</name><memory>65536</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
         <rng model='virtio'><backend model='egd' type='tcp'><source mode='connect' host='h' service='1024' tls='yes'/></backend></rng>\
         </devices></domain>",
    )
    .unwrap();
    let caps = QemuCaps::assumed("/usr/bin/qemu-system-x86_64");
    let paths = RuntimePaths::for_test("/run/r");
    let e = device_args(&def, &caps, &paths, PluggedDevice::Rng(0)).unwrap_err();
    assert!(e.message.contains("'tls-creds' is not hot-plugged"), "{e}");
}

#[test]
fn options_become_typed_qmp_objects() {
    let kv = parse_keyval(
        "virtio-blk-pci,id=virtio-disk1,bus=pci.0,addr=0x5,serial=a,,b,bootindex=2,share-rw=on,write-cache=on",
    );
    assert_eq!(
        to_json(&kv, Some("driver"), DEVICE_BOOLS, DEVICE_INTS),
        json!({"driver": "virtio-blk-pci", "id": "virtio-disk1", "bus": "pci.0",
               "addr": "0x5", "serial": "a,b", "bootindex": 2, "share-rw": true,
               "write-cache": "on"})
    );
    let kv = parse_keyval(
        "ide-hd,id=ide0-0-0,discard_granularity=512,rotation_rate=1,cyls=9,heads=16,secs=63,bios-chs-trans=lba",
    );
    assert_eq!(
        to_json(&kv, Some("driver"), DEVICE_BOOLS, DEVICE_INTS),
        json!({"driver": "ide-hd", "id": "ide0-0-0", "discard_granularity": 512,
               "rotation_rate": 1, "cyls": 9, "heads": 16, "secs": 63,
               "bios-chs-trans": "lba"})
    );
    let kv = parse_keyval(
        "driver=qcow2,file=x-storage,node-name=x-format,read-only=off,cache.direct=on,backing=",
    );
    assert_eq!(
        to_json(&kv, None, BLOCKDEV_BOOLS, &[]),
        json!({"driver": "qcow2", "file": "x-storage", "node-name": "x-format",
               "read-only": false, "cache": {"direct": true}, "backing": null})
    );
    // The options of slices, QEMU's curl and vvfat drivers, and the
    // TLS credentials of NBD.
    let kv = parse_keyval(
        "driver=https,url=https://h/d,sslverify=off,timeout=20,readahead=65536,node-name=n",
    );
    assert_eq!(
        to_json(&kv, None, BLOCKDEV_BOOLS, BLOCKDEV_INTS),
        json!({"driver": "https", "url": "https://h/d", "sslverify": false,
               "timeout": 20, "readahead": 65536, "node-name": "n"})
    );
    let kv = parse_keyval("driver=raw,offset=512,size=1024,file=x-storage");
    assert_eq!(
        to_json(&kv, None, BLOCKDEV_BOOLS, BLOCKDEV_INTS),
        json!({"driver": "raw", "offset": 512, "size": 1024, "file": "x-storage"})
    );
    let kv = parse_keyval("driver=vvfat,dir=/d,floppy=on,rw=off");
    assert_eq!(
        to_json(&kv, None, BLOCKDEV_BOOLS, BLOCKDEV_INTS),
        json!({"driver": "vvfat", "dir": "/d", "floppy": true, "rw": false})
    );
    let kv = parse_keyval("tls-creds-x509,id=t,dir=/p,endpoint=client,verify-peer=on");
    assert_eq!(
        to_json(&kv, Some("qom-type"), &["verify-peer"], &[]),
        json!({"qom-type": "tls-creds-x509", "id": "t", "dir": "/p",
               "endpoint": "client", "verify-peer": true})
    );
    let kv = parse_keyval(
        "user,id=hostnet1,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp:127.0.0.1:53-:53",
    );
    assert_eq!(
        to_json(&kv, Some("type"), NETDEV_BOOLS, &[]),
        json!({"type": "user", "id": "hostnet1", "hostfwd": [
            {"str": "tcp:127.0.0.1:2222-:22"}, {"str": "udp:127.0.0.1:53-:53"}]})
    );
}
