//! Rules of interface settings applied on the host side of the NIC:
//! `<coalesce>` (the tap's receive batching) and `<filterref>` (a host
//! network filter), read, written back and checked against libvirt's
//! schema.

use qvirt::model::{FilterRef, ModelErrorKind};

use crate::{accept, doc, reject, xmllint_validate};

use ModelErrorKind::{Invalid, Unsupported};

const BRIDGE: &str =
    "<interface type='bridge'><mac address='52:54:00:00:0c:01'/><source bridge='br0'/>";

#[test]
fn coalesce_is_read_on_a_bridge_and_written_back() {
    let d = accept(&doc(
        "",
        &format!(
            "{BRIDGE}<coalesce><rx><frames max='7'/></rx></coalesce></interface>\
             <interface type='bridge'><source bridge='br0'/><coalesce><rx><frames max='0'/></rx></coalesce></interface>"
        ),
    ));
    assert_eq!(d.devices.interfaces[0].coalesce_rx_frames, Some(7));
    // Zero is a setting (no batching), applied and kept.
    assert_eq!(d.devices.interfaces[1].coalesce_rx_frames, Some(0));
    let x = d.to_xml();
    assert!(
        x.contains("<coalesce>\n        <rx>\n          <frames max='7'/>\n        </rx>\n      </coalesce>"),
        "{x}"
    );
    // No max, nothing to set: libvirt keeps nothing either, on any type.
    for empty in [
        "<coalesce/>",
        "<coalesce><rx/></coalesce>",
        "<coalesce><rx><frames/></rx></coalesce>",
    ] {
        let d = accept(&doc(
            "",
            &format!("<interface type='user'>{empty}</interface>"),
        ));
        assert_eq!(d.devices.interfaces[0].coalesce_rx_frames, None, "{empty}");
    }
}

#[test]
fn coalesce_rules() {
    let frames = |max: &str| format!("<coalesce><rx><frames max='{max}'/></rx></coalesce>");
    // libvirt's qemuValidateNetSupportsCoalesce: network and bridge only.
    for (iface, fragment) in [
        (
            format!("<interface type='user'>{}</interface>", frames("8")),
            "coalesce settings on interface type user are not supported",
        ),
        (
            format!("<interface type='ethernet'>{}</interface>", frames("8")),
            "coalesce settings on interface type ethernet are not supported",
        ),
        (
            format!(
                "<interface type='direct'><source dev='eth0'/>{}</interface>",
                frames("8")
            ),
            "interface type direct",
        ),
        (
            format!(
                "<interface type='vhostuser'><source type='unix' path='/s'/><model type='virtio'/>{}</interface>",
                frames("8")
            ),
            "interface type vhostuser",
        ),
        // qvirt's only network is QEMU's user networking: no tap.
        (
            format!(
                "<interface type='network'><source network='default'/>{}</interface>",
                frames("8")
            ),
            "no host tap",
        ),
    ] {
        reject(&doc("", &iface), Unsupported, fragment);
    }
    for (bad, kind, fragment) in [
        (frames("many"), Invalid, "attribute max"),
        (frames("-1"), Invalid, "attribute max"),
        (frames("4294967296"), Invalid, "too large"),
        (
            "<coalesce><tx><frames max='1'/></tx></coalesce>".to_string(),
            Unsupported,
            "<tx>",
        ),
        (
            "<coalesce><rx><usecs max='1'/></rx></coalesce>".to_string(),
            Unsupported,
            "<usecs>",
        ),
        (
            "<coalesce><rx><frames max='1' irq='2'/></rx></coalesce>".to_string(),
            Unsupported,
            "irq",
        ),
        (
            "<coalesce><rx><frames max='1'/><frames max='2'/></rx></coalesce>".to_string(),
            Invalid,
            "more than once",
        ),
        (
            format!("{}{}", frames("1"), frames("2")),
            Invalid,
            "more than once",
        ),
    ] {
        reject(
            &doc("", &format!("{BRIDGE}{bad}</interface>")),
            kind,
            fragment,
        );
    }
}

const FILTER: &str = "<filterref filter='clean-traffic'>\
    <parameter name='IP' value='10.0.0.2'/>\
    <parameter name='MAC' value='52:54:00:00:0c:01'/>\
    <parameter name='IP' value='10.0.0.1'/>\
    <parameter name='CTRL_IP_LEARNING' value='none'/>\
    </filterref>";

