//! qvirt's own protocol in the I/O loop: what each whole frame from a
//! client does. A call is checked (hello first, the read-only rule of
//! the procedure table), then answered in the loop (a quick call, an
//! event subscription) or handed to a worker, whose reply comes back as
//! a [`Done`]. Console input goes to a worker too; the end of a stream is
//! handled here.

use std::sync::Arc;
use std::time::Instant;

use super::Shared;
use super::conn::{Conn, push_frame};
use super::reactor::Cx;
use super::streams::{self, Sub, write_console};
use crate::error::{Error, ErrorCode};
use crate::transport::dispatch::{DriverCalls, Opened};
use crate::transport::procedures::dispatch;
use crate::transport::wire::{
    Call, Class, HEADER_LEN, Header, Kind, PROTOCOL_VERSION, Procedure, Reply, StreamMsg,
    decode_stream,
};

/// A call a worker finished, for the loop to send.
pub(super) struct Done {
    /// The connection's token.
    pub token: u64,
    /// Its uid, for the per-uid count.
    pub uid: u32,
    /// The frame to send.
    pub frame: Vec<u8>,
    /// The stream the call opened, by the call's serial.
    pub opened: Option<(u32, Opened)>,
    /// The console (by serial) a failed write ended.
    pub console_over: Option<u32>,
    /// The libvirt stream (by serial) whose step this was: a console's
    /// write, a volume's chunk (one at a time per stream).
    pub wrote: Option<u32>,
    /// The libvirt stream (by serial) that this call failed to open, or
    /// that broke or ended.
    pub stream_failed: Option<u32>,
}

impl Shared {
    /// Hands a finished call to the loop.
    pub(super) fn finish(&self, done: Done) {
        self.done
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(done);
        self.waker.wake();
    }
}

/// What handling a frame came to.
pub(super) enum Step {
    /// Handled (answered, handed on, or refused).
    Handled,
    /// It needs a place that is not free (a call slot of the connection
    /// or of its uid): it stays unread until one is.
    Stall,
}

/// Handles one whole frame (length prefix included), of whichever
/// protocol the connection speaks.
pub(super) fn handle(cx: &mut Cx, conn: &mut Conn, frame: &[u8], now: Instant) -> Step {
    if conn.libvirt.is_some() {
        return super::lv::handle(cx, conn, frame, now);
    }
    let h = match Header::parse(&frame[4..]) {
        Ok(h) => h,
        Err(e) => {
            conn.fail(0, 0, &e, now);
            return Step::Handled;
        }
    };
    let body = &frame[4 + HEADER_LEN..];
    if h.version != PROTOCOL_VERSION {
        let e = Error::new(
            ErrorCode::Protocol,
            format!(
                "protocol version mismatch: the client speaks {}, this daemon {PROTOCOL_VERSION}",
                h.version
            ),
        );
        conn.fail(h.procedure, h.serial, &e, now);
        return Step::Handled;
    }
    match h.kind {
        Kind::Call => call(cx, conn, h, body, now),
        Kind::Stream => stream_input(cx, conn, h.serial, body),
        Kind::Reply | Kind::Event => {
            let e = Error::new(
                ErrorCode::Protocol,
                "clients send calls and stream data only",
            );
            conn.fail(0, h.serial, &e, now);
            Step::Handled
        }
    }
}

/// Whether `conn` may start another call on a worker now.
pub(super) fn has_place(cx: &Cx, conn: &Conn) -> bool {
    let limits = &cx.shared.limits;
    conn.in_flight < limits.max_requests_per_client
        && (conn.peer.privileged || cx.uids.of(conn.peer.uid).jobs < limits.max_jobs_per_uid)
}

