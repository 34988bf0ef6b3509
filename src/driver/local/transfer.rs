//! `vol-upload` and `vol-download`: a volume's file read or written as a
//! [`VolumeStream`] of chunks. The bytes are the file's as they are (an
//! uploaded qcow2 image is a qcow2 file), from an offset, up to a length.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;

use nix::errno::Errno;
use nix::fcntl::{FallocateFlags, fallocate};
use nix::unistd::{Whence, lseek};

use super::driver::Core;
use crate::driver::{Piece, Volume, VolumeStream};
use crate::error::{Error, ErrorCode, Result};

/// The most bytes one `recv` gives.
pub(crate) const CHUNK: usize = 1 << 20;

/// An open upload or download.
struct Transfer {
    file: Option<File>,
    upload: bool,
    /// Bytes still to move; `None`: to the end (a download), or as many
    /// as come (an upload).
    left: Option<u64>,
    what: String,
}

impl Core {
    /// `Driver::vol_upload` (`upload`) and `Driver::vol_download`.
    pub(crate) fn vol_transfer(
        &self,
        vol: &Volume,
        offset: u64,
        length: Option<u64>,
        upload: bool,
    ) -> Result<Box<dyn VolumeStream>> {
        let pool = self.pool_lookup(&vol.pool)?;
        let found = self.vol_lookup(&pool, &vol.name)?;
        if upload {
            self.check_unused(&found.path, "upload into")?;
        }
        let mut file = OpenOptions::new()
            .read(!upload)
            .write(upload)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&found.path)
            .map_err(|e| Error::io(format!("cannot open {}", found.path.display()), e))?;
        let size = file
            .metadata()
            .map_err(|e| Error::io(format!("cannot look at {}", found.path.display()), e))?
            .len();
        check_range(&vol.name, size, offset, length, upload)?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io(format!("cannot seek in {}", found.path.display()), e))?;
        self.log.info(&format!(
            "storage: {} volume '{}' of pool '{}' from byte {offset}",
            if upload {
                "uploading into"
            } else {
                "downloading"
            },
            vol.name,
            vol.pool
        ));
        Ok(Box::new(Transfer {
            file: Some(file),
            upload,
            left: length,
            what: found.path.display().to_string(),
        }))
    }
}

/// A transfer starts inside the volume's file (at its end at most: an
/// upload may extend it, never leave a hole before its bytes), and a
/// download with a length ends inside it.
fn check_range(
    name: &str,
    size: u64,
    offset: u64,
    length: Option<u64>,
    upload: bool,
) -> Result<()> {
    if offset > size {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("offset {offset} is beyond the end of volume '{name}' ({size} bytes)"),
        ));
    }
    if let Some(l) = length
        && !upload
        && offset.checked_add(l).is_none_or(|end| end > size)
    {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "{l} bytes from offset {offset} go beyond the end of volume '{name}' ({size} bytes)"
            ),
        ));
    }
    Ok(())
}

impl Transfer {
    fn file(&mut self) -> Result<&mut File> {
        self.file.as_mut().ok_or_else(|| {
            Error::new(
                ErrorCode::OperationInvalid,
                format!("the transfer of {} is over", self.what),
            )
        })
    }

    /// Refuses a download's call on an upload.
    fn downloading(&self) -> Result<()> {
        if self.upload {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                "an upload gives no bytes",
            ));
        }
        Ok(())
    }

    /// Refuses an upload's call on a download, and more than the length
    /// asked for.
    fn uploading(&self, len: u64) -> Result<()> {
        if !self.upload {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                "a download takes no bytes",
            ));
        }
        if let Some(l) = self.left
            && len > l
        {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "the upload into {} was for {l} more bytes, not {len}",
                    self.what
                ),
            ));
        }
        Ok(())
    }

    /// Reads up to `max` bytes (fewer at the end of the file).
    fn read_up_to(&mut self, max: usize) -> Result<Vec<u8>> {
        let want = self.left.map_or(max, |l| l.min(max as u64) as usize);
        let mut buf = vec![0u8; want];
        let mut got = 0;
        let what = self.what.clone();
        let file = self.file()?;
        while got < want {
            match file.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(format!("cannot read {what}"), e)),
            }
        }
        buf.truncate(got);
        if let Some(l) = &mut self.left {
            *l -= got as u64;
        }
        Ok(buf)
    }
}

