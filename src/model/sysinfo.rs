//! What a domain tells its guest about the machine (`<sysinfo>` and
//! `<os><smbios mode>`), its security label, and the QEMU escape hatch
//! of libvirt's `qemu:` namespace. Data only.

use super::words::words;

/// The namespace of libvirt's QEMU extensions.
pub const QEMU_NAMESPACE: &str = "http://libvirt.org/schemas/domain/qemu/1.0";

words! {
    /// `<os><smbios mode=...>`.
    pub enum SmbiosMode {
        /// The hypervisor's own tables.
        Emulate = "emulate",
        /// The host's tables (its UUID left out).
        Host = "host",
        /// The tables `<sysinfo type='smbios'>` gives.
        Sysinfo = "sysinfo",
    }

    /// The blocks of `<sysinfo type='smbios'>` that are lists of
    /// `<entry name=...>`, in libvirt's order.
    pub enum SmbiosBlock {
        /// `<bios>`: SMBIOS type 0.
        Bios = "bios",
        /// `<system>`: SMBIOS type 1.
        System = "system",
        /// `<baseBoard>`: SMBIOS type 2.
        BaseBoard = "baseBoard",
        /// `<chassis>`: SMBIOS type 3.
        Chassis = "chassis",
    }

    /// `<qemu:deprecation behavior=...>`: what QEMU does with deprecated
    /// commands and fields of its monitor.
    pub enum DeprecationBehavior {
        /// QEMU accepts and reports deprecated fields and commands (its
        /// default).
        None = "none",
        /// QEMU leaves deprecated fields out of what it reports.
        Omit = "omit",
        /// As `omit`, and QEMU refuses deprecated commands and arguments.
        Reject = "reject",
        /// As `omit`, and QEMU aborts on a deprecated command or argument.
        Crash = "crash",
    }
}

/// An `<entry>` of `<sysinfo type='fwcfg'>`: a named blob the guest reads
/// from QEMU's firmware configuration device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FwCfgEntry {
    /// `name`: `opt/...` (QEMU keeps the rest for itself).
    pub name: String,
    /// The text (when both are written, it wins over `file`, as on
    /// libvirt's command line, and the file is dropped).
    pub value: Option<String>,
    /// `file`: an absolute path QEMU reads the blob from, when there is
    /// no text.
    pub file: Option<String>,
}

/// `<sysinfo type='smbios'>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sysinfo {
    /// `<bios>`, `<system>`, `<baseBoard>`, `<chassis>`: each block that
    /// is written, in libvirt's order, with its `<entry name=...>TEXT`
    /// children in document order. `<baseBoard>` may come several times
    /// (in document order), the others once.
    pub blocks: Vec<(SmbiosBlock, Vec<(String, String)>)>,
    /// `<oemStrings><entry>`: SMBIOS type 11, in order.
    pub oem_strings: Vec<String>,
}

impl Sysinfo {
    /// The entries of `block`, if it is written.
    pub fn block(&self, block: SmbiosBlock) -> Option<&[(String, String)]> {
        self.blocks
            .iter()
            .find(|(b, _)| *b == block)
            .map(|(_, e)| e.as_slice())
    }

    /// The entry `name` of `block`.
    pub fn entry(&self, block: SmbiosBlock, name: &str) -> Option<&str> {
        self.block(block)?
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The entry names each block takes, as libvirt's schema lists them.
pub fn smbios_entry_names(block: SmbiosBlock) -> &'static [&'static str] {
    match block {
        SmbiosBlock::Bios => &["vendor", "version", "date", "release"],
        SmbiosBlock::System => &[
            "manufacturer",
            "product",
            "version",
            "serial",
            "uuid",
            "sku",
            "family",
        ],
        SmbiosBlock::BaseBoard => &[
            "manufacturer",
            "product",
            "version",
            "serial",
            "asset",
            "location",
        ],
        SmbiosBlock::Chassis => &["manufacturer", "version", "serial", "asset", "sku"],
    }
}

/// The `qemu:` namespace children of `<domain>`: extra QEMU arguments and
/// environment, and device types switched on or off. Using any of it
/// marks the running domain tainted, as libvirt does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QemuExtras {
    /// `<qemu:commandline><qemu:arg value=...>`: appended to QEMU's
    /// command line exactly as written.
    pub args: Vec<String>,
    /// `<qemu:commandline><qemu:env name= value=>`: set in QEMU's
    /// environment (`None`: set to the empty string).
    pub env: Vec<(String, Option<String>)>,
    /// `<qemu:capabilities><qemu:add capability=...>`.
    pub caps_add: Vec<String>,
    /// `<qemu:capabilities><qemu:del capability=...>`.
    pub caps_del: Vec<String>,
    /// `<qemu:override><qemu:device alias=...>`: properties of a device's
    /// `-device`, set or removed.
    pub overrides: Vec<DeviceOverride>,
    /// `<qemu:deprecation behavior=...>`. Default: `None`, QEMU's own
    /// behaviour (libvirt's `deprecation_behavior` of qemu.conf, `none`).
    /// Unlike the rest of the namespace it does not taint the domain, as
    /// in libvirt: it only makes QEMU stricter.
    pub deprecation: Option<DeprecationBehavior>,
}

/// `<qemu:device alias=...><qemu:frontend>`: properties of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceOverride {
    /// `alias`: the device's id (libvirt's alias: `hostdev0`, `net0`).
    pub alias: String,
    /// `<qemu:property name= type= value=>`, in order.
    pub props: Vec<OverrideProperty>,
}

/// One `<qemu:property>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideProperty {
    /// `name`.
    pub name: String,
    /// `type`: `string`, `signed`, `unsigned`, `bool` or `remove`.
    pub kind: String,
    /// `value`; `None` for `remove`.
    pub value: Option<String>,
}

impl QemuExtras {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == QemuExtras::default()
    }
}

/// `<seclabel>`: how a security driver labels the domain. qvirt has no
/// SELinux or AppArmor driver; its QEMU runs as the manager's own user and
/// group, which is the label a dynamic DAC `<seclabel>` leaves to the
/// manager. So `type='none'` (any model) and `type='dynamic'` for DAC are
/// what it runs; a dynamic label of another model is defined (as
/// libvirt defines it on a host without that driver) and its start is
/// refused, naming the model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecLabel {
    /// `type='dynamic'` (the manager chooses the label); `false` for
    /// `type='none'`.
    pub dynamic: bool,
    /// `model`: the security driver named, if any.
    pub model: Option<String>,
    /// `relabel='yes|no'` of a dynamic label.
    pub relabel: Option<bool>,
}

impl SecLabel {
    /// The security driver a start of this label needs that qvirt does
    /// not have: `selinux` or `apparmor`, for a dynamic label.
    pub fn driver_missing(&self) -> Option<&str> {
        match self.model.as_deref() {
            Some(m @ ("selinux" | "apparmor")) if self.dynamic => Some(m),
            _ => None,
        }
    }
}