#[test]
fn filterref_is_kept_with_its_parameters_in_order() {
    let d = accept(&doc(
        "",
        &format!(
            "{BRIDGE}{FILTER}</interface>\
             <interface type='ethernet'><filterref filter='no-spoofing'/></interface>\
             <interface type='network'><source network='default'/><filterref filter='allow-dhcp'/></interface>"
        ),
    ));
    let pair = |n: &str, v: &str| (n.to_string(), v.to_string());
    assert_eq!(
        d.devices.interfaces[0].filterref,
        Some(FilterRef {
            filter: "clean-traffic".into(),
            parameters: vec![
                pair("IP", "10.0.0.2"),
                pair("MAC", "52:54:00:00:0c:01"),
                pair("IP", "10.0.0.1"),
                pair("CTRL_IP_LEARNING", "none"),
            ],
        })
    );
    assert_eq!(
        d.devices.interfaces[1].filterref,
        Some(FilterRef {
            filter: "no-spoofing".into(),
            parameters: vec![],
        })
    );
    let x = d.to_xml();
    assert!(
        x.contains(
            "<filterref filter='clean-traffic'>\n        <parameter name='IP' value='10.0.0.2'/>\n        <parameter name='MAC' value='52:54:00:00:0c:01'/>\n        <parameter name='IP' value='10.0.0.1'/>"
        ) && x.contains("<filterref filter='no-spoofing'/>"),
        "{x}"
    );
}

#[test]
fn filterref_rules() {
    // libvirt reads it only on network, bridge and ethernet interfaces
    // (and drops it on others without a word): refused by name.
    for iface in [
        format!("<interface type='user'>{FILTER}</interface>"),
        format!("<interface type='direct'><source dev='eth0'/>{FILTER}</interface>"),
        format!(
            "<interface type='vhostuser'><source type='unix' path='/s'/><model type='virtio'/>{FILTER}</interface>"
        ),
    ] {
        reject(&doc("", &iface), Unsupported, "<filterref>");
    }
    // libvirt skips a parameter it cannot use: qvirt says which.
    for (bad, kind, fragment) in [
        ("<filterref/>", Invalid, "missing attribute filter"),
        ("<filterref filter=''/>", Invalid, "attribute filter"),
        (
            "<filterref filter='f'><parameter name='I P' value='1'/></filterref>",
            Invalid,
            "attribute name",
        ),
        (
            "<filterref filter='f'><parameter name='IP' value='10.0.0.1/24'/></filterref>",
            Invalid,
            "attribute value",
        ),
        (
            "<filterref filter='f'><parameter name='IP' value=''/></filterref>",
            Invalid,
            "attribute value",
        ),
        (
            "<filterref filter='f'><parameter name='IP'/></filterref>",
            Invalid,
            "missing attribute value",
        ),
        (
            "<filterref filter='f'><param name='IP' value='1'/></filterref>",
            Unsupported,
            "<param>",
        ),
        (
            "<filterref filter='f' priority='1'/>",
            Unsupported,
            "priority",
        ),
        (
            "<filterref filter='f'/><filterref filter='g'/>",
            Invalid,
            "more than once",
        ),
    ] {
        reject(
            &doc("", &format!("{BRIDGE}{bad}</interface>")),
            kind,
            fragment,
        );
    }
}

#[test]
fn coalesce_and_filterref_documents_validate_against_libvirts_schema() {
    let dir = crate::scratch_dir("net-host-side");
    let files: Vec<_> = [
        format!(
            "{BRIDGE}{FILTER}<coalesce><rx><frames max='32'/></rx></coalesce></interface>"
        ),
        "<interface type='ethernet'><filterref filter='no-spoofing'/></interface>\
         <interface type='bridge'><source bridge='br1'/><coalesce><rx><frames max='0'/></rx></coalesce></interface>"
            .to_string(),
    ]
    .iter()
    .enumerate()
    .map(|(i, devices)| {
        let f = dir.join(format!("net{i}.xml"));
        std::fs::write(&f, accept(&doc("", devices)).to_xml()).unwrap();
        f
    })
    .collect();
    xmllint_validate(&files);
}

fn ethernet(inner: &str) -> String {
    doc(
        "",
        &format!(
            "<interface type='ethernet'><mac address='52:54:00:00:5c:01'/>{inner}<model type='virtio'/></interface>"
        ),
    )
}

