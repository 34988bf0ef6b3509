//! libvirt's RPC protocol in the I/O loop: what each whole libvirt
//! message from a client does, beside qvirt's own protocol (`calls`).
//! The same loop, workers, limits and event fan-out serve both; this
//! file owns what differs:
//!
//! - the handshake (`AUTH_LIST`, `SUPPORTS_FEATURE`, `CONNECT_OPEN` in
//!   place of hello) and `CONNECT_CLOSE`;
//! - the read-only rule of libvirt's table (the socket's, or the
//!   client's own `VIR_CONNECT_RO`), refused with
//!   `VIR_ERR_OPERATION_DENIED`;
//! - keepalive: PINGs answered in the loop; once the client asked for
//!   keepalive, the daemon PINGs it after each interval without a
//!   message from it and closes it after `count` unanswered PINGs, as
//!   libvirtd does;
//! - event callbacks (`virConnectDomainEventRegisterAny`), fed from the
//!   server's one subscription of the driver;
//! - streams: a console's bytes both ways, a screenshot's image, a
//!   volume's upload or download (`lv_vol`), and the finish/abort
//!   handshake that ends each.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use uuid::Uuid;

use super::Shared;
use super::calls::{Done, Step, has_place, run_guarded, submit};
use super::conn::Conn;
use super::lv_vol::VolSlot;
use super::reactor::Cx;
use super::streams::{Pending, SharedConsole, Sub};
use crate::driver::Event;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::transport::libvirt::dispatch::LvCalls;
use crate::transport::libvirt::frame::{
    self, HEADER_LEN, Header, KEEPALIVE_PING, KEEPALIVE_PONG, KEEPALIVE_PROGRAM, KEEPALIVE_VERSION,
    LEN_LEN, REMOTE_PROGRAM, REMOTE_VERSION, RemoteError, STREAM_CHUNK, Status, Type, push_message,
};
use crate::transport::libvirt::procedures::{Call, Class, Procedure, Reply, Session, dispatch};
use crate::transport::libvirt::storage::sparse_stream;
use crate::transport::libvirt::types::*;
use crate::transport::libvirt::values::{self, CONNECT_RO, event_id, feature};
use crate::transport::libvirt::xdr::from_bytes;

/// Bytes of console input one console may hold while a write is in
/// progress; past it the client's messages wait unread.
const CONSOLE_INPUT_MAX: usize = 64 * 1024;

/// A libvirt connection's own state.
#[derive(Default)]
pub(super) struct LvConn {
    /// `CONNECT_OPEN` succeeded.
    opened: bool,
    /// The client opened read-only (`VIR_CONNECT_RO`).
    read_only: bool,
    /// The URI it opened.
    uri: Option<String>,
    /// Event callbacks by id.
    callbacks: BTreeMap<i32, Callback>,
    next_callback: i32,
    /// The client registered a close callback.
    close_callback: bool,
    /// Keepalive, once the client asked for it: PINGs left before the
    /// connection is declared dead.
    keepalive: Option<u32>,
    /// Open streams by the serial of the call that opened them.
    pub(super) streams: HashMap<u32, StreamKind>,
    /// Open volume uploads and downloads, by the same serial.
    pub(super) vols: HashMap<u32, VolSlot>,
}

/// An event callback.
#[derive(Debug, Clone, Copy)]
struct Callback {
    event: i32,
    /// Only this domain's events.
    dom: Option<Uuid>,
}

/// What a stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StreamKind {
    /// A console: bytes both ways.
    Console,
    /// A screenshot: the image, from the daemon.
    Screenshot,
    /// A volume's upload: bytes (and holes, when `sparse`) from the
    /// client.
    Upload { sparse: bool },
    /// A volume's download: bytes (and holes, when `sparse`) from the
    /// daemon.
    Download { sparse: bool },
}

impl StreamKind {
    /// The procedure whose call opens it.
    pub(super) fn procedure(self) -> i32 {
        match self {
            StreamKind::Console => Procedure::DomainOpenConsole.number(),
            StreamKind::Screenshot => Procedure::DomainScreenshot.number(),
            StreamKind::Upload { .. } => Procedure::StorageVolUpload.number(),
            StreamKind::Download { .. } => Procedure::StorageVolDownload.number(),
        }
    }
}

/// The libvirt state of `conn`.
pub(super) fn lv(conn: &mut Conn) -> &mut LvConn {
    conn.libvirt
        .as_mut()
        .expect("a libvirt connection has libvirt state")
}

