//! Volume uploads and downloads over libvirt's protocol
//! (`virStorageVolUpload`, `virStorageVolDownload`): the
//! [`VolumeStream`] the call opened, moved by workers one step at a
//! time, as libvirtd's `remote_daemon_stream.c` moves it.
//!
//! - A download reads a chunk on a worker whenever the connection's
//!   output is below its high-water mark, and sends it as `STREAM`
//!   messages of status `CONTINUE`; its end is an empty one. The client
//!   then finishes (or aborts) the stream, which `lv` confirms.
//! - An upload's `CONTINUE` messages are written in order, one write at a
//!   time; while one runs the next wait, up to [`INPUT_MAX`] bytes, and
//!   past that the client's messages wait unread (its socket fills: the
//!   flow control libvirtd has). The client's finish (`STREAM`, status
//!   `OK`) waits for the writes, then `VolumeStream::finish` syncs the
//!   file, and only then is it confirmed with an empty `OK`: the client's
//!   `virStreamFinish` returns once the bytes are on disk.
//! - A sparse stream (`VIR_STORAGE_VOL_*_SPARSE_STREAM`, virsh's
//!   `--sparse`) carries holes as `STREAM_HOLE` messages both ways: a
//!   download's holes are found with `SEEK_HOLE` and sent as their
//!   length; an upload's holes are punched into the file, in order with
//!   the data.
//! - A failure (a write, a read, the sync) is a `STREAM` message of
//!   status `ERROR` carrying the error, and the stream is over; the
//!   client's later messages for it are dropped.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::calls::{Done, Step, has_place, submit};
use super::conn::Conn;
use super::lv::{StreamKind, lv, push_stream_data, push_stream_error};
use super::reactor::Cx;
use crate::driver::{Piece, VolumeStream};
use crate::transport::libvirt::frame::{Header, Status, Type, push_message};
use crate::transport::libvirt::types::StreamHole;
use crate::transport::libvirt::xdr::to_bytes;

/// Bytes of upload one stream may hold while a write is in progress;
/// past it the client's messages wait unread.
const INPUT_MAX: usize = 1 << 20;

/// A volume stream shared by the loop and the worker moving it.
struct Vol {
    stream: Box<dyn VolumeStream>,
    /// A download gave its last bytes (and its end was queued).
    ended: bool,
}

/// An open upload or download of a connection.
pub(super) struct VolSlot {
    vol: Arc<Mutex<Vol>>,
    /// An upload (else a download).
    upload: bool,
    /// Holes travel as holes.
    sparse: bool,
    /// The procedure that opened it.
    proc: i32,
    /// A worker holds it.
    busy: bool,
    /// Upload bytes and holes that came while a write ran.
    input: VecDeque<Input>,
    queued: usize,
    /// The client finished the upload: its finish runs after the writes.
    finishing: bool,
}

/// The call `serial` opened `stream`: an upload or a download as the
/// call was.
pub(super) fn opened(cx: &mut Cx, conn: &mut Conn, serial: u32, stream: Box<dyn VolumeStream>) {
    let (kind, upload, sparse) = match lv(conn).streams.get(&serial).copied() {
        Some(k @ StreamKind::Upload { sparse }) => (k, true, sparse),
        Some(k @ StreamKind::Download { sparse }) => (k, false, sparse),
        // Aborted already, or not a volume's call.
        _ => return,
    };
    lv(conn).vols.insert(
        serial,
        VolSlot {
            vol: Arc::new(Mutex::new(Vol {
                stream,
                ended: false,
            })),
            upload,
            sparse,
            proc: kind.procedure(),
            busy: false,
            input: VecDeque::new(),
            queued: 0,
            finishing: false,
        },
    );
    pump(cx, conn);
}

/// What an upload takes, in order.
enum Input {
    Data(Vec<u8>),
    Hole(u64),
}

impl Input {
    /// What it counts against [`INPUT_MAX`]: its bytes, or for a hole
    /// about what its message took (so that holes too are bounded).
    fn cost(&self) -> usize {
        match self {
            Input::Data(d) => d.len(),
            Input::Hole(_) => 64,
        }
    }
}

/// Upload bytes from the client.
pub(super) fn input(cx: &mut Cx, conn: &mut Conn, serial: u32, body: &[u8]) -> Step {
    if body.is_empty() {
        return Step::Handled;
    }
    queue(cx, conn, serial, Input::Data(body.to_vec()))
}

/// A hole of `len` bytes in a sparse upload (checked by the caller).
pub(super) fn hole(cx: &mut Cx, conn: &mut Conn, serial: u32, len: u64) -> Step {
    queue(cx, conn, serial, Input::Hole(len))
}

/// Queues upload input for the stream's next write.
fn queue(cx: &mut Cx, conn: &mut Conn, serial: u32, input: Input) -> Step {
    let Some(slot) = lv(conn).vols.get_mut(&serial) else {
        return Step::Handled;
    };
    if slot.finishing {
        return Step::Handled;
    }
    if slot.busy {
        if slot.queued >= INPUT_MAX {
            return Step::Stall;
        }
    } else if !has_place(cx, conn) {
        return Step::Stall;
    }
    let slot = lv(conn).vols.get_mut(&serial).expect("looked up above");
    slot.queued += input.cost();
    slot.input.push_back(input);
    pump(cx, conn);
    Step::Handled
}

/// The client finished the upload `serial`: the finish runs once the
/// writes are done (a place for it is waited for).
pub(super) fn finish_upload(cx: &mut Cx, conn: &mut Conn, serial: u32) -> Step {
    let Some(slot) = lv(conn).vols.get(&serial) else {
        return Step::Handled;
    };
    if !slot.busy && slot.input.is_empty() && !has_place(cx, conn) {
        return Step::Stall;
    }
    if let Some(slot) = lv(conn).vols.get_mut(&serial) {
        slot.finishing = true;
    }
    pump(cx, conn);
    Step::Handled
}

