//! The stream under a `qemu+ssh://` connection: OpenSSH's `ssh`, run as
//! libvirt runs it (`virNetSocketNewConnectSSH`), with one end of a socket
//! pair as its stdin and stdout, so the `SocketDriver` above reads and
//! writes a UNIX socket exactly as for a local daemon. On the remote host
//! ssh runs `qvirtd --proxy URI`, which copies the bytes to the daemon's
//! socket there.
//!
//! OpenSSH does everything that makes a remote login safe (keys, agent,
//! host keys, `~/.ssh/config` aliases, ProxyJump); qvirt adds nothing of
//! its own. What it adds is what a user needs when that fails: ssh's
//! stderr is drained all along (the last [`TAIL`] bytes kept), and when
//! the connection ends, the error carries them with ssh's exit status.
//!
//! The [`Tunnel`] owns the ssh process and the thread that drains its
//! stderr; closing it ends ssh (politely first: its stdin is closed, so
//! the remote proxy ends too) and joins the thread.

use std::ffi::OsString;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::driver::uri::{Proto, SshTarget};
use crate::error::{Error, ErrorCode, Result};
use crate::sys::process::{ExitWatch, ProcessId, start_time};
use crate::sys::shell::shell_quote;
use crate::sys::sync::lock;

/// The bytes of ssh's stderr kept for error messages: the last KiB.
pub const TAIL: usize = 1024;

/// The seconds ssh may take to reach the host (`ConnectTimeout`).
pub const CONNECT_TIMEOUT_S: u32 = 10;

/// Seconds between ssh's keepalives while nothing else is sent
/// (`ServerAliveInterval`), and how many may go unanswered
/// (`ServerAliveCountMax`) before ssh gives up: a host or network that
/// vanishes without a word is a closed connection after about 15 s, not a
/// call that waits forever.
pub const ALIVE_INTERVAL_S: u32 = 5;
/// See [`ALIVE_INTERVAL_S`].
pub const ALIVE_COUNT: u32 = 3;

/// How long an ended connection waits for ssh's last words (its stderr
/// to close and its exit status) before reporting without them.
const LAST_WORDS: Duration = Duration::from_millis(500);

/// How long a closing connection gives ssh to exit after its stdin
/// closed, and then after SIGTERM, before SIGKILL.
const EXIT_GRACE: Duration = Duration::from_secs(1);

/// The environment ssh inherits, as libvirt passes it
/// (`virCommandAddEnvPassCommon` and `virNetSocketNewConnectSSH`);
/// everything else is cleared and `LC_ALL=C` set, so ssh's messages are
/// the English ones an error shows.
const PASS_ENV: [&str; 18] = [
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "TMPDIR",
    "XDG_RUNTIME_DIR",
    "KRB5CCNAME",
    "SSH_AUTH_SOCK",
    "SSH_ASKPASS",
    "SSH_ASKPASS_REQUIRE",
    "GPG_TTY",
    "TERM",
    "OPENSSL_CONF",
    "DISPLAY",
    "XAUTHORITY",
    "WAYLAND_DISPLAY",
];

/// The command that runs on the remote host: `qvirtd --proxy URI`, with
/// `--proto libvirt` before it when asked (`--proxy` takes the URI as its
/// value), quoted for the remote user's shell.
pub fn remote_command(t: &SshTarget) -> String {
    let mut words = vec!["qvirtd".to_string()];
    if t.proto == Proto::Libvirt {
        words.extend(["--proto".to_string(), "libvirt".to_string()]);
    }
    words.push("--proxy".to_string());
    words.push(shell_quote(t.proxy_uri().as_ref()));
    words.join(" ")
}