/// Whether `conn` may only make calls that change nothing.
fn read_only(conn: &mut Conn) -> bool {
    conn.peer.read_only || lv(conn).read_only
}

/// The length (length word included) of the message at the front of
/// `inbuf` once it is all there.
pub(super) fn whole_message(inbuf: &[u8], max: usize, read_only: bool) -> Result<Option<usize>> {
    let Some(prefix) = inbuf.first_chunk::<4>() else {
        return Ok(None);
    };
    let len = frame::check_len(*prefix, max + LEN_LEN).map_err(|e| {
        if read_only && e.code == ErrorCode::LimitExceeded {
            Error::new(
                e.code,
                format!("{}; a read-only connection's calls are small", e.message),
            )
        } else {
            e
        }
    })?;
    Ok((inbuf.len() >= len).then_some(len))
}

/// The error reply a connection gets for what the loop itself refuses
/// (garbage, a deadline, a refusal at accept).
pub(super) fn error_message(proc: u32, serial: u32, e: &Error) -> Vec<u8> {
    frame::error_reply(proc as i32, serial, e)
}

/// Handles one whole message (length word included).
pub(super) fn handle(cx: &mut Cx, conn: &mut Conn, msg: &[u8], now: Instant) -> Step {
    let h = match Header::parse(&msg[LEN_LEN..]) {
        Ok(h) => h,
        Err(e) => {
            conn.fail(0, 0, &e, now);
            return Step::Handled;
        }
    };
    let body = &msg[LEN_LEN + HEADER_LEN..];
    // Any message proves the client alive.
    if let Some(left) = lv(conn).keepalive.as_mut() {
        *left = cx.shared.limits.keepalive_count;
        conn.keepalive_by = Some(now + cx.shared.limits.keepalive_interval);
    }
    if h.prog == KEEPALIVE_PROGRAM && h.vers == KEEPALIVE_VERSION && h.kind == Type::Message {
        if h.proc == KEEPALIVE_PING {
            conn.out
                .extend_from_slice(&frame::keepalive(KEEPALIVE_PONG));
        }
        return Step::Handled;
    }
    if h.prog == super::lv_qemu::QEMU_PROGRAM && h.vers == super::lv_qemu::QEMU_VERSION {
        let (opened, ro) = (lv(conn).opened, read_only(conn));
        return super::lv_qemu::call(cx, conn, h, body, opened, ro, now);
    }
    if h.prog != REMOTE_PROGRAM || h.vers != REMOTE_VERSION {
        let e = Error::new(
            ErrorCode::Protocol,
            format!("Cannot find program {} version {}", h.prog, h.vers),
        );
        conn.out
            .extend_from_slice(&frame::error_reply_in(h.prog, h.vers, h.proc, h.serial, &e));
        return Step::Handled;
    }
    match h.kind {
        Type::Call => call(cx, conn, h, body, now),
        Type::Stream => stream_input(cx, conn, h, body),
        Type::StreamHole => stream_hole(cx, conn, h, body, now),
        Type::CallWithFds => {
            let e = Error::new(
                ErrorCode::NoSupport,
                "passing file descriptors is not supported by qvirtd",
            );
            push_error(conn, h.proc, h.serial, &e);
            Step::Handled
        }
        Type::Reply | Type::ReplyWithFds | Type::Message => {
            let e = Error::new(
                ErrorCode::Protocol,
                format!("unexpected message type {:?} from a client", h.kind),
            );
            conn.fail(h.proc as u32, h.serial, &e, now);
            Step::Handled
        }
    }
}

/// Queues the error reply to call `proc`/`serial`.
fn push_error(conn: &mut Conn, proc: i32, serial: u32, e: &Error) {
    conn.out
        .extend_from_slice(&frame::error_reply(proc, serial, e));
}

/// Queues the reply (or error reply) to call `proc`/`serial`.
fn push_reply(out: &mut Vec<u8>, proc: i32, serial: u32, result: &Result<Reply>) {
    match result {
        Ok(r) => push_message(
            out,
            &Header::remote(proc, Type::Reply, serial, Status::Ok),
            &r.encode(),
        ),
        Err(e) => out.extend_from_slice(&frame::error_reply(proc, serial, e)),
    }
}

/// Calls a client may make before `CONNECT_OPEN`.
fn before_open(p: Procedure) -> bool {
    matches!(
        p,
        Procedure::AuthList
            | Procedure::ConnectSupportsFeature
            | Procedure::ConnectOpen
            | Procedure::ConnectClose
    )
}

