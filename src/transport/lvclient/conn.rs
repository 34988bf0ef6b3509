//! One connection to a daemon speaking libvirt's RPC protocol: calls
//! numbered by serial and matched to their replies, keepalive pings
//! answered, lifecycle events handed to their subscribers. A reader
//! thread, owned and joined by [`Conn`], reads every message; callers
//! write under a lock and wait for their own reply.
//!
//! Knows the frames and the procedure table, nothing of the `Driver`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, Event, EventKind, GraphicsAddress, GraphicsEvent, TunableValue};
use crate::transport::libvirt::frame::{
    self, HEADER_LEN, Header, KEEPALIVE_PING, KEEPALIVE_PONG, KEEPALIVE_PROGRAM, LEN_LEN,
    LibvirtCode, MAX_MESSAGE, REMOTE_PROGRAM, RemoteError, Status, Type, code,
};
use crate::transport::libvirt::procedures::{Call, Caller, Reply};
use crate::transport::libvirt::types::{
    AgentLifecycleMsg, BalloonChangeMsg, BlockJobMsg, BlockThresholdMsg, DeviceMsg, DiskChangeMsg,
    GraphicsAddr, GraphicsMsg, IoErrorReasonMsg, JobCompletedMsg, LifecycleMsg,
    MemoryDeviceSizeMsg, MetadataChangeMsg, MigrationIterationMsg, ParamValue, RebootMsg,
    RtcChangeMsg, TrayChangeMsg, TunableMsg, WatchdogMsg,
};
use crate::transport::libvirt::values::{
    address_family_of, event_proc, graphics_phase_of, io_action_of, job_kind, lifecycle_kind,
    status_of_job, tray, watchdog_of,
};
use crate::transport::libvirt::xdr::from_bytes;

/// `QEMU_PROGRAM`: libvirt's program of QEMU-specific calls.
pub const QEMU_PROGRAM: u32 = 0x2000_8087;

/// A poison-safe lock: a panicked holder leaves plain data behind.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the reader and the callers share.
struct Shared {
    writer: Mutex<UnixStream>,
    pending: Mutex<Pending>,
    /// Event subscribers by libvirt callback id.
    events: Mutex<HashMap<i32, Sender<Event>>>,
    /// Open streams by the serial of the call that opened them.
    streams: Mutex<HashMap<u32, Sender<StreamMsg>>>,
}

/// What arrives on a stream.
pub enum StreamMsg {
    /// Bytes.
    Data(Vec<u8>),
    /// The other side ended the stream (an empty data message, or a
    /// finish).
    End,
    /// The stream failed.
    Failed(Error),
}

/// Calls waiting for their reply; `closed` once the connection ended,
/// with why.
#[derive(Default)]
struct Pending {
    waiting: HashMap<u32, Sender<Result<Vec<u8>>>>,
    closed: Option<String>,
}

/// A connection; dropping it closes the socket and joins its reader.
pub struct Conn {
    shared: Arc<Shared>,
    serial: AtomicU32,
    reader: Mutex<Option<JoinHandle<()>>>,
    /// What the daemon is called in errors (its socket, its host).
    peer: String,
}

impl Conn {
    /// Starts reading `stream`; `peer` names it in errors.
    pub fn new(stream: UnixStream, peer: &str) -> Result<Conn> {
        let reader_stream = stream
            .try_clone()
            .map_err(|e| Error::io(format!("cannot use the socket of {peer}"), e))?;
        let shared = Arc::new(Shared {
            writer: Mutex::new(stream),
            pending: Mutex::new(Pending::default()),
            events: Mutex::new(HashMap::new()),
            streams: Mutex::new(HashMap::new()),
        });
        let s = Arc::clone(&shared);
        let reader = std::thread::Builder::new()
            .name("qvirt-lvclient".into())
            .spawn(move || read_loop(reader_stream, &s))
            .map_err(|e| Error::io("cannot start the connection's reader thread", e))?;
        Ok(Conn {
            shared,
            serial: AtomicU32::new(1),
            reader: Mutex::new(Some(reader)),
            peer: peer.to_string(),
        })
    }

