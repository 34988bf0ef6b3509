//! USB redirection over a socket (`<redirdev type='unix|tcp'>`) and its
//! `<redirfilter>`: QEMU speaks usbredir on the socket (its hello names
//! it, whether it connected to the test or the test to it), and each
//! redirection device holds the filter the rules make.

use std::io::Read;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::Duration;

use super::support::{State, firmware_vm, poll};

/// What QEMU's usbredir side says first on `s`.
fn hello(mut s: UnixStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut buf = vec![0u8; 256];
    let mut got = 0;
    while got < 12 + 64 {
        match s.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => panic!("reading usbredir's hello: {e}"),
        }
    }
    String::from_utf8_lossy(&buf[..got]).into_owned()
}

fn connect(path: &Path) -> UnixStream {
    poll("QEMU's usbredir socket", Duration::from_secs(30), || {
        UnixStream::connect(path).ok()
    })
}

#[test]
fn usb_redirection_over_sockets_with_a_filter() {
    let st = State::new("usbredir");
    let theirs = st.root().join("redir-client.sock");
    let ours = st.root().join("redir-server.sock");
    let server = UnixListener::bind(&ours).unwrap();
    st.start(&firmware_vm(
        "r",
        "",
        &format!(
            "<controller type='usb' model='qemu-xhci'/>
    <redirdev bus='usb' type='unix'><source mode='connect' path='{}'/></redirdev>
    <redirdev bus='usb' type='unix'><source mode='bind' path='{}'/></redirdev>
    <redirfilter>
      <usbdev class='0x08' vendor='0x15E1' product='0x2007' version='1.10' allow='yes'/>
      <usbdev allow='no'/>
    </redirfilter>",
            ours.display(),
            theirs.display()
        ),
    ));
    // QEMU connected to the test's socket, and listens on its own.
    let (conn, _) = server.accept().unwrap();
    let said = hello(conn);
    assert!(said.contains("qemu usb-redir guest"), "{said:?}");
    let said = hello(connect(&theirs));
    assert!(said.contains("qemu usb-redir guest"), "{said:?}");
    let mut qmp = st.qmp("r");
    for dev in ["redir0", "redir1"] {
        let filter = qmp.qom_get(&format!("/machine/peripheral/{dev}"), "filter");
        assert_eq!(filter, "0x08:0x15E1:0x2007:0x0110:1|-1:-1:-1:-1:0", "{dev}");
    }
    drop(qmp);
    let live = st.live_xml("r");
    assert!(
        live.contains(
            "<usbdev class='0x08' vendor='0x15E1' product='0x2007' version='1.10' allow='yes'/>"
        ),
        "{live}"
    );
    assert!(
        live.contains(&format!(
            "<source mode='bind' path='{}'/>",
            theirs.display()
        )),
        "{live}"
    );
    st.stop("r");
}
