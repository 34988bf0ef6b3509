//! Unit tests of the whole command line, with definitions built in code
//! (the golden files in `tests/argv.rs` cover the XML side).

use super::*;
use crate::model::*;

fn minimal() -> DomainDef {
    DomainDef {
        virt_type: VirtType::Qemu,
        name: "guest".into(),
        uuid: uuid::Uuid::parse_str("c7a5fdbd-edaf-9455-926a-d65c16db1809").unwrap(),
        title: None,
        description: None,
        metadata: None,
        memory_kib: 219100,
        dump_core: None,
        current_memory_kib: None,
        vcpu: Vcpu {
            max: 1,
            current: None,
            cpuset: None,
            placement: None,
            individual: None,
        },
        os: Os {
            arch: Some("x86_64".into()),
            machine: Some("pc".into()),
            ..Os::default()
        },
        features: Features::default(),
        clock: None,
        pm: Pm::default(),
        cpu: None,
        on_poweroff: LifecycleAction::Destroy,
        on_reboot: LifecycleAction::Restart,
        on_crash: LifecycleAction::Destroy,
        devices: Devices::default(),
        max_memory: None,
        memory_backing: None,
        memtune: None,
        blkiotune: None,
        iothreads: None,
        iothread_ids: None,
        thread_pools: Default::default(),
        cputune: None,
        numatune: None,
        partition: None,
        sysinfo: None,
        fw_cfg: Vec::new(),
        genid: None,
        seclabels: Vec::new(),
        launch_security: None,
        perf: Vec::new(),
        qemu: QemuExtras::default(),
    }
}

fn disk(target: &str, source: Option<&str>, device: DiskDevice) -> Disk {
    Disk {
        source: source.map(str::to_string),
        ..Disk::new(device, target)
    }
}

fn nic(kind: InterfaceType, model: &str, last: u8) -> Interface {
    Interface {
        kind,
        mac: MacAddr([0x52, 0x54, 0, 0, 0, last]),
        model: Some(model.into()),
        target_dev: None,
        port_forwards: vec![],
        boot_order: None,
        driver: None,
        rom: None,
        link_up: None,
        mtu: None,
        bandwidth: None,
        virtualport: None,
        coalesce_rx_frames: None,
        filterref: None,
        scripts: Default::default(),
        ips: Vec::new(),
        passt: None,
        acpi_index: None,
        tap: Default::default(),
        address: None,
        alias: None,
    }
}

fn pci(bus: u32, slot: u32, function: u32) -> Option<Address> {
    Some(Address::Pci(PciAddress {
        domain: 0,
        bus,
        slot,
        function,
        multifunction: None,
    }))
}

fn caps() -> QemuCaps {
    QemuCaps::assumed("/usr/bin/qemu-system-x86_64")
}

fn argv(def: &DomainDef) -> Result<Vec<String>, Error> {
    let paths = RuntimePaths::new("/run/t");
    build_argv(def, &caps(), &paths)
        .map(|v| v.into_iter().map(|a| a.into_string().unwrap()).collect())
}

/// The value after each occurrence of `option`.
fn values(args: &[String], option: &str) -> Vec<String> {
    args.windows(2)
        .filter(|w| w[0] == option)
        .map(|w| w[1].clone())
        .collect()
}

fn code(def: &DomainDef) -> ErrorCode {
    argv(def).unwrap_err().code
}

#[test]
fn minimal_domain() {
    let args = argv(&minimal()).unwrap();
    let expected = [
        "/usr/bin/qemu-system-x86_64",
        "-name",
        "guest=guest,debug-threads=on",
        "-S",
        "-no-user-config",
        "-nodefaults",
        "-machine",
        "pc,usb=off,dump-guest-core=off,acpi=off",
        "-accel",
        "tcg",
        "-m",
        "size=219136k",
        "-smp",
        "1",
        "-uuid",
        "c7a5fdbd-edaf-9455-926a-d65c16db1809",
        "-display",
        "none",
        "-chardev",
        "socket,id=charmonitor,path=/run/t/qmp.sock,server=on,wait=off",
        "-mon",
        "chardev=charmonitor,id=monitor,mode=control",
        "-rtc",
        "base=utc",
        "-boot",
        "strict=on",
        "-device",
        "piix3-usb-uhci,id=usb,bus=pci.0,addr=0x1.0x2",
        "-audiodev",
        "none,id=audio1",
        "-device",
        "virtio-balloon-pci,id=balloon0,bus=pci.0,addr=0x2",
        "-msg",
        "timestamp=on",
    ];
    assert_eq!(args, expected);
}

