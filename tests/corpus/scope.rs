//! Which test files are in qvirt's scope: those whose every element,
//! attribute and kind (the `type`, `model`, `device`, `bus` words that
//! choose what a device is) is in the vocabulary below, which is the
//! domain XML qvirt supports (the README's supported-XML section lists
//! the same). A file outside it may still be read; this only decides
//! which files the acceptance figure counts.

use roxmltree::{Document, Node};

mod kinds;
use kinds::KINDS;

/// The attributes of an audio backend's `<input>` and `<output>`.
const AUDIO_STREAM: &[&str] = &[
    "dev",
    "name",
    "mixingEngine",
    "fixedSettings",
    "voices",
    "bufferLength",
    "bufferCount",
    "tryPoll",
    "streamName",
    "latency",
    "serverName",
    "clientName",
    "connectPorts",
    "exactName",
];

/// Elements by path from `<domain>` (a `*` matches any one name), each
/// with the attributes it may have.
const ELEMENTS: &[(&str, &[&str])] = &[
    ("domain", &["type", "id"]),
    ("domain/name", &[]),
    ("domain/uuid", &[]),
    ("domain/genid", &[]),
    ("domain/title", &[]),
    ("domain/description", &[]),
    ("domain/memory", &["unit", "dumpCore"]),
    ("domain/currentMemory", &["unit"]),
    ("domain/vcpu", &["placement", "current", "cpuset"]),
    ("domain/iothreadids", &[]),
    (
        "domain/iothreadids/iothread",
        &["id", "thread_pool_min", "thread_pool_max"],
    ),
    ("domain/vcpus", &[]),
    (
        "domain/vcpus/vcpu",
        &["id", "enabled", "hotpluggable", "order"],
    ),
    ("domain/os", &["firmware"]),
    ("domain/os/type", &["arch", "machine"]),
    ("domain/os/firmware", &[]),
    ("domain/os/firmware/feature", &["enabled", "name"]),
    (
        "domain/os/loader",
        &["readonly", "secure", "type", "stateless", "format"],
    ),
    (
        "domain/os/nvram",
        &["template", "type", "format", "templateFormat"],
    ),
    ("domain/os/boot", &["dev"]),
    ("domain/os/bootmenu", &["enable", "timeout"]),
    ("domain/os/bios", &["useserial", "rebootTimeout"]),
    ("domain/os/kernel", &[]),
    ("domain/os/initrd", &[]),
    ("domain/os/cmdline", &[]),
    ("domain/features", &[]),
    ("domain/features/acpi", &[]),
    ("domain/features/apic", &["eoi"]),
    ("domain/features/tcg", &[]),
    ("domain/features/tcg/tb-cache", &["unit"]),
    ("domain/features/pae", &[]),
    ("domain/features/hap", &["state"]),
    ("domain/features/pmu", &["state"]),
    ("domain/features/vmport", &["state"]),
    ("domain/features/vmcoreinfo", &["state"]),
    ("domain/features/pvspinlock", &["state"]),
    ("domain/features/smm", &["state"]),
    ("domain/features/smm/tseg", &["unit"]),
    ("domain/features/ioapic", &["driver"]),
    ("domain/features/hyperv", &["mode"]),
    ("domain/features/hyperv/*", &["state", "retries", "value"]),
    ("domain/features/hyperv/stimer/direct", &["state"]),
    ("domain/features/kvm", &[]),
    ("domain/features/kvm/*", &["state", "size"]),
    ("domain/cpu", &["mode", "match", "check", "migratable"]),
    ("domain/cpu/model", &["fallback", "vendor_id"]),
    ("domain/cpu/vendor", &[]),
    (
        "domain/cpu/topology",
        &["sockets", "dies", "cores", "threads"],
    ),
    ("domain/cpu/feature", &["policy", "name"]),
    ("domain/cpu/cache", &["level", "mode"]),
    ("domain/cpu/maxphysaddr", &["mode", "bits"]),
    (
        "domain/clock",
        &["offset", "adjustment", "basis", "timezone", "start"],
    ),
    (
        "domain/clock/timer",
        &[
            "name",
            "tickpolicy",
            "present",
            "track",
            "frequency",
            "mode",
        ],
    ),
    (
        "domain/clock/timer/catchup",
        &["threshold", "slew", "limit"],
    ),
    ("domain/pm", &[]),
    ("domain/pm/suspend-to-mem", &["enabled"]),
    ("domain/pm/suspend-to-disk", &["enabled"]),
    ("domain/on_poweroff", &[]),
    ("domain/on_reboot", &[]),
    ("domain/on_crash", &[]),
    ("domain/devices", &[]),
    ("domain/devices/emulator", &[]),
    ("domain/devices/disk", &["type", "device", "model"]),
    (
        "domain/devices/disk/driver",
        &[
            "name",
            "type",
            "cache",
            "io",
            "discard",
            "detect_zeroes",
            "iothread",
            "queues",
            "queue_size",
            "error_policy",
            "rerror_policy",
            "ioeventfd",
            "event_idx",
            "copy_on_read",
            "iommu",
            "ats",
            "packed",
            "page_per_vq",
        ],
    ),
    (
        "domain/devices/disk/source",
        &[
            "file",
            "dev",
            "dir",
            "protocol",
            "name",
            "query",
            "tls",
            "tlsHostname",
            "startupPolicy",
            "type",
            "path",
        ],
    ),
    ("domain/devices/disk/source/slices", &[]),
    (
        "domain/devices/disk/source/slices/slice",
        &["type", "offset", "size"],
    ),
    ("domain/devices/disk/source/cookies", &[]),
    ("domain/devices/disk/source/cookies/cookie", &["name"]),
    ("domain/devices/disk/source/readahead", &["size"]),
    ("domain/devices/disk/source/timeout", &["seconds"]),
    ("domain/devices/disk/source/ssl", &["verify"]),
    (
        "domain/devices/disk/target",
        &["dev", "bus", "removable", "rotation_rate", "tray"],
    ),
    (
        "domain/devices/disk/blockio",
        &[
            "logical_block_size",
            "physical_block_size",
            "discard_granularity",
        ],
    ),
    (
        "domain/devices/disk/geometry",
        &["cyls", "heads", "secs", "trans"],
    ),
    ("domain/devices/disk/readonly", &[]),
    ("domain/devices/disk/shareable", &[]),
    ("domain/devices/disk/serial", &[]),
    ("domain/devices/disk/wwn", &[]),
    ("domain/devices/disk/vendor", &[]),
    ("domain/devices/disk/product", &[]),
    ("domain/devices/disk/iotune", &[]),
    ("domain/devices/disk/iotune/*", &[]),
    ("domain/devices/disk/boot", &["order"]),
    (
        "domain/devices/controller",
        &["type", "index", "model", "ports", "vectors"],
    ),
    (
        "domain/devices/controller/driver",
        &[
            "queues",
            "cmd_per_lun",
            "max_sectors",
            "iothread",
            "ioeventfd",
            "iommu",
            "ats",
            "packed",
            "page_per_vq",
        ],
    ),
    ("domain/devices/controller/model", &["name"]),
    (
        "domain/devices/controller/target",
        &[
            "chassisNr",
            "chassis",
            "port",
            "busNr",
            "hotplug",
            "memReserve",
        ],
    ),
    ("domain/devices/controller/target/node", &[]),
    ("domain/devices/controller/master", &["startport"]),
    ("domain/devices/controller/pcihole64", &["unit"]),
    ("domain/devices/interface", &["type"]),
    ("domain/devices/interface/mac", &["address"]),
    (
        "domain/devices/interface/source",
        &[
            "network", "bridge", "dev", "mode", "type", "path", "address", "port",
        ],
    ),
    (
        "domain/devices/interface/source/local",
        &["address", "port"],
    ),
    (
        "domain/devices/interface/ip",
        &["address", "family", "prefix"],
    ),
    (
        "domain/devices/interface/backend",
        &["type", "logFile", "tap", "vhost"],
    ),
    ("domain/devices/interface/model", &["type"]),
    ("domain/devices/interface/target", &["dev", "managed"]),
    ("domain/devices/interface/port", &["isolated"]),
    (
        "domain/devices/interface/source/ip",
        &["address", "family", "prefix", "peer"],
    ),
    (
        "domain/devices/interface/source/route",
        &[
            "family", "address", "prefix", "netmask", "gateway", "metric",
        ],
    ),
    (
        "domain/devices/interface/source/reconnect",
        &["enabled", "timeout"],
    ),
    ("domain/devices/interface/boot", &["order"]),
    (
        "domain/devices/interface/driver",
        &[
            "name",
            "txmode",
            "ioeventfd",
            "event_idx",
            "queues",
            "rx_queue_size",
            "tx_queue_size",
            "rss",
            "rss_hash_report",
            "iommu",
            "ats",
            "packed",
            "page_per_vq",
        ],
    ),
    (
        "domain/devices/interface/driver/host",
        &["csum", "gso", "tso4", "tso6", "ecn", "ufo", "mrg_rxbuf"],
    ),
    (
        "domain/devices/interface/driver/guest",
        &["csum", "tso4", "tso6", "ecn", "ufo"],
    ),
    ("domain/devices/interface/rom", &["bar", "file", "enabled"]),
    ("domain/devices/interface/link", &["state"]),
    ("domain/devices/interface/virtualport", &["type"]),
    (
        "domain/devices/interface/virtualport/parameters",
        &["interfaceid", "profileid"],
    ),
    (
        "domain/devices/interface/portForward",
        &["proto", "address", "dev"],
    ),
    (
        "domain/devices/interface/portForward/range",
        &["start", "end", "to", "exclude"],
    ),
    ("domain/devices/serial", &["type", "tty"]),
    (
        "domain/devices/serial/source",
        &[
            "path", "mode", "append", "host", "service", "tls", "channel",
        ],
    ),
    ("domain/devices/serial/target", &["type", "port"]),
    ("domain/devices/serial/target/model", &["name"]),
    ("domain/devices/serial/log", &["file", "append"]),
    ("domain/devices/console", &["type", "tty"]),
    (
        "domain/devices/console/source",
        &[
            "path", "mode", "append", "host", "service", "tls", "channel",
        ],
    ),
    ("domain/devices/console/target", &["type", "port"]),
    ("domain/devices/console/log", &["file", "append"]),
    ("domain/devices/channel", &["type"]),
    (
        "domain/devices/channel/source",
        &[
            "path", "mode", "channel", "host", "service", "tls", "append",
        ],
    ),
    ("domain/devices/channel/target", &["type", "name", "state"]),
    ("domain/devices/input", &["type", "bus", "model"]),
    (
        "domain/devices/input/source",
        &["evdev", "dev", "grab", "grabToggle", "repeat"],
    ),
    (
        "domain/devices/input/driver",
        &["iommu", "ats", "packed", "page_per_vq"],
    ),
    ("domain/devices/tpm", &["model"]),
    (
        "domain/devices/tpm/backend",
        &["type", "version", "persistent_state"],
    ),
    (
        "domain/devices/graphics",
        &[
            "type",
            "port",
            "tlsPort",
            "autoport",
            "listen",
            "passwd",
            "keymap",
            "defaultMode",
            "sharePolicy",
            "websocket",
            "powerControl",
            "socket",
            "p2p",
            "address",
        ],
    ),
    (
        "domain/devices/graphics/listen",
        &["type", "address", "socket"],
    ),
    ("domain/devices/graphics/channel", &["name", "mode"]),
    ("domain/devices/graphics/image", &["compression"]),
    ("domain/devices/graphics/jpeg", &["compression"]),
    ("domain/devices/graphics/zlib", &["compression"]),
    ("domain/devices/graphics/playback", &["compression"]),
    ("domain/devices/graphics/streaming", &["mode"]),
    ("domain/devices/graphics/clipboard", &["copypaste"]),
    ("domain/devices/graphics/mouse", &["mode"]),
    ("domain/devices/graphics/filetransfer", &["enable"]),
    ("domain/devices/graphics/gl", &["enable", "rendernode"]),
    ("domain/devices/sound", &["model"]),
    ("domain/devices/sound/codec", &["type"]),
    ("domain/devices/sound/audio", &["id"]),
    (
        "domain/devices/audio",
        &[
            "id",
            "type",
            "path",
            "serverName",
            "runtimeDir",
            "timerPeriod",
        ],
    ),
    ("domain/devices/video", &[]),
    (
        "domain/devices/video/model",
        &[
            "type", "vram", "vram64", "ram", "vgamem", "heads", "primary", "blob",
        ],
    ),
    ("domain/devices/video/model/acceleration", &["accel3d"]),
    (
        "domain/devices/video/driver",
        &["name", "iommu", "ats", "packed", "page_per_vq"],
    ),
    ("domain/devices/smartcard", &["mode", "type"]),
    (
        "domain/devices/smartcard/source",
        &["mode", "path", "host", "service", "append"],
    ),
    (
        "domain/devices/smartcard/source/reconnect",
        &["enabled", "timeout"],
    ),
    ("domain/devices/smartcard/protocol", &["type"]),
    ("domain/devices/smartcard/certificate", &[]),
    ("domain/devices/smartcard/database", &[]),
    ("domain/devices/redirdev", &["bus", "type"]),
    ("domain/devices/redirdev/boot", &["order"]),
    ("domain/devices/hub", &["type"]),
    ("domain/devices/watchdog", &["model", "action"]),
    (
        "domain/devices/memballoon",
        &["model", "autodeflate", "freePageReporting"],
    ),
    ("domain/devices/memballoon/stats", &["period"]),
    (
        "domain/devices/memballoon/driver",
        &["iommu", "ats", "packed", "page_per_vq"],
    ),
    ("domain/devices/rng", &["model"]),
    ("domain/devices/rng/rate", &["bytes", "period"]),
    ("domain/devices/rng/backend", &["model", "type"]),
    (
        "domain/devices/rng/driver",
        &["iommu", "ats", "packed", "page_per_vq"],
    ),
    ("domain/devices/vsock", &["model"]),
    ("domain/devices/iommu", &["model"]),
    (
        "domain/devices/iommu/driver",
        &["intremap", "caching_mode", "eim", "iotlb", "aw_bits"],
    ),
    ("domain/devices/vsock/cid", &["auto", "address"]),
    (
        "domain/devices/vsock/driver",
        &["iommu", "ats", "packed", "page_per_vq"],
    ),
    // Every device may have an address and an alias.
    ("domain/devices/panic", &["model"]),
    ("domain/devices/panic/address", &["type", "iobase"]),
    (
        "domain/devices/*/address",
        &[
            "type",
            "domain",
            "bus",
            "slot",
            "function",
            "multifunction",
            "controller",
            "target",
            "unit",
            "port",
            "slot",
            "base",
            "iobase",
            "irq",
        ],
    ),
    ("domain/devices/*/alias", &["name"]),
    // Resource tuning, SMBIOS, security label.
    ("domain/maxMemory", &["slots", "unit"]),
    ("domain/memoryBacking", &[]),
    ("domain/memoryBacking/hugepages", &[]),
    (
        "domain/memoryBacking/hugepages/page",
        &["size", "unit", "nodeset"],
    ),
    ("domain/memoryBacking/nosharepages", &[]),
    ("domain/memoryBacking/locked", &[]),
    ("domain/memoryBacking/discard", &[]),
    ("domain/memoryBacking/source", &["type"]),
    ("domain/memoryBacking/access", &["mode"]),
    ("domain/memoryBacking/allocation", &["mode", "threads"]),
    ("domain/iothreads", &[]),
    ("domain/cputune", &[]),
    ("domain/cputune/shares", &[]),
    ("domain/cputune/period", &[]),
    ("domain/cputune/quota", &[]),
    ("domain/cputune/emulator_period", &[]),
    ("domain/cputune/emulator_quota", &[]),
    ("domain/cputune/vcpupin", &["vcpu", "cpuset"]),
    ("domain/cputune/emulatorpin", &["cpuset"]),
    ("domain/cputune/iothreadpin", &["iothread", "cpuset"]),
    (
        "domain/cputune/vcpusched",
        &["vcpus", "scheduler", "priority"],
    ),
    (
        "domain/cputune/iothreadsched",
        &["iothreads", "scheduler", "priority"],
    ),
    ("domain/cputune/emulatorsched", &["scheduler", "priority"]),
    ("domain/numatune", &[]),
    ("domain/numatune/memory", &["mode", "nodeset", "placement"]),
    ("domain/numatune/memnode", &["cellid", "mode", "nodeset"]),
    ("domain/resource", &[]),
    ("domain/resource/partition", &[]),
    ("domain/sysinfo", &["type"]),
    ("domain/sysinfo/bios", &[]),
    ("domain/sysinfo/system", &[]),
    ("domain/sysinfo/baseBoard", &[]),
    ("domain/sysinfo/chassis", &[]),
    ("domain/sysinfo/*/entry", &["name"]),
    ("domain/sysinfo/oemStrings", &[]),
    ("domain/sysinfo/entry", &["name", "file"]),
    ("domain/os/smbios", &["mode"]),
    ("domain/os/acpi", &[]),
    ("domain/os/acpi/table", &["type"]),
    ("domain/seclabel", &["type", "model", "relabel"]),
    ("domain/launchSecurity", &["type", "kernelHashes"]),
    ("domain/launchSecurity/cbitpos", &[]),
    ("domain/launchSecurity/reducedPhysBits", &[]),
    ("domain/launchSecurity/policy", &[]),
    ("domain/launchSecurity/dhCert", &[]),
    ("domain/launchSecurity/session", &[]),
    ("domain/perf", &[]),
    ("domain/perf/event", &["name", "enabled"]),
    ("domain/cpu/numa", &[]),
    (
        "domain/cpu/numa/cell",
        &["id", "cpus", "memory", "unit", "memAccess", "discard"],
    ),
    // Devices that reach into the host.
    (
        "domain/devices/hostdev",
        &["mode", "type", "managed", "model", "display", "ramfb"],
    ),
    ("domain/devices/hostdev/source", &["startupPolicy"]),
    (
        "domain/devices/hostdev/source/address",
        &["domain", "bus", "slot", "function", "device", "uuid"],
    ),
    ("domain/devices/hostdev/source/vendor", &["id"]),
    ("domain/devices/hostdev/source/product", &["id"]),
    ("domain/devices/hostdev/driver", &["name"]),
    ("domain/devices/hostdev/rom", &["bar", "file", "enabled"]),
    ("domain/devices/hostdev/boot", &["order"]),
    (
        "domain/devices/filesystem",
        &["type", "accessmode", "fmode", "dmode", "multidevs"],
    ),
    (
        "domain/devices/filesystem/driver",
        &["type", "queue", "iommu", "ats", "packed", "page_per_vq"],
    ),
    ("domain/devices/filesystem/binary", &["path", "xattr"]),
    ("domain/devices/filesystem/binary/cache", &["mode"]),
    ("domain/devices/filesystem/binary/sandbox", &["mode"]),
    ("domain/devices/filesystem/binary/lock", &["posix", "flock"]),
    ("domain/devices/filesystem/binary/thread_pool", &["size"]),
    ("domain/devices/filesystem/source", &["dir"]),
    ("domain/devices/filesystem/target", &["dir"]),
    ("domain/devices/filesystem/readonly", &[]),
    ("domain/devices/filesystem/boot", &["order"]),
    ("domain/devices/tpm/backend/device", &["path"]),
    (
        "domain/devices/tpm/backend/source",
        &["type", "mode", "path"],
    ),
    ("domain/devices/shmem", &["name", "role"]),
    ("domain/devices/shmem/model", &["type"]),
    ("domain/devices/shmem/size", &["unit"]),
    ("domain/devices/shmem/server", &["path"]),
    ("domain/devices/shmem/msi", &["vectors", "ioeventfd"]),
    ("domain/devices/memory", &["model", "access", "discard"]),
    ("domain/devices/memory/source", &[]),
    ("domain/devices/memory/source/pagesize", &["unit"]),
    ("domain/devices/memory/source/nodemask", &[]),
    ("domain/devices/memory/source/path", &[]),
    ("domain/devices/memory/source/alignsize", &["unit"]),
    ("domain/devices/memory/source/pmem", &[]),
    ("domain/devices/memory/target", &[]),
    ("domain/devices/memory/target/size", &["unit"]),
    ("domain/devices/memory/target/node", &[]),
    ("domain/devices/memory/target/label", &[]),
    ("domain/devices/memory/target/label/size", &["unit"]),
    ("domain/devices/memory/target/readonly", &[]),
    ("domain/devices/memory/target/block", &["unit"]),
    ("domain/devices/memory/target/requested", &["unit"]),
    // Network disks, backing chains, transient disks.
    (
        "domain/devices/disk/source/host",
        &["name", "port", "transport", "socket"],
    ),
    ("domain/devices/disk/backingStore", &["type", "index"]),
    ("domain/devices/disk/backingStore/format", &["type"]),
    ("domain/devices/disk/backingStore/source", &["file", "dev"]),
    (
        "domain/devices/disk/backingStore/backingStore",
        &["type", "index"],
    ),
    (
        "domain/devices/disk/backingStore/backingStore/format",
        &["type"],
    ),
    (
        "domain/devices/disk/backingStore/backingStore/source",
        &["file", "dev"],
    ),
    ("domain/devices/disk/transient", &[]),
    // Character devices of every backend.
    ("domain/devices/parallel", &["type"]),
    (
        "domain/devices/parallel/source",
        &["path", "mode", "append", "host", "service", "tls"],
    ),
    ("domain/devices/parallel/target", &["port"]),
    ("domain/devices/parallel/log", &["file", "append"]),
    (
        "domain/devices/redirdev/source",
        &["path", "mode", "append", "host", "service", "tls"],
    ),
    ("domain/devices/*/source/reconnect", &["enabled", "timeout"]),
    ("domain/devices/*/protocol", &["type"]),
    ("domain/devices/channel/source/mouse", &["mode"]),
    ("domain/devices/channel/source/clipboard", &["copypaste"]),
    (
        "domain/devices/rng/backend/source",
        &["path", "mode", "append", "host", "service", "tls"],
    ),
    (
        "domain/devices/rng/backend/source/reconnect",
        &["enabled", "timeout"],
    ),
    ("domain/devices/rng/backend/protocol", &["type"]),
    ("domain/devices/redirfilter", &[]),
    (
        "domain/devices/redirfilter/usbdev",
        &["class", "vendor", "product", "version", "allow"],
    ),
    // Tuning through cgroups, I/O thread pools.
    ("domain/blkiotune", &[]),
    ("domain/blkiotune/weight", &[]),
    ("domain/blkiotune/device", &[]),
    ("domain/blkiotune/device/*", &[]),
    ("domain/memtune", &[]),
    ("domain/memtune/*", &["unit"]),
    ("domain/cputune/global_period", &[]),
    ("domain/cputune/global_quota", &[]),
    ("domain/cputune/iothread_period", &[]),
    ("domain/cputune/iothread_quota", &[]),
    ("domain/cpu/numa/cell/distances", &[]),
    ("domain/cpu/numa/cell/distances/sibling", &["id", "value"]),
    // Secrets: encrypted images, network disks' logins, swtpm's state.
    ("domain/devices/disk/encryption", &["format", "engine"]),
    (
        "domain/devices/disk/encryption/secret",
        &["type", "uuid", "usage"],
    ),
    (
        "domain/devices/disk/source/encryption",
        &["format", "engine"],
    ),
    (
        "domain/devices/disk/source/encryption/secret",
        &["type", "uuid", "usage"],
    ),
    ("domain/devices/disk/auth", &["username"]),
    (
        "domain/devices/disk/auth/secret",
        &["type", "uuid", "usage"],
    ),
    ("domain/devices/disk/source/auth", &["username"]),
    (
        "domain/devices/disk/source/auth/secret",
        &["type", "uuid", "usage"],
    ),
    ("domain/devices/tpm/backend/encryption", &["secret"]),
    ("domain/devices/disk/driver/metadata_cache", &[]),
    (
        "domain/devices/disk/driver/metadata_cache/max_size",
        &["unit"],
    ),
    ("domain/devices/*/acpi", &["index"]),
    ("domain/devices/interface/script", &["path"]),
    ("domain/devices/video/model/resolution", &["x", "y"]),
    ("domain/devices/graphics/audio", &["id"]),
    (
        "domain/devices/disk/backingStore/format/metadata_cache",
        &[],
    ),
    (
        "domain/devices/disk/backingStore/format/metadata_cache/max_size",
        &["unit"],
    ),
    ("domain/devices/disk/source/initiator", &[]),
    ("domain/devices/disk/source/initiator/iqn", &["name"]),
    (
        "domain/os/nvram/source",
        &["file", "dev", "protocol", "name"],
    ),
    (
        "domain/os/nvram/source/host",
        &["name", "port", "transport", "socket"],
    ),
    ("domain/os/nvram/source/auth", &["username"]),
    (
        "domain/os/nvram/source/auth/secret",
        &["type", "uuid", "usage"],
    ),
    (
        "domain/defaultiothread",
        &["thread_pool_min", "thread_pool_max"],
    ),
    (
        "domain/cpu/numa/cell/cache",
        &["level", "associativity", "policy"],
    ),
    ("domain/cpu/numa/cell/cache/size", &["value", "unit"]),
    ("domain/cpu/numa/cell/cache/line", &["value", "unit"]),
    ("domain/cpu/numa/interconnects", &[]),
    (
        "domain/cpu/numa/interconnects/*",
        &["initiator", "target", "cache", "type", "value", "unit"],
    ),
    ("domain/devices/tpm/backend/active_pcr_banks", &[]),
    ("domain/devices/tpm/backend/active_pcr_banks/*", &[]),
    ("domain/devices/audio/input", AUDIO_STREAM),
    ("domain/devices/audio/output", AUDIO_STREAM),
    (
        "domain/devices/audio/*/settings",
        &["frequency", "channels", "format"],
    ),
];

