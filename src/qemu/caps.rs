//! What a QEMU binary can do, as far as the command line cares.
//!
//! The values are probed from the binary (the LocalDriver does that once
//! and caches them); [`QemuCaps::assumed`] gives the values of the oldest
//! QEMU qvirt supports, for building a command line with no binary at hand.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A QEMU version, `major.minor.micro`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct QemuVersion {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Micro.
    pub micro: u32,
}

impl QemuVersion {
    /// The oldest QEMU qvirt supports (Debian 12's).
    pub const MIN: QemuVersion = QemuVersion {
        major: 7,
        minor: 2,
        micro: 0,
    };

    /// Parses the first `N.N.N` (or `N.N`) of `qemu -version` output.
    pub fn parse_version_output(text: &str) -> Option<QemuVersion> {
        let start = text.find("version ")? + "version ".len();
        let word: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let mut parts = word.split('.').map(|p| p.parse::<u32>().ok());
        Some(QemuVersion {
            major: parts.next()??,
            minor: parts.next()??,
            micro: parts.next().flatten().unwrap_or(0),
        })
    }
}

impl std::fmt::Display for QemuVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

/// The probed capabilities of one QEMU binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QemuCaps {
    /// The binary's path.
    pub emulator: PathBuf,
    /// Its version.
    pub version: QemuVersion,
    /// Whether KVM is usable with it on this host (`query-kvm`).
    pub kvm: bool,
    /// The machine types it offers, with aliases (`pc`, `q35`, ...).
    pub machines: Vec<String>,
    /// The machine used when a definition names none.
    pub default_machine: String,
    /// Machine aliases and the versioned machine each stands for
    /// (`q35` -> `pc-q35-7.2`).
    pub machine_aliases: BTreeMap<String, String>,
    /// What emulation (TCG) offers for CPUs; `None` when not probed.
    pub tcg_cpu: Option<CpuCaps>,
    /// What KVM offers for CPUs on this host; `None` when not probed
    /// (or KVM was not usable when the binary was probed).
    pub kvm_cpu: Option<CpuCaps>,
    /// The device types the binary has (its modules included); `None`
    /// when not probed.
    #[serde(default)]
    pub devices: Option<BTreeSet<String>>,
}

/// What one accelerator can offer for guest CPUs, from
/// `query-cpu-definitions` and `query-cpu-model-expansion`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CpuCaps {
    /// Each named CPU model with the features the accelerator cannot give
    /// it (empty: the model runs as defined).
    pub models: BTreeMap<String, Vec<String>>,
    /// The features the largest CPU (`max`) has with this accelerator.
    pub max_features: BTreeSet<String>,
}

impl CpuCaps {
    /// Whether the accelerator can give the guest CPU feature `name`;
    /// QEMU spells features with `-` or `_`, so both are tried.
    pub fn has_feature(&self, name: &str) -> bool {
        self.max_features.contains(name)
            || self.max_features.contains(&name.replace('_', "-"))
            || self.max_features.contains(&name.replace('-', "_"))
    }
}

impl QemuCaps {
    /// Capabilities assumed for `emulator` without probing it: the oldest
    /// supported version, no KVM, the common x86 machine types.
    pub fn assumed(emulator: impl Into<PathBuf>) -> QemuCaps {
        QemuCaps {
            emulator: emulator.into(),
            version: QemuVersion::MIN,
            kvm: false,
            machines: ["pc", "q35", "isapc", "microvm"]
                .iter()
                .map(|m| m.to_string())
                .collect(),
            default_machine: "pc".to_string(),
            machine_aliases: [("pc", "pc-i440fx-7.2"), ("q35", "pc-q35-7.2")]
                .iter()
                .map(|(a, m)| (a.to_string(), m.to_string()))
                .collect(),
            tcg_cpu: None,
            kvm_cpu: None,
            devices: None,
        }
    }

    /// The versioned name of machine `name` (`q35` -> `pc-q35-7.2`), as
    /// libvirt resolves aliases; a name that is no alias is itself.
    pub fn canonical_machine(&self, name: &str) -> String {
        self.machine_aliases
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    /// What the accelerator a domain uses offers for CPUs, if probed.
    pub fn cpu_caps(&self, kvm: bool) -> Option<&CpuCaps> {
        if kvm {
            self.kvm_cpu.as_ref()
        } else {
            self.tcg_cpu.as_ref()
        }
    }

    /// Whether the machine type `name` is offered. Versioned names
    /// (`pc-i440fx-7.2`, `pc-q35-4.2`) are accepted whenever their family is
    /// listed and the probe did not list versions.
    pub fn has_machine(&self, name: &str) -> bool {
        self.machines.iter().any(|m| m == name)
            || (name.starts_with("pc-i440fx-") || name.starts_with("pc-q35-"))
                && !self.machines.iter().any(|m| m.starts_with("pc-"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_version_lines() {
        let v = QemuVersion::parse_version_output(
            "QEMU emulator version 7.2.15 (Debian 1:7.2+dfsg-7+deb12u18)\nCopyright",
        );
        assert_eq!(
            v,
            Some(QemuVersion {
                major: 7,
                minor: 2,
                micro: 15
            })
        );
        assert_eq!(
            QemuVersion::parse_version_output("QEMU emulator version 9.1"),
            Some(QemuVersion {
                major: 9,
                minor: 1,
                micro: 0
            })
        );
        assert_eq!(QemuVersion::parse_version_output("garbage"), None);
    }
}
