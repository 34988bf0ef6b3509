//! The I/O loop: one thread, epoll over the listening sockets, every
//! connection, the consoles and the driver's event stream, and a waker
//! for the workers and the [`Server`](super::Server) handle. Level
//! triggered: what epoll watches for a connection says what the loop
//! wants of it now (read only while it may take calls, write only while
//! output waits), so a client that does not read, or has its calls
//! slots full, is simply not read.

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};

mod accept;
mod timers;

use accept::Listener;

use super::calls::{self, Done, Step};
use super::conn::{Conn, Input};
use super::limits::Uids;
use super::pool::Pool;
use super::streams::{self, ConsoleRead, ConsoleSlot, Drained, Source};
use super::tied::{Tied, TiedKind};
use super::{Command, Shared};
use crate::error::{Error, ErrorCode, Result};
use crate::transport::dispatch::Opened;
use crate::transport::spin::Spinner;

/// Token kinds (the top byte of an epoll token).
const WAKER: u64 = 0;
const EVENTS: u64 = 1;
const LISTENER: u64 = 1 << 56;
const CONN: u64 = 2 << 56;
const CONSOLE: u64 = 3 << 56;
const KIND: u64 = 0xff << 56;

/// How often consoles are looked at without being readable (to notice
/// one taken over, or one without a descriptor), and an event stream
/// without a descriptor is drained.
const TICK: Duration = Duration::from_millis(200);

/// How long connections have to take their last replies when the server
/// stops.
const STOP_FLUSH: Duration = Duration::from_secs(5);

/// How many events one pass fans out before serving connections again.
const EVENT_BATCH: usize = 1024;

/// Wakes the loop from other threads: a byte on a socket pair. Every
/// wake-up writes its byte (a full pair is readable already), so none is
/// lost between the loop's draining and its looking at what it was for.
pub(super) struct Waker {
    rx: UnixStream,
    tx: UnixStream,
}

impl Waker {
    pub(super) fn new() -> Result<Waker> {
        let (rx, tx) =
            UnixStream::pair().map_err(|e| Error::io("cannot create the server's waker", e))?;
        for s in [&rx, &tx] {
            s.set_nonblocking(true)
                .map_err(|e| Error::io("cannot configure the server's waker", e))?;
        }
        Ok(Waker { rx, tx })
    }

    /// Wakes the loop.
    pub(super) fn wake(&self) {
        let _ = (&self.tx).write(&[1]);
    }

    /// Takes the pending wake-ups, before looking at what they were for.
    fn reset(&self) {
        let mut buf = [0u8; 256];
        while matches!((&self.rx).read(&mut buf), Ok(n) if n > 0) {}
    }
}

/// Everything of the loop but the connections, so that a connection and
/// the rest can be borrowed at once.
pub(super) struct Cx {
    pub shared: Arc<Shared>,
    epoll: Epoll,
    pub pool: Pool,
    pub uids: Uids,
    source: Source,
    listeners: Vec<Option<Listener>>,
    /// Console tokens to (connection token, serial).
    console_of: HashMap<u64, (u64, u32)>,
    next_token: u64,
    /// Calls on the workers, of all connections (closed ones too).
    pub jobs: usize,
    stopping: bool,
    /// Connections with a frame waiting for a place, or not read because
    /// of their uid's bytes: looked at again after each pass.
    waiting: BTreeSet<u64>,
    /// The earliest deadline of a connection.
    next_check: Option<Instant>,
    /// Uids over their byte budget (each is logged once per time).
    over_budget: BTreeSet<u32>,
    euid: u32,
    /// Refused sockets kept open a moment, until then (see
    /// `accept::refuse`).
    lingering: std::collections::VecDeque<(UnixStream, Instant)>,
}

/// The loop.
pub(super) struct Loop {
    cx: Cx,
    conns: HashMap<u64, Conn>,
    scratch: Vec<u8>,
    /// The connection served last, tried first while polling.
    last: Option<u64>,
}

impl Cx {
    fn token(&mut self, kind: u64) -> u64 {
        self.next_token += 1;
        kind | self.next_token
    }

