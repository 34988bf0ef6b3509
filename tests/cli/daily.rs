//! The verbs of daily use, as virsh has them: `list`'s filters and
//! printing options, `--json` on the query verbs, `edit`, memory, vCPUs
//! and statistics, and the flags of the common verbs.

use std::process::{Command, Output, Stdio};

use super::*;

#[test]
fn list_filters_and_prints_as_virsh() {
    let root = Root::new("listflags");
    let titled = firmware_xml("a", false).replace(
        "<name>a</name>",
        "<name>a</name><title>Web &amp; mail</title>",
    );
    let a = root.file("a.xml", &titled);
    let b = root.file("b.xml", &firmware_xml("b", false));
    let c = root.file("c.xml", &firmware_xml("c", false));
    let d = root.file("d.xml", &firmware_xml("d", false));
    root.ok(&["define", &a]);
    root.ok(&["define", &b]);
    root.ok(&["define", &d]);
    root.ok(&["autostart", "a"]);
    root.ok(&["start", "a"]);
    root.ok(&["start", "b"]);
    root.ok(&["suspend", "b"]);
    root.ok(&["create", &c]);
    root.ok(&["start", "d"]);
    root.ok(&["managedsave", "d"]);
    let names = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["list"];
        all.extend_from_slice(args);
        all.push("--name");
        let mut v: Vec<String> = root.ok(&all).lines().map(str::to_string).collect();
        v.sort();
        v
    };
    assert_eq!(names(&[]), ["a", "b", "c"]);
    assert_eq!(names(&["--state-running"]), ["a", "c"]);
    assert_eq!(names(&["--state-paused"]), ["b"]);
    assert_eq!(names(&["--state-shutoff"]), ["d"]);
    assert_eq!(
        names(&["--state-paused", "--inactive"]),
        Vec::<String>::new()
    );
    assert_eq!(
        names(&["--all", "--state-running", "--state-shutoff"]),
        ["a", "c", "d"]
    );
    assert_eq!(names(&["--transient"]), ["c"]);
    assert_eq!(names(&["--all", "--persistent"]), ["a", "b", "d"]);
    assert_eq!(names(&["--all", "--autostart"]), ["a"]);
    assert_eq!(names(&["--all", "--no-autostart"]), ["b", "c", "d"]);
    assert_eq!(names(&["--all", "--with-managed-save"]), ["d"]);
    assert_eq!(
        names(&["--all", "--without-managed-save", "--persistent"]),
        ["a", "b"]
    );

    // The printing options, as virsh prints them.
    let uuid_a = root.ok(&["domuuid", "a"]).trim().to_string();
    let id_a = root.ok(&["domid", "a"]).trim().to_string();
    assert!(root.ok(&["list", "--uuid"]).lines().any(|l| l == uuid_a));
    let ids = root.ok(&["list", "--all", "--id"]);
    assert_eq!(ids.lines().count(), 3, "ids of running domains only: {ids}");
    assert!(
        root.ok(&["list", "--uuid", "--id", "--name"])
            .lines()
            .any(|l| l == format!("{uuid_a} {id_a} a"))
    );
    let saved = rows(&root.ok(&["list", "--all", "--managed-save"]));
    assert!(
        saved.contains(&("-".into(), "d".into(), "saved".into())),
        "{saved:?}"
    );
    let with_title = root.ok(&["list", "--title"]);
    let header = with_title.lines().next().unwrap();
    assert!(header.contains("Title"), "{with_title}");
    assert!(
        with_title
            .lines()
            .any(|l| l.contains(" a ") && l.ends_with("Web & mail")),
        "{with_title}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&root.ok(&["list", "--all", "--json", "--title"])).unwrap();
    let d_row = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "d")
        .unwrap();
    assert_eq!(d_row["managed_save"], true);
    assert_eq!(d_row["persistent"], true);
    let a_row = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "a")
        .unwrap();
    assert_eq!(a_row["title"], "Web & mail");
    assert_eq!(a_row["autostart"], true);
    root.fails(&["list", "--table", "--uuid"]);
    root.ok(&["managedsave-remove", "d"]);
}

