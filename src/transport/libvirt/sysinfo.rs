//! The host's SMBIOS as libvirt's `virConnectGetSysinfo` gives it
//! (virsh's `sysinfo`): `<sysinfo type='smbios'>` with the BIOS, system,
//! base boards, chassis, OEM strings, processors and memory devices that
//! `dmidecode -q -t 0,1,2,3,4,11,17` reports, each entry under libvirt's
//! name and in its order (`virSysinfoReadDMI`, `virSysinfoFormat`). A
//! host whose SMBIOS cannot be read (no `dmidecode`, or no tables for it
//! to read) has none: `VIR_ERR_CONFIG_UNSUPPORTED`, as libvirt says.

use std::process::Command;

use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::model::xmlwrite::escape_text;

xdr_struct! {
    /// `remote_connect_get_sysinfo_args`.
    pub struct SysinfoArgs { pub flags: u32 }
    /// `remote_connect_get_sysinfo_ret`.
    pub struct SysinfoRet { pub sysinfo: String }
}

/// A block libvirt writes: its element, the dmidecode section it comes
/// from, and its entries (libvirt's name, dmidecode's key).
type Block = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Each block, in libvirt's order.
const BLOCKS: &[Block] = &[
    (
        "bios",
        "BIOS Information",
        &[
            ("vendor", "Vendor"),
            ("version", "Version"),
            ("date", "Release Date"),
            ("release", "BIOS Revision"),
        ],
    ),
    (
        "system",
        "System Information",
        &[
            ("manufacturer", "Manufacturer"),
            ("product", "Product Name"),
            ("version", "Version"),
            ("serial", "Serial Number"),
            ("uuid", "UUID"),
            ("sku", "SKU Number"),
            ("family", "Family"),
        ],
    ),
    (
        "baseBoard",
        "Base Board Information",
        &[
            ("manufacturer", "Manufacturer"),
            ("product", "Product Name"),
            ("version", "Version"),
            ("serial", "Serial Number"),
            ("asset", "Asset Tag"),
            ("location", "Location In Chassis"),
        ],
    ),
    (
        "chassis",
        "Chassis Information",
        &[
            ("manufacturer", "Manufacturer"),
            ("version", "Version"),
            ("serial", "Serial Number"),
            ("asset", "Asset Tag"),
            ("sku", "SKU Number"),
        ],
    ),
    (
        "processor",
        "Processor Information",
        &[
            ("socket_destination", "Socket Designation"),
            ("type", "Type"),
            ("family", "Family"),
            ("manufacturer", "Manufacturer"),
            ("signature", "Signature"),
            ("version", "Version"),
            ("external_clock", "External Clock"),
            ("max_speed", "Max Speed"),
            ("status", "Status"),
            ("serial_number", "Serial Number"),
            ("part_number", "Part Number"),
        ],
    ),
    (
        "memory_device",
        "Memory Device",
        &[
            ("size", "Size"),
            ("form_factor", "Form Factor"),
            ("locator", "Locator"),
            ("bank_locator", "Bank Locator"),
            ("type", "Type"),
            ("type_detail", "Type Detail"),
            ("speed", "Speed"),
            ("manufacturer", "Manufacturer"),
            ("serial_number", "Serial Number"),
            ("part_number", "Part Number"),
        ],
    ),
];

/// dmidecode's sections: each title (an unindented line) with its
/// `Key: Value` lines.
fn sections(text: &str) -> Vec<(&str, Vec<(&str, &str)>)> {
    let mut out: Vec<(&str, Vec<(&str, &str)>)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with("Handle ") {
            continue;
        }
        if !line.starts_with(char::is_whitespace) {
            out.push((line.trim(), Vec::new()));
        } else if let Some((_, fields)) = out.last_mut()
            && let Some((k, v)) = line.trim().split_once(':')
        {
            fields.push((k.trim(), v.trim()));
        }
    }
    out
}