fn call(cx: &mut Cx, conn: &mut Conn, h: Header, body: &[u8], now: Instant) -> Step {
    if h.status != Status::Ok {
        let e = Error::new(
            ErrorCode::Protocol,
            format!("Unexpected message status {:?}", h.status),
        );
        push_error(conn, h.proc, h.serial, &e);
        return Step::Handled;
    }
    let call = match Call::decode(h.proc, body) {
        Ok(c) => c,
        Err(e) => {
            if e.code == ErrorCode::NoSupport {
                cx.shared.log.info(&format!(
                    "libvirt client (uid {}): {}",
                    conn.peer.uid, e.message
                ));
            }
            push_error(conn, h.proc, h.serial, &e);
            return Step::Handled;
        }
    };
    let procedure = call.procedure();
    if !lv(conn).opened && !before_open(procedure) {
        let e = Error::new(
            ErrorCode::Protocol,
            format!(
                "connection not open: {} needs CONNECT_OPEN first",
                procedure.name()
            ),
        );
        push_error(conn, h.proc, h.serial, &e);
        return Step::Handled;
    }
    if read_only(conn)
        && let Some(why) = call.read_only_refusal()
    {
        push_error(
            conn,
            h.proc,
            h.serial,
            &Error::new(ErrorCode::OperationDenied, why),
        );
        return Step::Handled;
    }
    match procedure.class() {
        Class::Conn => {
            let driver = cx.shared.driver.clone();
            let result = {
                let mut s = LoopSession {
                    cx,
                    conn,
                    now,
                    serial: h.serial,
                };
                let mut calls = LvCalls::new(&*driver);
                dispatch(Some(&mut s), &mut calls, call)
            };
            push_reply(&mut conn.out, h.proc, h.serial, &result);
            if procedure == Procedure::ConnectClose && result.is_ok() {
                // As libvirtd: the reply goes out, then the connection
                // closes.
                conn.close_soon(now);
            }
            Step::Handled
        }
        Class::Quick if cx.shared.limits.inline_quick_calls => {
            let driver = cx.shared.driver.clone();
            let mut calls = LvCalls::new(&*driver);
            let result = run_guarded(procedure.name(), || dispatch(None, &mut calls, call));
            push_reply(&mut conn.out, h.proc, h.serial, &result);
            Step::Handled
        }
        class => {
            if !has_place(cx, conn) {
                return Step::Stall;
            }
            let kind = match &call {
                Call::DomainOpenConsole(_) => Some(StreamKind::Console),
                Call::DomainScreenshot(_) => Some(StreamKind::Screenshot),
                Call::StorageVolUpload(a) => Some(StreamKind::Upload {
                    sparse: sparse_stream(a.flags),
                }),
                Call::StorageVolDownload(a) => Some(StreamKind::Download {
                    sparse: sparse_stream(a.flags),
                }),
                _ => None,
            };
            if let Some(kind) = kind {
                lv(conn).streams.insert(h.serial, kind);
            }
            let (token, uid, serial, proc) = (conn.token, conn.peer.uid, h.serial, h.proc);
            let shared = cx.shared.clone();
            submit(cx, conn, class == Class::Prio, move || {
                let mut calls = LvCalls::new(&*shared.driver);
                let result = run_guarded(procedure.name(), || dispatch(None, &mut calls, call));
                let mut out = Vec::new();
                push_reply(&mut out, proc, serial, &result);
                if let (Ok(_), Some(data)) = (&result, calls.stream_data.take()) {
                    push_stream_data(&mut out, proc, serial, &data);
                    // The end of the data: an empty message.
                    push_stream_data(&mut out, proc, serial, &[]);
                }
                shared.finish(Done {
                    token,
                    uid,
                    frame: out,
                    opened: calls.opened.map(|o| (serial, o)),
                    console_over: None,
                    wrote: None,
                    stream_failed: (kind.is_some() && result.is_err()).then_some(serial),
                });
            });
            Step::Handled
        }
    }
}

/// Appends stream data messages (`VIR_NET_CONTINUE`) carrying `data`, in
/// chunks as libvirtd sends them; empty data is the end of the stream.
pub(super) fn push_stream_data(out: &mut Vec<u8>, proc: i32, serial: u32, data: &[u8]) {
    let header = Header::remote(proc, Type::Stream, serial, Status::Continue);
    if data.is_empty() {
        push_message(out, &header, &[]);
    }
    for chunk in data.chunks(STREAM_CHUNK) {
        push_message(out, &header, chunk);
    }
}