#[test]
fn query_verbs_speak_json() {
    let root = Root::new("json");
    let xml = firmware_xml("j", false).replace(
        "<devices>",
        "<devices><disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>\
         <interface type='user'><mac address='52:54:00:12:34:56'/><model type='e1000'/></interface>\
         <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>",
    );
    let file = root.file("j.xml", &xml);
    root.ok(&["define", &file]);
    root.ok(&["start", "j"]);
    let parse = |args: &[&str]| -> serde_json::Value {
        let out = root.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    };
    let state = parse(&["domstate", "j", "--json"]);
    assert_eq!(state["state"], "running");
    assert_eq!(state["reason"], "booted");
    let disks = parse(&["domblklist", "j", "--json"]);
    assert_eq!(disks[0]["target"], "hdc");
    assert_eq!(disks[0]["device"], "cdrom");
    assert_eq!(disks[0]["source"], serde_json::Value::Null);
    let nics = parse(&["domiflist", "j", "--json"]);
    assert_eq!(nics[0]["mac"], "52:54:00:12:34:56");
    assert_eq!(nics[0]["type"], "user");
    assert_eq!(nics[0]["model"], "e1000");
    let vnc = parse(&["vncdisplay", "j", "--json"]);
    let text = root.ok(&["vncdisplay", "j"]);
    assert_eq!(vnc["text"], text.trim());
    assert!(vnc["port"].as_i64().unwrap() >= 5900);
    let node = parse(&["nodeinfo", "--json"]);
    assert!(node["cpus"].as_u64().unwrap() >= 1);
    assert!(node["memory_kib"].as_u64().unwrap() > 0);
}

/// Runs `qvirt -c URI edit NAME` with `editor` as $EDITOR and, when
/// `answers` is given, a terminal on stdin that holds them.
fn edit_with(root: &Root, name: &str, editor: &str, answers: Option<&str>) -> Output {
    edit_verb(root, &["edit", name], editor, answers)
}

