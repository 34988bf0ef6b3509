//! One sample of every message the wire carries: each call, each
//! procedure's successful reply, an error reply per code, each event kind
//! and reason, and each stream message. The golden file holds their
//! encodings, so the lists below must name every variant: the exhaustive
//! matches make a new variant a compile error here until it has a sample.

use std::time::Duration;

use qvirt::driver::{
    Domain, DomainInfo, DomainState, DomainSummary, Event, EventKind, ListFilter, MediaFlags,
    NodeInfo, ShutdownOptions, StateReason, VersionInfo,
};
use qvirt::transport::wire::{
    Call, Frame, Header, Kind, PROTOCOL_VERSION, Reply, StreamMsg, WireError, WireMedia,
    encode_event, encode_stream,
};
use qvirt::{Error, ErrorCode};
use uuid::Uuid;

/// What a sample frame carries.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A call.
    Call(Call),
    /// The reply to `procedure`: a payload or an error's (code, message).
    Reply(u32, Result<Reply, (ErrorCode, String)>),
    /// An event of the subscription opened by procedure 27.
    Event(Event),
    /// Console data of the console opened by procedure 28.
    Stream(StreamMsg),
}

/// One named message with the serial its frame carries.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The name of its golden line.
    pub name: String,
    /// The header serial.
    pub serial: u32,
    /// The message.
    pub msg: Msg,
}

impl Sample {
    /// The frame the real encoders make of this sample.
    pub fn frame(&self) -> Frame {
        let (kind, procedure, body) = match &self.msg {
            Msg::Call(c) => {
                let (p, body) = c.encode();
                (Kind::Call, p, body)
            }
            Msg::Reply(p, r) => {
                let r = r.clone().map_err(|(code, m)| Error::new(code, m));
                (Kind::Reply, *p, Reply::encode(&r))
            }
            Msg::Event(e) => (Kind::Event, 27, encode_event(e)),
            Msg::Stream(s) => (Kind::Stream, 28, encode_stream(s)),
        };
        Frame {
            header: Header {
                version: PROTOCOL_VERSION,
                kind,
                procedure,
                serial: self.serial,
            },
            body,
        }
    }
}

/// The UUID every sample domain has.
pub fn sample_uuid() -> Uuid {
    Uuid::from_u128(0x6d1c_3f2e_a4b5_4c6d_8e7f_0123_4567_89ab)
}

/// A running sample domain.
pub fn running() -> Domain {
    Domain {
        name: "alpha".into(),
        uuid: sample_uuid(),
        id: Some(7),
    }
}

/// The same domain shut off.
pub fn shut_off() -> Domain {
    Domain {
        id: None,
        ..running()
    }
}

/// A firmware-only domain's XML.
pub const XML: &str = "<domain type='qemu'><name>alpha</name><memory unit='MiB'>32</memory>\
<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>\
<devices><memballoon model='none'/></devices></domain>";

/// The save file path the samples use.
const SAVE_PATH: &[u8] = b"/var/tmp/alpha.save";

/// One call per procedure, in procedure order.
pub fn calls() -> Vec<Call> {
    let d = running;
    let off = shut_off;
    vec![
        Call::Hello(u32::from(PROTOCOL_VERSION)),
        Call::Version,
        Call::NodeInfo,
        Call::Capabilities,
        Call::List(ListFilter {
            active: true,
            inactive: false,
        }),
        Call::LookupByName("alpha".into()),
        Call::LookupByUuid(sample_uuid()),
        Call::LookupById(7),
        Call::DefineXml(XML.into()),
        Call::Undefine(off()),
        Call::CreateXml(XML.into()),
        Call::Start(off()),
        Call::Shutdown(
            d(),
            ShutdownOptions {
                wait: Some(Duration::new(5, 250_000_000)),
                destroy_on_timeout: true,
            },
        ),
        Call::Destroy(d()),
        Call::Reboot(d()),
        Call::Reset(d()),
        Call::Suspend(d()),
        Call::Resume(d()),
        Call::Save(d(), SAVE_PATH.to_vec()),
        Call::Restore(SAVE_PATH.to_vec()),
        Call::ManagedSave(d()),
        Call::ManagedSaveRemove(off()),
        Call::Autostart(off()),
        Call::SetAutostart(off(), true),
        Call::Info(d()),
        Call::XmlDesc(d(), true),
        Call::Events,
        Call::Console(d(), false),
        Call::ChangeMedia(
            d(),
            "hdc".into(),
            WireMedia::Insert(b"/var/tmp/install.iso".to_vec()),
            MediaFlags {
                live: true,
                config: false,
            },
        ),
        Call::Screenshot(d()),
    ]
}

