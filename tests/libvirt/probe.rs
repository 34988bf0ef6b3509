//! What QEMU has of a domain (through virsh's `qemu-monitor-command`)
//! and what a domain's XML says of its devices: the probes the hot-plug
//! tests look at the running VM with.

use std::path::Path;

use crate::lv::virsh_ok;

/// QEMU's user-created devices of `dom`, as `id:type` sorted
/// (`watchdog0:i6300esb`).
pub fn qemu_devices(s: &Path, dom: &str) -> Vec<String> {
    let cmd = r#"{"execute":"qom-list","arguments":{"path":"/machine/peripheral"}}"#;
    let out = virsh_ok(s, &["qemu-monitor-command", dom, cmd]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("qom-list's JSON");
    let mut out: Vec<String> = v["return"]
        .as_array()
        .expect("properties")
        .iter()
        .filter_map(|p| {
            let t = p["type"].as_str()?.strip_prefix("child<")?;
            Some(format!(
                "{}:{}",
                p["name"].as_str()?,
                t.trim_end_matches('>')
            ))
        })
        .filter(|d| d.starts_with("watchdog") || d.starts_with("input"))
        .collect();
    out.sort();
    out
}

/// Property `name` of QEMU device `id` of `dom` (`qom-get`).
pub fn qom_get(s: &Path, dom: &str, id: &str, name: &str) -> serde_json::Value {
    let cmd = format!(
        r#"{{"execute":"qom-get","arguments":{{"path":"/machine/peripheral/{id}","property":"{name}"}}}}"#
    );
    let out = virsh_ok(s, &["qemu-monitor-command", dom, &cmd]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("qom-get's JSON");
    v["return"].clone()
}

/// The devices on QEMU's PCI bus 0 (`query-pci`), as QMP gives them.
pub fn pci_devices(s: &Path, dom: &str) -> Vec<serde_json::Value> {
    let out = virsh_ok(
        s,
        &["qemu-monitor-command", dom, r#"{"execute":"query-pci"}"#],
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("query-pci's JSON");
    v["return"][0]["devices"]
        .as_array()
        .expect("the devices of bus 0")
        .clone()
}

/// The PCI slot of QEMU device `id` on bus 0.
pub fn pci_slot(s: &Path, dom: &str, id: &str) -> Option<u64> {
    pci_devices(s, dom)
        .iter()
        .find(|d| d["qdev_id"] == id)
        .and_then(|d| d["slot"].as_u64())
}

/// The `(alias, address attribute)` of each `<kind>` of a domain's XML,
/// in document order: the PCI slot or the USB port.
pub fn xml_devices(xml: &str, kind: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name(kind) && n.parent().is_some_and(|p| p.has_tag_name("devices")))
        .map(|n| {
            let child = |name: &str| n.children().find(|c| c.has_tag_name(name));
            let alias = child("alias")
                .and_then(|a| a.attribute("name"))
                .unwrap_or_default()
                .to_string();
            let at = child("address")
                .and_then(|a| a.attribute("slot").or(a.attribute("port")))
                .unwrap_or_default()
                .to_string();
            (alias, at)
        })
        .collect()
}

/// A hex slot of the XML as a number.
pub fn slot(text: &str) -> u64 {
    u64::from_str_radix(text.trim_start_matches("0x"), 16).unwrap()
}

/// The ids of QEMU's user-created devices of type `kind` of `dom`.
pub fn qemu_devices_of(s: &Path, dom: &str, kind: &str) -> Vec<String> {
    let cmd = r#"{"execute":"qom-list","arguments":{"path":"/machine/peripheral"}}"#;
    let out = virsh_ok(s, &["qemu-monitor-command", dom, cmd]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let want = format!("child<{kind}>");
    let mut out = v["return"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == want.as_str())
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    out.sort();
    out
}
