//! `qvirt`: the virsh-like command line of qvirt.
//!
//! Parses the verb, opens the connection (`-c URI`, else
//! `QVIRT_DEFAULT_URI`, else [`qvirt::default_uri`]) and calls the
//! [`Driver`] API; output follows virsh's shapes. Every failure prints one
//! `error: MESSAGE` on stderr and exits with status 1.
//!
//! Depends only on the library's public API.

mod agent;
mod args;
mod changes;
mod console;
mod devices;
mod domquery;
mod edit;
mod event;
mod guestpm;
mod hotplug;
mod iotune;
mod jobs;
mod lifecycle;
mod migtune;
mod native;
mod notes;
mod output;
mod query;
mod resources;
mod secrets;
mod snapshots;
mod storage;
mod tune;
mod xpath;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use qvirt::driver::XmlFlags;
use qvirt::{Domain, Driver, Error, ErrorCode, Result};
use uuid::Uuid;

use args::{Cli, Command};

/// What a verb needs: the URI and, once opened, the driver.
pub struct Ctx {
    /// The URI in use, as the user gave it (or the default).
    pub uri: String,
    /// `--verbose`.
    pub verbose: bool,
    driver: Option<Box<dyn Driver>>,
}

impl Ctx {
    /// The driver, opened on first use (some verbs never open it).
    pub fn driver(&mut self) -> Result<&dyn Driver> {
        if self.driver.is_none() {
            self.driver = Some(qvirt::connect(&self.uri)?);
        }
        Ok(self.driver.as_deref().expect("opened above"))
    }

    /// Finds a domain the way virsh does: an all-digit string is a running
    /// id, a UUID is a UUID, and either falls back to a name; anything else
    /// is a name.
    pub fn domain(&mut self, arg: &str) -> Result<Domain> {
        let driver = self.driver()?;
        let first = if !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit()) {
            arg.parse::<u32>().ok().map(|id| driver.lookup_by_id(id))
        } else {
            Uuid::parse_str(arg)
                .ok()
                .map(|uuid| driver.lookup_by_uuid(uuid))
        };
        match first {
            Some(Ok(dom)) => Ok(dom),
            Some(Err(e)) if e.code != ErrorCode::NoDomain => Err(e),
            _ => driver.lookup_by_name(arg),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => ExitCode::FAILURE,
            };
            // clap's own text already starts with "error: " for errors.
            let _ = e.print();
            return code;
        }
    };
    // The console must restore the terminal whatever happens, so signals
    // that would kill the process are blocked here, before any thread
    // exists, and read from a signalfd by the console loop instead.
    let signals = match &cli.command {
        Command::Console { .. } | Command::Start { console: true, .. }
            if std::io::stdin().is_terminal() =>
        {
            match console::block_signals() {
                Ok(fd) => Some(fd),
                Err(e) => return fail(&e, &[]),
            }
        }
        _ => None,
    };
    let uri = cli.connect.clone().unwrap_or_else(qvirt::default_uri);
    if cli.verbose {
        eprintln!("using URI {uri}");
    }
    let mut ctx = Ctx {
        uri,
        verbose: cli.verbose,
        driver: None,
    };
    let result = run(&mut ctx, cli.command, signals);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let connected = ctx.driver.as_ref().map(|d| d.uri());
            let given = ctx.uri.clone();
            // Close the connection before printing, like a normal exit.
            drop(ctx);
            let mut uris = vec![given.as_str()];
            uris.extend(connected.as_deref());
            fail(&e, &uris)
        }
    }
}

/// Prints `error: MESSAGE` and returns the failure status. A `NoDomain`
/// error always ends by naming the URI it looked in: `uris` are the
/// spellings that count (the one given, the one the driver reports); the
/// first is appended when the message names none.
fn fail(e: &Error, uris: &[&str]) -> ExitCode {
    let mut message = e.to_string();
    if e.code == ErrorCode::NoDomain
        && let Some(first) = uris.first()
        && !uris.iter().any(|u| message.contains(u))
    {
        message = format!("{message} (connected to {first})");
    }
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// The console devices there are: the first serial port, by virsh's
/// names for it.
fn check_devname(devname: Option<&str>) -> Result<()> {
    match devname {
        None | Some("serial0") | Some("console0") => Ok(()),
        Some(other) => Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "console device '{other}' is not offered: qvirt connects the first serial port (serial0, also console0)"
            ),
        )),
    }
}

