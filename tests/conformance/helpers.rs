//! Shared helpers of the cases: domain XML builders, waits with
//! deadlines, event and error checks, the guest's console, and where the
//! Linux test guest lives.

use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use qvirt::driver::{
    ConsoleStream, Domain, DomainInfo, DomainState, Event, EventKind, EventStream, ListFilter,
    StateReason,
};

use crate::{Ctx, processes_under};
use qvirt::{Driver, Error, ErrorCode};
use uuid::Uuid;

/// The deadline of an operation on the firmware VM (a loaded host with
/// parallel tests may be slow, but nothing here takes seconds normally).
pub const QUICK: Duration = Duration::from_secs(30);
/// The deadline for the Linux guest to boot (or reboot) to its marker
/// under TCG on a busy host.
pub const BOOT: Duration = Duration::from_secs(120);
/// The marker the Linux guest prints once it is ready.
pub const READY: &str = "QVIRT-GUEST-READY";
/// The Linux guest's shell prompt.
pub const PROMPT: &str = "guest# ";

/// A domain document under construction.
#[derive(Debug, Clone)]
pub struct Vm {
    /// `<name>`.
    pub name: String,
    /// `<uuid>`.
    pub uuid: Uuid,
    /// `<memory>`, MiB.
    pub memory_mib: u64,
    /// `<vcpu>`.
    pub vcpus: u32,
    /// Extra children of `<os>` (kernel, initrd, cmdline).
    pub os_extra: String,
    /// Extra top-level elements (`<features>`, `<on_poweroff>`...).
    pub extra: String,
    /// Children of `<devices>`.
    pub devices: String,
}

impl Vm {
    /// The firmware-only VM: 32 MiB, one vCPU, TCG, no disk, no balloon.
    /// It sits in the BIOS and ignores the ACPI power button.
    pub fn firmware(name: &str) -> Vm {
        Vm {
            name: name.to_string(),
            uuid: Uuid::new_v4(),
            memory_mib: 32,
            vcpus: 1,
            os_extra: String::new(),
            extra: String::new(),
            devices: "<memballoon model='none'/>".to_string(),
        }
    }

    /// The Linux test guest: 128 MiB, TCG, ACPI, its console on a pty
    /// serial port.
    pub fn linux(name: &str) -> Vm {
        let dir = guest_dir();
        Vm {
            name: name.to_string(),
            uuid: Uuid::new_v4(),
            memory_mib: 128,
            vcpus: 1,
            os_extra: format!(
                "<kernel>{}</kernel><initrd>{}</initrd><cmdline>console=ttyS0 quiet no_timer_check</cmdline>",
                dir.join("vmlinux").display(),
                dir.join("initrd.img").display()
            ),
            extra: "<features><acpi/></features>".to_string(),
            devices: "<serial type='pty'><target port='0'/></serial>\
                      <console type='pty'><target type='serial' port='0'/></console>\
                      <memballoon model='none'/>"
                .to_string(),
        }
    }

    /// With `words` added to the Linux guest's kernel command line
    /// (`guestnet`, `guestip=...`: see tests/guest/README.md).
    pub fn kernel_args(mut self, words: &str) -> Vm {
        self.os_extra = self.os_extra.replace(
            "<cmdline>console=ttyS0 quiet no_timer_check</cmdline>",
            &format!("<cmdline>console=ttyS0 quiet no_timer_check {words}</cmdline>"),
        );
        self
    }

    /// With another UUID.
    pub fn uuid(mut self, uuid: Uuid) -> Vm {
        self.uuid = uuid;
        self
    }

    /// With `mib` MiB of memory.
    pub fn memory_mib(mut self, mib: u64) -> Vm {
        self.memory_mib = mib;
        self
    }

    /// With `n` vCPUs.
    pub fn vcpus(mut self, n: u32) -> Vm {
        self.vcpus = n;
        self
    }

    /// With `xml` added to `<devices>`.
    pub fn device(mut self, xml: &str) -> Vm {
        self.devices.push_str(xml);
        self
    }

    /// With `xml` added at the top level of `<domain>`.
    pub fn element(mut self, xml: &str) -> Vm {
        self.extra.push_str(xml);
        self
    }

