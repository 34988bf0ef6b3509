//! File-system helpers shared by the driver and the daemon: atomic
//! writes (durable for configuration, not for runtime files), checked
//! private directories, and the state-directory lock.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, ErrorCode, Result};

/// Writes `data` to `path` so that a crash at any instant leaves either
/// the old file or the new one, also across a power loss: a temporary
/// file in the same directory, fsync, rename over `path`, fsync of the
/// directory. For files that must outlive the host: definitions and
/// autostart marks.
///
/// The temporary file's name (`.NAME.tmp-PID-N`, see [`is_leftover_temp`])
/// is new for every call, so two threads writing the same file at once
/// never write into one temporary file; it is created exclusively, so a
/// symlink planted under that name is replaced, never followed.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    write_via_temp(path, data, true)
}

/// Replaces `path` with `data` as [`write_atomic`] does, but without its
/// two fsyncs: a crash of the manager still leaves either the old file or
/// the new one (the rename is atomic), but a power loss may leave either,
/// or an empty file. For runtime files only (the status of a run, the
/// reason a domain stopped, caches), which describe processes that die
/// with the host: after a reboot they are stale whatever they say, and
/// their readers cope with a damaged one. Each fsync costs a round trip
/// to the disk, which a start or a stop would otherwise wait for.
pub fn replace_atomic(path: &Path, data: &[u8]) -> Result<()> {
    write_via_temp(path, data, false)
}

/// [`write_atomic`] (`durable`) or [`replace_atomic`]. The directory is
/// opened once, not following a link (see [`open_dir_nofollow`]), and the
/// temporary file, the rename and the sync all happen relative to it.
fn write_via_temp(path: &Path, data: &[u8], durable: bool) -> Result<()> {
    use nix::fcntl::{OFlag, openat, renameat};
    use nix::sys::stat::Mode;
    use nix::unistd::{UnlinkatFlags, unlinkat};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        Error::new(
            ErrorCode::Internal,
            format!("{} has no file name", path.display()),
        )
    })?;
    let dir = open_dir_nofollow(parent).map_err(|e| open_error("the directory", parent, e))?;
    let tmp = std::ffi::OsString::from(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| -> std::io::Result<()> {
        let create = || {
            openat(
                &dir,
                tmp.as_os_str(),
                OFlag::O_WRONLY
                    | OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o600),
            )
        };
        let fd = match create() {
            // Only a crashed writer's leftover (or something planted) can
            // have this name: out of the way with it, and once more.
            Err(nix::errno::Errno::EEXIST) => {
                unlinkat(&dir, tmp.as_os_str(), UnlinkatFlags::NoRemoveDir)?;
                create()?
            }
            opened => opened?,
        };
        let mut file = File::from(fd);
        file.write_all(data)?;
        if durable {
            file.sync_all()?;
        }
        renameat(&dir, tmp.as_os_str(), &dir, name)?;
        if durable {
            nix::unistd::fsync(&dir)?;
        }
        Ok(())
    })();
    result.map_err(|e| {
        let _ = unlinkat(&dir, tmp.as_os_str(), UnlinkatFlags::NoRemoveDir);
        Error::io(format!("cannot write {}", path.display()), e)
    })
}

/// Whether `file_name` is a temporary file [`write_atomic`] (or
/// [`replace_atomic`]) leaves when its process dies before the rename:
/// `.NAME.tmp-PID` (older versions) or `.NAME.tmp-PID-N`. Only the
/// manager holding the state lock writes in its directories, so at open
/// every such file is a leftover.
pub fn is_leftover_temp(file_name: &str) -> bool {
    let Some(rest) = file_name.strip_prefix('.') else {
        return false;
    };
    let Some((stem, suffix)) = rest.rsplit_once(".tmp-") else {
        return false;
    };
    let mut parts = suffix.split('-');
    let number =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    !stem.is_empty()
        && number(parts.next())
        && match parts.next() {
            None => true,
            seq => number(seq) && parts.next().is_none(),
        }
}