    /// Subscribes `tx` to the events of libvirt callback `id`.
    pub fn subscribe(&self, id: i32, tx: Sender<Event>) {
        lock(&self.shared.events).insert(id, tx);
    }

    /// Ends the subscription of callback `id` (locally).
    pub fn unsubscribe(&self, id: i32) {
        lock(&self.shared.events).remove(&id);
    }

    /// Shuts the socket down: calls in flight and later end with an
    /// error, the reader sees the end.
    pub fn shutdown(&self) {
        let _ = lock(&self.shared.writer).shutdown(Shutdown::Both);
    }

    /// Makes call `proc` of program `prog` with the encoded `body`; the
    /// stream messages of the same serial go to `stream`. Returns the
    /// reply's body and the serial.
    pub fn call_raw(
        &self,
        prog: u32,
        proc: i32,
        body: &[u8],
        stream: Option<Sender<StreamMsg>>,
    ) -> Result<(Vec<u8>, u32)> {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        let (tx, rx): (Sender<Result<Vec<u8>>>, Receiver<_>) = channel();
        {
            let mut p = lock(&self.shared.pending);
            if let Some(why) = &p.closed {
                return Err(Error::new(ErrorCode::Protocol, why.clone()));
            }
            p.waiting.insert(serial, tx);
        }
        if let Some(s) = stream {
            lock(&self.shared.streams).insert(serial, s);
        }
        let mut header = Header::remote(proc, Type::Call, serial, Status::Ok);
        header.prog = prog;
        let sent = self.send(&frame::message(&header, body));
        let answer = match sent {
            Ok(()) => rx.recv().map_err(|_| {
                Error::new(
                    ErrorCode::Protocol,
                    format!("the connection to {} ended before its reply", self.peer),
                )
            }),
            Err(e) => {
                lock(&self.shared.pending).waiting.remove(&serial);
                Err(e)
            }
        };
        match answer.and_then(|r| r) {
            Ok(b) => Ok((b, serial)),
            Err(e) => {
                lock(&self.shared.streams).remove(&serial);
                Err(e)
            }
        }
    }

    /// Sends stream bytes on the stream `proc`/`serial`; empty `data`
    /// with `finish` ends it.
    pub fn stream_send(&self, proc: i32, serial: u32, data: &[u8], finish: bool) -> Result<()> {
        let status = if finish { Status::Ok } else { Status::Continue };
        let header = Header::remote(proc, Type::Stream, serial, status);
        self.send(&frame::message(&header, data))
    }

    /// Forgets the stream of `serial`: what still comes for it is dropped.
    pub fn stream_forget(&self, serial: u32) {
        lock(&self.shared.streams).remove(&serial);
    }

    fn send(&self, bytes: &[u8]) -> Result<()> {
        lock(&self.shared.writer)
            .write_all(bytes)
            .map_err(|e| Error::io(format!("cannot write to {}", self.peer), e))
    }
}

impl Caller for Conn {
    fn call(&self, call: Call) -> Result<Reply> {
        let (proc, body) = call.encode();
        let (body, _) = self.call_raw(REMOTE_PROGRAM, proc, &body, None)?;
        Reply::decode(proc, &body)
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let _ = lock(&self.shared.writer).shutdown(Shutdown::Both);
        if let Some(h) = lock(&self.reader).take() {
            let _ = h.join();
        }
    }
}

/// Reads one whole message (after its length word): header and body.
fn read_message(stream: &mut UnixStream) -> Result<(Header, Vec<u8>)> {
    let mut prefix = [0u8; LEN_LEN];
    stream
        .read_exact(&mut prefix)
        .map_err(|e| Error::io("the daemon closed the connection", e))?;
    let len = frame::check_len(prefix, MAX_MESSAGE)?;
    let mut rest = vec![0u8; len - LEN_LEN];
    stream
        .read_exact(&mut rest)
        .map_err(|e| Error::io("the daemon closed the connection mid-message", e))?;
    let header = Header::parse(&rest)?;
    let body = rest.split_off(HEADER_LEN);
    Ok((header, body))
}

