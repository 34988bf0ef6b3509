//! The daemon's dispatch under random input: [`fuzz_dispatch`] decodes
//! frames from any bytes, runs each call through [`dispatch`] over
//! [`StubDriver`] (a driver that answers with values, or errors, drawn
//! from the input), and checks what a client would see: every reply the
//! daemon encodes decodes, for that procedure, to the same value; every
//! event and console message survives the wire; and no call a read-only
//! socket admits reaches a driver method that changes anything.
//!
//! Built for the `dispatch` fuzz target (`cfg(fuzzing)`) and for the
//! property tests below (`cfg(test)`); not part of the library otherwise.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use uuid::Uuid;

use super::dispatch::{DriverCalls, Opened};
use super::procedures::{Procedure, dispatch};
use super::wire::{
    Call, Frame, Kind, Reply, StreamMsg, WireEvent, decode_event, decode_stream, encode_event,
    encode_stream,
};
use crate::driver::{
    AddressSource, DomainStats, InterfaceAddresses, IpAddress, KeyCodeset, MetadataKind,
    ModifyFlags,
};
use crate::driver::{
    ConsoleStream, Domain, DomainInfo, DomainState, DomainSummary, Driver, Event, EventKind,
    EventStream, JobInfo, ListFilter, MediaChange, MediaFlags, NodeInfo, SaveOptions,
    ShutdownOptions, StartFlags, StateReason, VersionInfo, XmlFlags,
};
use crate::driver::{IncomingParams, IncomingReady, IncomingState, MigrateOptions};
use crate::error::{Error, ErrorCode, Result};

/// Whether `method` (as [`StubDriver`] names it) is the method of a
/// procedure the table allows on a read-only connection.
fn is_query(method: &str) -> bool {
    Procedure::ALL
        .iter()
        .any(|p| p.read_only() && p.method() == method)
}

/// A driver whose every answer comes from `seed`: a value built from its
/// bytes (strings, numbers, states, UUIDs), or an error with any code and
/// message. It records which methods were called.
pub struct StubDriver {
    seed: Vec<u8>,
    called: Mutex<Vec<&'static str>>,
}

impl StubDriver {
    /// A stub answering from `seed`.
    pub fn new(seed: &[u8]) -> StubDriver {
        StubDriver {
            seed: seed.to_vec(),
            called: Mutex::new(Vec::new()),
        }
    }