/// Removes `path` durably (fsync of its directory); a missing file is fine.
pub fn remove_durable(path: &Path) -> Result<()> {
    remove(path, true)
}

/// Removes `path` without syncing its directory; a missing file is fine.
/// For runtime files, as [`replace_atomic`] writes them: a power loss may
/// bring the file back, stale like every other runtime file then.
pub fn remove_runtime(path: &Path) -> Result<()> {
    remove(path, false)
}

/// [`remove_durable`] (`durable`) or [`remove_runtime`], relative to the
/// directory opened without following a link.
fn remove(path: &Path, durable: bool) -> Result<()> {
    use nix::unistd::{UnlinkatFlags, unlinkat};
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name() else {
        return Err(Error::new(
            ErrorCode::Internal,
            format!("{} has no file name", path.display()),
        ));
    };
    let dir = match open_dir_nofollow(parent) {
        Ok(dir) => dir,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(open_error("the directory", parent, e)),
    };
    match unlinkat(&dir, name, UnlinkatFlags::NoRemoveDir) {
        Ok(()) => {}
        Err(nix::errno::Errno::ENOENT) => return Ok(()),
        Err(e) => {
            return Err(Error::io(
                format!("cannot remove {}", path.display()),
                e.into(),
            ));
        }
    }
    if !durable {
        return Ok(());
    }
    nix::unistd::fsync(&dir)
        .map_err(|e| Error::io(format!("cannot sync {}", parent.display()), e.into()))
}

/// Creates `dir` (mode 0700) if missing, then checks that it is a real
/// directory (not a symlink), owned by this user, and not writable by
/// group or others: a directory someone else can write into could have
/// files planted in it. First checks the directories above it (see
/// [`check_trusted_path`]): one that another user can write could have
/// `dir` itself swapped for theirs between two calls.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    if let Some(parent) = dir.parent() {
        check_trusted_path(parent)?;
    }
    match fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) => return Err(Error::io(format!("cannot create {}", dir.display()), e)),
    }
    check_private_dir(dir)
}