fn read_loop(mut stream: UnixStream, shared: &Shared) {
    let why = loop {
        let (h, body) = match read_message(&mut stream) {
            Ok(m) => m,
            Err(e) => break e.to_string(),
        };
        if h.prog == KEEPALIVE_PROGRAM {
            if h.proc == KEEPALIVE_PING {
                let pong = frame::keepalive(KEEPALIVE_PONG);
                if let Err(e) = lock(&shared.writer).write_all(&pong) {
                    break format!("cannot answer the daemon's keepalive: {e}");
                }
            }
            continue;
        }
        if h.prog != REMOTE_PROGRAM && h.prog != QEMU_PROGRAM {
            continue;
        }
        match h.kind {
            Type::Reply | Type::ReplyWithFds => {
                let waiter = lock(&shared.pending).waiting.remove(&h.serial);
                if let Some(tx) = waiter {
                    let answer = match h.status {
                        Status::Error => Err(remote_error(&body)),
                        _ => Ok(body),
                    };
                    let _ = tx.send(answer);
                }
            }
            Type::Message => deliver_event(shared, h.proc, &body),
            Type::Stream => {
                let msg = match h.status {
                    Status::Continue if !body.is_empty() => StreamMsg::Data(body),
                    Status::Continue | Status::Ok => StreamMsg::End,
                    Status::Error => StreamMsg::Failed(remote_error(&body)),
                };
                let mut streams = lock(&shared.streams);
                let over = !matches!(msg, StreamMsg::Data(_));
                if let Some(tx) = streams.get(&h.serial)
                    && (tx.send(msg).is_err() || over)
                {
                    streams.remove(&h.serial);
                }
            }
            _ => {}
        }
    };
    let mut p = lock(&shared.pending);
    p.closed = Some(format!("the connection to the daemon ended: {why}"));
    for (_, tx) in p.waiting.drain() {
        let _ = tx.send(Err(Error::new(
            ErrorCode::Protocol,
            format!("the connection to the daemon ended before the reply: {why}"),
        )));
    }
    drop(p);
    // Ends every event stream and data stream: their senders go.
    lock(&shared.events).clear();
    lock(&shared.streams).clear();
}

/// The qvirt error of an error reply's body. A libvirt code that a
/// call reads (`VIR_ERR_NO_DOMAIN_METADATA`: no such element, which
/// qvirt's API answers with `None`) is kept as the error's source.
fn remote_error(body: &[u8]) -> Error {
    match RemoteError::decode(body) {
        Ok(r) => {
            let mut e = r.to_error();
            if r.code == code::NO_DOMAIN_METADATA {
                e.source = Some(Box::new(LibvirtCode(r.code)));
            }
            e
        }
        Err(e) => e,
    }
}

