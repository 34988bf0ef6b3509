//! The QEMU guest agent through libvirt's protocol, with the real clients
//! (Debian's virsh and python3-libvirt 9.0, unmodified) against a real
//! qvirtd, and Debian's qemu-ga running in the Linux test guest: every
//! answer is checked against the guest itself (its shell on the serial
//! console, or qemu-ga asked directly on the channel's socket), and the
//! refusals against libvirt's codes: no agent channel, and an agent that
//! does not answer (within the sync deadline, while other calls on the
//! domain are answered at once).

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

#[path = "libvirt/guest_shell.rs"]
mod guest_shell;

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use guest_shell::Guest;
use lv::*;
use nix::sys::socket::{AddressFamily, SockFlag, SockType, UnixAddr, connect, socket};
use qvirt::driver::GuestAgent;
use support::*;

const BOOT: Duration = Duration::from_secs(180);
const QUICK: Duration = Duration::from_secs(30);

/// The host socket of the agent's channel, from the live XML.
fn agent_socket(s: &Path, name: &str) -> String {
    let xml = virsh_ok(s, &["dumpxml", name]);
    let at = xml
        .find("name='org.qemu.guest_agent.0'")
        .expect("the agent channel in the live XML");
    let head = &xml[..at];
    let start = head.rfind("path='").expect("the channel's socket path") + 6;
    let end = start + head[start..].find('\'').unwrap();
    head[start..end].to_string()
}

/// Asks qemu-ga `command` on `socket` directly (guest-sync-delimited
/// first), as the test's own witness; its `return`.
fn ask_agent(socket: &str, command: &str) -> serde_json::Value {
    let mut s = UnixStream::connect(socket).expect("connect to the agent's socket");
    s.set_read_timeout(Some(QUICK)).unwrap();
    let sync = r#"{"execute":"guest-sync-delimited","arguments":{"id":4242}}"#;
    s.write_all(format!("{sync}\n{{\"execute\":\"{command}\"}}\n").as_bytes())
        .expect("write to the agent's socket");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).expect("read the agent's reply");
        assert!(n > 0, "the agent's socket closed");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        let lines: Vec<&str> = text.lines().collect();
        let synced = lines.iter().position(|l| l.contains("\"return\": 4242"));
        if let Some(reply) = synced.and_then(|i| lines.get(i + 1)) {
            let v: serde_json::Value = serde_json::from_str(reply).expect("a JSON reply");
            return v["return"].clone();
        }
    }
}

/// `virsh guestinfo NAME ARGS` as (field, value) pairs, in order.
fn guestinfo(s: &Path, name: &str, args: &[&str]) -> Vec<(String, String)> {
    let mut all = vec!["guestinfo", name];
    all.extend_from_slice(args);
    virsh_ok(s, &all)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

/// `Time: SECONDS` of `virsh domtime` as seconds.
fn domtime(s: &Path, name: &str) -> i64 {
    let out = virsh_ok(s, &["domtime", name]);
    out.trim()
        .strip_prefix("Time:")
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| panic!("no time in {out:?}"))
}

