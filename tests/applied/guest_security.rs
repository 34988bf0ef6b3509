//! `<launchSecurity type='sev'>` and `<smartcard>` on a running VM (or
//! the start refused before QEMU runs, naming what the host lacks).

use std::path::Path;

use qvirt::ErrorCode;
use serde_json::json;

use crate::support::{State, firmware_vm, qemus_under};

/// Whether this host could run an SEV guest, as the start checks it.
fn host_has_sev() -> bool {
    let on = std::fs::read_to_string("/sys/module/kvm_amd/parameters/sev")
        .is_ok_and(|v| matches!(v.trim(), "Y" | "y" | "1"));
    Path::new("/dev/sev").exists() && on
}

const SEV: &str = "<launchSecurity type='sev'><cbitpos>47</cbitpos><reducedPhysBits>1</reducedPhysBits><policy>0x0003</policy><dhCert>AQAA</dhCert></launchSecurity>";

/// An SEV guest on a host without SEV, or under TCG: the start is
/// refused with NoSupport naming what is missing, no QEMU runs, and the
/// definition keeps its `<launchSecurity>`.
#[test]
fn an_sev_start_is_refused_before_qemu_runs_on_a_host_without_sev() {
    assert!(
        !host_has_sev(),
        "this host has SEV (/dev/sev and kvm_amd sev=Y): this test covers the refusal on a host without it; on an SEV host an SEV guest must be started and query-sev checked instead"
    );
    let st = State::new("sev");
    let tcg = firmware_vm("sevq", "", "").replace("</domain>", &format!("{SEV}</domain>"));
    let e = st.try_start(&tcg).unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSupport, "{e}");
    assert!(e.message.contains("type='kvm'"), "{e}");
    let kvm = firmware_vm("sevk", "", "")
        .replace("<domain type='qemu'", "<domain type='kvm'")
        .replace("</domain>", &format!("{SEV}</domain>"));
    let e = st.try_start(&kvm).unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSupport, "{e}");
    let missing = if Path::new("/dev/sev").exists() {
        "kvm_amd/parameters/sev"
    } else {
        "/dev/sev"
    };
    assert!(e.message.contains(missing), "{e}");
    assert!(qemus_under(st.root()).is_empty(), "a QEMU was left: {e}");
    let d = st.driver();
    let dom = d.lookup_by_name("sevk").unwrap();
    assert_eq!(d.info(&dom).unwrap().state, qvirt::DomainState::Shutoff);
    let xml = d.xml_desc(&dom, qvirt::driver::XmlFlags::INACTIVE).unwrap();
    assert!(xml.contains("<launchSecurity type='sev'>"), "{xml}");
    assert!(xml.contains("<policy>0x0003</policy>"), "{xml}");
}

/// A passed-through smartcard on a UNIX socket: QEMU has the USB CCID
/// reader on the USB bus and the passthrough card in it, on the socket
/// QEMU listens on; the live XML shows both places.
#[test]
fn a_passthrough_smartcard_sits_in_a_usb_ccid_reader() {
    let st = State::new("smartcard");
    let sock = st.root().join("sc.sock");
    let card = format!(
        "<smartcard mode='passthrough' type='unix'><source mode='bind' path='{}'/><protocol type='raw'/></smartcard>",
        sock.display()
    );
    st.start(&firmware_vm("sc", "", &card));
    let live = st.live_xml("sc");
    assert!(
        live.contains(
            "<controller type='ccid' index='0'>\n      <address type='usb' bus='0' port='1'/>"
        ),
        "{live}"
    );
    assert!(
        live.contains("<address type='ccid' controller='0' slot='0'/>"),
        "{live}"
    );
    let mut qmp = st.qmp("sc");
    assert_eq!(qmp.qom_get("/machine/peripheral/ccid0", "type"), "usb-ccid");
    assert_eq!(
        qmp.qom_get("/machine/peripheral/smartcard0", "type"),
        "ccid-card-passthru"
    );
    assert_eq!(
        qmp.qom_get("/machine/peripheral/smartcard0", "chardev"),
        "charsmartcard0"
    );
    // The card is on the reader's bus, the reader on the USB bus.
    let bus = qmp.qom_get("/machine/peripheral/smartcard0", "parent_bus");
    assert!(bus.as_str().is_some_and(|b| b.contains("ccid0")), "{bus}");
    let usb = qmp.exec("x-query-usb", json!({}));
    assert!(
        usb["human-readable-text"]
            .as_str()
            .is_some_and(|t| t.contains("QEMU USB CCID")),
        "{usb}"
    );
    let chardevs = qmp.exec("query-chardev", json!({}));
    let ours = chardevs
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["label"] == "charsmartcard0")
        .unwrap_or_else(|| panic!("no charsmartcard0 in {chardevs}"));
    assert!(
        ours["filename"]
            .as_str()
            .is_some_and(|f| f.contains(&sock.display().to_string())),
        "{ours}"
    );
    drop(qmp);
    // QEMU listens there: a remote card reader can connect.
    std::os::unix::net::UnixStream::connect(&sock).expect("QEMU listens on the smartcard socket");
    st.stop("sc");
}

/// `mode='host'` emulates the card from the host's NSS database
/// (libcacard opens /etc/pki/nssdb): without one the start is refused
/// naming it before QEMU runs; with one, QEMU either has the card or
/// says its own reason.
#[test]
fn an_emulated_smartcard_needs_the_hosts_nss_database() {
    let st = State::new("smartcard-host");
    let xml = firmware_vm("sch", "", "<smartcard mode='host'/>");
    let db = Path::new("/etc/pki/nssdb");
    match st.try_start(&xml) {
        Err(e) if !db.is_dir() => {
            assert_eq!(e.code, ErrorCode::NoSupport, "{e}");
            assert!(e.message.contains("/etc/pki/nssdb"), "{e}");
            assert!(qemus_under(st.root()).is_empty(), "a QEMU was left: {e}");
        }
        Err(e) => {
            assert!(e.message.contains("failed to initialize vcard"), "{e}");
            assert!(qemus_under(st.root()).is_empty(), "a QEMU was left: {e}");
        }
        Ok(()) => {
            assert!(db.is_dir(), "started without {}", db.display());
            let mut qmp = st.qmp("sch");
            assert_eq!(
                qmp.qom_get("/machine/peripheral/smartcard0", "type"),
                "ccid-card-emulated"
            );
            drop(qmp);
            st.stop("sch");
        }
    }
}
