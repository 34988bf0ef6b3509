//! libvirt's domain capabilities document (`<domainCapabilities>`, what
//! `virsh domcapabilities` prints and virt-install reads to choose
//! firmware, CPU, video, graphics and TPM): for one emulator, machine
//! and domain type, what a definition may ask for. It says only what
//! qvirt's reader accepts and its builder applies, from the probed
//! emulator (machines, CPU models, device types) and the firmware
//! descriptors installed.

use super::caps::QemuCaps;
use super::firmware::{Descriptor, Mapping, fits_machine};
use crate::error::{Error, ErrorCode, Result};
use crate::model::xmlwrite::{Attrs, XmlWriter};
use crate::model::{
    DiskBus, DiskDevice, DiskModel, MemorySourceType, RngModel, TpmVersion, VideoModel, Word,
};

/// What the document is about, resolved.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    /// The emulator's path.
    pub emulator: &'a str,
    /// The guest architecture.
    pub arch: &'a str,
    /// The machine type as asked (an alias or a versioned name).
    pub machine: Option<&'a str>,
    /// `kvm` or `qemu`; `None`: KVM when the host has it.
    pub virt_type: Option<&'a str>,
}

/// The devices QEMU must have for each video model.
const VIDEO_DEVICES: &[(VideoModel, &str)] = &[
    (VideoModel::Vga, "VGA"),
    (VideoModel::Cirrus, "cirrus-vga"),
    (VideoModel::Vmvga, "vmware-svga"),
    (VideoModel::Qxl, "qxl-vga"),
    (VideoModel::Virtio, "virtio-vga"),
    (VideoModel::Bochs, "bochs-display"),
];

/// The document for `q` on the emulator `caps` describes, with the
/// firmware `descriptors` offers.
pub fn domain_capabilities_xml(
    caps: &QemuCaps,
    q: &Query<'_>,
    descriptors: &[Descriptor],
) -> Result<String> {
    if q.arch != "x86_64" {
        return Err(Error::new(
            ErrorCode::NoSupport,
            format!("qvirt runs x86_64 guests only, not '{}'", q.arch),
        ));
    }
    let kvm = match q.virt_type {
        None => caps.kvm,
        Some("kvm") if caps.kvm => true,
        Some("kvm") => {
            return Err(Error::new(
                ErrorCode::NoSupport,
                "KVM is not available on this host (no usable /dev/kvm): ask for domain type 'qemu'",
            ));
        }
        Some("qemu") => false,
        Some(other) => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("unknown domain type '{other}': kvm or qemu"),
            ));
        }
    };
    let machine = caps.canonical_machine(q.machine.unwrap_or(&caps.default_machine));
    if !caps.has_machine(&machine) {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "the emulator {} has no machine type '{machine}'",
                q.emulator
            ),
        ));
    }
    let has_device = |name: &str| caps.devices.as_ref().is_none_or(|d| d.contains(name));
    let q35 = machine.contains("q35");
    let mut w = XmlWriter::new();
    w.open("domainCapabilities", Attrs::new());
    w.text("path", Attrs::new(), q.emulator);
    w.text("domain", Attrs::new(), if kvm { "kvm" } else { "qemu" });
    w.text("machine", Attrs::new(), &machine);
    w.text("arch", Attrs::new(), q.arch);
    // QEMU 7.2's limits: i440fx 255 vCPUs, q35 288.
    w.empty("vcpu", Attrs::new().add("max", if q35 { 288 } else { 255 }));
    w.empty("iothreads", supported(true));
    os(&mut w, q.arch, &machine, descriptors);
    cpu(&mut w, caps, kvm);
    w.open("memoryBacking", supported(true));
    values(
        &mut w,
        "sourceType",
        MemorySourceType::ALL.iter().map(|m| m.word()),
    );
    w.close("memoryBacking");
    w.open("devices", Attrs::new());
    w.open("disk", supported(true));
    values(
        &mut w,
        "diskDevice",
        DiskDevice::ALL.iter().map(|d| d.word()),
    );
    values(&mut w, "bus", DiskBus::ALL.iter().map(|b| b.word()));
    values(&mut w, "model", DiskModel::ALL.iter().map(|m| m.word()));
    w.close("disk");
    let spice = has_device("qxl-vga");
    w.open("graphics", supported(true));
    values(
        &mut w,
        "type",
        ["vnc"].into_iter().chain(spice.then_some("spice")),
    );
    w.close("graphics");
    w.open("video", supported(true));
    values(
        &mut w,
        "modelType",
        VIDEO_DEVICES
            .iter()
            .filter(|(_, dev)| has_device(dev))
            .map(|(m, _)| m.word())
            .chain([VideoModel::None.word()]),
    );
    w.close("video");
    w.open("hostdev", supported(true));
    values(&mut w, "mode", ["subsystem"]);
    values(&mut w, "startupPolicy", std::iter::empty::<&str>());
    values(&mut w, "subsysType", ["usb", "pci"]);
    values(&mut w, "capsType", std::iter::empty::<&str>());
    values(&mut w, "pciBackend", ["vfio"]);
    w.close("hostdev");
    w.open("rng", supported(true));
    values(&mut w, "model", RngModel::ALL.iter().map(|m| m.word()));
    values(&mut w, "backendModel", ["random", "builtin"]);
    w.close("rng");
    w.open("filesystem", supported(true));
    values(&mut w, "driverType", ["virtiofs"]);
    w.close("filesystem");
    let tpm_models: Vec<&str> = ["tpm-tis", "tpm-crb"]
        .into_iter()
        .filter(|dev| has_device(dev))
        .collect();
    w.open("tpm", supported(!tpm_models.is_empty()));
    values(&mut w, "model", tpm_models);
    values(&mut w, "backendModel", ["emulator"]);
    values(
        &mut w,
        "backendVersion",
        TpmVersion::ALL.iter().map(|v| v.word()),
    );
    w.close("tpm");
    w.close("devices");
    w.open("features", Attrs::new());
    w.empty("gic", supported(false));
    w.empty("vmcoreinfo", supported(true));
    w.empty("genid", supported(false));
    w.empty("backingStoreInput", supported(true));
    w.empty("backup", supported(false));
    w.empty("async-teardown", supported(false));
    w.empty("sev", supported(false));
    w.empty("sgx", supported(false));
    w.close("features");
    w.close("domainCapabilities");
    Ok(w.finish())
}