    /// The methods called so far, in order; clears the record.
    pub fn take_calls(&self) -> Vec<&'static str> {
        std::mem::take(&mut *crate::sys::sync::lock(&self.called))
    }

    /// Byte `i` of the seed (cycling), 0 for an empty seed.
    fn byte(&self, i: usize) -> u8 {
        if self.seed.is_empty() {
            0
        } else {
            self.seed[i % self.seed.len()]
        }
    }

    /// The seed as text, invalid UTF-8 replaced.
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.seed).into_owned()
    }

    /// Records `method`, then fails with a code and message from the seed
    /// when its first byte says so, else gives `value()`.
    fn answer<T>(&self, method: &'static str, value: impl FnOnce() -> T) -> Result<T> {
        self.called
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(method);
        if self.byte(0).is_multiple_of(4) {
            let number = u32::from_le_bytes([self.byte(1), self.byte(2), 0, 0]) % 24;
            return Err(Error::new(ErrorCode::from_number(number), self.text()));
        }
        Ok(value())
    }

    fn uuid(&self) -> Uuid {
        Uuid::from_bytes(std::array::from_fn(|i| self.byte(i + 3)))
    }

    fn domain(&self) -> Domain {
        Domain {
            name: self.text(),
            uuid: self.uuid(),
            id: (self.byte(5) % 2 == 1).then(|| u32::from(self.byte(6)) << 8 | 7),
        }
    }

    fn state(&self, i: usize) -> DomainState {
        use DomainState::*;
        [Running, Paused, Shutoff, Shutdown, Crashed, PmSuspended][usize::from(self.byte(i)) % 6]
    }

    fn reason(&self, i: usize) -> StateReason {
        StateReason::ALL[usize::from(self.byte(i)) % StateReason::ALL.len()]
    }

    fn event(&self, i: usize) -> Event {
        use EventKind::*;
        let kinds = [
            Defined,
            Undefined,
            Started(self.reason(i + 1)),
            Suspended(self.reason(i + 5)),
            Resumed,
            Shutdown,
            Stopped(self.reason(i + 2)),
            Reset,
            TrayMoved {
                alias: "ide0-1-0".into(),
                open: self.byte(i + 3).is_multiple_of(2),
            },
            PmSuspended {
                disk: self.byte(i + 4).is_multiple_of(2),
            },
            BlockThreshold {
                dev: "vda".into(),
                path: None,
                threshold: u64::from(self.byte(i + 4)) << 20,
                excess: u64::from(self.byte(i + 5)),
            },
            BlockJob {
                dev: "vda".into(),
                path: Some("/i/a.qcow2".into()),
                kind: crate::driver::BlockJobKind::Copy,
                status: crate::driver::BlockJobStatus::Ready,
            },
            DeviceAdded {
                alias: "virtio-disk1".into(),
            },
            DeviceRemoved {
                alias: "net1".into(),
            },
            IoError {
                alias: "virtio-disk0".into(),
                path: None,
                action: crate::driver::IoErrorAction::Pause,
                reason: "enospc".into(),
            },
            RtcChange {
                offset: i64::from(self.byte(i + 2)) - 128,
            },
            BalloonChange {
                actual_kib: u64::from(self.byte(i + 3)) << 10,
            },
            AgentLifecycle {
                connected: self.byte(i + 4).is_multiple_of(2),
            },
            MetadataChange(crate::driver::MetadataKind::Title),
            Watchdog {
                action: crate::driver::WatchdogFired::ALL[usize::from(self.byte(i + 6)) % 7],
            },
            MigrationIteration {
                iteration: u32::from(self.byte(i + 7)),
            },
            DiskChange {
                alias: "ide0-1-0".into(),
                old_path: Some("/gone.iso".into()),
                new_path: None,
                dropped: self.byte(i + 9).is_multiple_of(2),
            },
            MemoryDeviceSizeChange {
                alias: "virtiomem0".into(),
                size_kib: u64::from(self.byte(i + 8)) << 11,
            },
            JobCompleted(Box::new(crate::driver::CompletedJob::new(
                crate::driver::JobOutcome::Completed,
                crate::driver::JobInfo::new(crate::driver::JobKind::Migration),
                None,
            ))),
            Tunable(vec![(
                "cputune.emulatorpin".into(),
                crate::driver::TunableValue::Text("0".into()),
            )]),
            Graphics(Box::new(crate::driver::GraphicsEvent {
                phase: crate::driver::GraphicsPhase::Initialize,
                local: crate::driver::GraphicsAddress::new(
                    crate::driver::AddressFamily::Ipv4,
                    "127.0.0.1",
                    "5900",
                ),
                remote: crate::driver::GraphicsAddress::new(
                    crate::driver::AddressFamily::Ipv6,
                    "::1",
                    "40000",
                ),
                auth: "vnc".into(),
                subject: vec![("saslUsername".into(), "u".into())],
            })),
        ];
        let n = usize::from(self.byte(i)) % kinds.len();
        Event {
            domain: self.domain(),
            kind: kinds.into_iter().nth(n).unwrap_or(Reset),
        }
    }
}

/// The stub's event stream: a few events from the seed, then nothing.
struct StubEvents {
    events: Vec<Event>,
}

impl EventStream for StubEvents {
    fn next(&mut self, _timeout: Duration) -> Result<Option<Event>> {
        Ok(self.events.pop())
    }
}

/// The stub's console: the seed as output, any input taken.
struct StubConsole {
    output: Vec<u8>,
}

impl ConsoleStream for StubConsole {
    fn read(&mut self, _timeout: Duration) -> Result<Vec<u8>> {
        Ok(std::mem::take(&mut self.output))
    }

    fn write(&mut self, _data: &[u8]) -> Result<()> {
        Ok(())
    }
}

impl Driver for StubDriver {
    fn uri(&self) -> String {
        "stub:///".to_string()
    }

    fn version(&self) -> Result<VersionInfo> {
        self.answer("version", || VersionInfo {
            library: self.text(),
            hypervisor: self.text(),
        })
    }

    fn node_info(&self) -> Result<NodeInfo> {
        self.answer("node_info", || NodeInfo {
            arch: self.text(),
            memory_kib: u64::from(self.byte(7)) << 40,
            cpus: u32::from(self.byte(8)),
            mhz: u32::from(self.byte(9)) << 24,
        })
    }

    fn capabilities(&self) -> Result<String> {
        self.answer("capabilities", || self.text())
    }