/// The snake-case name of a call's procedure. Exhaustive on purpose: a
/// new call does not compile here until it has a sample.
pub fn call_name(call: &Call) -> &'static str {
    match call {
        Call::Hello(_) => "hello",
        Call::Version => "version",
        Call::NodeInfo => "node_info",
        Call::Capabilities => "capabilities",
        Call::List(_) => "list",
        Call::LookupByName(_) => "lookup_by_name",
        Call::LookupByUuid(_) => "lookup_by_uuid",
        Call::LookupById(_) => "lookup_by_id",
        Call::DefineXml(_) => "define_xml",
        Call::Undefine(_) => "undefine",
        Call::CreateXml(_) => "create_xml",
        Call::Start(_) => "start",
        Call::Shutdown(..) => "shutdown",
        Call::Destroy(_) => "destroy",
        Call::Reboot(_) => "reboot",
        Call::Reset(_) => "reset",
        Call::Suspend(_) => "suspend",
        Call::Resume(_) => "resume",
        Call::Save(..) => "save",
        Call::Restore(_) => "restore",
        Call::ManagedSave(_) => "managed_save",
        Call::ManagedSaveRemove(_) => "managed_save_remove",
        Call::Autostart(_) => "autostart",
        Call::SetAutostart(..) => "set_autostart",
        Call::Info(_) => "info",
        Call::XmlDesc(..) => "xml_desc",
        Call::Events => "events",
        Call::Console(..) => "console",
        Call::ChangeMedia(..) => "change_media",
        Call::Screenshot(_) => "screenshot",
    }
}

/// Every domain state, one summary each. Exhaustive on purpose.
fn summaries() -> Vec<DomainSummary> {
    let all = [
        DomainState::Running,
        DomainState::Paused,
        DomainState::Shutoff,
        DomainState::Shutdown,
        DomainState::Crashed,
        DomainState::PmSuspended,
    ];
    // Exhaustive, so a new state needs a sample before this compiles.
    for s in all {
        match s {
            DomainState::Running
            | DomainState::Paused
            | DomainState::Shutoff
            | DomainState::Shutdown
            | DomainState::Crashed
            | DomainState::PmSuspended => {}
        }
    }
    all.iter()
        .enumerate()
        .map(|(i, &state)| DomainSummary {
            domain: Domain {
                name: format!("dom-{i}"),
                uuid: Uuid::from_u128(0x1000 + i as u128),
                id: (state != DomainState::Shutoff).then_some(i as u32 + 1),
            },
            state,
        })
        .collect()
}

/// The successful reply to `procedure`, of the shape the protocol fixes
/// for it (written out here, apart from the implementation's table).
pub fn reply_for(procedure: u32) -> Reply {
    match procedure {
        1 => Reply::Hello(u32::from(PROTOCOL_VERSION)),
        2 => Reply::Version(VersionInfo {
            library: "0.1.0".into(),
            hypervisor: "QEMU 7.2.0".into(),
        }),
        3 => Reply::Node(NodeInfo {
            arch: "x86_64".into(),
            memory_kib: 16 * 1024 * 1024,
            cpus: 8,
            mhz: 2400,
        }),
        4 => Reply::Text("<capabilities><host/></capabilities>".into()),
        5 => Reply::Domains(summaries()),
        6..=9 | 11 | 12 | 20 => Reply::Domain(running()),
        10 | 13..=19 | 21 | 22 | 24 | 27..=29 => Reply::Unit,
        23 => Reply::Bool(true),
        25 => Reply::Info(DomainInfo {
            state: DomainState::Paused,
            reason: StateReason::User,
            max_memory_kib: 32768,
            memory_kib: 16384,
            vcpus: 2,
            cpu_time_ns: 1_234_567_890_123,
            persistent: true,
            autostart: false,
            managed_save: true,
        }),
        26 => Reply::Text(XML.into()),
        // A PNG's signature, then bytes of every size class.
        30 => Reply::Bytes(b"\x89PNG\r\n\x1a\n\x00\x7f\x80\xff".to_vec()),
        n => panic!("no procedure {n}"),
    }
}

/// The name of a reply payload's variant. Exhaustive on purpose.
pub fn reply_shape(reply: &Reply) -> &'static str {
    match reply {
        Reply::Unit => "unit",
        Reply::Hello(_) => "hello",
        Reply::Version(_) => "version",
        Reply::Node(_) => "node",
        Reply::Text(_) => "text",
        Reply::Domains(_) => "domains",
        Reply::Domain(_) => "domain",
        Reply::Bool(_) => "bool",
        Reply::Info(_) => "info",
        Reply::Bytes(_) => "bytes",
    }
}

