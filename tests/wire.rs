//! Tests of the wire protocol (`qvirt::transport::wire`).
//!
//! - Golden bytes: every call, every procedure's reply, an error reply per
//!   code, every event and stream message, encoded by the real encoders
//!   into whole frames and compared with `tests/data/wire/golden.txt`
//!   (`name hex` per line). Reordering a variant or changing a type
//!   changes bytes and fails here. `QVIRT_REGENERATE_GOLDEN=1 cargo test
//!   --test wire` rewrites the file; review its diff like code.
//! - Each golden frame decodes back to its sample.
//! - Hostile input (the properties of the `wire_decode` fuzz target, as
//!   proptest cases): no byte string panics a decoder, arbitrary messages
//!   round-trip, an oversized length is refused before any allocation,
//!   unknown procedures and error codes decode to what the protocol says.

#[path = "wire/event_samples.rs"]
mod event_samples;
#[path = "wire/samples.rs"]
mod samples;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use qvirt::transport::types_events::{WireAddressFamily, WireGraphicsAddress, WireGraphicsPhase};
use qvirt::transport::types_events::{WireBlockJobStatus, WireIoErrorAction, WireWatchdogFired};
use qvirt::transport::wire::WireBlockJobKind;
use qvirt::transport::wire::{
    Bytes, Call, Frame, HEADER_LEN, Header, Kind, LAST_PROCEDURE, MAX_FRAME, PROTOCOL_VERSION,
    Procedure, Reply, StreamMsg, WireDomain, WireError, WireEvent, WireEventKind, WireInfo,
    WireListFilter, WireMedia, WireMediaFlags, WireNode, WireReason, WireShutdown, WireState,
    WireSummary, WireVersion, decode_event, decode_stream, encode_event, encode_stream,
};
use qvirt::{Error, ErrorCode};
use samples::{Msg, Sample};
use uuid::Uuid;

// ---------------------------------------------------------------------
// Allocation watch: the size limit must be checked before any buffer of
// the announced size exists, and only an allocator can see that.
// ---------------------------------------------------------------------

/// The system allocator, noting per thread the largest block asked for.
struct Watch;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: the slot may be gone while a thread is torn down.
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

#[allow(unsafe_code)]
// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are ours; the bookkeeping touches a
// const-initialised thread-local `Cell` and never allocates.
unsafe impl GlobalAlloc for Watch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Watch = Watch;

/// Runs `f` and returns its value with the largest allocation this thread
/// asked for meanwhile.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|l| l.set(0));
    let value = f();
    (value, LARGEST.with(|l| l.get()))
}

// ---------------------------------------------------------------------
// Golden bytes
// ---------------------------------------------------------------------

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/wire/golden.txt")
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(hex: &str) -> Vec<u8> {
    assert!(hex.len().is_multiple_of(2), "odd-length hex {hex}");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits"))
        .collect()
}

/// The golden file's lines as name -> hex, in file order.
fn read_golden() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(golden_path()).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (QVIRT_REGENERATE_GOLDEN=1 creates it)",
            golden_path().display()
        )
    });
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, hex) = l
                .split_once(' ')
                .unwrap_or_else(|| panic!("golden line without a space: {l}"));
            (name.to_string(), hex.trim().to_string())
        })
        .collect()
}