/// The stream `serial` is over: forgets it (a worker holding it lets go
/// when its step ends).
pub(super) fn close(conn: &mut Conn, serial: u32) {
    lv(conn).vols.remove(&serial);
}

/// A worker's step on stream `serial` ended; `false` when `serial` is no
/// volume stream.
pub(super) fn step_done(cx: &mut Cx, conn: &mut Conn, serial: u32) -> bool {
    let Some(slot) = lv(conn).vols.get_mut(&serial) else {
        return false;
    };
    slot.busy = false;
    pump(cx, conn);
    true
}

/// Starts the next step of each stream that can take one: a write of
/// what came, an upload's finish, a download's next chunk while the
/// output has room.
pub(super) fn pump(cx: &mut Cx, conn: &mut Conn) {
    let Some(state) = conn.libvirt.as_ref() else {
        return;
    };
    if state.vols.is_empty() || conn.closing || conn.broken {
        return;
    }
    let room = conn.pending_out() < cx.shared.limits.out_high_water;
    let serials: Vec<u32> = state.vols.keys().copied().collect();
    for serial in serials {
        let slot = lv(conn).vols.get_mut(&serial).expect("listed above");
        if slot.busy {
            continue;
        }
        let step = if slot.upload {
            if !slot.input.is_empty() {
                slot.queued = 0;
                Some(Job::Write(std::mem::take(&mut slot.input)))
            } else if slot.finishing {
                Some(Job::Finish)
            } else {
                None
            }
        } else if room && !slot.vol.lock().unwrap_or_else(|p| p.into_inner()).ended {
            Some(Job::Read(slot.sparse))
        } else {
            None
        };
        let Some(job) = step else {
            continue;
        };
        if !has_place(cx, conn) {
            // Looked at again when a place is free.
            if let Job::Write(input) = job {
                let slot = lv(conn).vols.get_mut(&serial).expect("listed above");
                slot.queued = input.iter().map(Input::cost).sum();
                slot.input = input;
            }
            conn.stalled = true;
            return;
        }
        run(cx, conn, serial, job);
    }
}

/// One step of a stream on a worker.
enum Job {
    /// Write these upload bytes and holes, in order.
    Write(VecDeque<Input>),
    /// End the upload (sync) and confirm.
    Finish,
    /// Read and send the next chunk of a download (its holes as holes
    /// when `true`).
    Read(bool),
}

/// Writes an upload's input in order; stops at the first failure.
fn write(stream: &mut dyn VolumeStream, input: VecDeque<Input>) -> crate::error::Result<()> {
    // Consecutive data goes in one write.
    let mut data = Vec::new();
    for item in input {
        match item {
            Input::Data(d) => data.extend(d),
            Input::Hole(len) => {
                if !data.is_empty() {
                    stream.send(&std::mem::take(&mut data))?;
                }
                stream.send_hole(len)?;
            }
        }
    }
    if data.is_empty() {
        Ok(())
    } else {
        stream.send(&data)
    }
}

fn run(cx: &mut Cx, conn: &mut Conn, serial: u32, job: Job) {
    let slot = lv(conn).vols.get_mut(&serial).expect("the caller found it");
    slot.busy = true;
    let (vol, proc) = (slot.vol.clone(), slot.proc);
    let (token, uid) = (conn.token, conn.peer.uid);
    let shared = cx.shared.clone();
    submit(cx, conn, false, move || {
        let mut out = Vec::new();
        let mut guard = vol.lock().unwrap_or_else(|p| p.into_inner());
        let (result, over) = match job {
            Job::Write(input) => (write(&mut *guard.stream, input), false),
            Job::Finish => {
                let r = guard.stream.finish();
                if r.is_ok() {
                    // The finish confirmed: an empty message, status OK.
                    push_message(
                        &mut out,
                        &Header::remote(proc, Type::Stream, serial, Status::Ok),
                        &[],
                    );
                }
                (r, true)
            }
            Job::Read(sparse) => {
                let piece = if sparse {
                    guard.stream.recv_piece()
                } else {
                    guard.stream.recv().map(Piece::Data)
                };
                match piece {
                    Ok(Piece::Data(data)) => {
                        // Empty: the end of the download.
                        guard.ended = data.is_empty();
                        push_stream_data(&mut out, proc, serial, &data);
                        (Ok(()), false)
                    }
                    Ok(Piece::Hole(len)) => {
                        push_hole(&mut out, proc, serial, len);
                        (Ok(()), false)
                    }
                    Err(e) => (Err(e), false),
                }
            }
        };
        drop(guard);
        drop(vol);
        if let Err(e) = &result {
            push_stream_error(&mut out, proc, serial, e);
        }
        shared.finish(Done {
            token,
            uid,
            frame: out,
            opened: None,
            console_over: None,
            wrote: Some(serial),
            stream_failed: (over || result.is_err()).then_some(serial),
        });
    });
}

/// Appends a `STREAM_HOLE` message: `len` bytes of zeros, skipped. A
/// hole longer than its field holds goes as several.
fn push_hole(out: &mut Vec<u8>, proc: i32, serial: u32, len: u64) {
    let header = Header::remote(proc, Type::StreamHole, serial, Status::Continue);
    let mut left = len;
    while left > 0 {
        let n = left.min(i64::MAX as u64);
        let body = to_bytes(&StreamHole {
            length: n as i64,
            flags: 0,
        });
        push_message(out, &header, &body);
        left -= n;
    }
}