fn call(cx: &mut Cx, conn: &mut Conn, h: Header, body: &[u8], now: Instant) -> Step {
    let call = match Call::decode(h.procedure, body) {
        Ok(c) => c,
        Err(e) => {
            conn.push_error(h.procedure, h.serial, &e);
            return Step::Handled;
        }
    };
    if !conn.greeted {
        match call {
            Call::Hello(v) if v == u32::from(PROTOCOL_VERSION) => {
                conn.greeted = true;
                conn.hello_by = None;
            }
            Call::Hello(v) => {
                let e = Error::new(
                    ErrorCode::Protocol,
                    format!(
                        "protocol version mismatch: the client speaks {v}, this daemon {PROTOCOL_VERSION}"
                    ),
                );
                conn.fail(h.procedure, h.serial, &e, now);
                return Step::Handled;
            }
            _ => {
                let e = Error::new(ErrorCode::Protocol, "the first call must be hello");
                conn.fail(h.procedure, h.serial, &e, now);
                return Step::Handled;
            }
        }
    }
    if conn.peer.read_only
        && let Some(why) = call.read_only_refusal()
    {
        conn.push_error(
            h.procedure,
            h.serial,
            &Error::new(ErrorCode::OperationDenied, why),
        );
        return Step::Handled;
    }
    let procedure = call.procedure();
    if procedure == Procedure::Events {
        subscribe(cx, conn, h.serial);
        return Step::Handled;
    }
    if procedure.class() == Class::Quick && cx.shared.limits.inline_quick_calls {
        let result = run(&mut DriverCalls::new(&*cx.shared.driver), call);
        conn.push_frame(Kind::Reply, h.procedure, h.serial, &Reply::encode(&result));
        return Step::Handled;
    }
    // Only calls for a worker wait for a place: a quick call answered
    // above holds nothing, so it never waits behind long ones.
    if !has_place(cx, conn) {
        return Step::Stall;
    }
    let (token, uid, serial) = (conn.token, conn.peer.uid, h.serial);
    let shared = cx.shared.clone();
    submit(cx, conn, procedure.class() == Class::Prio, move || {
        let mut calls = DriverCalls::new(&*shared.driver);
        let result = run(&mut calls, call);
        let mut frame = Vec::new();
        push_frame(
            &mut frame,
            Kind::Reply,
            procedure.number(),
            serial,
            &Reply::encode(&result),
        );
        shared.finish(Done {
            token,
            uid,
            frame,
            opened: calls.opened.map(|o| (serial, o)),
            console_over: None,
            wrote: None,
            stream_failed: None,
        });
    });
    Step::Handled
}

/// Runs `call`; a driver method that panics fails the call with
/// `Internal` and leaves the loop or the worker serving.
fn run(calls: &mut DriverCalls<'_>, call: Call) -> crate::error::Result<Reply> {
    let procedure = call.procedure();
    run_guarded(procedure.method(), || dispatch(calls, call))
}

/// Runs `f` (a call named `what`); a panic fails it with `Internal`.
pub(super) fn run_guarded<T>(
    what: impl std::fmt::Display,
    f: impl FnOnce() -> crate::driver::error::Result<T>,
) -> crate::driver::error::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(Error::new(
            ErrorCode::Internal,
            format!("{what} failed inside the daemon (a bug; see its log)"),
        ))
    })
}

/// Counts a job of `conn` in and queues it.
pub(super) fn submit(
    cx: &mut Cx,
    conn: &mut Conn,
    prio: bool,
    job: impl FnOnce() + Send + 'static,
) {
    conn.in_flight += 1;
    cx.jobs += 1;
    cx.uids.job(conn.peer.uid, true);
    cx.shared
        .in_flight
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    cx.pool.submit(prio, Box::new(job));
}

/// Opens `conn`'s event subscription (the call `serial`), and the
/// server's own subscription of the driver with the first one.
fn subscribe(cx: &mut Cx, conn: &mut Conn, serial: u32) {
    let procedure = Procedure::Events.number();
    if conn.sub.is_some() {
        conn.push_error(procedure, serial, &streams::one_subscription());
        return;
    }
    if let Err(e) = cx.open_source() {
        conn.push_error(procedure, serial, &e);
        return;
    }
    conn.sub = Some(Sub::new(serial));
    conn.push_frame(
        Kind::Reply,
        procedure,
        serial,
        &Reply::encode(&Ok(Reply::Events(()))),
    );
}

/// A stream frame from the client: console input, or the end of a
/// console or of the event subscription.
fn stream_input(cx: &mut Cx, conn: &mut Conn, serial: u32, body: &[u8]) -> Step {
    if conn.sub.as_ref().is_some_and(|s| s.serial == serial) {
        if let Ok(StreamMsg::End(_)) = decode_stream(body) {
            conn.sub = None;
        }
        return Step::Handled;
    }
    let Some(slot) = conn.consoles.get(&serial) else {
        // A stream already closed: its late frames are dropped.
        return Step::Handled;
    };
    match decode_stream(body) {
        Ok(StreamMsg::Data(bytes)) => {
            if !has_place(cx, conn) {
                return Step::Stall;
            }
            let console = slot.console.clone();
            let (token, uid) = (conn.token, conn.peer.uid);
            let shared: Arc<Shared> = cx.shared.clone();
            submit(cx, conn, false, move || {
                let (body, over) = write_console(&console, &bytes);
                drop(console);
                let mut frame = Vec::new();
                push_frame(
                    &mut frame,
                    Kind::Stream,
                    Procedure::Console.number(),
                    serial,
                    &body,
                );
                shared.finish(Done {
                    token,
                    uid,
                    frame,
                    opened: None,
                    console_over: over.then_some(serial),
                    wrote: None,
                    stream_failed: None,
                });
            });
        }
        Ok(StreamMsg::End(_) | StreamMsg::Written | StreamMsg::Lost(_)) | Err(_) => {
            cx.close_console(conn, serial);
        }
    }
    Step::Handled
}
