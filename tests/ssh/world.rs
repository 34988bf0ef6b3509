//! Two hosts for the `qemu+ssh://` tests, made of namespaces: host A, a
//! network namespace where the client's `ssh` runs, and host B, a network
//! namespace with a mount namespace of its own where a real OpenSSH
//! `sshd -D -e -f CONFIG` listens, joined to A by a veth pair (A is
//! 10.55.0.1, B 10.55.0.2; each world has its own pair, so the addresses
//! never meet). The ssh traffic never leaves the two namespaces.
//!
//! Host B's mount namespace has its own `/run` (a tmpfs: the system
//! daemon's sockets, sshd's privilege separation directory, the test
//! user's runtime directory), copy-on-write views of `/etc` and `/var`
//! (overlays whose upper layers are in the world's directory: the test
//! user `tester`, uid 61234, password field `*`, and the system daemon's
//! state exist only there), and `/usr/local/bin` holding `qvirtd` (and,
//! as libvirt's helper, `virt-ssh-helper`) unless a world is made without
//! it. Nothing of it is visible on the machine outside.
//!
//! sshd runs with `UsePAM no` and `PasswordAuthentication no`, a fresh
//! ed25519 host key, and `authorized_keys` for `root` and `tester` in the
//! world's directory. The client side gets a wrapper, `DIR/ssh`, that
//! runs `/usr/bin/ssh` inside A with a config of its own (no agent, no
//! identity but the one named, known hosts only from the world), passed
//! as the URI's `command=`.
//!
//! Dropping the world kills every process in both namespaces (sshd, its
//! sessions and proxies, daemons started in B, their QEMUs, the clients'
//! ssh), deletes the namespaces, and removes the directory, also when a
//! test panics (after printing sshd's log).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Host A's address.
pub const A_ADDR: &str = "10.55.0.1";
/// Host B's address.
pub const B_ADDR: &str = "10.55.0.2";
/// The test user's uid (and gid) on host B.
pub const TESTER_UID: u32 = 61234;
/// The daemon under test.
pub const QVIRTD: &str = env!("CARGO_BIN_EXE_qvirtd");

/// How a world is made.
#[derive(Clone, Copy)]
pub struct Options {
    /// `qvirtd` (and `virt-ssh-helper`) in host B's `/usr/local/bin`.
    pub qvirtd_installed: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            qvirtd_installed: true,
        }
    }
}

/// Two hosts and an sshd; see the module documentation.
pub struct World {
    /// The world's directory (keys, configs, overlays, the test user's
    /// home), under Cargo's temporary directory for tests: sshd's
    /// StrictModes wants every directory above `authorized_keys` owned by
    /// root and writable by nobody else, which `/tmp` is not.
    pub dir: PathBuf,
    a: String,
    b: String,
    sshd: Option<Child>,
}