/// `<sysinfo type='smbios'>` of dmidecode's output `text`, as libvirt
/// formats it: blocks in its order, one per section (the BIOS, system
/// and chassis only once), entries present only; a memory slot with no
/// module and blocks without any entry are left out.
pub fn smbios_xml(text: &str) -> String {
    let sections = sections(text);
    let mut body = String::new();
    let entry = |body: &mut String, name: &str, value: &str| {
        body.push_str(&format!("    <entry name='{name}'>"));
        escape_text(value, body);
        body.push_str("</entry>\n");
    };
    for (element, title, keys) in BLOCKS {
        let once = matches!(*element, "bios" | "system" | "chassis");
        let of_kind = sections.iter().filter(|(t, _)| t == title);
        for (_, fields) in of_kind.take(if once { 1 } else { usize::MAX }) {
            let empty_slot = fields
                .iter()
                .any(|(k, v)| *k == "Size" && *v == "No Module Installed");
            if *element == "memory_device" && empty_slot {
                continue;
            }
            let mut block = String::new();
            for (name, key) in *keys {
                let Some((_, v)) = fields.iter().find(|(k, _)| k == key) else {
                    continue;
                };
                entry(&mut block, name, v);
            }
            if !block.is_empty() {
                body.push_str(&format!("  <{element}>\n{block}  </{element}>\n"));
            }
        }
        if *element == "chassis" {
            let strings: Vec<&str> = sections
                .iter()
                .filter(|(t, _)| *t == "OEM Strings")
                .flat_map(|(_, f)| f.iter())
                .filter(|(k, _)| k.starts_with("String "))
                .map(|(_, v)| *v)
                .collect();
            if !strings.is_empty() {
                body.push_str("  <oemStrings>\n");
                for s in strings {
                    body.push_str("    <entry>");
                    escape_text(s, &mut body);
                    body.push_str("</entry>\n");
                }
                body.push_str("  </oemStrings>\n");
            }
        }
    }
    if body.is_empty() {
        return "<sysinfo type='smbios'/>\n".to_string();
    }
    format!("<sysinfo type='smbios'>\n{body}</sysinfo>\n")
}

/// `virConnectGetSysinfo`: the host's SMBIOS from `dmidecode`.
pub fn get_sysinfo(a: SysinfoArgs) -> Result<SysinfoRet> {
    check_flags(a.flags, 0, "virConnectGetSysinfo")?;
    let unavailable = |why: String| {
        Error::new(
            ErrorCode::ConfigUnsupported,
            format!("Host SMBIOS information is not available: {why}"),
        )
    };
    let out = Command::new("dmidecode")
        .args(["-q", "-t", "0,1,2,3,4,11,17"])
        .output()
        .map_err(|e| unavailable(format!("cannot run dmidecode: {e}")))?;
    if !out.status.success() {
        return Err(unavailable(format!(
            "dmidecode failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(SysinfoRet {
        sysinfo: smbios_xml(&String::from_utf8_lossy(&out.stdout)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DMIDECODE: &str = "BIOS Information\n\
        \tVendor: SeaBIOS\n\
        \tVersion: 1.16.2-debian-1.16.2-1\n\
        \tRelease Date: 04/01/2014\n\
        \tAddress: 0xE8000\n\
        \tBIOS Revision: 0.0\n\
        \n\
        System Information\n\
        \tManufacturer: QEMU\n\
        \tProduct Name: Standard PC (i440FX + PIIX, 1996)\n\
        \tVersion: pc-i440fx-7.2\n\
        \tSerial Number: Not Specified\n\
        \tUUID: 6d1c3f2e-a4b5-4c6d-8e7f-0123456789ab\n\
        \tWake-up Type: Power Switch\n\
        \tSKU Number: Not Specified\n\
        \tFamily: Not Specified\n\
        \n\
        Chassis Information\n\
        \tManufacturer: QEMU\n\
        \tType: Other\n\
        \tVersion: pc-i440fx-7.2\n\
        \n\
        OEM Strings\n\
        \tString 1: a & b\n\
        \n\
        Processor Information\n\
        \tSocket Designation: CPU 0\n\
        \tType: Central Processor\n\
        \tFamily: Other\n\
        \tManufacturer: QEMU\n\
        \n\
        Memory Device\n\
        \tSize: 32 MB\n\
        \tLocator: DIMM 0\n\
        \n\
        Memory Device\n\
        \tSize: No Module Installed\n";

    #[test]
    fn dmidecode_output_reads_as_libvirt_formats_it() {
        let xml = smbios_xml(DMIDECODE);
        assert!(
            xml.starts_with(
                "<sysinfo type='smbios'>\n  <bios>\n    <entry name='vendor'>SeaBIOS</entry>\n"
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<entry name='release'>0.0</entry>\n  </bios>\n  <system>"),
            "{xml}"
        );
        assert!(
            xml.contains("<entry name='family'>Not Specified</entry>\n  </system>\n  <chassis>"),
            "{xml}"
        );
        assert!(
            xml.contains("</chassis>\n  <oemStrings>\n    <entry>a &amp; b</entry>"),
            "{xml}"
        );
        assert!(xml.contains("<processor>\n    <entry name='socket_destination'>CPU 0</entry>\n    <entry name='type'>Central Processor</entry>"), "{xml}");
        assert_eq!(xml.matches("<memory_device>").count(), 1, "{xml}");
        assert!(
            xml.contains("<entry name='locator'>DIMM 0</entry>"),
            "{xml}"
        );
        assert!(!xml.contains("Address"), "{xml}");
        assert_eq!(smbios_xml(""), "<sysinfo type='smbios'/>\n");
    }
}
