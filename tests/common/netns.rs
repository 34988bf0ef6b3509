//! A network namespace a test makes for itself (`ip netns add`), with a
//! bridge in it, removed with every process in it when the test ends,
//! also when it fails. Needs root and `ip` from iproute2.

use std::process::Command;
use std::time::Duration;

/// A network namespace with a bridge `br0` (10.0.3.1/24, up) and
/// loopback up; deleted on drop, after the processes in it are killed.
pub struct Netns {
    /// Its name, for `ip netns exec NAME`.
    pub name: String,
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        assert!(
            nix::unistd::geteuid().is_root(),
            "the namespace tests need root (they make network namespaces and taps)"
        );
        let name = format!("qvt-{}-{tag}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
        let ns = Netns { name };
        ns.host(&["netns", "add", &ns.name]);
        ns.ip(&["link", "set", "lo", "up"]);
        ns.ip(&["link", "add", "br0", "type", "bridge"]);
        ns.ip(&["addr", "add", "10.0.3.1/24", "dev", "br0"]);
        ns.ip(&["link", "set", "br0", "up"]);
        ns
    }

    /// Runs `ip ARGS` in the host namespace; must succeed.
    pub fn host(&self, args: &[&str]) -> String {
        run("ip", args)
    }

    /// Runs `ip ARGS` inside the namespace; must succeed.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["netns", "exec", &self.name, "ip"];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// The names of the network devices in the namespace, sorted.
    pub fn links(&self) -> Vec<String> {
        let out = self.ip(&["-o", "link", "show"]);
        let mut names: Vec<String> = out
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|n| n.split('@').next().unwrap_or(n).to_string())
            .collect();
        names.sort();
        names
    }

    /// The wrapper that runs a command inside the namespace.
    pub fn exec(&self) -> Vec<&str> {
        vec!["ip", "netns", "exec", &self.name]
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let pids = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        for pid in pids
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok())
        {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = crate::support::wait_until(Duration::from_secs(5), || {
            Command::new("ip")
                .args(["netns", "pids", &self.name])
                .output()
                .is_ok_and(|o| o.stdout.is_empty())
        });
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Runs `program ARGS`; panics with its stderr unless it succeeds.
pub fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (is iproute2 installed?): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