/// Runs `qvirt -c URI ARGS...` (an edit verb) with `editor` as $EDITOR
/// (which finds qvirt as $QVIRT and the URI as $URI) and, when `answers`
/// is given, a terminal on stdin that holds them.
fn edit_verb(root: &Root, args: &[&str], editor: &str, answers: Option<&str>) -> Output {
    let script = root.file("editor.sh", &format!("#!/bin/sh\n{editor}\n"));
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut cmd = Command::new(QVIRT);
    cmd.args(["-c", &root.uri])
        .args(args)
        .env("QVIRT", QVIRT)
        .env("URI", &root.uri)
        .env_remove("VISUAL")
        .env("EDITOR", &script)
        .env("EDIT_DIR", &root.dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let _master = match answers {
        Some(text) => {
            let pty = nix::pty::openpty(None, None).unwrap();
            nix::unistd::write(&pty.master, text.as_bytes()).unwrap();
            cmd.stdin(Stdio::from(pty.slave));
            Some(pty.master)
        }
        None => {
            cmd.stdin(Stdio::null());
            None
        }
    };
    cmd.output().unwrap()
}

#[test]
fn edit_defines_what_the_editor_saved() {
    let root = Root::new("edit");
    let xml = root.file(
        "ed.xml",
        &firmware_xml("ed", true).replace(
            "<devices>",
            "<devices><graphics type='vnc' port='-1' autoport='yes'/>",
        ),
    );
    root.ok(&["define", &xml]);
    root.ok(&["start", "ed"]);
    // Redefined from its running XML: the pty path and the chosen port
    // are runtime values, not kept.
    let live = root.file("live.xml", &root.ok(&["dumpxml", "ed"]));
    assert!(
        std::fs::read_to_string(&live)
            .unwrap()
            .contains("/dev/pts/")
    );
    root.ok(&["define", &live]);
    let kept = root.ok(&["dumpxml", "--inactive", "ed"]);
    assert!(!kept.contains("/dev/pts/"), "{kept}");
    assert!(!kept.contains("port='59"), "{kept}");

    // An editor that saves nothing new: nothing defined.
    let out = edit_with(&root, "ed", "true", None);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Domain 'ed' XML configuration not changed.\n"
    );
    // A change: defined, and the running domain keeps running as it was.
    let out = edit_with(
        &root,
        "ed",
        "sed -i 's|<memory unit=.KiB.>32768</memory>|<memory unit=\"KiB\">65536</memory>|' \"$1\"",
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Domain 'ed' XML configuration edited.\n"
    );
    assert!(
        root.ok(&["dumpxml", "--inactive", "ed"])
            .contains("<memory unit='KiB'>65536</memory>")
    );
    assert!(
        root.ok(&["dumpxml", "ed"])
            .contains("<memory unit='KiB'>32768</memory>")
    );

    // A broken edit without a terminal: the error, nothing defined.
    let before = root.ok(&["dumpxml", "--inactive", "ed"]);
    let out = edit_with(&root, "ed", "sed -i 's|<vcpu|<vcpuz|' \"$1\"", None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("vcpuz"), "{err}");
    assert_eq!(root.ok(&["dumpxml", "--inactive", "ed"]), before);

    // On a terminal: asked, "y" edits again; the second run fixes it.
    let out = edit_with(
        &root,
        "ed",
        "if [ -e \"$EDIT_DIR/once\" ]; then sed -i 's|<vcpuz|<vcpu|; s|>1</vcpu>|>2</vcpu>|' \"$1\"; \
         else touch \"$EDIT_DIR/once\"; sed -i 's|<vcpu|<vcpuz|' \"$1\"; fi",
        Some("y\n"),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Failed. Try again? [y,n,i,f,?]"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("Domain 'ed' XML configuration edited.\n"),
        "{stdout}"
    );
    assert!(
        root.ok(&["dumpxml", "--inactive", "ed"])
            .contains(">2</vcpu>")
    );
    // "n" throws the changes away.
    let before = root.ok(&["dumpxml", "--inactive", "ed"]);
    let out = edit_with(&root, "ed", "sed -i 's|<vcpu|<vcpuz|' \"$1\"", Some("n\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Try again?"));
    assert_eq!(root.ok(&["dumpxml", "--inactive", "ed"]), before);
    // The temporary copies are gone.
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("qvirt") && n.ends_with(".xml") && n.len() == "qvirt.xml".len() + 32
        })
        .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("<name>ed</name>")))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn resource_and_statistics_verbs_speak_as_virsh() {
    let root = Root::new("resources");
    let disk = root.dir.join("r.img");
    std::fs::File::create(&disk)
        .unwrap()
        .set_len(4 << 20)
        .unwrap();
    let xml = firmware_xml("r", false)
        .replace("<memballoon model='none'/>", "<memballoon model='virtio'/>")
        .replace(
            "<devices>",
            &format!(
                "<devices><disk type='file' device='disk'><driver name='qemu' type='raw'/>\
                 <source file='{}'/><target dev='vda' bus='virtio'/></disk>\
                 <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>",
                disk.display()
            ),
        )
        .replace("<vcpu>1</vcpu>", "<vcpu current='1'>2</vcpu>");
    let file = root.file("r.xml", &xml);
    root.ok(&["define", &file]);
    // The definition, while shut off (--current).
    root.ok(&["setmaxmem", "r", "64M"]);
    root.ok(&["setmem", "r", "48M"]);
    let kept = root.ok(&["dumpxml", "--inactive", "r"]);
    assert!(kept.contains("<memory unit='KiB'>65536</memory>"), "{kept}");
    assert!(
        kept.contains("<currentMemory unit='KiB'>49152</currentMemory>"),
        "{kept}"
    );
    root.fails(&["setmem", "r", "128M"]);
    root.fails(&["setmem", "r", "12Q"]);
    root.fails(&["setmem", "r", "32M", "--live"]);
    root.fails(&["setmem", "r", "32M", "--current", "--config"]);
    root.ok(&["start", "r"]);
    root.ok(&["setmem", "r", "40M", "--live"]);
    assert_eq!(
        field(&root.ok(&["dominfo", "r"]), "Used memory:"),
        "40960 KiB"
    );
    root.ok(&["setvcpus", "r", "2", "--live"]);
    assert_eq!(field(&root.ok(&["dominfo", "r"]), "CPU(s):"), "2");

    let mem = root.ok(&["dommemstat", "r"]);
    assert!(mem.lines().any(|l| l.starts_with("actual ")), "{mem}");
    assert!(mem.lines().any(|l| l.starts_with("rss ")), "{mem}");
    let stats = root.ok(&["domstats", "r"]);
    assert!(stats.starts_with("Domain: 'r'\n"), "{stats}");
    for key in [
        "state.state=1",
        "vcpu.current=2",
        "vcpu.maximum=2",
        "block.count=1",
        "block.0.name=vda",
        "block.0.capacity=4194304",
    ] {
        assert!(stats.contains(&format!("  {key}\n")), "{key}: {stats}");
    }
    let only_state = root.ok(&["domstats", "--state", "r"]);
    assert_eq!(
        only_state,
        "Domain: 'r'\n  state.state=1\n  state.reason=1\n\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&root.ok(&["domstats", "--json", "--vcpu", "r"])).unwrap();
    assert_eq!(json[0]["stats"]["vcpu.current"], 2);
    let info = root.ok(&["domblkinfo", "r", "vda"]);
    assert!(info.contains("Capacity:       4194304"), "{info}");
    let blk = root.ok(&["domblkstat", "r", "vda"]);
    assert!(blk.lines().any(|l| l.starts_with("vda rd_req ")), "{blk}");
    let cpu = root.ok(&["cpu-stats", "r"]);
    assert!(
        cpu.contains("vCPU0:") && cpu.contains("vCPU1:") && cpu.contains("Total:"),
        "{cpu}"
    );
    let answer = root.ok(&[
        "qemu-monitor-command",
        "r",
        "--pretty",
        r#"{"execute":"query-status"}"#,
    ]);
    assert!(answer.contains("\"status\": \"running\""), "{answer}");
    // virsh's dominfo ends with the domain's messages.
    let info = root.ok(&["dominfo", "r"]);
    assert!(
        info.ends_with("Messages:       tainted: custom monitor control commands issued\n"),
        "{info}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&root.ok(&["dominfo", "r", "--json"])).unwrap();
    assert_eq!(
        json["messages"],
        serde_json::json!(["tainted: custom monitor control commands issued"])
    );
    assert_eq!(
        root.ok(&["domdisplay", "r"]),
        format!(
            "vnc://127.0.0.1:{}\n",
            root.ok(&["vncdisplay", "r"])
                .trim()
                .rsplit(':')
                .next()
                .unwrap()
        )
    );
    // domifaddr: virsh's header; user networking has no lease to show.
    let header = format!(
        " {:<10} {:<20} {:<8}     {}\n{}\n",
        "Name",
        "MAC address",
        "Protocol",
        "Address",
        "-".repeat(79)
    );
    assert_eq!(root.ok(&["domifaddr", "r"]), header);
    assert_eq!(root.ok(&["domifaddr", "r", "--json"]), "[]\n");
    let err = root.fails(&["domifaddr", "r", "--source", "dhcp"]);
    assert!(err.contains("lease, arp or agent"), "{err}");
    let err = root.fails(&["domifaddr", "r", "--source", "agent"]);
    assert!(err.contains("guest agent"), "{err}");
    // send-key: silent as virsh; a name it does not know is refused.
    assert_eq!(root.ok(&["send-key", "r", "KEY_LEFTSHIFT", "KEY_A"]), "");
    let err = root.fails(&["send-key", "r", "KEY_NOPE"]);
    assert!(err.contains("invalid keycode: 'KEY_NOPE'"), "{err}");
    let err = root.fails(&["send-key", "r", "--codeset", "usb", "4"]);
    assert!(err.contains("unknown code set 'usb'"), "{err}");
}

#[test]
fn virsh_flags_of_daily_verbs() {
    let root = Root::new("flags");
    let file = root.file("f.xml", &firmware_xml("f", true));
    root.ok(&["define", &file]);
    // start --console: started, then the console (stdin ends at once).
    let out = root.ok(&["start", "f", "--console"]);
    assert!(out.starts_with("Domain 'f' started\n"), "{out}");
    assert_eq!(root.ok(&["domstate", "f"]), "running\n");
    root.ok(&["console", "f", "--devname", "serial0"]);
    let err = root.fails(&["console", "f", "--devname", "serial1"]);
    assert!(err.contains("serial0"), "{err}");
    // No agent channel: the agent's verbs are refused by name.
    let err = root.fails(&["shutdown", "f", "--mode", "agent"]);
    assert!(err.contains("guest agent is not configured"), "{err}");
    let err = root.fails(&["reboot", "f", "--mode", "agent"]);
    assert!(err.contains("guest agent is not configured"), "{err}");
    let err = root.fails(&["domtime", "f"]);
    assert!(err.contains("guest agent is not configured"), "{err}");
    let err = root.fails(&["shutdown", "f", "--mode", "bogus"]);
    assert!(err.contains("acpi or agent"), "{err}");
    root.ok(&["shutdown", "f", "--mode", "acpi"]);
    // dumpxml --xpath, printed as virsh prints the selected nodes.
    assert_eq!(
        root.ok(&["dumpxml", "f", "--xpath", "/domain/name"]),
        "<name>f</name>\n"
    );
    assert_eq!(
        root.ok(&["dumpxml", "f", "--xpath", "//os/type/@machine", "--wrap"]),
        "<nodes>\n machine=\"pc\"\n</nodes>\n"
    );
    let err = root.fails(&["dumpxml", "f", "--xpath", "count(//disk)"]);
    assert!(err.contains("count()"), "{err}");
    // undefine --managed-save removes the image with the definition.
    root.ok(&["destroy", "f"]);
    // start --autodestroy: the domain ends with this command's connection.
    assert_eq!(
        root.ok(&["start", "f", "--autodestroy"]),
        "Domain 'f' started\n"
    );
    assert_eq!(
        root.ok(&["domstate", "f", "--reason"]),
        "shut off (destroyed)\n"
    );
    root.ok(&["start", "f"]);
    root.ok(&["managedsave", "f"]);
    assert!(root.dir.join("save/f.save").exists());
    root.fails(&["undefine", "f", "--remove-all-storage"]);
    root.ok(&["undefine", "f", "--managed-save"]);
    assert!(!root.dir.join("save/f.save").exists());
    // domrename, in virsh's words.
    root.ok(&["define", &file]);
    assert_eq!(
        root.ok(&["domrename", "f", "g"]),
        "Domain successfully renamed\n"
    );
    assert_eq!(root.ok(&["list", "--all", "--name"]), "g\n");
    root.ok(&["undefine", "g"]);
    // desc and metadata, in virsh's words.
    root.ok(&["define", &file]);
    assert_eq!(root.ok(&["desc", "f"]), "No description for domain: f\n");
    assert_eq!(
        root.ok(&["desc", "f", "--title", "--new-desc", "web", "server"]),
        "Domain title updated successfully\n"
    );
    assert_eq!(root.ok(&["desc", "f", "--title"]), "web server\n");
    let uri = "http://example.org/app/1";
    let err = root.fails(&["metadata", "f", uri, "--set", "<cfg/>"]);
    assert!(err.contains("--key"), "{err}");
    assert_eq!(
        root.ok(&[
            "metadata",
            "f",
            uri,
            "--key",
            "app",
            "--set",
            "<cfg port='80'/>"
        ]),
        "Metadata modified\n"
    );
    assert_eq!(root.ok(&["metadata", "f", uri]), "<cfg port=\"80\"/>\n");
    assert!(root.ok(&["dumpxml", "f"]).contains("<app:cfg xmlns:app="));
    assert_eq!(
        root.ok(&["metadata", "f", uri, "--remove"]),
        "Metadata removed\n"
    );
    root.fails(&["metadata", "f", uri]);
    root.ok(&["undefine", "f"]);
    // start --paused: started, and paused by the user.
    root.ok(&["define", &file]);
    assert_eq!(root.ok(&["start", "f", "--paused"]), "Domain 'f' started\n");
    assert_eq!(root.ok(&["domstate", "f", "--reason"]), "paused (user)\n");
    root.ok(&["destroy", "f"]);
    root.ok(&["undefine", "f"]);
    assert_eq!(rows(&root.ok(&["list", "--all"])), []);
}

/// `save-image-edit`, `managedsave-edit` and `pool-edit`: what the editor
/// saved is defined (with `--paused`/`--running` for an image: the
/// restore starts as asked, with the edited description), an unchanged
/// text defines nothing, and a text someone else changed while it was
/// being edited is not defined over theirs (virsh's "changed by another
/// user").
#[test]
fn images_and_pools_are_edited_as_virsh_edits_them() {
    let root = Root::new("imgedit");
    let xml = root.file("ie.xml", &firmware_xml("ie", false));
    root.ok(&["define", &xml]);
    root.ok(&["start", "ie"]);
    let image = format!("{}/ie.save", root.dir.display());
    root.ok(&["save", "ie", &image]);
    let describe =
        |text: &str| format!("sed -i 's|</name>|</name><description>{text}</description>|' \"$1\"");
    let stdout = |out: &Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };

    let out = edit_verb(&root, &["save-image-edit", &image], "true", None);
    assert_eq!(
        stdout(&out),
        format!("Saved image {image} XML configuration not changed.\n")
    );
    let out = edit_verb(
        &root,
        &["save-image-edit", &image, "--paused"],
        &describe("edited image"),
        None,
    );
    assert_eq!(stdout(&out), format!("State file {image} edited.\n"));
    assert!(
        root.ok(&["save-image-dumpxml", &image])
            .contains("edited image")
    );
    root.ok(&["restore", &image]);
    assert_eq!(root.ok(&["domstate", "ie"]).trim(), "paused");
    assert!(root.ok(&["dumpxml", "ie"]).contains("edited image"));
    root.ok(&["destroy", "ie"]);

    // Someone else defines the image while it is in the editor: the
    // edit is not defined over it.
    let theirs = root.file(
        "theirs.xml",
        &root
            .ok(&["save-image-dumpxml", &image, "--security-info"])
            .replace("edited image", "their image"),
    );
    let editor = format!(
        "\"$QVIRT\" -c \"$URI\" save-image-define {image} {theirs} >/dev/null && {}",
        describe("mine")
    );
    let out = edit_verb(&root, &["save-image-edit", &image], &editor, None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("The XML configuration was changed by another user."),
        "{err}"
    );
    let now = root.ok(&["save-image-dumpxml", &image]);
    assert!(
        now.contains("their image") && !now.contains("mine"),
        "{now}"
    );

    // The managed save image, started running as asked.
    root.ok(&["start", "ie"]);
    root.ok(&["managedsave", "ie", "--paused"]);
    let out = edit_verb(
        &root,
        &["managedsave-edit", "ie", "--running"],
        &describe("managed"),
        None,
    );
    assert_eq!(
        stdout(&out),
        "Managed save image of Domain 'ie' XML configuration edited.\n"
    );
    root.ok(&["start", "ie"]);
    assert_eq!(root.ok(&["domstate", "ie"]).trim(), "running");
    assert!(root.ok(&["dumpxml", "ie"]).contains("managed"));
    root.ok(&["destroy", "ie"]);

    // A pool moved to another directory.
    let (a, b) = (root.dir.join("pa"), root.dir.join("pb"));
    std::fs::create_dir(&a).unwrap();
    std::fs::create_dir(&b).unwrap();
    root.ok(&[
        "pool-define-as",
        "pe",
        "dir",
        "--target",
        a.to_str().unwrap(),
    ]);
    let editor = format!("sed -i 's|{}|{}|' \"$1\"", a.display(), b.display());
    let out = edit_verb(&root, &["pool-edit", "pe"], &editor, None);
    assert_eq!(stdout(&out), "Pool pe XML configuration edited.\n");
    assert!(
        root.ok(&["pool-dumpxml", "pe"])
            .contains(b.to_str().unwrap())
    );
    let out = edit_verb(&root, &["pool-edit", "pe"], "true", None);
    assert_eq!(stdout(&out), "Pool pe XML configuration not changed.\n");
}

/// `vcpucount` (virsh's table, and one count), `ttyconsole`,
/// `domcontrol`, `domif-getlink`/`domif-setlink` (live and `--config`,
/// the link's state in the running domain's XML) and `maxvcpus`.
#[test]
fn small_domain_verbs_answer_as_virsh_does() {
    let root = Root::new("smallverbs");
    let xml = firmware_xml("sv", true)
        .replace("<vcpu>1</vcpu>", "<vcpu current='1'>2</vcpu>")
        .replace(
            "<devices>",
            "<devices><interface type='user'><mac address='52:54:00:00:00:31'/><model type='e1000'/></interface>",
        );
    let xml = root.file("sv.xml", &xml);
    root.ok(&["define", &xml]);
    assert_eq!(
        root.ok(&["vcpucount", "sv"]),
        "maximum      config         2\ncurrent      config         1\n"
    );
    assert!(
        root.fails(&["vcpucount", "sv", "--live"])
            .contains("not running")
    );
    assert!(root.fails(&["domcontrol", "sv"]).contains("not running"));
    root.ok(&["start", "sv"]);
    assert_eq!(
        root.ok(&["vcpucount", "sv"]),
        "maximum      config         2\nmaximum      live           2\n\
         current      config         1\ncurrent      live           1\n"
    );
    assert_eq!(root.ok(&["vcpucount", "sv", "--maximum", "--live"]), "2\n");
    assert_eq!(root.ok(&["vcpucount", "sv", "--active"]), "1\n");
    assert!(root.ok(&["ttyconsole", "sv"]).starts_with("/dev/pts/"));
    assert_eq!(root.ok(&["domcontrol", "sv"]), "ok\n");

    let mac = "52:54:00:00:00:31";
    assert_eq!(
        root.ok(&["domif-getlink", "sv", mac]),
        format!("{mac} up\n")
    );
    assert_eq!(
        root.ok(&["domif-setlink", "sv", mac, "down"]),
        "Device updated successfully\n"
    );
    assert_eq!(
        root.ok(&["domif-getlink", "sv", mac]),
        format!("{mac} down\n")
    );
    assert!(root.ok(&["dumpxml", "sv"]).contains("<link state='down'/>"));
    assert_eq!(
        root.ok(&["domif-getlink", "sv", mac, "--config"]),
        format!("{mac} up\n")
    );
    root.ok(&["domif-setlink", "sv", mac, "down", "--config"]);
    assert!(
        root.ok(&["dumpxml", "--inactive", "sv"])
            .contains("<link state='down'/>")
    );
    assert!(
        root.fails(&["domif-getlink", "sv", "52:54:00:00:00:99"])
            .contains("not found")
    );
    assert!(
        root.fails(&["domif-setlink", "sv", mac, "sideways"])
            .contains("invalid link state")
    );

    let max: u32 = root.ok(&["maxvcpus"]).trim().parse().unwrap();
    assert!(max >= 2, "{max}");
}
