//! The calls whose data travels as libvirt streams (the console, a
//! screenshot) and the QEMU program's monitor command.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use super::conn::{Conn, QEMU_PROGRAM, StreamMsg};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{ConsoleStream, Domain};
use crate::transport::libvirt::procedures::Procedure;
use crate::transport::libvirt::types::{
    ConsoleArgs, Dom, MonitorCommandArgs, MonitorCommandRet, ScreenshotArgs,
};
use crate::transport::libvirt::xdr::{from_bytes, to_bytes};

/// `VIR_DOMAIN_CONSOLE_FORCE`.
const CONSOLE_FORCE: u32 = 1;
/// `QEMU_PROC_DOMAIN_MONITOR_COMMAND`.
const MONITOR_COMMAND: i32 = 1;
/// The most bytes a screenshot may have (libvirt's stream has no size).
const SCREENSHOT_MAX: usize = 64 * 1024 * 1024;

/// A console as a libvirt stream.
pub struct LvConsole {
    conn: Arc<Conn>,
    serial: u32,
    rx: Receiver<StreamMsg>,
    /// Bytes taken off the stream while looking for its end.
    unread: Vec<u8>,
    ended: Option<Error>,
}

fn ended(why: &str) -> Error {
    Error::new(ErrorCode::Io, format!("the console stream ended: {why}"))
}

/// Opens the serial console of `dom` (`DOMAIN_OPEN_CONSOLE`).
pub fn console(conn: &Arc<Conn>, dom: &Domain, force: bool) -> Result<Box<dyn ConsoleStream>> {
    let (tx, rx) = channel();
    let args = ConsoleArgs {
        dom: Dom::from(dom),
        dev_name: None,
        flags: if force { CONSOLE_FORCE } else { 0 },
    };
    let (_, serial) = conn.call_raw(
        crate::transport::libvirt::frame::REMOTE_PROGRAM,
        Procedure::DomainOpenConsole.number(),
        &to_bytes(&args),
        Some(tx),
    )?;
    Ok(Box::new(LvConsole {
        conn: Arc::clone(conn),
        serial,
        rx,
        unread: Vec::new(),
        ended: None,
    }))
}

impl ConsoleStream for LvConsole {
    fn read(&mut self, timeout: Duration) -> Result<Vec<u8>> {
        if !self.unread.is_empty() {
            return Ok(std::mem::take(&mut self.unread));
        }
        if let Some(e) = &self.ended {
            return Err(Error::new(e.code, e.message.clone()));
        }
        let e = match self.rx.recv_timeout(timeout) {
            Ok(StreamMsg::Data(d)) => return Ok(d),
            Err(RecvTimeoutError::Timeout) => return Ok(Vec::new()),
            Ok(StreamMsg::End) => ended("the daemon closed it"),
            Ok(StreamMsg::Failed(e)) => e,
            Err(RecvTimeoutError::Disconnected) => ended("the connection closed"),
        };
        self.ended = Some(Error::new(e.code, e.message.clone()));
        Err(e)
    }

    fn write(&mut self, data: &[u8]) -> Result<()> {
        // An end that has already come (the console taken over by a
        // forced open) fails the write, as on the other transports.
        while self.ended.is_none() {
            match self.rx.try_recv() {
                Ok(StreamMsg::Data(d)) => self.unread.extend_from_slice(&d),
                Ok(StreamMsg::End) => self.ended = Some(ended("the daemon closed it")),
                Ok(StreamMsg::Failed(e)) => self.ended = Some(e),
                Err(std::sync::mpsc::TryRecvError::Empty) => break,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    self.ended = Some(ended("the connection closed"));
                }
            }
        }
        if let Some(e) = &self.ended {
            return Err(Error::new(e.code, e.message.clone()));
        }
        if data.is_empty() {
            return Ok(());
        }
        self.conn.stream_send(
            Procedure::DomainOpenConsole.number(),
            self.serial,
            data,
            false,
        )
    }
}

impl Drop for LvConsole {
    fn drop(&mut self) {
        self.conn.stream_forget(self.serial);
        if self.ended.is_none() {
            let _ = self.conn.stream_send(
                Procedure::DomainOpenConsole.number(),
                self.serial,
                &[],
                true,
            );
        }
    }
}

/// A screenshot (`DOMAIN_SCREENSHOT`): the image follows the reply as
/// stream data.
pub fn screenshot(conn: &Conn, dom: &Domain) -> Result<Vec<u8>> {
    let (tx, rx) = channel();
    let args = ScreenshotArgs {
        dom: Dom::from(dom),
        screen: 0,
        flags: 0,
    };
    let proc = Procedure::DomainScreenshot.number();
    let (_, serial) = conn.call_raw(
        crate::transport::libvirt::frame::REMOTE_PROGRAM,
        proc,
        &to_bytes(&args),
        Some(tx),
    )?;
    let mut image = Vec::new();
    let result = loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(StreamMsg::Data(d)) => {
                image.extend_from_slice(&d);
                if image.len() > SCREENSHOT_MAX {
                    break Err(Error::new(
                        ErrorCode::LimitExceeded,
                        format!("screenshot larger than {SCREENSHOT_MAX} bytes"),
                    ));
                }
            }
            Ok(StreamMsg::End) => break Ok(()),
            Ok(StreamMsg::Failed(e)) => break Err(e),
            Err(RecvTimeoutError::Timeout) => {
                break Err(Error::new(
                    ErrorCode::Timeout,
                    "the screenshot's data stopped coming for 60 s",
                ));
            }
            Err(RecvTimeoutError::Disconnected) => {
                break Err(ended("the connection closed during the screenshot"));
            }
        }
    };
    conn.stream_forget(serial);
    // The finish, as virsh sends it once it has read the end.
    let _ = conn.stream_send(proc, serial, &[], true);
    result.map(|()| image)
}

/// `virDomainQemuMonitorCommand` with QMP JSON.
pub fn monitor_command(conn: &Conn, dom: &Domain, command: &str) -> Result<String> {
    let args = MonitorCommandArgs {
        dom: Dom::from(dom),
        cmd: command.to_string(),
        flags: 0,
    };
    let (body, _) = conn.call_raw(QEMU_PROGRAM, MONITOR_COMMAND, &to_bytes(&args), None)?;
    Ok(from_bytes::<MonitorCommandRet>(&body, "reply to the monitor command")?.result)
}
