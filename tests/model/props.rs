//! Properties: no input makes the reader panic, and every valid definition
//! (arbitrary strings with markup characters, commas, equals signs and
//! non-ASCII included) is written as well-formed XML that reads back
//! exactly.

use proptest::prelude::*;
use qvirt::model::*;
use uuid::Uuid;

use crate::doc;
use crate::pick::Pick;

#[path = "props_net.rs"]
mod net;

/// Text of printable characters, markup and separators included.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 &<>'\",=;:_.\\-éß✓€日本\u{1F600}]{1,24}"
}

/// A name: no '/', not starting with '.', no control characters.
fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9&<>'\",=_é✓][a-zA-Z0-9 &<>'\",=_.\\-é✓]{0,30}"
}

/// An absolute path with awkward but legal characters.
fn path() -> impl Strategy<Value = String> {
    "(/[a-zA-Z0-9 &<>'\",=_.\\-é]{1,12}){1,4}"
}

/// Free text with line ends and tabs.
fn free_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 &<>'\",=\t\n\r_é✓]{1,40}"
}

const METADATA: &[&str] = &[
    "<app:x xmlns:app=\"urn:app\"/>",
    "<a:info xmlns:a='http://example.org/a'><a:owner id=\"7\">ops &amp; dev</a:owner></a:info>",
    "<x xmlns='urn:x'>t</x>\n    <!-- note --><y:z xmlns:y='urn:y'><![CDATA[<raw>]]></y:z>",
];

