//! Devices that serve the guest: the TPM (an swtpm the driver starts,
//! reached through a socket in the runtime directory), watchdogs, USB
//! redirection through SPICE, and random number generators.

use std::path::{Path, PathBuf};

use super::devs::Dev;
use super::opts::Opts;
use super::opts::with_virtio;
use super::usb::UsbDev;
use super::{Ctx, Family, invalid, unsupported};
use crate::error::Error;
use crate::model::{
    CharSource, IommuModel, PanicModel, RngBackend, RngModel, TpmBackend, TpmModel, TpmVersion,
    UsbFilterRule, VsockModel, WatchdogAction, WatchdogModel,
};

/// The control socket of a domain's software TPM, in its runtime
/// directory: swtpm listens there, QEMU connects.
pub fn tpm_socket(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join("swtpm.sock")
}

/// `-chardev`, `-tpmdev` and the TPM device.
pub fn emit_tpm(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    let Some(tpm) = def.devices.tpms.first() else {
        return Ok(());
    };
    if def.devices.tpms.len() > 1 {
        return Err(invalid("only a single TPM non-proxy device is supported"));
    }
    let model = tpm.model.unwrap_or(TpmModel::TpmTis);
    let device = match model {
        TpmModel::TpmTis => "tpm-tis",
        TpmModel::TpmCrb => "tpm-crb",
        other => {
            return Err(unsupported(format!(
                "TPM model '{}' is only for pSeries machines",
                other.as_str()
            )));
        }
    };
    match &tpm.backend {
        TpmBackend::Emulator { version, .. } => {
            if *version == Some(TpmVersion::V1_2) && model == TpmModel::TpmCrb {
                return Err(unsupported("Unsupported interface 'tpm-crb' for TPM 1.2"));
            }
            let sock = super::runtime_path("TPM socket", &tpm_socket(&cx.paths.runtime_dir))?;
            cx.arg(
                "-chardev",
                Opts::new("socket")
                    .set("id", "chrtpm")
                    .set("path", sock)
                    .build(),
            );
            cx.arg(
                "-tpmdev",
                Opts::new("emulator")
                    .set("id", "tpm-tpm0")
                    .set("chardev", "chrtpm")
                    .build(),
            );
        }
        // Another process's emulator: QEMU connects to its socket
        // (libvirt's qemuBuildTPMCommandLine).
        TpmBackend::External { path } => {
            cx.arg(
                "-chardev",
                Opts::new("socket")
                    .set("id", "chrtpm")
                    .set_user("path", "external TPM socket", path)?
                    .build(),
            );
            cx.arg(
                "-tpmdev",
                Opts::new("emulator")
                    .set("id", "tpm-tpm0")
                    .set("chardev", "chrtpm")
                    .build(),
            );
        }
        TpmBackend::Passthrough { path } => {
            // The cancel file libvirt finds for the device (its sysfs
            // entry), else /dev/null; chosen by the driver at start.
            let cancel = cx
                .paths
                .tpm_cancel
                .clone()
                .unwrap_or_else(|| "/dev/null".into());
            cx.arg(
                "-tpmdev",
                Opts::new("passthrough")
                    .set("id", "tpm-tpm0")
                    .set_user("path", "TPM device path", path)?
                    .set_user("cancel-path", "TPM cancel path", &cancel.to_string_lossy())?
                    .build(),
            );
        }
    }
    cx.arg(
        "-device",
        Opts::new(device)
            .set("tpmdev", "tpm-tpm0")
            .set("id", "tpm0")
            .build(),
    );
    Ok(())
}

/// The TPM version of a domain's TPM: the written one, or libvirt's
/// choice (2.0 for tpm-crb, else 1.2).
pub fn tpm_version(model: Option<TpmModel>, version: Option<TpmVersion>) -> TpmVersion {
    version.unwrap_or(crate::model::Tpm::default_version(model))
}

/// The QEMU id of watchdog number `i` (a start numbers them in order),
/// libvirt's alias.
pub fn watchdog_id(i: usize) -> String {
    format!("watchdog{i}")
}

