//! Display and input rules: a video card's initial resolution, VNC's power
//! control, the PS/2 controller.

use qvirt::model::ModelErrorKind;

use crate::{accept, doc, reject};

#[test]
fn resolution_is_for_the_cards_that_take_one() {
    for model in ["vga", "qxl", "virtio", "bochs"] {
        let d = accept(&doc(
            "",
            &format!("<video><model type='{model}'><resolution x='1024' y='768'/></model></video>"),
        ));
        assert_eq!(d.devices.videos[0].resolution, Some((1024, 768)), "{model}");
    }
    for model in ["cirrus", "vmvga", "ramfb"] {
        reject(
            &doc(
                "",
                &format!(
                    "<video><model type='{model}'><resolution x='1024' y='768'/></model></video>"
                ),
            ),
            ModelErrorKind::Invalid,
            "model resolution is not supported",
        );
    }
    reject(
        &doc(
            "",
            "<video><model type='qxl'><resolution x='1024'/></model></video>",
        ),
        ModelErrorKind::Invalid,
        "y",
    );
}

#[test]
fn power_control_is_vnc_s() {
    let d = accept(&doc("", "<graphics type='vnc' powerControl='yes'/>"));
    assert_eq!(d.devices.graphics[0].power_control, Some(true));
    reject(
        &doc("", "<graphics type='spice' powerControl='yes'/>"),
        ModelErrorKind::Unsupported,
        "attribute powerControl",
    );
}

#[test]
fn connected_goes_with_a_password_and_vnc_keeps_its_clients() {
    use qvirt::model::GraphicsConnected;
    let d = accept(&doc(
        "",
        "<graphics type='spice' passwd='p' connected='disconnect'/>\
         <graphics type='vnc' passwd='p' connected='keep'/>",
    ));
    let g = &d.devices.graphics;
    assert_eq!(g[0].connected, Some(GraphicsConnected::Disconnect));
    assert_eq!(g[1].connected, Some(GraphicsConnected::Keep));
    let out = d.to_xml();
    assert!(out.contains("passwd='p' connected='disconnect'"), "{out}");
    // Without the password the XML shows no password but still says it.
    let shown = d.without_secrets().to_xml();
    assert!(
        shown.contains("<graphics type='spice' connected='disconnect'"),
        "{shown}"
    );
    // libvirt reads it only beside a password (it acts on a change of it).
    let d = accept(&doc("", "<graphics type='spice' connected='fail'/>"));
    assert_eq!(d.devices.graphics[0].connected, None);
    reject(
        &doc(
            "",
            "<graphics type='vnc' passwd='p' connected='disconnect'/>",
        ),
        ModelErrorKind::Unsupported,
        "VNC supports connected='keep' only",
    );
    reject(
        &doc(
            "",
            "<graphics type='spice' passwd='p' connected='default'/>",
        ),
        ModelErrorKind::Unsupported,
        "connected",
    );
}

#[test]
fn ps2_off_takes_the_ps2_inputs_away() {
    let d = accept(&doc("<features><ps2 state='off'/></features>", ""));
    assert_eq!(d.features.ps2, Some(false));
    reject(
        &doc(
            "<features><ps2 state='off'/></features>",
            "<input type='keyboard' bus='ps2'/>",
        ),
        ModelErrorKind::Invalid,
        "no PS/2 controller",
    );
}

/// libvirt's rule: a SPICE display on an address with no port, no TLS
/// port and no autoport listens nowhere; any of them keeps the address.
#[test]
fn spice_without_any_port_listens_nowhere() {
    use qvirt::model::GraphicsListen;
    let listens = |g: &str| accept(&doc("", g)).devices.graphics[0].listens.clone();
    assert_eq!(
        listens("<graphics type='spice'/>"),
        vec![GraphicsListen::None]
    );
    assert_eq!(
        listens("<graphics type='spice' autoport='no' listen='127.0.0.1'/>"),
        vec![GraphicsListen::None]
    );
    for kept in [
        "<graphics type='spice' autoport='yes'/>",
        "<graphics type='spice' port='5903'/>",
        "<graphics type='spice' tlsPort='-1'/>",
    ] {
        assert!(
            !listens(kept).contains(&GraphicsListen::None),
            "{kept}: {:?}",
            listens(kept)
        );
    }
    let vnc = listens("<graphics type='vnc'/>");
    assert!(!vnc.contains(&GraphicsListen::None), "{vnc:?}");
}

/// `<graphics type='dbus'>` as libvirt reads it: p2p or an address (not
/// both), `<gl>`, `<audio id>` of a dbus backend; written back the same.
#[test]
fn a_dbus_display_is_read_and_written_as_libvirt_does() {
    let xml = doc(
        "",
        "<graphics type='dbus' address='unix:path=/tmp/bus'><gl enable='no'/><audio id='1'/></graphics>\
         <audio id='1' type='dbus'/>",
    );
    let d = accept(&xml);
    let db = d.devices.dbus_display.as_ref().expect("the D-Bus display");
    assert_eq!(db.address.as_deref(), Some("unix:path=/tmp/bus"));
    assert!(!db.p2p);
    assert_eq!(db.audio, Some(1));
    let again = accept(&d.to_xml());
    assert_eq!(again, d);
    assert!(
        d.to_xml()
            .contains("<graphics type='dbus' address='unix:path=/tmp/bus'>")
    );
    reject(
        &doc(
            "",
            "<graphics type='dbus' p2p='yes' address='unix:path=/tmp/bus'/>",
        ),
        ModelErrorKind::Invalid,
        "D-Bus p2p with an address is not supported",
    );
    reject(
        &doc(
            "",
            "<graphics type='dbus'><audio id='1'/></graphics><audio id='1' type='none'/>",
        ),
        ModelErrorKind::Unsupported,
        "not of 'dbus' kind",
    );
    reject(
        &doc("", "<audio id='1' type='dbus'/>"),
        ModelErrorKind::Unsupported,
        "<graphics type='dbus'>",
    );
    reject(
        &doc("", "<graphics type='dbus'/><graphics type='egl-headless'/>"),
        ModelErrorKind::Unsupported,
        "one -display",
    );
}