#[test]
fn golden_bytes_match() {
    let samples = samples::all();
    let actual: Vec<(String, String)> = samples
        .iter()
        .map(|s| (s.name.clone(), to_hex(&s.frame().encode())))
        .collect();
    let names: BTreeSet<&str> = actual.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), actual.len(), "sample names are unique");

    if std::env::var_os("QVIRT_REGENERATE_GOLDEN").is_some_and(|v| v == "1") {
        let mut text = String::from(
            "# Every wire message as a whole frame (length, header, body), in hex.\n\
             # Written by `QVIRT_REGENERATE_GOLDEN=1 cargo test --test wire`; a\n\
             # change here is a change of the protocol.\n",
        );
        for (name, hex) in &actual {
            text.push_str(&format!("{name} {hex}\n"));
        }
        std::fs::create_dir_all(golden_path().parent().unwrap()).unwrap();
        std::fs::write(golden_path(), text).unwrap();
        return;
    }

    let golden: BTreeMap<String, String> = read_golden().into_iter().collect();
    let mut failures = Vec::new();
    for (name, hex) in &actual {
        match golden.get(name) {
            None => failures.push(format!("{name}: no golden line (a new message?)")),
            Some(want) if want != hex => failures.push(format!(
                "{name}: encoding changed\n  golden {want}\n  now    {hex}"
            )),
            Some(_) => {}
        }
    }
    for name in golden.keys() {
        if !names.contains(name.as_str()) {
            failures.push(format!(
                "{name}: golden line has no sample (a removed message?)"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "the wire encoding differs from {} (QVIRT_REGENERATE_GOLDEN=1 rewrites it; \
         a difference breaks every peer built before):\n{}",
        golden_path().display(),
        failures.join("\n")
    );
}

/// Checks that `frame`'s body decodes to what `sample` holds.
fn check_decodes_to(sample: &Sample, frame: &Frame) {
    let name = &sample.name;
    let body = &frame.body;
    match &sample.msg {
        Msg::Call(want) => {
            assert_eq!(frame.header.kind, Kind::Call, "{name}");
            let got = Call::decode(frame.header.procedure, body)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&got, want, "{name}");
        }
        Msg::Reply(p, want) => {
            assert_eq!(frame.header.kind, Kind::Reply, "{name}");
            assert_eq!(frame.header.procedure, *p, "{name}");
            let got = Reply::decode(*p, body).unwrap_or_else(|e| panic!("{name}: {e}"));
            match (got, want) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want, "{name}"),
                (Err(got), Err((code, message))) => {
                    assert_eq!(got.code, *code, "{name}");
                    assert_eq!(&got.message, message, "{name}");
                }
                (got, want) => panic!("{name}: decoded {got:?}, expected {want:?}"),
            }
        }
        Msg::Event(want) => {
            assert_eq!(frame.header.kind, Kind::Event, "{name}");
            assert_eq!(&decode_event(body).unwrap(), want, "{name}");
        }
        Msg::Stream(want) => {
            assert_eq!(frame.header.kind, Kind::Stream, "{name}");
            assert_eq!(&decode_stream(body).unwrap(), want, "{name}");
        }
    }
}

#[test]
fn golden_frames_decode_to_their_samples() {
    let golden: BTreeMap<String, String> = read_golden().into_iter().collect();
    for sample in samples::all() {
        let Some(hex) = golden.get(&sample.name) else {
            panic!("{}: no golden line", sample.name);
        };
        let bytes = from_hex(hex);
        let (frame, used) =
            Frame::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", sample.name));
        assert_eq!(
            used,
            bytes.len(),
            "{}: the whole line is one frame",
            sample.name
        );
        assert_eq!(frame.header, sample.frame().header, "{}", sample.name);
        check_decodes_to(&sample, &frame);
        // The streaming reader agrees with the buffer decoder.
        let read = Frame::read(&mut &bytes[..]).unwrap().unwrap();
        assert_eq!(read, frame, "{}", sample.name);
    }
}

#[test]
fn every_procedure_has_one_call_sample_and_a_reply_shape() {
    let procedures: Vec<u32> = samples::calls().iter().map(|c| c.encode().0).collect();
    let expected: Vec<u32> = (1..=LAST_PROCEDURE).collect();
    assert_eq!(procedures, expected, "one call per procedure, in order");
    assert_eq!(LAST_PROCEDURE, 139);
    assert_eq!(Procedure::ALL.len(), 139);
    for p in 1..=LAST_PROCEDURE {
        let body = Reply::encode(&Ok(samples::reply_for(p)));
        let decoded = Reply::decode(p, &body).unwrap().unwrap();
        assert_eq!(decoded, samples::reply_for(p), "procedure {p}");
        assert_eq!(decoded.procedure().number(), p);
    }
    // The table's names are the sample names, written out apart from it.
    for call in samples::calls() {
        assert_eq!(call.procedure().method(), samples::call_name(&call));
    }
}

