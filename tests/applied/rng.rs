//! `<rng>` backends on the running QEMU: EGD daemons reached over a TCP
//! and a UNIX socket the test listens on (QEMU connects to both), and
//! QEMU's built-in generator, each an object the virtio-rng device uses.

use std::time::Duration;

use serde_json::json;

use crate::support::{State, firmware_vm, listeners, poll};

#[test]
fn egd_and_builtin_rng_backends_feed_virtio_rng_devices() {
    let st = State::new("rng");
    let path = st.root().join("egd.sock");
    let (unix, tcp, port) = listeners(&path);
    st.start(&firmware_vm(
        "rng",
        "",
        &format!(
            "<rng model='virtio'><backend model='egd' type='tcp'>\
             <source mode='connect' host='127.0.0.1' service='{port}'/><protocol type='raw'/></backend></rng>\
             <rng model='virtio'><backend model='egd' type='unix'>\
             <source mode='connect' path='{}'/></backend></rng>\
             <rng model='virtio'><backend model='builtin'/></rng>",
            path.display()
        ),
    ));
    let wait = Duration::from_secs(30);
    poll("QEMU to connect to the TCP EGD", wait, || tcp.accept().ok());
    poll("QEMU to connect to the UNIX EGD", wait, || {
        unix.accept().ok()
    });
    let mut qmp = st.qmp("rng");
    let objects = qmp.exec("qom-list", json!({"path": "/objects"}));
    for (n, kind) in [(0, "rng-egd"), (1, "rng-egd"), (2, "rng-builtin")] {
        let obj = format!("objrng{n}");
        assert!(
            objects
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["name"] == obj && o["type"] == format!("child<{kind}>")),
            "{obj} is a {kind}: {objects}"
        );
        assert_eq!(
            qmp.qom_get(&format!("/machine/peripheral/rng{n}"), "rng"),
            format!("/objects/{obj}")
        );
    }
    for n in [0, 1] {
        assert_eq!(
            qmp.qom_get(&format!("/objects/objrng{n}"), "chardev"),
            format!("charrng{n}")
        );
    }
    drop(qmp);
    st.stop("rng");
}