/// The connection's own procedures, answered in the loop.
struct LoopSession<'a> {
    cx: &'a mut Cx,
    conn: &'a mut Conn,
    now: Instant,
    serial: u32,
}

impl Session for LoopSession<'_> {
    fn connect_open(&mut self, a: OpenArgs) -> Result<()> {
        if lv(self.conn).opened {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                "connection already open",
            ));
        }
        if let Some(name) = &a.name {
            check_uri(name)?;
        }
        // The client's remote driver sends its own flags: read-only (the
        // one that matters here), and which socket it chose (the user's,
        // autostarting a daemon), which this daemon's socket settles.
        values::check_flags(a.flags, CONNECT_RO | 2 | 4, "virConnectOpen")?;
        let state = lv(self.conn);
        state.opened = true;
        state.read_only = a.flags & CONNECT_RO != 0;
        state.uri = a.name;
        self.conn.greeted = true;
        self.conn.hello_by = None;
        Ok(())
    }

    fn connect_close(&mut self, (): ()) -> Result<()> {
        Ok(())
    }

    fn auth_list(&mut self, (): ()) -> Result<AuthListRet> {
        // REMOTE_AUTH_NONE: the socket's SO_PEERCRED check admitted the
        // client already.
        Ok(AuthListRet { types: vec![0] })
    }

    fn connect_supports_feature(&mut self, a: FeatureArgs) -> Result<FeatureRet> {
        let supported = match a.feature {
            feature::PROGRAM_KEEPALIVE => {
                let limits = &self.cx.shared.limits;
                if !limits.keepalive_interval.is_zero() && lv(self.conn).keepalive.is_none() {
                    lv(self.conn).keepalive = Some(limits.keepalive_count);
                    self.conn.keepalive_by = Some(self.now + limits.keepalive_interval);
                }
                true
            }
            feature::REMOTE_EVENT_CALLBACK
            | feature::REMOTE_CLOSE_CALLBACK
            | feature::TYPED_PARAM_STRING
            | feature::MIGRATION_P2P
            | feature::MIGRATION_PARAMS => true,
            _ => false,
        };
        Ok(FeatureRet {
            supported: i32::from(supported),
        })
    }

    fn connect_get_uri(&mut self, (): ()) -> Result<UriRet> {
        let uri = match &lv(self.conn).uri {
            Some(u) => u.clone(),
            None => self.cx.shared.driver.uri(),
        };
        Ok(UriRet { uri })
    }

    fn connect_is_secure(&mut self, (): ()) -> Result<SecureRet> {
        // A local UNIX socket: nobody else sees the bytes.
        Ok(SecureRet { secure: 1 })
    }

    fn connect_domain_event_callback_register_any(
        &mut self,
        a: EventRegisterArgs,
    ) -> Result<EventRegisterRet> {
        if !(0..event_id::LAST).contains(&a.event_id) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("unsupported event ID {}", a.event_id),
            ));
        }
        // Only the events qvirtd sends may be subscribed to: a client
        // told that it will hear of a block job's end would wait for it
        // (virsh's `blockcommit --wait` polls only when it is refused).
        if !event_id::SENT.contains(&a.event_id) {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!(
                    "qvirtd sends lifecycle, reboot, RTC change, I/O error, block job, tray change, balloon change, device added and removed, agent lifecycle, metadata change and block threshold events only, not events of ID {}",
                    a.event_id
                ),
            ));
        }
        self.cx.open_source()?;
        let state = lv(self.conn);
        state.next_callback += 1;
        let id = state.next_callback;
        state.callbacks.insert(
            id,
            Callback {
                event: a.event_id,
                dom: a.dom.map(|d| d.uuid),
            },
        );
        if self.conn.sub.is_none() {
            self.conn.sub = Some(Sub::new(self.serial));
        }
        Ok(EventRegisterRet { callback_id: id })
    }

    fn connect_domain_event_callback_deregister_any(
        &mut self,
        a: EventDeregisterArgs,
    ) -> Result<()> {
        let state = lv(self.conn);
        if state.callbacks.remove(&a.callback_id).is_none() {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "no domain event is registered with callback ID {}",
                    a.callback_id
                ),
            ));
        }
        if state.callbacks.is_empty() {
            self.conn.sub = None;
        }
        Ok(())
    }

    fn connect_register_close_callback(&mut self, (): ()) -> Result<()> {
        lv(self.conn).close_callback = true;
        Ok(())
    }

    fn connect_unregister_close_callback(&mut self, (): ()) -> Result<()> {
        lv(self.conn).close_callback = false;
        Ok(())
    }
}

