//! Volume uploads and downloads as libvirt streams
//! (`virStorageVolUpload`, `virStorageVolDownload`, not sparse): the
//! call, then the bytes as `STREAM` messages of status `CONTINUE`. An
//! upload ends with the client's empty `OK`, which the daemon confirms
//! once the bytes are on disk; a download's end is the daemon's empty
//! message, which the client then finishes the same way.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use super::conn::{Conn, StreamMsg};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Volume, VolumeStream};
use crate::transport::libvirt::frame::REMOTE_PROGRAM;
use crate::transport::libvirt::procedures::Procedure;
use crate::transport::libvirt::types::{StorageVol, VolStreamArgs};
use crate::transport::libvirt::xdr::to_bytes;

/// The most bytes one stream message carries (libvirt's
/// `VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX` is 262,120).
const CHUNK: usize = 256 * 1024 - 1024;
/// How long a finish waits for the daemon's confirmation (an upload's
/// sync included).
const FINISH_WAIT: Duration = Duration::from_secs(120);
/// How long a download waits for its next bytes.
const RECV_WAIT: Duration = Duration::from_secs(120);

/// An upload or a download in progress.
pub struct LvVolumeStream {
    conn: Arc<Conn>,
    proc: i32,
    serial: u32,
    rx: Receiver<StreamMsg>,
    upload: bool,
    /// Bytes an upload may still send (`None`: to the end).
    left: Option<u64>,
    /// The daemon ended a download (its empty message came).
    ended: bool,
    /// `finish` was called (or the stream failed): nothing more is sent.
    done: bool,
}

/// Opens an upload (`upload`) or a download of `vol` from `offset`,
/// `length` bytes (`None`: to the end).
pub fn open(
    conn: &Arc<Conn>,
    vol: &Volume,
    offset: u64,
    length: Option<u64>,
    upload: bool,
) -> Result<Box<dyn VolumeStream>> {
    let (tx, rx) = channel();
    let proc = if upload {
        Procedure::StorageVolUpload
    } else {
        Procedure::StorageVolDownload
    }
    .number();
    let args = VolStreamArgs {
        vol: StorageVol {
            pool: vol.pool.clone(),
            name: vol.name.clone(),
            key: vol.path.to_string_lossy().into_owned(),
        },
        offset,
        length: length.unwrap_or(0),
        flags: 0,
    };
    let (_, serial) = conn.call_raw(REMOTE_PROGRAM, proc, &to_bytes(&args), Some(tx))?;
    Ok(Box::new(LvVolumeStream {
        conn: Arc::clone(conn),
        proc,
        serial,
        rx,
        upload,
        left: length.filter(|_| upload),
        ended: false,
        done: false,
    }))
}

fn closed() -> Error {
    Error::new(
        ErrorCode::Io,
        "the volume stream ended: the connection closed",
    )
}

fn over() -> Error {
    Error::new(ErrorCode::OperationInvalid, "the volume stream is finished")
}

impl LvVolumeStream {
    /// An error the daemon already sent for an upload, if any.
    fn failed_early(&mut self) -> Result<()> {
        loop {
            match self.rx.try_recv() {
                Ok(StreamMsg::Failed(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Ok(_) => {}
                Err(std::sync::mpsc::TryRecvError::Empty) => return Ok(()),
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    self.done = true;
                    return Err(closed());
                }
            }
        }
    }

    /// Sends the end (an empty `OK`) and waits for the daemon's.
    fn end(&mut self) -> Result<()> {
        self.done = true;
        self.conn.stream_send(self.proc, self.serial, &[], true)?;
        // A download the daemon ended is over on this side too: its
        // confirmation is not waited for (the connection has let the
        // stream go with its end).
        if self.ended {
            return Ok(());
        }
        loop {
            match self.rx.recv_timeout(FINISH_WAIT) {
                Ok(StreamMsg::End) => return Ok(()),
                Ok(StreamMsg::Data(_)) => {}
                Ok(StreamMsg::Failed(e)) => return Err(e),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(Error::new(
                        ErrorCode::Timeout,
                        format!(
                            "the daemon did not confirm the end of the volume stream within {}s",
                            FINISH_WAIT.as_secs()
                        ),
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => return Err(closed()),
            }
        }
    }
}

impl VolumeStream for LvVolumeStream {
    fn recv(&mut self) -> Result<Vec<u8>> {
        if self.upload {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                "an upload has no bytes to read",
            ));
        }
        if self.ended {
            return Ok(Vec::new());
        }
        if self.done {
            return Err(over());
        }
        match self.rx.recv_timeout(RECV_WAIT) {
            Ok(StreamMsg::Data(d)) => Ok(d),
            Ok(StreamMsg::End) => {
                self.ended = true;
                Ok(Vec::new())
            }
            Ok(StreamMsg::Failed(e)) => {
                self.done = true;
                Err(e)
            }
            Err(RecvTimeoutError::Timeout) => Err(Error::new(
                ErrorCode::Timeout,
                format!(
                    "no bytes of the download came within {}s",
                    RECV_WAIT.as_secs()
                ),
            )),
            Err(RecvTimeoutError::Disconnected) => {
                self.done = true;
                Err(closed())
            }
        }
    }

    fn send(&mut self, data: &[u8]) -> Result<()> {
        if !self.upload {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                "a download takes no bytes",
            ));
        }
        if self.done {
            return Err(over());
        }
        if let Some(left) = self.left {
            if data.len() as u64 > left {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!("the upload takes {left} more bytes, not {}", data.len()),
                ));
            }
            self.left = Some(left - data.len() as u64);
        }
        self.failed_early()?;
        for chunk in data.chunks(CHUNK) {
            self.conn
                .stream_send(self.proc, self.serial, chunk, false)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        if self.done {
            return Err(over());
        }
        if self.upload {
            self.failed_early()?;
        }
        self.end()
    }
}

impl Drop for LvVolumeStream {
    fn drop(&mut self) {
        // The daemon's side ends too (an upload keeps what was written).
        if !self.done {
            let _ = self.conn.stream_send(self.proc, self.serial, &[], true);
        }
        self.conn.stream_forget(self.serial);
    }
}