    /// The document.
    pub fn xml(&self) -> String {
        format!(
            "<domain type='qemu'>\
               <name>{}</name><uuid>{}</uuid>\
               <memory unit='MiB'>{}</memory><vcpu>{}</vcpu>\
               <os><type arch='x86_64' machine='pc'>hvm</type>{}</os>\
               {}\
               <devices>{}</devices>\
             </domain>",
            self.name,
            self.uuid,
            self.memory_mib,
            self.vcpus,
            self.os_extra,
            self.extra,
            self.devices
        )
    }
}

/// Defines `vm` and checks the handle names it.
pub fn define(d: &dyn Driver, vm: &Vm) -> Domain {
    let dom = d
        .define_xml(&vm.xml())
        .unwrap_or_else(|e| panic!("define '{}': {e}", vm.name));
    assert_eq!(
        (dom.name.as_str(), dom.uuid, dom.id),
        (vm.name.as_str(), vm.uuid, None)
    );
    dom
}

/// Defines and starts `vm`; returns the running handle.
pub fn define_and_start(d: &dyn Driver, vm: &Vm) -> Domain {
    let dom = define(d, vm);
    let dom = d
        .start(&dom)
        .unwrap_or_else(|e| panic!("start '{}': {e}", vm.name));
    assert!(dom.id.is_some(), "a started domain has an id: {dom:?}");
    dom
}

/// `info`, failing the test on error.
pub fn info(d: &dyn Driver, dom: &Domain) -> DomainInfo {
    d.info(dom)
        .unwrap_or_else(|e| panic!("info of '{}': {e}", dom.name))
}

