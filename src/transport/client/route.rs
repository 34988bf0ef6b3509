//! Where a frame from the daemon goes: a reply to the call waiting for
//! its serial, an event or event-stream message to the subscription, a
//! console's data to its queue; and how the connection's end is kept.

use super::ConnState;
use super::streams;
use crate::error::ErrorCode;
use crate::transport::wire::{
    Frame, Kind, Procedure, Reply, StreamMsg, decode_event, decode_stream,
};

/// Hands a frame from the daemon to whoever waits for it.
pub(super) fn route(st: &mut ConnState, frame: Frame) {
    let serial = frame.header.serial;
    match frame.header.kind {
        Kind::Reply => {
            if let Some(slot) = st.waiting.get_mut(&serial) {
                slot.1 = Some(frame);
            } else if serial == 0 {
                // An error the daemon sends before closing (too many
                // clients, a broken frame): keep its code and words.
                if let Ok(Err(e)) = Reply::decode(Procedure::Hello.number(), &frame.body) {
                    end(st, (e.code, e.message));
                }
            }
        }
        // Frames for a subscription or console that is gone are dropped
        // unread; one that does not decode ends the connection.
        Kind::Event => {
            if let Some(sub) = st.events.as_mut().filter(|s| s.serial == serial) {
                match decode_event(&frame.body) {
                    Ok(event) => sub.event(&event.into()),
                    Err(e) => end(st, (ErrorCode::Protocol, format!("bad event: {e}"))),
                }
            }
        }
        Kind::Stream if st.events.as_ref().is_some_and(|s| s.serial == serial) => {
            match decode_stream(&frame.body) {
                Ok(StreamMsg::Lost(n)) => {
                    if let Some(sub) = &mut st.events {
                        sub.lost(n);
                    }
                }
                Ok(StreamMsg::End(why)) => streams::sub_ended(st, why),
                Ok(_) => {}
                Err(e) => end(
                    st,
                    (ErrorCode::Protocol, format!("bad event stream data: {e}")),
                ),
            }
        }
        Kind::Stream => {
            if let Some(queue) = st.streams.get_mut(&serial) {
                match decode_stream(&frame.body) {
                    Ok(msg) => queue.push_back(msg),
                    Err(e) => end(st, (ErrorCode::Protocol, format!("bad console data: {e}"))),
                }
            }
        }
        Kind::Call => end(
            st,
            (ErrorCode::Protocol, "the daemon sent a call".to_string()),
        ),
    }
}

/// Records why the connection ended (the first reason wins).
pub(super) fn end(st: &mut ConnState, why: (ErrorCode, String)) {
    if st.closed.is_none() {
        st.closed = Some(why);
    }
}
