//! Firmware: picking it from QEMU's firmware descriptors for
//! `<os firmware='efi'|'bios'>` (with `<firmware><feature>` wishes), and
//! the UEFI variable store (NVRAM) each domain gets from its template.
//!
//! The rules are libvirt's (qemu_firmware.c): descriptors are the JSON
//! files of QEMU's firmware interop specification in
//! `/usr/share/qemu/firmware`, `/etc/qemu/firmware` and, for a user's
//! manager, `$XDG_CONFIG_HOME/qemu/firmware` (a file of the same name in a
//! later directory hides the earlier one); they are tried in file name
//! order, and the first whose interface, machine type, architecture and
//! features fit wins. Its executable becomes a read-only pflash
//! `<loader>`, its variable store template the `<nvram template>`, and a
//! firmware that `requires-smm` turns SMM on and makes the loader secure.
//!
//! `<os firmware='bios'>` with no BIOS descriptor (Debian ships none)
//! means QEMU's built-in SeaBIOS, which is what a domain without a
//! `<loader>` gets anyway.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    DomainDef, FirmwareFeatureName, FirmwareFormat, FirmwareKind, LaunchSecurity, Loader,
    LoaderType, Nvram, SEV_POLICY_ES, Smm,
};

/// What a descriptor maps into the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping {
    /// Flash: an executable and, in split mode, a variable store template.
    Flash {
        /// The firmware code.
        executable: String,
        /// Its image format.
        executable_format: FirmwareFormat,
        /// The variable store template (split mode).
        nvram_template: Option<String>,
        /// Its image format.
        nvram_template_format: Option<FirmwareFormat>,
        /// `split`, `combined` or `stateless`.
        mode: String,
    },
    /// A ROM image loaded into memory (`-bios`).
    Memory {
        /// The image.
        filename: String,
    },
    /// A kernel for direct boot.
    Kernel {
        /// The kernel.
        filename: String,
    },
}

/// One firmware descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// The file it was read from.
    pub path: PathBuf,
    /// `interface-types`: `uefi`, `bios`, ...
    pub interfaces: Vec<String>,
    /// `mapping`.
    pub mapping: Mapping,
    /// `targets`: architectures with the machine type patterns of each.
    pub targets: Vec<(String, Vec<String>)>,
    /// `features`: `secure-boot`, `requires-smm`, `enrolled-keys`, ...
    pub features: Vec<String>,
}

impl Descriptor {
    fn has(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }
}

/// The directories descriptors are read from, in order: a later one's
/// file hides an earlier one's of the same name.
pub fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![
        PathBuf::from("/usr/share/qemu/firmware"),
        PathBuf::from("/etc/qemu/firmware"),
    ];
    if !nix::unistd::Uid::effective().is_root() {
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")));
        if let Some(c) = config {
            dirs.push(c.join("qemu/firmware"));
        }
    }
    dirs
}

/// Reads the descriptors of `dirs`, in file name order. A file that is not
/// a descriptor is skipped, as QEMU's tools skip it; a directory that does
/// not exist has none.
pub fn load(dirs: &[PathBuf]) -> Vec<Descriptor> {
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in dirs {
        let Ok(entries) = fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") {
                files.insert(name, e.path());
            }
        }
    }
    files
        .into_values()
        .filter_map(|p| {
            let text = fs::read_to_string(&p).ok()?;
            parse(&p, &text)
        })
        .collect()
}

