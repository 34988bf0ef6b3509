//! Attributes libvirt 9.0 reads on elements qvirt already knows: an
//! audio backend's `timerPeriod`, ... as libvirt reads, checks and
//! writes them back.

use qvirt::model::ModelErrorKind;

use crate::{accept, doc, reject, xmllint_validate};

#[test]
fn audio_timer_period_reads_and_writes_back() {
    let d = accept(&doc(
        "",
        "<audio id='1' type='none' timerPeriod='50000'/>\
         <audio id='2' type='file' path='/tmp/a.wav' timerPeriod='1'/>",
    ));
    assert_eq!(d.devices.audios[0].timer_period, Some(50000));
    assert_eq!(d.devices.audios[1].timer_period, Some(1));
    assert!(d.to_xml().contains("timerPeriod='50000'"));
    // libvirt reads it as a non-zero unsigned number.
    for bad in ["0", "-1", "fast"] {
        reject(
            &doc(
                "",
                &format!("<audio id='1' type='none' timerPeriod='{bad}'/>"),
            ),
            ModelErrorKind::Invalid,
            "timerPeriod",
        );
    }
    let dir = crate::scratch_dir("small-attrs-schema");
    let f = dir.join("audio.xml");
    std::fs::write(&f, d.to_xml()).unwrap();
    xmllint_validate(&[f]);
}