#[test]
fn kvm_without_kvm_is_no_support() {
    let mut def = minimal();
    def.virt_type = VirtType::Kvm;
    let e = argv(&def).unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSupport);
    assert!(e.message.contains("KVM is not available"), "{}", e.message);
    assert!(e.message.contains("<domain type='qemu'>"), "{}", e.message);
    let mut kvm = caps();
    kvm.kvm = true;
    def.cpu = Some(Box::new(Cpu::new(CpuMode::HostPassthrough)));
    let args = build_argv(&def, &kvm, &RuntimePaths::new("/r")).unwrap();
    let args: Vec<String> = args.into_iter().map(|a| a.into_string().unwrap()).collect();
    assert_eq!(values(&args, "-accel"), ["kvm"]);
    assert_eq!(values(&args, "-cpu"), ["host"]);
}

#[test]
fn host_passthrough_needs_kvm() {
    let mut def = minimal();
    def.cpu = Some(Box::new(Cpu::new(CpuMode::HostPassthrough)));
    assert_eq!(code(&def), ErrorCode::ConfigUnsupported);
    def.cpu = Some(Box::new(Cpu::new(CpuMode::Maximum)));
    assert_eq!(values(&argv(&def).unwrap(), "-cpu"), ["max"]);
}

#[test]
fn unknown_machine_and_default_machine() {
    let mut def = minimal();
    def.os.machine = Some("pc-foo".into());
    assert_eq!(code(&def), ErrorCode::ConfigUnsupported);
    def.os.machine = None;
    let mut c = caps();
    c.default_machine = "q35".into();
    let args = build_argv(&def, &c, &RuntimePaths::new("/r")).unwrap();
    assert!(args.iter().any(|a| a.to_str().unwrap().starts_with("q35,")));
}

#[test]
fn hostile_strings_cannot_add_options() {
    let mut def = minimal();
    def.name = "evil,name=x".into();
    def.devices.disks.push(disk(
        "vda",
        Some("/tmp/a,file=/etc/shadow"),
        DiskDevice::Disk,
    ));
    let args = argv(&def).unwrap();
    assert_eq!(
        values(&args, "-name")[0],
        "guest=evil,,name=x,debug-threads=on"
    );
    assert!(values(&args, "-blockdev")[0].contains("filename=/tmp/a,,file=/etc/shadow,"));
    def.name = "nul\0".into();
    assert_eq!(code(&def), ErrorCode::ConfigInvalid);
}

#[test]
fn memory_rounds_up_to_mib_and_smp_current() {
    let mut def = minimal();
    def.memory_kib = 1;
    def.vcpu = Vcpu {
        max: 4,
        current: Some(2),
        cpuset: None,
        placement: None,
        individual: None,
    };
    let args = argv(&def).unwrap();
    assert_eq!(values(&args, "-m"), ["size=1024k"]);
    assert_eq!(values(&args, "-smp"), ["2,maxcpus=4"]);
}

#[test]
fn boot_dev_list_matches_libvirt() {
    // boot-complex from libvirt's tests: cdrom, network, hd, fd.
    let mut def = minimal();
    def.os.boot = vec![BootDev::Cdrom, BootDev::Network, BootDev::Hd, BootDev::Fd];
    let d = &mut def.devices;
    d.disks
        .push(disk("vdb", Some("/tmp/vdb.img"), DiskDevice::Disk));
    d.disks
        .push(disk("hdb", Some("/dev/hdb"), DiskDevice::Disk));
    d.disks
        .push(disk("hda", Some("/dev/hda"), DiskDevice::Disk));
    d.disks
        .push(disk("vda", Some("/tmp/vda.img"), DiskDevice::Disk));
    d.disks
        .push(disk("hdc", Some("/dev/hdc"), DiskDevice::Cdrom));
    d.disks
        .push(disk("fdb", Some("/dev/fd1"), DiskDevice::Floppy));
    d.disks
        .push(disk("fda", Some("/dev/fd0"), DiskDevice::Floppy));
    d.interfaces.push(nic(InterfaceType::User, "virtio", 1));
    let args = argv(&def).unwrap();
    let devices = values(&args, "-device");
    let find = |prefix: &str| {
        devices
            .iter()
            .find(|d| d.starts_with(prefix))
            .unwrap()
            .clone()
    };
    assert!(find("virtio-blk-pci,id=virtio-disk0").ends_with("bootindex=3"));
    assert!(!find("virtio-blk-pci,id=virtio-disk1").contains("bootindex"));
    assert!(find("ide-cd,id=ide0-1-0,bus=ide.1,unit=0").ends_with("bootindex=1"));
    assert!(find("virtio-net-pci").contains("bootindex=2"));
    assert!(values(&args, "-global").contains(&"isa-fdc.bootindexA=4".to_string()));
    // libvirt's order: virtio group (vda, vdb), IDE (hda, hdb, hdc), floppies.
    let ids: Vec<&str> = devices
        .iter()
        .filter_map(|d| d.split(",id=").nth(1))
        .map(|rest| rest.split(',').next().unwrap())
        .filter(|id| id.contains("disk") || id.starts_with("ide") || id.starts_with("fdc"))
        .collect();
    assert_eq!(
        ids,
        [
            "virtio-disk0",
            "virtio-disk1",
            "ide0-0-0",
            "ide0-0-1",
            "ide0-1-0",
            "fdc0-0-0",
            "fdc0-0-1"
        ]
    );
}