/// Builds a valid definition from a seed and pools of strings.
fn build(seed: u64, names: &[String], paths: &[String], texts: &[String], free: &str) -> DomainDef {
    let mut p = Pick(seed | 1);
    let q35 = p.coin();
    let machine = if q35 {
        p.of(&["q35", "pc-q35-8.2"]).to_string()
    } else {
        p.of(&["pc", "pc-i440fx-9.0"]).to_string()
    };
    let virt_type = if p.coin() {
        VirtType::Kvm
    } else {
        VirtType::Qemu
    };
    let memory_kib = 1024 + p.below(64 * 1024 * 1024);
    let max = 1 + p.below(64) as u32;
    let path = |p: &mut Pick| p.of(paths).clone();
    let mut slots: Vec<u32> = (2..0x1f).collect();
    let mut pci = |p: &mut Pick| -> Option<Address> {
        if !p.coin() || slots.is_empty() {
            return None;
        }
        let s = slots.remove(p.below(slots.len() as u64) as usize);
        Some(Address::Pci(PciAddress {
            domain: 0,
            bus: 0,
            slot: s,
            function: 0,
            multifunction: p.maybe(|p| p.coin()),
        }))
    };
    let per_device_boot = p.coin();
    let mut boot_orders = 1..;
    let mut disks = Vec::new();
    for (i, letter) in ["a", "b", "c", "d"]
        .iter()
        .enumerate()
        .take(p.below(5) as usize)
    {
        let (prefix, bus) = match i {
            0 => ("vd", DiskBus::Virtio),
            1 => ("sd", DiskBus::Scsi),
            2 => ("sd", if q35 { DiskBus::Sata } else { DiskBus::Scsi }),
            _ => ("vd", DiskBus::Virtio),
        };
        let cdrom = bus != DiskBus::Virtio && p.coin();
        disks.push(Disk {
            kind: if p.coin() {
                DiskType::File
            } else {
                DiskType::Block
            },
            device: if cdrom {
                DiskDevice::Cdrom
            } else {
                DiskDevice::Disk
            },
            format: *p.of(&[None, Some(DiskFormat::Raw), Some(DiskFormat::Qcow2)]),
            source: if cdrom && p.coin() {
                None
            } else {
                Some(path(&mut p))
            },
            driver: DiskDriver {
                cache: p.maybe(|p| *p.of(CacheMode::ALL)),
                io: p.maybe(|p| *p.of(IoMode::ALL)),
                discard: p.maybe(|p| *p.of(DiscardMode::ALL)),
                detect_zeroes: p.maybe(|p| *p.of(DetectZeroes::ALL)),
                error_policy: p.maybe(|p| *p.of(ErrorPolicy::ALL)),
                ..Default::default()
            },
            target: format!("{prefix}{letter}"),
            bus: p.maybe(|_| bus),
            removable: None,
            readonly: cdrom || (bus != DiskBus::Sata && p.coin()),
            shareable: p.coin(),
            serial: p.maybe(|_| format!("S-{seed:x} .+_{i}")),
            wwn: (bus == DiskBus::Scsi)
                .then(|| p.maybe(|p| format!("{}5000c50015ea71{i:02x}", p.of(&["", "0x"]))))
                .flatten(),
            vendor: (bus == DiskBus::Scsi)
                .then(|| p.maybe(|_| "QVIRT".to_string()))
                .flatten(),
            product: (bus == DiskBus::Scsi)
                .then(|| p.maybe(|_| format!("DISK {i}")))
                .flatten(),
            iotune: p
                .maybe(|p| IoTune {
                    limits: vec![
                        ("total_bytes_sec", 1 << 20),
                        ("read_iops_sec", 100 + u64::from(p.coin())),
                    ],
                    group_name: p.maybe(|_| format!("g{i}")),
                })
                .map(Box::new),
            boot_order: (per_device_boot && p.coin()).then(|| boot_orders.next().unwrap()),
            address: if bus == DiskBus::Virtio {
                pci(&mut p)
            } else {
                None
            },
            volume: None,
            network: None,
            backing: None,
            model: None,
            transient: false,
            // ('no' on a read-only disk is libvirt's default, not written.)
            snapshot: p.maybe(|p| *p.of(&[SnapshotLocation::Internal, SnapshotLocation::External])),
            startup_policy: p.maybe(|p| {
                if cdrom {
                    *p.of(StartupPolicy::ALL)
                } else {
                    *p.of(&[StartupPolicy::Mandatory, StartupPolicy::Optional])
                }
            }),
            norelabel: p
                .maybe(|p| vec![p.maybe(|p| p.of(&["dac", "selinux"]).to_string())])
                .unwrap_or_default(),
            ..Disk::new(DiskDevice::Disk, String::new())
        });
        let d = disks.last_mut().expect("pushed above");
        if let Some(source) = d.source.clone() {
            d.encryption = p.maybe(|p| qvirt::model::DiskEncryption {
                engine_written: p.coin(),
                secret: if p.coin() {
                    qvirt::model::SecretLookup::Usage(source)
                } else {
                    qvirt::model::SecretLookup::Uuid(uuid::Uuid::from_u128(seed as u128))
                },
                in_source: p.coin(),
            });
        }
    }
    let mut controllers = vec![Controller {
        pcihole64_kib: p.maybe(|p| p.below(1 << 30)),
        ..Controller::new(
            ControllerType::Pci,
            0,
            Some(if q35 { "pcie-root" } else { "pci-root" }.into()),
        )
    }];
    let usb_none = p.below(4) == 0;
    controllers.push(Controller {
        kind: ControllerType::Usb,
        index: 0,
        model: Some(if usb_none { "none" } else { "qemu-xhci" }.into()),
        ports: (!usb_none).then(|| 1 + p.below(15) as u32),
        ..controllers[0].clone()
    });
    controllers[1].pcihole64_kib = None;
    controllers[1].address = if usb_none { None } else { pci(&mut p) };
    controllers.push(Controller {
        kind: ControllerType::Scsi,
        index: 0,
        model: Some("virtio-scsi".into()),
        ports: None,
        pcihole64_kib: None,
        virtio: VirtioOptions {
            iommu: p.maybe(|p| p.coin()),
            ats: p.maybe(|p| p.coin()),
            packed: p.maybe(|p| p.coin()),
            page_per_vq: p.maybe(|p| p.coin()),
        },
        address: pci(&mut p),
        ..controllers[0].clone()
    });
    if p.coin() {
        controllers.push(Controller {
            kind: ControllerType::Pci,
            index: 1,
            model: Some(if q35 { "pcie-root-port" } else { "pci-bridge" }.into()),
            model_name: p.maybe(|_| if q35 { "ioh3420" } else { "pci-bridge" }.into()),
            target: Some(ControllerTarget {
                chassis_nr: (!q35).then(|| 1 + p.below(255) as u32),
                chassis: q35.then(|| p.below(256) as u32),
                port: q35.then(|| p.below(256) as u32),
                hotplug: p.maybe(|p| p.coin()),
                mem_reserve: p.maybe(|p| p.next()),
                ..ControllerTarget::default()
            }),
            pcihole64_kib: None,
            virtio: VirtioOptions::default(),
            address: pci(&mut p),
            ..controllers[0].clone()
        });
    }
    let mut boot =
        |p: &mut Pick| (per_device_boot && p.coin()).then(|| boot_orders.next().unwrap());
    let interfaces = net::interfaces(&mut p, &mut pci, &mut boot, &path);
    let mut serials = Vec::new();
    for port in 0..p.below(4) as u32 {
        let source = match p.below(5) {
            0 => CharSource::Pty {
                path: p.maybe(|p| path(p)),
            },
            3 => {
                let listen = p.coin();
                CharSource::Tcp {
                    host: p.maybe(|p| format!("10.0.{}.1", p.below(255))),
                    service: 1 + p.below(65535) as u16,
                    listen,
                    telnet: p.coin(),
                    reconnect: (!listen)
                        .then(|| p.maybe(|p| 1 + p.below(60) as u32))
                        .flatten(),
                    tls: p.maybe(|p| p.coin()),
                }
            }
            1 => CharSource::File {
                path: path(&mut p),
                append: p.maybe(|p| p.coin()),
            },
            2 => crate::unix_source(Some(path(&mut p)), p.coin()),
            _ => CharSource::Null,
        };
        serials.push(CharDevice {
            source,
            target_port: p.maybe(|_| port),
            target_type: p.maybe(|_| "isa-serial".into()),
            log: p.maybe(|p| CharLog {
                file: path(p),
                append: p.maybe(|p| p.coin()),
            }),
            address: p.maybe(|p| {
                CharAddress::Isa(IsaAddress {
                    iobase: p.maybe(|p| p.below(0x10000) as u16),
                    irq: p.maybe(|p| p.below(16) as u8),
                })
            }),
            alias: p.maybe(|_| format!("ua-serial-{}", serials.len())),
        });
    }
    let smartcards = p
        .maybe(|p| Smartcard {
            mode: match p.below(3) {
                0 => SmartcardMode::Host,
                1 => SmartcardMode::HostCertificates {
                    certificates: [0, 1, 2].map(|_| p.of(texts).clone()),
                    database: p.maybe(|p| path(p)),
                },
                _ => SmartcardMode::Passthrough(crate::unix_source(Some(path(p)), p.coin())),
            },
            address: p.maybe(|_| CcidAddress {
                controller: 0,
                slot: 0,
            }),
        })
        .filter(|_| !usb_none)
        .into_iter()
        .collect();
    let consoles = (0..p.below(2))
        .map(|_| CharDevice {
            source: CharSource::Pty { path: None },
            target_port: Some(0),
            target_type: Some(p.of(&["serial", "virtio"]).to_string()),
            log: None,
            address: None,
            alias: None,
        })
        .collect();
    let mut inputs = vec![Input {
        kind: InputType::Mouse,
        bus: p.maybe(|_| InputBus::Ps2),
        model: None,
        evdev: None,
        evdev_options: EvdevOptions::default(),
        virtio: VirtioOptions::default(),
        address: None,
        alias: None,
    }];
    if !usb_none && p.coin() {
        inputs.push(Input {
            kind: InputType::Tablet,
            bus: Some(InputBus::Usb),
            address: p.maybe(|_| {
                Address::Usb(UsbAddress {
                    bus: 0,
                    port: UsbPort::new(&[1]),
                })
            }),
            ..inputs[0].clone()
        });
    }
    if p.coin() {
        inputs.push(Input {
            kind: InputType::Passthrough,
            bus: Some(InputBus::Virtio),
            model: p.maybe(|p| p.of(&["virtio", "virtio-transitional"]).to_string()),
            evdev: Some(path(&mut p)),
            evdev_options: EvdevOptions::default(),
            virtio: VirtioOptions {
                iommu: p.maybe(|_| true),
                ..VirtioOptions::default()
            },
            address: pci(&mut p),
            alias: None,
        });
    }
    if p.coin() {
        inputs.push(Input {
            kind: InputType::Evdev,
            bus: None,
            model: None,
            evdev: Some(path(&mut p)),
            evdev_options: EvdevOptions {
                grab_all: p.coin(),
                grab_toggle: p.maybe(|p| *p.of(GrabToggle::ALL)),
                repeat: p.maybe(|p| p.coin()),
            },
            virtio: VirtioOptions::default(),
            address: None,
            alias: None,
        });
    }
    let listen = p.maybe(|p| p.of(&["127.0.0.1", "::1", "localhost"]).to_string());
    let graphics = (0..p.below(2))
        .map(|_| {
            let auto = p.coin();
            let spice = p.coin();
            let mut g = Graphics::new(if spice {
                GraphicsType::Spice
            } else {
                GraphicsType::Vnc
            });
            g.port = Some(if auto {
                -1
            } else {
                5900 + p.below(50000) as i32
            });
            g.autoport = Some(auto);
            g.listen = listen.clone();
            g.listens = listen
                .iter()
                .filter(|_| p.coin())
                .map(|l| GraphicsListen::Address(Some(l.clone())))
                .collect();
            // VNC takes at most 8 characters.
            g.passwd = p.maybe(|p| p.of(texts).chars().take(8).collect());
            g.keymap = p.maybe(|p| p.of(&["en-us", "de"]).to_string());
            if spice {
                g.tls_port = p.maybe(|_| -1);
                g.spice = SpiceOptions {
                    channels: vec![(SpiceChannelName::Main, SpiceChannelMode::Insecure)],
                    image_compression: p.maybe(|p| *p.of(SpiceImageCompression::ALL)),
                    jpeg_compression: p.maybe(|p| *p.of(SpiceWanCompression::ALL)),
                    zlib_compression: p.maybe(|p| *p.of(SpiceWanCompression::ALL)),
                    playback_compression: p.maybe(|p| p.coin()),
                    streaming: p.maybe(|p| *p.of(SpiceStreaming::ALL)),
                    copypaste: p.maybe(|p| p.coin()),
                    mouse_mode: p.maybe(|p| *p.of(SpiceMouseMode::ALL)),
                    filetransfer: p.maybe(|p| p.coin()),
                    gl: None,
                };
            }
            g
        })
        .collect();
    let videos = (0..p.below(3))
        .map(|i| {
            let model = *p.of(&[
                VideoModel::Vga,
                VideoModel::Cirrus,
                VideoModel::Qxl,
                VideoModel::Virtio,
                VideoModel::Bochs,
            ]);
            let qxl = model == VideoModel::Qxl;
            let virtio = model == VideoModel::Virtio;
            Video {
                vram: p.maybe(|p| p.below(1 << 20)),
                vram64: if qxl { p.maybe(|_| 65536) } else { None },
                accel3d: if virtio { p.maybe(|p| p.coin()) } else { None },
                blob: if virtio { p.maybe(|p| p.coin()) } else { None },
                ram: if qxl { p.maybe(|_| 65536) } else { None },
                vgamem: if qxl { p.maybe(|_| 16384) } else { None },
                heads: p.maybe(|p| 1 + p.below(4) as u32),
                resolution: p
                    .maybe(|p| (p.below(4096) as u32, p.below(4096) as u32))
                    .filter(|_| model != VideoModel::Cirrus),
                primary: i == 0 && p.coin(),
                acpi_index: p.maybe(|_| 1 + i as u32),
                virtio: if virtio {
                    VirtioOptions {
                        ats: p.maybe(|p| p.coin()),
                        ..VirtioOptions::default()
                    }
                } else {
                    VirtioOptions::default()
                },
                address: pci(&mut p),
                model,
            }
        })
        .collect();
    let memballoon = match p.below(3) {
        0 => None,
        1 => Some(Memballoon {
            model: BalloonModel::None,
            autodeflate: None,
            free_page_reporting: None,
            stats_period: None,
            virtio: VirtioOptions::default(),
            address: None,
        }),
        _ => Some(Memballoon {
            model: BalloonModel::Virtio,
            autodeflate: p.maybe(|p| p.coin()),
            free_page_reporting: p.maybe(|p| p.coin()),
            stats_period: p.maybe(|p| 1 + p.below(100) as u32),
            virtio: VirtioOptions {
                packed: p.maybe(|p| p.coin()),
                ..VirtioOptions::default()
            },
            address: pci(&mut p),
        }),
    };
    let mut timers = Vec::new();
    for n in [
        TimerName::Rtc,
        TimerName::Pit,
        TimerName::Hpet,
        TimerName::Kvmclock,
        TimerName::Hypervclock,
    ] {
        if p.coin() {
            let mut t = Timer::new(n);
            t.tickpolicy =
                matches!(n, TimerName::Pit | TimerName::Hpet).then_some(TickPolicy::Delay);
            t.present = p.maybe(|p| p.coin());
            if n == TimerName::Rtc {
                t.track = p.maybe(|p| *p.of(TimerTrack::ALL));
            }
            timers.push(t);
        }
    }
    let pflash = p.coin();
    let kernel = p.maybe(|p| path(p));
    let iothreads = p.maybe(|p| p.below(3) as u32);
    DomainDef {
        virt_type,
        name: p.of(names).clone(),
        uuid: Uuid::from_u64_pair(p.next(), p.next()),
        title: p.maybe(|p| p.of(texts).clone()),
        description: p.maybe(|_| free.to_string()),
        metadata: p.maybe(|p| p.of(METADATA).to_string()),
        memory_kib,
        dump_core: p.maybe(|p| p.coin()),
        current_memory_kib: p.maybe(|p| 1 + p.below(memory_kib)),
        vcpu: Vcpu {
            max,
            current: p.maybe(|p| 1 + p.below(u64::from(max)) as u32),
            cpuset: p.maybe(|p| p.of(&["0", "0-3", "0-3,^2,8", "1,3,5-7"]).to_string()),
            placement: None,
            individual: None,
        },
        os: Os {
            firmware: None,
            firmware_features: Default::default(),
            bios: None,
            smbios: None,
            arch: p.maybe(|p| p.of(&["x86_64", "i686"]).to_string()),
            machine: Some(machine),
            boot: if per_device_boot {
                Vec::new()
            } else {
                [BootDev::Network, BootDev::Cdrom, BootDev::Hd, BootDev::Fd]
                    .into_iter()
                    .filter(|_| p.coin())
                    .collect()
            },
            loader: p.maybe(|p| Loader {
                path: Some(path(p)),
                readonly: p.maybe(|p| p.coin()),
                kind: Some(if pflash {
                    LoaderType::Pflash
                } else {
                    LoaderType::Rom
                }),
                ..Loader::default()
            }),
            bootmenu: p.maybe(|p| BootMenu {
                enable: p.coin(),
                timeout: p.maybe(|p| p.below(65536) as u16),
            }),
            nvram: None,
            initrd: kernel.as_ref().and_then(|_| p.maybe(|p| path(p))),
            cmdline: kernel
                .as_ref()
                .and_then(|_| p.maybe(|p| p.of(texts).clone())),
            kernel,
            slic_table: p.maybe(|p| path(p)),
        },
        features: Features {
            acpi: p.coin(),
            apic: p.coin(),
            tcg_tb_cache_kib: (virt_type == VirtType::Qemu)
                .then(|| p.maybe(|p| 1024 * (1 + u64::from(p.coin()))))
                .flatten(),
            pae: p.coin(),
            vmport: p.maybe(|p| p.coin()),
            smm: p.maybe(|p| Smm {
                enabled: true,
                tseg_kib: if q35 { p.maybe(|_| 48 * 1024) } else { None },
            }),
            hyperv: p
                .maybe(|p| Hyperv {
                    mode: p.maybe(|_| HypervMode::Custom),
                    flags: [
                        (HypervFlag::Relaxed, p.coin()),
                        (HypervFlag::Vapic, true),
                        (HypervFlag::Spinlocks, true),
                    ]
                    .into_iter()
                    .collect(),
                    spinlocks_retries: Some(8191),
                    stimer_direct: None,
                    vendor_id: None,
                })
                .map(Box::new),
            ..Features::default()
        },
        clock: p.maybe(|p| Clock {
            offset: match p.below(4) {
                0 => ClockOffset::Utc { adjustment: None },
                1 => ClockOffset::Localtime {
                    adjustment: p.maybe(|_| Adjustment::Reset),
                },
                2 => ClockOffset::Variable {
                    adjustment: p.below(1000) as i64 - 500,
                    basis: p.maybe(|p| *p.of(ClockBasis::ALL)),
                },
                _ => ClockOffset::Timezone("Europe/Paris".into()),
            },
            timers,
        }),
        pm: Pm {
            suspend_to_mem: p.maybe(|p| p.coin()),
            suspend_to_disk: p.maybe(|p| p.coin()),
        },
        cpu: match (virt_type, p.below(4)) {
            (_, 0) => None,
            (VirtType::Kvm, 1) => Some(Box::new(Cpu::new(CpuMode::HostPassthrough))),
            (_, 2) => {
                let mut c = Cpu::new(CpuMode::Custom);
                c.model = Some(CpuModel {
                    name: Some("qemu64".into()),
                    fallback: p.maybe(|p| *p.of(CpuFallback::ALL)),
                    vendor_id: p.maybe(|_| "AuthenticAMD".to_string()),
                });
                c.features = vec![CpuFeature {
                    policy: *p.of(FeaturePolicy::ALL),
                    name: "x2apic".into(),
                }];
                c.topology = Some(CpuTopology {
                    sockets: 1,
                    dies: None,
                    clusters: p.maybe(|_| 1),
                    cores: max,
                    threads: 1,
                });
                Some(Box::new(c))
            }
            _ => Some(Box::new(Cpu::new(CpuMode::Maximum))),
        },
        on_poweroff: *p.of(&[LifecycleAction::Destroy, LifecycleAction::Preserve]),
        on_reboot: *p.of(&[
            LifecycleAction::Restart,
            LifecycleAction::Destroy,
            LifecycleAction::Preserve,
        ]),
        on_crash: *p.of(&[
            LifecycleAction::Destroy,
            LifecycleAction::Restart,
            LifecycleAction::Preserve,
        ]),
        devices: Devices {
            emulator: p.maybe(|p| path(p)),
            disks,
            controllers,
            interfaces,
            serials,
            consoles,
            inputs,
            graphics,
            videos,
            audios: (1..=p.below(3) as u32)
                .map(|id| Audio::new(id, AudioType::None))
                .collect(),
            memballoon,
            channels: (0..p.below(3))
                .map(|i| Channel {
                    source: crate::unix_source(p.maybe(|p| path(p)), true),
                    target: ChannelTarget::Virtio {
                        name: Some(format!("org.example.{i}")),
                    },
                    address: None,
                    alias: None,
                })
                .collect(),
            rngs: (0..p.below(2))
                .map(|_| qvirt::model::Rng {
                    model: RngModel::Virtio,
                    rate: p.maybe(|p| RngRate {
                        bytes: 1 + p.below(1024) as u32,
                        period: p.maybe(|_| 1000),
                    }),
                    backend: if p.coin() {
                        RngBackend::Builtin
                    } else {
                        RngBackend::Random(p.maybe(|_| "/dev/random".into()))
                    },
                    virtio: VirtioOptions::default(),
                    address: pci(&mut p),
                    alias: None,
                })
                .collect(),
            watchdogs: p
                .maybe(|p| Watchdog {
                    model: WatchdogModel::I6300esb,
                    action: p.maybe(|p| *p.of(WatchdogAction::ALL)),
                    address: pci(p),
                    alias: None,
                })
                .into_iter()
                .collect(),
            tpms: p
                .maybe(|p| Tpm {
                    model: p.maybe(|p| *p.of(&[TpmModel::TpmTis, TpmModel::TpmCrb])),
                    backend: TpmBackend::Emulator {
                        version: Some(TpmVersion::V2_0),
                        persistent_state: p.maybe(|p| p.coin()),
                        encryption: p.maybe(|_| Uuid::from_u128(u128::from(seed))),
                        // A set in libvirt's order, as the reader keeps it.
                        active_pcr_banks: p.maybe(|p| {
                            let mut banks: Vec<_> = TpmPcrBank::ALL
                                .iter()
                                .copied()
                                .filter(|_| p.coin())
                                .collect();
                            banks.push(*p.of(TpmPcrBank::ALL));
                            banks.sort();
                            banks.dedup();
                            banks
                        }),
                    },
                })
                .into_iter()
                .collect(),
            smartcards,
            ..Devices::default()
        },
        max_memory: None,
        blkiotune: p
            .maybe(|p| BlkioTune {
                weight: p.maybe(|p| 100 + p.below(901) as u32),
                devices: (0..p.below(3))
                    .map(|i| BlkioDevice {
                        path: format!("/dev/sd{}", (b'a' + i as u8) as char),
                        weight: p.maybe(|p| 100 + p.below(900) as u32),
                        read_iops_sec: p.maybe(|p| 1 + p.below(1000) as u32),
                        write_iops_sec: None,
                        read_bytes_sec: p.maybe(|p| 1 + p.below(1 << 30)),
                        write_bytes_sec: p.maybe(|_| 1 << 20),
                    })
                    .collect(),
            })
            .filter(|b| b.weight.is_some() || !b.devices.is_empty())
            .map(Box::new),
        memtune: p.maybe(|p| MemTune {
            hard_limit_kib: Some(1 << 21),
            soft_limit_kib: p.maybe(|p| 1 << (18 + p.below(3))),
            swap_hard_limit_kib: p.maybe(|_| 1 << 22),
        }),
        memory_backing: p
            .maybe(|p| MemoryBacking {
                hugepages: p.maybe(|p| {
                    p.maybe(|_| HugePage {
                        size_kib: 2048,
                        nodeset: None,
                    })
                    .into_iter()
                    .collect()
                }),
                nosharepages: p.coin(),
                locked: p.coin(),
                source: p.maybe(|p| *p.of(MemorySourceType::ALL)),
                access: p.maybe(|p| *p.of(MemoryAccess::ALL)),
                allocation: p.maybe(|p| MemoryAllocation {
                    mode: p.maybe(|p| *p.of(MemoryAllocationMode::ALL)),
                    threads: p.maybe(|p| 1 + p.below(8) as u32),
                }),
                discard: p.coin(),
            })
            .map(Box::new),
        iothreads: iothreads.filter(|n| *n > 0),
        iothread_ids: iothreads
            .filter(|n| *n > 0 && p.coin())
            .map(|n| (1..=n).collect()),
        thread_pools: Default::default(),
        cputune: p
            .maybe(|p| CpuTune {
                shares: p.maybe(|p| 2 + p.below(1000)),
                period: p.maybe(|_| 100_000),
                quota: p.maybe(|p| *p.of(&[-1, 50_000])),
                vcpupins: (0..max.min(3))
                    .filter_map(|v| p.maybe(|p| (v, p.of(&["0", "0-1", "1,3"]).to_string())))
                    .collect(),
                emulatorpin: p.maybe(|_| "0".to_string()),
                iothreadpins: (1..=iothreads.unwrap_or(0))
                    .map(|t| (t, "1".to_string()))
                    .collect(),
                ..CpuTune::default()
            })
            .map(Box::new),
        numatune: None,
        partition: p.maybe(|_| "/machine".to_string()),
        sysinfo: p
            .maybe(|p| Sysinfo {
                blocks: vec![(
                    SmbiosBlock::System,
                    vec![("manufacturer".to_string(), p.of(texts).clone())],
                )],
                oem_strings: p.maybe(|p| p.of(texts).clone()).into_iter().collect(),
            })
            .map(Box::new),
        genid: p.maybe(|_| Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef)),
        launch_security: p.maybe(|p| {
            LaunchSecurity::Sev(Sev {
                cbitpos: p.below(64) as u32,
                reduced_phys_bits: p.below(64) as u32,
                policy: p.next() as u32,
                dh_cert: p.maybe(|p| p.of(texts).clone()),
                session: p.maybe(|p| p.of(texts).clone()),
                kernel_hashes: p.maybe(|p| p.coin()),
            })
        }),
        perf: PerfEventName::ALL
            .iter()
            .filter(|_| p.below(4) == 0)
            .map(|&name| PerfEvent {
                name,
                enabled: false,
            })
            .collect(),
        fw_cfg: p
            .maybe(|p| {
                let value = p.maybe(|p| p.of(texts).clone());
                FwCfgEntry {
                    name: "opt/org.qvirt/x".to_string(),
                    file: value.is_none().then(|| "/var/lib/ign.json".to_string()),
                    value,
                }
            })
            .into_iter()
            .collect(),
        seclabels: p
            .maybe(|p| {
                let dynamic = p.coin();
                SecLabel {
                    dynamic,
                    model: Some("dac".into()),
                    relabel: if dynamic { p.maybe(|_| true) } else { None },
                }
            })
            .into_iter()
            .collect(),
        qemu: QemuExtras {
            args: p.maybe(|p| p.of(texts).clone()).into_iter().collect(),
            env: p
                .maybe(|p| ("QEMU_X".to_string(), p.maybe(|p| p.of(texts).clone())))
                .into_iter()
                .collect(),
            ..QemuExtras::default()
        },
    }
}