/// The ssh program and its arguments, in libvirt's order:
/// `ssh [-p PORT] [-l USER] [-i KEYFILE] -T -e none [-o BatchMode=yes]
/// [-o StrictHostKeyChecking=no] [-o UserKnownHostsFile=PATH]
/// -o ConnectTimeout=10 -o ServerAliveInterval=5 -o ServerAliveCountMax=3
/// -- HOST REMOTE-COMMAND`.
pub fn ssh_command(t: &SshTarget, remote: &str) -> (PathBuf, Vec<OsString>) {
    let program = t.command.clone().unwrap_or_else(|| PathBuf::from("ssh"));
    let mut args: Vec<OsString> = Vec::new();
    let mut add = |a: &str, b: OsString| {
        args.push(a.into());
        args.push(b);
    };
    if let Some(port) = t.port {
        add("-p", port.to_string().into());
    }
    if let Some(user) = &t.user {
        add("-l", user.into());
    }
    if let Some(key) = &t.keyfile {
        add("-i", key.into());
    }
    add("-T", "-e".into());
    args.push("none".into());
    let mut opt = |o: String| {
        args.push("-o".into());
        args.push(o.into());
    };
    if t.no_tty {
        opt("BatchMode=yes".into());
    }
    if t.no_verify {
        opt("StrictHostKeyChecking=no".into());
    }
    if let Some(kh) = &t.known_hosts {
        // ssh splits an option's value at blanks (several files may be
        // named): a path with blanks or quotes goes in double quotes.
        let kh = kh.to_string_lossy();
        if kh.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
            opt(format!(
                "UserKnownHostsFile=\"{}\"",
                kh.replace('"', "\\\"")
            ));
        } else {
            opt(format!("UserKnownHostsFile={kh}"));
        }
    }
    opt(format!("ConnectTimeout={CONNECT_TIMEOUT_S}"));
    opt(format!("ServerAliveInterval={ALIVE_INTERVAL_S}"));
    opt(format!("ServerAliveCountMax={ALIVE_COUNT}"));
    args.push("--".into());
    args.push(t.host.clone().into());
    args.push(remote.into());
    (program, args)
}

/// The running ssh of one connection and the drain of its stderr.
pub struct Tunnel {
    host: String,
    child: Mutex<Option<Child>>,
    watch: Option<ExitWatch>,
    status: Mutex<Option<ExitStatus>>,
    stderr: Arc<Tail>,
    drain: Mutex<Option<JoinHandle<()>>>,
    /// Written (or closed) to stop the drain thread.
    wake: Mutex<Option<OwnedFd>>,
}

/// What ssh wrote to stderr: the last [`TAIL`] bytes, and whether it
/// has closed it (it has exited, or is about to).
#[derive(Default)]
struct Tail {
    state: Mutex<(Vec<u8>, bool)>,
    changed: Condvar,
}

