//! Facts about the host: `nodeinfo` and the capabilities document.

use super::caps::QemuCaps;
use crate::driver::NodeInfo;
use crate::error::{Error, Result};

/// CPUs, memory and clock speed of this host, from /proc.
pub fn node_info() -> Result<NodeInfo> {
    let meminfo = std::fs::read_to_string("/proc/meminfo")
        .map_err(|e| Error::io("cannot read /proc/meminfo", e))?;
    let memory_kib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let mhz = cpuinfo
        .lines()
        .find(|l| l.starts_with("cpu MHz"))
        .and_then(|l| l.split(':').nth(1)?.trim().parse::<f64>().ok())
        .map(|m| m as u32)
        .unwrap_or(0);
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1);
    Ok(NodeInfo {
        arch: std::env::consts::ARCH.to_string(),
        memory_kib,
        cpus,
        mhz,
    })
}

/// A capabilities document in libvirt's shape (the parts qvirt knows):
/// the host arch, and for the emulator its machines and domain types.
pub fn capabilities_xml(caps: &QemuCaps) -> String {
    let arch = std::env::consts::ARCH;
    let mut xml = String::new();
    xml.push_str("<capabilities>\n  <host>\n    <cpu>\n");
    xml.push_str(&format!("      <arch>{arch}</arch>\n"));
    xml.push_str("    </cpu>\n  </host>\n  <guest>\n    <os_type>hvm</os_type>\n");
    xml.push_str(&format!("    <arch name='{arch}'>\n"));
    xml.push_str(&format!(
        "      <emulator>{}</emulator>\n",
        escape(&caps.emulator.to_string_lossy())
    ));
    // The default machine first (clients such as virt-install take the
    // first one as the default, as libvirt writes it), then the others;
    // an alias names its versioned machine as libvirt's `canonical`.
    let default = caps
        .machine_aliases
        .get(&caps.default_machine)
        .unwrap_or(&caps.default_machine);
    let machines = std::iter::once(default).chain(caps.machines.iter().filter(|m| *m != default));
    for m in machines {
        match caps.machine_aliases.get(m) {
            Some(canonical) => xml.push_str(&format!(
                "      <machine canonical='{}'>{}</machine>\n",
                escape(canonical),
                escape(m)
            )),
            None => xml.push_str(&format!("      <machine>{}</machine>\n", escape(m))),
        }
    }
    xml.push_str("      <domain type='qemu'/>\n");
    if caps.kvm {
        xml.push_str("      <domain type='kvm'/>\n");
    }
    xml.push_str("    </arch>\n");
    // What a guest of this arch gets unless its definition says otherwise
    // (virt-install adds <acpi/> and <apic/> from these).
    xml.push_str(
        "    <features>\n      <acpi default='on' toggle='yes'/>\n      \
         <apic default='on' toggle='no'/>\n    </features>\n",
    );
    xml.push_str("  </guest>\n</capabilities>\n");
    xml
}

/// Escapes text for an XML element.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_machine_comes_first_and_aliases_name_their_machine() {
        let mut caps = QemuCaps::assumed("/usr/bin/qemu-system-x86_64");
        caps.machines = ["microvm", "pc", "pc-i440fx-7.2", "q35"]
            .map(String::from)
            .to_vec();
        let xml = capabilities_xml(&caps);
        let machines: Vec<&str> = xml
            .lines()
            .filter(|l| l.contains("<machine"))
            .map(str::trim)
            .collect();
        assert_eq!(
            machines,
            [
                "<machine>pc-i440fx-7.2</machine>",
                "<machine>microvm</machine>",
                "<machine canonical='pc-i440fx-7.2'>pc</machine>",
                "<machine canonical='pc-q35-7.2'>q35</machine>",
            ]
        );
        assert!(xml.contains("<acpi default='on' toggle='yes'/>"), "{xml}");
    }
}