/// virsh asks the guest's own agent for its addresses, host name and
/// clock, sets the clock, freezes and thaws its file systems and shuts
/// it down from inside; each answer agrees with the guest itself.
#[test]
fn virsh_talks_to_the_guest_agent() {
    let dir = TestDir::new("lvagent");
    let daemon = Daemon::start(&dir.path, &[]);
    let qvirt = daemon.connect();
    let s = lv_socket(&dir.path);
    let xml = agent_vm("lx-ga", &dir.path.join("d.img"), " guestagent");
    let f = write_file(&dir.path, "lx.xml", &xml);
    virsh_ok(&s, &["define", f.to_str().unwrap()]);
    virsh_ok(&s, &["start", "lx-ga"]);
    let dom = qvirt.lookup_by_name("lx-ga").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    assert!(
        g.run("pidof qemu-ga").parse::<u32>().is_ok(),
        "qemu-ga runs in the guest"
    );

    // domifaddr --source agent: eth0's address and MAC as the guest has
    // them, and the loopback.
    let guest_ip = g.run("ip -4 -o addr show dev eth0 | awk '{print $4}'");
    assert_eq!(guest_ip, "10.0.2.15/24");
    let guest_mac = g.run("cat /sys/class/net/eth0/address");
    let out = virsh_ok(&s, &["domifaddr", "lx-ga", "--source", "agent"]);
    let eth0 = out
        .lines()
        .find(|l| l.trim_start().starts_with("eth0"))
        .unwrap_or_else(|| panic!("no eth0 in {out}"));
    let words: Vec<&str> = eth0.split_whitespace().collect();
    assert_eq!(words, ["eth0", &guest_mac, "ipv4", &guest_ip], "{out}");
    assert!(out.contains("127.0.0.1/8"), "{out}");

    // domhostname: the name the guest has now.
    g.run("hostname agent-named-guest");
    assert_eq!(
        virsh_ok(&s, &["domhostname", "lx-ga"]).trim(),
        "agent-named-guest"
    );
    assert_eq!(
        python(&s, "lx-ga", "print(dom.hostname())"),
        "agent-named-guest"
    );

    // qemu-agent-command: the caller's own command and the agent's whole
    // reply, through virsh, python3-libvirt's libvirt_qemu and qvirt; the
    // domain is tainted as libvirt taints it.
    let own = r#"{"execute":"guest-get-host-name"}"#;
    let reply = virsh_ok(&s, &["qemu-agent-command", "lx-ga", own]);
    let v: serde_json::Value = serde_json::from_str(reply.trim()).expect("JSON");
    assert_eq!(v["return"]["host-name"], "agent-named-guest", "{reply}");
    let py = python(
        &s,
        "lx-ga",
        &format!("import libvirt_qemu\nprint(libvirt_qemu.qemuAgentCommand(dom, {own:?}, 10, 0))"),
    );
    let v: serde_json::Value = serde_json::from_str(&py).expect("JSON");
    assert_eq!(v["return"]["host-name"], "agent-named-guest", "{py}");
    let ping = r#"{"execute":"guest-ping"}"#;
    // Sent without waiting: libvirt's answer is its "not available for
    // now", as virsh takes a missing reply for an error anyway.
    let err = virsh_err(&s, &["qemu-agent-command", "--async", "lx-ga", ping]);
    assert!(err.contains("sent without waiting"), "{err}");
    let err = virsh_err(
        &s,
        &[
            "qemu-agent-command",
            "lx-ga",
            r#"{"execute":"guest-no-such-command"}"#,
        ],
    );
    assert!(err.contains("guest-no-such-command"), "{err}");
    let err = virsh_err(&s, &["qemu-agent-command", "lx-ga", "{not json"]);
    assert!(err.contains("cannot parse json"), "{err}");
    let messages = python(&s, "lx-ga", "print(dom.messages(0))");
    assert!(
        messages.contains("custom guest agent control commands issued"),
        "{messages}"
    );

    // guestinfo: the guest's OS (its /etc/os-release and uname), time
    // zone, host name and file systems as the guest has them.
    let info = guestinfo(&s, "lx-ga", &[]);
    let get = |k: &str| {
        info.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {k} in {info:?}"))
    };
    assert_eq!(get("hostname"), "agent-named-guest");
    assert_eq!(get("os.id"), g.run(". /etc/os-release; echo $ID"));
    assert_eq!(
        get("os.pretty-name"),
        g.run(". /etc/os-release; echo $PRETTY_NAME")
    );
    assert_eq!(get("os.kernel-release"), g.run("uname -r"));
    assert_eq!(get("os.machine"), g.run("uname -m"));
    assert_eq!(get("timezone.offset"), "0");
    assert_eq!(get("user.count"), "0");
    assert_eq!(get("if.count"), "2");
    // Only the groups asked for.
    let only = guestinfo(&s, "lx-ga", &["--hostname"]);
    assert_eq!(
        only,
        [("hostname".to_string(), "agent-named-guest".to_string())]
    );
    // --disk: the guest's disks as the guest itself lists them (its
    // /sys/block; the disk has no partition), the virtio one matched to
    // the domain's vda by its PCI address.
    let blocks = g.run("ls /sys/block");
    let blocks: Vec<&str> = blocks.split_whitespace().collect();
    assert!(blocks.contains(&"vda"), "{blocks:?}");
    let mut want = vec![("disk.count".to_string(), blocks.len().to_string())];
    for (i, b) in blocks.iter().enumerate() {
        want.push((format!("disk.{i}.name"), format!("/dev/{b}")));
        want.push((format!("disk.{i}.partition"), "no".into()));
        if *b == "vda" {
            want.push((format!("disk.{i}.alias"), "vda".into()));
        }
    }
    assert_eq!(guestinfo(&s, "lx-ga", &["--disk"]), want);
    // qvirt's own verbs, over qvirt's protocol, say what virsh says.
    let qvirt = |args: &[&str]| qvirt_ok(&daemon.uri(), args);
    assert_eq!(qvirt(&["domhostname", "lx-ga"]), "agent-named-guest\n");

    // guest-agent-timeout: with 0 (libvirt's NOWAIT) even this answering
    // agent's calls fail at once, unresponsive, as libvirt's do; -1
    // (libvirt's 5 seconds) and the default (block) wait for it again.
    let hostname_code = "try:\n    print(dom.hostname())\nexcept libvirt.libvirtError as e:\n    print(e.get_error_code())";
    virsh_ok(&s, &["guest-agent-timeout", "lx-ga", "--timeout", "0"]);
    let err = virsh_err(&s, &["domhostname", "lx-ga"]);
    assert!(err.contains("Guest agent is not responding"), "{err}");
    assert_eq!(
        python(&s, "lx-ga", hostname_code),
        libvirt_code("VIR_ERR_AGENT_UNRESPONSIVE")
    );
    python(&s, "lx-ga", "assert dom.agentSetResponseTimeout(-1) == 0");
    assert_eq!(python(&s, "lx-ga", hostname_code), "agent-named-guest");
    qvirt(&["guest-agent-timeout", "lx-ga", "--timeout", "0"]);
    let err = virsh_err(&s, &["domhostname", "lx-ga"]);
    assert!(err.contains("Guest agent is not responding"), "{err}");
    qvirt(&["guest-agent-timeout", "lx-ga"]);
    assert_eq!(qvirt(&["domhostname", "lx-ga"]), "agent-named-guest\n");
    let err = virsh_err(&s, &["guest-agent-timeout", "lx-ga", "--timeout", "-3"]);
    assert!(
        err.contains("guest agent timeout '-3' is less than the minimum '-2'"),
        "{err}"
    );
    let reply = qvirt(&["qemu-agent-command", "lx-ga", own]);
    let v: serde_json::Value = serde_json::from_str(reply.trim()).expect("JSON");
    assert_eq!(v["return"]["host-name"], "agent-named-guest", "{reply}");
    assert_eq!(qvirt(&["qemu-agent-command", "--async", "lx-ga", ping]), "");
    // And qvirt's libvirt client, over libvirt's protocol.
    let lv = qvirt::connect(&format!(
        "qemu+unix:///session?socket={}&proto=libvirt",
        s.display()
    ))
    .unwrap();
    let lvdom = lv.lookup_by_name("lx-ga").unwrap();
    assert_eq!(lv.guest_hostname(&lvdom).unwrap(), "agent-named-guest");
    // Its agent timeout and disk fields (a partition flag is libvirt's
    // boolean typed parameter) cross libvirt's protocol too.
    lv.set_agent_timeout(&lvdom, 0).unwrap();
    let e = lv.guest_hostname(&lvdom).unwrap_err();
    assert_eq!(e.code, qvirt::ErrorCode::AgentUnresponsive, "{e}");
    lv.set_agent_timeout(&lvdom, -2).unwrap();
    let disks = lv
        .guest_info(&lvdom, qvirt::driver::guest_info::DISKS)
        .unwrap();
    assert!(
        disks.contains(&(
            "disk.0.partition".to_string(),
            qvirt::driver::GuestValue::Bool(false)
        )),
        "{disks:?}"
    );
    let call = qvirt::driver::AgentCall::Command {
        json: own.to_string(),
        timeout: 10,
    };
    match lv.agent_call(&lvdom, call).unwrap() {
        qvirt::driver::AgentAnswer::Reply(Some(r)) => {
            assert!(r.contains("agent-named-guest"), "{r}")
        }
        other => panic!("{other:?}"),
    }
    let fields = lv
        .guest_info(&lvdom, qvirt::driver::guest_info::OS)
        .unwrap();
    assert!(
        fields.contains(&(
            "os.id".to_string(),
            qvirt::driver::GuestValue::Text("qvirt-guest".into())
        )),
        "{fields:?}"
    );
    let out = qvirt(&["domifaddr", "lx-ga", "--source", "agent"]);
    assert!(
        out.lines().any(|l| l
            .split_whitespace()
            .eq(["eth0", &guest_mac, "ipv4", &guest_ip])),
        "{out}"
    );
    // (not the interfaces: the guest may gain an IPv6 address between
    // the two calls)
    for args in [
        &["--hostname"][..],
        &["--os", "--timezone"],
        &["--user"],
        &["--disk"],
    ] {
        let mut all = vec!["guestinfo", "lx-ga"];
        all.extend_from_slice(args);
        assert_eq!(
            qvirt(&all).trim_end(),
            virsh_ok(&s, &all).trim_end(),
            "{args:?}"
        );
    }

    // domtime: between two readings of the guest's own clock.
    let before: i64 = g.run("date +%s").parse().unwrap();
    let t = domtime(&s, "lx-ga");
    let after: i64 = g.run("date +%s").parse().unwrap();
    assert!(before <= t && t <= after, "{before} <= {t} <= {after}");
    // --time sets it: the guest's date follows.
    virsh_ok(&s, &["domtime", "lx-ga", "--time", "2000000000"]);
    let now: i64 = g.run("date +%s").parse().unwrap();
    assert!((2_000_000_000..2_000_000_000 + 60).contains(&now), "{now}");
    let t = python(&s, "lx-ga", "print(dom.getTime()['seconds'])");
    let t: i64 = t.parse().unwrap();
    assert!((2_000_000_000..2_000_000_000 + 60).contains(&t), "{t}");
    virsh_ok(
        &s,
        &["domtime", "lx-ga", "--time", &format!("{}", now_secs())],
    );
    let now: i64 = g.run("date +%s").parse().unwrap();
    assert!((now - now_secs()).abs() < 60, "{now}");
    // qvirt's domtime: sets and reads the same clock.
    assert_eq!(qvirt(&["domtime", "lx-ga", "--time", "1900000000"]), "");
    let t = qvirt(&["domtime", "lx-ga"]);
    let t: i64 = t.trim().strip_prefix("Time: ").unwrap().parse().unwrap();
    assert!((1_900_000_000..1_900_000_000 + 60).contains(&t), "{t}");
    let now: i64 = g.run("date +%s").parse().unwrap();
    assert!((1_900_000_000..1_900_000_000 + 60).contains(&now), "{now}");
    qvirt(&["domtime", "lx-ga", "--now"]);
    let now: i64 = g.run("date +%s").parse().unwrap();
    assert!((now - now_secs()).abs() < 60, "{now}");
    // --sync: the guest's system clock, moved away, comes back from its
    // hardware clock (which --now set too).
    g.run("date -s @2000000000");
    virsh_ok(&s, &["domtime", "lx-ga", "--sync"]);
    let now: i64 = g.run("date +%s").parse().unwrap();
    assert!((now - now_secs()).abs() < 60, "{now}");

    // domfsfreeze: an ext2 file system on the disk is frozen (qemu-ga
    // itself says so), then thawed.
    g.run("mke2fs -q /dev/vda && mkdir -p /mnt/d && mount -t ext4 /dev/vda /mnt/d");
    assert!(g.run("grep -c ' /mnt/d ' /proc/mounts") == "1");
    // guestinfo --filesystem: the mount, as the guest's mounts and df
    // have it.
    let fs = guestinfo(&s, "lx-ga", &["--filesystem"]);
    let fs_get = |k: &str| fs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(fs_get("fs.count").as_deref(), Some("1"), "{fs:?}");
    assert_eq!(fs_get("fs.0.mountpoint").as_deref(), Some("/mnt/d"));
    assert_eq!(fs_get("fs.0.name").as_deref(), Some("vda"));
    assert_eq!(fs_get("fs.0.fstype").as_deref(), Some("ext4"));
    // (qemu-ga's total is what df calls used plus available: the
    // blocks reserved for root are not counted)
    let df_kib: u64 = g
        .run("df -k /mnt/d | tail -1 | awk '{print $3 + $4}'")
        .parse()
        .unwrap();
    let total: u64 = fs_get("fs.0.total-bytes").unwrap().parse().unwrap();
    assert_eq!(total / 1024, df_kib);
    // domfsinfo: the mount with the domain's disk under it, by target.
    let out = virsh_ok(&s, &["domfsinfo", "lx-ga"]);
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with("/mnt/d"))
        .unwrap_or_else(|| panic!("no /mnt/d in {out}"));
    let words: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(words, ["/mnt/d", "vda", "ext4", "vda"], "{out}");
    let fs = lv.fs_info(&lvdom).unwrap();
    assert!(
        fs.iter()
            .any(|f| f.mountpoint == "/mnt/d" && f.disks == ["vda"]),
        "{fs:?}"
    );
    let out = qvirt(&["domfsinfo", "lx-ga"]);
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().eq(["/mnt/d", "vda", "ext4", "vda"])),
        "{out}"
    );
    let agent = agent_socket(&s, "lx-ga");
    assert_eq!(ask_agent(&agent, "guest-fsfreeze-status"), "thawed");
    let out = virsh_ok(&s, &["domfsfreeze", "lx-ga"]);
    assert!(out.contains("Froze 1 filesystem(s)"), "{out}");
    assert_eq!(ask_agent(&agent, "guest-fsfreeze-status"), "frozen");
    let out = virsh_ok(&s, &["domfsthaw", "lx-ga"]);
    assert!(out.contains("Thawed 1 filesystem(s)"), "{out}");
    assert_eq!(ask_agent(&agent, "guest-fsfreeze-status"), "thawed");
    // The same through qvirt's verbs, by mount point.
    assert_eq!(
        qvirt(&["domfsfreeze", "lx-ga", "--mountpoint", "/mnt/d"]),
        "Froze 1 filesystem(s)\n"
    );
    assert_eq!(ask_agent(&agent, "guest-fsfreeze-status"), "frozen");
    assert_eq!(qvirt(&["domfsthaw", "lx-ga"]), "Thawed 1 filesystem(s)\n");
    assert_eq!(ask_agent(&agent, "guest-fsfreeze-status"), "thawed");
    g.run("echo written > /mnt/d/f && sync");
    assert_eq!(g.run("cat /mnt/d/f"), "written");

    // snapshot-create-as --disk-only --quiesce: the guest's file systems
    // are frozen while the disk is taken, which writes what the guest's
    // page cache still holds into the image that becomes the snapshot's
    // base. The guest's periodic writeback is off, so without the freeze
    // the marker would stay in its page cache.
    g.run("echo 0 > /proc/sys/vm/dirty_writeback_centisecs");
    g.run("echo quiesce-marker-7c1 > /mnt/d/q");
    let img = dir.path.join("d.img");
    let in_image = || {
        let bytes = std::fs::read(&img).unwrap();
        bytes.windows(18).any(|w| w == b"quiesce-marker-7c1")
    };
    assert!(
        !in_image(),
        "the marker reached the image before the snapshot: the freeze's flush cannot be told"
    );
    let err = virsh_err(&s, &["snapshot-create-as", "lx-ga", "q0", "--quiesce"]);
    assert!(err.contains("DISK_ONLY"), "{err}");
    virsh_ok(
        &s,
        &[
            "snapshot-create-as",
            "lx-ga",
            "q1",
            "--disk-only",
            "--quiesce",
        ],
    );
    assert!(
        in_image(),
        "the freeze flushed the guest's file into the base"
    );
    assert_eq!(ask_agent(&agent, "guest-fsfreeze-status"), "thawed");
    assert_eq!(g.run("cat /mnt/d/q"), "quiesce-marker-7c1");

    // set-user-password --encrypted: the hash lands in the guest's
    // password file (busybox's chpasswd, run by qemu-ga).
    let hash = "$6$qvirtsalt$Zq0uE9d3r6Yp1nA2b3c4d5e6f7g8h9i0j";
    virsh_ok(
        &s,
        &["set-user-password", "lx-ga", "root", hash, "--encrypted"],
    );
    assert_eq!(g.run("grep ^root: /etc/passwd | cut -d: -f2"), hash);

    // set-user-sshkeys / get-user-sshkeys: root's authorized_keys in the
    // guest, added to, read, taken from, replaced.
    let k1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIQvirtKeyOne one@host";
    let k2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIQvirtKeyTwo two@host";
    let keys = write_file(&dir.path, "keys", &format!("{k1}\n{k2}\n"));
    let keys = keys.to_str().unwrap();
    virsh_ok(&s, &["set-user-sshkeys", "lx-ga", "root", "--file", keys]);
    assert_eq!(
        g.run("cat /root/.ssh/authorized_keys"),
        format!("{k1}\n{k2}")
    );
    // (qemu-ga lists them last first; virsh prints them unseparated)
    let got = virsh_ok(&s, &["get-user-sshkeys", "lx-ga", "root"]);
    assert_eq!(got.trim_end(), format!("{k2}{k1}"));
    let got = python(
        &s,
        "lx-ga",
        "print('\\n'.join(sorted(dom.authorizedSSHKeysGet('root'))))",
    );
    assert_eq!(got, format!("{k1}\n{k2}"));
    let one = write_file(&dir.path, "one", &format!("{k1}\n"));
    let one = one.to_str().unwrap();
    virsh_ok(
        &s,
        &[
            "set-user-sshkeys",
            "lx-ga",
            "root",
            "--remove",
            "--file",
            one,
        ],
    );
    assert_eq!(g.run("cat /root/.ssh/authorized_keys"), k2);
    virsh_ok(
        &s,
        &[
            "set-user-sshkeys",
            "lx-ga",
            "root",
            "--reset",
            "--file",
            one,
        ],
    );
    assert_eq!(g.run("cat /root/.ssh/authorized_keys"), k1);
    // The same through qvirt's verbs.
    assert_eq!(
        qvirt(&["get-user-sshkeys", "lx-ga", "root"]),
        format!("{k1}\n")
    );
    qvirt(&["set-user-sshkeys", "lx-ga", "root", "--file", keys]);
    // (qemu-ga 7.2 leaves an empty line where its last list ended)
    assert_eq!(
        g.run("grep -v '^$' /root/.ssh/authorized_keys"),
        format!("{k1}\n{k2}")
    );
    let mut got: Vec<String> = qvirt(&["get-user-sshkeys", "lx-ga", "root"])
        .lines()
        .map(str::to_string)
        .collect();
    got.sort();
    assert_eq!(got, [k1, k2]);
    let hash2 = "$6$othersalt$Yq1uE9d3r6Yp1nA2b3c4d5e6f7g8h9i0k";
    assert_eq!(
        qvirt(&["set-user-password", "lx-ga", "root", hash2, "--encrypted"]),
        "Password set successfully for root in lx-ga\n"
    );
    assert_eq!(g.run("grep ^root: /etc/passwd | cut -d: -f2"), hash2);

    // reboot --mode agent: the guest reboots through qemu-ga, and comes
    // back (same QEMU).
    let pid = virsh_ok(&s, &["domid", "lx-ga"]);
    virsh_ok(&s, &["reboot", "lx-ga", "--mode", "agent"]);
    g.read_until("qvirt-guest: shutdown", QUICK, false);
    g.read_until("QVIRT-GUEST-READY", BOOT, false);
    g.read_until("guest# ", QUICK, true);
    assert_eq!(virsh_ok(&s, &["domid", "lx-ga"]), pid);

    // shutdown --mode agent completes as libvirt's: once QEMU reports the
    // guest's power-off. A guest whose shutdown does nothing (the
    // /sbin/shutdown qemu-ga runs made a no-op) is not powering off: the
    // call fails after libvirt's 60 seconds, with its code and words,
    // and the domain runs on.
    g.run("mv /sbin/shutdown /sbin/shutdown.real");
    g.run("printf '#!/bin/sh\\nexit 0\\n' >/sbin/shutdown && chmod 0755 /sbin/shutdown");
    let code = python(
        &s,
        "lx-ga",
        "try:\n    dom.shutdownFlags(libvirt.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT)\n    print('done')\nexcept libvirt.libvirtError as e:\n    print(e.get_error_code(), e.get_error_message())",
    );
    assert!(
        code.starts_with(&format!(
            "{} Guest agent is not responding: Guest agent not available for now",
            libvirt_code("VIR_ERR_AGENT_UNRESPONSIVE")
        )),
        "{code}"
    );
    assert!(virsh_ok(&s, &["domstate", "lx-ga"]).contains("running"));
    g.run("mv /sbin/shutdown.real /sbin/shutdown");
    // The guest's own: virsh returns once QEMU has reported the power-off
    // and the domain shuts off as the guest shut it down.
    virsh_ok(&s, &["shutdown", "lx-ga", "--mode", "agent"]);
    g.read_until("qvirt-guest: shutdown", QUICK, false);
    wait_for("the domain to shut off", QUICK, || {
        virsh_ok(&s, &["domstate", "lx-ga"])
            .contains("shut off")
            .then_some(())
    });
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Without the agent's channel the calls are libvirt's
/// `VIR_ERR_ARGUMENT_UNSUPPORTED`; with the channel but no agent in the
/// guest, `VIR_ERR_AGENT_UNRESPONSIVE` once the sync deadline passes,
/// while other calls on the domain are answered at once.
#[test]
fn agent_calls_without_an_agent_are_refused_as_libvirt_refuses_them() {
    let dir = TestDir::new("lvnoagent");
    let daemon = Daemon::start(&dir.path, &[]);
    let qvirt = daemon.connect();
    let s = lv_socket(&dir.path);

    // No channel: a firmware VM.
    let f = write_file(&dir.path, "fw.xml", &firmware_vm("fw-ga"));
    virsh_ok(&s, &["define", f.to_str().unwrap()]);
    virsh_ok(&s, &["start", "fw-ga"]);
    let err = virsh_err(&s, &["domifaddr", "fw-ga", "--source", "agent"]);
    assert!(err.contains("QEMU guest agent is not configured"), "{err}");
    let code = python(
        &s,
        "fw-ga",
        "try:\n    dom.getTime()\nexcept libvirt.libvirtError as e:\n    print(e.get_error_code())",
    );
    assert_eq!(code, libvirt_code("VIR_ERR_ARGUMENT_UNSUPPORTED"));

    // The channel, but qemu-ga not started in the guest.
    let xml = agent_vm("lx-noga", &dir.path.join("d.img"), "");
    let f = write_file(&dir.path, "lx.xml", &xml);
    virsh_ok(&s, &["define", f.to_str().unwrap()]);
    virsh_ok(&s, &["start", "lx-noga"]);
    let dom = qvirt.lookup_by_name("lx-noga").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    assert_eq!(g.run("pidof qemu-ga || echo none"), "none");
    let virsh_socket = s.clone();
    let slow = std::thread::spawn(move || {
        let started = Instant::now();
        let err = virsh_err(&virsh_socket, &["domtime", "lx-noga"]);
        (err, started.elapsed())
    });
    // Meanwhile the domain answers other calls: once the agent call holds
    // the channel (QEMU's chardev is connected), domstate is done while
    // the agent call still waits for the agent's sync (5 s).
    let connected = wait_until(Duration::from_secs(10), || {
        let reply = qvirt
            .qemu_monitor_command(&dom, r#"{"execute":"query-chardev"}"#)
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&reply).unwrap();
        v["return"].as_array().unwrap().iter().any(|c| {
            c["label"] == "charchannel0"
                && c["filename"]
                    .as_str()
                    .is_some_and(|f| !f.starts_with("disconnected"))
        })
    });
    assert!(connected, "the agent call never connected to the channel");
    assert!(virsh_ok(&s, &["domstate", "lx-noga"]).contains("running"));
    assert!(
        !slow.is_finished(),
        "domstate waited for the agent call to end"
    );
    let (err, took) = slow.join().unwrap();
    assert!(err.contains("Guest agent is not responding"), "{err}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    let code = python(
        &s,
        "lx-noga",
        "try:\n    dom.hostname()\nexcept libvirt.libvirtError as e:\n    print(e.get_error_code())",
    );
    assert_eq!(code, libvirt_code("VIR_ERR_AGENT_UNRESPONSIVE"));
    // A short agent timeout (virsh's guest-agent-timeout, here a
    // second) ends the wait for the absent agent, as libvirt's does;
    // the default (block) again afterwards.
    virsh_ok(&s, &["guest-agent-timeout", "lx-noga", "--timeout", "1"]);
    let err = virsh_err(&s, &["domhostname", "lx-noga"]);
    assert!(err.contains("Guest agent is not responding"), "{err}");
    virsh_ok(&s, &["guest-agent-timeout", "lx-noga"]);

    // Another client holds the channel and QEMU's backlog is full: the
    // call still ends, unresponsive, instead of waiting in connect.
    let addr = UnixAddr::new(agent_socket(&s, "lx-noga").as_str()).unwrap();
    let mut held = Vec::new();
    loop {
        let fd = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_NONBLOCK,
            None,
        )
        .unwrap();
        match connect(fd.as_raw_fd(), &addr) {
            Ok(()) => held.push(fd),
            Err(nix::errno::Errno::EAGAIN) => break,
            Err(e) => panic!("connect to the agent's socket: {e}"),
        }
        assert!(held.len() < 64, "the socket's backlog never fills");
    }
    let started = Instant::now();
    let err = virsh_err(&s, &["domhostname", "lx-noga"]);
    // (QEMU may take one of the held clients meanwhile, freeing a place
    // in the backlog: then the connect succeeds and the sync times out)
    assert!(err.contains("Guest agent is not responding"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
    drop(held);
    virsh_ok(&s, &["destroy", "lx-noga"]);
    virsh_ok(&s, &["destroy", "fw-ga"]);
}

/// The agent timeout a client set outlives the daemon, as libvirt keeps
/// it in the domain's status: after qvirtd is killed and started again
/// (reattaching to the running QEMU), the timeout 0 still fails the calls
/// of an agent that answers; -1 then lets them through again.
#[test]
fn the_agent_timeout_outlives_a_daemon_restart() {
    let dir = TestDir::new("lvgatimeout");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = lv_socket(&dir.path);
    let xml = agent_vm("lx-gt", &dir.path.join("d.img"), " guestagent");
    let f = write_file(&dir.path, "lx.xml", &xml);
    virsh_ok(&s, &["define", f.to_str().unwrap()]);
    virsh_ok(&s, &["start", "lx-gt"]);
    {
        let qvirt = daemon.connect();
        let dom = qvirt.lookup_by_name("lx-gt").unwrap();
        let mut g = Guest::open(&*qvirt, &dom);
        assert!(
            g.run("pidof qemu-ga").parse::<u32>().is_ok(),
            "qemu-ga runs in the guest"
        );
    }
    wait_for("the agent to answer", QUICK, || {
        virsh(&s, &["domhostname", "lx-gt"])
            .status
            .success()
            .then_some(())
    });
    virsh_ok(&s, &["guest-agent-timeout", "lx-gt", "--timeout", "0"]);
    // Killed (SIGKILL): nothing of it is written on the way out.
    drop(daemon);
    let _daemon = Daemon::start(&dir.path, &[]);
    assert!(virsh_ok(&s, &["domstate", "lx-gt"]).contains("running"));
    let err = virsh_err(&s, &["domhostname", "lx-gt"]);
    assert!(err.contains("Guest agent is not responding"), "{err}");
    virsh_ok(&s, &["guest-agent-timeout", "lx-gt", "--timeout", "-1"]);
    assert!(!virsh_ok(&s, &["domhostname", "lx-gt"]).trim().is_empty());
    virsh_ok(&s, &["destroy", "lx-gt"]);
}