#[test]
fn frame_header_layout_is_as_documented() {
    let frame = Frame {
        header: Header {
            version: 0x0102,
            kind: Kind::Stream,
            procedure: 0x0304_0506,
            serial: 0x0708_090a,
        },
        body: vec![0xaa, 0xbb],
    };
    assert_eq!(
        frame.encode(),
        [0, 0, 0, 14, 1, 2, 3, 0, 3, 4, 5, 6, 7, 8, 9, 10, 0xaa, 0xbb]
    );
}

// ---------------------------------------------------------------------
// Limits, unknown numbers, malformed input
// ---------------------------------------------------------------------

/// A reader that yields `prefix` and then endless zeros, counting bytes.
struct Endless {
    prefix: Vec<u8>,
    served: usize,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        for b in buf.iter_mut() {
            *b = self.prefix.get(self.served).copied().unwrap_or(0);
            self.served += 1;
        }
        Ok(buf.len())
    }
}

#[test]
fn oversized_length_is_refused_before_allocating() {
    for prefix in [[0xff; 4], ((MAX_FRAME + 1) as u32).to_be_bytes()] {
        let started = Instant::now();
        let (result, largest) = largest_allocation(|| Frame::decode(&prefix));
        let err = result.expect_err("an oversized frame is refused");
        assert_eq!(err.code, ErrorCode::LimitExceeded, "{err}");
        assert!(largest < 4096, "decode allocated {largest} bytes");

        let mut reader = Endless {
            prefix: prefix.to_vec(),
            served: 0,
        };
        let (result, largest) = largest_allocation(|| Frame::read(&mut reader));
        let err = result.expect_err("an oversized frame is refused");
        assert_eq!(err.code, ErrorCode::LimitExceeded, "{err}");
        assert!(largest < 4096, "read allocated {largest} bytes");
        assert!(
            reader.served <= 4,
            "read {} bytes past the prefix",
            reader.served
        );
        // Reading or zeroing 4 GiB takes seconds; the refusal, nothing.
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    assert_eq!(
        Frame::check_len((MAX_FRAME as u32).to_be_bytes()).unwrap(),
        MAX_FRAME
    );
}

#[test]
fn frames_shorter_than_a_header_or_cut_off_are_protocol_errors() {
    for len in 0..HEADER_LEN as u32 {
        let err = Frame::check_len(len.to_be_bytes()).unwrap_err();
        assert_eq!(err.code, ErrorCode::Protocol, "{err}");
    }
    let whole = samples::all()[0].frame().encode();
    for cut in 0..whole.len() {
        let err = Frame::decode(&whole[..cut]).unwrap_err();
        assert_eq!(err.code, ErrorCode::Protocol, "cut at {cut}: {err}");
    }
    let mut bad_kind = whole.clone();
    bad_kind[6] = 9;
    assert_eq!(
        Frame::decode(&bad_kind).unwrap_err().code,
        ErrorCode::Protocol
    );
}

#[test]
fn unknown_procedure_is_no_support() {
    for p in [0, LAST_PROCEDURE + 1, 999, u32::MAX] {
        let err = Call::decode(p, &[]).unwrap_err();
        assert_eq!(err.code, ErrorCode::NoSupport, "procedure {p}: {err}");
        assert!(err.message.contains(&p.to_string()), "{err}");
        assert_eq!(
            Reply::decode(p, &[0]).unwrap_err().code,
            ErrorCode::Protocol
        );
    }
}

#[test]
fn unknown_error_code_decodes_to_unknown() {
    // Built by hand, as a newer peer would send it: Err (1), the code as a
    // varint (1000 = e8 07), the message's length and bytes.
    let mut body = vec![0x01, 0xe8, 0x07, 0x05];
    body.extend_from_slice(b"later");
    for p in 1..=LAST_PROCEDURE {
        let err = Reply::decode(p, &body).unwrap().unwrap_err();
        assert_eq!(err.code, ErrorCode::Unknown(1000));
        assert_eq!(err.message, "later");
    }
    let err = Reply::decode(
        6,
        &Reply::encode(&Err(Error::new(ErrorCode::Unknown(u32::MAX), ""))),
    )
    .unwrap()
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Unknown(u32::MAX));
}

