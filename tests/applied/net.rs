//! Interface settings that reach into the host, refused before QEMU runs
//! when the host lacks what they name. The interfaces here are user
//! networking (`type='network'`, qvirt's `default`), so a refusal that
//! failed to come would start no tap on the host.

use qvirt::ErrorCode;
use qvirt::driver::{ModifyFlags, XmlFlags};

use crate::support::{self, State};

const FILTERED: &str = "<interface type='network'><mac address='52:54:00:00:0f:01'/>\
    <source network='default'/><model type='e1000'/>\
    <filterref filter='clean-traffic'><parameter name='IP' value='10.0.2.15'/></filterref>\
    </interface>";

/// `<filterref>`: qvirt has no network-filter driver, so the filter the
/// interface names is missing on this host, and the start says so before
/// QEMU runs, naming it (as libvirt does on a host without that filter).
/// The definition keeps it as written, so it stays usable elsewhere; a
/// hot-plugged interface with one is refused the same way.
#[test]
fn an_interface_with_a_network_filter_needs_that_filter() {
    let st = State::new("nwfilter");
    let e = st
        .try_start(&support::firmware_vm("nwf", "", FILTERED))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSupport, "{e}");
    assert!(
        e.message.contains("network filter 'clean-traffic'")
            && e.message.contains("missing")
            && e.message.contains("52:54:00:00:0f:01"),
        "{e}"
    );
    assert!(
        support::qemus_under(st.root()).is_empty(),
        "a QEMU was left"
    );
    let d = st.driver();
    let dom = d.lookup_by_name("nwf").unwrap();
    let xml = d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap();
    assert!(
        xml.contains("<filterref filter='clean-traffic'>")
            && xml.contains("<parameter name='IP' value='10.0.2.15'/>"),
        "{xml}"
    );
    drop(d);

    // Plugged into a running domain: refused too, and the domain is as
    // it was.
    st.start(&support::firmware_vm(
        "nwf-plug",
        "<features><acpi/></features>",
        "",
    ));
    let d = st.driver();
    let dom = d.lookup_by_name("nwf-plug").unwrap();
    let e = d
        .attach_device(&dom, FILTERED, ModifyFlags::LIVE)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSupport, "{e}");
    assert!(e.message.contains("network filter 'clean-traffic'"), "{e}");
    let live = d.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(!live.contains("<interface"), "{live}");
    drop(d);
    st.stop("nwf-plug");
}