fn supported(yes: bool) -> Attrs {
    Attrs::new().add("supported", if yes { "yes" } else { "no" })
}

/// `<enum name=NAME>` with one `<value>` per item.
fn values<'a>(w: &mut XmlWriter, name: &'static str, items: impl IntoIterator<Item = &'a str>) {
    w.open("enum", Attrs::new().add("name", name));
    for v in items {
        w.text("value", Attrs::new(), v);
    }
    w.close("enum");
}

/// `<os>`: BIOS always; UEFI when a descriptor fits the machine, with
/// each fitting firmware's code file as a loader value.
fn os(w: &mut XmlWriter, arch: &str, machine: &str, descriptors: &[Descriptor]) {
    let uefi: Vec<&Descriptor> = descriptors
        .iter()
        .filter(|d| d.interfaces.iter().any(|i| i == "uefi") && fits_machine(d, arch, machine))
        .collect();
    let loaders: Vec<&str> = uefi
        .iter()
        .filter_map(|d| match &d.mapping {
            Mapping::Flash { executable, .. } => Some(executable.as_str()),
            _ => None,
        })
        .collect();
    let secure = uefi
        .iter()
        .any(|d| d.features.iter().any(|f| f == "secure-boot"));
    w.open("os", supported(true));
    values(
        w,
        "firmware",
        ["bios"]
            .into_iter()
            .chain((!loaders.is_empty()).then_some("efi")),
    );
    w.open("loader", supported(!loaders.is_empty()));
    for l in &loaders {
        w.text("value", Attrs::new(), l);
    }
    values(w, "type", ["rom", "pflash"]);
    values(w, "readonly", ["yes", "no"]);
    values(
        w,
        "secure",
        secure.then_some("yes").into_iter().chain(["no"]),
    );
    w.close("loader");
    w.close("os");
}

/// `<cpu>`: the modes the accelerator allows, and the named models with
/// whether it can run each as defined.
fn cpu(w: &mut XmlWriter, caps: &QemuCaps, kvm: bool) {
    w.open("cpu", Attrs::new());
    let passthrough = Attrs::new().add("name", "host-passthrough");
    if kvm {
        w.open("mode", passthrough.add("supported", "yes"));
        values(w, "hostPassthroughMigratable", ["on", "off"]);
        w.close("mode");
    } else {
        w.empty("mode", passthrough.add("supported", "no"));
    }
    w.open(
        "mode",
        Attrs::new().add("name", "maximum").add("supported", "yes"),
    );
    values(w, "maximumMigratable", ["on", "off"]);
    w.close("mode");
    // host-model is `host` under KVM and `max` under emulation; no model
    // is named for it, as libvirt names none it cannot expand.
    w.empty(
        "mode",
        Attrs::new()
            .add("name", "host-model")
            .add("supported", "yes"),
    );
    let models = caps.cpu_caps(kvm).map(|c| &c.models);
    w.open(
        "mode",
        Attrs::new()
            .add("name", "custom")
            .add("supported", if models.is_some() { "yes" } else { "no" }),
    );
    for (name, blockers) in models.into_iter().flatten() {
        let usable = if blockers.is_empty() { "yes" } else { "no" };
        w.text("model", Attrs::new().add("usable", usable), name);
    }
    w.close("mode");
    w.close("cpu");
}
