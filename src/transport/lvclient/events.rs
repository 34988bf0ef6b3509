//! Domain events through libvirt's event callbacks: one callback per
//! event id qvirt has a word for, their messages fed to one stream.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use super::conn::Conn;
use crate::driver::EventStream;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::transport::libvirt::procedures::Caller;
use crate::transport::libvirt::types::*;
use crate::transport::libvirt::values::event_id;

/// [`crate::Driver::events`]: registers the callbacks on `conn`.
pub(super) fn subscribe(conn: &Arc<Conn>) -> Result<Box<dyn EventStream>> {
    let (tx, rx) = channel();
    let mut ids = Vec::new();
    // The repeats of an event libvirt tells twice are not asked for.
    for event_id in event_id::SENT
        .into_iter()
        .filter(|id| !event_id::REPEATS.contains(id))
    {
        let id = conn
            .connect_domain_event_callback_register_any(EventRegisterArgs {
                event_id,
                dom: None,
            })?
            .callback_id;
        conn.subscribe(id, tx.clone());
        ids.push(id);
    }
    Ok(Box::new(LvEvents {
        conn: Arc::clone(conn),
        ids,
        rx,
    }))
}

/// Lifecycle events from libvirt's event callbacks.
struct LvEvents {
    conn: Arc<Conn>,
    ids: Vec<i32>,
    rx: Receiver<crate::driver::Event>,
}

impl EventStream for LvEvents {
    fn next(&mut self, timeout: Duration) -> Result<Option<crate::driver::Event>> {
        match self.rx.recv_timeout(timeout) {
            Ok(e) => Ok(Some(e)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(Error::new(
                ErrorCode::Protocol,
                "the event stream ended: the connection to the daemon closed",
            )),
        }
    }
}

impl Drop for LvEvents {
    fn drop(&mut self) {
        for id in &self.ids {
            self.conn.unsubscribe(*id);
            let _ = self
                .conn
                .connect_domain_event_callback_deregister_any(EventDeregisterArgs {
                    callback_id: *id,
                });
        }
    }
}