/// Watchdog devices and what QEMU does when one fires.
pub fn emit_watchdogs(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    let mut action = None;
    for (i, w) in def.devices.watchdogs.iter().enumerate() {
        let what = format!("{} watchdog", w.model.as_str());
        match w.model {
            WatchdogModel::I6300esb => {
                let placed = cx.pci.place(&what, w.address.as_ref(), Dev::Watchdog(i))?;
                let o = Opts::new("i6300esb")
                    .set("id", watchdog_id(i))
                    .extend(placed.opts);
                cx.arg("-device", o.build());
            }
            WatchdogModel::Ib700 => {
                cx.arg(
                    "-device",
                    Opts::new("ib700").set("id", watchdog_id(i)).build(),
                );
            }
            WatchdogModel::Itco => {
                if cx.family != Family::Q35 {
                    return Err(unsupported(
                        "the itco watchdog is built into q35 machines only",
                    ));
                }
                // The iTCO timer is part of the ICH9; without this it
                // would not reset the machine when it fires.
                cx.arg("-global", "ICH9-LPC.noreboot=off");
            }
            WatchdogModel::Diag288 => {
                return Err(unsupported(
                    "diag288 model of watchdog is allowed for s390 and s390x only",
                ));
            }
        }
        let a = w.action.unwrap_or(WatchdogAction::Reset);
        match action {
            Some(other) if other != a => {
                return Err(unsupported(
                    "watchdogs with different actions: QEMU takes one action for all",
                ));
            }
            _ => action = Some(a),
        }
    }
    if let Some(a) = action {
        // A dump pauses the guest; the driver dumps its memory and
        // resumes it on QEMU's WATCHDOG event, as libvirt does.
        let word = match a {
            WatchdogAction::Dump => "pause",
            other => other.as_str(),
        };
        cx.arg("-action", format!("watchdog={word}"));
    }
    Ok(())
}

/// `<panic>` devices: QEMU's ISA `pvpanic` (Hyper-V's crash MSRs are a
/// vCPU property, set with the CPU). A guest panic pauses the guest; the
/// driver then applies `<on_crash>` from QEMU's `GUEST_PANICKED` event.
pub fn emit_panics(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    let mut seen = Vec::new();
    for (i, p) in def.devices.panics.iter().enumerate() {
        let model = p.effective_model();
        if seen.contains(&model) {
            return Err(unsupported(format!(
                "only one <panic model='{}'> per domain",
                model.as_str()
            )));
        }
        seen.push(model);
        match model {
            PanicModel::Isa => {
                let o = Opts::new("pvpanic").maybe("ioport", p.iobase);
                cx.arg("-device", o.build());
            }
            PanicModel::Pvpanic => {
                let what = format!("panic device {i}");
                let placed = cx.pci.place(&what, p.address.as_ref(), Dev::Panic(i))?;
                let o = Opts::new("pvpanic-pci")
                    .set("id", format!("panic{i}"))
                    .extend(placed.opts);
                cx.arg("-device", o.build());
            }
            PanicModel::Hyperv => {
                if p.iobase.is_some() {
                    return Err(unsupported(
                        "setting the panic device address is not supported for model 'hyperv'",
                    ));
                }
            }
        }
    }
    if !seen.is_empty() {
        cx.arg("-action", "panic=pause");
    }
    Ok(())
}

/// USB redirection through the SPICE client or a usbredir socket, with
/// the `<redirfilter>` rules on each device.
pub fn emit_redirdevs(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    let filter = usb_filter(&def.devices.redirfilter);
    for (i, r) in def.devices.redirdevs.iter().enumerate() {
        let chr = format!("char{}", super::hotplug::redir_id(i));
        let backend = match &r.source {
            CharSource::SpiceVmc => Opts::new("spicevmc")
                .set("id", &chr)
                .set("name", "usbredir"),
            other => super::chardev::chardev(cx, other, &chr)?,
        };
        cx.arg("-chardev", backend.build());
        let port = cx.usb.port_of(UsbDev::Redir(i))?;
        let o = Opts::new("usb-redir")
            .set("chardev", &chr)
            .set("id", super::hotplug::redir_id(i))
            .maybe("filter", filter.as_deref())
            .extend(port)
            .maybe("bootindex", r.boot_order);
        cx.arg("-device", o.build());
    }
    Ok(())
}

/// usb-redir's `filter`: `class:vendor:product:version:allow` rules
/// joined by `|`, `-1` for any value (libvirt's spelling).
fn usb_filter(rules: &[UsbFilterRule]) -> Option<String> {
    if rules.is_empty() {
        return None;
    }
    let any = |v: Option<String>| v.unwrap_or_else(|| "-1".into());
    let text: Vec<String> = rules
        .iter()
        .map(|u| {
            format!(
                "{}:{}:{}:{}:{}",
                any(u.class.map(|c| format!("0x{c:02X}"))),
                any(u.vendor.map(|v| format!("0x{v:04X}"))),
                any(u.product.map(|p| format!("0x{p:04X}"))),
                any(u.version.map(|v| format!("0x{v:04X}"))),
                u8::from(u.allow)
            )
        })
        .collect();
    Some(text.join("|"))
}