/// Checks an existing directory as [`ensure_private_dir`] does.
pub fn check_private_dir(dir: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(dir)
        .map_err(|e| Error::io(format!("cannot inspect {}", dir.display()), e))?;
    if meta.file_type().is_symlink() {
        return Err(Error::new(
            ErrorCode::OperationDenied,
            format!(
                "{} is a symbolic link; qvirt only uses real directories",
                dir.display()
            ),
        ));
    }
    if !meta.is_dir() {
        return Err(Error::new(
            ErrorCode::OperationDenied,
            format!("{} is not a directory", dir.display()),
        ));
    }
    let uid = nix::unistd::geteuid().as_raw();
    if meta.uid() != uid {
        return Err(Error::new(
            ErrorCode::OperationDenied,
            format!(
                "{} is owned by uid {}, not by this user (uid {uid}); refusing to use it",
                dir.display(),
                meta.uid()
            ),
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(Error::new(
            ErrorCode::OperationDenied,
            format!(
                "{} is writable by group or others (mode {:o}); run `chmod go-w {}`",
                dir.display(),
                meta.mode() & 0o7777,
                dir.display()
            ),
        ));
    }
    Ok(())
}

/// A file written under a temporary name beside its target and published
/// by an atomic rename: for files a user names (a save image), which may
/// sit in a directory other users can write to.
///
/// The directory is opened once and every step works relative to it, so
/// a directory swapped for a symlink midway changes nothing. The
/// temporary name is random (`.NAME.tmp-` and 32 hex digits) and created
/// exclusively without following links, so nobody can guess it ahead or
/// plant something under it, and two writes of one target never share
/// it. A target that is a symlink is refused rather than replaced. A
/// pending file that is dropped before [`PendingFile::commit`] removes its
/// temporary file.
#[derive(Debug)]
pub struct PendingFile {
    dir: std::os::fd::OwnedFd,
    dir_path: PathBuf,
    temp: String,
    target: std::ffi::OsString,
    /// The open temporary file, to write into.
    pub file: File,
    committed: bool,
}

impl PendingFile {
    /// Opens the directory of `target` and creates the temporary file in
    /// it. `what` names the file for messages (`the save image`).
    pub fn create(target: &Path, what: &str) -> Result<PendingFile> {
        use nix::fcntl::{OFlag, openat};
        use nix::sys::stat::Mode;
        let name = target.file_name().ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("{what} {} names no file", target.display()),
            )
        })?;
        let dir_path = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let failed = |step: &str, e: nix::errno::Errno| {
            Error::io(
                format!("cannot write {what} {}: {step}", target.display()),
                std::io::Error::from(e),
            )
        };
        let dir = nix::fcntl::open(
            &dir_path,
            OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| failed(&format!("its directory {}", dir_path.display()), e))?;
        refuse_link_at(&dir, name, target, what)?;
        let temp = format!(
            ".{}.tmp-{}",
            name.to_string_lossy(),
            uuid::Uuid::new_v4().simple()
        );
        let fd = openat(
            &dir,
            temp.as_str(),
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|e| failed("cannot create a temporary file beside it", e))?;
        Ok(PendingFile {
            dir,
            dir_path,
            temp,
            target: name.to_os_string(),
            file: File::from(fd),
            committed: false,
        })
    }

    /// The temporary file's path (for messages and for a record that lets
    /// a later manager remove it).
    pub fn temp_path(&self) -> PathBuf {
        self.dir_path.join(&self.temp)
    }

    /// Makes the file durable and gives it its name: fsync, rename over
    /// the target (checked again not to be a symlink), fsync of the
    /// directory.
    pub fn commit(mut self) -> Result<()> {
        let target = self.dir_path.join(&self.target);
        self.file
            .sync_all()
            .map_err(|e| Error::io(format!("cannot sync {}", self.temp_path().display()), e))?;
        refuse_link_at(&self.dir, &self.target, &target, "the file")?;
        nix::fcntl::renameat(
            &self.dir,
            self.temp.as_str(),
            &self.dir,
            self.target.as_os_str(),
        )
        .map_err(|e| {
            Error::io(
                format!(
                    "cannot rename {} to {}",
                    self.temp_path().display(),
                    target.display()
                ),
                std::io::Error::from(e),
            )
        })?;
        self.committed = true;
        nix::unistd::fsync(&self.dir).map_err(|e| {
            Error::io(
                format!("cannot sync {}", self.dir_path.display()),
                std::io::Error::from(e),
            )
        })
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = nix::unistd::unlinkat(
                &self.dir,
                self.temp.as_str(),
                nix::unistd::UnlinkatFlags::NoRemoveDir,
            );
        }
    }
}

/// Refuses when `name` in `dir` is a symlink or a directory.
fn refuse_link_at(
    dir: &std::os::fd::OwnedFd,
    name: &std::ffi::OsStr,
    target: &Path,
    what: &str,
) -> Result<()> {
    use nix::sys::stat::{SFlag, fstatat};
    match fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => {
            let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
            if kind == SFlag::S_IFLNK {
                return Err(Error::new(
                    ErrorCode::OperationDenied,
                    format!(
                        "{what} {} is a symbolic link; qvirt does not write through links (remove it or name the real file)",
                        target.display()
                    ),
                ));
            }
            if kind == SFlag::S_IFDIR {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!("{what} {} is a directory", target.display()),
                ));
            }
            Ok(())
        }
        Err(nix::errno::Errno::ENOENT) => Ok(()),
        Err(e) => Err(Error::io(
            format!("cannot inspect {}", target.display()),
            std::io::Error::from(e),
        )),
    }
}