/// Polls `f` every 20 ms until it returns `Some`, failing the test with
/// `what` after `timeout`.
pub fn wait_until<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `dom` is in `state`; returns its info then.
pub fn wait_state(
    d: &dyn Driver,
    dom: &Domain,
    state: DomainState,
    timeout: Duration,
) -> DomainInfo {
    let deadline = Instant::now() + timeout;
    loop {
        let got = d.info(dom);
        if let Ok(i) = &got
            && i.state == state
        {
            return i.clone();
        }
        assert!(
            Instant::now() < deadline,
            "'{}' not {} within {timeout:?}; last: {got:?}",
            dom.name,
            state.as_str()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until no domain named `name` exists any more.
pub fn wait_gone(d: &dyn Driver, name: &str, timeout: Duration) {
    wait_until(
        &format!("domain '{name}' to disappear"),
        timeout,
        || match d.lookup_by_name(name) {
            Err(e) if e.code == ErrorCode::NoDomain => Some(()),
            _ => None,
        },
    );
}

/// Checks that `r` failed with `code`; returns the error.
#[track_caller]
pub fn expect_err<T: Debug>(r: qvirt::Result<T>, code: ErrorCode, what: &str) -> Error {
    match r {
        Ok(v) => panic!("{what}: expected {} error, got Ok({v:?})", code.name()),
        Err(e) => {
            assert_eq!(e.code, code, "{what}: wrong code; message: {}", e.message);
            assert!(!e.message.is_empty(), "{what}: the error has no message");
            e
        }
    }
}

/// The names and states `filter` lists.
pub fn listed(d: &dyn Driver, filter: ListFilter) -> Vec<(String, DomainState)> {
    d.list(filter)
        .expect("list")
        .into_iter()
        .map(|s| (s.domain.name, s.state))
        .collect()
}

/// An event subscription with checks.
pub struct Watch {
    stream: Box<dyn EventStream>,
}

impl Watch {
    /// Subscribes to `d`'s events.
    pub fn new(d: &dyn Driver) -> Watch {
        Watch {
            stream: d.events().expect("events"),
        }
    }

    /// The next event of domain `uuid`, skipping other domains' events;
    /// `None` after `timeout`.
    pub fn next_of(&mut self, uuid: Uuid, timeout: Duration) -> Option<Event> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stream.next(left).expect("the event stream works") {
                // A save's or a migration's passes over the memory are
                // its progress, told between the lifecycle events the
                // cases follow.
                Some(ev) if matches!(ev.kind, EventKind::MigrationIteration { .. }) => {}
                Some(ev) if ev.domain.uuid == uuid => return Some(ev),
                Some(_) => {}
                None => return None,
            }
            if Instant::now() >= deadline {
                return None;
            }
        }
    }

    /// Checks that the next events of `uuid` are exactly `want`, in order.
    #[track_caller]
    pub fn expect(&mut self, uuid: Uuid, want: &[EventKind]) -> Vec<Event> {
        let mut got = Vec::new();
        for w in want {
            match self.next_of(uuid, QUICK) {
                Some(ev) => {
                    let kind = ev.kind.clone();
                    got.push(ev);
                    assert_eq!(
                        kind,
                        *w,
                        "event {} of {uuid}: want {want:?}, got so far {:?}",
                        got.len(),
                        got.iter().map(|e| e.kind.clone()).collect::<Vec<_>>()
                    );
                }
                None => panic!(
                    "no event of {uuid} within {QUICK:?}: want {want:?}, got {:?}",
                    got.iter().map(|e| e.kind.clone()).collect::<Vec<_>>()
                ),
            }
        }
        got
    }

    /// [`Watch::expect`] for the firmware VM, whose BIOS resets the
    /// machine once more by itself right after a reset: a `Reset` that
    /// follows a `Reset` is taken as part of it.
    #[track_caller]
    pub fn expect_merging_resets(&mut self, uuid: Uuid, want: &[EventKind]) {
        let mut got: Vec<EventKind> = Vec::new();
        let mut matched = 0;
        while matched < want.len() {
            let Some(ev) = self.next_of(uuid, QUICK) else {
                panic!("no event of {uuid} within {QUICK:?}: want {want:?}, got {got:?}");
            };
            let repeat = ev.kind == EventKind::Reset && got.last() == Some(&EventKind::Reset);
            got.push(ev.kind.clone());
            if repeat {
                continue;
            }
            assert_eq!(
                ev.kind, want[matched],
                "event {matched} of {uuid}: want {want:?}, got so far {got:?}"
            );
            matched += 1;
        }
    }

    /// Skips events of `uuid` until one of `kind`; fails after `timeout`.
    #[track_caller]
    pub fn wait_for(&mut self, uuid: Uuid, kind: EventKind, timeout: Duration) -> Event {
        let deadline = Instant::now() + timeout;
        let mut skipped = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_of(uuid, left) {
                Some(ev) if ev.kind == kind => return ev,
                // Once stopped for another reason, the wanted event cannot
                // come (no case waits across a new start).
                Some(ev) if matches!(ev.kind, EventKind::Stopped(_)) => {
                    panic!("waiting for {kind:?}, the domain stopped: saw {skipped:?}, then {ev:?}")
                }
                Some(ev) => skipped.push(ev.kind),
                None => panic!("no {kind:?} event within {timeout:?}; saw {skipped:?}"),
            }
        }
    }

    /// Checks that `uuid` has no event for `quiet`.
    #[track_caller]
    pub fn expect_none(&mut self, uuid: Uuid, quiet: Duration) {
        if let Some(ev) = self.next_of(uuid, quiet) {
            panic!("unexpected event {ev:?}");
        }
    }
}

/// The Linux guest's serial console, read into a buffer.
pub struct Console {
    stream: Box<dyn ConsoleStream>,
    /// What was read and not yet matched.
    pending: String,
    /// Everything read, for failure messages.
    transcript: String,
}

impl Console {
    /// Opens the console of `dom`.
    pub fn open(d: &dyn Driver, dom: &Domain, force: bool) -> Console {
        let stream = d
            .console(dom, force)
            .unwrap_or_else(|e| panic!("console of '{}': {e}", dom.name));
        Console::from(stream)
    }