fn matches(pattern: &str, path: &[&str]) -> bool {
    let parts: Vec<&str> = pattern.split('/').collect();
    parts.len() == path.len() && parts.iter().zip(path).all(|(p, n)| *p == "*" || p == n)
}

/// The first element, attribute or kind of `xml` outside the vocabulary;
/// `None` when the whole document is in scope. Malformed XML is out.
pub fn out_of_scope(xml: &str) -> Option<String> {
    let doc = match Document::parse(xml) {
        Ok(d) => d,
        Err(e) => return Some(format!("malformed: {e}")),
    };
    let mut path = Vec::new();
    walk(doc.root_element(), &mut path)
}

/// libvirt's QEMU namespace, whose command line and capability
/// elements qvirt reads.
const QEMU_NS: &str = "http://libvirt.org/schemas/domain/qemu/1.0";

fn walk<'a>(n: Node<'a, '_>, path: &mut Vec<&'a str>) -> Option<String> {
    if let Some(ns) = n.tag_name().namespace() {
        let name = n.tag_name().name();
        let known = ns == QEMU_NS
            && matches!(
                (path.join("/").as_str(), name),
                (
                    "domain",
                    "commandline" | "capabilities" | "override" | "deprecation"
                ) | ("domain/commandline", "arg" | "env")
                    | ("domain/capabilities", "add" | "del")
                    | ("domain/override", "device")
                    | ("domain/override/device", "frontend")
                    | ("domain/override/device/frontend", "property")
            );
        if !known {
            return Some(format!("namespaced element {name}"));
        }
        path.push(name);
        for c in n.children().filter(|c| c.is_element()) {
            if let Some(why) = walk(c, path) {
                return Some(why);
            }
        }
        path.pop();
        return None;
    }
    path.push(n.tag_name().name());
    let here = path.join("/");
    // <metadata> is kept as written, whatever it holds.
    if here == "domain/metadata" {
        path.pop();
        return None;
    }
    let Some((_, attrs)) = ELEMENTS.iter().find(|(p, _)| matches(p, path)) else {
        return Some(format!("<{here}>"));
    };
    for a in n.attributes() {
        if a.namespace().is_some() || !attrs.contains(&a.name()) {
            return Some(format!("<{here}> attribute {}", a.name()));
        }
        let key_path: Vec<&str> = path.clone();
        if let Some((_, words)) = KINDS.iter().find(|(k, _)| {
            k.split_once('@')
                .is_some_and(|(p, attr)| attr == a.name() && matches(p, &key_path))
        }) && !words.contains(&a.value())
        {
            return Some(format!("<{here}> {}='{}'", a.name(), a.value()));
        }
    }
    if let Some(why) = missing_part(n, &here) {
        return Some(why);
    }
    for c in n.children().filter(|c| c.is_element()) {
        if let Some(why) = walk(c, path) {
            return Some(why);
        }
    }
    path.pop();
    None
}

/// Kinds chosen by what is left out: a network `<disk>` without a
/// source protocol is an empty network drive.
fn missing_part(n: Node, here: &str) -> Option<String> {
    let child = |name: &str| n.children().find(|c| c.has_tag_name(name));
    match here {
        "domain/devices/disk"
            if n.attribute("type") == Some("network")
                && child("source")
                    .and_then(|s| s.attribute("protocol"))
                    .is_none() =>
        {
            Some(format!("<{here}/source> without protocol"))
        }
        _ => None,
    }
}