impl Tunnel {
    /// Starts ssh for `t` and returns this side of its stdin and stdout.
    pub fn spawn(t: &SshTarget) -> Result<(UnixStream, Tunnel)> {
        let (program, args) = ssh_command(t, &remote_command(t));
        let (ours, theirs) =
            UnixStream::pair().map_err(|e| Error::io("cannot make a socket pair for ssh", e))?;
        let theirs_out = theirs
            .try_clone()
            .map_err(|e| Error::io("cannot duplicate the socket for ssh", e))?;
        let mut cmd = Command::new(&program);
        cmd.args(&args)
            .env_clear()
            .env("LC_ALL", "C")
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::from(OwnedFd::from(theirs_out)))
            .stderr(Stdio::piped());
        for var in PASS_ENV {
            if let Some(v) = std::env::var_os(var) {
                cmd.env(var, v);
            }
        }
        let mut child = cmd.spawn().map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                "; install OpenSSH's client, or name the program with command=PATH"
            } else {
                ""
            };
            Error::io(
                format!("cannot run {} to reach {}{hint}", program.display(), t.host),
                e,
            )
        })?;
        // The socket pair's other end now lives only in ssh: when ssh
        // exits, this end reads the end of the stream.
        drop(cmd);
        let stderr = child.stderr.take().expect("stderr is piped");
        let pid = child.id() as i32;
        let watch = start_time(pid).and_then(|st| {
            ExitWatch::open(ProcessId {
                pid,
                start_time: st,
            })
        });
        let (wake_r, wake_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| Error::io("cannot make a pipe", e.into()))?;
        let tail = Arc::new(Tail::default());
        let drain = {
            let tail = tail.clone();
            std::thread::Builder::new()
                .name("qvirt-ssh-stderr".into())
                .spawn(move || drain(stderr, wake_r, &tail))
                .map_err(|e| Error::io("cannot start the thread that reads ssh's errors", e))?
        };
        Ok((
            ours,
            Tunnel {
                host: t.host.clone(),
                child: Mutex::new(Some(child)),
                watch,
                status: Mutex::new(None),
                stderr: tail,
                drain: Mutex::new(Some(drain)),
                wake: Mutex::new(Some(wake_w)),
            },
        ))
    }

    /// Adds what ssh said to `why`, the reason the connection ended: its
    /// stderr's tail and, once it has exited, its exit status. Waits for
    /// them at most [`LAST_WORDS`]. An ssh that has exited makes the
    /// error an I/O error (the transport is gone); one still running (the
    /// far side sent something that is not the protocol) keeps the code.
    pub fn explain(&self, why: (ErrorCode, String)) -> (ErrorCode, String) {
        let deadline = Instant::now() + LAST_WORDS;
        let said = self.stderr.wait_closed(deadline);
        let status = self.exit_status(Some(deadline));
        let mut msg = why.1;
        let code = match status {
            // The stream's end was ssh's: say so instead.
            Some(s) if msg == super::read::PEER_CLOSED => {
                msg = format!("ssh to {} {}", self.host, describe(s));
                ErrorCode::Io
            }
            Some(s) => {
                msg.push_str(&format!("; ssh to {} {}", self.host, describe(s)));
                ErrorCode::Io
            }
            None => {
                msg.push_str(&format!("; ssh to {} is still running", self.host));
                why.0
            }
        };
        if !said.is_empty() {
            msg.push_str(&format!(", saying: {said}"));
        }
        (code, msg)
    }

    /// ssh's exit status, waiting for it until `deadline` (`None`: not
    /// at all); reaps it.
    fn exit_status(&self, deadline: Option<Instant>) -> Option<ExitStatus> {
        if let Some(s) = *lock(&self.status) {
            return Some(s);
        }
        if let (Some(d), Some(w)) = (deadline, &self.watch) {
            w.wait(Some(d.saturating_duration_since(Instant::now())));
        }
        let mut child = lock(&self.child);
        let s = child.as_mut()?.try_wait().ok().flatten()?;
        *lock(&self.status) = Some(s);
        Some(s)
    }

    /// Ends ssh and joins the stderr thread; idempotent. The caller has
    /// shut the socket down, so ssh reads the end of its stdin and
    /// closes the channel (and the remote proxy its daemon connection);
    /// an ssh that lingers gets SIGTERM, then SIGKILL.
    pub fn close(&self) {
        if let Some(mut child) = lock(&self.child).take() {
            let exited = |grace: Duration| self.watch.as_ref().is_none_or(|w| w.wait(Some(grace)));
            if !exited(EXIT_GRACE) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(child.id() as i32),
                    nix::sys::signal::Signal::SIGTERM,
                );
                if !exited(EXIT_GRACE) {
                    let _ = child.kill();
                }
            }
            if let Ok(s) = child.wait() {
                *lock(&self.status) = Some(s);
            }
        }
        // Closing the write end wakes the drain, which then ends even if
        // something ssh started still holds its stderr open.
        drop(lock(&self.wake).take());
        if let Some(t) = lock(&self.drain).take() {
            let _ = t.join();
        }
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        self.close();
    }
}