/// Runs one verb.
fn run(ctx: &mut Ctx, command: Command, signals: Option<console::Signals>) -> Result<()> {
    match command {
        Command::Storage(c) => storage::run(ctx, c),
        Command::Snapshot(c) => snapshots::run(ctx, c),
        Command::Secret(c) => secrets::run(ctx, c),
        Command::Agent(c) => agent::run(ctx, c),
        Command::GuestPm(c) => guestpm::run(ctx, c),
        Command::Tune(c) => tune::run(ctx, c),
        Command::Change(c) => changes::run(ctx, c),
        Command::MigTune(c) => migtune::run(ctx, c),
        Command::List(args) => query::list(ctx, &args),
        Command::Edit(d) => edit::run(ctx, &d.domain),
        Command::SetMem { dom, size, at } => resources::setmem(
            ctx,
            &dom.domain,
            &size,
            resources::modify_flags(at.live, at.config, at.current)?,
        ),
        Command::SetMaxMem { dom, size, at } => resources::setmaxmem(
            ctx,
            &dom.domain,
            &size,
            resources::modify_flags(at.live, at.config, at.current)?,
        ),
        Command::SetVcpus {
            dom,
            count,
            maximum,
            at,
        } => resources::setvcpus(
            ctx,
            &dom.domain,
            count,
            maximum,
            resources::modify_flags(at.live, at.config, at.current)?,
        ),
        Command::SetVcpu {
            dom,
            vcpulist,
            enable,
            at,
            ..
        } => resources::setvcpu(
            ctx,
            &dom.domain,
            &vcpulist,
            enable,
            resources::modify_flags(at.live, at.config, at.current)?,
        ),
        Command::DomMemStat {
            dom,
            json,
            period: Some(seconds),
            at,
        } if !json => resources::set_stats_period(
            ctx,
            &dom.domain,
            seconds,
            resources::modify_flags(at.live, at.config, at.current)?,
        ),
        Command::DomMemStat {
            dom,
            json,
            period: None,
            at,
        } if !(at.live || at.config || at.current) => resources::dommemstat(ctx, &dom.domain, json),
        Command::DomMemStat { .. } => Err(qvirt::Error::new(
            qvirt::ErrorCode::InvalidArgument,
            "dommemstat: --live, --config and --current go with --period, and --json without it",
        )),
        Command::DomStats {
            domains,
            state,
            cpu_total,
            balloon,
            vcpu,
            interface,
            block,
            json,
        } => resources::domstats(
            ctx,
            &domains,
            resources::Groups {
                state,
                cpu_total,
                balloon,
                vcpu,
                interface,
                block,
            },
            json,
        ),
        Command::DomBlkStat { dom, device, json } => {
            resources::domblkstat(ctx, &dom.domain, device.as_deref(), json)
        }
        Command::DomBlkInfo { dom, device, json } => {
            resources::domblkinfo(ctx, &dom.domain, &device, json)
        }
        Command::DomIfStat {
            dom,
            interface,
            json,
        } => resources::domifstat(ctx, &dom.domain, &interface, json),
        Command::CpuStats { dom, json } => resources::cpu_stats(ctx, &dom.domain, json),
        Command::QemuMonitor {
            dom,
            command,
            pretty,
        } => resources::qemu_monitor_command(ctx, &dom.domain, &command, pretty),
        Command::DomDisplay(d) => query::domdisplay(ctx, &d.domain, d.kind.as_deref()),
        Command::AttachDisk(a) => hotplug::attach_disk(ctx, a),
        Command::DetachDisk(a) => hotplug::detach_disk(ctx, a),
        Command::AttachInterface(a) => hotplug::attach_interface(ctx, a),
        Command::DetachInterface(a) => hotplug::detach_interface(ctx, a),
        Command::AttachDevice(a) => hotplug::attach_device(ctx, a),
        Command::DetachDevice(a) => hotplug::detach_device(ctx, a),
        Command::DetachDeviceAlias(a) => hotplug::detach_device_alias(ctx, a),
        Command::UpdateDevice(a) => hotplug::update_device(ctx, a),
        Command::UpdateMemoryDevice(a) => devices::update_memory_device(ctx, a),
        Command::InjectNmi(dom) => notes::inject_nmi(ctx, &dom.domain),
        Command::SendKey {
            dom,
            codeset,
            holdtime,
            keys,
        } => notes::send_key(ctx, &dom.domain, &codeset, holdtime, &keys),
        Command::Desc {
            dom,
            at,
            title,
            edit,
            new_desc,
        } => notes::desc(ctx, &dom.domain, &at, title, edit, new_desc),
        Command::Metadata {
            dom,
            uri,
            at,
            key,
            edit,
            set,
            remove,
        } => notes::metadata(ctx, &dom.domain, &at, uri, key, edit, set, remove),
        Command::DomRename { dom, new_name } => {
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?.rename(&d, &new_name)?;
            outln!("Domain successfully renamed")
        }
        Command::DomInfo { dom, json } => query::dominfo(ctx, &dom.domain, json),
        Command::Save {
            dom,
            file,
            bandwidth,
            state,
            xml,
        } => jobs::save(ctx, &dom.domain, &file, bandwidth, state, xml.as_deref()),
        Command::Dump {
            dom,
            file,
            live,
            crash,
            reset,
            memory_only,
            format,
        } => {
            let mut o = qvirt::driver::DumpOptions::default();
            (o.live, o.crash, o.reset, o.memory_only) = (live, crash, reset, memory_only);
            if let Some(f) = format {
                o.format = qvirt::driver::DumpFormat::from_name(&f).ok_or_else(|| {
                    Error::new(
                        ErrorCode::InvalidArgument,
                        format!("unknown dump format '{f}'"),
                    )
                })?;
            }
            jobs::dump(ctx, &dom.domain, &file, o)
        }
        Command::ManagedSave {
            dom,
            bandwidth,
            state,
        } => jobs::managed_save(ctx, &dom.domain, bandwidth, state),
        Command::DomJobInfo {
            dom,
            completed,
            json,
        } => jobs::domjobinfo(ctx, &dom.domain, completed, json),
        Command::DomJobAbort(d) => jobs::domjobabort(ctx, &d.domain),
        Command::Migrate {
            live,
            persistent,
            undefine_source,
            copy_storage_all,
            migrateuri,
            xml,
            bandwidth,
            timeout,
            timeout_suspend: _,
            timeout_postcopy,
            postcopy,
            dom,
            dest,
        } => {
            let mut options = qvirt::driver::MigrateOptions::default();
            options.live = live;
            options.persistent = persistent;
            options.undefine_source = undefine_source;
            options.copy_storage_all = copy_storage_all;
            options.migrate_uri = migrateuri;
            options.dest_xml = xml.map(|f| read_input(&f)).transpose()?;
            options.bandwidth_mib_s = bandwidth;
            options.timeout = timeout.map(std::time::Duration::from_secs);
            options.timeout_postcopy = timeout_postcopy;
            options.postcopy = postcopy;
            // -v/--verbose (global) shows the progress, as virsh's.
            let verbose = ctx.verbose;
            jobs::migrate(ctx, &dom.domain, &dest, options, verbose)
        }
        Command::DomState { dom, reason, json } => query::domstate(ctx, &dom.domain, reason, json),
        Command::DomId(d) => query::domid(ctx, &d.domain),
        Command::DomUuid(d) => query::domuuid(ctx, &d.domain),
        Command::DomName(d) => query::domname(ctx, &d.domain),
        Command::DumpXml {
            dom,
            inactive,
            security_info,
            migratable,
            xpath,
            wrap,
        } => {
            let mut flags = XmlFlags::inactive_if(inactive);
            if security_info {
                flags = flags | XmlFlags::SECURE;
            }
            if migratable {
                flags = flags | XmlFlags::MIGRATABLE;
            }
            query::dumpxml(ctx, &dom.domain, flags, xpath.as_deref(), wrap)
        }
        Command::VncDisplay { dom, json } => query::vncdisplay(ctx, &dom.domain, json),
        Command::VcpuCount { dom, counts } => domquery::vcpucount(ctx, &dom.domain, counts),
        Command::TtyConsole(d) => domquery::ttyconsole(ctx, &d.domain),
        Command::DomControl(d) => domquery::domcontrol(ctx, &d.domain),
        Command::DomIfGetLink {
            dom,
            interface,
            config,
        } => domquery::getlink(ctx, &dom.domain, &interface, config),
        Command::DomIfSetLink {
            dom,
            interface,
            state,
            config,
        } => domquery::setlink(ctx, &dom.domain, &interface, &state, config),
        Command::MaxVcpus { virttype } => domquery::maxvcpus(ctx, virttype),
        Command::NodeInfo { json } => query::nodeinfo(ctx, json),
        Command::Version => query::version(ctx),
        Command::Uri => output::write(&format!("{}\n", ctx.uri)),
        Command::Capabilities => query::capabilities(ctx),
        Command::DomCapabilities {
            virttype,
            emulatorbin,
            arch,
            machine,
        } => {
            let q = qvirt::driver::DomainCapsQuery::new(emulatorbin, arch, machine, virttype);
            let mut xml = ctx.driver()?.domain_capabilities(&q)?;
            if !xml.ends_with('\n') {
                xml.push('\n');
            }
            output::write(&xml)
        }
        Command::Console {
            dom,
            force,
            drain_ms,
            answer_timeout,
            devname,
        } => {
            check_devname(devname.as_deref())?;
            console::run(ctx, &dom.domain, force, drain_ms, answer_timeout, signals)
        }
        Command::Start {
            console: true,
            paused,
            autodestroy,
            dom,
        } => {
            let d = ctx.domain(&dom.domain)?;
            let d = ctx
                .driver()?
                .start_with(&d, lifecycle::start_flags(paused, autodestroy))?;
            outln!("Domain '{}' started", d.name)?;
            console::run(ctx, &d.name, false, 1000, 10, signals)
        }
        Command::Event {
            domain,
            event,
            all: _,
            keep,
            timeout,
            json,
        } => event::run(
            ctx,
            event::Options {
                domain,
                event,
                keep,
                timeout,
                json,
            },
        ),
        Command::DomIfList {
            dom,
            inactive,
            json,
        } => devices::domiflist(ctx, &dom.domain, inactive, json),
        Command::DomIfAddr {
            dom,
            interface,
            full,
            source,
            json,
        } => devices::domifaddr(ctx, &dom.domain, interface.as_deref(), full, &source, json),
        Command::DomBlkList {
            dom,
            inactive,
            details,
            json,
        } => devices::domblklist(ctx, &dom.domain, inactive, details, json),
        Command::ChangeMedia {
            dom,
            path,
            source,
            source_flag,
            eject,
            insert,
            update: _,
            live,
            config,
            current: _,
            force: _,
        } => devices::change_media(
            ctx,
            &dom.domain,
            devices::MediaArgs {
                path,
                source: source.or(source_flag),
                eject,
                insert,
                live,
                config,
            },
        ),
        Command::Screenshot {
            dom,
            file,
            file_flag,
        } => devices::screenshot(ctx, &dom.domain, file.or(file_flag)),
        Command::DomXmlToNative { format, file, xml } => {
            let file = file.or(xml).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    "domxml-to-native needs a domain XML file (or - for stdin)",
                )
            })?;
            native::run(ctx, &format, &file)
        }
        other => lifecycle::run(ctx, other),
    }
}

/// Reads a file argument, `-` meaning stdin.
pub fn read_input(path: &std::path::Path) -> Result<String> {
    use std::io::Read;
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::io("cannot read stdin", e))?;
        Ok(text)
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))
    }
}
