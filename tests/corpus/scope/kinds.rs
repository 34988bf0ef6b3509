//! The words each kind-choosing attribute (`type`, `model`, `device`,
//! `bus`) may have for a file to be in scope.

/// The words the kind-choosing attributes may have.
/// The backends of a serial port or console.
const CHARDEV: &[&str] = &[
    "pty",
    "file",
    "unix",
    "null",
    "tcp",
    "udp",
    "dev",
    "vc",
    "pipe",
    "stdio",
    "spiceport",
];

pub(super) const KINDS: &[(&str, &[&str])] = &[
    ("domain@type", &["kvm", "qemu"]),
    ("domain/os/type@arch", &["x86_64", "i686"]),
    (
        "domain/devices/disk@type",
        &["file", "block", "network", "dir", "vhostuser"],
    ),
    (
        "domain/devices/disk/source@protocol",
        &["nbd", "http", "https", "ftp", "ftps", "iscsi", "rbd"],
    ),
    ("domain/devices/disk/source@tls", &["no", "yes"]),
    // QEMU decrypts LUKS images itself; librbd's own engine is out.
    ("domain/devices/disk/source/encryption@engine", &["qemu"]),
    ("domain/devices/disk/source/encryption@format", &["luks"]),
    ("domain/devices/disk/encryption@engine", &["qemu"]),
    ("domain/devices/disk/encryption@format", &["luks"]),
    ("domain/vcpu@placement", &["static", "auto"]),
    ("domain/sysinfo@type", &["smbios", "fwcfg"]),
    ("domain/seclabel@type", &["none"]),
    ("domain/launchSecurity@type", &["sev"]),
    // qvirt opens no perf counters.
    ("domain/perf/event@enabled", &["no"]),
    ("domain/devices/hostdev@mode", &["subsystem"]),
    ("domain/devices/hostdev@type", &["pci", "usb", "mdev"]),
    ("domain/devices/hostdev@model", &["vfio-pci"]),
    ("domain/devices/filesystem@type", &["mount"]),
    (
        "domain/devices/filesystem/driver@type",
        &["virtiofs", "path"],
    ),
    (
        "domain/devices/filesystem@accessmode",
        &["passthrough", "mapped", "squash"],
    ),
    (
        "domain/devices/shmem/model@type",
        &["ivshmem-plain", "ivshmem-doorbell"],
    ),
    (
        "domain/devices/memory@model",
        &["dimm", "nvdimm", "virtio-pmem", "virtio-mem"],
    ),
    (
        "domain/devices/disk@device",
        &["disk", "cdrom", "floppy", "lun"],
    ),
    (
        "domain/devices/disk/driver@type",
        &["raw", "qcow2", "vmdk", "vdi", "vpc", "vhd", "qed", "fat"],
    ),
    (
        "domain/devices/disk/target@bus",
        &["ide", "fdc", "scsi", "virtio", "usb", "sata"],
    ),
    (
        "domain/devices/controller@type",
        &[
            "ide",
            "fdc",
            "scsi",
            "sata",
            "virtio-serial",
            "usb",
            "pci",
            "ccid",
        ],
    ),
    (
        "domain/devices/interface@type",
        &[
            "user",
            "network",
            "bridge",
            "ethernet",
            "direct",
            "vhostuser",
            "server",
            "client",
            "mcast",
            "udp",
        ],
    ),
    ("domain/devices/serial@type", CHARDEV),
    ("domain/devices/console@type", CHARDEV),
    (
        "domain/devices/channel@type",
        &[
            "pty",
            "file",
            "unix",
            "null",
            "tcp",
            "udp",
            "dev",
            "vc",
            "pipe",
            "stdio",
            "spicevmc",
            "spiceport",
            "qemu-vdagent",
        ],
    ),
    ("domain/devices/channel/target@type", &["virtio"]),
    (
        "domain/devices/input@type",
        &["mouse", "tablet", "keyboard", "passthrough", "evdev"],
    ),
    ("domain/devices/input@bus", &["ps2", "usb", "virtio"]),
    ("domain/devices/interface/backend@type", &["passt"]),
    (
        "domain/devices/tpm/backend@type",
        &["emulator", "passthrough", "external"],
    ),
    (
        "domain/devices/graphics@type",
        &["vnc", "spice", "egl-headless", "dbus"],
    ),
    (
        "domain/devices/graphics/listen@type",
        &["address", "socket", "none"],
    ),
    (
        "domain/devices/audio@type",
        &[
            "none",
            "spice",
            "alsa",
            "oss",
            "pulseaudio",
            "sdl",
            "file",
            "jack",
            "pipewire",
            "dbus",
        ],
    ),
    (
        "domain/devices/video/model@type",
        &[
            "vga", "cirrus", "vmvga", "qxl", "virtio", "none", "bochs", "ramfb",
        ],
    ),
    ("domain/devices/redirdev@type", &["spicevmc", "tcp", "unix"]),
    (
        "domain/devices/parallel@type",
        &[
            "pty", "file", "unix", "null", "tcp", "udp", "dev", "vc", "pipe", "stdio",
        ],
    ),
    (
        "domain/devices/smartcard@type",
        &["pty", "file", "unix", "tcp", "null", "spicevmc"],
    ),
    ("domain/devices/hub@type", &["usb"]),
    (
        "domain/devices/rng/backend@model",
        &["random", "builtin", "egd"],
    ),
    ("domain/devices/iommu@model", &["intel", "virtio"]),
    ("domain/devices/video/driver@name", &["qemu"]),
    ("domain/devices/panic@model", &["isa", "hyperv"]),
    ("domain/devices/panic/address@type", &["isa"]),
    (
        "domain/devices/interface/virtualport@type",
        &["openvswitch"],
    ),
    ("domain/devices/interface/driver@name", &["qemu", "vhost"]),
    (
        "domain/devices/*/address@type",
        &[
            "pci",
            "drive",
            "usb",
            "virtio-serial",
            "dimm",
            "ccid",
            "isa",
        ],
    ),
];