/// Runs `program ARGS`; panics with its stderr unless it succeeds.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `check` every 10 ms until it gives a value; panics naming
/// `what` once `within` has passed.
pub fn wait_for<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mkdir(path: &Path, mode: u32) {
    std::fs::create_dir_all(path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl World {
    /// A world with `qvirtd` installed on host B.
    pub fn new(tag: &str) -> World {
        World::with(tag, Options::default())
    }

    /// A world made as `options` say.
    pub fn with(tag: &str, options: Options) -> World {
        assert!(
            nix::unistd::geteuid().is_root(),
            "the ssh tests need root (they make namespaces and run sshd)"
        );
        for tool in ["/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen"] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: run scripts/deps.sh (openssh-server, openssh-client)"
            );
        }
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let id = format!("{}-{n}", std::process::id());
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("qvs-{id}"));
        let _ = std::fs::remove_dir_all(&dir);
        mkdir(&dir, 0o755);
        let short: String = tag.chars().take(6).collect();
        let mut world = World {
            dir,
            a: format!("qvsa-{id}-{short}"),
            b: format!("qvsb-{id}-{short}"),
            sshd: None,
        };
        world.net();
        world.files(options);
        world.start_sshd();
        world
    }

    /// The two namespaces and the veth pair between them.
    fn net(&self) {
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
            run("ip", &["netns", "add", ns]);
        }
        run(
            "ip",
            &[
                "link", "add", "va", "netns", &self.a, "type", "veth", "peer", "name", "vb",
                "netns", &self.b,
            ],
        );
        for (ns, dev, addr) in [(&self.a, "va", A_ADDR), (&self.b, "vb", B_ADDR)] {
            run(
                "ip",
                &["-n", ns, "addr", "add", &format!("{addr}/24"), "dev", dev],
            );
            run("ip", &["-n", ns, "link", "set", dev, "up"]);
            run("ip", &["-n", ns, "link", "set", "lo", "up"]);
        }
    }

    /// Keys, configs, the test user's home, the overlays' layers, the
    /// client's wrapper.
    fn files(&self, options: Options) {
        let d = &self.dir;
        for sub in ["etc.up", "etc.work", "var.up", "var.work", "bin", "keys"] {
            mkdir(&d.join(sub), 0o755);
        }
        let home = self.tester_home();
        mkdir(&home, 0o755);
        nix::unistd::chown(
            &home,
            Some(nix::unistd::Uid::from_raw(TESTER_UID)),
            Some(nix::unistd::Gid::from_raw(TESTER_UID)),
        )
        .unwrap();
        for (name, file) in [("host", "host_ed25519"), ("user", "id"), ("wrong", "wrong")] {
            let path = d.join(file);
            run(
                "ssh-keygen",
                &[
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    name,
                    "-f",
                    path.to_str().unwrap(),
                ],
            );
        }
        let authorized = std::fs::read_to_string(d.join("id.pub")).unwrap();
        for user in ["root", "tester"] {
            write(&d.join("keys").join(user), &authorized, 0o644);
        }
        let host_pub = std::fs::read_to_string(d.join("host_ed25519.pub")).unwrap();
        let key: Vec<&str> = host_pub.split_whitespace().take(2).collect();
        write(
            &d.join("known_hosts"),
            &format!("{B_ADDR} {}\n", key.join(" ")),
            0o644,
        );
        write(&d.join("empty_known_hosts"), "", 0o644);
        if options.qvirtd_installed {
            for name in ["qvirtd", "virt-ssh-helper"] {
                std::os::unix::fs::symlink(QVIRTD, d.join("bin").join(name)).unwrap();
            }
        }
        let dir = d.display();
        write(
            &d.join("sshd_config"),
            &format!(
                "ListenAddress {B_ADDR}\nPort 22\nHostKey {dir}/host_ed25519\nPidFile none\n\
                 UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PubkeyAuthentication yes\nAuthorizedKeysFile {dir}/keys/%u\n\
                 PermitRootLogin prohibit-password\nStrictModes yes\nUseDNS no\n\
                 PrintMotd no\nPrintLastLog no\nLogLevel VERBOSE\n\
                 Match User tester\n  SetEnv XDG_RUNTIME_DIR=/run/user/{TESTER_UID}\n"
            ),
            0o644,
        );
        // Host B's mounts, then sshd in its place (exec: the pid stays).
        write(
            &d.join("host-b.sh"),
            &format!(
                "set -e\n\
                 mount -t tmpfs -o mode=755 tmpfs /run\n\
                 mkdir -m 755 /run/sshd /run/user\n\
                 mkdir -m 700 /run/user/{TESTER_UID}\n\
                 chown {TESTER_UID}:{TESTER_UID} /run/user/{TESTER_UID}\n\
                 mount -t overlay overlay -o lowerdir=/etc,upperdir={dir}/etc.up,workdir={dir}/etc.work /etc\n\
                 mount -t overlay overlay -o lowerdir=/var,upperdir={dir}/var.up,workdir={dir}/var.work /var\n\
                 mount --bind {dir}/bin /usr/local/bin\n\
                 groupadd -g {TESTER_UID} tester\n\
                 useradd -M -u {TESTER_UID} -g {TESTER_UID} -d {home} -s /bin/bash -p '*' tester\n\
                 exec /usr/sbin/sshd -D -e -f {dir}/sshd_config\n",
                home = home.display()
            ),
            0o644,
        );
        write(
            &d.join("ssh_config"),
            &format!(
                "Host *\n  IdentitiesOnly yes\n  IdentityAgent none\n  \
                 GlobalKnownHostsFile /dev/null\n  UserKnownHostsFile {dir}/known_hosts\n  \
                 StrictHostKeyChecking yes\n  UpdateHostKeys no\n"
            ),
            0o644,
        );
        write(
            &d.join("ssh"),
            &format!(
                "#!/bin/sh\nexec ip netns exec {} /usr/bin/ssh -F {dir}/ssh_config \"$@\"\n",
                self.a
            ),
            0o755,
        );
    }

    /// Starts sshd in host B and waits until it listens.
    fn start_sshd(&mut self) {
        let log = std::fs::File::create(self.dir.join("sshd.log")).unwrap();
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.b,
                "unshare",
                "--mount",
                "--propagation",
                "private",
            ])
            .arg("/bin/sh")
            .arg(self.dir.join("host-b.sh"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("run ip netns exec");
        self.sshd = Some(child);
        let log = self.dir.join("sshd.log");
        let sshd = self.sshd.as_mut().unwrap();
        wait_for("sshd to listen in host B", Duration::from_secs(30), || {
            if let Ok(Some(status)) = sshd.try_wait() {
                panic!(
                    "host B's sshd ended ({status}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::fs::read_to_string(&log)
                .is_ok_and(|t| t.contains("Server listening on"))
                .then_some(())
        });
    }

    /// Host A's network namespace (for `ip netns exec`).
    pub fn a_netns(&self) -> &str {
        &self.a
    }

    /// Host B's network namespace (for `ip -n`).
    pub fn b_netns(&self) -> &str {
        &self.b
    }

    /// Whether `pid` runs in host A's network namespace.
    pub fn in_a(&self, pid: i32) -> bool {
        netns_pids(&self.a).contains(&pid)
    }

    /// Whether `pid` runs in host B's network namespace.
    pub fn in_b_net(&self, pid: i32) -> bool {
        netns_pids(&self.b).contains(&pid)
    }

    /// The pid of sshd in host B, whose namespaces `in_b` enters.
    pub fn sshd_pid(&self) -> i32 {
        self.sshd.as_ref().expect("sshd runs").id() as i32
    }

    /// The test user's home directory (the same path on both sides).
    pub fn tester_home(&self) -> PathBuf {
        self.dir.join("home/tester")
    }

    /// A path of host B's mount namespace, as this process can reach it.
    pub fn on_b(&self, path: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root{path}", self.sshd_pid()))
    }

    /// A command that runs `program` inside host B (its network and mount
    /// namespaces), as root.
    pub fn in_b(&self, program: &str) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("-t")
            .arg(self.sshd_pid().to_string())
            .args(["-m", "-n", "--"])
            .arg(program);
        c
    }

    /// `qemu+ssh://USER@B/PATH?keyfile=...&command=...` with the world's
    /// key, ssh wrapper and known hosts, and `extra` parameters appended.
    pub fn uri(&self, user: &str, path: &str, extra: &str) -> String {
        let mut uri = format!(
            "qemu+ssh://{user}@{B_ADDR}/{path}?keyfile={}&command={}&known_hosts={}",
            self.dir.join("id").display(),
            self.dir.join("ssh").display(),
            self.dir.join("known_hosts").display()
        );
        if !extra.is_empty() {
            uri.push('&');
            uri.push_str(extra);
        }
        uri
    }

    /// The pids of this world's ssh clients (running in host A).
    pub fn ssh_clients(&self) -> Vec<i32> {
        netns_pids(&self.a)
            .into_iter()
            .filter(|pid| std::fs::read(format!("/proc/{pid}/comm")).is_ok_and(|c| c == b"ssh\n"))
            .collect()
    }

    /// The pids of host B's processes whose command line contains `word`.
    pub fn b_processes(&self, word: &str) -> Vec<i32> {
        netns_pids(&self.b)
            .into_iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                    c.split(|b| *b == 0)
                        .any(|arg| String::from_utf8_lossy(arg).contains(word))
                })
            })
            .collect()
    }

    /// Starts `qvirtd --system` in host B and waits for its sockets.
    pub fn start_system_daemon(&self) -> Process {
        let log = std::fs::File::create(self.dir.join("qvirtd-system.stderr")).unwrap();
        let mut child = self
            .in_b(QVIRTD)
            .args(["--system", "-f"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start qvirtd --system in host B");
        let sock = self.on_b("/run/qvirt/qvirt-sock-ro");
        wait_for(
            "the system daemon's sockets",
            Duration::from_secs(30),
            || {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "qvirtd --system ended ({status}): {}",
                        std::fs::read_to_string(self.dir.join("qvirtd-system.stderr"))
                            .unwrap_or_default()
                    );
                }
                sock.exists().then_some(())
            },
        );
        Process(child)
    }
}

/// A child process, killed and reaped on drop if it still runs.
pub struct Process(pub Child);

impl Process {
    /// Its pid.
    pub fn pid(&self) -> i32 {
        self.0.id() as i32
    }

    /// Kills it (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The pids of the processes in network namespace `ns`.
fn netns_pids(ns: &str) -> Vec<i32> {
    Command::new("ip")
        .args(["netns", "pids", ns])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

impl Drop for World {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for log in ["sshd.log", "qvirtd-system.stderr"] {
                if let Ok(text) = std::fs::read_to_string(self.dir.join(log)) {
                    let lines: Vec<&str> = text.lines().collect();
                    eprintln!(
                        "----- {log} (last 40 lines)\n{}",
                        lines[lines.len().saturating_sub(40)..].join("\n")
                    );
                }
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let pids: Vec<i32> = [&self.a, &self.b]
                .iter()
                .flat_map(|ns| netns_pids(ns))
                .collect();
            if pids.is_empty() || Instant::now() >= deadline {
                break;
            }
            for pid in pids {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            if let Some(c) = &mut self.sshd {
                let _ = c.try_wait();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if let Some(mut c) = self.sshd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