fn valid_def() -> impl Strategy<Value = DomainDef> {
    (
        any::<u64>(),
        prop::collection::vec(name(), 4),
        prop::collection::vec(path(), 6),
        prop::collection::vec(text(), 4),
        free_text(),
    )
        .prop_map(|(seed, names, paths, texts, free)| build(seed, &names, &paths, &texts, &free))
}

proptest! {
    // Failures are reported with their input; nothing is written to disk.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = DomainDef::from_xml(&text);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,600}") {
        let _ = DomainDef::from_xml(&s);
    }

    #[test]
    fn xml_like_strings_never_panic(s in "(<[a-z]{1,8}( [a-z]{1,5}='[^']{0,8}')*/?>|</[a-z]{1,8}>|[a-z&;<>'\"= ]{0,6}){0,40}") {
        let _ = DomainDef::from_xml(&format!("<domain type='kvm'>{s}</domain>"));
    }

    #[test]
    fn mutated_documents_never_panic(at in 0usize..4000, cut in 0usize..40, insert in "\\PC{0,20}") {
        let base = doc(
            "<vcpu placement='static' cpuset='0-3'>2</vcpu><clock offset='utc'><timer name='rtc' tickpolicy='catchup'><catchup slew='1'/></timer></clock>",
            "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/a.img'/><target dev='vda' bus='virtio'/><address type='pci' slot='0x05'/></disk><interface type='user'><mac address='52:54:00:00:00:01'/><portForward proto='tcp'><range start='2222' to='22'/></portForward></interface><serial type='unix'><source mode='bind' path='/s'/><target port='0'/></serial><graphics type='vnc' port='-1' autoport='yes'><listen type='address' address='127.0.0.1'/></graphics>",
        );
        let mut chars: Vec<char> = base.chars().collect();
        let at = at % chars.len();
        let end = (at + cut).min(chars.len());
        chars.splice(at..end, insert.chars());
        let text: String = chars.into_iter().collect();
        if let Ok(def) = DomainDef::from_xml(&text) {
            let again = DomainDef::from_xml(&def.to_xml()).expect("formatted XML reads back");
            prop_assert_eq!(again, def);
        }
    }

    #[test]
    fn valid_definitions_round_trip_exactly(def in valid_def()) {
        prop_assert!(def.validate().is_ok(), "generated an invalid definition: {:?}", def.validate());
        let xml = def.to_xml();
        let tree = roxmltree::Document::parse(&xml);
        prop_assert!(tree.is_ok(), "not well-formed: {:?}\n{}", tree.err(), xml);
        let again = DomainDef::from_xml(&xml);
        prop_assert!(again.is_ok(), "refused: {:?}\n{}", again.as_ref().err(), xml);
        prop_assert_eq!(again.as_ref().unwrap(), &def);
        prop_assert_eq!(again.unwrap().to_xml(), xml);
    }
}

/// What qvirt writes for generated definitions is valid against libvirt's
/// schema too, not only well-formed (one xmllint run over a batch).
#[test]
fn generated_definitions_are_schema_valid() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRng, TestRunner};

    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    let dir = crate::scratch_dir("generated");
    let mut files = Vec::new();
    for i in 0..200 {
        let def = valid_def()
            .new_tree(&mut runner)
            .expect("a definition")
            .current();
        let file = dir.join(format!("generated-{i}.xml"));
        std::fs::write(&file, def.to_xml()).expect("write generated XML");
        files.push(file);
    }
    crate::xmllint_validate(&files);
}