    fn watch(&self, fd: impl AsFd, token: u64, flags: EpollFlags) {
        if let Err(e) = self.epoll.add(fd, EpollEvent::new(flags, token)) {
            self.shared
                .log
                .error(&format!("cannot watch a descriptor: {e}"));
        }
    }

    fn rewatch(&self, fd: impl AsFd, token: u64, flags: EpollFlags) {
        let _ = self.epoll.modify(fd, &mut EpollEvent::new(flags, token));
    }

    /// Makes epoll watch a connection for `want` (read, write or both).
    /// A socket stays registered with what it wants; a pair of pipes is
    /// registered one descriptor per side, and only while that side is
    /// wanted: a pipe whose other end is gone is reported whatever is
    /// asked, and would wake the loop again and again.
    fn set_interest(&self, conn: &mut Conn, want: EpollFlags) {
        let (token, had) = (conn.token, conn.interest);
        conn.interest = want;
        let Some(p) = &conn.pipes else {
            self.rewatch(&conn.stream, token, want);
            return;
        };
        for (fd, side) in [
            (&p.read, EpollFlags::EPOLLIN),
            (&p.write, EpollFlags::EPOLLOUT),
        ] {
            match (had.contains(side), want.contains(side)) {
                (false, true) => self.watch(fd, token, side),
                (true, false) => {
                    let _ = self.epoll.delete(fd);
                }
                _ => {}
            }
        }
    }

    /// A connection was handed its pipes: its socket leaves epoll, and
    /// its pipes are watched from the next `settle`.
    fn adopted(&self, conn: &mut Conn) {
        let _ = self.epoll.delete(&conn.stream);
        conn.interest = EpollFlags::empty();
    }

    /// Opens the server's subscription of the driver, if not yet open.
    pub(super) fn open_source(&mut self) -> Result<()> {
        if self.source.is_open() {
            return Ok(());
        }
        let stream = self.shared.driver.events()?;
        if let Some(fd) = self.source.open(stream) {
            let _ = self
                .epoll
                .add(fd, EpollEvent::new(EpollFlags::EPOLLIN, EVENTS));
        }
        Ok(())
    }

    /// Closes console `serial` of `conn`: the client may open it again
    /// with its very next call (a worker still writing holds it until it
    /// is done).
    pub(super) fn close_console(&mut self, conn: &mut Conn, serial: u32) {
        if let Some(slot) = conn.consoles.remove(&serial) {
            if let Some(fd) = &slot.fd
                && slot.watched
            {
                let _ = self.epoll.delete(fd);
            }
            self.console_of.remove(&slot.token);
        }
    }

    /// Whether `conn` may be read now.
    fn may_read(&self, conn: &Conn) -> bool {
        let limits = &self.shared.limits;
        !(conn.closing || conn.eof || conn.broken || conn.stalled)
            && conn.pending_out() < limits.out_high_water
            && (conn.peer.privileged
                || self.uids.of(conn.peer.uid).bytes < limits.max_bytes_per_uid)
    }
}

