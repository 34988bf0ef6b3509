//! The QEMU command line: one pure function, [`build_argv`], from a
//! [`DomainDef`], the probed [`QemuCaps`] and the [`RuntimePaths`] the
//! driver chose, to a `Vec<OsString>` (never a shell string).
//!
//! No I/O, no environment, no clock: the same inputs always give the same
//! arguments, which the golden tests in `tests/argv.rs` pin down.
//!
//! Options use QEMU's `key=value` syntax. Every string taken from the
//! definition that lands inside an option value goes through
//! [`opts::Opts`], which doubles commas, so a path can never add options.
//! Values that are separate arguments (`-kernel`, `-initrd`, `-append`,
//! `-bios`, `-uuid`) are passed as they are: QEMU does not split those.
//!
//! What the driver must do around the command line, because QEMU's options
//! cannot say it (`tuning`, `firmware` and `tpm` beside this module):
//! - graphics `passwd`: the command line only says `password=on` (VNC) or
//!   nothing (SPICE); the driver sets the secret with QMP `set_password`
//!   before `cont`, so it never appears in the process list.
//! - `<memballoon><stats period>`: set at run time with `qom-set` of
//!   `guest-stats-polling-interval` on `/machine/peripheral/balloon0`.
//! - `<currentMemory>` below `<memory>`: a QMP `balloon` after start.
//! - `<vcpu cpuset>`: CPU affinity of QEMU's threads, set by the driver.
//! - `<os firmware>`: the driver picks the firmware from QEMU's firmware
//!   descriptors first (`firmware::resolve`); the command line only takes
//!   a resolved `<loader>`.
//! - `<nvram template>`: the driver copies the template to the store path
//!   before start; the command line only names the store.
//! - `<tpm>` with an emulator backend: the driver runs swtpm on the socket
//!   [`tpm_socket`] names before QEMU starts.
//! - `<launchSecurity type='sev'>`: the driver writes `<dhCert>` and
//!   `<session>` to the files [`sev_dh_cert_file`] and
//!   [`sev_session_file`] name before QEMU starts.
//! - `<clock offset='variable'|'timezone'>`: the guest's start time depends
//!   on when it starts; the driver computes it (`RuntimePaths::clock_base`).
//! - `<on_poweroff>restart</on_poweroff>`: QEMU pauses on guest power-off
//!   (`-no-shutdown`); the driver resets and continues it on `SHUTDOWN`.
//! - bridge and ethernet interfaces: the driver creates the tap device and
//!   names it in `<target dev>` before calling [`build_argv`].
//! - direct interfaces: the driver creates the macvtap device, opens its
//!   character device and passes it to QEMU at the descriptor number
//!   [`RuntimePaths::net_fd_base`] gives it.
//!
//! The accelerator is chosen with `-accel kvm|tcg` (the modern spelling of
//! `-machine accel=`). USB devices without an `<address>` get the first
//! free port here, like PCI devices get a slot.
//!
//! PCI addresses: devices without an `<address>` are given one here, in
//! command-line order, on the root bus (or, for switch ports and bridges,
//! on the bus they must sit on), never on a slot another device names, so
//! the result does not depend on QEMU's own slot picking.

mod boot;
mod chardev;
mod controllers;
mod cpu;
mod devs;
mod disk_net;
mod disk_props;
mod disks;
mod display;
mod extras;
mod hmat;
mod hotplug;
mod machine;
mod memdev;
mod net;
mod opts;
mod passthrough;
mod pci;
mod pci_space;
mod sev;
mod smartcard;
mod sound;
#[cfg(test)]
mod tests;
mod tuning;
mod usb;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorCode};
use crate::model::DomainDef;
use crate::qemu::caps::QemuCaps;

