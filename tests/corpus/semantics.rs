//! Reads a QEMU command line (libvirt's, with JSON option values, or ours,
//! with `key=value` ones) into the facts a user cares about, so that two
//! command lines can be compared by meaning rather than byte for byte.

use std::collections::BTreeMap;

/// One option's value: its keys, with the implied first key of the
/// `key=value` syntax (`-device virtio-blk-pci,...` -> `driver`).
pub type Props = BTreeMap<String, String>;

/// What a command line means, in the terms the corpus check compares.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// `-name guest=`.
    pub name: Option<String>,
    /// `-uuid`.
    pub uuid: Option<String>,
    /// `-m`, in KiB.
    pub memory_kib: Option<u64>,
    /// `-smp`: the number of vCPUs online at start.
    pub vcpus: Option<u64>,
    /// Every disk device, in command-line order.
    pub disks: Vec<DiskFact>,
    /// Boot devices in bootindex order, named by disk path, `fd:UNIT` or
    /// `net:MAC`.
    pub boot: Vec<String>,
    /// `-vnc`: the display number, `None` without VNC.
    pub vnc_display: Option<String>,
    /// The backend kind of each serial port, in port order (`pty`,
    /// `file:PATH`, `unix`, `null`).
    pub serials: Vec<String>,
    /// `-spice`: whether it has a TLS port, and its channels' modes
    /// (`tls:main`, `plain:inputs`, `tls:default`), sorted; `None`
    /// without SPICE.
    pub spice: Option<(bool, Vec<String>)>,
}

/// A disk device as QEMU sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DiskFact {
    /// The image path; `None` for an empty drive.
    pub path: Option<String>,
    /// `raw` or `qcow2`.
    pub format: String,
    /// Whether the image is opened read-only.
    pub readonly: bool,
    /// `disk`, `cdrom` or `floppy`.
    pub media: String,
}

/// Options that take no value.
const FLAGS: &[&str] = &[
    "-S",
    "-no-user-config",
    "-nodefaults",
    "-no-shutdown",
    "-no-reboot",
    "-no-acpi",
    "-enable-kvm",
    "-nographic",
    "-no-hpet",
    "-usb",
    "-full-screen",
    "-mem-prealloc",
];

/// The implied first key of each option's `key=value` syntax.
fn implied_key(option: &str) -> &'static str {
    match option {
        "-device" => "driver",
        "-netdev" => "type",
        "-chardev" => "backend",
        "-machine" => "type",
        "-smp" => "cpus",
        "-m" => "size",
        "-vnc" => "vnc",
        "-name" => "guest",
        "-blockdev" => "driver",
        _ => "value",
    }
}

/// Splits an argument vector into `(option, value)` pairs; the emulator
/// (the first item) is skipped.
pub fn pairs(argv: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // An environment in front (`env NAME=VALUE ... EMULATOR`) is skipped.
    let emulator = argv
        .iter()
        .position(|a| a != "env" && !a.contains('='))
        .unwrap_or(0);
    let mut i = emulator + 1;
    while i < argv.len() {
        let opt = argv[i].clone();
        if FLAGS.contains(&opt.as_str()) || i + 1 == argv.len() {
            out.push((opt, String::new()));
            i += 1;
        } else {
            out.push((opt, argv[i + 1].clone()));
            i += 2;
        }
    }
    out
}

/// Reads libvirt's `.args` file (one argument per line, `\` continued,
/// JSON values single-quoted, environment first) into an argument vector.
pub fn read_libvirt_args(text: &str) -> Vec<String> {
    let mut argv = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\\').trim();
        if line.is_empty() {
            continue;
        }
        if argv.is_empty() && !line.starts_with('/') {
            continue; // LC_ALL=C, PATH=..., HOME=...: the environment
        }
        argv.extend(shell_words(line));
    }
    argv
}