/// The error for a state file `what` at `path` that could not be opened
/// with `O_NOFOLLOW`: a symlink there is `OperationDenied`, saying so.
pub fn open_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    if e.raw_os_error() == Some(nix::libc::ELOOP) {
        if let Some(dir) = path.parent()
            && fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink())
        {
            return Error::new(
                ErrorCode::OperationDenied,
                format!(
                    "the directory {} of {what} {} is a symbolic link; qvirt does not follow links in its state directory (make it a directory again)",
                    dir.display(),
                    path.display()
                ),
            );
        }
        return Error::new(
            ErrorCode::OperationDenied,
            format!(
                "{what} {} is a symbolic link; qvirt does not follow links in its state directory (remove it)",
                path.display()
            ),
        );
    }
    Error::io(format!("cannot open {what} {}", path.display()), e)
}

/// Checks that no directory from `path` up to `/` lets anyone but this
/// user or root replace what is below it, as OpenSSH's StrictModes checks
/// a user's key files: each must be owned by this user or by root and not
/// be writable by group or others. A root-owned directory with the sticky
/// bit (`/tmp`) passes although anyone may write into it: there, nobody
/// but an entry's owner can rename or remove that entry. Symlinks on the
/// way are checked where they point too (the canonical path). Parts of
/// `path` that do not exist yet are skipped: whoever makes them is
/// checked when they are made (see [`ensure_private_dir`]).
pub fn check_trusted_path(path: &Path) -> Result<()> {
    let uid = nix::unistd::geteuid().as_raw();
    let mut paths = vec![path.to_path_buf()];
    let mut existing = path;
    while !existing.exists() {
        match existing.parent() {
            Some(p) => existing = p,
            None => break,
        }
    }
    if let Ok(real) = fs::canonicalize(existing)
        && real != existing
    {
        paths.push(real);
    }
    for p in &paths {
        for dir in p.ancestors() {
            let Ok(meta) = fs::metadata(dir) else {
                continue;
            };
            let trusted_owner = meta.uid() == uid || meta.uid() == 0;
            let open = meta.mode() & 0o022 != 0;
            let sticky_root = meta.mode() & 0o1000 != 0 && meta.uid() == 0;
            if !trusted_owner || (open && !sticky_root) {
                return Err(Error::new(
                    ErrorCode::OperationDenied,
                    format!(
                        "{} is unsafe for {}: it is owned by uid {} with mode {:o}, so another user could replace what is in it; it must belong to you (uid {uid}) or root and not be writable by group or others",
                        dir.display(),
                        path.display(),
                        meta.uid(),
                        meta.mode() & 0o7777
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// An exclusive lock on a state directory, held for the life of the value.
/// The lock file holds the owner's pid, so a second manager can say who
/// holds it.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
    path: PathBuf,
}

impl StateLock {
    /// Takes the lock at `path` without waiting; `OperationDenied` naming
    /// the holder's pid when another process has it.
    pub fn acquire(path: &Path) -> Result<StateLock> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| open_error("the lock file", path, e))?;
        // A lock its owner released a moment ago stays taken while a child
        // that any of the owner's threads forked meanwhile still holds a
        // copy of the descriptor, until that child execs (a few
        // milliseconds on a loaded machine): wait up to a second before
        // saying the directory is in use. Only a refusal pays this wait.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        let mut result = file.try_lock();
        while matches!(result, Err(std::fs::TryLockError::WouldBlock))
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
            result = file.try_lock();
        }
        match result {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = read_holder(&mut file);
                return Err(Error::new(
                    ErrorCode::OperationDenied,
                    format!(
                        "{} is in use by another qvirt manager (pid {}); stop it or use its socket",
                        path.parent().unwrap_or(path).display(),
                        if holder.is_empty() {
                            "unknown"
                        } else {
                            &holder
                        }
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("cannot lock {}", path.display()), e));
            }
        }
        file.set_len(0)
            .and_then(|_| std::io::Seek::rewind(&mut file))
            .and_then(|_| file.write_all(format!("{}\n", std::process::id()).as_bytes()))
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        Ok(StateLock {
            _file: file,
            path: path.to_path_buf(),
        })
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The pid a lock file names (its whole text, trimmed).
/// Opens the directory `dir` to work beneath it by descriptor: its last
/// component is not followed (a symlink there is `ELOOP`), and what is
/// done through the descriptor stays in the directory it names even if a
/// path above it changes afterwards.
pub fn open_dir_nofollow(dir: &Path) -> std::io::Result<std::os::fd::OwnedFd> {
    use nix::fcntl::{OFlag, open};
    use nix::sys::stat::Mode;
    open(
        dir,
        OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| {
        // A symlink is ENOTDIR under O_DIRECTORY; say what it is.
        if e == nix::errno::Errno::ENOTDIR
            && fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink())
        {
            std::io::Error::from_raw_os_error(nix::libc::ELOOP)
        } else {
            std::io::Error::from(e)
        }
    })
}

/// Opens the file `path` with `flags` (and `O_NOFOLLOW`, `O_CLOEXEC`)
/// relative to its directory opened by [`open_dir_nofollow`]: neither the
/// file nor its directory may be a symlink, so a log directory swapped
/// for a link does not send the manager's writes elsewhere.
pub fn open_beneath(path: &Path, flags: nix::fcntl::OFlag, mode: u32) -> std::io::Result<File> {
    use nix::fcntl::OFlag;
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput));
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let dir = open_dir_nofollow(parent)?;
    let fd = nix::fcntl::openat(
        &dir,
        name,
        flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::from_bits_truncate(mode),
    )?;
    Ok(File::from(fd))
}

/// Removes `path` and everything beneath it without following a symlink
/// anywhere: the parent is opened once (its last component not followed,
/// see [`open_dir_nofollow`]), and every level below is opened relative
/// to the one above with `O_NOFOLLOW`. A symlink met on the way is
/// removed, never entered: a runtime directory swapped for a link to
/// another directory costs the link, not that directory's files.
pub fn remove_tree(path: &Path) -> std::io::Result<()> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput));
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let dir = open_dir_nofollow(parent)?;
    remove_entry_at(&dir, name, 0)
}