/// Reads one descriptor; `None` when it is not one.
pub fn parse(path: &Path, text: &str) -> Option<Descriptor> {
    let v: Value = serde_json::from_str(text).ok()?;
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let m = v.get("mapping")?;
    // A flash file in a format QEMU cannot map as libvirt maps it makes
    // the descriptor unusable.
    let file = |key: &str| -> Option<Option<(String, FirmwareFormat)>> {
        let Some(f) = m.get(key) else {
            return Some(None);
        };
        let format = match f.get("format").and_then(Value::as_str).unwrap_or("raw") {
            "raw" => FirmwareFormat::Raw,
            "qcow2" => FirmwareFormat::Qcow2,
            _ => return None,
        };
        Some(Some((f.get("filename")?.as_str()?.to_string(), format)))
    };
    let mapping = match m.get("device")?.as_str()? {
        "flash" => {
            let (executable, executable_format) = file("executable")??;
            let template = file("nvram-template")?;
            Mapping::Flash {
                executable,
                executable_format,
                nvram_template_format: template.as_ref().map(|t| t.1),
                nvram_template: template.map(|t| t.0),
                mode: m
                    .get("mode")
                    .and_then(Value::as_str)
                    .unwrap_or("split")
                    .to_string(),
            }
        }
        "memory" => Mapping::Memory {
            filename: m.get("filename")?.as_str()?.to_string(),
        },
        "kernel" => Mapping::Kernel {
            filename: m.get("filename")?.as_str()?.to_string(),
        },
        _ => return None,
    };
    let targets = v
        .get("targets")?
        .as_array()?
        .iter()
        .filter_map(|t| {
            Some((
                t.get("architecture")?.as_str()?.to_string(),
                strings(t.get("machines")),
            ))
        })
        .collect();
    Some(Descriptor {
        path: path.to_path_buf(),
        interfaces: strings(v.get("interface-types")),
        mapping,
        targets,
        features: strings(v.get("features")),
    })
}

/// glib's `g_pattern_match_simple`: `*` any run, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether descriptor `d` is for architecture `arch` and the versioned
/// machine type `machine` (its patterns are globs: `pc-q35-*`).
pub fn fits_machine(d: &Descriptor, arch: &str, machine: &str) -> bool {
    d.targets
        .iter()
        .any(|(a, machines)| a == arch && machines.iter().any(|m| glob(m, machine)))
}

/// Why a descriptor does not fit, for the error when none does.
fn mismatch(def: &DomainDef, d: &Descriptor, machine: &str, arch: &str) -> Option<String> {
    let want = match (def.os.firmware, def.os.loader.as_ref().and_then(|l| l.kind)) {
        (Some(FirmwareKind::Efi), _) | (None, Some(LoaderType::Pflash)) => "uefi",
        _ => "bios",
    };
    let path = def.os.loader.as_ref().and_then(|l| l.path.as_deref());
    if def.os.firmware.is_none() || path.is_some() {
        // An old style loader, or the firmware a selection chose before
        // (libvirt 9.2 and later keep it in the definition): only a
        // descriptor for that very file.
        let file = match &d.mapping {
            Mapping::Flash { executable, .. } => Some(executable.as_str()),
            Mapping::Memory { filename } => Some(filename.as_str()),
            Mapping::Kernel { .. } => None,
        };
        if file != path {
            return Some("it describes another firmware file".into());
        }
    }
    if let Some(kind) = def.os.loader.as_ref().and_then(|l| l.kind) {
        let fits = matches!(
            (kind, &d.mapping),
            (LoaderType::Pflash, Mapping::Flash { .. }) | (LoaderType::Rom, Mapping::Memory { .. })
        );
        if !fits {
            return Some(format!("it is not a {} firmware", kind.as_str()));
        }
    }
    if let (Some(t), Mapping::Flash { nvram_template, .. }) = (
        def.os.nvram.as_ref().and_then(|n| n.template.as_deref()),
        &d.mapping,
    ) && def.os.firmware.is_some()
        && nvram_template.as_deref() != Some(t)
    {
        return Some(format!("its variable store template is not {t}"));
    }
    // libvirt's qemuFirmwareMatchDomain: the formats the definition
    // names are the descriptor's.
    if let Mapping::Flash {
        executable_format,
        nvram_template_format,
        ..
    } = &d.mapping
    {
        if let Some(f) = def.os.loader.as_ref().and_then(|l| l.format)
            && f != *executable_format
        {
            return Some(format!(
                "its executable is {}, not {}",
                executable_format.as_str(),
                f.as_str()
            ));
        }
        let nvram = def.os.nvram.as_ref();
        if let (Some(f), Some(t)) = (
            nvram.and_then(|n| n.template_format.or(n.format)),
            nvram_template_format,
        ) && f != *t
        {
            return Some(format!(
                "its variable store template is {}, not {}",
                t.as_str(),
                f.as_str()
            ));
        }
    }
    if !d.interfaces.iter().any(|i| i == want) {
        return Some(format!("it has no {want} interface"));
    }
    if !fits_machine(d, arch, machine) {
        return Some(format!("it is not for {arch} machine {machine}"));
    }
    if def.pm.suspend_to_mem == Some(true) && !d.has("acpi-s3") {
        return Some("it lacks ACPI S3, which <pm><suspend-to-mem> needs".into());
    }
    if def.pm.suspend_to_disk == Some(true) && !d.has("acpi-s4") {
        return Some("it lacks ACPI S4, which <pm><suspend-to-disk> needs".into());
    }
    for (name, feature) in [
        (FirmwareFeatureName::SecureBoot, "secure-boot"),
        (FirmwareFeatureName::EnrolledKeys, "enrolled-keys"),
    ] {
        match def.os.firmware_features.get(&name) {
            Some(true) if !d.has(feature) => return Some(format!("it lacks {feature}")),
            Some(false) if d.has(feature) => return Some(format!("it has {feature}")),
            _ => {}
        }
    }
    // libvirt's qemuFirmwareMatchDomain: an SEV guest needs a firmware
    // that knows SEV, and SEV-ES if its policy asks for it.
    if let Some(LaunchSecurity::Sev(s)) = &def.launch_security {
        if !d.has("amd-sev") {
            return Some("it lacks amd-sev, which <launchSecurity type='sev'> needs".into());
        }
        if s.policy & SEV_POLICY_ES != 0 && !d.has("amd-sev-es") {
            return Some("it lacks amd-sev-es, which the SEV policy's ES bit needs".into());
        }
    }
    let loader = def.os.loader.as_ref();
    if loader.and_then(|l| l.secure) == Some(true) && !d.has("requires-smm") {
        return Some("it does not use SMM, which <loader secure='yes'> asks for".into());
    }
    if def.os.firmware.is_some()
        && loader.and_then(|l| l.secure) == Some(false)
        && d.has("requires-smm")
    {
        return Some("it needs SMM, which <loader secure='no'> turns down".into());
    }
    if let Mapping::Flash { mode, .. } = &d.mapping {
        let stateless = loader.and_then(|l| l.stateless) == Some(true);
        let wanted = if stateless { "stateless" } else { "split" };
        if mode != wanted {
            return Some(format!("its flash mode is {mode}, not {wanted}"));
        }
    }
    None
}