/// Every error code this build knows, plus one it does not.
pub fn error_codes() -> Vec<ErrorCode> {
    let codes = vec![
        ErrorCode::Internal,
        ErrorCode::InvalidArgument,
        ErrorCode::InvalidXml,
        ErrorCode::ConfigUnsupported,
        ErrorCode::ConfigInvalid,
        ErrorCode::NoDomain,
        ErrorCode::DomainExists,
        ErrorCode::OperationInvalid,
        ErrorCode::OperationDenied,
        ErrorCode::OperationFailed,
        ErrorCode::QemuFailed,
        ErrorCode::Io,
        ErrorCode::Protocol,
        ErrorCode::Timeout,
        ErrorCode::NoSupport,
        ErrorCode::LimitExceeded,
        ErrorCode::ResourceBusy,
        ErrorCode::OperationAborted,
        ErrorCode::Unknown(4242),
    ];
    // Exhaustive, so a new code needs a sample before this compiles.
    for c in &codes {
        match c {
            ErrorCode::Internal
            | ErrorCode::InvalidArgument
            | ErrorCode::InvalidXml
            | ErrorCode::ConfigUnsupported
            | ErrorCode::ConfigInvalid
            | ErrorCode::NoDomain
            | ErrorCode::DomainExists
            | ErrorCode::OperationInvalid
            | ErrorCode::OperationDenied
            | ErrorCode::OperationFailed
            | ErrorCode::QemuFailed
            | ErrorCode::Io
            | ErrorCode::Protocol
            | ErrorCode::Timeout
            | ErrorCode::NoSupport
            | ErrorCode::LimitExceeded
            | ErrorCode::ResourceBusy
            | ErrorCode::OperationAborted
            | ErrorCode::Unknown(_) => {}
        }
    }
    codes
}

/// Every event kind, with every reason for the two that carry one.
pub fn event_kinds() -> Vec<(String, EventKind)> {
    let mut kinds = Vec::new();
    for kind in [
        EventKind::Defined,
        EventKind::Undefined,
        EventKind::Started(StateReason::Booted),
        EventKind::Suspended,
        EventKind::Resumed,
        EventKind::Shutdown,
        EventKind::Stopped(StateReason::Destroyed),
        EventKind::Reset,
    ] {
        match kind {
            EventKind::Started(_) | EventKind::Stopped(_) => {
                let started = matches!(kind, EventKind::Started(_));
                for r in StateReason::ALL {
                    let (word, k) = if started {
                        ("started", EventKind::Started(r))
                    } else {
                        ("stopped", EventKind::Stopped(r))
                    };
                    kinds.push((format!("{word}.{}", r.as_str().replace(' ', "_")), k));
                }
            }
            EventKind::Defined => kinds.push(("defined".into(), kind)),
            EventKind::Undefined => kinds.push(("undefined".into(), kind)),
            EventKind::Suspended => kinds.push(("suspended".into(), kind)),
            EventKind::Resumed => kinds.push(("resumed".into(), kind)),
            EventKind::Shutdown => kinds.push(("shutdown".into(), kind)),
            EventKind::Reset => kinds.push(("reset".into(), kind)),
        }
    }
    kinds
}

/// Every sample, in golden-file order.
pub fn all() -> Vec<Sample> {
    let mut out = Vec::new();
    for call in calls() {
        let (p, _) = call.encode();
        out.push(Sample {
            name: format!("call.{p:02}.{}", call_name(&call)),
            serial: 100 + p,
            msg: Msg::Call(call),
        });
    }
    for call in calls() {
        let (p, _) = call.encode();
        let reply = reply_for(p);
        out.push(Sample {
            name: format!("reply.{p:02}.{}.{}", call_name(&call), reply_shape(&reply)),
            serial: 100 + p,
            msg: Msg::Reply(p, Ok(reply)),
        });
    }
    for code in error_codes() {
        out.push(Sample {
            name: format!("reply.error.{}.{}", code.name(), code.number()),
            serial: 106,
            msg: Msg::Reply(6, Err((code, format!("sample {} error", code.name())))),
        });
    }
    for (name, kind) in event_kinds() {
        out.push(Sample {
            name: format!("event.{name}"),
            serial: 127,
            msg: Msg::Event(Event {
                domain: running(),
                kind,
            }),
        });
    }
    let streams = [
        (
            "data",
            StreamMsg::Data(b"SeaBIOS\r\n\x1b[0m\x00\xff".to_vec()),
        ),
        ("end", StreamMsg::End(None)),
        (
            "end_error",
            StreamMsg::End(Some(WireError {
                code: ErrorCode::OperationFailed.number(),
                message: "the console closed".into(),
            })),
        ),
        ("written", StreamMsg::Written),
    ];
    for (name, msg) in streams {
        out.push(Sample {
            name: format!("stream.{name}"),
            serial: 128,
            msg: Msg::Stream(msg),
        });
    }
    out
}