impl Loop {
    pub(super) fn new(shared: Arc<Shared>) -> Result<Loop> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)
            .map_err(|e| Error::io("cannot create the server's epoll", e.into()))?;
        epoll
            .add(
                &shared.waker.rx,
                EpollEvent::new(EpollFlags::EPOLLIN, WAKER),
            )
            .map_err(|e| Error::io("cannot watch the server's waker", e.into()))?;
        let limits = &shared.limits;
        let pool = Pool::start(limits.workers, limits.prio_workers)?;
        Ok(Loop {
            cx: Cx {
                shared,
                epoll,
                pool,
                uids: Uids::default(),
                source: Source::default(),
                listeners: Vec::new(),
                console_of: HashMap::new(),
                next_token: 0,
                jobs: 0,
                stopping: false,
                waiting: BTreeSet::new(),
                next_check: None,
                over_budget: BTreeSet::new(),
                euid: nix::unistd::geteuid().as_raw(),
                lingering: Default::default(),
            },
            conns: HashMap::new(),
            scratch: vec![0; 64 * 1024],
            last: None,
        })
    }

    /// Serves until stopped and drained; then closes everything and joins
    /// the workers.
    pub(super) fn run(&mut self) {
        let mut events = vec![EpollEvent::empty(); 256];
        let mut next_tick = Instant::now() + TICK;
        let mut spinner = Spinner::default();
        loop {
            let now = Instant::now();
            let ticking = self.ticking();
            let wake_at = [self.cx.next_check, ticking.then_some(next_tick)]
                .into_iter()
                .flatten()
                .min();
            let timeout = match wake_at {
                None => EpollTimeout::NONE,
                Some(at) => {
                    let left = at.saturating_duration_since(now) + Duration::from_micros(999);
                    EpollTimeout::try_from(left).unwrap_or(EpollTimeout::MAX)
                }
            };
            let n = self.wait(&mut events, timeout, &mut spinner);
            let now = Instant::now();
            if let Some(t) = self.last.filter(|_| n == 0) {
                // Bytes `wait` found on the connection served last.
                self.read_directly(t, now);
            }
            for ev in &events[..n] {
                self.on_event(ev.data(), ev.events(), now);
            }
            if ticking && now >= next_tick {
                next_tick = now + TICK;
                self.tick(now);
            }
            if self.cx.next_check.is_some_and(|t| now >= t) {
                self.check_deadlines(now);
            }
            self.retry_waiting(now);
            if self.cx.stopping && self.conns.is_empty() && self.cx.jobs == 0 {
                break;
            }
        }
        self.cx.source.close();
        self.cx.pool.stop();
    }

    /// Waits for events: polls for a moment first (a client in a loop of
    /// calls sends its next one within microseconds, and waking from a
    /// sleep costs more than that; see `spin`), then sleeps until
    /// `timeout`. While polling, the connection served last is also
    /// tried with a plain read (a caller in a loop of calls is most
    /// likely the next to send): `0` with `self.last`'s bytes waiting in
    /// its buffer means the caller should serve it at once.
    fn wait(
        &mut self,
        events: &mut [EpollEvent],
        timeout: EpollTimeout,
        spinner: &mut Spinner,
    ) -> usize {
        let started = Instant::now();
        let budget = spinner.budget();
        if !budget.is_zero() {
            loop {
                match self.cx.epoll.wait(events, EpollTimeout::ZERO) {
                    Ok(0) | Err(Errno::EINTR) => {}
                    Ok(n) => return n,
                    Err(_) => break,
                }
                if let Some(t) = self.last
                    && self.peek_last(t)
                {
                    return 0;
                }
                if started.elapsed() >= budget {
                    break;
                }
                std::thread::yield_now();
            }
        }
        self.last = None;
        let epoll = &self.cx.epoll;
        match epoll.wait(events, timeout) {
            Ok(n) => {
                if n > 0 {
                    spinner.adapt(started.elapsed());
                }
                n
            }
            Err(Errno::EINTR) => 0,
            Err(e) => {
                self.cx.shared.log.error(&format!("epoll failed: {e}"));
                std::thread::sleep(Duration::from_millis(10));
                0
            }
        }
    }

    /// Whether the connection served last has bytes waiting (read into
    /// its buffer now).
    fn peek_last(&mut self, token: u64) -> bool {
        let Some(conn) = self.conns.get_mut(&token) else {
            self.last = None;
            return false;
        };
        if !self.cx.may_read(conn) {
            return false;
        }
        match conn.read_some(&mut self.scratch) {
            Input::Got(_) => true,
            Input::Empty => false,
            Input::Adopted => {
                self.cx.adopted(conn);
                true
            }
            Input::Eof => {
                conn.eof = true;
                true
            }
        }
    }

    /// Serves what `peek_last` read from connection `token`.
    fn read_directly(&mut self, token: u64, now: Instant) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        if conn.inbuf.is_empty() && !conn.eof {
            self.settle(token, now);
            return;
        }
        if conn.eof && !conn.inbuf.is_empty() && conn.whole_frame().ok().flatten().is_none() {
            let e = Error::new(ErrorCode::Protocol, "the connection ended inside a frame");
            conn.fail(0, 0, &e, now);
        } else {
            serve_input(&mut self.cx, conn, now);
        }
        self.settle(token, now);
    }

    fn ticking(&self) -> bool {
        (self.cx.source.is_open() && self.cx.source.fd.is_none()) || !self.cx.console_of.is_empty()
    }

    fn on_event(&mut self, token: u64, flags: EpollFlags, now: Instant) {
        match token & KIND {
            _ if token == WAKER => {
                self.cx.shared.waker.reset();
                self.commands(now);
                self.completions(now);
            }
            _ if token == EVENTS => self.pump_events(now),
            LISTENER => self.accept((token & !KIND) as usize, now),
            CONN => {
                let Some(conn) = self.conns.get_mut(&token) else {
                    return;
                };
                if conn.pipes.is_some() {
                    // Two descriptors share the token, so the event does
                    // not say which: each side is tried as it is
                    // watched. A hang-up of the read pipe is read as its
                    // end (calls sent before it are still answered); a
                    // write pipe without reader fails the write (EPIPE).
                    if conn.interest.contains(EpollFlags::EPOLLIN) {
                        read_input(&mut self.cx, conn, &mut self.scratch, now);
                        self.last = Some(token);
                    }
                    if conn.interest.contains(EpollFlags::EPOLLOUT) {
                        conn.flush();
                    }
                } else if flags.intersects(EpollFlags::EPOLLHUP | EpollFlags::EPOLLERR) {
                    conn.broken = true;
                } else {
                    if flags.contains(EpollFlags::EPOLLIN) {
                        read_input(&mut self.cx, conn, &mut self.scratch, now);
                        self.last = Some(token);
                    }
                    if flags.contains(EpollFlags::EPOLLOUT) {
                        conn.flush();
                    }
                }
                self.settle(token, now);
            }
            CONSOLE => {
                if let Some(&(owner, serial)) = self.cx.console_of.get(&token) {
                    self.console_ready(owner, serial);
                    self.settle(owner, now);
                }
            }
            _ => {}
        }
    }

    fn commands(&mut self, now: Instant) {
        let commands = std::mem::take(
            &mut *self
                .cx
                .shared
                .commands
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        for c in commands {
            match c {
                Command::Listen(socket, options, protocol) if !self.cx.stopping => {
                    let token = LISTENER | self.cx.listeners.len() as u64;
                    self.cx.watch(&socket, token, EpollFlags::EPOLLIN);
                    self.cx.listeners.push(Some(Listener {
                        socket,
                        options,
                        protocol,
                        clients: 0,
                        others: 0,
                        paused_until: None,
                    }));
                }
                Command::Listen(..) => {}
                Command::Stop => self.stop(now),
            }
        }
    }

    /// Stops accepting and reading; connections close once their calls
    /// are answered.
    fn stop(&mut self, now: Instant) {
        self.cx.stopping = true;
        for l in self.cx.listeners.iter_mut() {
            if let Some(l) = l.take() {
                let _ = self.cx.epoll.delete(&l.socket);
            }
        }
        let tokens: Vec<u64> = self.conns.keys().copied().collect();
        for t in tokens {
            if let Some(c) = self.conns.get_mut(&t) {
                c.closing = true;
                c.stalled = false;
                c.inbuf = Vec::new();
            }
            self.settle(t, now);
        }
    }

    fn completions(&mut self, now: Instant) {
        let done = std::mem::take(
            &mut *self
                .cx
                .shared
                .done
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        for d in done {
            self.complete(d, now);
        }
    }

    fn complete(&mut self, d: Done, now: Instant) {
        self.cx.jobs -= 1;
        self.cx.uids.job(d.uid, false);
        self.cx.shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        // A domain started with autodestroy is tied to its connection,
        // or destroyed at once when the connection is already gone.
        let (opened, tied) = match d.opened {
            Some((_, Opened::Tied(dom))) => (None, Some(TiedKind::Autodestroy(dom))),
            Some((_, Opened::IncomingLease(uuid))) => (None, Some(TiedKind::Incoming(uuid))),
            Some((_, Opened::AwaitingConfirm(dom))) => (None, Some(TiedKind::AwaitingConfirm(dom))),
            other => (other, None),
        };
        let (opened, confirmed) = match opened {
            Some((_, Opened::Confirmed(dom))) => (None, Some(dom)),
            other => (other, None),
        };
        let tied = tied.map(|k| Tied::new(k, self.cx.shared.clone(), self.cx.pool.submitter()));
        let Some(conn) = self.conns.get_mut(&d.token) else {
            return;
        };
        if let Some(dom) = confirmed {
            conn.tied.retain_mut(|t| !t.settle_confirmed(&dom));
        }
        conn.tied.extend(tied);
        conn.in_flight -= 1;
        if !conn.broken {
            conn.out.extend_from_slice(&d.frame);
        }
        if let Some(serial) = d.console_over {
            self.cx.close_console(conn, serial);
        }
        if conn.libvirt.is_some() {
            if let Some(serial) = d.stream_failed {
                super::lv::stream_failed(conn, serial);
            }
            if let Some(serial) = d.wrote {
                super::lv::stream_step_done(&mut self.cx, conn, serial);
            }
        }
        match opened {
            Some((serial, Opened::Console(console))) if !conn.closing && !conn.broken => {
                let token = self.cx.token(CONSOLE);
                let mut slot = ConsoleSlot::new(console, token);
                if let Some(fd) = &slot.fd {
                    self.cx.watch(fd, token, EpollFlags::EPOLLIN);
                    slot.watched = true;
                }
                self.cx.console_of.insert(token, (d.token, serial));
                conn.consoles.insert(serial, slot);
            }
            Some((serial, Opened::Volume(stream))) if !conn.closing && !conn.broken => {
                super::lv_vol::opened(&mut self.cx, conn, serial, stream);
            }
            _ => {}
        }
        // A console a worker held may have output waiting.
        let serials: Vec<u32> = conn.consoles.keys().copied().collect();
        for s in serials {
            self.console_ready(d.token, s);
        }
        if let Some(conn) = self.conns.get_mut(&d.token)
            && conn.stalled
        {
            conn.stalled = false;
            serve_input(&mut self.cx, conn, now);
        }
        self.settle(d.token, now);
    }

    /// Reads console `serial` of connection `owner` if it has room.
    fn console_ready(&mut self, owner: u64, serial: u32) {
        let Some(conn) = self.conns.get_mut(&owner) else {
            return;
        };
        let high = self.cx.shared.limits.out_high_water;
        let room = conn.pending_out() < high && !conn.closing;
        let read = if room {
            streams::read_console(conn, serial)
        } else {
            ConsoleRead::Busy
        };
        if let ConsoleRead::Ended = read {
            self.cx.close_console(conn, serial);
            return;
        }
        // Not watched while it cannot be read (no room, a worker holds
        // it), so that a readable descriptor does not spin the loop;
        // watched again once the output drains or the write is done.
        let want = !matches!(read, ConsoleRead::Busy);
        if let Some(slot) = conn.consoles.get_mut(&serial)
            && let Some(fd) = &slot.fd
            && slot.watched != want
        {
            let flags = if want {
                EpollFlags::EPOLLIN
            } else {
                EpollFlags::empty()
            };
            self.cx.rewatch(fd, slot.token, flags);
            slot.watched = want;
        }
    }

    /// Fans out the driver's events to every subscriber.
    fn pump_events(&mut self, now: Instant) {
        let limits = &self.cx.shared.limits;
        let (queue, high) = (limits.event_queue, limits.out_high_water);
        match self.cx.source.drain(EVENT_BATCH) {
            Drained::Events(events, lost) => {
                if events.is_empty() && !lost {
                    return;
                }
                let mut touched = Vec::new();
                let plain: Vec<crate::driver::Event> =
                    events.iter().map(|f| f.event.clone()).collect();
                for conn in self.conns.values_mut().filter(|c| c.sub.is_some()) {
                    if conn.libvirt.is_some() {
                        if !super::lv::deliver(conn, &plain, queue) {
                            self.cx.shared.log.warn(&format!(
                                "closing a libvirt client of uid {}: it left {queue} events unread",
                                conn.peer.uid
                            ));
                            conn.close_soon(now);
                        }
                    } else {
                        streams::deliver(conn, &events, lost, queue);
                    }
                    streams::feed(conn, high);
                    touched.push(conn.token);
                }
                for t in touched {
                    self.settle(t, now);
                }
            }
            Drained::Ended(why) => {
                if let Some(fd) = self.cx.source.close() {
                    let _ = self.cx.epoll.delete(&fd);
                }
                self.cx
                    .shared
                    .log
                    .error(&format!("the driver's event stream ended: {why}"));
                let tokens: Vec<u64> = self.conns.keys().copied().collect();
                for t in tokens {
                    if let Some(c) = self.conns.get_mut(&t) {
                        streams::end_sub(c, &why);
                    }
                    self.settle(t, now);
                }
            }
        }
    }

    /// Brings a connection up to date after anything happened to it:
    /// writes what it can, feeds it events, counts its bytes, closes it
    /// when it is done, and sets what epoll watches for it.
    fn settle(&mut self, token: u64, now: Instant) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        let cx = &mut self.cx;
        let high = cx.shared.limits.out_high_water;
        if !conn.broken {
            conn.flush();
            if conn.sub.is_some() && conn.pending_out() < high {
                streams::feed(conn, high);
                conn.flush();
            }
        }
        // Consoles left unwatched for want of room are watched again once
        // there is room and no worker holds them.
        if conn.pending_out() < high && !conn.closing {
            for slot in conn.consoles.values_mut() {
                if let Some(fd) = &slot.fd
                    && !slot.watched
                    && slot.console.try_lock().is_ok()
                {
                    cx.rewatch(fd, slot.token, EpollFlags::EPOLLIN);
                    slot.watched = true;
                }
            }
        }
        // A download sends its next chunk once the output has room.
        if conn.libvirt.is_some() && !conn.broken {
            super::lv_vol::pump(cx, conn);
        }
        let bytes = conn.buffered();
        cx.uids.rebytes(conn.peer.uid, conn.accounted, bytes);
        conn.accounted = bytes;
        if cx.stopping && conn.in_flight == 0 && conn.close_by.is_none() {
            conn.close_by = Some(now + STOP_FLUSH);
        }
        let done = (conn.closing || (conn.eof && conn.inbuf.is_empty()))
            && conn.in_flight == 0
            && conn.pending_out() == 0;
        if conn.broken || done || conn.close_by.is_some_and(|t| now >= t) {
            self.close(token);
            return;
        }
        let mut want = EpollFlags::empty();
        if cx.may_read(conn) {
            want |= EpollFlags::EPOLLIN;
        }
        if conn.pending_out() > 0 {
            want |= EpollFlags::EPOLLOUT;
        }
        if want != conn.interest {
            cx.set_interest(conn, want);
        }
        // Not read for want of a place, or because its uid holds too
        // much: looked at again after each pass.
        // (Root and the daemon's own uid have no budget.)
        let mut over = false;
        if !conn.peer.privileged {
            let uid = conn.peer.uid;
            let (max_bytes, held) = (cx.shared.limits.max_bytes_per_uid, cx.uids.of(uid).bytes);
            over = !(conn.closing || conn.eof) && held >= max_bytes;
            if over && cx.over_budget.insert(uid) {
                cx.shared.log.warn(&format!(
                    "uid {uid} holds {held} bytes of the daemon's buffers (the limit is {max_bytes}); its connections are not read until that drains"
                ));
            } else if held < max_bytes {
                cx.over_budget.remove(&uid);
            }
        }
        if conn.stalled || over {
            cx.waiting.insert(token);
        } else if !cx.waiting.is_empty() {
            cx.waiting.remove(&token);
        }
        if let Some(d) = conn.deadline() {
            cx.next_check = Some(cx.next_check.map_or(d, |t| t.min(d)));
        }
    }

    /// Looks again at connections held back.
    fn retry_waiting(&mut self, now: Instant) {
        if self.cx.waiting.is_empty() {
            return;
        }
        let tokens: Vec<u64> = self.cx.waiting.iter().copied().collect();
        for t in tokens {
            if let Some(conn) = self.conns.get_mut(&t)
                && conn.stalled
            {
                conn.stalled = false;
                serve_input(&mut self.cx, conn, now);
            }
            self.settle(t, now);
        }
    }

    /// Closes a connection and gives back what it held.
    fn close(&mut self, token: u64) {
        let Some(mut conn) = self.conns.remove(&token) else {
            return;
        };
        let cx = &mut self.cx;
        if conn.pipes.is_some() {
            cx.set_interest(&mut conn, EpollFlags::empty());
        } else {
            let _ = cx.epoll.delete(&conn.stream);
        }
        let serials: Vec<u32> = conn.consoles.keys().copied().collect();
        for s in serials {
            cx.close_console(&mut conn, s);
        }
        cx.uids.rebytes(conn.peer.uid, conn.accounted, 0);
        cx.uids.client(conn.peer.listener, conn.peer.uid, false);
        if let Some(Some(l)) = cx.listeners.get_mut(conn.peer.listener) {
            l.clients -= 1;
            if !conn.peer.privileged {
                l.others -= 1;
            }
        }
        cx.waiting.remove(&token);
        cx.shared.clients.fetch_sub(1, Ordering::SeqCst);
        let _ = conn.stream.shutdown(std::net::Shutdown::Both);
    }
}