#[test]
fn per_device_boot_order_and_conflicts() {
    let mut def = minimal();
    let mut d = disk("vda", Some("/a"), DiskDevice::Disk);
    d.boot_order = Some(2);
    def.devices.disks.push(d);
    let mut n = nic(InterfaceType::User, "e1000", 1);
    n.boot_order = Some(1);
    def.devices.interfaces.push(n);
    let args = argv(&def).unwrap();
    let devices = values(&args, "-device");
    assert!(
        devices
            .iter()
            .any(|d| d.starts_with("e1000,") && d.ends_with("bootindex=1"))
    );
    assert!(
        devices
            .iter()
            .any(|d| d.starts_with("virtio-blk-pci") && d.ends_with("bootindex=2"))
    );
    def.os.boot = vec![BootDev::Hd];
    assert_eq!(code(&def), ErrorCode::ConfigInvalid);
    def.os.boot.clear();
    def.devices.interfaces[0].boot_order = Some(2);
    assert_eq!(code(&def), ErrorCode::ConfigInvalid);
}

#[test]
fn auto_slots_avoid_explicit_ones() {
    let mut def = minimal();
    let mut a = disk("vda", Some("/a"), DiskDevice::Disk);
    let mut b = disk("vdb", Some("/b"), DiskDevice::Disk);
    b.address = pci(0, 3, 0);
    a.address = None;
    def.devices.disks = vec![a, b];
    def.devices.memballoon = Some(Memballoon {
        model: BalloonModel::None,
        autodeflate: None,
        free_page_reporting: None,
        stats_period: None,
        virtio: VirtioOptions::default(),
        address: None,
    });
    def.devices
        .interfaces
        .push(nic(InterfaceType::User, "virtio", 1));
    // libvirt's order: NICs before disks, explicit slots kept.
    let devices = values(&argv(&def).unwrap(), "-device");
    for want in [
        "id=net0,bus=pci.0,addr=0x2,",
        "virtio-blk-pci,id=virtio-disk1,bus=pci.0,addr=0x3,",
        "virtio-blk-pci,id=virtio-disk0,bus=pci.0,addr=0x4,",
    ] {
        assert!(
            devices.iter().any(|d| d.contains(want)),
            "{want}: {devices:?}"
        );
    }
}

#[test]
fn builtin_and_duplicate_pci_addresses_are_refused() {
    let mut def = minimal();
    def.devices.memballoon = Some(Memballoon {
        model: BalloonModel::Virtio,
        autodeflate: None,
        free_page_reporting: None,
        stats_period: None,
        virtio: VirtioOptions::default(),
        address: pci(0, 1, 1),
    });
    let e = argv(&def).unwrap_err();
    assert_eq!(e.code, ErrorCode::ConfigInvalid);
    assert!(e.message.contains("0000:00:01.1"), "{}", e.message);
    def.devices.memballoon.as_mut().unwrap().address = pci(0, 5, 0);
    let mut n = nic(InterfaceType::User, "virtio", 1);
    n.address = pci(0, 5, 0);
    def.devices.interfaces.push(n);
    assert_eq!(code(&def), ErrorCode::ConfigInvalid);
    // A bus that an address names is added with those below it, as
    // libvirt does.
    def.devices.interfaces[0].address = pci(3, 1, 0);
    let args = argv(&def).unwrap();
    let devices = values(&args, "-device");
    for i in 1..=3 {
        assert!(
            devices
                .iter()
                .any(|d| d.starts_with(&format!("pci-bridge,id=pci.{i},"))),
            "{devices:?}"
        );
    }
    assert!(devices.iter().any(|d| d.contains("bus=pci.3,addr=0x1")));
}