pub use crate::model::utc_datetime;
pub use chardev::{console_id, serial_id};
pub use controllers::channel_sockets;
pub use disk_net::{
    disk_cookie_file, disk_cookie_string, disk_encryption_file, disk_encryption_id,
    disk_secret_file, disk_secret_id,
};
pub(crate) use disk_props::check as check_disk_props;
pub use disk_props::copy_on_read_node;
pub use disks::transient_overlay;
pub use display::{input_id, spice_wants_tls_port};
pub use extras::{rng_ids, tpm_socket, tpm_version, watchdog_id};
pub use hotplug::{
    DeviceArgs, PluggedDevice, channel_id, device_args, fs_id, redir_id, scsi_controller_id,
    scsi_controllers_used, shmem_id, usb_hubs, virtio_console_rank, with_pci_addresses,
};
pub use machine::{NVRAM_STORE_ID, dbus_socket};
pub use memdev::{device_ids as memory_device_ids, hugetlbfs_page_kib, module_kib};
pub(crate) use net::check_guest_ips;
pub use net::{nic_id, passt_socket};
pub use opts::escape;
pub use passthrough::{host_pci_name, shared_memory, virtiofs_socket};
pub use sev::{sev_dh_cert_file, sev_session_file};
pub use tuning::{hugepage_dir, hugepage_size};
pub use usb::usb_controller_id;

/// The first descriptor number the driver hands QEMU the macvtap devices
/// of direct interfaces at ([`RuntimePaths::net_fd_base`]): the first
/// after standard input, output and error.
pub const NET_FD_BASE: i32 = 3;

/// The paths and run-time choices the driver makes before starting a
/// domain, which the definition does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimePaths {
    /// The QMP socket QEMU listens on (`server=on,wait=off`). Must be an
    /// absolute path.
    pub qmp_socket: PathBuf,
    /// The domain's runtime directory, where its sockets live. Must be an
    /// absolute path; nothing in it is named on the command line except
    /// through the other fields.
    pub runtime_dir: PathBuf,
    /// A log file that keeps every serial port's and console's output
    /// (`logfile=...,logappend=on` on each of their chardevs). Default:
    /// `None`, no log.
    pub serial_log: Option<PathBuf>,
    /// The TCP port picked for a VNC display with `autoport` (or no port).
    /// Default: `None`; building the command line for such a display then
    /// fails with [`ErrorCode::InvalidArgument`].
    pub vnc_port: Option<u16>,
    /// The TCP port picked for a VNC WebSocket listener with
    /// `websocket='-1'`. Default: `None`; building the command line for
    /// such a display then fails with [`ErrorCode::InvalidArgument`].
    pub websocket_port: Option<u16>,
    /// The descriptor number QEMU inherits `/dev/vhost-vsock` at, the
    /// guest's CID claimed on it, for a `<vsock>` (after the macvtaps).
    /// Default: `None`; building the command line for a `<vsock>` then
    /// fails with [`ErrorCode::InvalidArgument`].
    pub vsock_fd: Option<i32>,
    /// The UEFI variable store used when `<nvram>` gives only a template,
    /// or when a read-only pflash `<loader>` has no `<nvram>` at all (as
    /// libvirt makes one per domain). Default: `None`: such a loader runs
    /// without a store, and a template-only `<nvram>` is an error.
    pub nvram: Option<PathBuf>,
    /// The moment the guest clock starts at (`YYYY-MM-DDTHH:MM:SS`), for
    /// `<clock offset='variable'>`, `'timezone'`, and utc or localtime
    /// with a numeric `adjustment`: it depends on when the domain starts.
    /// Default: `None`; building the command line for such a clock then
    /// fails with [`ErrorCode::InvalidArgument`].
    pub clock_base: Option<String>,
    /// Start waiting for an incoming migration stream (`-incoming defer`),
    /// which the driver feeds through QMP to restore a saved domain.
    /// Default: `false`.
    pub incoming: bool,
    /// The cancel file of a passed-through host TPM, as libvirt finds it
    /// in sysfs. Default: `None`, `/dev/null` (what libvirt falls back to).
    pub tpm_cancel: Option<PathBuf>,
    /// The directory of the x509 certificates QEMU uses as the client of
    /// an NBD server over TLS (libvirt's `nbd_tls_x509_cert_dir`):
    /// `ca-cert.pem`, and `client-cert.pem` with `client-key.pem` where
    /// the server asks for them. Default: `None`; building the command
    /// line for a disk with `tls='yes'` then fails with
    /// [`ErrorCode::ConfigUnsupported`].
    pub nbd_tls_dir: Option<PathBuf>,
    /// The directory of the x509 certificates QEMU uses for TCP
    /// character devices with `tls='yes'` (libvirt's
    /// `chardev_tls_x509_cert_dir`): `ca-cert.pem`, with
    /// `server-cert.pem` and `server-key.pem` where QEMU listens, and
    /// `client-cert.pem` with `client-key.pem` where it connects to a
    /// server that asks for them. Default: `None`; building the command
    /// line for such a device then fails with
    /// [`ErrorCode::ConfigUnsupported`].
    pub chardev_tls_dir: Option<PathBuf>,
    /// The directory of SPICE's x509 certificates (libvirt's
    /// `spice_tls_x509_cert_dir`): `ca-cert.pem`, `server-cert.pem` and
    /// `server-key.pem`. Set, SPICE's TLS is on (libvirt's `spice_tls`):
    /// a display with autoport gets a TLS port besides its plain one, and
    /// `tlsPort` and secure channels may be asked for. Default: `None`;
    /// a display that needs TLS then fails with
    /// [`ErrorCode::ConfigUnsupported`].
    pub spice_tls_dir: Option<PathBuf>,
    /// The SPICE display's TLS port where it is picked at start (see
    /// [`RuntimePaths::spice_tls_dir`]; `tlsPort='-1'`). Default: `None`;
    /// building the command line for such a display then fails with
    /// [`ErrorCode::InvalidArgument`].
    pub spice_tls_port: Option<u16>,
    /// Where QEMU finds the macvtap devices of direct interfaces (and
    /// the taps of interfaces with `<backend tap>`): the driver opens
    /// each one and hands it to QEMU as an inherited descriptor,
    /// interface `i`'s at number `net_fd_base + i`
    /// (`-netdev tap,fd=N`). Default: `None`; building the command line
    /// for a direct interface then fails with
    /// [`ErrorCode::InvalidArgument`].
    pub net_fd_base: Option<i32>,
}