#[test]
fn stray_bytes_and_arguments_are_refused() {
    let (p, mut body) = Call::LookupById(7).encode();
    body.push(0);
    assert_eq!(
        Call::decode(p, &body).unwrap_err().code,
        ErrorCode::Protocol
    );
    assert_eq!(Call::decode(2, &[0]).unwrap_err().code, ErrorCode::Protocol);
    let mut reply = Reply::encode(&Ok(Reply::Destroy(())));
    reply.push(0);
    assert_eq!(
        Reply::decode(14, &reply).unwrap_err().code,
        ErrorCode::Protocol
    );
}

// ---------------------------------------------------------------------
// Properties (the fuzz target's, on stable)
// ---------------------------------------------------------------------

/// Feeds `bytes` to every decoder as a frame, as a body of every
/// procedure, and as event and stream bodies; nothing may panic, and a
/// call that decodes must re-encode to itself.
fn decode_everything(bytes: &[u8]) {
    let _ = Frame::read(&mut &bytes[..]);
    let mut bodies = vec![bytes.to_vec()];
    let mut procedures: Vec<u32> = (0..=LAST_PROCEDURE + 2).collect();
    procedures.push(u32::MAX);
    if let Ok((frame, used)) = Frame::decode(bytes) {
        assert!(used <= bytes.len() && used >= 4 + HEADER_LEN);
        procedures.push(frame.header.procedure);
        bodies.push(frame.body);
    }
    for body in &bodies {
        for &p in &procedures {
            if let Ok(call) = Call::decode(p, body) {
                let (q, again) = call.encode();
                assert_eq!(q, p);
                assert_eq!(Call::decode(q, &again).unwrap(), call);
            }
            let _ = Reply::decode(p, body);
        }
        let _ = decode_event(body);
        let _ = decode_stream(body);
    }
}