#[test]
fn vnc_autoport_needs_a_port() {
    let mut def = minimal();
    let mut g = Graphics::new(GraphicsType::Vnc);
    g.port = Some(-1);
    g.autoport = Some(true);
    g.passwd = Some("secret".into());
    def.devices.graphics.push(g);
    assert_eq!(code(&def), ErrorCode::InvalidArgument);
    let mut paths = RuntimePaths::new("/r");
    paths.vnc_port = Some(5907);
    let args: Vec<String> = build_argv(&def, &caps(), &paths)
        .unwrap()
        .into_iter()
        .map(|a| a.into_string().unwrap())
        .collect();
    assert_eq!(
        values(&args, "-vnc"),
        ["127.0.0.1:7,password=on,audiodev=audio1"]
    );
    assert!(!args.iter().any(|a| a.contains("secret")));
    assert!(
        values(&args, "-device")
            .iter()
            .any(|d| d.starts_with("VGA,id=video0,bus=pci.0,addr=0x2"))
    );
    assert!(values(&args, "-display").is_empty());
}

#[test]
fn interfaces_need_taps_and_no_managed_networks() {
    let mut def = minimal();
    def.devices
        .interfaces
        .push(nic(InterfaceType::Bridge("br0".into()), "virtio", 1));
    assert_eq!(code(&def), ErrorCode::InvalidArgument);
    def.devices.interfaces[0].target_dev = Some("tap,0".into());
    let args = argv(&def).unwrap();
    assert_eq!(
        values(&args, "-netdev"),
        ["tap,id=hostnet0,ifname=tap,,0,script=no,downscript=no"]
    );
    def.devices.interfaces[0].kind = InterfaceType::Network("isolated".into());
    let e = argv(&def).unwrap_err();
    assert_eq!(e.code, ErrorCode::ConfigUnsupported);
    assert!(e.message.contains("'isolated'"), "{}", e.message);
}

#[test]
fn usb_none_refuses_usb_devices() {
    let mut def = minimal();
    def.devices
        .controllers
        .push(Controller::new(ControllerType::Usb, 0, Some("none".into())));
    let args = argv(&def).unwrap();
    assert!(!values(&args, "-device").iter().any(|d| d.contains("usb")));
    def.devices.inputs.push(Input {
        kind: InputType::Tablet,
        bus: Some(InputBus::Usb),
        model: None,
        evdev: None,
        evdev_options: Default::default(),
        virtio: VirtioOptions::default(),
        address: None,
        alias: None,
    });
    let e = argv(&def).unwrap_err();
    assert_eq!(e.code, ErrorCode::ConfigUnsupported);
    assert!(e.message.contains("USB bus is disabled"));
}

#[test]
fn console_aliases_the_first_serial_or_creates_it() {
    let mut def = minimal();
    let console = CharDevice {
        source: CharSource::Pty { path: None },
        target_port: Some(0),
        target_type: Some("serial".into()),
        log: None,
        address: None,
        alias: None,
    };
    def.devices.consoles.push(console.clone());
    let args = argv(&def).unwrap();
    assert_eq!(values(&args, "-chardev")[1], "pty,id=charserial0");
    def.devices.serials.push(CharDevice {
        source: CharSource::Null,
        target_port: None,
        target_type: None,
        log: None,
        address: None,
        alias: None,
    });
    let args = argv(&def).unwrap();
    let chardevs = values(&args, "-chardev");
    assert_eq!(chardevs.len(), 2);
    assert_eq!(chardevs[1], "null,id=charserial0");
}

#[test]
fn runtime_paths_must_be_absolute() {
    let mut paths = RuntimePaths::new("/r");
    paths.qmp_socket = "relative.sock".into();
    let e = build_argv(&minimal(), &caps(), &paths).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
}

#[test]
fn i686_picks_the_i386_binary_unless_an_emulator_is_named() {
    let mut def = minimal();
    def.os.arch = Some("i686".into());
    assert_eq!(argv(&def).unwrap()[0], "/usr/bin/qemu-system-i386");
    def.devices.emulator = Some("/opt/qemu".into());
    assert_eq!(argv(&def).unwrap()[0], "/opt/qemu");
}

