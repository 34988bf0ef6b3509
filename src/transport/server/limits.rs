//! What one client, one connection and one uid may hold of the daemon:
//! places, calls in progress, buffered bytes, event subscriptions. The
//! uid the daemon runs as and root are not limited per uid (they own the
//! daemon); every other uid is, so that no local user, through the
//! read-only socket, can take what others need.

use std::collections::HashMap;
use std::time::Duration;

use super::super::wire::MAX_FRAME;

/// How long a new connection has to say hello (its first frame, whole)
/// before it is told `Timeout` and closed: a connection that never
/// speaks must not hold one of the daemon's places for good.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a frame, once its first byte came, has to arrive whole. A
/// client that starts a frame and trickles or stops is told `Timeout`
/// and closed, so it cannot pin a frame buffer.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a libvirt client that asked for keepalive may stay silent
/// before the daemon PINGs it (libvirtd's `keepalive_interval`).
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);

/// How many PINGs such a client may leave unanswered before the daemon
/// closes it (libvirtd's `keepalive_count`): silent for
/// `(count + 1) * interval`, 30 s by default, it is gone.
pub const KEEPALIVE_COUNT: u32 = 5;

/// The largest frame a read-only connection may send. Its calls are
/// small (a name, a handle, a filter); 64 KiB is generous, and keeps what
/// a local user's connection can make the daemon buffer small.
pub const READ_ONLY_MAX_FRAME: usize = 64 * 1024;

/// The limits of a server; see each field for its default.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Calls of one connection in progress at once (libvirt's
    /// `max_client_requests`); more wait unread. Default 5.
    pub max_requests_per_client: usize,
    /// Places each uid other than root and the daemon's own may hold on
    /// each socket. Default 32.
    pub max_clients_per_uid: usize,
    /// Places of each socket that only root and the daemon's own uid may
    /// take, so other users filling a socket cannot lock them out.
    /// Default 8.
    pub reserved_clients: usize,
    /// Bytes the daemon buffers for one such uid (frames coming in,
    /// replies and events going out) before it stops reading that uid's
    /// calls until they drain. Default 16 MiB.
    pub max_bytes_per_uid: usize,
    /// Calls one such uid may have on the workers at once; more wait.
    /// Default: half the general workers.
    pub max_jobs_per_uid: usize,
    /// General workers. Default 8.
    pub workers: usize,
    /// Workers kept for priority calls (`destroy`). Default 2.
    pub prio_workers: usize,
    /// Events waiting for one subscriber; past it, events are dropped
    /// and the subscriber is told how many, once. Default 1024.
    pub event_queue: usize,
    /// Bytes of replies and events waiting for a client to read before
    /// the daemon stops reading its calls and feeding it events. Default
    /// 256 KiB.
    pub out_high_water: usize,
    /// The largest frame of a read-write connection. Default
    /// [`MAX_FRAME`].
    pub max_frame: usize,
    /// The largest frame of a read-only connection. Default
    /// [`READ_ONLY_MAX_FRAME`].
    pub read_only_max_frame: usize,
    /// See [`HELLO_TIMEOUT`].
    pub hello_timeout: Duration,
    /// See [`FRAME_TIMEOUT`].
    pub frame_timeout: Duration,
    /// See [`KEEPALIVE_INTERVAL`]; zero turns the daemon's PINGs off
    /// (PINGs from clients are still answered).
    pub keepalive_interval: Duration,
    /// See [`KEEPALIVE_COUNT`].
    pub keepalive_count: u32,
    /// Answer calls that never wait (lookups, `list`, `info`) in the I/O
    /// loop instead of handing them to a worker: the handoff costs more
    /// than such a call. Only for drivers whose quick calls indeed never
    /// wait (LocalDriver's read a snapshot). Default true.
    pub inline_quick_calls: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_requests_per_client: 5,
            max_clients_per_uid: 32,
            reserved_clients: 8,
            max_bytes_per_uid: 16 * 1024 * 1024,
            max_jobs_per_uid: 4,
            workers: 8,
            prio_workers: 2,
            event_queue: 1024,
            out_high_water: 256 * 1024,
            max_frame: MAX_FRAME,
            read_only_max_frame: READ_ONLY_MAX_FRAME,
            hello_timeout: HELLO_TIMEOUT,
            frame_timeout: FRAME_TIMEOUT,
            keepalive_interval: KEEPALIVE_INTERVAL,
            keepalive_count: KEEPALIVE_COUNT,
            inline_quick_calls: true,
        }
    }
}

/// What one uid holds now.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Usage {
    /// Its connections, per listener (by the listener's index).
    pub clients: usize,
    /// Bytes buffered for it.
    pub bytes: usize,
    /// Its calls on the workers.
    pub jobs: usize,
}

/// Per-uid usage, kept by the I/O loop alone.
#[derive(Debug, Default)]
pub(super) struct Uids {
    used: HashMap<u32, Usage>,
    /// Clients per (listener, uid).
    per_listener: HashMap<(usize, u32), usize>,
}

impl Uids {
    /// What `uid` holds.
    pub(super) fn of(&self, uid: u32) -> Usage {
        self.used.get(&uid).copied().unwrap_or_default()
    }

    /// `uid`'s clients on listener `listener`.
    pub(super) fn clients_on(&self, listener: usize, uid: u32) -> usize {
        self.per_listener
            .get(&(listener, uid))
            .copied()
            .unwrap_or(0)
    }

    fn entry(&mut self, uid: u32) -> &mut Usage {
        self.used.entry(uid).or_default()
    }

    /// Counts a client in or out.
    pub(super) fn client(&mut self, listener: usize, uid: u32, added: bool) {
        let n = self.per_listener.entry((listener, uid)).or_default();
        if added {
            *n += 1;
            self.entry(uid).clients += 1;
        } else {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_listener.remove(&(listener, uid));
            }
            let u = self.entry(uid);
            u.clients = u.clients.saturating_sub(1);
            self.forget_if_idle(uid);
        }
    }

    /// Moves `uid`'s buffered bytes from `was` to `now`.
    pub(super) fn rebytes(&mut self, uid: u32, was: usize, now: usize) {
        if was != now {
            let u = self.entry(uid);
            u.bytes = (u.bytes + now).saturating_sub(was);
            self.forget_if_idle(uid);
        }
    }

    /// Counts a job in or out.
    pub(super) fn job(&mut self, uid: u32, added: bool) {
        let u = self.entry(uid);
        if added {
            u.jobs += 1;
        } else {
            u.jobs = u.jobs.saturating_sub(1);
            self.forget_if_idle(uid);
        }
    }

    fn forget_if_idle(&mut self, uid: u32) {
        if let Some(u) = self.used.get(&uid)
            && u.clients == 0
            && u.bytes == 0
            && u.jobs == 0
        {
            self.used.remove(&uid);
        }
    }
}
