//! Device aliases in a definition, as libvirt reads them: a user alias
//! (`ua-` and letters, digits, `_`, `-`) of a disk, an interface, a
//! serial port or a console is kept and written back; any other alias is
//! a running domain's name and is dropped; user aliases are unique in
//! the domain ("non unique alias detected"); a device that would not
//! carry a user alias refuses it by name. USB controllers carry one too.

use qvirt::model::ModelErrorKind;

use crate::{accept, doc, reject};

use ModelErrorKind::{Invalid, Unsupported};

fn disk(target: &str, alias: &str) -> String {
    format!(
        "<disk type='file' device='disk'><source file='/tmp/{target}.img'/>\
         <target dev='{target}' bus='virtio'/><alias name='{alias}'/></disk>"
    )
}

fn nic(mac: u8, alias: &str) -> String {
    format!(
        "<interface type='user'><mac address='52:54:00:00:00:{mac:02x}'/>\
         <model type='virtio'/><alias name='{alias}'/></interface>"
    )
}

#[test]
fn user_aliases_are_kept_and_others_dropped() {
    let d = accept(&doc(
        "",
        &(disk("vda", "ua-data") + &disk("vdb", "virtio-disk1") + &nic(1, "ua-up_link-2")),
    ));
    assert_eq!(d.devices.disks[0].alias.as_deref(), Some("ua-data"));
    assert_eq!(
        d.devices.disks[1].alias, None,
        "a manager's alias is dropped"
    );
    assert_eq!(
        d.devices.interfaces[0].alias.as_deref(),
        Some("ua-up_link-2")
    );
    let xml = d.to_xml();
    assert!(xml.contains("<alias name='ua-data'/>"), "{xml}");
    assert!(!xml.contains("virtio-disk1"), "{xml}");
    // libvirt keeps only aliases of its characters: 'ua-a.b' is dropped.
    let d = accept(&doc("", &disk("vda", "ua-a.b")));
    assert_eq!(d.devices.disks[0].alias, None);
    // A serial port and the console that is it share the alias.
    let d = accept(&doc(
        "",
        "<serial type='pty'><target port='0'/><alias name='ua-com1'/></serial>\
         <console type='pty'><target type='serial' port='0'/><alias name='ua-com1'/></console>",
    ));
    assert_eq!(d.devices.serials[0].alias.as_deref(), Some("ua-com1"));
    assert_eq!(d.devices.consoles[0].alias.as_deref(), Some("ua-com1"));
}

#[test]
fn user_aliases_are_unique_and_only_where_they_are_applied() {
    reject(
        &doc("", &(disk("vda", "ua-x") + &nic(1, "ua-x"))),
        Unsupported,
        "non unique alias detected: ua-x",
    );
    reject(
        &doc("", &(disk("vda", "ua-x") + &disk("vdb", "ua-x"))),
        Unsupported,
        "non unique alias detected: ua-x",
    );
    reject(
        &doc(
            "",
            "<serial type='pty'><target port='0'/><alias name='ua-com1'/></serial>\
             <console type='pty'><target type='serial' port='0'/><alias name='ua-other'/></console>",
        ),
        Invalid,
        "console 0 is the serial port 0, so its alias must be the port's (ua-com1)",
    );
    // A device whose QEMU id is not the user's refuses the alias by name;
    // a manager's alias there is dropped as elsewhere.
    reject(
        &doc(
            "",
            "<controller type='pci' model='pci-root'><alias name='ua-root'/></controller>",
        ),
        Unsupported,
        "<controller><alias> at 6:",
    );
    reject(
        &doc(
            "",
            "<video><model type='vga'/><alias name='ua-vga'/></video>",
        ),
        Unsupported,
        "<video><alias> at 6:",
    );
    accept(&doc(
        "",
        "<controller type='pci' model='pci-root'><alias name='pci.0'/></controller>",
    ));
    // A USB controller's user alias is its id; unique with the others'.
    let d = accept(&doc(
        "",
        "<controller type='usb' model='piix3-uhci'><alias name='ua-usb'/></controller>",
    ));
    assert_eq!(d.devices.controllers[0].alias.as_deref(), Some("ua-usb"));
    reject(
        &doc(
            "",
            &(disk("vda", "ua-usb")
                + "<controller type='usb' model='piix3-uhci'><alias name='ua-usb'/></controller>"),
        ),
        Unsupported,
        "non unique alias detected: ua-usb",
    );
}