/// Raw frame bytes with a consistent length and any header fields.
fn raw_frame(version: u16, kind: u8, procedure: u32, serial: u32, body: &[u8]) -> Vec<u8> {
    let mut out = ((HEADER_LEN + body.len()) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&[kind, 0]);
    out.extend_from_slice(&procedure.to_be_bytes());
    out.extend_from_slice(&serial.to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn arb_uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

fn arb_domain() -> impl Strategy<Value = WireDomain> {
    (any::<String>(), arb_uuid(), any::<Option<u32>>()).prop_map(|(name, uuid, id)| WireDomain {
        name,
        uuid,
        id,
    })
}

fn arb_call() -> impl Strategy<Value = Call> {
    let d = arb_domain;
    let bytes = || proptest::collection::vec(any::<u8>(), 0..64);
    let shutdown = (d(), any::<Option<(u64, u32)>>(), any::<bool>()).prop_map(
        |(dom, wait, destroy_on_timeout)| {
            let wait = wait.map(|(s, n)| Duration::new(s, n % 1_000_000_000));
            Call::Shutdown((
                dom,
                WireShutdown {
                    wait,
                    destroy_on_timeout,
                },
            ))
        },
    );
    prop_oneof![
        any::<u32>().prop_map(Call::Hello),
        Just(Call::Version(())),
        Just(Call::NodeInfo(())),
        Just(Call::Capabilities(())),
        (any::<bool>(), any::<bool>())
            .prop_map(|(active, inactive)| Call::List(WireListFilter { active, inactive })),
        any::<String>().prop_map(Call::LookupByName),
        arb_uuid().prop_map(Call::LookupByUuid),
        any::<u32>().prop_map(Call::LookupById),
        any::<String>().prop_map(Call::DefineXml),
        d().prop_map(Call::Undefine),
        any::<String>().prop_map(Call::CreateXml),
        d().prop_map(Call::Start),
        shutdown,
        d().prop_map(Call::Destroy),
        d().prop_map(Call::Reboot),
        d().prop_map(Call::Reset),
        d().prop_map(Call::Suspend),
        d().prop_map(Call::Resume),
        (d(), bytes()).prop_map(Call::Save),
        bytes().prop_map(Call::Restore),
        d().prop_map(Call::ManagedSave),
        d().prop_map(Call::ManagedSaveRemove),
        d().prop_map(Call::Autostart),
        (d(), any::<bool>()).prop_map(Call::SetAutostart),
        d().prop_map(Call::Info),
        (d(), any::<u32>()).prop_map(Call::XmlDesc),
        Just(Call::Events(())),
        (d(), any::<bool>()).prop_map(Call::Console),
        (d(), any::<String>(), arb_media(), any::<(bool, bool)>()).prop_map(
            |(dom, target, media, (live, config))| Call::ChangeMedia((
                dom,
                target,
                media,
                WireMediaFlags { live, config }
            ))
        ),
        d().prop_map(Call::Screenshot),
    ]
}

fn arb_media() -> impl Strategy<Value = WireMedia> {
    let bytes = || proptest::collection::vec(any::<u8>(), 0..64);
    prop_oneof![
        Just(WireMedia::Eject),
        bytes().prop_map(WireMedia::Insert),
        bytes().prop_map(WireMedia::Update),
    ]
}

fn arb_state() -> impl Strategy<Value = WireState> {
    prop_oneof![
        Just(WireState::Running),
        Just(WireState::Paused),
        Just(WireState::Shutoff),
        Just(WireState::Shutdown),
        Just(WireState::Crashed),
        Just(WireState::PmSuspended),
    ]
}

fn arb_reason() -> impl Strategy<Value = WireReason> {
    proptest::sample::select(
        event_samples::reasons()
            .into_iter()
            .map(|(_, r)| r)
            .collect::<Vec<_>>(),
    )
}

/// A procedure with a reply of its shape, or an error of any code.
fn arb_reply() -> impl Strategy<Value = (u32, Result<Reply, (u32, String)>)> {
    let info = (
        arb_state(),
        arb_reason(),
        any::<(u64, u64, u32, u64)>(),
        any::<(bool, bool, bool)>(),
    )
        .prop_map(|(state, reason, (max, cur, vcpus, cpu), (p, a, m))| {
            Reply::Info(WireInfo {
                state,
                reason,
                max_memory_kib: max,
                memory_kib: cur,
                vcpus,
                cpu_time_ns: cpu,
                persistent: p,
                autostart: a,
                managed_save: m,
            })
        });
    let summary =
        (arb_domain(), arb_state()).prop_map(|(domain, state)| WireSummary { domain, state });
    let domain_reply = |p: u32, d: WireDomain| match p {
        6 => Reply::LookupByName(d),
        7 => Reply::LookupByUuid(d),
        8 => Reply::LookupById(d),
        9 => Reply::DefineXml(d),
        11 => Reply::CreateXml(d),
        12 => Reply::Start(d),
        _ => Reply::Restore(d),
    };
    let ok = prop_oneof![
        any::<u32>().prop_map(Reply::Hello),
        (any::<String>(), any::<String>()).prop_map(|(library, hypervisor)| Reply::Version(
            WireVersion {
                library,
                hypervisor
            }
        )),
        (any::<String>(), any::<u64>(), any::<u32>(), any::<u32>()).prop_map(
            |(arch, memory_kib, cpus, mhz)| Reply::NodeInfo(WireNode {
                arch,
                memory_kib,
                cpus,
                mhz
            })
        ),
        any::<String>().prop_map(Reply::Capabilities),
        any::<String>().prop_map(Reply::XmlDesc),
        proptest::collection::vec(summary, 0..8).prop_map(Reply::List),
        (
            proptest::sample::select(vec![6u32, 7, 8, 9, 11, 12, 20]),
            arb_domain()
        )
            .prop_map(move |(p, d)| domain_reply(p, d)),
        proptest::sample::select(vec![
            Reply::Undefine(()),
            Reply::Shutdown(()),
            Reply::Destroy(()),
            Reply::Reboot(()),
            Reply::Reset(()),
            Reply::Suspend(()),
            Reply::Resume(()),
            Reply::Save(()),
            Reply::ManagedSave(()),
            Reply::ManagedSaveRemove(()),
            Reply::SetAutostart(()),
            Reply::Events(()),
            Reply::Console(()),
            Reply::ChangeMedia(()),
        ]),
        any::<bool>().prop_map(Reply::Autostart),
        info,
        proptest::collection::vec(any::<u8>(), 0..256).prop_map(|b| Reply::Screenshot(Bytes(b))),
    ];
    prop_oneof![
        ok.prop_map(|r| (r.procedure().number(), Ok(r))),
        (1..=LAST_PROCEDURE, any::<u32>(), any::<String>()).prop_map(|(p, c, m)| (p, Err((c, m)))),
    ]
}

fn arb_event() -> impl Strategy<Value = WireEvent> {
    let kind = prop_oneof![
        Just(WireEventKind::Defined),
        Just(WireEventKind::Undefined),
        arb_reason().prop_map(WireEventKind::Started),
        Just(WireEventKind::Suspended),
        Just(WireEventKind::Resumed),
        Just(WireEventKind::Shutdown),
        arb_reason().prop_map(WireEventKind::Stopped),
        Just(WireEventKind::Reset),
        (".*", any::<bool>()).prop_map(|(alias, open)| WireEventKind::TrayMoved { alias, open }),
        (".*", proptest::option::of(".*"), any::<u64>(), any::<u64>()).prop_map(
            |(dev, path, threshold, excess)| WireEventKind::BlockThreshold {
                dev,
                path,
                threshold,
                excess
            }
        ),
        (
            ".*",
            proptest::option::of(".*"),
            prop_oneof![
                Just(WireBlockJobKind::Pull),
                Just(WireBlockJobKind::ActiveCommit),
                Just(WireBlockJobKind::Copy),
            ],
            prop_oneof![
                Just(WireBlockJobStatus::Completed),
                Just(WireBlockJobStatus::Failed),
                Just(WireBlockJobStatus::Cancelled),
                Just(WireBlockJobStatus::Ready),
            ],
        )
            .prop_map(|(dev, path, kind, status)| WireEventKind::BlockJob {
                dev,
                path,
                kind,
                status
            }),
        ".*".prop_map(|alias| WireEventKind::DeviceAdded { alias }),
        ".*".prop_map(|alias| WireEventKind::DeviceRemoved { alias }),
        (
            ".*",
            proptest::option::of(".*"),
            prop_oneof![
                Just(WireIoErrorAction::None),
                Just(WireIoErrorAction::Pause),
                Just(WireIoErrorAction::Report),
            ],
            ".*",
        )
            .prop_map(|(alias, path, action, reason)| WireEventKind::IoError {
                alias,
                path,
                action,
                reason
            }),
        any::<i64>().prop_map(|offset| WireEventKind::RtcChange { offset }),
        any::<u64>().prop_map(|actual_kib| WireEventKind::BalloonChange { actual_kib }),
        any::<bool>().prop_map(|connected| WireEventKind::AgentLifecycle { connected }),
        Just(WireEventKind::MetadataChange(
            qvirt::transport::wire::WireMetadataKind::Title
        )),
        arb_reason().prop_map(WireEventKind::Paused),
        any::<u32>().prop_map(|iteration| WireEventKind::MigrationIteration { iteration }),
        (".*", any::<u64>()).prop_map(|(alias, size_kib)| {
            WireEventKind::MemoryDeviceSizeChange { alias, size_kib }
        }),
        (".*", proptest::option::of(".*"), any::<bool>()).prop_map(|(alias, old_path, dropped)| {
            WireEventKind::DiskChange {
                alias,
                old_path,
                new_path: None,
                dropped,
            }
        }),
        Just(WireEventKind::JobCompleted(
            qvirt::transport::wire::WireCompletedJob::from(qvirt::driver::CompletedJob::new(
                qvirt::driver::JobOutcome::Completed,
                qvirt::driver::JobInfo::new(qvirt::driver::JobKind::Migration),
                Some(std::time::Duration::from_millis(12)),
            ))
        )),
        proptest::collection::vec((".*", any::<u64>()), 0..3).prop_map(|p| {
            WireEventKind::Tunable(
                p.into_iter()
                    .map(|(k, n)| {
                        (
                            k,
                            qvirt::transport::types_events::WireTunableValue::Number(n),
                        )
                    })
                    .collect(),
            )
        }),
        prop_oneof![
            Just(WireWatchdogFired::None),
            Just(WireWatchdogFired::Pause),
            Just(WireWatchdogFired::Reset),
            Just(WireWatchdogFired::PowerOff),
            Just(WireWatchdogFired::Shutdown),
            Just(WireWatchdogFired::Debug),
            Just(WireWatchdogFired::InjectNmi),
        ]
        .prop_map(|action| WireEventKind::Watchdog { action }),
        (
            prop_oneof![
                Just(WireGraphicsPhase::Connect),
                Just(WireGraphicsPhase::Initialize),
                Just(WireGraphicsPhase::Disconnect),
            ],
            ".*",
            ".*",
            proptest::collection::vec((".*", ".*"), 0..3),
        )
            .prop_map(|(phase, node, auth, subject)| WireEventKind::Graphics {
                phase,
                local: WireGraphicsAddress {
                    family: WireAddressFamily::Ipv4,
                    node: node.clone(),
                    service: "5900".into(),
                },
                remote: WireGraphicsAddress {
                    family: WireAddressFamily::Unix,
                    node,
                    service: String::new(),
                },
                auth,
                subject,
            }),
    ];
    (arb_domain(), kind).prop_map(|(domain, kind)| WireEvent { domain, kind })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        decode_everything(&bytes);
    }

    #[test]
    fn any_well_framed_bytes_never_panic(
        version in any::<u16>(),
        kind in 0u8..6,
        procedure in prop_oneof![0..=LAST_PROCEDURE + 2, any::<u32>()],
        serial in any::<u32>(),
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        decode_everything(&raw_frame(version, kind, procedure, serial, &body));
    }

    #[test]
    fn mutated_sample_frames_never_panic(
        index in any::<proptest::sample::Index>(),
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let all = samples::all();
        let mut bytes = all[index.index(all.len())].frame().encode();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        decode_everything(&bytes);
    }

    #[test]
    fn calls_round_trip(call in arb_call(), serial in any::<u32>()) {
        let (procedure, body) = call.encode();
        let frame = Frame {
            header: Header { version: PROTOCOL_VERSION, kind: Kind::Call, procedure, serial },
            body,
        };
        let bytes = frame.encode();
        let (decoded, used) = Frame::decode(&bytes).unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(&decoded, &frame);
        prop_assert_eq!(Call::decode(decoded.header.procedure, &decoded.body).unwrap(), call);
        // Every strict prefix is refused, never misread.
        for cut in [0, 3, 4, bytes.len() / 2, bytes.len() - 1] {
            prop_assert!(Frame::decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn replies_round_trip((procedure, result) in arb_reply()) {
        let sent = result.clone().map_err(|(c, m)| Error::new(ErrorCode::from_number(c), m));
        let body = Reply::encode(&sent);
        match (Reply::decode(procedure, &body).unwrap(), result) {
            (Ok(got), Ok(want)) => prop_assert_eq!(got, want),
            (Err(got), Err((code, message))) => {
                prop_assert_eq!(got.code.number(), code);
                prop_assert_eq!(got.message, message);
            }
            (got, want) => prop_assert!(false, "decoded {:?}, sent {:?}", got, want),
        }
    }

    #[test]
    fn events_and_streams_round_trip(
        event in arb_event(),
        data in proptest::collection::vec(any::<u8>(), 0..128),
        end in any::<Option<(u32, String)>>(),
    ) {
        prop_assert_eq!(decode_event(&encode_event(&event)).unwrap(), event);
        let data = StreamMsg::Data(data);
        prop_assert_eq!(decode_stream(&encode_stream(&data)).unwrap(), data);
        let end = StreamMsg::End(end.map(|(code, message)| WireError { code, message }));
        prop_assert_eq!(decode_stream(&encode_stream(&end)).unwrap(), end);
    }
}
