//! How a call waits on the shared connection: the first waiting thread
//! reads the socket for every caller and routes each frame to whoever
//! waits for it; and a stream frame written out.

use std::io::Write;
use std::time::Instant;

use super::route::{end, route};
use super::{Conn, ConnState};
use crate::error::{Error, ErrorCode, Result};
use crate::sys::sync::lock;
use crate::transport::procedures::Procedure;
use crate::transport::wire::{Frame, Header, Kind, PROTOCOL_VERSION, StreamMsg, encode_stream};

/// What a wait on the connection ended with.
pub(super) enum Wait<T> {
    Got(T),
    TimedOut,
    Closed(ErrorCode, String),
}

impl Conn {
    /// Waits until `take` finds what this thread wants in the state, the
    /// connection ends, or `deadline` passes. If no other thread is
    /// reading the socket, this one does, for everyone.
    pub(super) fn wait<T>(
        &self,
        deadline: Option<Instant>,
        mut take: impl FnMut(&mut ConnState) -> Option<T>,
    ) -> Wait<T> {
        let mut st = lock(&self.state);
        loop {
            if let Some(t) = take(&mut st) {
                return Wait::Got(t);
            }
            if let Some((code, why)) = &st.closed {
                return Wait::Closed(*code, why.clone());
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Wait::TimedOut;
            }
            if !st.reading {
                st.reading = true;
                drop(st);
                let read = lock(&self.read).read_frames(deadline);
                // Outside the state lock: ssh's last words may take a moment.
                let read = read.map_err(|why| match &self.tunnel {
                    Some(t) => t.explain(why),
                    None => why,
                });
                st = lock(&self.state);
                st.reading = false;
                match read {
                    Ok(frames) => {
                        for frame in frames {
                            route(&mut st, frame);
                        }
                    }
                    Err(why) => end(&mut st, why),
                }
                self.changed.notify_all();
            } else {
                st = match deadline {
                    None => self.changed.wait(st).unwrap_or_else(|p| p.into_inner()),
                    Some(d) => {
                        self.changed
                            .wait_timeout(st, d - now)
                            .unwrap_or_else(|p| p.into_inner())
                            .0
                    }
                };
            }
        }
    }
}

impl Conn {
    /// Writes a stream frame of the stream opened by call `serial`.
    pub(super) fn send_stream(
        &self,
        serial: u32,
        procedure: Procedure,
        msg: &StreamMsg,
    ) -> Result<()> {
        let frame = Frame {
            header: Header {
                version: PROTOCOL_VERSION,
                kind: Kind::Stream,
                procedure: procedure.number(),
                serial,
            },
            body: encode_stream(msg),
        };
        let mut w = lock(&self.writer);
        frame.write(&mut *w)?;
        w.flush()
            .map_err(|e| Error::io("cannot write to the connection", e))
    }
}
