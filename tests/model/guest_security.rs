//! `<launchSecurity>`, `<perf>` and `<smartcard>`: libvirt 9.0's rules,
//! the round trip, and libvirt's schema on what qvirt writes.

use qvirt::model::*;

use crate::{accept, doc, reject, scratch_dir, xmllint_validate};

use ModelErrorKind::{Invalid, Unsupported};

/// A `<launchSecurity>` with `inner` and `attrs`.
fn sev(attrs: &str, inner: &str) -> String {
    doc("", "").replace(
        "</devices>\n",
        &format!("</devices>\n  <launchSecurity type='sev'{attrs}>{inner}</launchSecurity>\n"),
    )
}

const PLATFORM: &str = "<cbitpos>47</cbitpos><reducedPhysBits>1</reducedPhysBits>";

#[test]
fn sev_is_read_written_and_schema_valid() {
    let xml = sev(
        " kernelHashes='yes'",
        &format!("{PLATFORM}<policy>0x0033</policy><dhCert>AQAA</dhCert><session>IHAV</session>"),
    );
    let d = accept(&xml);
    let Some(LaunchSecurity::Sev(s)) = &d.launch_security else {
        panic!("no SEV in {d:?}");
    };
    assert_eq!((s.cbitpos, s.reduced_phys_bits, s.policy), (47, 1, 0x33));
    assert_eq!(s.dh_cert.as_deref(), Some("AQAA"));
    assert_eq!(s.session.as_deref(), Some("IHAV"));
    assert_eq!(s.kernel_hashes, Some(true));
    let out = d.to_xml();
    assert!(out.contains("<policy>0x0033</policy>"), "{out}");
    assert!(out.contains("kernelHashes='yes'"), "{out}");
    // libvirt reads the policy in base 16 with or without 0x, and an
    // empty dhCert or session as absent.
    let d = accept(&sev(
        " kernelHashes='no'",
        &format!("{PLATFORM}<policy>7</policy><dhCert></dhCert><session/>"),
    ));
    let Some(LaunchSecurity::Sev(s)) = &d.launch_security else {
        panic!("no SEV");
    };
    assert_eq!((s.policy, s.kernel_hashes), (7, Some(false)));
    assert_eq!((s.dh_cert.as_deref(), s.session.as_deref()), (None, None));
    assert!(d.to_xml().contains("<policy>0x0007</policy>"));
    let dir = scratch_dir("sev");
    let file = dir.join("sev.xml");
    std::fs::write(&file, accept(&xml).to_xml()).unwrap();
    xmllint_validate(&[file]);
}

#[test]
fn sev_rules() {
    reject(
        &sev("", PLATFORM),
        Invalid,
        "failed to get launch security policy",
    );
    reject(
        &sev("", &format!("{PLATFORM}<policy>0xzz</policy>")),
        Invalid,
        "hexadecimal",
    );
    reject(
        &sev("", &format!("{PLATFORM}<policy>0x100000000</policy>")),
        Invalid,
        "32-bit",
    );
    reject(
        &sev("", "<reducedPhysBits>1</reducedPhysBits><policy>1</policy>"),
        Unsupported,
        "without <cbitpos>",
    );
    reject(
        &sev("", "<cbitpos>47</cbitpos><policy>1</policy>"),
        Unsupported,
        "without <reducedPhysBits>",
    );
    reject(
        &sev(
            "",
            &format!("{PLATFORM}<cbitpos>47</cbitpos><policy>1</policy>"),
        ),
        Invalid,
        "given more than once",
    );
    reject(
        &sev(
            " kernelHashes='maybe'",
            &format!("{PLATFORM}<policy>1</policy>"),
        ),
        Invalid,
        "kernelHashes",
    );
    reject(
        &sev(
            "",
            &format!("{PLATFORM}<policy>1</policy><handle>1</handle>"),
        ),
        Unsupported,
        "unsupported element <handle> in <launchSecurity>",
    );
    for other in ["s390-pv", "sev-snp", "tdx"] {
        let xml = doc("", "").replace(
            "</devices>\n",
            &format!("</devices>\n  <launchSecurity type='{other}'/>\n"),
        );
        reject(
            &xml,
            Unsupported,
            &format!("unsupported value '{other}' for attribute type on <launchSecurity> at 7:"),
        );
    }
}