/// Hands an event message to its callback's subscriber.
fn deliver_event(shared: &Shared, proc: i32, body: &[u8]) {
    let (id, event) = match proc {
        event_proc::LIFECYCLE => match from_bytes::<LifecycleMsg>(body, "lifecycle event") {
            Ok(m) => match lifecycle_kind(m.event, m.detail) {
                Some(kind) => (m.callback_id, Event::new(Domain::from(m.dom), kind)),
                None => return,
            },
            Err(_) => return,
        },
        event_proc::REBOOT => match from_bytes::<RebootMsg>(body, "reboot event") {
            Ok(m) => (
                m.callback_id,
                Event::new(Domain::from(m.dom), EventKind::Reset),
            ),
            Err(_) => return,
        },
        event_proc::TRAY_CHANGE => match from_bytes::<TrayChangeMsg>(body, "tray change event") {
            Ok(m) => {
                let kind = EventKind::TrayMoved {
                    alias: m.dev_alias,
                    open: m.reason == tray::OPEN,
                };
                (m.callback_id, Event::new(Domain::from(m.dom), kind))
            }
            Err(_) => return,
        },
        event_proc::BLOCK_JOB_2 => match from_bytes::<BlockJobMsg>(body, "block job event") {
            Ok(m) => {
                let (Some(kind), Some(status)) = (job_kind(m.kind), status_of_job(m.status)) else {
                    return;
                };
                let kind = EventKind::BlockJob {
                    dev: m.disk,
                    path: None,
                    kind,
                    status,
                };
                (m.callback_id, Event::new(Domain::from(m.dom), kind))
            }
            Err(_) => return,
        },
        event_proc::RTC_CHANGE => match from_bytes::<RtcChangeMsg>(body, "RTC change event") {
            Ok(m) => {
                let kind = EventKind::RtcChange { offset: m.offset };
                (m.callback_id, Event::new(Domain::from(m.dom), kind))
            }
            Err(_) => return,
        },
        event_proc::BALLOON_CHANGE => {
            match from_bytes::<BalloonChangeMsg>(body, "balloon change event") {
                Ok(m) => {
                    let kind = EventKind::BalloonChange {
                        actual_kib: m.actual,
                    };
                    (m.callback_id, Event::new(Domain::from(m.dom), kind))
                }
                Err(_) => return,
            }
        }
        event_proc::AGENT_LIFECYCLE => {
            match from_bytes::<AgentLifecycleMsg>(body, "agent lifecycle event") {
                Ok(m) => {
                    let kind = EventKind::AgentLifecycle {
                        connected: m.state == 1,
                    };
                    (m.callback_id, Event::new(Domain::from(m.dom), kind))
                }
                Err(_) => return,
            }
        }
        event_proc::METADATA_CHANGE => {
            match from_bytes::<MetadataChangeMsg>(body, "metadata change event") {
                Ok(m) => {
                    let kind = match (m.kind, m.nsuri) {
                        (0, _) => crate::driver::MetadataKind::Description,
                        (1, _) => crate::driver::MetadataKind::Title,
                        (_, uri) => crate::driver::MetadataKind::Element {
                            uri: uri.unwrap_or_default(),
                            key: None,
                        },
                    };
                    let kind = EventKind::MetadataChange(kind);
                    (m.callback_id, Event::new(Domain::from(m.dom), kind))
                }
                Err(_) => return,
            }
        }
        event_proc::IO_ERROR_REASON => {
            match from_bytes::<IoErrorReasonMsg>(body, "I/O error event") {
                Ok(m) => {
                    let kind = EventKind::IoError {
                        alias: m.dev_alias,
                        path: Some(m.src_path).filter(|p| !p.is_empty()),
                        action: io_action_of(m.action),
                        reason: m.reason,
                    };
                    (m.callback_id, Event::new(Domain::from(m.dom), kind))
                }
                Err(_) => return,
            }
        }
        event_proc::DEVICE_ADDED | event_proc::DEVICE_REMOVED => {
            match from_bytes::<DeviceMsg>(body, "device event") {
                Ok(m) => {
                    let alias = m.dev_alias;
                    let kind = if proc == event_proc::DEVICE_ADDED {
                        EventKind::DeviceAdded { alias }
                    } else {
                        EventKind::DeviceRemoved { alias }
                    };
                    (m.callback_id, Event::new(Domain::from(m.dom), kind))
                }
                Err(_) => return,
            }
        }
        event_proc::GRAPHICS => match from_bytes::<GraphicsMsg>(body, "graphics event") {
            Ok(m) => {
                let addr = |a: GraphicsAddr| {
                    GraphicsAddress::new(address_family_of(a.family), &a.node, &a.service)
                };
                let kind = EventKind::Graphics(Box::new(GraphicsEvent {
                    phase: graphics_phase_of(m.phase),
                    local: addr(m.local),
                    remote: addr(m.remote),
                    auth: m.auth_scheme,
                    subject: m.subject.into_iter().map(|i| (i.kind, i.name)).collect(),
                }));
                (m.callback_id, Event::new(Domain::from(m.dom), kind))
            }
            Err(_) => return,
        },
        event_proc::DISK_CHANGE => match from_bytes::<DiskChangeMsg>(body, "disk change event") {
            Ok(m) => {
                let kind = EventKind::DiskChange {
                    alias: m.dev_alias,
                    old_path: m.old_src_path,
                    new_path: m.new_src_path,
                    dropped: m.reason == 1,
                };
                (m.callback_id, Event::new(Domain::from(m.dom), kind))
            }
            Err(_) => return,
        },
        event_proc::MEMORY_DEVICE_SIZE_CHANGE => {
            match from_bytes::<MemoryDeviceSizeMsg>(body, "memory device size change event") {
                Ok(m) => {
                    let kind = EventKind::MemoryDeviceSizeChange {
                        alias: m.alias,
                        size_kib: m.size,
                    };
                    (m.callback_id, Event::new(Domain::from(m.dom), kind))
                }
                Err(_) => return,
            }
        }
        event_proc::JOB_COMPLETED => {
            match from_bytes::<JobCompletedMsg>(body, "job completed event") {
                Ok(m) => {
                    use crate::transport::libvirt::jobstats::{JobStatsRet, completed_of};
                    let ret = JobStatsRet {
                        kind: crate::transport::libvirt::values::job::COMPLETED,
                        params: m.params,
                    };
                    let Ok(Some(job)) = completed_of(&ret) else {
                        return;
                    };
                    let kind = EventKind::JobCompleted(Box::new(job));
                    (m.callback_id, Event::new(Domain::from(m.dom), kind))
                }
                Err(_) => return,
            }
        }
        event_proc::MIGRATION_ITERATION => {
            match from_bytes::<MigrationIterationMsg>(body, "migration iteration event") {
                Ok(m) => {
                    let kind = EventKind::MigrationIteration {
                        iteration: u32::try_from(m.iteration).unwrap_or(0),
                    };
                    (m.callback_id, Event::new(Domain::from(m.dom), kind))
                }
                Err(_) => return,
            }
        }
        event_proc::TUNABLE => match from_bytes::<TunableMsg>(body, "tunable event") {
            Ok(m) => {
                let params = m
                    .params
                    .into_iter()
                    .filter_map(|p| {
                        let v = match p.value {
                            ParamValue::String(s) => TunableValue::Text(s),
                            ParamValue::ULLong(n) => TunableValue::Number(n),
                            _ => return None,
                        };
                        Some((p.field, v))
                    })
                    .collect();
                (
                    m.callback_id,
                    Event::new(Domain::from(m.dom), EventKind::Tunable(params)),
                )
            }
            Err(_) => return,
        },
        event_proc::WATCHDOG => match from_bytes::<WatchdogMsg>(body, "watchdog event") {
            Ok(m) => {
                let kind = EventKind::Watchdog {
                    action: watchdog_of(m.action),
                };
                (m.callback_id, Event::new(Domain::from(m.dom), kind))
            }
            Err(_) => return,
        },
        event_proc::BLOCK_THRESHOLD => {
            match from_bytes::<BlockThresholdMsg>(body, "block threshold event") {
                Ok(m) => {
                    let kind = EventKind::BlockThreshold {
                        dev: m.dev,
                        path: m.path,
                        threshold: m.threshold,
                        excess: m.excess,
                    };
                    (m.callback_id, Event::new(Domain::from(m.dom), kind))
                }
                Err(_) => return,
            }
        }
        _ => return,
    };
    let mut events = lock(&shared.events);
    if let Some(tx) = events.get(&id)
        && tx.send(event).is_err()
    {
        events.remove(&id);
    }
}
