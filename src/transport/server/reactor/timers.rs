//! What the loop does on time rather than on readiness: deadlines (the
//! hello, a frame begun, a connection closing, a listener paused for
//! want of descriptors) and the tick that looks at consoles and at an
//! event stream without a descriptor.

use std::time::{Duration, Instant};

use nix::sys::epoll::{EpollEvent, EpollFlags};

use super::{LISTENER, Loop};
use crate::error::{Error, ErrorCode};

impl Loop {
    pub(super) fn tick(&mut self, now: Instant) {
        if self.cx.source.is_open() && self.cx.source.fd.is_none() {
            self.pump_events(now);
        }
        let consoles: Vec<(u64, u32)> = self
            .conns
            .iter()
            .flat_map(|(t, c)| c.consoles.keys().map(move |s| (*t, *s)))
            .collect();
        for (t, s) in consoles {
            self.console_ready(t, s);
            self.settle(t, now);
        }
    }

    /// Acts on the deadlines that have passed, and finds the next.
    pub(super) fn check_deadlines(&mut self, now: Instant) {
        self.cx.next_check = None;
        while self.cx.lingering.front().is_some_and(|(_, t)| now >= *t) {
            self.cx.lingering.pop_front();
        }
        if let Some((_, t)) = self.cx.lingering.front() {
            self.cx.next_check = Some(*t);
        }
        for (i, l) in self.cx.listeners.iter_mut().enumerate() {
            if let Some(l) = l
                && l.paused_until.is_some_and(|t| now >= t)
            {
                l.paused_until = None;
                let token = LISTENER | i as u64;
                let _ = self
                    .cx
                    .epoll
                    .modify(&l.socket, &mut EpollEvent::new(EpollFlags::EPOLLIN, token));
                // Accept what waited meanwhile.
                self.cx.shared.waker.wake();
            }
        }
        let expired: Vec<u64> = self
            .conns
            .values()
            .filter(|c| c.deadline().is_some_and(|d| now >= d))
            .map(|c| c.token)
            .collect();
        for t in expired {
            if let Some(conn) = self.conns.get_mut(&t) {
                let timeout = self.cx.shared.limits.hello_timeout;
                if conn.hello_by.is_some_and(|d| now >= d) {
                    let what = if conn.libvirt.is_some() {
                        "the connection was not opened (CONNECT_OPEN)"
                    } else {
                        "no hello"
                    };
                    let e = Error::new(
                        ErrorCode::Timeout,
                        format!(
                            "{what} within {} s of connecting; closing the connection",
                            timeout.as_secs()
                        ),
                    );
                    conn.fail(0, 0, &e, now);
                } else if conn.keepalive_by.is_some_and(|d| now >= d) {
                    if crate::transport::server::lv::keepalive_due(&self.cx, conn, now) {
                        self.cx.shared.log.warn(&format!(
                            "closing a libvirt client of uid {}: no answer to {} keepalive messages",
                            conn.peer.uid, self.cx.shared.limits.keepalive_count
                        ));
                        conn.close_soon(now);
                    }
                } else if conn.frame_by.is_some_and(|d| now >= d) {
                    let e = Error::new(
                        ErrorCode::Timeout,
                        format!(
                            "a frame was begun and not finished within {} s; closing the connection",
                            self.cx.shared.limits.frame_timeout.as_secs()
                        ),
                    );
                    conn.fail(0, 0, &e, now);
                }
            }
            self.settle(t, now);
        }
        for c in self.conns.values() {
            if let Some(d) = c.deadline() {
                self.cx.next_check = Some(self.cx.next_check.map_or(d, |t| t.min(d)));
            }
        }
        if self
            .cx
            .listeners
            .iter()
            .flatten()
            .any(|l| l.paused_until.is_some())
        {
            let soon = now + Duration::from_millis(100);
            self.cx.next_check = Some(self.cx.next_check.map_or(soon, |t| t.min(soon)));
        }
    }
}