#[test]
fn disk_ids_follow_libvirt() {
    let mut def = minimal();
    def.devices
        .disks
        .push(disk("hdd", Some("/a"), DiskDevice::Disk));
    let mut s = disk("sdb", Some("/b"), DiskDevice::Disk);
    s.bus = Some(DiskBus::Sata);
    def.devices.disks.push(s);
    def.devices
        .disks
        .push(disk("vdc", Some("/c"), DiskDevice::Disk));
    assert_eq!(
        disk_device_ids(&def).unwrap(),
        ["ide0-1-1", "sata0-0-1", "virtio-disk2"]
    );
}

#[test]
fn devices_the_binary_lacks_are_refused_naming_the_package() {
    let mut def = minimal();
    let mut video = Video::new(VideoModel::Virtio);
    video.accel3d = Some(true);
    def.devices.videos.push(video);
    let paths = RuntimePaths::new("/run/t");
    let mut caps = caps();
    // Without probed device types nothing is checked.
    let args = build_argv(&def, &caps, &paths).unwrap();
    let devices: Vec<String> = args
        .windows(2)
        .filter(|w| w[0] == "-device")
        .map(|w| {
            w[1].to_string_lossy()
                .split(',')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(devices.iter().any(|d| d == "virtio-vga-gl"), "{devices:?}");
    // Every device but the module the OpenGL GPU needs.
    caps.devices = Some(devices.iter().cloned().collect());
    let e = build_argv(&def, &caps, &paths).unwrap_err();
    assert_eq!(e.code, ErrorCode::ConfigUnsupported);
    assert!(e.message.contains("virtio-gpu-gl-device"), "{}", e.message);
    assert!(e.message.contains("qemu-system-gui"), "{}", e.message);
    caps.devices
        .as_mut()
        .unwrap()
        .insert("virtio-gpu-gl-device".to_string());
    build_argv(&def, &caps, &paths).unwrap();
    // A device the binary lacks altogether.
    caps.devices.as_mut().unwrap().remove("virtio-vga-gl");
    let e = build_argv(&def, &caps, &paths).unwrap_err();
    assert!(
        e.message.contains("has no device 'virtio-vga-gl'"),
        "{}",
        e.message
    );
}

#[test]
fn device_aliases_are_found_under_their_type() {
    let mut def = minimal();
    def.devices
        .disks
        .push(disk("sda", Some("/var/lib/a.img"), DiskDevice::Disk));
    let paths = RuntimePaths::new("/run/t");
    let mut caps = caps();
    let args = build_argv(&def, &caps, &paths).unwrap();
    let mut devices: std::collections::BTreeSet<String> = args
        .windows(2)
        .filter(|w| w[0] == "-device")
        .map(|w| {
            w[1].to_string_lossy()
                .split(',')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    // libvirt's default SCSI controller is QEMU's alias 'lsi'.
    assert!(devices.remove("lsi"), "{devices:?}");
    devices.insert("lsi53c895a".to_string());
    caps.devices = Some(devices);
    build_argv(&def, &caps, &paths).unwrap();
}

/// USB ports go in libvirt's order (virDomainUSBDeviceDefForeach): the
/// hubs, host devices, disks, smartcard readers, inputs, serial ports,
/// sound, redirection; the root's ports before a hub's. As libvirt 9.0's
/// `controller-order` test file has them.
#[test]
fn usb_ports_go_in_libvirts_order() {
    let def = DomainDef::from_xml(
        "<domain type='qemu'><name>u</name><memory>65536</memory>\
         <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
         <smartcard mode='passthrough' type='spicevmc'/>\
         <input type='tablet' bus='usb'/>\
         <hostdev mode='subsystem' type='usb'><source><address bus='14' device='6'/></source></hostdev>\
         <hub type='usb'/><graphics type='spice' port='5901' autoport='no'/><memballoon model='none'/></devices></domain>",
    )
    .unwrap();
    let args = argv(&def).unwrap();
    let port = |driver: &str| {
        values(&args, "-device")
            .into_iter()
            .find(|d| d.starts_with(driver))
            .and_then(|d| {
                d.split(',')
                    .find_map(|p| p.strip_prefix("port=").map(str::to_string))
            })
            .unwrap_or_else(|| panic!("no {driver} in {args:?}"))
    };
    assert_eq!(port("usb-hub,"), "1");
    assert_eq!(port("usb-host,"), "2");
    assert_eq!(port("usb-ccid,"), "1.1");
    assert_eq!(port("usb-tablet,"), "1.2");
}