    fn list(&self, _filter: ListFilter) -> Result<Vec<DomainSummary>> {
        self.answer("list", || {
            (0..usize::from(self.byte(10)) % 4)
                .map(|i| DomainSummary {
                    domain: self.domain(),
                    state: self.state(11 + i),
                })
                .collect()
        })
    }

    fn lookup_by_name(&self, _name: &str) -> Result<Domain> {
        self.answer("lookup_by_name", || self.domain())
    }

    fn lookup_by_uuid(&self, _uuid: Uuid) -> Result<Domain> {
        self.answer("lookup_by_uuid", || self.domain())
    }

    fn lookup_by_id(&self, _id: u32) -> Result<Domain> {
        self.answer("lookup_by_id", || self.domain())
    }

    fn define_xml(&self, _xml: &str) -> Result<Domain> {
        self.answer("define_xml", || self.domain())
    }

    fn undefine(&self, _dom: &Domain) -> Result<()> {
        self.answer("undefine", || ())
    }

    fn create_xml(&self, _xml: &str) -> Result<Domain> {
        self.answer("create_xml", || self.domain())
    }

    fn start(&self, _dom: &Domain) -> Result<Domain> {
        self.answer("start", || self.domain())
    }

    fn start_paused(&self, _dom: &Domain) -> Result<Domain> {
        self.answer("start_paused", || self.domain())
    }

    fn start_with(&self, _dom: &Domain, _flags: StartFlags) -> Result<Domain> {
        self.answer("start_with", || self.domain())
    }

    fn set_metadata(
        &self,
        _dom: &Domain,
        _kind: &MetadataKind,
        _value: Option<&str>,
        _flags: ModifyFlags,
    ) -> Result<()> {
        self.answer("set_metadata", || ())
    }

    fn metadata(
        &self,
        _dom: &Domain,
        _kind: &MetadataKind,
        _inactive: bool,
    ) -> Result<Option<String>> {
        self.answer("metadata", || {
            Some(String::from_utf8_lossy(&self.seed).into_owned())
        })
    }

    fn interface_addresses(
        &self,
        _dom: &Domain,
        _source: AddressSource,
    ) -> Result<Vec<InterfaceAddresses>> {
        self.answer("interface_addresses", || {
            vec![InterfaceAddresses::new(
                "vnet0".into(),
                String::from_utf8_lossy(&self.seed).into_owned(),
                vec![IpAddress::new(false, "10.0.3.11".into(), 24)],
            )]
        })
    }

    fn send_key(
        &self,
        _dom: &Domain,
        _codeset: KeyCodeset,
        _hold_ms: u32,
        _keys: &[u32],
    ) -> Result<()> {
        self.answer("send_key", || ())
    }

    fn agent_call(
        &self,
        _dom: &Domain,
        _call: crate::driver::AgentCall,
    ) -> Result<crate::driver::AgentAnswer> {
        self.answer("agent_call", || crate::driver::AgentAnswer::Count(1))
    }

    fn inject_nmi(&self, _dom: &Domain) -> Result<()> {
        self.answer("inject_nmi", || ())
    }

    fn rename(&self, _dom: &Domain, _new_name: &str) -> Result<Domain> {
        self.answer("rename", || self.domain())
    }

    fn shutdown(&self, _dom: &Domain, _options: ShutdownOptions) -> Result<()> {
        self.answer("shutdown", || ())
    }

    fn destroy(&self, _dom: &Domain) -> Result<()> {
        self.answer("destroy", || ())
    }

    fn reboot(&self, _dom: &Domain) -> Result<()> {
        self.answer("reboot", || ())
    }

    fn reset(&self, _dom: &Domain) -> Result<()> {
        self.answer("reset", || ())
    }

    fn suspend(&self, _dom: &Domain) -> Result<()> {
        self.answer("suspend", || ())
    }

    fn resume(&self, _dom: &Domain) -> Result<()> {
        self.answer("resume", || ())
    }

    fn save_with(&self, _dom: &Domain, _path: &Path, _options: SaveOptions) -> Result<()> {
        self.answer("save", || ())
    }

    fn restore(&self, _path: &Path) -> Result<Domain> {
        self.answer("restore", || self.domain())
    }

    fn managed_save_with(&self, _dom: &Domain, _options: SaveOptions) -> Result<()> {
        self.answer("managed_save", || ())
    }