impl RuntimePaths {
    /// Paths for a domain whose runtime directory is `runtime_dir`: the QMP
    /// socket `qmp.sock` inside it, and every optional field unset.
    pub fn new(runtime_dir: impl Into<PathBuf>) -> RuntimePaths {
        let runtime_dir = runtime_dir.into();
        RuntimePaths {
            qmp_socket: runtime_dir.join("qmp.sock"),
            runtime_dir,
            serial_log: None,
            vnc_port: None,
            websocket_port: None,
            vsock_fd: None,
            nvram: None,
            clock_base: None,
            incoming: false,
            tpm_cancel: None,
            nbd_tls_dir: None,
            chardev_tls_dir: None,
            spice_tls_dir: None,
            spice_tls_port: None,
            net_fd_base: None,
        }
    }

    /// Fixed paths under `dir` with every option filled in (a console log,
    /// VNC port 5900, WebSocket port 5700, an nvram store, a clock that starts at
    /// 2009-02-13T23:31:30, direct interfaces' descriptors from
    /// [`NET_FD_BASE`], NBD's TLS certificates in `pki-nbd`, character
    /// devices' in `pki-chardev`; SPICE's TLS off, as on a host without its
    /// certificates), for tests
    /// and command-line previews.
    pub fn for_test(dir: &str) -> RuntimePaths {
        let dir = Path::new(dir);
        RuntimePaths {
            serial_log: Some(dir.join("console.log")),
            vnc_port: Some(5900),
            websocket_port: Some(5700),
            vsock_fd: Some(NET_FD_BASE + 8),
            nvram: Some(dir.join("VARS.fd")),
            clock_base: Some("2009-02-13T23:31:30".to_string()),
            net_fd_base: Some(NET_FD_BASE),
            nbd_tls_dir: Some(dir.join("pki-nbd")),
            chardev_tls_dir: Some(dir.join("pki-chardev")),
            ..RuntimePaths::new(dir)
        }
    }
}