/// The variable store path a domain gets when its `<nvram>` names none:
/// `NAME_VARS.fd` in the manager's NVRAM directory, as libvirt names it.
pub fn default_nvram(nvram_dir: &Path, name: &str) -> PathBuf {
    nvram_dir.join(format!("{name}_VARS.fd"))
}

/// Resolves `<os firmware=...>` into a `<loader>` and `<nvram>` as libvirt
/// does when a domain starts, and, for an old-style read-only pflash
/// loader without a template, finds the template its descriptor names.
/// `machine` is the versioned machine type (`pc-q35-7.2`).
///
/// Errors: [`ErrorCode::NoSupport`] when no descriptor fits (naming what
/// was asked and where descriptors were looked for),
/// [`ErrorCode::ConfigInvalid`] when the firmware needs SMM the domain
/// turns off.
pub fn resolve(
    def: &mut DomainDef,
    machine: &str,
    descriptors: &[Descriptor],
    nvram_dir: &Path,
    dirs: &[PathBuf],
) -> Result<()> {
    let arch = def.os.arch.clone().unwrap_or_else(|| "x86_64".to_string());
    let old_style = def.os.firmware.is_none()
        && def
            .os
            .loader
            .as_ref()
            .is_some_and(|l| l.kind == Some(LoaderType::Pflash) && l.readonly == Some(true))
        && def
            .os
            .nvram
            .as_ref()
            .is_none_or(|n| n.template.is_none() && !n.is_network());
    if def.os.firmware.is_none() && !old_style {
        return Ok(());
    }
    let mut why = Vec::new();
    let chosen = descriptors
        .iter()
        .find(|d| match mismatch(def, d, machine, &arch) {
            None => true,
            Some(w) => {
                why.push(format!("{}: {w}", d.path.display()));
                false
            }
        });
    let Some(d) = chosen else {
        if old_style {
            // The loader is used as written; its store needs a template
            // from elsewhere only if it does not exist yet.
            return Ok(());
        }
        if def.os.firmware == Some(FirmwareKind::Bios) {
            def.os.firmware = None;
            def.os.firmware_features.clear();
            def.os.loader = None;
            return Ok(());
        }
        let wishes: Vec<String> = def
            .os
            .firmware_features
            .iter()
            .map(|(n, on)| format!("{}={}", n.as_str(), if *on { "yes" } else { "no" }))
            .collect();
        let places: Vec<String> = dirs.iter().map(|p| p.display().to_string()).collect();
        if let Some(path) = def.os.loader.as_ref().and_then(|l| l.path.as_deref()) {
            // A descriptor of that very file that does not fit: say why.
            let own = why
                .iter()
                .find(|w| !w.ends_with("it describes another firmware file"));
            if let Some(w) = own {
                return Err(Error::new(
                    ErrorCode::ConfigUnsupported,
                    format!(
                        "the firmware {path} that <loader> names for <os firmware='efi'> does not fit what the definition asks: {w}; change the <firmware> features or the <loader>, or leave the loader path out to let the firmware be chosen"
                    ),
                ));
            }
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!(
                    "the firmware {path} that <loader> names for <os firmware='efi'> is not one a descriptor in {} describes as fitting {arch} machine {machine}{}: install it (Debian: ovmf), or leave the loader path out to let the firmware be chosen",
                    places.join(", "),
                    if Path::new(path).exists() {
                        ""
                    } else {
                        " (the file does not exist)"
                    }
                ),
            ));
        }
        return Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "Unable to find any firmware to satisfy 'efi'{} for {arch} machine {machine}: no descriptor in {} fits ({}); install the Debian package ovmf, or change the <firmware> features",
                if wishes.is_empty() {
                    String::new()
                } else {
                    format!(" with {}", wishes.join(", "))
                },
                places.join(", "),
                if why.is_empty() {
                    "there are none".to_string()
                } else {
                    why.join("; ")
                }
            ),
        ));
    };
    let mut loader = def.os.loader.take().unwrap_or_default();
    match &d.mapping {
        Mapping::Flash {
            executable,
            executable_format,
            nvram_template,
            nvram_template_format,
            mode,
        } => {
            loader.kind = Some(LoaderType::Pflash);
            loader.readonly = Some(true);
            loader.path = Some(executable.clone());
            if *executable_format != FirmwareFormat::Raw {
                loader.format = Some(*executable_format);
            }
            // A network store is the server's: neither made from the
            // template nor given a file (libvirt's qemuFirmwareFillDomain).
            if mode == "split" && !def.os.nvram.as_ref().is_some_and(Nvram::is_network) {
                let nvram = def.os.nvram.get_or_insert_with(Nvram::default);
                nvram.template = nvram_template.clone();
                // A new store is made in the template's format.
                if nvram.format.is_none()
                    && let Some(f) = nvram_template_format
                    && *f != loader.effective_format()
                {
                    nvram.format = Some(*f);
                }
                if nvram.path.is_none() {
                    let p = default_nvram(nvram_dir, &def.name);
                    nvram.path = Some(p.to_string_lossy().into_owned());
                }
            }
        }
        Mapping::Memory { filename } => {
            loader.kind = Some(LoaderType::Rom);
            loader.path = Some(filename.clone());
        }
        Mapping::Kernel { filename } => {
            def.os.kernel = Some(filename.clone());
        }
    }
    if d.has("requires-smm") {
        match &mut def.features.smm {
            Some(s) if !s.enabled => {
                return Err(Error::new(
                    ErrorCode::ConfigInvalid,
                    format!(
                        "domain has SMM turned off but the chosen firmware {} requires it",
                        d.path.display()
                    ),
                ));
            }
            Some(_) => {}
            None => {
                def.features.smm = Some(Smm {
                    enabled: true,
                    tseg_kib: None,
                })
            }
        }
        loader.secure = Some(true);
    }
    if !matches!(d.mapping, Mapping::Kernel { .. }) {
        def.os.loader = Some(loader);
    }
    def.os.firmware = None;
    def.os.firmware_features.clear();
    Ok(())
}