impl Tail {
    /// What ssh wrote, once it closed its stderr or `deadline` passed:
    /// one line, control characters escaped.
    fn wait_closed(&self, deadline: Instant) -> String {
        let mut st = lock(&self.state);
        while !st.1 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            st = self
                .changed
                .wait_timeout(st, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        printable(&st.0)
    }
}

/// Reads ssh's stderr until it closes or `wake` is closed, keeping the
/// last [`TAIL`] bytes.
fn drain(mut stderr: ChildStderr, wake: OwnedFd, tail: &Tail) {
    let mut buf = [0u8; 4096];
    loop {
        let mut fds = [
            PollFd::new(stderr.as_fd(), PollFlags::POLLIN),
            PollFd::new(wake.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break,
            Ok(_) => {}
        }
        if fds[1].any().unwrap_or(true) {
            break;
        }
        match stderr.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let mut st = lock(&tail.state);
                st.0.extend_from_slice(&buf[..n]);
                let excess = st.0.len().saturating_sub(TAIL);
                st.0.drain(..excess);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    lock(&tail.state).1 = true;
    tail.changed.notify_all();
}

/// ssh's words as one line: blank lines dropped, the others joined by
/// " / ", control characters escaped.
fn printable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" / ")
}

/// "exited with status N" or "was killed by signal N".
fn describe(s: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exited with status {c}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        _ => format!("ended ({s})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::uri::{Target, parse};

    fn target(uri: &str) -> SshTarget {
        match parse(uri).unwrap() {
            Target::Ssh(t) => *t,
            other => panic!("{other:?}"),
        }
    }

    fn line(uri: &str) -> Vec<String> {
        let t = target(uri);
        let (program, args) = ssh_command(&t, &remote_command(&t));
        std::iter::once(program.into_os_string())
            .chain(args)
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn the_command_is_libvirts() {
        let tail = [
            "-o",
            "ConnectTimeout=10",
            "-o",
            "ServerAliveInterval=5",
            "-o",
            "ServerAliveCountMax=3",
            "--",
        ];
        let mut want = vec!["ssh", "-T", "-e", "none"];
        want.extend(tail);
        want.extend(["host", "qvirtd --proxy qemu:///system"]);
        assert_eq!(line("qemu+ssh://host/system"), want);

        let mut want = vec![
            "/opt/ssh",
            "-p",
            "2222",
            "-l",
            "tester",
            "-i",
            "/k/id",
            "-T",
            "-e",
            "none",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=\"/a b/kh\"",
        ];
        want.extend(tail);
        want.extend([
            "10.0.0.2",
            "qvirtd --proto libvirt --proxy 'qemu+unix:///session?socket=/r/it%27s%20here'",
        ]);
        assert_eq!(
            line(
                "qemu+ssh://tester@10.0.0.2:2222/session?keyfile=/k/id&no_verify=1&no_tty=1\
                 &command=/opt/ssh&known_hosts=/a%20b/kh&socket=/r/it's%20here&proto=libvirt"
            ),
            want
        );
    }

    #[test]
    fn the_remote_command_survives_a_shell() {
        let t = target("qemu+ssh://h/system?socket=/x/a%20b%27%24HOME%60id%60/s");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "set -- {}; printf '%s\\n' \"$@\"",
                remote_command(&t)
            ))
            .output()
            .unwrap();
        let words: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(words, ["qvirtd", "--proxy", &t.proxy_uri()]);
    }

    #[test]
    fn stderr_is_one_printable_line() {
        assert_eq!(
            printable(b"\nPermission denied (publickey).\r\n\nbash: \x1b[1mx\n"),
            "Permission denied (publickey). / bash: \\u{1b}[1mx"
        );
    }

    #[test]
    fn a_dead_ssh_is_explained_with_its_words() {
        // A program in ssh's place that complains and exits as ssh does
        // when the server refuses every key.
        let dir = std::env::temp_dir().join(format!("qvirt-ssh-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fake = dir.join("ssh");
        std::fs::write(
            &fake,
            "#!/bin/sh\necho 'tester@h: Permission denied (publickey).' >&2\nexit 255\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut t = target("qemu+ssh://h/system");
        t.command = Some(fake);
        let (sock, tunnel) = Tunnel::spawn(&t).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!((&sock).read(&mut buf).unwrap(), 0, "the stream ends");
        let (code, msg) = tunnel.explain((
            ErrorCode::Protocol,
            crate::transport::client::read::PEER_CLOSED.into(),
        ));
        assert_eq!(code, ErrorCode::Io, "{msg}");
        assert_eq!(
            msg,
            "ssh to h exited with status 255, saying: tester@h: Permission denied (publickey)."
        );
        tunnel.close();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