    /// Reads until `needle` appears; returns the text up to and including
    /// it, keeping what follows for the next call.
    #[track_caller]
    pub fn read_until(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.pending.find(needle) {
                let end = i + needle.len();
                let head = self.pending[..end].to_string();
                self.pending.drain(..end);
                return head;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no '{needle}' on the console within {timeout:?}; transcript:\n{}",
                self.transcript
            );
            let chunk = self
                .stream
                .read(left.min(Duration::from_secs(1)))
                .unwrap_or_else(|e| panic!("console read: {e}\ntranscript:\n{}", self.transcript));
            let text = String::from_utf8_lossy(&chunk);
            self.pending.push_str(&text);
            self.transcript.push_str(&text);
        }
    }

    /// Waits for the guest to be ready: its marker, or its prompt (which
    /// only follows the marker). After 5 s of silence it sends Enter, so
    /// a console opened after the marker went by still sees a prompt.
    #[track_caller]
    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + BOOT;
        loop {
            for needle in [READY, PROMPT] {
                if self.pending.contains(needle) {
                    self.read_until(needle, Duration::ZERO);
                    return;
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the guest was not ready within {BOOT:?}; transcript:\n{}",
                self.transcript
            );
            let chunk = self
                .stream
                .read(left.min(Duration::from_secs(5)))
                .unwrap_or_else(|e| panic!("console read: {e}\ntranscript:\n{}", self.transcript));
            if chunk.is_empty() {
                self.write("\n");
            }
            let text = String::from_utf8_lossy(&chunk);
            self.pending.push_str(&text);
            self.transcript.push_str(&text);
        }
    }

    /// Sends `text` to the guest.
    pub fn write(&mut self, text: &str) {
        self.stream
            .write(text.as_bytes())
            .unwrap_or_else(|e| panic!("console write: {e}"));
    }

    /// Runs `echo` of a marker split by quotes (so the typed command line
    /// echoed back does not match) and waits for the marker.
    #[track_caller]
    pub fn echo_roundtrip(&mut self, word: &str) {
        let (a, b) = word.split_at(word.len() / 2);
        self.write(&format!("echo {a}''{b}\n"));
        self.read_until(word, QUICK);
    }

    /// The raw stream, to check its errors.
    pub fn stream(&mut self) -> &mut dyn ConsoleStream {
        &mut *self.stream
    }
}

impl From<Box<dyn ConsoleStream>> for Console {
    fn from(stream: Box<dyn ConsoleStream>) -> Console {
        Console {
            stream,
            pending: String::new(),
            transcript: String::new(),
        }
    }
}

/// Starts the Linux guest `vm` (defined) and waits on its console until it
/// is ready; returns the running handle and the console (still held).
pub fn boot_guest(d: &dyn Driver, vm: &Vm) -> (Domain, Console) {
    let dom = define_and_start(d, vm);
    let mut console = Console::open(d, &dom, false);
    console.wait_ready();
    (dom, console)
}

/// The directory of the Linux test guest, built (or found up to date) by
/// `tests/guest/build-guest.sh` once per test process.
pub fn guest_dir() -> PathBuf {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(build_guest)
        .clone()
        .unwrap_or_else(|e| panic!("the Linux test guest is not available: {e}"))
}

/// Runs the guest build script; its last stdout line is the directory.
fn build_guest() -> Result<PathBuf, String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/guest/build-guest.sh");
    let out = std::process::Command::new(&script)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}):\n{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let dir = PathBuf::from(stdout.lines().last().unwrap_or("").trim());
    for f in ["vmlinux", "initrd.img"] {
        if !dir.join(f).is_file() {
            return Err(format!(
                "{} did not produce {f} in {}",
                script.display(),
                dir.display()
            ));
        }
    }
    Ok(dir)
}

/// Checks that a start of domain `name` that failed left nothing behind:
/// shut off with reason `failed`, no id, nothing active, no QEMU under the
/// state directory, no runtime directory.
pub fn assert_failed_start_left_nothing(cx: &Ctx<'_>, dom: &Domain, name: &str) {
    let d = cx.d();
    let i = info(d, dom);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Shutoff, StateReason::Failed)
    );
    assert_eq!(d.lookup_by_name(name).unwrap().id, None);
    assert!(d.list(ListFilter::ACTIVE).unwrap().is_empty());
    assert_eq!(
        processes_under(cx.root()),
        Vec::<i32>::new(),
        "no QEMU left"
    );
    assert!(!cx.run_dir(name).exists(), "no runtime dir left");
}
