//! Accepting connections: who may connect to a socket, and how many.
//! The uid a socket serves, its places, those kept for root and the
//! daemon's own uid, and each other uid's share are checked here; a
//! refused client is told why in an error reply before it is closed.

use std::io::{ErrorKind, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use nix::sys::epoll::{EpollEvent, EpollFlags};
use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};

use super::{CONN, LISTENER, Loop};
use crate::error::{Error, ErrorCode};
use crate::transport::server::conn::{Conn, Peer, push_frame};
use crate::transport::server::{Protocol, ServeOptions};
use crate::transport::wire::{Kind, Procedure, Reply};

/// A listening socket.
pub(super) struct Listener {
    pub socket: UnixListener,
    pub options: ServeOptions,
    /// The protocol its clients speak.
    pub protocol: Protocol,
    /// Its clients.
    pub clients: usize,
    /// Those of uids other than root and the daemon's.
    pub others: usize,
    /// Not accepting until then (the process ran out of descriptors).
    pub paused_until: Option<Instant>,
}

impl Loop {
    pub(super) fn accept(&mut self, index: usize, now: Instant) {
        loop {
            let Some(Some(l)) = self.cx.listeners.get(index) else {
                return;
            };
            match l.socket.accept() {
                Ok((stream, _)) => self.admit(index, stream, now),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    // Out of descriptors, most likely: pause this socket
                    // rather than spin on it.
                    self.cx.shared.log.error(&format!("accept failed: {e}"));
                    let token = LISTENER | index as u64;
                    if let Some(Some(l)) = self.cx.listeners.get_mut(index) {
                        let _ = self
                            .cx
                            .epoll
                            .modify(&l.socket, &mut EpollEvent::new(EpollFlags::empty(), token));
                        l.paused_until = Some(now + Duration::from_millis(100));
                        self.cx.next_check = Some(
                            self.cx
                                .next_check
                                .map_or(now + Duration::from_millis(100), |t| {
                                    t.min(now + Duration::from_millis(100))
                                }),
                        );
                    }
                    return;
                }
            }
        }
    }

    /// Checks a new connection's peer against the socket's rules and
    /// limits, and serves it or tells it why not.
    fn admit(&mut self, index: usize, stream: UnixStream, now: Instant) {
        let cx = &mut self.cx;
        let limits = &cx.shared.limits;
        let Some(Some(l)) = cx.listeners.get(index) else {
            return;
        };
        let creds = getsockopt(&stream, PeerCredentials).ok();
        let uid = creds.map(|c| c.uid());
        let pid = creds.map_or(0, |c| c.pid());
        let name = |u: Option<u32>| u.map_or("unknown".into(), |u| u.to_string());
        if let Some(allowed) = l.options.allowed_uid
            && uid != Some(allowed)
        {
            cx.shared.log.warn(&format!(
                "refused a connection from uid {} (pid {pid})",
                name(uid)
            ));
            let why = format!(
                "this socket serves uid {allowed} only; you are uid {}",
                name(uid)
            );
            let protocol = l.protocol;
            return refuse(
                cx,
                stream,
                protocol,
                now,
                &Error::new(ErrorCode::OperationDenied, why),
            );
        }
        let Some(uid) = uid else {
            let protocol = l.protocol;
            return refuse(
                cx,
                stream,
                protocol,
                now,
                &Error::new(ErrorCode::OperationDenied, "the peer's uid is unknown"),
            );
        };
        let privileged = uid == 0 || uid == cx.euid;
        let max = l.options.max_clients;
        let reserved = limits.reserved_clients.min(max / 2);
        let refusal = if l.clients >= max {
            Some(format!(
                "too many clients: the limit is {max}; try again later"
            ))
        } else if !privileged && l.others >= max - reserved {
            Some(format!(
                "too many clients: the limit is {max}, of which {reserved} are kept for root; try again later"
            ))
        } else if !privileged && cx.uids.clients_on(index, uid) >= limits.max_clients_per_uid {
            Some(format!(
                "too many clients of uid {uid}: the limit is {} per user; close some",
                limits.max_clients_per_uid
            ))
        } else {
            None
        };
        if let Some(why) = refusal {
            cx.shared
                .log
                .warn(&format!("refused a client of uid {uid} (pid {pid}): {why}"));
            let protocol = l.protocol;
            return refuse(
                cx,
                stream,
                protocol,
                now,
                &Error::new(ErrorCode::LimitExceeded, why),
            );
        }
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        let read_only = l.options.read_only;
        let libvirt =
            (l.protocol == Protocol::Libvirt).then(crate::transport::server::lv::new_state);
        let peer = Peer {
            uid,
            listener: index,
            read_only,
            privileged,
            max_frame: if read_only {
                limits.read_only_max_frame
            } else {
                limits.max_frame
            },
        };
        let hello_by = now + limits.hello_timeout;
        let token = cx.token(CONN);
        let mut conn = Conn::new(token, stream, peer, hello_by, libvirt);
        conn.interest = EpollFlags::EPOLLIN;
        cx.watch(&conn.stream, token, EpollFlags::EPOLLIN);
        if let Some(Some(l)) = cx.listeners.get_mut(index) {
            l.clients += 1;
            if !privileged {
                l.others += 1;
            }
        }
        cx.uids.client(index, uid, true);
        cx.shared.clients.fetch_add(1, Ordering::SeqCst);
        cx.next_check = Some(cx.next_check.map_or(hello_by, |t| t.min(hello_by)));
        self.conns.insert(token, conn);
    }
}

/// How long a refused libvirt client's socket stays open, so that its
/// first call (already on its way) is not met by a broken pipe, and how
/// many such sockets are kept at most.
const LINGER: Duration = Duration::from_secs(1);
const LINGER_MAX: usize = 64;

/// Sends a refusal on a connection that will not be served, and closes
/// it: as the reply to its first call (qvirt's hello; libvirt's
/// AUTH_LIST, which a libvirt client sends first, with serial 0). A
/// libvirt client writes its first call before it reads, and a socket
/// closed under it fails that write with no reason given: its socket
/// lingers a moment, half closed, so that it reads the reason.
fn refuse(cx: &mut super::Cx, stream: UnixStream, protocol: Protocol, now: Instant, e: &Error) {
    let frame = match protocol {
        Protocol::Qvirt => {
            let mut frame = Vec::new();
            let body = Reply::encode(&Err(Error::new(e.code, e.message.clone())));
            push_frame(&mut frame, Kind::Reply, Procedure::Hello.number(), 0, &body);
            frame
        }
        Protocol::Libvirt => crate::transport::libvirt::frame::error_reply(66, 0, e),
    };
    let _ = stream.set_nonblocking(true);
    let _ = (&stream).write(&frame);
    if protocol == Protocol::Libvirt && cx.lingering.len() < LINGER_MAX {
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let until = now + LINGER;
        cx.lingering.push_back((stream, until));
        cx.next_check = Some(cx.next_check.map_or(until, |t| t.min(until)));
    } else {
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
}