/// Where the next data (`SEEK_DATA`) or hole (`SEEK_HOLE`) at or after
/// `from` starts in `file`; `None` when there is none before its end.
fn seek_next(file: &File, from: u64, whence: Whence) -> std::io::Result<Option<u64>> {
    match lseek(file, from as i64, whence) {
        Ok(at) => Ok(Some(at as u64)),
        Err(Errno::ENXIO) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl VolumeStream for Transfer {
    fn recv(&mut self) -> Result<Vec<u8>> {
        self.downloading()?;
        self.read_up_to(CHUNK)
    }

    fn recv_piece(&mut self) -> Result<Piece> {
        self.downloading()?;
        let what = self.what.clone();
        let left = self.left;
        let file = self.file()?;
        let io = |e: std::io::Error| Error::io(format!("cannot read {what}"), e);
        let pos = file.stream_position().map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        let end = left.map_or(size, |l| pos.saturating_add(l).min(size));
        if pos >= end {
            return Ok(Piece::Data(Vec::new()));
        }
        // SEEK_DATA and SEEK_HOLE move the file's offset: it is put back
        // (or past the hole) below.
        let data = seek_next(file, pos, Whence::SeekData)
            .map_err(io)?
            .map_or(end, |d| d.min(end));
        if data > pos {
            file.seek(SeekFrom::Start(data)).map_err(io)?;
            if let Some(l) = &mut self.left {
                *l -= data - pos;
            }
            return Ok(Piece::Hole(data - pos));
        }
        let hole = seek_next(file, pos, Whence::SeekHole)
            .map_err(io)?
            .map_or(end, |h| h.min(end));
        file.seek(SeekFrom::Start(pos)).map_err(io)?;
        let max = (hole - pos).min(CHUNK as u64) as usize;
        self.read_up_to(max).map(Piece::Data)
    }

    fn send(&mut self, data: &[u8]) -> Result<()> {
        self.uploading(data.len() as u64)?;
        let what = self.what.clone();
        self.file()?
            .write_all(data)
            .map_err(|e| Error::io(format!("cannot write {what}"), e))?;
        if let Some(l) = &mut self.left {
            *l -= data.len() as u64;
        }
        Ok(())
    }

    fn send_hole(&mut self, len: u64) -> Result<()> {
        self.uploading(len)?;
        let what = self.what.clone();
        let file = self.file()?;
        let io = |e: std::io::Error| Error::io(format!("cannot write {what}"), e);
        let pos = file.stream_position().map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        let after = pos.checked_add(len).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("a hole of {len} bytes at {pos} is past any file's end"),
            )
        })?;
        // What the hole covers of the file reads as zeros: punched out
        // (zeros written where the file system cannot punch).
        let inside = after.min(size);
        if inside > pos {
            let flags = FallocateFlags::FALLOC_FL_PUNCH_HOLE | FallocateFlags::FALLOC_FL_KEEP_SIZE;
            match fallocate(&*file, flags, pos as i64, (inside - pos) as i64) {
                Ok(()) => {}
                Err(Errno::EOPNOTSUPP) => {
                    let zeros = vec![0u8; CHUNK];
                    let mut left = inside - pos;
                    while left > 0 {
                        let n = left.min(CHUNK as u64) as usize;
                        file.write_all(&zeros[..n]).map_err(io)?;
                        left -= n as u64;
                    }
                }
                Err(e) => return Err(io(e.into())),
            }
        }
        // Past the end, the file grows (sparse).
        if after > size {
            file.set_len(after).map_err(io)?;
        }
        file.seek(SeekFrom::Start(after)).map_err(io)?;
        if let Some(l) = &mut self.left {
            *l -= len;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        let file = self.file.take().ok_or_else(|| {
            Error::new(
                ErrorCode::OperationInvalid,
                format!("the transfer of {} is over", self.what),
            )
        })?;
        if self.upload {
            file.sync_all()
                .map_err(|e| Error::io(format!("cannot sync {}", self.what), e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer(path: &std::path::Path, upload: bool, offset: u64, left: Option<u64>) -> Transfer {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap();
        file.seek(SeekFrom::Start(offset)).unwrap();
        Transfer {
            file: Some(file),
            upload,
            left,
            what: path.display().to_string(),
        }
    }

    #[test]
    fn holes_are_found_and_made() {
        let dir = std::env::temp_dir().join(format!("qvirt-holes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v");
        std::fs::write(&path, vec![7u8; 1 << 20]).unwrap();
        // A hole punched at 64 KiB, one past the end grows the file.
        let mut up = transfer(&path, true, 64 << 10, Some(2 << 20));
        up.send_hole(128 << 10).unwrap();
        up.send(&[1u8; 4096]).unwrap();
        let e = up.send_hole(2 << 20).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument, "past the length");
        up.send_hole((2 << 20) - (196 << 10)).unwrap();
        up.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 2 << 20);
        assert!(bytes[..64 << 10].iter().all(|&b| b == 7));
        assert!(bytes[64 << 10..192 << 10].iter().all(|&b| b == 0));
        assert!(bytes[192 << 10..196 << 10].iter().all(|&b| b == 1));
        assert!(bytes[196 << 10..].iter().all(|&b| b == 0));
        // Read back as pieces, within a length: data, hole, data, and
        // the end where the length ends.
        let mut down = transfer(&path, false, 0, Some(1 << 20));
        let mut pieces = Vec::new();
        loop {
            match down.recv_piece().unwrap() {
                Piece::Data(d) if d.is_empty() => break,
                Piece::Data(d) => pieces.push((true, d.len() as u64)),
                Piece::Hole(n) => pieces.push((false, n)),
            }
        }
        let total: u64 = pieces.iter().map(|p| p.1).sum();
        assert_eq!(total, 1 << 20, "{pieces:?}");
        assert!(pieces.contains(&(false, 128 << 10)), "{pieces:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_transfer_stays_inside_the_volume() {
        assert!(check_range("v", 100, 0, None, false).is_ok());
        assert!(
            check_range("v", 100, 100, None, true).is_ok(),
            "an upload may append"
        );
        assert!(check_range("v", 100, 40, Some(60), false).is_ok());
        assert!(
            check_range("v", 100, 40, Some(500), true).is_ok(),
            "an upload may extend"
        );
        for (offset, length, upload) in [
            (101, None, false),
            (101, None, true),
            (40, Some(61), false),
            (1, Some(u64::MAX), false),
        ] {
            let e = check_range("v", 100, offset, length, upload).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArgument);
            assert!(
                e.message.contains("beyond the end of volume 'v'"),
                "{}",
                e.message
            );
        }
    }
}