/// The machine family decides the built-in devices and bus names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// i440FX + PIIX3 (`pc`, `pc-i440fx-*`): root bus `pci.0`, IDE.
    I440fx,
    /// Q35 + ICH9 (`q35`, `pc-q35-*`): root bus `pcie.0`, AHCI.
    Q35,
}

/// The state shared while the command line is built.
pub(crate) struct Ctx<'a> {
    /// The definition.
    pub def: &'a DomainDef,
    /// The driver's paths.
    pub paths: &'a RuntimePaths,
    /// The machine family.
    pub family: Family,
    /// Whether KVM is used.
    pub kvm: bool,
    /// The QEMU release the command line is for.
    pub qemu_version: crate::qemu::caps::QemuVersion,
    /// The arguments so far (the emulator first).
    pub argv: Vec<String>,
    /// PCI buses and the slots given out.
    pub pci: pci::Pci,
    /// USB buses and ports.
    pub usb: usb::Usb,
    /// Controller models that disks need to know.
    pub ctrls: controllers::Plan,
    /// Boot indexes of disks and interfaces.
    pub boot: boot::BootPlan,
}

impl Ctx<'_> {
    /// Appends an option and its value.
    pub fn arg(&mut self, option: &str, value: impl Into<String>) {
        self.argv.push(option.to_string());
        self.argv.push(value.into());
    }

    /// Appends an option that takes no value.
    pub fn flag(&mut self, option: &str) {
        self.argv.push(option.to_string());
    }
}

/// Builds the QEMU command line for `def`: the emulator first, then its
/// arguments. QEMU starts paused (`-S`) with its QMP monitor on
/// `paths.qmp_socket`; the driver continues it with `cont`.
///
/// Errors: [`ErrorCode::ConfigUnsupported`] for anything qvirt cannot
/// express (named in the message; no device is ever dropped),
/// [`ErrorCode::ConfigInvalid`] for contradictions the model's checks do
/// not catch (PCI slot clashes, unsafe strings),
/// [`ErrorCode::NoSupport`] for `<domain type='kvm'>` without KVM, and
/// [`ErrorCode::InvalidArgument`] for missing run-time choices in `paths`.
pub fn build_argv(
    def: &DomainDef,
    caps: &QemuCaps,
    paths: &RuntimePaths,
) -> Result<Vec<OsString>, Error> {
    build_once(def, caps, paths)
}

fn build_once(
    def: &DomainDef,
    caps: &QemuCaps,
    paths: &RuntimePaths,
) -> Result<Vec<OsString>, Error> {
    crate::qemu::validate::validate(def)?;
    let qmp = runtime_path("QMP socket", &paths.qmp_socket)?;
    runtime_path("runtime directory", &paths.runtime_dir)?;
    let emulator = machine::emulator(def, caps)?;
    let (machine_type, family) = machine::machine_type(def, caps)?;
    let kvm = machine::use_kvm(def, caps)?;
    let disks = disks::resolve(def)?;
    let ctrls = controllers::Plan::new(def, family, &disks)?;
    let boot = boot::BootPlan::new(def, &disks)?;
    let usb = usb::Usb::new(def, family)?;
    let pci = pci::Pci::new(def, family, &ctrls, &usb, &disks)?;
    let mut cx = Ctx {
        def,
        paths,
        family,
        kvm,
        qemu_version: caps.version,
        argv: vec![emulator],
        pci,
        usb,
        ctrls,
        boot,
    };
    emit_all(&mut cx, &machine_type, caps, qmp, &disks)?;
    let caps = with_qemu_capabilities(def, caps)?;
    check_devices(&cx.argv, &caps, &def.qemu.caps_del)?;
    tuning::apply_overrides(&mut cx)?;
    tuning::emit_qemu_args(&mut cx)?;
    let argv = tuning::with_env(def, cx.argv)?;
    Ok(argv.into_iter().map(OsString::from).collect())
}