    fn migrate(&self, _dom: &Domain, _dest_uri: &str, _options: MigrateOptions) -> Result<()> {
        self.answer("migrate", || ())
    }

    fn migrate_perform(&self, _dom: &Domain, _uri: &str, _options: MigrateOptions) -> Result<()> {
        self.answer("migrate_perform", || ())
    }

    fn migrate_confirm(
        &self,
        _dom: &Domain,
        _how: crate::driver::Confirmation,
        _undefine_source: bool,
    ) -> Result<()> {
        self.answer("migrate_confirm", || ())
    }

    fn migrate_incoming(&self, _params: IncomingParams) -> Result<IncomingReady> {
        self.answer("migrate_incoming", || IncomingReady::new(49152, None))
    }

    fn migrate_finish(
        &self,
        uuid: Uuid,
        _resume: bool,
        _persistent_xml: Option<String>,
    ) -> Result<Domain> {
        self.answer("migrate_finish", || Domain {
            name: "migrated".into(),
            uuid,
            id: Some(1),
        })
    }

    fn migrate_abort_incoming(&self, _uuid: Uuid) -> Result<()> {
        self.answer("migrate_abort_incoming", || ())
    }

    fn migrate_incoming_state(&self, _uuid: Uuid) -> Result<IncomingState> {
        self.answer("migrate_incoming_state", || IncomingState::Owned)
    }

    fn job_info(&self, _dom: &Domain) -> Result<Option<JobInfo>> {
        self.answer("job_info", || None)
    }

    fn job_completed(&self, _dom: &Domain) -> Result<Option<crate::driver::CompletedJob>> {
        self.answer("job_completed", || None)
    }

    fn job_abort(&self, _dom: &Domain) -> Result<()> {
        self.answer("job_abort", || ())
    }

    fn managed_save_remove(&self, _dom: &Domain) -> Result<()> {
        self.answer("managed_save_remove", || ())
    }

    fn autostart(&self, _dom: &Domain) -> Result<bool> {
        self.answer("autostart", || self.byte(12) % 2 == 1)
    }

    fn set_autostart(&self, _dom: &Domain, _on: bool) -> Result<()> {
        self.answer("set_autostart", || ())
    }

    fn info(&self, _dom: &Domain) -> Result<DomainInfo> {
        self.answer("info", || DomainInfo {
            state: self.state(13),
            reason: self.reason(14),
            max_memory_kib: u64::from(self.byte(15)) << 50,
            memory_kib: u64::from(self.byte(16)),
            vcpus: u32::from(self.byte(17)) << 16,
            cpu_time_ns: u64::MAX - u64::from(self.byte(18)),
            persistent: self.byte(19) % 2 == 1,
            autostart: self.byte(20) % 2 == 1,
            managed_save: self.byte(21) % 2 == 1,
        })
    }

    fn xml_desc(&self, _dom: &Domain, _flags: XmlFlags) -> Result<String> {
        self.answer("xml_desc", || self.text())
    }

    fn events(&self) -> Result<Box<dyn EventStream>> {
        self.answer("events", || {
            let events = (0..usize::from(self.byte(22)) % 4)
                .map(|i| self.event(23 + i))
                .collect();
            Box::new(StubEvents { events }) as Box<dyn EventStream>
        })
    }

    fn console(&self, _dom: &Domain, _force: bool) -> Result<Box<dyn ConsoleStream>> {
        self.answer("console", || {
            Box::new(StubConsole {
                output: self.seed.clone(),
            }) as Box<dyn ConsoleStream>
        })
    }

    fn change_media(
        &self,
        _dom: &Domain,
        _target: &str,
        _change: MediaChange,
        _flags: MediaFlags,
    ) -> Result<()> {
        self.answer("change_media", || ())
    }

    fn screenshot(&self, _dom: &Domain) -> Result<Vec<u8>> {
        self.answer("screenshot", || self.seed.clone())
    }

    fn set_memory(&self, _dom: &Domain, _kib: u64, _flags: ModifyFlags) -> Result<()> {
        self.answer("set_memory", || ())
    }

    fn set_max_memory(&self, _dom: &Domain, _kib: u64, _flags: ModifyFlags) -> Result<()> {
        self.answer("set_max_memory", || ())
    }

    fn set_vcpus(&self, _dom: &Domain, _count: u32, _flags: ModifyFlags) -> Result<()> {
        self.answer("set_vcpus", || ())
    }

