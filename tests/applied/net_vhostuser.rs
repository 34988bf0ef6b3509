//! `<interface type='vhostuser'>` in client mode with `<reconnect>`:
//! QEMU starts while its backend's socket is absent, tries again, and
//! its NIC connects once the backend listens. The backend here answers
//! just enough of the vhost-user protocol for QEMU to set up its side.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Duration;

use serde_json::json;

use crate::support::{self, State};

/// `VIRTIO_F_VERSION_1` and `VHOST_USER_F_PROTOCOL_FEATURES`.
const FEATURES: u64 = (1 << 32) | (1 << 30);
/// The reply flag and protocol version 1 of a message header.
const REPLY_FLAGS: u32 = 0x4 | 0x1;

/// The reply to vhost-user request `request` with body `body`, for the
/// requests QEMU waits for an answer to; `None` for the others.
fn reply(request: u32, body: &[u8]) -> Option<Vec<u8>> {
    match request {
        // GET_FEATURES.
        1 => Some(FEATURES.to_le_bytes().to_vec()),
        // GET_VRING_BASE: the ring's index, at position 0.
        11 => Some([body.get(..4).unwrap_or(&[0; 4]), &[0; 4]].concat()),
        // GET_PROTOCOL_FEATURES: none.
        15 => Some(0u64.to_le_bytes().to_vec()),
        // GET_QUEUE_NUM: one queue pair.
        17 => Some(1u64.to_le_bytes().to_vec()),
        _ => None,
    }
}

/// Serves one vhost-user connection until QEMU closes it (or is quiet
/// for 30 seconds, as when the test failed before stopping it); the
/// requests it made, in order.
fn serve(mut s: UnixStream) -> Vec<u32> {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut seen = Vec::new();
    loop {
        let mut head = [0u8; 12];
        if s.read_exact(&mut head).is_err() {
            return seen;
        }
        let word = |i: usize| u32::from_le_bytes(head[i..i + 4].try_into().unwrap());
        let (request, size) = (word(0), word(8) as usize);
        let mut body = vec![0u8; size];
        if s.read_exact(&mut body).is_err() {
            return seen;
        }
        seen.push(request);
        if let Some(payload) = reply(request, &body) {
            let mut msg = Vec::new();
            msg.extend(request.to_le_bytes());
            msg.extend(REPLY_FLAGS.to_le_bytes());
            msg.extend((payload.len() as u32).to_le_bytes());
            msg.extend(payload);
            if s.write_all(&msg).is_err() {
                return seen;
            }
        }
    }
}

#[test]
fn a_vhostuser_client_with_reconnect_connects_once_its_backend_listens() {
    let st = State::new("vhu-reconnect");
    let sock = st.root().join("vhu0.sock");
    // No boot ROM: the firmware leaves the NIC alone, so that the
    // backend never has to run its queues.
    let xml = support::firmware_vm(
        "vhur",
        "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>",
        &format!(
            "<interface type='vhostuser'><mac address='52:54:00:00:1b:01'/>\
             <source type='unix' path='{}' mode='client'>\
             <reconnect enabled='yes' timeout='1'/></source>\
             <model type='virtio'/><rom enabled='no'/></interface>",
            sock.display()
        ),
    );
    let log = st.root().join("log/qemu/vhur.log");
    let requests = std::thread::scope(|s| {
        let start = s.spawn(|| st.try_start(&xml));
        // QEMU tried the socket while nobody listened on it, and waits.
        support::poll(
            "QEMU to try the absent backend",
            Duration::from_secs(120),
            || {
                std::fs::read_to_string(&log)
                    .ok()
                    .filter(|t| t.contains("Unable to connect character device charnet0"))
            },
        );
        assert!(
            !start.is_finished(),
            "the start waits for the backend: {:?}",
            std::fs::read_to_string(&log)
        );
        let listener = UnixListener::bind(&sock).unwrap();
        listener.set_nonblocking(true).unwrap();
        let backend = s.spawn(move || {
            let (conn, _) = support::poll("QEMU to connect", Duration::from_secs(120), || {
                listener.accept().ok()
            });
            conn.set_nonblocking(false).unwrap();
            serve(conn)
        });
        start
            .join()
            .unwrap()
            .unwrap_or_else(|e| panic!("start: {e}"));
        let mut qmp = st.qmp("vhur");
        let chardevs = qmp.exec("query-chardev", json!({}));
        let net = chardevs
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["label"] == "charnet0")
            .unwrap_or_else(|| panic!("no charnet0: {chardevs}"))
            .clone();
        // A client's socket is `disconnected:unix:PATH` until it
        // connects, then `unix:` and its peer.
        assert!(
            net["filename"]
                .as_str()
                .is_some_and(|f| f.starts_with("unix:")),
            "connected: {net}"
        );
        assert_eq!(net["frontend-open"], true, "{net}");
        assert_eq!(qmp.exec("query-status", json!({}))["status"], "running");
        drop(qmp);
        assert!(
            st.live_xml("vhur")
                .contains("<reconnect enabled='yes' timeout='1'/>")
        );
        st.stop("vhur");
        backend.join().unwrap()
    });
    // The backend was asked for its features: QEMU's vhost-user side
    // was set up over the connection.
    assert!(requests.contains(&1), "requests: {requests:?}");
}