/// The probed capabilities as `<qemu:capabilities>` changes them: each
/// `qemu:add` is a QEMU device type taken as present (when the probe
/// missed it), each `qemu:del` one taken as absent, so that a device of
/// that type is refused. The names are QEMU device types: libvirt's own
/// capability flags have nothing in qvirt to switch and are refused by
/// name; with a probed binary, so is a type it does not have.
fn with_qemu_capabilities(def: &DomainDef, caps: &QemuCaps) -> Result<QemuCaps, Error> {
    let q = &def.qemu;
    let mut caps = caps.clone();
    for name in q.caps_add.iter().chain(&q.caps_del) {
        let shaped = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        let has = caps.devices.as_ref().is_none_or(|d| d.contains(name));
        if !shaped || (!has && q.caps_del.contains(name)) {
            return Err(unsupported(format!(
                "unsupported <qemu:capabilities> capability '{name}': qvirt switches only QEMU device types that {} has",
                caps.emulator.display()
            )));
        }
    }
    if let Some(devices) = &mut caps.devices {
        devices.extend(q.caps_add.iter().cloned());
    }
    Ok(caps)
}

/// Devices that need another device type the binary may lack (QEMU
/// builds it in from a module), with the Debian package that has it.
const NEEDS: &[(&str, &str, &str)] = &[
    ("virtio-vga-gl", "virtio-gpu-gl-device", "qemu-system-gui"),
    (
        "virtio-gpu-gl-pci",
        "virtio-gpu-gl-device",
        "qemu-system-gui",
    ),
];

/// Device names QEMU takes for another type (its qdev alias table), as
/// libvirt writes them.
const ALIASES: &[(&str, &str)] = &[("lsi", "lsi53c895a"), ("virtio-iommu", "virtio-iommu-pci")];

/// Every `-device` of the command line is one the binary has, when its
/// device types were probed: QEMU would otherwise refuse to start, with
/// less to say about why.
fn check_devices(argv: &[String], caps: &QemuCaps, denied: &[String]) -> Result<(), Error> {
    let drivers = argv
        .windows(2)
        .filter(|w| w[0] == "-device")
        .map(|w| w[1].split(',').next().unwrap_or_default());
    for driver in drivers.clone() {
        if denied.iter().any(|d| d == driver) {
            return Err(unsupported(format!(
                "the domain needs the QEMU device '{driver}', which its <qemu:capabilities> takes away (qemu:del)"
            )));
        }
    }
    let Some(types) = &caps.devices else {
        return Ok(());
    };
    for driver in drivers {
        let needed = NEEDS
            .iter()
            .filter(|(d, _, _)| *d == driver)
            .map(|(_, t, pkg)| (*t, Some(*pkg)));
        let own = ALIASES
            .iter()
            .find(|(alias, _)| *alias == driver)
            .map_or(driver, |(_, ty)| *ty);
        for (ty, package) in std::iter::once((own, None)).chain(needed) {
            if !types.contains(ty) {
                let emulator = caps.emulator.display();
                return Err(unsupported(match package {
                    Some(p) => format!(
                        "{emulator} has no device '{ty}', which '{driver}' needs: on Debian, install the package {p}"
                    ),
                    None => format!("{emulator} has no device '{driver}'"),
                }));
            }
        }
    }
    Ok(())
}