    fn set_max_vcpus(&self, _dom: &Domain, _count: u32, _flags: ModifyFlags) -> Result<()> {
        self.answer("set_max_vcpus", || ())
    }

    fn stats(&self, _dom: &Domain) -> Result<DomainStats> {
        self.answer("stats", || {
            let mut s = DomainStats::new(DomainState::Running, StateReason::Booted);
            s.cpu_time_ns = self.seed.len() as u64;
            s
        })
    }

    fn qemu_monitor_command(&self, _dom: &Domain, _command: &str) -> Result<String> {
        self.answer("qemu_monitor_command", || {
            String::from_utf8_lossy(&self.seed).into_owned()
        })
    }

    fn attach_device(&self, _dom: &Domain, _xml: &str, _flags: ModifyFlags) -> Result<()> {
        self.answer("attach_device", || ())
    }

    fn detach_device(&self, _dom: &Domain, _xml: &str, _flags: ModifyFlags) -> Result<()> {
        self.answer("detach_device", || ())
    }

    fn detach_device_alias(&self, _dom: &Domain, _alias: &str, _flags: ModifyFlags) -> Result<()> {
        self.answer("detach_device_alias", || ())
    }

    fn update_device(&self, _dom: &Domain, _xml: &str, _flags: ModifyFlags) -> Result<()> {
        self.answer("update_device", || ())
    }

    fn pin_cpus(
        &self,
        _dom: &Domain,
        _target: crate::driver::PinTarget,
        _cpus: &[u32],
        _flags: ModifyFlags,
    ) -> Result<()> {
        self.answer("pin_cpus", || ())
    }

    fn messages(&self, _dom: &Domain) -> Result<Vec<String>> {
        self.answer("messages", || {
            vec![String::from_utf8_lossy(&self.seed).into_owned()]
        })
    }
}

/// Asserts that `result`, encoded as the daemon sends it, decodes as the
/// reply to `procedure` to the same value (an error to the same code and
/// message).
fn assert_reply_survives(procedure: u32, result: &Result<Reply>) {
    let body = Reply::encode(result);
    let decoded = Reply::decode(procedure, &body)
        .unwrap_or_else(|e| panic!("the reply to procedure {procedure} does not decode: {e}"));
    match (result, decoded) {
        (Ok(sent), Ok(got)) => assert_eq!(*sent, got, "procedure {procedure}"),
        (Err(sent), Err(got)) => {
            assert_eq!((sent.code, &sent.message), (got.code, &got.message));
        }
        (sent, got) => panic!("procedure {procedure}: sent {sent:?}, decoded {got:?}"),
    }
}