fn perf(events: &str) -> String {
    doc(&format!("<perf>{events}</perf>"), "")
}

#[test]
fn perf_events_off_are_kept_and_on_are_refused_by_name() {
    let d = accept(&perf(
        "<event name='page_faults' enabled='no'/><event name='cmt' enabled='no'/>",
    ));
    // Written in libvirt's order.
    assert_eq!(
        d.perf.iter().map(|p| p.name).collect::<Vec<_>>(),
        [PerfEventName::Cmt, PerfEventName::PageFaults]
    );
    assert!(d.perf.iter().all(|p| !p.enabled));
    let out = d.to_xml();
    assert!(
        out.contains("<perf>\n    <event name='cmt' enabled='no'/>\n    <event name='page_faults' enabled='no'/>\n  </perf>"),
        "{out}"
    );
    assert!(!accept(&perf("")).to_xml().contains("<perf"));
    for name in PerfEventName::ALL {
        accept(&perf(&format!(
            "<event name='{}' enabled='no'/>",
            name.as_str()
        )));
    }
    reject(
        &perf("<event name='task_clock' enabled='yes'/>"),
        Unsupported,
        "unsupported value 'yes' for attribute enabled on <perf><event> at 5:",
    );
    reject(
        &perf("<event name='task_clock' enabled='yes'/>"),
        Unsupported,
        "perf.task_clock",
    );
    reject(
        &perf("<event name='bogus' enabled='no'/>"),
        Unsupported,
        "'bogus'",
    );
    reject(
        &perf("<event name='cmt'/>"),
        Invalid,
        "missing attribute enabled",
    );
    reject(
        &perf("<event name='cmt' enabled='no'/><event name='cmt' enabled='no'/>"),
        Invalid,
        "perf event 'cmt' was already specified",
    );
    let dir = scratch_dir("perf");
    let file = dir.join("perf.xml");
    std::fs::write(
        &file,
        accept(&perf("<event name='cpu_cycles' enabled='no'/>")).to_xml(),
    )
    .unwrap();
    xmllint_validate(&[file]);
}

#[test]
fn smartcards_of_every_mode_round_trip_and_are_schema_valid() {
    let cards = [
        "<smartcard mode='host'/>",
        "<smartcard mode='host'><address type='ccid' controller='0' slot='0'/></smartcard>",
        "<smartcard mode='host-certificates'><certificate>cert1</certificate><certificate>c&amp;2</certificate><certificate>cert3</certificate></smartcard>",
        "<smartcard mode='host-certificates'><certificate>a</certificate><certificate>b</certificate><certificate>c</certificate><database>/srv/nssdb</database></smartcard>",
        "<smartcard mode='passthrough' type='unix'><source mode='bind' path='/tmp/sc.sock'/><protocol type='raw'/></smartcard>",
        "<smartcard mode='passthrough' type='tcp'><source mode='connect' host='127.0.0.1' service='2001'><reconnect enabled='yes' timeout='3'/></source><protocol type='telnet'/></smartcard>",
        "<smartcard mode='passthrough' type='spicevmc'/>",
        "<smartcard mode='passthrough' type='pty'/>",
        "<controller type='ccid' index='0'><address type='usb' bus='0' port='2'/></controller><smartcard mode='host'/>",
    ];
    let dir = scratch_dir("smartcards");
    let mut files = Vec::new();
    for (i, c) in cards.iter().enumerate() {
        let d = accept(&doc("", c));
        assert_eq!(d.devices.smartcards.len(), 1, "{c}");
        let file = dir.join(format!("sc{i}.xml"));
        std::fs::write(&file, d.to_xml()).unwrap();
        files.push(file);
    }
    let d = accept(&doc("", cards[3]));
    let SmartcardMode::HostCertificates {
        certificates,
        database,
    } = &d.devices.smartcards[0].mode
    else {
        panic!("{d:?}");
    };
    assert_eq!(certificates, &["a", "b", "c"].map(String::from));
    assert_eq!(database.as_deref(), Some("/srv/nssdb"));
    let d = accept(&doc("", cards[4]));
    assert_eq!(
        d.devices.smartcards[0].mode,
        SmartcardMode::Passthrough(CharSource::Unix {
            path: Some("/tmp/sc.sock".into()),
            listen: true,
            reconnect: None,
        })
    );
    let d = accept(&doc("", cards[8]));
    assert_eq!(d.devices.ccid_controllers.len(), 1);
    assert!(d.to_xml().contains("<controller type='ccid' index='0'>"));
    xmllint_validate(&files);
}

