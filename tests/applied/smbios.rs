//! SMBIOS tables a start cannot give: QEMU keeps one set of type 2
//! (base board) fields, so a definition with several `<baseBoard>`s is
//! defined, as libvirt defines it, and its start refused naming why,
//! with no QEMU left behind.

use qvirt::ErrorCode;

use super::support::{State, firmware_vm, qemus_under};

#[test]
fn several_base_boards_are_refused_at_start() {
    let st = State::new("boards");
    let boards = "<sysinfo type='smbios'>
    <baseBoard><entry name='manufacturer'>Hewlett-Packard</entry></baseBoard>
    <baseBoard><entry name='manufacturer'>Lenovo</entry></baseBoard>
  </sysinfo>";
    let xml = firmware_vm("boards", boards, "")
        .replace("hvm</type>", "hvm</type><smbios mode='sysinfo'/>");
    let err = st
        .try_start(&xml)
        .expect_err("two type 2 tables cannot start");
    assert_eq!(err.code, ErrorCode::ConfigUnsupported, "{err}");
    assert!(
        err.message
            .contains("more than one entry to Type 2 in SMBIOS table"),
        "{err}"
    );
    assert!(qemus_under(st.root()).is_empty(), "no QEMU is left");
    let d = st.driver();
    let dom = d.lookup_by_name("boards").expect("the definition stays");
    assert_eq!(d.info(&dom).unwrap().state, qvirt::DomainState::Shutoff);
    st.stop("boards");
}
