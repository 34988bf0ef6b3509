//! Opening a connection: the socket's checks, the hello, the stream
//! for `qemu+ssh://`, and the sending and waiting every call does.

use std::io::{BufWriter, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::*;

impl SocketDriver {
    /// Connects to the daemon listening at `path`, checks that it runs
    /// as this user or as root, says hello, and checks the protocol
    /// version. `uri` is what [`Driver::uri`] reports.
    pub fn connect(path: &Path, uri: &str) -> Result<SocketDriver> {
        let socket = UnixStream::connect(path)
            .map_err(|e| Error::io(format!("cannot connect to {} ({uri})", path.display()), e))?;
        check_server(&socket, &path.display().to_string())?;
        SocketDriver::over(socket, uri)
    }

    /// Connects through OpenSSH to the daemon a `qemu+ssh://` URI names:
    /// runs `ssh ... HOST 'qvirtd --proxy URI'` and speaks the protocol
    /// over its stdin and stdout. `uri` is what [`Driver::uri`] reports.
    pub fn connect_ssh(target: &crate::driver::uri::SshTarget, uri: &str) -> Result<SocketDriver> {
        let (socket, tunnel) = Tunnel::spawn(target)?;
        SocketDriver::over_tunnel(socket, uri, Some(tunnel))
    }

    /// Runs the protocol over an already-connected socket (whose peer
    /// the caller has checked).
    pub fn over(socket: UnixStream, uri: &str) -> Result<SocketDriver> {
        SocketDriver::over_tunnel(socket, uri, None)
    }

    fn over_tunnel(socket: UnixStream, uri: &str, tunnel: Option<Tunnel>) -> Result<SocketDriver> {
        let read_half = socket
            .try_clone()
            .map_err(|e| Error::io("cannot duplicate the connection", e))?;
        let write_half = socket
            .try_clone()
            .map_err(|e| Error::io("cannot duplicate the connection", e))?;
        let conn = Arc::new(Conn {
            writer: Mutex::new(BufWriter::new(write_half)),
            socket,
            read: Mutex::new(ReadSide {
                socket: read_half,
                spinner: Spinner::default(),
                pending: Pending::default(),
                greeted: false,
            }),
            state: Mutex::new(ConnState::default()),
            changed: Condvar::new(),
            next_serial: AtomicU32::new(1),
            subscribing: Mutex::new(()),
            tunnel,
        });
        let driver = SocketDriver {
            uri: uri.to_string(),
            conn,
        };
        match driver.rpc().hello(u32::from(PROTOCOL_VERSION))? {
            v if v == u32::from(PROTOCOL_VERSION) => Ok(driver),
            v => Err(Error::new(
                ErrorCode::Protocol,
                format!("the daemon speaks protocol {v}, this client {PROTOCOL_VERSION}"),
            )),
        }
    }

    /// Sends `call` and waits for its reply.
    pub(super) fn call(&self, call: Call) -> Result<Reply> {
        self.call_with(call, |_, _| {}).map(|(reply, _)| reply)
    }

    /// Sends `call`, first running `register` with its serial under the
    /// state lock (to subscribe before any event can arrive).
    pub(super) fn call_with(
        &self,
        call: Call,
        register: impl FnOnce(&mut ConnState, u32),
    ) -> Result<(Reply, u32)> {
        let (procedure, body) = call.encode();
        if HEADER_LEN + body.len() > MAX_FRAME {
            // The daemon would refuse the frame by its length and close
            // the connection; refuse it here, and keep the connection.
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!(
                    "the call is {} bytes, more than the frame limit of {MAX_FRAME}; nothing was sent",
                    HEADER_LEN + body.len()
                ),
            ));
        }
        let serial = self.conn.next_serial.fetch_add(1, Ordering::Relaxed);
        {
            let mut st = lock(&self.conn.state);
            if let Some((code, why)) = &st.closed {
                return Err(closed(&self.uri, *code, why));
            }
            st.waiting.insert(serial, (procedure, None));
            register(&mut st, serial);
        }
        let frame = Frame {
            header: Header {
                version: PROTOCOL_VERSION,
                kind: Kind::Call,
                procedure,
                serial,
            },
            body,
        };
        if let Err(e) = self.send(&frame) {
            return Err(self.send_failed(serial, e));
        }
        let got = self.conn.wait(None, |st| {
            if let Some((_, Some(_))) = st.waiting.get(&serial) {
                st.waiting.remove(&serial).and_then(|(_, reply)| reply)
            } else {
                None
            }
        });
        let result = match got {
            Wait::Got(reply) => Reply::decode(procedure, &reply.body).and_then(|r| r),
            Wait::Closed(code, why) => Err(closed(&self.uri, code, &why)),
            Wait::TimedOut => unreachable!("a wait without a deadline"),
        };
        if result.is_err() {
            self.forget(serial);
        }
        result.map(|r| (r, serial))
    }

    /// Drops what a failed call registered under its serial.
    pub(super) fn forget(&self, serial: u32) {
        let mut st = lock(&self.conn.state);
        st.waiting.remove(&serial);
        if st.events.as_ref().is_some_and(|s| s.serial == serial) {
            st.events = None;
        }
        st.streams.remove(&serial);
    }

    /// The error for a call whose frame could not be written. A daemon
    /// that refuses a client (wrong uid, too many clients) writes why and
    /// closes at once, so the first write races the close and may fail
    /// with EPIPE; the reason is then waiting to be read, so read it
    /// (for a moment) and prefer it to the bare write error.
    fn send_failed(&self, serial: u32, e: Error) -> Error {
        let deadline = Instant::now() + Duration::from_secs(2);
        let got = self.conn.wait(Some(deadline), |_| None::<()>);
        self.forget(serial);
        match got {
            Wait::Closed(code, why) => closed(&self.uri, code, &why),
            _ => e,
        }
    }

    /// Writes one frame.
    pub(super) fn send(&self, frame: &Frame) -> Result<()> {
        let mut w = lock(&self.conn.writer);
        frame.write(&mut *w)?;
        w.flush()
            .map_err(|e| Error::io(format!("cannot write to {}", self.uri), e))
    }
}

/// Refuses a daemon socket served by anyone but this user or root
/// (`SO_PEERCRED`), before anything is sent to it: in a shared
/// directory, another user could otherwise stand up a socket of that
/// name and read what is sent there (domain XML, paths).
pub(crate) fn check_server(socket: &UnixStream, path: &str) -> Result<()> {
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
    let me = nix::unistd::geteuid().as_raw();
    let creds = getsockopt(socket, PeerCredentials)
        .map_err(|e| Error::io(format!("cannot learn who serves {path}"), e.into()))?;
    if creds.uid() != me && creds.uid() != 0 {
        return Err(Error::new(
            ErrorCode::OperationDenied,
            format!(
                "{path} is served by uid {} (pid {}), neither you (uid {me}) nor root; refusing to talk to it",
                creds.uid(),
                creds.pid()
            ),
        ));
    }
    Ok(())
}