/// Reads what a connection sent and handles its whole frames.
fn read_input(cx: &mut Cx, conn: &mut Conn, scratch: &mut [u8], now: Instant) {
    // A few reads at most, so that one busy client does not hold the
    // loop from the others.
    for _ in 0..4 {
        if !cx.may_read(conn) {
            return;
        }
        match conn.read_some(scratch) {
            Input::Got(full) => {
                serve_input(cx, conn, now);
                // A short read took all there was: epoll says when more
                // comes, without a read that finds nothing.
                if !full {
                    return;
                }
            }
            Input::Empty => return,
            Input::Adopted => {
                cx.adopted(conn);
                return;
            }
            Input::Eof => {
                conn.eof = true;
                if !conn.inbuf.is_empty() && !conn.stalled {
                    let e = Error::new(ErrorCode::Protocol, "the connection ended inside a frame");
                    conn.fail(0, 0, &e, now);
                }
                return;
            }
        }
    }
}

/// Handles the whole frames in a connection's input, until one must wait
/// for a place.
fn serve_input(cx: &mut Cx, conn: &mut Conn, now: Instant) {
    while !(conn.closing || conn.broken || conn.stalled) {
        match conn.whole_frame() {
            Err(e) => {
                // Garbage, an oversized length: answer once with the
                // reason and close only this connection.
                conn.fail(0, 0, &e, now);
                return;
            }
            Ok(None) => {
                if conn.inbuf.is_empty() {
                    conn.frame_by = None;
                } else if conn.eof {
                    let e = Error::new(ErrorCode::Protocol, "the connection ended inside a frame");
                    conn.fail(0, 0, &e, now);
                } else if conn.frame_by.is_none() {
                    conn.frame_by = Some(now + cx.shared.limits.frame_timeout);
                }
                return;
            }
            Ok(Some(n)) => {
                let buf = std::mem::take(&mut conn.inbuf);
                match calls::handle(cx, conn, &buf[..n], now) {
                    Step::Stall => {
                        // Whole, it waits for a place, however long the
                        // calls in progress take: no frame deadline.
                        conn.inbuf = buf;
                        conn.stalled = true;
                        conn.frame_by = None;
                    }
                    Step::Handled if conn.closing => {}
                    Step::Handled => {
                        conn.inbuf = buf;
                        conn.consume(n);
                        conn.frame_by = None;
                    }
                }
            }
        }
        if conn.eof && conn.inbuf.is_empty() {
            return;
        }
    }
}
