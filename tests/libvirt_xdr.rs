//! Tests of qvirt's codec of libvirt's RPC protocol
//! (`qvirt::transport::libvirt`), without a daemon.
//!
//! - A real session: `tests/data/xdr/libvirtd-9.0.txt` holds every
//!   message virsh and python3-libvirt 9.0 exchanged with a real libvirtd
//!   9.0 over a session of the calls qvirt serves (recorded by
//!   `scripts/libvirt-capture.sh`). Each call, reply, error and event of a
//!   procedure qvirt knows decodes, and encodes back to the very same
//!   bytes: qvirt reads what libvirt writes and writes what libvirt reads.
//! - Golden bytes: one sample of every procedure's call and reply, errors,
//!   events, keepalive and stream messages, encoded into whole messages and
//!   compared with `tests/data/xdr/golden.txt` (`QVIRT_REGENERATE_GOLDEN=1
//!   cargo test --test libvirt_xdr` rewrites it; review the diff).
//! - Hostile input (the properties of the `xdr_decode` fuzz target, as
//!   proptest cases): no bytes panic a decoder, values round-trip, and a
//!   huge count or length allocates nothing.

#[path = "libvirt_xdr/samples.rs"]
mod samples;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use proptest::prelude::*;
use qvirt::ErrorCode;
use qvirt::transport::libvirt::frame::{
    self, HEADER_LEN, Header, KEEPALIVE_PROGRAM, LEN_LEN, MAX_MESSAGE, REMOTE_PROGRAM, RemoteError,
    Status, Type,
};
use qvirt::transport::libvirt::procedures::{Call, Procedure, Reply};
use qvirt::transport::libvirt::types::{
    AgentLifecycleMsg, BalloonChangeMsg, BlockJobMsg, BlockThresholdMsg, DeviceMsg, DiskChangeMsg,
    Dom, GraphicsMsg, IoErrorMsg, IoErrorReasonMsg, JobCompletedMsg, LifecycleMsg,
    MemoryDeviceSizeMsg, MetadataChangeMsg, MigrationIterationMsg, PmMsg, RebootMsg, RtcChangeMsg,
    TrayChangeMsg, TunableMsg, WatchdogMsg,
};
use qvirt::transport::libvirt::xdr::{Chars, from_bytes, to_bytes};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/xdr")
        .join(name)
}