/// Splits one line into words as a POSIX shell would: libvirt quotes a
/// word with spaces or specials in single quotes (a quote inside as
/// `'\''`), and a `<qemu:arg>` stands unquoted beside its neighbour.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    w.push(q);
                }
            }
            '\\' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.next());
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// Parses an option value in either syntax.
pub fn props(option: &str, value: &str) -> Props {
    let mut map = Props::new();
    if value.starts_with('{') {
        let json: serde_json::Value = serde_json::from_str(value).expect("libvirt JSON parses");
        for (k, v) in json.as_object().expect("a JSON object") {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Bool(true) => "on".to_string(),
                serde_json::Value::Bool(false) => "off".to_string(),
                other => other.to_string(),
            };
            map.insert(k.clone(), text);
        }
        return map;
    }
    for (i, item) in split_opts(value).into_iter().enumerate() {
        match item.split_once('=') {
            Some((k, v)) if !(i == 0 && option == "-vnc") => {
                map.insert(k.to_string(), v.to_string());
            }
            _ if i == 0 => {
                map.insert(implied_key(option).to_string(), item);
            }
            _ => {
                map.insert(item, "on".to_string());
            }
        }
    }
    map
}

/// Splits QEMU's `key=value` list on single commas; `,,` is a literal comma.
pub fn split_opts(value: &str) -> Vec<String> {
    let mut items = vec![String::new()];
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ',' {
            if chars.peek() == Some(&',') {
                chars.next();
                items.last_mut().unwrap().push(',');
            } else {
                items.push(String::new());
            }
        } else {
            items.last_mut().unwrap().push(c);
        }
    }
    items
}

/// Parses a number as QEMU does: decimal or `0x` hex.
fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Reads `-m`: `size=Nk`, `NM`, `NG` or a plain number of MiB.
fn memory_kib(p: &Props) -> Option<u64> {
    let v = p.get("size")?;
    let (digits, unit) = v.split_at(v.trim_end_matches(|c: char| c.is_alphabetic()).len());
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "k" | "K" => n,
        "" | "m" | "M" => n * 1024,
        "g" | "G" => n * 1024 * 1024,
        _ => return None,
    })
}

