//! The daemon is SIGKILLed at a random moment (0-20 ms in) of a storm of
//! define, redefine and undefine calls from two clients, fifty times in a
//! row on one state directory. After each kill every file in the config
//! directory parses, and the defined domains are exactly those the
//! answered calls left defined, each with the definition of its last
//! answered define. A call that never got an answer may have happened or
//! not, but wholly: its domain is as before it or as after it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::Signal;
use qvirt::driver::ListFilter;
use qvirt::driver::XmlFlags;
use qvirt::transport::SocketDriver;
use qvirt::{Domain, DomainDef, Driver, ErrorCode};
use uuid::Uuid;

use crate::support::*;

/// How many times the daemon is killed.
const KILLS: usize = 50;
/// Domains per client; each client has its own, so the answered calls of
/// one client alone say what its domains must be.
const PER_CLIENT: usize = 5;

/// A domain's persistent state: absent, or defined at a version (written
/// into its description, so a redefinition is told from the one before).
type Defined = Option<u64>;

/// What one client knows: each of its domains' state after its last
/// answered call, and the call in flight (domain, state it would leave).
#[derive(Debug, Default)]
struct Model {
    state: BTreeMap<String, Defined>,
    in_flight: Option<(String, Defined)>,
    /// How many calls were answered.
    answered: usize,
}

fn uuid_of(name: &str) -> Uuid {
    let mut n: u128 = 0x5707_0000_0000_4000_8000_0000_0000_0000;
    for b in name.bytes() {
        n = n.rotate_left(8) ^ u128::from(b);
    }
    Uuid::from_u128(n)
}

fn xml(name: &str, version: u64) -> String {
    small_vm_xml(name, "", "").replace(
        "<memory",
        &format!(
            "<uuid>{}</uuid><description>v{version}</description><memory",
            uuid_of(name)
        ),
    )
}

/// One client's storm: random defines, redefines and undefines of its
/// own domains until a call fails, which must be because the daemon died.
fn storm(c: SocketDriver, model: Arc<Mutex<Model>>, mut rng: Rng, next_version: u64) {
    let mut version = next_version;
    loop {
        let (name, now) = {
            let m = model.lock().unwrap();
            let names: Vec<&String> = m.state.keys().collect();
            let name = names[rng.below(names.len() as u64) as usize].clone();
            (name.clone(), m.state[&name])
        };
        version += 1;
        let after = match now {
            Some(_) if rng.below(2) == 0 => None,
            _ => Some(version),
        };
        model.lock().unwrap().in_flight = Some((name.clone(), after));
        let result = match after {
            Some(v) => c.define_xml(&xml(&name, v)).map(drop),
            None => c.undefine(&Domain {
                name: name.clone(),
                uuid: uuid_of(&name),
                id: None,
            }),
        };
        match result {
            Ok(()) => {
                let mut m = model.lock().unwrap();
                m.state.insert(name, after);
                m.in_flight = None;
                m.answered += 1;
            }
            Err(e) => {
                assert_eq!(e.code, ErrorCode::Protocol, "{name}: {e}");
                assert!(e.message.contains("ended"), "{e}");
                return;
            }
        }
    }
}

/// Checks the state directory against the clients' models, with no
/// manager running; then opens one (the restart) and checks what it
/// lists. Settles each call in flight to what happened.
fn check_and_settle(root: &Path, models: &[Arc<Mutex<Model>>], round: usize) {
    let config = root.join("config");
    // Every definition file on disk parses and is named after its domain.
    let mut on_disk: BTreeMap<String, Defined> = BTreeMap::new();
    for e in std::fs::read_dir(&config).unwrap() {
        let e = e.unwrap();
        let file = e.file_name().to_string_lossy().into_owned();
        if file == "autostart" || file.starts_with('.') {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).unwrap();
        let def = DomainDef::from_xml(&text)
            .unwrap_or_else(|err| panic!("round {round}: {file} does not parse: {err}\n{text}"));
        assert_eq!(format!("{}.xml", def.name), file, "round {round}");
        let v = def.description.as_deref().unwrap()[1..].parse().unwrap();
        on_disk.insert(def.name, Some(v));
    }
    // The restart: a manager on the directory lists the same.
    let m = qvirt::connect(&format!("qemu:///embed?root={}", root.display())).unwrap();
    let listed: BTreeMap<String, Defined> = m
        .list(ListFilter::ALL)
        .unwrap()
        .into_iter()
        .map(|s| {
            let xml = m.xml_desc(&s.domain, XmlFlags::INACTIVE).unwrap();
            let def = DomainDef::from_xml(&xml).unwrap();
            let v = def.description.as_deref().unwrap()[1..].parse().unwrap();
            (s.domain.name, Some(v))
        })
        .collect();
    assert_eq!(listed, on_disk, "round {round}: listed vs. files");
    drop(m);
    // Nothing else is left in the directory once a manager has opened it.
    let mut files: Vec<String> = std::fs::read_dir(&config)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut expected: Vec<String> = on_disk.keys().map(|n| format!("{n}.xml")).collect();
    expected.push("autostart".into());
    expected.sort();
    assert_eq!(files, expected, "round {round}: the config directory");

    for model in models {
        let mut model = model.lock().unwrap();
        let in_flight = model.in_flight.take();
        for (name, want) in model.state.iter_mut() {
            let got = on_disk.get(name).copied().flatten();
            match &in_flight {
                Some((n, after)) if n == name => {
                    assert!(
                        got == *want || got == *after,
                        "round {round}: {name} is {got:?}; before the unanswered call it was {want:?}, after it would be {after:?}"
                    );
                }
                _ => assert_eq!(got, *want, "round {round}: {name}"),
            }
            *want = got;
        }
    }
}

#[test]
fn definitions_survive_a_storm_of_kills() {
    let dir = TestDir::new("storm");
    let mut rng = Rng::from_env("storm");
    let models: Vec<Arc<Mutex<Model>>> = ["a", "b"]
        .iter()
        .map(|p| {
            let state = (0..PER_CLIENT).map(|i| (format!("{p}{i}"), None)).collect();
            Arc::new(Mutex::new(Model {
                state,
                ..Model::default()
            }))
        })
        .collect();
    for round in 0..KILLS {
        let mut daemon = Daemon::start(&dir.path, &[]);
        let clients: Vec<_> = models
            .iter()
            .enumerate()
            .map(|(i, model)| {
                let c = SocketDriver::connect(&daemon.socket, &daemon.uri()).unwrap();
                let (model, rng) = (model.clone(), Rng::new(rng.next()));
                let first = (round as u64 * 1_000_000) + i as u64 * 100_000;
                std::thread::spawn(move || storm(c, model, rng, first))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(rng.below(21)));
        daemon.signal(Signal::SIGKILL);
        daemon.wait_exit(Duration::from_secs(10));
        for c in clients {
            c.join().expect("a client's storm");
        }
        check_and_settle(&dir.path, &models, round);
    }
    let answered: usize = models.iter().map(|m| m.lock().unwrap().answered).sum();
    eprintln!("storm: {KILLS} kills, {answered} answered calls");
    assert!(answered > 0, "the storm made no calls");
}