/// Makes sure the variable store of a pflash loader exists: copies its
/// template there when it does not (with the manager's private mode),
/// through a temporary file so that a failed copy leaves nothing.
/// `nvram_dir` is the manager's NVRAM directory; `store` the path the
/// command line will name.
///
/// Errors: [`ErrorCode::OperationDenied`] when the store or its directory
/// belongs to another user; [`ErrorCode::ConfigInvalid`] when a store is
/// missing and no template is known; [`ErrorCode::Io`] for a copy that
/// fails.
pub fn ensure_nvram(def: &DomainDef, store: &Path) -> Result<()> {
    let me = nix::unistd::Uid::effective().as_raw();
    let owned_by_other = |p: &Path| -> Option<u32> {
        let m = fs::metadata(p).ok()?;
        (m.uid() != me).then_some(m.uid())
    };
    if let Some(dir) = store.parent()
        && let Some(uid) = owned_by_other(dir)
    {
        return Err(Error::new(
            ErrorCode::OperationDenied,
            format!(
                "the NVRAM directory {} belongs to uid {uid}, not to this manager (uid {me}): fix its owner or choose another <nvram> path",
                dir.display()
            ),
        ));
    }
    if store.exists() {
        if let Some(uid) = owned_by_other(store) {
            return Err(Error::new(
                ErrorCode::OperationDenied,
                format!(
                    "the NVRAM file {} belongs to uid {uid}, not to this manager (uid {me}): fix its owner or remove it",
                    store.display()
                ),
            ));
        }
        return Ok(());
    }
    // libvirt's qemuPrepareNVRAMFile: the store is the template's copy,
    // so both are in one format.
    if let Some(n) = &def.os.nvram {
        let store_format = n
            .format
            .or(def.os.loader.as_ref().and_then(|l| l.format))
            .unwrap_or(FirmwareFormat::Raw);
        if let Some(t) = n.template_format
            && n.template.is_some()
            && t != store_format
        {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                format!(
                    "the NVRAM file {} does not exist and its template is {} while the store is to be {}: conversion of the nvram template to another target format is not supported; make the store yourself (qemu-img convert) or give both the same format",
                    store.display(),
                    t.as_str(),
                    store_format.as_str()
                ),
            ));
        }
    }
    let template = def
        .os
        .nvram
        .as_ref()
        .and_then(|n| n.template.clone())
        .ok_or_else(|| {
            Error::new(
                ErrorCode::ConfigInvalid,
                format!(
                    "the NVRAM file {} does not exist and no template is known for loader {}: add <nvram template=...>, or use <os firmware='efi'>",
                    store.display(),
                    def.os
                        .loader
                        .as_ref()
                        .and_then(|l| l.path.as_deref())
                        .unwrap_or("(none)")
                ),
            )
        })?;
    let bytes = fs::read(&template).map_err(|e| {
        Error::io(
            format!(
                "cannot read the NVRAM template {template} (is the Debian package ovmf installed?)"
            ),
            e,
        )
    })?;
    let dir = store.parent().unwrap_or(Path::new("/"));
    fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        store
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, store)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(
            format!(
                "cannot create the NVRAM file {} from {template}",
                store.display()
            ),
            e,
        )
    })
}

/// The variable store file of a domain, if its firmware has one: the
/// `<nvram>` path, or the manager's default for a read-only pflash loader;
/// none for a network store, which lives on its server.
pub fn nvram_file(def: &DomainDef, nvram_dir: &Path) -> Option<PathBuf> {
    let loader: &Loader = def.os.loader.as_ref()?;
    if loader.kind != Some(LoaderType::Pflash)
        || loader.stateless == Some(true)
        || def.os.nvram.as_ref().is_some_and(Nvram::is_network)
    {
        return None;
    }
    match def.os.nvram.as_ref().and_then(|n| n.path.as_ref()) {
        Some(p) => Some(PathBuf::from(p)),
        None => (loader.readonly == Some(true) || def.os.nvram.is_some())
            .then(|| default_nvram(nvram_dir, &def.name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_glib() {
        assert!(glob("pc-q35-*", "pc-q35-7.2"));
        assert!(!glob("pc-q35-*", "q35"));
        assert!(glob("pc-i440fx-?.?", "pc-i440fx-7.2"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "acd"));
    }
}
