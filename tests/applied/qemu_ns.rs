//! libvirt's `qemu:` namespace on a running domain: `<qemu:deprecation>`
//! makes QEMU's monitor refuse (or abort on) what its schema marks
//! deprecated, and qvirt's own start sequence still runs under it.

use serde_json::{Value, json};

use super::support::{Qmp, State, firmware_vm, poll, qemus_under};

/// A firmware-only VM with `<qemu:deprecation behavior=...>`, or none.
fn vm(name: &str, behavior: Option<&str>) -> String {
    let top = behavior
        .map(|b| format!("<qemu:deprecation behavior='{b}'/>"))
        .unwrap_or_default();
    firmware_vm(name, &top, "")
}

/// The error of a deprecated command (`nbd-server-add`, deprecated
/// since QEMU 5.2) and of a deprecated argument (`eject`'s `device`,
/// since 7.2): each names no existing device, so without the policy
/// QEMU runs it and fails on the device.
fn deprecated_calls(qmp: &mut Qmp) -> [Value; 2] {
    let refused = |r: Result<Value, Value>| r.expect_err("a call naming no device fails");
    [
        refused(qmp.try_exec("nbd-server-add", json!({"device": "nothing"}))),
        refused(qmp.try_exec("eject", json!({"device": "nothing"}))),
    ]
}

/// `reject`: QEMU refuses the deprecated command and argument by
/// policy, where a domain without the element runs them (and fails on
/// the device they name); the domain was started and runs.
#[test]
fn deprecation_reject_refuses_deprecated_monitor_input() {
    let st = State::new("deprecation");
    st.start(&vm("strict", Some("reject")));
    st.start(&vm("lenient", None));
    let strict = deprecated_calls(&mut st.qmp("strict"));
    assert_eq!(strict[0]["class"], "CommandNotFound", "{}", strict[0]);
    assert!(
        strict[0]["desc"]
            .as_str()
            .unwrap()
            .contains("Deprecated command nbd-server-add disabled by policy"),
        "{}",
        strict[0]
    );
    assert!(
        strict[1]["desc"]
            .as_str()
            .unwrap()
            .contains("Deprecated parameter device disabled by policy"),
        "{}",
        strict[1]
    );
    let lenient = deprecated_calls(&mut st.qmp("lenient"));
    // Without the element each call runs and fails on the missing device.
    for e in &lenient {
        let desc = e["desc"].as_str().unwrap();
        assert!(
            desc.contains("'nothing'") && !desc.contains("policy"),
            "{e}"
        );
    }
    let status = st.qmp("strict").exec("query-status", json!({}));
    assert_eq!(status["status"], "running", "{status}");
    st.stop("strict");
    st.stop("lenient");
}

/// `crash`: a deprecated command makes QEMU abort, and the manager then
/// finds the domain shut off.
#[test]
fn deprecation_crash_aborts_qemu_on_deprecated_input() {
    let st = State::new("depcrash");
    st.start(&vm("fragile", Some("crash")));
    let pid = st.qemu_pid("fragile");
    let mut qmp = st.qmp("fragile");
    assert_eq!(qmp.exec("query-status", json!({}))["status"], "running");
    qmp.send("nbd-server-add", json!({"device": "nothing"}));
    poll(
        "QEMU to abort on the deprecated command",
        std::time::Duration::from_secs(60),
        || (!qemus_under(st.root()).contains(&pid)).then_some(()),
    );
    drop(qmp);
    let d = st.driver();
    let dom = d.lookup_by_name("fragile").unwrap();
    assert_eq!(d.info(&dom).unwrap().state, qvirt::DomainState::Shutoff);
    st.stop("fragile");
}