#[test]
fn scripts_are_read_on_ethernet_and_written_back() {
    let d = accept(&ethernet(
        "<script path='/etc/qemu-ifup'/><downscript path='/etc/qemu-ifdown'/><target dev='tap7'/>",
    ));
    let s = &d.devices.interfaces[0].scripts;
    assert_eq!(s.up.as_deref(), Some("/etc/qemu-ifup"));
    assert_eq!(s.down.as_deref(), Some("/etc/qemu-ifdown"));
    let x = d.to_xml();
    // libvirt's order: the scripts before <target>.
    assert!(
        x.find("<downscript").unwrap() < x.find("<target").unwrap(),
        "{x}"
    );
    // An empty path is libvirt's no-op, kept.
    let d = accept(&ethernet("<script path=''/>"));
    assert_eq!(d.devices.interfaces[0].scripts.up.as_deref(), Some(""));
    let dir = crate::scratch_dir("scripts-schema");
    let f = dir.join("scripts.xml");
    std::fs::write(
        &f,
        accept(&ethernet(
            "<script path='/etc/qemu-ifup'/><downscript path='/etc/qemu-ifdown'/>",
        ))
        .to_xml(),
    )
    .unwrap();
    xmllint_validate(&[f]);
}

#[test]
fn scripts_rules() {
    // libvirt runs them for ethernet taps only (elsewhere it would only
    // taint the domain): refused by name rather than ignored.
    for (kind, source) in [
        ("bridge", "<source bridge='br0'/>"),
        ("user", ""),
        ("network", "<source network='default'/>"),
    ] {
        reject(
            &doc(
                "",
                &format!(
                    "<interface type='{kind}'>{source}<script path='/etc/qemu-ifup'/></interface>"
                ),
            ),
            Unsupported,
            "scripts run for type='ethernet' taps only",
        );
    }
    reject(&ethernet("<script/>"), Invalid, "path");
    reject(
        &ethernet("<script path='/a'/><script path='/b'/>"),
        Invalid,
        "script",
    );
}

fn ovs(vlan: &str) -> String {
    doc(
        "",
        &format!(
            "<interface type='bridge'><source bridge='ovsbr'/>{vlan}<virtualport type='openvswitch'/></interface>"
        ),
    )
}

#[test]
fn vlans_are_read_on_open_vswitch_ports_and_written_back() {
    let d = accept(&ovs(
        "<vlan trunk='yes'><tag id='42' nativeMode='untagged'/><tag id='47'/></vlan>",
    ));
    let v = d.devices.interfaces[0]
        .virtualport
        .as_ref()
        .unwrap()
        .vlan
        .clone()
        .unwrap();
    assert_eq!(
        (v.tags, v.trunk, v.native),
        (vec![42, 47], true, Some((42, false)))
    );
    // Two tags make a trunk; one tag does not, unless said.
    let trunk = |xml: &str| {
        let d = accept(&ovs(xml));
        d.devices.interfaces[0]
            .virtualport
            .as_ref()
            .unwrap()
            .vlan
            .as_ref()
            .unwrap()
            .trunk
    };
    assert!(trunk("<vlan><tag id='1'/><tag id='2'/></vlan>"));
    assert!(!trunk("<vlan><tag id='7'/></vlan>"));
    assert!(trunk("<vlan trunk='yes'><tag id='7'/></vlan>"));
    assert!(!trunk("<vlan trunk='no'><tag id='7'/></vlan>"));
    let dir = crate::scratch_dir("vlan-schema");
    let f = dir.join("vlan.xml");
    std::fs::write(
        &f,
        accept(&ovs(
            "<vlan trunk='yes'><tag id='42' nativeMode='tagged'/><tag id='47'/></vlan>",
        ))
        .to_xml(),
    )
    .unwrap();
    xmllint_validate(&[f]);
}

#[test]
fn vlan_rules() {
    reject(
        &doc(
            "",
            "<interface type='bridge'><source bridge='br0'/><vlan><tag id='4'/></vlan></interface>",
        ),
        Unsupported,
        "vlan tag is not supported for this connection type",
    );
    reject(
        &ovs("<vlan><tag id='4096'/></vlan>"),
        Invalid,
        "maximum 4095",
    );
    reject(&ovs("<vlan/>"), Invalid, "at least one <tag");
    reject(
        &ovs("<vlan trunk='no'><tag id='1'/><tag id='2'/></vlan>"),
        Invalid,
        "trunk='yes' is required",
    );
    reject(
        &ovs(
            "<vlan trunk='yes'><tag id='1' nativeMode='tagged'/><tag id='2' nativeMode='untagged'/></vlan>",
        ),
        Invalid,
        "duplicate native vlan",
    );
    reject(&ovs("<vlan><tag/></vlan>"), Invalid, "tag id");
}