/// How deep [`remove_tree`] goes: runtime and state directories are two or
/// three levels deep, so anything far deeper is not ours.
const MAX_REMOVE_DEPTH: usize = 16;

fn remove_entry_at(
    dir: &std::os::fd::OwnedFd,
    name: &std::ffi::OsStr,
    depth: usize,
) -> std::io::Result<()> {
    use nix::dir::Dir;
    use nix::fcntl::{AtFlags, OFlag};
    use nix::sys::stat::{Mode, SFlag, fstatat};
    use nix::unistd::{UnlinkatFlags, unlinkat};
    let st = fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFDIR {
        return unlinkat(dir, name, UnlinkatFlags::NoRemoveDir).map_err(Into::into);
    }
    if depth >= MAX_REMOVE_DEPTH {
        return Err(std::io::Error::other("directory tree too deep to remove"));
    }
    let child = nix::fcntl::openat(
        dir,
        name,
        OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let names: Vec<std::ffi::OsString> = {
        let dup = child.try_clone()?;
        let mut listing = Dir::from_fd(dup)?;
        let mut names = Vec::new();
        for entry in listing.iter() {
            let entry = entry?;
            let n = entry.file_name().to_bytes();
            if n != b"." && n != b".." {
                names.push(
                    <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(n).to_os_string(),
                );
            }
        }
        names
    };
    for n in names {
        match remove_entry_at(&child, &n, depth + 1) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            other => other?,
        }
    }
    unlinkat(dir, name, UnlinkatFlags::RemoveDir).map_err(Into::into)
}