/// Every option after the emulator, in QEMU's order of need.
fn emit_all(
    cx: &mut Ctx<'_>,
    machine_type: &str,
    caps: &QemuCaps,
    qmp: String,
    disks: &disks::Disks,
) -> Result<(), Error> {
    let def = cx.def;
    cx.arg(
        "-name",
        opts::Opts::empty()
            .set_user("guest", "domain name", &def.name)?
            .set("debug-threads", "on")
            .build(),
    );
    tuning::emit_compat(cx);
    cx.flag("-S");
    cx.flag("-no-user-config");
    cx.flag("-nodefaults");
    machine::emit_machine(cx, machine_type, caps)?;
    cx.arg(
        "-chardev",
        opts::Opts::new("socket")
            .set("id", "charmonitor")
            .set("path", qmp)
            .switch("server", true)
            .switch("wait", false)
            .build(),
    );
    cx.arg("-mon", "chardev=charmonitor,id=monitor,mode=control");
    machine::emit_clock(cx)?;
    machine::emit_actions(cx);
    machine::emit_pm(cx);
    pci::emit_globals(cx)?;
    machine::emit_boot(cx)?;
    machine::emit_kernel(cx)?;
    tuning::emit_smbios(cx)?;
    tuning::emit_fw_cfg(cx)?;
    tuning::emit_genid(cx);
    // Before the devices it translates for.
    extras::emit_iommu(cx)?;
    pci::emit_controllers(cx)?;
    controllers::emit(cx)?;
    usb::emit_hubs(cx)?;
    smartcard::emit_readers(cx)?;
    disks::emit(cx, disks)?;
    passthrough::emit_filesystems(cx)?;
    net::emit(cx)?;
    smartcard::emit_smartcards(cx)?;
    chardev::emit(cx)?;
    extras::emit_tpm(cx)?;
    display::emit(cx)?;
    sound::emit_sounds(cx)?;
    extras::emit_watchdogs(cx)?;
    extras::emit_redirdevs(cx)?;
    passthrough::emit_hostdevs(cx)?;
    display::emit_balloon(cx)?;
    extras::emit_rngs(cx)?;
    if cx.def.features.vmcoreinfo == Some(true) {
        // fw_cfg's etc/vmcoreinfo, where the guest kernel leaves what a
        // dump of its memory needs to be read.
        cx.arg("-device", "vmcoreinfo");
    }
    extras::emit_vsock(cx)?;
    extras::emit_panics(cx)?;
    passthrough::emit_shmems(cx)?;
    memdev::emit(cx)?;
    sev::emit(cx)?;
    if cx.paths.incoming {
        cx.arg("-incoming", "defer");
    }
    cx.arg("-msg", "timestamp=on");
    Ok(())
}

/// The QEMU device id of each disk, in document order (`ide0-1-0`,
/// `virtio-disk0`, `sata0-0-2`...): what QMP commands such as
/// `blockdev-change-medium` take as `id` on the running domain. Its block
/// nodes are named `ID-storage` and, for qcow2, `ID-format`.
pub fn disk_device_ids(def: &DomainDef) -> Result<Vec<String>, Error> {
    disks::device_ids(def)
}

/// A path from [`RuntimePaths`] as text: absolute, UTF-8 and NUL-free,
/// or an [`ErrorCode::InvalidArgument`] naming `what`.
fn runtime_path(what: &str, path: &Path) -> Result<String, Error> {
    let bad = |why: &str| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("the {what} path {} {why}", path.display()),
        )
    };
    let text = path.to_str().ok_or_else(|| bad("is not UTF-8"))?;
    if !path.is_absolute() {
        return Err(bad("is not absolute"));
    }
    if text.contains('\0') {
        return Err(bad("contains a NUL character"));
    }
    Ok(text.to_string())
}

/// An error for something qvirt cannot put on a QEMU command line.
pub(crate) fn unsupported(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::ConfigUnsupported, message)
}

/// An error for a definition that contradicts itself or QEMU's rules.
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::ConfigInvalid, message)
}
