//! SMBIOS tables a start cannot give: QEMU keeps one set of type 2
//! (base board) fields, so a definition with several `<baseBoard>`s is
//! defined, as libvirt defines it, and its start refused naming why,
//! with no QEMU left behind.

use qvirt::ErrorCode;

use super::inguest::Shell;
use super::support::{State, firmware_vm, linux_vm, qemus_under};

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

/// Why: QEMU given a second `-smbios type=2` (here through
/// `<qemu:commandline>`) builds one base board table, the last one's, as
/// the Linux guest's DMI entries show. When QEMU learns to build several,
/// this fails, and the refusal above can go.
#[test]
fn qemu_builds_one_base_board_table_from_two() {
    let st = State::new("oneboard");
    let xml = linux_vm(
        "oneboard",
        128,
        "<sysinfo type='smbios'>
    <baseBoard><entry name='manufacturer'>First</entry></baseBoard>
  </sysinfo>
  <qemu:commandline>
    <qemu:arg value='-smbios'/>
    <qemu:arg value='type=2,manufacturer=Second'/>
  </qemu:commandline>",
        "<memballoon model='none'/>",
    )
    .replace(
        "<domain type='qemu'>",
        "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>",
    )
    .replace("hvm</type>", "hvm</type><smbios mode='sysinfo'/>");
    st.start(&xml);
    let d = st.driver();
    let mut sh = Shell::open(&*d, "oneboard");
    let boards = sh.run("ls /sys/firmware/dmi/entries | grep '^2-'");
    assert_eq!(boards, "2-0", "one type 2 table");
    assert_eq!(sh.run("cat /sys/class/dmi/id/board_vendor"), "Second");
    drop(sh);
    drop(d);
    st.stop("oneboard");
}
