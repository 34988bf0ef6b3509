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
    for m in &caps.machines {
        xml.push_str(&format!("      <machine>{}</machine>\n", escape(m)));
    }
    xml.push_str("      <domain type='qemu'/>\n");
    if caps.kvm {
        xml.push_str("      <domain type='kvm'/>\n");
    }
    xml.push_str("    </arch>\n  </guest>\n</capabilities>\n");
    xml
}

/// Escapes text for an XML element.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
