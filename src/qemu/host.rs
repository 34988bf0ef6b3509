//! Facts about the host: `nodeinfo` and the capabilities document.

use std::path::Path;

use super::caps::QemuCaps;
use crate::driver::NodeInfo;
use crate::error::{Error, Result};
use crate::sys::hosttopo::{Topology, cpu_vendor, host_uuid};

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

/// A capabilities document in libvirt's shape: the host (its UUID, CPU,
/// NUMA cells with their memory, pages and CPUs, what migration takes,
/// no security driver), and for the emulator its machines and domain
/// types.
pub fn capabilities_xml(caps: &QemuCaps) -> String {
    host_capabilities_xml(caps, Path::new("/"))
}

/// [`capabilities_xml`] for the host laid out under `root`.
fn host_capabilities_xml(caps: &QemuCaps, root: &Path) -> String {
    let arch = std::env::consts::ARCH;
    let mut xml = String::new();
    xml.push_str("<capabilities>\n  <host>\n");
    xml.push_str(&host_xml(root));
    xml.push_str("  </host>\n  <guest>\n    <os_type>hvm</os_type>\n");
    xml.push_str(&format!("    <arch name='{arch}'>\n"));
    xml.push_str(&format!("      <wordsize>{}</wordsize>\n", usize::BITS));
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
    // <cpuselection/>: a CPU model can be chosen; <deviceboot/>: boot
    // order per device; internal snapshots of disks.
    xml.push_str(
        "    <features>\n      <acpi default='on' toggle='yes'/>\n      \
         <apic default='on' toggle='no'/>\n      <cpuselection/>\n      \
         <deviceboot/>\n      <disksnapshot default='on' toggle='no'/>\n    </features>\n",
    );
    xml.push_str("  </guest>\n</capabilities>\n");
    xml
}

/// The inside of `<host>`, as libvirt writes it.
fn host_xml(root: &Path) -> String {
    use std::fmt::Write;
    let topo = Topology::read(root);
    let mut x = String::new();
    if let Some(uuid) = host_uuid(root) {
        let _ = writeln!(x, "    <uuid>{uuid}</uuid>");
    }
    let _ = writeln!(
        x,
        "    <cpu>\n      <arch>{}</arch>",
        std::env::consts::ARCH
    );
    let (vendor, microcode) = cpu_vendor(root);
    if let Some(v) = vendor {
        let _ = writeln!(x, "      <vendor>{}</vendor>", escape(&v));
    }
    if let Some(m) = microcode {
        let _ = writeln!(x, "      <microcode version='{m}'/>");
    }
    let _ = writeln!(
        x,
        "      <topology sockets='{}' dies='{}' cores='{}' threads='{}'/>",
        topo.sockets, topo.dies, topo.cores, topo.threads
    );
    for size in &topo.page_sizes {
        let _ = writeln!(x, "      <pages unit='KiB' size='{size}'/>");
    }
    x.push_str("    </cpu>\n");
    // No host suspend is offered (nodesuspend is refused).
    x.push_str("    <power_management/>\n");
    let iommu = std::fs::read_dir(root.join("sys/kernel/iommu_groups"))
        .is_ok_and(|mut d| d.next().is_some());
    let _ = writeln!(
        x,
        "    <iommu support='{}'/>",
        if iommu { "yes" } else { "no" }
    );
    x.push_str(
        "    <migration_features>\n      <live/>\n      <uri_transports>\n        \
         <uri_transport>tcp</uri_transport>\n      </uri_transports>\n    \
         </migration_features>\n",
    );
    let _ = writeln!(
        x,
        "    <topology>\n      <cells num='{}'>",
        topo.cells.len()
    );
    for c in &topo.cells {
        let _ = writeln!(x, "        <cell id='{}'>", c.id);
        let _ = writeln!(x, "          <memory unit='KiB'>{}</memory>", c.memory_kib);
        for (size, count) in &c.pages {
            let _ = writeln!(
                x,
                "          <pages unit='KiB' size='{size}'>{count}</pages>"
            );
        }
        if !c.distances.is_empty() {
            x.push_str("          <distances>\n");
            for (id, value) in &c.distances {
                let _ = writeln!(x, "            <sibling id='{id}' value='{value}'/>");
            }
            x.push_str("          </distances>\n");
        }
        let _ = writeln!(x, "          <cpus num='{}'>", c.cpus.len());
        for cpu in &c.cpus {
            let _ = writeln!(
                x,
                "            <cpu id='{}' socket_id='{}' die_id='{}' core_id='{}' siblings='{}'/>",
                cpu.id,
                cpu.socket,
                cpu.die,
                cpu.core,
                escape(&cpu.siblings)
            );
        }
        x.push_str("          </cpus>\n        </cell>\n");
    }
    x.push_str("      </cells>\n    </topology>\n");
    // QEMU runs as the manager's own user, with no security driver.
    x.push_str("    <secmodel>\n      <model>none</model>\n      <doi>0</doi>\n    </secmodel>\n");
    x
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