/// Builds the summary of a command line.
pub fn summarize(argv: &[String]) -> Summary {
    let mut s = Summary::default();
    let mut blockdevs: BTreeMap<String, Props> = BTreeMap::new();
    let mut chardevs: BTreeMap<String, Props> = BTreeMap::new();
    let mut boot: Vec<(u64, String)> = Vec::new();
    let mut serials: Vec<(u64, String)> = Vec::new();
    let mut floppy_paths: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut fdc_boot: Vec<(u64, String)> = Vec::new();
    for (opt, value) in pairs(argv) {
        let p = props(&opt, &value);
        match opt.as_str() {
            "-name" => s.name = p.get("guest").cloned(),
            "-uuid" => s.uuid = Some(value.to_lowercase()),
            "-m" => s.memory_kib = memory_kib(&p),
            "-smp" => s.vcpus = p.get("cpus").and_then(|c| number(c)),
            "-spice" => {
                let mut channels: Vec<String> = split_opts(&value)
                    .into_iter()
                    .filter_map(|item| {
                        let (k, v) = item.split_once('=')?;
                        match k {
                            "tls-channel" => Some(format!("tls:{v}")),
                            "plaintext-channel" => Some(format!("plain:{v}")),
                            _ => None,
                        }
                    })
                    .collect();
                channels.sort();
                s.spice = Some((p.contains_key("tls-port"), channels));
            }
            "-vnc" => {
                let addr = p.get("vnc").cloned().unwrap_or_default();
                s.vnc_display = addr.rsplit(':').next().map(str::to_string);
            }
            "-blockdev" => {
                if let Some(node) = p.get("node-name") {
                    blockdevs.insert(node.clone(), p.clone());
                }
            }
            "-chardev" => {
                if let Some(id) = p.get("id") {
                    chardevs.insert(id.clone(), p.clone());
                }
            }
            "-global" => {
                // isa-fdc.bootindexA=N: the floppy in unit 0 boots at N.
                if let Some((key, n)) = value.split_once('=')
                    && let Some(unit) = key.strip_prefix("isa-fdc.bootindex")
                {
                    fdc_boot.push((number(n).unwrap_or(0), unit.to_string()));
                }
            }
            "-device" => {
                let driver = p.get("driver").cloned().unwrap_or_default();
                if driver == "isa-fdc" {
                    for (k, v) in &p {
                        if let Some(unit) = k.strip_prefix("bootindex") {
                            fdc_boot.push((number(v).unwrap_or(0), unit.to_string()));
                        }
                    }
                    continue;
                }
                let media = match driver.as_str() {
                    "ide-hd" | "scsi-hd" | "virtio-blk-pci" | "usb-storage" | "virtio-blk" => {
                        Some("disk")
                    }
                    "ide-cd" | "scsi-cd" => Some("cdrom"),
                    "floppy" => Some("floppy"),
                    _ => None,
                };
                if let Some(media) = media {
                    let fact = disk_fact(p.get("drive"), &blockdevs, media);
                    if media == "floppy" {
                        let unit = if p.get("unit").map(String::as_str) == Some("1") {
                            "B"
                        } else {
                            "A"
                        };
                        floppy_paths.insert(unit.to_string(), fact.path.clone());
                    }
                    if let Some(idx) = p.get("bootindex").and_then(|b| number(b)) {
                        boot.push((idx, fact.path.clone().unwrap_or_default()));
                    }
                    s.disks.push(fact);
                } else if driver == "isa-serial" {
                    let index = p.get("index").and_then(|i| number(i)).unwrap_or(0);
                    let backend = p
                        .get("chardev")
                        .and_then(|c| chardevs.get(c))
                        .map(serial_backend)
                        .unwrap_or_default();
                    serials.push((index, backend));
                } else if p.contains_key("netdev")
                    && let Some(idx) = p.get("bootindex").and_then(|b| number(b))
                {
                    boot.push((
                        idx,
                        format!("net:{}", p.get("mac").cloned().unwrap_or_default()),
                    ));
                }
            }
            _ => {}
        }
    }
    for (idx, unit) in fdc_boot {
        let path = floppy_paths
            .get(&unit)
            .cloned()
            .flatten()
            .unwrap_or_default();
        boot.push((idx, path));
    }
    boot.sort();
    s.boot = boot.into_iter().map(|(_, who)| who).collect();
    serials.sort();
    s.serials = serials.into_iter().map(|(_, b)| b).collect();
    s
}

/// Follows a device's `drive` through its block nodes to the file.
fn disk_fact(drive: Option<&String>, nodes: &BTreeMap<String, Props>, media: &str) -> DiskFact {
    let mut fact = DiskFact {
        path: None,
        format: "raw".to_string(),
        readonly: false,
        media: media.to_string(),
    };
    let mut next = drive.cloned();
    let mut hops = 0;
    while let Some(name) = next.take() {
        let Some(node) = nodes.get(&name) else { break };
        hops += 1;
        if node.get("read-only").map(String::as_str) == Some("on") {
            fact.readonly = true;
        }
        match node.get("driver").map(String::as_str) {
            Some("qcow2") => fact.format = "qcow2".to_string(),
            Some("file") | Some("host_device") | Some("host_cdrom") => {
                fact.path = node.get("filename").cloned();
            }
            _ => {}
        }
        next = node.get("file").cloned();
        if hops > 8 {
            break;
        }
    }
    fact
}

/// Names a serial port's backend: its kind, and its path where libvirt's
/// command line shows one (it passes listening sockets as fds).
fn serial_backend(chardev: &Props) -> String {
    match chardev.get("backend").map(String::as_str) {
        Some("pty") => "pty".to_string(),
        Some("file") => format!("file:{}", chardev.get("path").cloned().unwrap_or_default()),
        Some("socket") => "unix".to_string(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}