/// The fuzzing entry point for the daemon's dispatch. The first byte's
/// low six bits give the length of the stub's seed, which follows; the
/// rest is frames, each decoded and, when it is a call, dispatched (see
/// the module's documentation for what is checked).
pub fn fuzz_dispatch(data: &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (seed, mut frames) = rest.split_at(usize::from(n & 63).min(rest.len()));
    let driver = StubDriver::new(seed);
    while let Ok((frame, used)) = Frame::decode(frames) {
        frames = &frames[used..];
        let h = frame.header;
        if h.kind != Kind::Call {
            continue;
        }
        let Ok(call) = Call::decode(h.procedure, &frame.body) else {
            continue;
        };
        let read_only = call.read_only_refusal().is_none();
        let mut calls = DriverCalls::new(&driver);
        let result = dispatch(&mut calls, call);
        let called = driver.take_calls();
        if read_only {
            for method in &called {
                assert!(
                    is_query(method),
                    "procedure {} is admitted on a read-only socket, but calls {method}",
                    h.procedure
                );
            }
        }
        assert_reply_survives(h.procedure, &result);
        match calls.opened {
            None => {}
            Some(Opened::Events(mut events)) => {
                while let Ok(Some(event)) = events.next(Duration::ZERO) {
                    let event = WireEvent::from(event);
                    let back = decode_event(&encode_event(&event)).expect("an event decodes");
                    assert_eq!(back, event);
                }
            }
            Some(Opened::Console(mut console)) => {
                let data = console.read(Duration::ZERO).expect("the stub's output");
                let msg = StreamMsg::Data(data);
                assert_eq!(decode_stream(&encode_stream(&msg)).expect("decodes"), msg);
            }
            // A domain to destroy when the connection ends: the stub
            // runs none.
            Some(
                Opened::Tied(_)
                | Opened::IncomingLease(_)
                | Opened::AwaitingConfirm(_)
                | Opened::Confirmed(_),
            ) => {}
            // Only libvirt's protocol opens volume streams.
            Some(Opened::Volume(_)) => unreachable!("qvirt's protocol opens no volume stream"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::wire::{
        Header, PROTOCOL_VERSION, WireDomain, WireListFilter, WireMedia, WireMediaFlags,
        WireShutdown,
    };
    use proptest::prelude::*;

    /// One call of every procedure, with arguments from `text` and `n`.
    fn every_call(text: &str, n: u32) -> Vec<Call> {
        let dom = WireDomain {
            name: text.to_string(),
            uuid: Uuid::from_u128(u128::from(n) * 0x1_0001),
            id: (n % 2 == 1).then_some(n),
        };
        let bytes = text.as_bytes().to_vec();
        let flags = WireMediaFlags {
            live: n.is_multiple_of(2),
            config: n.is_multiple_of(3),
        };
        let d = || dom.clone();
        vec![
            Call::Hello(n),
            Call::Version(()),
            Call::NodeInfo(()),
            Call::Capabilities(()),
            Call::List(WireListFilter {
                active: n.is_multiple_of(2),
                inactive: n.is_multiple_of(3),
            }),
            Call::LookupByName(text.to_string()),
            Call::LookupByUuid(dom.uuid),
            Call::LookupById(n),
            Call::DefineXml(text.to_string()),
            Call::Undefine(d()),
            Call::CreateXml(text.to_string()),
            Call::Start(d()),
            Call::StartWith((d(), n)),
            Call::Shutdown((
                d(),
                WireShutdown {
                    wait: Some(Duration::from_millis(u64::from(n))),
                    destroy_on_timeout: n.is_multiple_of(2),
                },
            )),
            Call::Destroy(d()),
            Call::Reboot(d()),
            Call::Reset(d()),
            Call::Suspend(d()),
            Call::Resume(d()),
            Call::Save((d(), bytes.clone())),
            Call::Restore(bytes.clone()),
            Call::ManagedSave(d()),
            Call::ManagedSaveRemove(d()),
            Call::Autostart(d()),
            Call::SetAutostart((d(), n.is_multiple_of(2))),
            Call::Info(d()),
            Call::XmlDesc((d(), n % 4)),
            Call::Events(()),
            Call::Console((d(), n.is_multiple_of(2))),
            Call::ChangeMedia((d(), text.to_string(), WireMedia::Eject, flags)),
            Call::ChangeMedia((
                d(),
                text.to_string(),
                WireMedia::Insert(bytes.clone()),
                flags,
            )),
            Call::ChangeMedia((d(), text.to_string(), WireMedia::Update(bytes), flags)),
            Call::Screenshot(d()),
        ]
    }

    /// A fuzz input: the seed, then `calls` as frames.
    fn input(seed: &[u8], calls: &[Call]) -> Vec<u8> {
        let seed = &seed[..seed.len().min(63)];
        let mut data = vec![seed.len() as u8];
        data.extend_from_slice(seed);
        for (serial, call) in calls.iter().enumerate() {
            let (procedure, body) = call.encode();
            let frame = Frame {
                header: Header {
                    version: PROTOCOL_VERSION,
                    kind: Kind::Call,
                    procedure,
                    serial: serial as u32,
                },
                body,
            };
            data.extend_from_slice(&frame.encode());
        }
        data
    }

    #[test]
    fn every_procedure_with_every_kind_of_answer() {
        // The first seed byte picks an error (0 mod 4) or a value.
        for first in 0..8u8 {
            for text in ["", "fw", "名前\u{0}\n'\"<&>", &"x".repeat(300)] {
                let mut seed = vec![first];
                seed.extend_from_slice(text.as_bytes());
                fuzz_dispatch(&input(&seed, &every_call(text, u32::from(first) * 977)));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_bytes_dispatch_without_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            fuzz_dispatch(&data);
        }

        #[test]
        fn any_valid_calls_survive_the_round_trip(
            seed in proptest::collection::vec(any::<u8>(), 0..64),
            text in ".{0,40}",
            n in any::<u32>(),
            pick in proptest::collection::vec(any::<proptest::sample::Index>(), 1..12),
        ) {
            let all = every_call(&text, n);
            let calls: Vec<Call> = pick.iter().map(|i| all[i.index(all.len())].clone()).collect();
            fuzz_dispatch(&input(&seed, &calls));
        }
    }
}
