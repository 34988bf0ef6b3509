//! Bytes of a domain's disk or memory (libvirt's `virDomainBlockPeek`
//! and `virDomainMemoryPeek`), with libvirt's rules: a disk is read from
//! its source on the host, raw images only; memory is saved by QEMU
//! (`memsave` for guest virtual addresses as vCPU 0 sees them,
//! `pmemsave` for physical ones) to a private file in the run directory,
//! read back and removed.

use std::os::unix::fs::FileExt;

use serde_json::json;

use super::driver::Core;
use crate::driver::{Domain, DomainState, XmlFlags};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{DiskFormat, DomainDef};
use crate::qemu::qmp::QMP_TIMEOUT;

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

impl Core {
    /// [`crate::Driver::block_peek`].
    pub(crate) fn block_peek(
        &self,
        dom: &Domain,
        path: &str,
        offset: u64,
        size: usize,
    ) -> Result<Vec<u8>> {
        let def = DomainDef::from_xml(&self.domain_xml(dom, XmlFlags::NONE)?)?;
        let disk = def
            .devices
            .disks
            .iter()
            .find(|d| d.target == path || d.source.as_deref() == Some(path))
            .ok_or_else(|| invalid(format!("disk '{path}' not found in domain")))?;
        let format = disk.format.unwrap_or(DiskFormat::Raw);
        if format != DiskFormat::Raw {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!(
                    "peeking is only supported for disk with 'raw' format not '{}'",
                    format.as_str()
                ),
            ));
        }
        let source = disk
            .source
            .as_deref()
            .filter(|_| disk.network.is_none())
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::NoSupport,
                    format!("disk '{path}' has no local source to peek at"),
                )
            })?;
        let file = std::fs::File::open(source)
            .map_err(|e| Error::io(format!("cannot open {source}"), e))?;
        let mut buf = vec![0u8; size];
        let mut got = 0;
        while got < size {
            match file.read_at(&mut buf[got..], offset + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(format!("cannot read {source}"), e)),
            }
        }
        if got < size {
            return Err(invalid(format!(
                "'{path}' starting from {offset} has only {got} bytes available"
            )));
        }
        Ok(buf)
    }

    /// [`crate::Driver::memory_peek`].
    pub(crate) fn memory_peek(
        &self,
        dom: &Domain,
        offset: u64,
        size: usize,
        physical: bool,
    ) -> Result<Vec<u8>> {
        let run = self.running_in(
            dom,
            "read the memory of",
            &[DomainState::Running, DomainState::Paused],
        )?;
        let file = tempfile_in(&run.run_dir)?;
        let (command, args) = if physical {
            (
                "pmemsave",
                json!({"val": offset, "size": size, "filename": file.1}),
            )
        } else {
            (
                "memsave",
                json!({"val": offset, "size": size, "filename": file.1}),
            )
        };
        let saved = run.qmp()?.execute(command, Some(args), QMP_TIMEOUT);
        let read = saved.and_then(|_| {
            let mut buf = vec![0u8; size];
            let got = file
                .0
                .read_at(&mut buf, 0)
                .map_err(|e| Error::io(format!("failed to read temporary file {}", file.1), e))?;
            buf.truncate(got);
            Ok(buf)
        });
        let _ = std::fs::remove_file(&file.1);
        read
    }
}

/// A new file only its owner may read, `qemu.mem.N` in `dir`, open.
fn tempfile_in(dir: &std::path::Path) -> Result<(std::fs::File, String)> {
    use std::os::unix::fs::OpenOptionsExt;
    for n in 0..1000u32 {
        let path = dir.join(format!("qemu.mem.{}.{n}", std::process::id()));
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => return Ok((f, path.to_string_lossy().into_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(format!("cannot create {}", path.display()), e)),
        }
    }
    Err(Error::new(
        ErrorCode::Internal,
        format!("no free temporary file name in {}", dir.display()),
    ))
}