fn read_holder(file: &mut File) -> String {
    use std::io::Seek;
    let mut holder = String::new();
    let _ = file.rewind();
    let _ = file.read_to_string(&mut holder);
    holder.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn tempdir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("qvirt-fsutil-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        ensure_private_dir(&dir).unwrap();
        dir
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = tempdir("atomic");
        let file = dir.join("a.xml");
        write_atomic(&file, b"one").unwrap();
        write_atomic(&file, b"two").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"two");
        let names = || -> Vec<_> {
            fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect()
        };
        assert_eq!(names(), ["a.xml"]);
        remove_durable(&file).unwrap();
        remove_durable(&file).unwrap();
        assert!(names().is_empty());
        let status = dir.join("status.json");
        replace_atomic(&status, b"one").unwrap();
        replace_atomic(&status, b"two").unwrap();
        assert_eq!(fs::read(&status).unwrap(), b"two");
        assert_eq!(names(), ["status.json"]);
        remove_runtime(&status).unwrap();
        remove_runtime(&status).unwrap();
        assert!(names().is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Threads writing one file at once each get a whole write in: no
    /// error, no mixed contents, no temporary file left.
    #[test]
    fn concurrent_atomic_writes_of_one_file_do_not_mix() {
        let dir = tempdir("concurrent");
        let file = dir.join("status.json");
        let contents: Vec<Vec<u8>> = (0..8u8)
            .map(|i| vec![b'a' + i; 1000 + 3000 * usize::from(i)])
            .collect();
        std::thread::scope(|s| {
            for c in &contents {
                let file = &file;
                s.spawn(move || {
                    for _ in 0..200 {
                        write_atomic(file, c).unwrap();
                    }
                });
            }
        });
        assert!(contents.contains(&fs::read(&file).unwrap()));
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["status.json"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A symlink planted under a temporary file's name is replaced, and
    /// its target left alone; a planted lock file link is refused.
    #[test]
    fn planted_links_are_not_followed() {
        let dir = tempdir("links");
        let target = dir.join("target");
        fs::write(&target, b"precious").unwrap();
        let pid = std::process::id();
        for n in 0..32 {
            std::os::unix::fs::symlink(&target, dir.join(format!(".a.xml.tmp-{pid}-{n}"))).unwrap();
        }
        std::os::unix::fs::symlink(&target, dir.join(format!(".a.xml.tmp-{pid}"))).unwrap();
        write_atomic(&dir.join("a.xml"), b"mine").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"precious");
        assert!(fs::symlink_metadata(dir.join("a.xml")).unwrap().is_file());

        std::os::unix::fs::symlink(&target, dir.join("lock")).unwrap();
        let err = StateLock::acquire(&dir.join("lock")).unwrap_err();
        assert_eq!(err.code, ErrorCode::OperationDenied);
        assert!(err.message.contains("symbolic link"), "{}", err.message);
        assert_eq!(fs::read(&target).unwrap(), b"precious");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn leftover_temporary_files_are_recognised() {
        for name in [".a.xml.tmp-12", ".a.xml.tmp-12-0", ".x.tmp-y.xml.tmp-1-22"] {
            assert!(is_leftover_temp(name), "{name}");
        }
        for name in [
            "a.xml.tmp-12",
            ".a.xml.swp",
            ".a.xml.tmp-",
            ".a.xml.tmp-12-",
            ".a.xml.tmp-1x",
            ".a.xml.tmp-1-2-3",
            ".tmp-12",
            ".a.xml",
        ] {
            assert!(!is_leftover_temp(name), "{name}");
        }
    }

    #[test]
    fn refuses_group_writable_and_symlinked_dirs() {
        let dir = tempdir("perm");
        let open = dir.join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o770)).unwrap();
        let err = check_private_dir(&open).unwrap_err();
        assert_eq!(err.code, ErrorCode::OperationDenied);
        assert!(err.message.contains("writable by group"), "{}", err.message);
        let link = dir.join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        let err = ensure_private_dir(&link).unwrap_err();
        assert_eq!(err.code, ErrorCode::OperationDenied);
        assert!(err.message.contains("symbolic link"), "{}", err.message);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_second_lock_names_the_holder() {
        let dir = tempdir("lock");
        let lock = StateLock::acquire(&dir.join("lock")).unwrap();
        let err = StateLock::acquire(&dir.join("lock")).unwrap_err();
        assert_eq!(err.code, ErrorCode::OperationDenied);
        assert!(
            err.message.contains(&format!("pid {}", std::process::id())),
            "{}",
            err.message
        );
        drop(lock);
        StateLock::acquire(&dir.join("lock")).unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }
}