#[test]
fn smartcard_rules() {
    let certs = |n: usize| {
        format!(
            "<smartcard mode='host-certificates'>{}</smartcard>",
            "<certificate>c</certificate>".repeat(n)
        )
    };
    reject(&doc("", &certs(2)), Invalid, "exactly three certificates");
    reject(&doc("", &certs(4)), Invalid, "has 4");
    reject(
        &doc(
            "",
            "<smartcard mode='host-certificates'><certificate>a</certificate><certificate>b</certificate><certificate>c</certificate><database>nssdb</database></smartcard>",
        ),
        Invalid,
        "expecting absolute path",
    );
    reject(
        &doc(
            "",
            "<smartcard mode='host-certificates'><certificate></certificate><certificate>b</certificate><certificate>c</certificate></smartcard>",
        ),
        Invalid,
        "empty",
    );
    reject(
        &doc("", "<smartcard mode='passthrough'/>"),
        Invalid,
        "requires a character device type attribute",
    );
    reject(
        &doc("", "<smartcard mode='passthrough' type='spiceport'/>"),
        Unsupported,
        "unsupported value 'spiceport' for attribute type on <devices><smartcard>",
    );
    reject(
        &doc(
            "",
            "<smartcard mode='passthrough' type='unix'><source mode='bind' path='/s'/><protocol type='telnet'/></smartcard>",
        ),
        Unsupported,
        "telnet",
    );
    reject(
        &doc(
            "",
            "<smartcard mode='passthrough' type='unix'><source mode='bind'/></smartcard>",
        ),
        Invalid,
        "missing <source path=...>",
    );
    reject(
        &doc("", "<smartcard mode='remote'/>"),
        Unsupported,
        "'remote'",
    );
    reject(
        &doc("", "<smartcard mode='host' type='unix'/>"),
        Unsupported,
        "unsupported attribute type on <devices><smartcard>",
    );
    reject(
        &doc(
            "",
            "<smartcard mode='host'><certificate>a</certificate></smartcard>",
        ),
        Unsupported,
        "unsupported element <certificate> in <smartcard>",
    );
    reject(
        &doc(
            "",
            "<smartcard mode='host'><address type='usb' bus='0' port='1'/></smartcard>",
        ),
        Unsupported,
        "a smartcard takes only a 'ccid' address",
    );
    // libvirt 9.0 (qemu_validate.c): one card, in slot 0 of reader 0.
    reject(
        &doc("", "<smartcard mode='host'/><smartcard mode='host'/>"),
        Unsupported,
        "only one <smartcard>",
    );
    reject(
        &doc(
            "",
            "<smartcard mode='host'><address type='ccid' controller='0' slot='1'/></smartcard>",
        ),
        Unsupported,
        "slot 0 of CCID controller 0",
    );
    reject(
        &doc(
            "",
            "<controller type='ccid' index='1'/><controller type='ccid' index='1'/>",
        ),
        Invalid,
        "Multiple 'ccid' controllers with index '1'",
    );
    reject(
        &doc(
            "",
            "<controller type='ccid'><address type='pci' domain='0' bus='0' slot='5' function='0'/></controller>",
        ),
        Invalid,
        "takes only a 'usb' address",
    );
    reject(
        &doc("", "<controller type='ccid' model='x'/>"),
        Unsupported,
        "unsupported attribute model on <devices><controller>",
    );
    reject(
        &doc(
            "",
            "<controller type='usb' model='none'/><smartcard mode='host'/>",
        ),
        Invalid,
        "USB is disabled",
    );
    // Two readers without an index are numbered 0 and 1.
    let d = accept(&doc(
        "",
        "<controller type='ccid'/><controller type='ccid'/>",
    ));
    assert_eq!(
        d.devices
            .ccid_controllers
            .iter()
            .map(|c| c.index)
            .collect::<Vec<_>>(),
        [0, 1]
    );
}