/// Accepts the URIs a libvirt client sends for qvirtd: `qemu:///system`
/// or `qemu:///session` (the transport and `socket=` already stripped).
fn check_uri(name: &str) -> Result<()> {
    let path = name.split('?').next().unwrap_or("");
    if matches!(path, "qemu:///system" | "qemu:///session") {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "no connection driver available for {name}: qvirtd serves qemu:///system and qemu:///session"
            ),
        ))
    }
}

/// A stream message from the client: console or upload input, or the
/// finish or abort of a stream.
fn stream_input(cx: &mut Cx, conn: &mut Conn, h: Header, body: &[u8]) -> Step {
    let serial = h.serial;
    let Some(kind) = lv(conn).streams.get(&serial).copied() else {
        // As libvirtd: messages of a stream already over are dropped.
        return Step::Handled;
    };
    match h.status {
        Status::Continue => match kind {
            StreamKind::Console => return console_input(cx, conn, serial, body),
            StreamKind::Upload { .. } => return super::lv_vol::input(cx, conn, serial, body),
            StreamKind::Screenshot | StreamKind::Download { .. } => {}
        },
        // An upload's finish is confirmed once its bytes are on disk.
        Status::Ok
            if matches!(kind, StreamKind::Upload { .. }) && lv(conn).vols.contains_key(&serial) =>
        {
            return super::lv_vol::finish_upload(cx, conn, serial);
        }
        // Finish or abort: the stream is over; confirm with an empty
        // message of status OK.
        Status::Ok | Status::Error => {
            lv(conn).streams.remove(&serial);
            super::lv_vol::close(conn, serial);
            if kind == StreamKind::Console {
                cx.close_console(conn, serial);
            }
            push_message(
                &mut conn.out,
                &Header::remote(kind.procedure(), Type::Stream, serial, Status::Ok),
                &[],
            );
        }
    }
    Step::Handled
}

/// A hole in a sparse upload. Anywhere else it is refused as libvirtd
/// refuses it ("Unexpected stream hole"), closing the connection.
fn stream_hole(cx: &mut Cx, conn: &mut Conn, h: Header, body: &[u8], now: Instant) -> Step {
    let kind = lv(conn).streams.get(&h.serial).copied();
    if kind.is_none() {
        // A stream already over: dropped as its data is.
        return Step::Handled;
    }
    let hole = from_bytes::<StreamHole>(body, "a stream hole");
    match (kind, hole) {
        (Some(StreamKind::Upload { sparse: true }), Ok(hole))
            if h.status == Status::Continue && hole.flags == 0 && hole.length > 0 =>
        {
            super::lv_vol::hole(cx, conn, h.serial, hole.length as u64)
        }
        _ => {
            let e = Error::new(ErrorCode::Protocol, "Unexpected stream hole");
            conn.fail(h.proc as u32, h.serial, &e, now);
            Step::Handled
        }
    }
}

/// Console input: written by a worker, one write at a time per console
/// so that the bytes keep their order.
fn console_input(cx: &mut Cx, conn: &mut Conn, serial: u32, body: &[u8]) -> Step {
    let Some(slot) = conn.consoles.get_mut(&serial) else {
        // Not open yet or over already: nothing takes the bytes.
        return Step::Handled;
    };
    if slot.writing {
        let queued: usize = slot.input.iter().map(Vec::len).sum();
        if queued >= CONSOLE_INPUT_MAX {
            return Step::Stall;
        }
        slot.input.push_back(body.to_vec());
        return Step::Handled;
    }
    if !has_place(cx, conn) {
        return Step::Stall;
    }
    write_console(cx, conn, serial, body.to_vec());
    Step::Handled
}

/// Hands `data` to a worker for console `serial`.
fn write_console(cx: &mut Cx, conn: &mut Conn, serial: u32, data: Vec<u8>) {
    let Some(slot) = conn.consoles.get_mut(&serial) else {
        return;
    };
    slot.writing = true;
    let console: SharedConsole = slot.console.clone();
    let (token, uid) = (conn.token, conn.peer.uid);
    let shared: Arc<Shared> = cx.shared.clone();
    submit(cx, conn, false, move || {
        let written = console
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .write(&data);
        drop(console);
        let mut out = Vec::new();
        if let Err(e) = &written {
            let proc = Procedure::DomainOpenConsole.number();
            push_stream_error(&mut out, proc, serial, e);
        }
        shared.finish(Done {
            token,
            uid,
            frame: out,
            opened: None,
            console_over: written.is_err().then_some(serial),
            wrote: Some(serial),
            stream_failed: written.is_err().then_some(serial),
        });
    });
}

