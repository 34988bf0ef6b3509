//! The daemon starts on a config directory full of broken files: it
//! serves the good definitions, logs each bad file by name with the
//! reason, and leaves every file exactly as it was (contents, mode and
//! modification time), at start and on a SIGHUP rescan.
//!
//! The bad files: a truncated document; garbage; a second file with the
//! UUID of a good one; a second file with the name of a good one (under
//! another file name, since a file is named after its domain); and files
//! that cannot be read as a definition. We run as root, for whom mode
//! 000 does not make a file unreadable, so "unreadable" takes the forms a
//! root daemon does meet: a directory named `*.xml`, a FIFO (reading
//! would block forever), a file that is not UTF-8, a symlink (to a valid
//! definition outside the directory, which must not be followed), and an
//! 8 GiB sparse file (reading it whole would exhaust memory). A stray
//! `notes.txt` and an editor's leftover complete the mess.

use std::collections::BTreeSet;
use std::os::unix::fs::symlink;
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::sys::stat::Mode;
use qvirt::driver::{DomainState, ListFilter};
use uuid::Uuid;

use crate::support::*;

/// A valid definition of `name` with `uuid`.
fn def(name: &str, uuid: Uuid) -> String {
    small_vm_xml(name, "", "").replace("<memory", &format!("<uuid>{uuid}</uuid><memory"))
}

/// Each bad file and the words its log line must hold.
const BAD: &[(&str, &[&str])] = &[
    ("trunc.xml", &["malformed XML"]),
    ("garbage.xml", &["malformed XML"]),
    ("uuid-twin.xml", &["UUID", "good-a.xml"]),
    ("dup-copy.xml", &["'dup'", "dup.xml"]),
    ("adir.xml", &["not a regular file", "directory"]),
    ("fifo.xml", &["not a regular file", "FIFO"]),
    ("latin1.xml", &["UTF-8"]),
    ("link.xml", &["not a regular file", "symbolic link"]),
    ("huge.xml", &["larger than"]),
    ("notes.txt", &["not a domain definition"]),
];

#[test]
fn bad_config_files_are_logged_skipped_and_untouched() {
    let dir = TestDir::new("badcfg");
    let config = dir.path.join("config");
    let outside = dir.path.join("outside");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let u = |n: u128| Uuid::from_u128(0xbad_0000 + n);
    let w = |f: &str, data: &[u8]| std::fs::write(config.join(f), data).unwrap();

    w("good-a.xml", def("good-a", u(1)).as_bytes());
    w("good-b.xml", def("good-b", u(2)).as_bytes());
    w("dup.xml", def("dup", u(3)).as_bytes());
    w("dup-copy.xml", def("dup", u(4)).as_bytes());
    w("uuid-twin.xml", def("uuid-twin", u(1)).as_bytes());
    let whole = def("trunc", u(5));
    w("trunc.xml", &whole.as_bytes()[..whole.len() / 2]);
    w("garbage.xml", b"\x01\x02 this is not <xml at all");
    // "café" in Latin-1: a lone 0xe9 byte.
    let latin1 = def("latin1", u(6)).replace("<memory", "<description>caf_</description><memory");
    let latin1: Vec<u8> = latin1
        .bytes()
        .map(|b| if b == b'_' { 0xe9 } else { b })
        .collect();
    w("latin1.xml", &latin1);
    std::fs::create_dir(config.join("adir.xml")).unwrap();
    nix::unistd::mkfifo(&config.join("fifo.xml"), Mode::from_bits_truncate(0o600)).unwrap();
    std::fs::write(outside.join("lure.xml"), def("link", u(7))).unwrap();
    symlink(outside.join("lure.xml"), config.join("link.xml")).unwrap();
    std::fs::File::create(config.join("huge.xml"))
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    w("notes.txt", b"remember to buy milk\n");
    w(".good-a.xml.swp", b"an editor's swap file\n");

    let watched = |tag: &str| {
        (
            snapshot(&config, &["autostart"]),
            snapshot(&outside, &[]),
            tag.to_string(),
        )
    };
    let before = watched("before");
    let daemon = Daemon::start(&dir.path, &[]);
    let d = daemon.connect();
    let names: BTreeSet<String> = d
        .list(ListFilter::ALL)
        .unwrap()
        .into_iter()
        .map(|s| s.domain.name)
        .collect();
    assert_eq!(
        names,
        ["dup", "good-a", "good-b"].map(String::from).into(),
        "the good domains, and only they"
    );
    assert_eq!(d.lookup_by_name("dup").unwrap().uuid, u(3), "dup.xml's dup");

    let log = manager_log(&dir.path);
    for (file, words) in BAD {
        let line = log
            .lines()
            .find(|l| {
                l.contains(&format!("config: skipping {file}"))
                    || l.contains(&format!("config: ignoring {file}"))
            })
            .unwrap_or_else(|| panic!("no log line names {file}:\n{log}"));
        assert!(
            line.contains("warning:") || line.contains("error:"),
            "{line}"
        );
        for word in *words {
            assert!(line.contains(word), "{file}: {word:?} not in: {line}");
        }
    }

    // The good domains are served: one starts and stops.
    let a = d.lookup_by_name("good-a").unwrap();
    let a = d.start(&a).unwrap();
    assert_eq!(d.info(&a).unwrap().state, DomainState::Running);
    d.destroy(&a).unwrap();

    // A rescan reads the mess again, and still changes nothing.
    let lines = |log: &str| {
        log.lines()
            .filter(|l| l.contains("config: skipping dup-copy.xml"))
            .count()
    };
    let seen = lines(&manager_log(&dir.path));
    daemon.signal(Signal::SIGHUP);
    wait_for("the rescan's log", Duration::from_secs(10), || {
        (lines(&manager_log(&dir.path)) > seen).then_some(())
    });
    assert_eq!(d.list(ListFilter::ALL).unwrap().len(), 3);
    let after = watched("after");
    assert!(
        before.0 == after.0 && before.1 == after.1,
        "files changed: {:?} {:?}",
        snapshot_diff(&before.0, &after.0),
        snapshot_diff(&before.1, &after.1)
    );
}
