//! `<features>` that change the running machine without a device of
//! their own on the guest's buses: `<vmcoreinfo>` (QEMU's vmcoreinfo
//! device in the device tree) and `<kvm><dirty-ring>` (KVM's dirty ring,
//! which QEMU's dirty-ring rate measurement needs: it works with the
//! ring and is refused without it, by QEMU and by the driver).

use std::time::Duration;

use qvirt::driver::DirtyRateMode;
use serde_json::json;

use crate::support::{Qmp, State, firmware_vm, poll};

/// The QOM types of the devices QEMU holds without an id.
fn anonymous_devices(qmp: &mut Qmp) -> Vec<String> {
    let list = qmp.exec("qom-list", json!({"path": "/machine/peripheral-anon"}));
    list.as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["type"].as_str())
        .filter_map(|t| t.strip_prefix("child<")?.strip_suffix('>'))
        .map(str::to_string)
        .collect()
}

#[test]
fn vmcoreinfo_is_a_device_of_the_running_machine() {
    let st = State::new("vmcoreinfo");
    st.start(&firmware_vm(
        "vci",
        "<features><acpi/><vmcoreinfo state='on'/></features>",
        "",
    ));
    st.start(&firmware_vm(
        "novci",
        "<features><acpi/><vmcoreinfo state='off'/></features>",
        "",
    ));
    assert!(
        anonymous_devices(&mut st.qmp("vci")).contains(&"vmcoreinfo".to_string()),
        "state='on' makes the device"
    );
    assert!(
        !anonymous_devices(&mut st.qmp("novci")).contains(&"vmcoreinfo".to_string()),
        "state='off' makes none"
    );
    st.stop("vci");
    st.stop("novci");
}

/// Starts a dirty-rate measurement of `mode` on `name` through the
/// driver and waits for QEMU's figure; the mode QEMU measured in.
fn measured_mode(st: &State, name: &str, mode: DirtyRateMode) -> String {
    let d = st.driver();
    let dom = d.lookup_by_name(name).unwrap();
    d.dirty_rate_calc(&dom, 1, mode).unwrap();
    // The monitor serves one client: the driver's goes first.
    drop(d);
    let mut qmp = st.qmp(name);
    let done = poll("a measured dirty rate", Duration::from_secs(20), || {
        let r = qmp.exec("query-dirty-rate", json!({}));
        (r["status"] == "measured").then_some(r)
    });
    done["mode"].as_str().unwrap().to_string()
}

#[test]
fn the_dirty_ring_is_kvms_and_measures_dirty_pages() {
    let st = State::new("dirtyring");
    let ring = "<features><acpi/><kvm><dirty-ring state='on' size='4096'/></kvm></features>";
    // Under TCG there is no ring to give: refused by name at start.
    let e = st.try_start(&firmware_vm("tcgring", ring, "")).unwrap_err();
    assert!(e.message.contains("dirty-ring"), "{e}");
    let kvm =
        |name: &str, top: &str| firmware_vm(name, top, "").replacen("type='qemu'", "type='kvm'", 1);
    if !std::path::Path::new("/dev/kvm").exists() {
        let e = st.try_start(&kvm("ring", ring)).unwrap_err();
        assert!(e.message.contains("KVM"), "{e}");
        st.stop("tcgring");
        return;
    }
    st.start(&kvm("ring", ring));
    st.start(&kvm("noring", "<features><acpi/></features>"));
    assert_eq!(
        measured_mode(&st, "ring", DirtyRateMode::DirtyRing),
        "dirty-ring"
    );
    // Without the ring QEMU refuses the mode, and so does the driver,
    // with libvirt's words.
    let e = st.qmp("noring").try_exec(
        "calc-dirty-rate",
        json!({"calc-time": 1, "mode": "dirty-ring"}),
    );
    assert!(e.is_err(), "QEMU measured a ring it does not have: {e:?}");
    let d = st.driver();
    let dom = d.lookup_by_name("noring").unwrap();
    let e = d
        .dirty_rate_calc(&dom, 1, DirtyRateMode::DirtyRing)
        .unwrap_err();
    assert!(
        e.message.contains("requires dirty-ring feature enabled"),
        "{e}"
    );
    drop(d);
    st.stop("ring");
    st.stop("noring");
    st.stop("tcgring");
}