/// A worker's step on stream `serial` is done (a console's write, a
/// volume's chunk): the next one goes out.
pub(super) fn stream_step_done(cx: &mut Cx, conn: &mut Conn, serial: u32) {
    if super::lv_vol::step_done(cx, conn, serial) {
        return;
    }
    let Some(slot) = conn.consoles.get_mut(&serial) else {
        return;
    };
    slot.writing = false;
    if slot.input.is_empty() {
        return;
    }
    let data: Vec<u8> = std::mem::take(&mut slot.input)
        .into_iter()
        .flatten()
        .collect();
    // The job this write held is back, so a place is free.
    write_console(cx, conn, serial, data);
}

/// A stream error message (`VIR_NET_ERROR`) for the stream `serial`
/// that the call of `proc` opened.
pub(super) fn push_stream_error(out: &mut Vec<u8>, proc: i32, serial: u32, e: &Error) {
    push_message(
        out,
        &Header::remote(proc, Type::Stream, serial, Status::Error),
        &RemoteError::from_error(e).encode(),
    );
}

/// Console output for the client.
pub(super) fn console_data(conn: &mut Conn, serial: u32, data: &[u8]) {
    push_stream_data(
        &mut conn.out,
        Procedure::DomainOpenConsole.number(),
        serial,
        data,
    );
}

/// The console ended (the domain stopped, another client took it): the
/// client sees the end of the stream and then finishes or aborts it.
pub(super) fn console_ended(conn: &mut Conn, serial: u32) {
    if lv(conn).streams.contains_key(&serial) {
        console_data(conn, serial, &[]);
    }
}

/// A stream call failed, or its stream broke or ended: it is over.
pub(super) fn stream_failed(conn: &mut Conn, serial: u32) {
    lv(conn).streams.remove(&serial);
    super::lv_vol::close(conn, serial);
}

/// Queues, for each of `conn`'s callbacks that wants it, each event;
/// `false` when the client has `limit` messages waiting already (it does
/// not read its events: libvirt's protocol cannot tell it that some were
/// lost, so the caller closes it).
pub(super) fn deliver(conn: &mut Conn, events: &[Event], limit: usize) -> bool {
    let Some(state) = conn.libvirt.as_ref() else {
        return true;
    };
    let Some(sub) = conn.sub.as_mut() else {
        return true;
    };
    for event in events {
        let (id, kind, detail) = values::event_code(&event.kind);
        // Told twice, as libvirt does.
        let also = values::repeat_of(&event.kind);
        let dom = Dom::from(&event.domain);
        for (cb, c) in &state.callbacks {
            if (c.event != id && Some(c.event) != also)
                || c.dom.is_some_and(|u| u != event.domain.uuid)
            {
                continue;
            }
            if sub.len() >= limit {
                return false;
            }
            let (proc, body) = super::lv_events::event_message(
                *cb,
                c.event,
                dom.clone(),
                &event.kind,
                kind,
                detail,
            );
            // libvirtd sends events with serial 1.
            let msg = frame::message(&Header::remote(proc, Type::Message, 1, Status::Ok), &body);
            sub.push_frame(Pending::Frame(Arc::from(msg)));
        }
    }
    true
}

/// The keepalive deadline of `conn` passed: PING it, or, when its PINGs
/// are spent, say it is dead (`true`: close it).
pub(super) fn keepalive_due(cx: &Cx, conn: &mut Conn, now: Instant) -> bool {
    let limits = &cx.shared.limits;
    let Some(left) = lv(conn).keepalive.as_mut() else {
        conn.keepalive_by = None;
        return false;
    };
    if *left == 0 {
        conn.keepalive_by = None;
        return true;
    }
    *left -= 1;
    conn.out
        .extend_from_slice(&frame::keepalive(KEEPALIVE_PING));
    conn.keepalive_by = Some(now + limits.keepalive_interval);
    false
}

/// The state of a new libvirt connection.
pub(super) fn new_state() -> Box<LvConn> {
    Box::default()
}

/// Unused input kept for a console while a write runs.
pub(super) type ConsoleInput = VecDeque<Vec<u8>>;