/// The `<iommu>`: Intel's VT-d with its switches, or virtio-iommu on
/// the root bus (libvirt's qemuBuildIOMMUCommandLine).
pub fn emit_iommu(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let Some(i) = &cx.def.devices.iommu else {
        return Ok(());
    };
    // The model checked the machine, ACPI and the I/O APIC.
    let o = match i.model {
        IommuModel::Intel => Opts::new("intel-iommu")
            .set("id", "iommu0")
            .maybe_switch("intremap", i.intremap)
            .maybe_switch("caching-mode", i.caching_mode)
            .maybe_switch("eim", i.eim)
            .maybe_switch("device-iotlb", i.iotlb)
            .maybe("aw-bits", i.aw_bits),
        IommuModel::Virtio => {
            let placed = cx
                .pci
                .place("iommu", i.address.as_ref(), super::pci::Dev::Iommu)?;
            Opts::new("virtio-iommu")
                .set("id", "iommu0")
                .extend(placed.opts)
        }
        // Refused when read.
        IommuModel::Smmuv3 => {
            return Err(unsupported(format!(
                "IOMMU device: '{}' is not supported",
                i.model.as_str()
            )));
        }
    };
    cx.arg("-device", o.build());
    Ok(())
}

/// The `<vsock>`: a vhost-vsock device on the descriptor the driver
/// opened, with the guest's CID claimed on it ([`RuntimePaths::vsock_fd`]).
///
/// [`RuntimePaths::vsock_fd`]: super::RuntimePaths::vsock_fd
pub fn emit_vsock(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let Some(v) = &cx.def.devices.vsock else {
        return Ok(());
    };
    let (Some(cid), Some(fd)) = (v.cid, cx.paths.vsock_fd) else {
        return Err(Error::new(
            crate::error::ErrorCode::InvalidArgument,
            "a <vsock> needs its CID and the vhost-vsock descriptor: the driver must claim them (RuntimePaths::vsock_fd) before building the command line",
        ));
    };
    // `qemu::validate` refused the transitional model: QEMU has none.
    let device = match v.model {
        Some(VsockModel::VirtioNonTransitional) => "vhost-vsock-pci-non-transitional",
        _ => "vhost-vsock-pci",
    };
    let placed = cx.pci.place("vsock", v.address.as_ref(), Dev::Vsock)?;
    let o = Opts::new(device)
        .set("id", "vsock0")
        .set("guest-cid", cid)
        .set("vhostfd", fd)
        .extend(placed.opts);
    let o = with_virtio(o, &v.virtio, true, "vsock")?;
    cx.arg("-device", o.build());
    Ok(())
}

/// The QEMU ids of rng number `n` (a start numbers them in order): the
/// device's (`rngN`) and its backend object's (`objrngN`), as libvirt
/// names them; an egd backend's chardev is `char` and the device's id.
pub fn rng_ids(n: u32) -> (String, String) {
    (format!("rng{n}"), format!("objrng{n}"))
}

/// Random number generators: a backend object and a virtio-rng device.
pub fn emit_rngs(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    for (i, r) in def.devices.rngs.iter().enumerate() {
        let (id, obj) = rng_ids(i as u32);
        let backend = match &r.backend {
            RngBackend::Random(path) => {
                let path = path.as_deref().unwrap_or("/dev/urandom");
                Opts::new("rng-random").set("id", &obj).set_user(
                    "filename",
                    "rng backend device",
                    path,
                )?
            }
            RngBackend::Builtin => Opts::new("rng-builtin").set("id", &obj),
            RngBackend::Egd(source) => {
                let chardev = format!("char{id}");
                let o = super::chardev::chardev(cx, source, &chardev)?;
                cx.arg("-chardev", o.build());
                Opts::new("rng-egd").set("id", &obj).set("chardev", chardev)
            }
        };
        cx.arg("-object", backend.build());
        let device = match r.model {
            RngModel::Virtio => "virtio-rng-pci",
            RngModel::VirtioTransitional => "virtio-rng-pci-transitional",
            RngModel::VirtioNonTransitional => "virtio-rng-pci-non-transitional",
        };
        let what = "rng device";
        let placed = cx.pci.place(what, r.address.as_ref(), Dev::Rng(i))?;
        let mut o = Opts::new(device).set("rng", &obj).set("id", id);
        if let Some(rate) = &r.rate {
            o = o
                .set("max-bytes", rate.bytes)
                .set("period", rate.period.unwrap_or(1000));
        }
        let o = with_virtio(o.extend(placed.opts), &r.virtio, true, what)?;
        cx.arg("-device", o.build());
    }
    Ok(())
}
