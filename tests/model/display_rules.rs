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