fn from_hex(hex: &str) -> Vec<u8> {
    assert!(hex.len().is_multiple_of(2), "odd-length hex");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits"))
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The recorded messages of `file`: (from the client?, whole message).
fn recorded(file: &str) -> Vec<(bool, Vec<u8>)> {
    let text = std::fs::read_to_string(data(file))
        .unwrap_or_else(|e| panic!("tests/data/xdr/{file} (scripts/libvirt-*capture.sh): {e}"));
    text.lines()
        .filter_map(|l| {
            let (tag, hex) = l.split_once(' ')?;
            match tag {
                "c" => Some((true, from_hex(hex))),
                "d" => Some((false, from_hex(hex))),
                _ => None,
            }
        })
        .collect()
}

/// A message as header and body, checking its length word.
fn split(msg: &[u8]) -> (Header, &[u8]) {
    let len = frame::check_len(msg[..4].try_into().unwrap(), MAX_MESSAGE).expect("length");
    assert_eq!(len, msg.len(), "the length word counts the whole message");
    let h = Header::parse(&msg[LEN_LEN..]).expect("a header");
    (h, &msg[LEN_LEN + HEADER_LEN..])
}

#[test]
fn a_real_libvirt_session_decodes_and_encodes_back_byte_for_byte() {
    let messages = recorded("libvirtd-9.0.txt");
    assert!(messages.len() > 500, "the recording holds a whole session");
    let mut calls = BTreeSet::new();
    let mut replies = BTreeSet::new();
    let (mut errors, mut events, mut keepalives, mut streams) = (0, 0, 0, 0);
    let mut unknown = BTreeMap::new();
    for (from_client, msg) in &messages {
        let (h, body) = split(msg);
        // The header re-encodes as it came.
        assert_eq!(frame::message(&h, body), *msg, "header of {h:?} re-encodes");
        if h.prog == KEEPALIVE_PROGRAM {
            assert!(body.is_empty());
            assert_eq!(frame::keepalive(h.proc), *msg, "keepalive {}", h.proc);
            keepalives += 1;
            continue;
        }
        assert_eq!(h.prog, REMOTE_PROGRAM);
        match (h.kind, h.status, from_client) {
            (Type::Call, Status::Ok, true) => match Call::decode(h.proc, body) {
                Ok(call) => {
                    let (proc, again) = call.encode();
                    assert_eq!(proc, h.proc);
                    assert_eq!(
                        again,
                        body,
                        "call {}",
                        Procedure::from_number(proc).unwrap().name()
                    );
                    calls.insert(h.proc);
                }
                Err(e) => {
                    assert_eq!(e.code, ErrorCode::NoSupport, "{e}");
                    *unknown.entry(h.proc).or_insert(0) += 1;
                }
            },
            (Type::Reply, Status::Ok, false) => {
                if Procedure::from_number(h.proc).is_some() {
                    let reply = Reply::decode(h.proc, body)
                        .unwrap_or_else(|e| panic!("reply to {}: {e}", h.proc));
                    assert_eq!(reply.encode(), body, "reply to {:?}", reply.procedure());
                    replies.insert(h.proc);
                }
            }
            (Type::Reply | Type::Stream, Status::Error, false) => {
                let e = RemoteError::decode(body).expect("an error body");
                assert_eq!(e.encode(), body, "error {e:?}");
                errors += 1;
            }
            (Type::Message, Status::Ok, false) => {
                match h.proc {
                    318 => {
                        let m: LifecycleMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    319 => {
                        let m: RebootMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    328 => {
                        let m: TrayChangeMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    385 => {
                        let m: BlockThresholdMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    326 | 339 => {
                        let m: BlockJobMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    333 | 354 => {
                        let m: DeviceMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    322 => {
                        let m: IoErrorMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    320 => {
                        let m: RtcChangeMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    331 => {
                        let m: BalloonChangeMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    348 => {
                        let m: AgentLifecycleMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    379 => {
                        let m: MetadataChangeMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    324 => {
                        let m: IoErrorReasonMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    321 => {
                        let m: WatchdogMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    327 => {
                        let m: DiskChangeMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    438 => {
                        let m: MemoryDeviceSizeMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    363 => {
                        let m: JobCompletedMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    359 => {
                        let m: MigrationIterationMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    346 => {
                        let m: TunableMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    323 => {
                        let m: GraphicsMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    329 | 330 | 332 => {
                        let m: PmMsg = from_bytes(body, "event").unwrap();
                        assert_eq!(to_bytes(&m), body);
                    }
                    p => panic!("an event qvirt does not know: {p}"),
                }
                events += 1;
            }
            (Type::Stream, _, _) => streams += 1,
            other => panic!("unexpected message {other:?}"),
        }
    }
    // The session covers the calls virsh and python3-libvirt make for the
    // verbs of the issue, each read and written back by qvirt's codec.
    for p in [
        1, 2, 66, 60, 3, 4, 6, 7, 9, 11, 12, 14, 15, 16, 19, 22, 23, 24, 28, 29, 33, 34, 35, 54,
        55, 59, 122, 150, 151, 157, 174, 182, 183, 196, 211, 212, 231, 245, 273, 316, 317, 360,
        361, 426,
    ] {
        let name = Procedure::from_number(p).map_or(p.to_string(), |x| x.name());
        assert!(calls.contains(&p), "no call of {name} in the session");
    }
    assert!(replies.len() > 40, "{replies:?}");
    assert!(errors > 0 && events > 10 && keepalives > 0 && streams > 0);
    // What the clients asked that qvirt does not serve, for the record:
    // each gets VIR_ERR_NO_SUPPORT naming it.
    eprintln!("procedures qvirt does not serve, asked in the session: {unknown:?}");
}

/// The storage calls of a real session (python3-libvirt and virsh with
/// libvirtd 9.0, `scripts/libvirt-storage-capture.sh`): every call, reply
/// and error decodes and encodes back to the very same bytes, and every
/// storage procedure qvirt serves is among them.
#[test]
fn a_real_storage_session_decodes_and_encodes_back_byte_for_byte() {
    let messages = recorded("libvirtd-9.0-storage.txt");
    let (mut calls, mut replies, mut errors) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for (from_client, msg) in &messages {
        let (h, body) = split(msg);
        if h.prog != REMOTE_PROGRAM {
            continue;
        }
        let Some(p) = Procedure::from_number(h.proc) else {
            continue;
        };
        match (h.kind, h.status, from_client) {
            (Type::Call, Status::Ok, true) => {
                let call = Call::decode(h.proc, body).unwrap_or_else(|e| panic!("{p:?}: {e}"));
                assert_eq!(call.encode().1, body, "call {p:?}");
                calls.insert(h.proc);
            }
            (Type::Reply, Status::Ok, false) => {
                let reply = Reply::decode(h.proc, body).unwrap_or_else(|e| panic!("{p:?}: {e}"));
                assert_eq!(reply.encode(), body, "reply to {p:?}");
                replies.insert(h.proc);
            }
            (Type::Reply, Status::Error, false) => {
                let e = RemoteError::decode(body).expect("an error body");
                assert_eq!(e.encode(), body, "error {e:?}");
                errors.insert(e.code);
            }
            other => panic!("unexpected message {other:?}"),
        }
    }
    let storage = [
        71, 72, 73, 74, 77, 78, 79, 80, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96,
        97, 98, 99, 100, 125, 154, 155, 260, 281, 282, 378,
    ];
    for p in storage {
        let name = Procedure::from_number(p).unwrap().name();
        assert!(calls.contains(&p), "no call of {name} in the session");
        assert!(replies.contains(&p), "no reply to {name} in the session");
    }
    // libvirt's "not found" of a pool and of a volume.
    assert!(errors.contains(&49) && errors.contains(&50), "{errors:?}");
}

/// The memory, vCPU and statistics calls of a real session (virsh and
/// python3-libvirt with libvirtd 9.0 and a running domain,
/// `scripts/libvirt-resources-capture.sh`): every call, reply and error
/// decodes and encodes back to the very same bytes (libvirtd's statistics
/// hold fields qvirt does not send, read all the same), and every such
/// procedure qvirt serves is among them, both ways.
#[test]
fn a_real_resources_session_decodes_and_encodes_back_byte_for_byte() {
    let messages = recorded("libvirtd-9.0-resources.txt");
    let (mut calls, mut replies, mut errors) = (BTreeSet::new(), BTreeSet::new(), 0);
    for (from_client, msg) in &messages {
        let (h, body) = split(msg);
        if h.prog != REMOTE_PROGRAM {
            continue;
        }
        let Some(p) = Procedure::from_number(h.proc) else {
            continue;
        };
        match (h.kind, h.status, from_client) {
            (Type::Call, Status::Ok, true) => {
                let call = Call::decode(h.proc, body).unwrap_or_else(|e| panic!("{p:?}: {e}"));
                assert_eq!(call.encode().1, body, "call {p:?}");
                calls.insert(h.proc);
            }
            (Type::Reply, Status::Ok, false) => {
                let reply = Reply::decode(h.proc, body).unwrap_or_else(|e| panic!("{p:?}: {e}"));
                assert_eq!(reply.encode(), body, "reply to {p:?}");
                replies.insert(h.proc);
            }
            (Type::Reply, Status::Error, false) => {
                let e = RemoteError::decode(body).expect("an error body");
                assert_eq!(e.encode(), body, "error {e:?}");
                errors += 1;
            }
            (Type::Message, Status::Ok, false) => {}
            other => panic!("unexpected message {other:?}"),
        }
    }
    for p in [
        18, 20, 30, 31, 32, 64, 65, 102, 159, 199, 200, 204, 227, 228, 229, 230, 243, 262, 280,
        293, 308, 344,
    ] {
        let name = Procedure::from_number(p).unwrap().name();
        assert!(calls.contains(&p), "no call of {name} in the session");
        // libvirtd refuses SET_MAX_MEMORY on a running domain.
        if p != 30 {
            assert!(replies.contains(&p), "no reply to {name} in the session");
        }
    }
    assert!(errors > 0, "the session holds refusals too");
}

// ---------------------------------------------------------------------
// Golden bytes of qvirt's own samples.
// ---------------------------------------------------------------------

#[test]
fn golden_bytes_match() {
    let path = data("golden.txt");
    let actual: Vec<(String, String)> = samples::all()
        .into_iter()
        .map(|(name, msg)| (name, to_hex(&msg)))
        .collect();
    let names: BTreeSet<&str> = actual.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), actual.len(), "sample names are unique");
    if std::env::var_os("QVIRT_REGENERATE_GOLDEN").is_some_and(|v| v == "1") {
        let mut text = String::from(
            "# Every libvirt message qvirt sends or reads, as a whole message\n\
             # (length word, header, body) in hex. Written by\n\
             # `QVIRT_REGENERATE_GOLDEN=1 cargo test --test libvirt_xdr`.\n",
        );
        for (name, hex) in &actual {
            text.push_str(&format!("{name} {hex}\n"));
        }
        std::fs::write(&path, text).unwrap();
        return;
    }
    let text = std::fs::read_to_string(&path).expect("tests/data/xdr/golden.txt");
    let golden: BTreeMap<&str, &str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_once(' ').expect("name hex"))
        .collect();
    let mut failures = Vec::new();
    for (name, hex) in &actual {
        match golden.get(name.as_str()) {
            None => failures.push(format!("{name}: no golden line")),
            Some(want) if want != hex => {
                failures.push(format!("{name}:\n  golden {want}\n  now    {hex}"))
            }
            Some(_) => {}
        }
    }
    for name in golden.keys() {
        if !names.contains(name) {
            failures.push(format!("{name}: golden line without a sample"));
        }
    }
    assert!(
        failures.is_empty(),
        "the encoding differs from {}:\n{}",
        path.display(),
        failures.join("\n")
    );
}

#[test]
fn every_golden_sample_decodes_back() {
    for (name, msg) in samples::all() {
        let (h, body) = split(&msg);
        match (h.prog, h.kind, h.status) {
            (KEEPALIVE_PROGRAM, ..) => assert!(body.is_empty()),
            (_, Type::Call, _) => {
                let call = Call::decode(h.proc, body).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(call.encode().1, body, "{name}");
            }
            (_, Type::Reply, Status::Ok) => {
                let r = Reply::decode(h.proc, body).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(r.encode(), body, "{name}");
            }
            (_, _, Status::Error) => {
                let e = RemoteError::decode(body).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(e.encode(), body, "{name}");
            }
            _ => {}
        }
    }
}

#[test]
fn the_layout_quirks_are_libvirts() {
    // A domain: a counted, padded name, 16 bytes of UUID with no count,
    // and the id as a signed word (-1 while shut off).
    let dom = Dom {
        name: "ab".into(),
        uuid: uuid::Uuid::from_bytes([7; 16]),
        id: -1,
    };
    let mut want = vec![0, 0, 0, 2, b'a', b'b', 0, 0];
    want.extend([7; 16]);
    want.extend([0xff; 4]);
    assert_eq!(to_bytes(&dom), want);
    // `char model[32]`: 32 words, one per character.
    let model: Chars<32, true> = Chars("x86_64".into());
    let bytes = to_bytes(&model);
    assert_eq!(bytes.len(), 32 * 4);
    assert_eq!(&bytes[..8], &[0, 0, 0, b'x', 0, 0, 0, b'8']);
    // An optional string: a 1 word, then the string.
    assert_eq!(
        to_bytes(&Some("q".to_string())),
        [0, 0, 0, 1, 0, 0, 0, 1, b'q', 0, 0, 0]
    );
    assert_eq!(to_bytes(&None::<String>), [0, 0, 0, 0]);
    // A domain's info: the state as an unsigned char and the vCPUs as an
    // unsigned short, each in a whole word.
    let info = qvirt::transport::libvirt::types::InfoRet {
        state: 1,
        max_mem: 2,
        memory: 3,
        nr_virt_cpu: 4,
        cpu_time: 5,
    };
    assert_eq!(
        to_bytes(&info),
        [
            0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0, 0,
            0, 0, 5
        ]
    );
}

#[test]
fn a_secret_and_its_value_are_laid_out_as_libvirts() {
    use qvirt::transport::libvirt::types::{SecretHandle, SecretValue, SecretValueRet};
    // `remote_nonnull_secret`: 16 bytes of UUID with no count, the usage
    // type as a signed word, the usage ID as a counted, padded string.
    let h = SecretHandle {
        uuid: uuid::Uuid::from_bytes([9; 16]),
        usage_type: 2,
        usage_id: "c".into(),
    };
    let mut want = vec![9; 16];
    want.extend([0, 0, 0, 2, 0, 0, 0, 1, b'c', 0, 0, 0]);
    assert_eq!(to_bytes(&h), want);
    // `opaque value<REMOTE_SECRET_VALUE_MAX>`: counted and padded, a NUL
    // inside kept; one byte over 64 KiB does not decode.
    let v = SecretValueRet {
        value: SecretValue(vec![b'a', 0, b'b']),
    };
    assert_eq!(to_bytes(&v), [0, 0, 0, 3, b'a', 0, b'b', 0]);
    let mut over = (65_537u32).to_be_bytes().to_vec();
    over.extend(vec![0; 65_540]);
    let e = from_bytes::<SecretValueRet>(&over, "value").unwrap_err();
    assert_eq!(e.code, ErrorCode::Protocol);
    let mut max = (65_536u32).to_be_bytes().to_vec();
    max.extend(vec![7; 65_536]);
    assert_eq!(
        from_bytes::<SecretValueRet>(&max, "value")
            .unwrap()
            .value
            .0
            .len(),
        65_536
    );
}

// ---------------------------------------------------------------------
// Hostile input.
// ---------------------------------------------------------------------

fn every_number() -> impl Strategy<Value = i32> {
    prop_oneof![
        proptest::sample::select(
            Procedure::ALL
                .iter()
                .map(|p| p.number())
                .collect::<Vec<_>>()
        ),
        any::<i32>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// No bytes panic a decoder; a call that decodes re-encodes to what
    /// decodes to the same call.
    #[test]
    fn decoders_never_panic(proc in every_number(), body in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(call) = Call::decode(proc, &body) {
            let (p, again) = call.encode();
            prop_assert_eq!(Call::decode(p, &again).unwrap(), call);
        }
        if let Ok(reply) = Reply::decode(proc, &body) {
            prop_assert_eq!(Reply::decode(proc, &reply.encode()).unwrap(), reply);
        }
        let _ = RemoteError::decode(&body);
        let _ = Header::parse(&body);
        let _ = from_bytes::<LifecycleMsg>(&body, "event");
        let _ = from_bytes::<TrayChangeMsg>(&body, "event");
        let _ = from_bytes::<BlockThresholdMsg>(&body, "event");
        let _ = from_bytes::<BlockJobMsg>(&body, "event");
        let _ = from_bytes::<DeviceMsg>(&body, "event");
        let _ = from_bytes::<IoErrorReasonMsg>(&body, "event");
        let _ = from_bytes::<RtcChangeMsg>(&body, "event");
        let _ = from_bytes::<MetadataChangeMsg>(&body, "event");
        let _ = from_bytes::<WatchdogMsg>(&body, "event");
        let _ = from_bytes::<PmMsg>(&body, "event");
        let _ = from_bytes::<GraphicsMsg>(&body, "event");
        let _ = from_bytes::<TunableMsg>(&body, "event");
        let _ = from_bytes::<MigrationIterationMsg>(&body, "event");
        let _ = from_bytes::<JobCompletedMsg>(&body, "event");
        let _ = from_bytes::<MemoryDeviceSizeMsg>(&body, "event");
        let _ = from_bytes::<DiskChangeMsg>(&body, "event");
    }

    /// Values round-trip through the codec, whatever their text.
    #[test]
    fn domains_round_trip(name in ".{0,40}", id in any::<i32>(), uuid in any::<[u8; 16]>()) {
        let dom = Dom { name, uuid: uuid::Uuid::from_bytes(uuid), id };
        prop_assert_eq!(from_bytes::<Dom>(&to_bytes(&dom), "dom").unwrap(), dom);
    }

    /// A count or length past the bytes that follow is refused before
    /// anything is reserved for it.
    #[test]
    fn huge_counts_are_refused(n in 1u32.., tail in proptest::collection::vec(any::<u8>(), 0..16)) {
        let mut body = n.to_be_bytes().to_vec();
        body.extend(&tail);
        prop_assume!(n as usize * 4 > tail.len());
        prop_assert!(from_bytes::<Vec<Dom>>(&body, "list").is_err());
        prop_assert!(from_bytes::<String>(&body, "string").is_err() || (n as usize) <= tail.len());
    }
}

#[test]
fn an_oversized_length_word_is_refused() {
    let e = frame::check_len([0x7f, 0xff, 0xff, 0xff], MAX_MESSAGE).unwrap_err();
    assert_eq!(e.code, ErrorCode::LimitExceeded);
    assert!(frame::check_len([0, 0, 0, 27], MAX_MESSAGE).is_err());
    // A frame cut off in its header.
    assert!(Header::parse(&[0; 23]).is_err());
    // An unknown message type or status.
    let mut h = frame::message(&Header::remote(1, Type::Call, 0, Status::Ok), &[]);
    h[19] = 9;
    assert!(Header::parse(&h[4..]).is_err());
}

#[test]
fn a_decoded_call_needs_every_byte() {
    let (p, mut body) =
        Call::DomainLookupByName(qvirt::transport::libvirt::types::NameArgs { name: "x".into() })
            .encode();
    body.extend([0, 0, 0, 0]);
    let e = Call::decode(p, &body).unwrap_err();
    assert_eq!(e.code, ErrorCode::Protocol);
    assert!(e.message.contains("stray"), "{}", e.message);
}

#[test]
fn the_qemu_programs_commands_are_laid_out_as_libvirts() {
    use qvirt::transport::libvirt::types::{
        AgentCommandArgs, AgentCommandRet, MonitorCommandArgs, MonitorCommandRet,
    };
    let dom = || Dom {
        name: "vm".into(),
        uuid: uuid::Uuid::from_bytes([5; 16]),
        id: 3,
    };
    let mut dom_bytes = vec![0, 0, 0, 2, b'v', b'm', 0, 0];
    dom_bytes.extend([5; 16]);
    dom_bytes.extend([0, 0, 0, 3]);
    // `qemu_domain_monitor_command_args`: the domain, the command, flags.
    let m = MonitorCommandArgs {
        dom: dom(),
        cmd: "{}".into(),
        flags: 1,
    };
    let mut want = dom_bytes.clone();
    want.extend([0, 0, 0, 2, b'{', b'}', 0, 0, 0, 0, 0, 1]);
    assert_eq!(to_bytes(&m), want);
    // `..._ret`: a non-null string.
    let r = MonitorCommandRet {
        result: "ok".into(),
    };
    assert_eq!(to_bytes(&r), [0, 0, 0, 2, b'o', b'k', 0, 0]);
    // `qemu_domain_agent_command_args`: the domain, the command, the
    // timeout as a signed word (-1: the default), flags.
    let a = AgentCommandArgs {
        dom: dom(),
        cmd: "{}".into(),
        timeout: -1,
        flags: 0,
    };
    let mut want = dom_bytes;
    want.extend([0, 0, 0, 2, b'{', b'}', 0, 0]);
    want.extend([0xff; 4]);
    want.extend([0; 4]);
    assert_eq!(to_bytes(&a), want);
    assert_eq!(
        qvirt::transport::libvirt::xdr::from_bytes::<AgentCommandArgs>(&to_bytes(&a), "args")
            .unwrap()
            .timeout,
        -1
    );
    // `..._ret`: an optional string (`remote_string`).
    let r = AgentCommandRet {
        result: Some("x".into()),
    };
    assert_eq!(to_bytes(&r), [0, 0, 0, 1, 0, 0, 0, 1, b'x', 0, 0, 0]);
    assert_eq!(to_bytes(&AgentCommandRet { result: None }), [0, 0, 0, 0]);
}
