//! `<memtune>` and `<blkiotune>` changed in the running domain or in its
//! definition (virsh's `memtune` and `blkiotune` with values), with
//! libvirt's rules (`qemuDomainSetMemoryParameters`,
//! `qemuDomainSetBlkioParameters`): a limit of "unlimited" removes it,
//! the hard limit may not end above the swap hard limit, a device's
//! setting of 0 removes it, and live the QEMU's memory or block I/O
//! cgroup is written in the order cgroup v1 needs. Every check comes
//! before the first change, and a cgroup write that fails undoes those
//! made before it, so a refused change changes nothing.
//!
//! A domain that started without such a group gets one, kept in the run
//! directory as a start keeps it (see [`super::pinning`]), so that its
//! end removes it.

use std::path::{Path, PathBuf};

use super::driver::{Core, lock};
use super::pinning::{BLKIO_GROUP_FILE, MEMORY_GROUP_FILE};
use super::runtime::Running;
use crate::driver::{BlkioTuneChange, Domain, MemTuneChange, ModifyFlags};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{BlkioDevice, BlkioTune, DomainDef, MemTune};
use crate::sys::cgroup::{self, BlkioChange, BlkioKey, MemoryChange, MemoryLimits, Refusal};

/// Every setting of a device.
const KEYS: [BlkioKey; 5] = [
    BlkioKey::Weight,
    BlkioKey::ReadIops,
    BlkioKey::WriteIops,
    BlkioKey::ReadBps,
    BlkioKey::WriteBps,
];

/// The weights a group or a device may have (0 for a device: none).
const WEIGHTS: std::ops::RangeInclusive<u64> = 100..=1000;

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

/// Refuses limits above libvirt's "unlimited".
fn check_memtune(change: &MemTuneChange) -> Result<()> {
    let limits = [
        ("hard_limit", change.hard_limit_kib),
        ("soft_limit", change.soft_limit_kib),
        ("swap_hard_limit", change.swap_hard_limit_kib),
    ];
    for (name, v) in limits {
        if let Some(v) = v
            && v > MemTune::UNLIMITED_KIB
        {
            return Err(invalid(format!(
                "memory {name} {v} KiB must be at most {} KiB (which means unlimited)",
                MemTune::UNLIMITED_KIB
            )));
        }
    }
    Ok(())
}

/// `def`'s `<memtune>` with `change` made; `which` names the definition
/// in errors.
pub(super) fn merged_memtune(
    def: &DomainDef,
    change: &MemTuneChange,
    which: &str,
) -> Result<Option<MemTune>> {
    let mut m = def.memtune.unwrap_or_default();
    let limit = |v: u64| (v < MemTune::UNLIMITED_KIB).then_some(v);
    if let Some(v) = change.hard_limit_kib {
        m.hard_limit_kib = limit(v);
    }
    if let Some(v) = change.soft_limit_kib {
        m.soft_limit_kib = limit(v);
    }
    if let Some(v) = change.swap_hard_limit_kib {
        m.swap_hard_limit_kib = limit(v);
    }
    // As libvirt compares them: a limit not set is "unlimited", so no
    // hard limit with a swap limit is refused too.
    let touched = change.hard_limit_kib.is_some() || change.swap_hard_limit_kib.is_some();
    let hard = m.hard_limit_kib.unwrap_or(MemTune::UNLIMITED_KIB);
    let swap = m.swap_hard_limit_kib.unwrap_or(MemTune::UNLIMITED_KIB);
    if touched && hard > swap {
        let show = |v: Option<u64>| v.map_or("unlimited".to_string(), |k| format!("{k} KiB"));
        return Err(invalid(format!(
            "memory hard_limit tunable value must be lower than or equal to swap_hard_limit: the {which} of domain '{}' would have {} above {}",
            def.name,
            show(m.hard_limit_kib),
            show(m.swap_hard_limit_kib)
        )));
    }
    Ok((m != MemTune::default()).then_some(m))
}

/// The per-device lists of a change, with the setting each one is.
fn device_lists(change: &BlkioTuneChange) -> [(BlkioKey, &[(String, u64)]); 5] {
    [
        (BlkioKey::Weight, &change.device_weight),
        (BlkioKey::ReadIops, &change.device_read_iops_sec),
        (BlkioKey::WriteIops, &change.device_write_iops_sec),
        (BlkioKey::ReadBps, &change.device_read_bytes_sec),
        (BlkioKey::WriteBps, &change.device_write_bytes_sec),
    ]
}

/// libvirt's name of a per-device list.
fn list_name(key: BlkioKey) -> &'static str {
    match key {
        BlkioKey::Weight => "device_weight",
        BlkioKey::ReadIops => "device_read_iops_sec",
        BlkioKey::WriteIops => "device_write_iops_sec",
        BlkioKey::ReadBps => "device_read_bytes_sec",
        BlkioKey::WriteBps => "device_write_bytes_sec",
    }
}

/// Refuses weights out of range, numbers of I/O operations past what
/// `<blkiotune>` holds, and paths that are not absolute.
fn check_blkiotune(change: &BlkioTuneChange) -> Result<()> {
    if let Some(w) = change.weight
        && !WEIGHTS.contains(&u64::from(w))
    {
        return Err(invalid(format!(
            "blkio weight {w} is out of range: 100 to 1000"
        )));
    }
    for (key, list) in device_lists(change) {
        for (path, v) in list {
            if !path.starts_with('/') {
                return Err(invalid(format!(
                    "{} names '{path}': a device is named by its absolute path",
                    list_name(key)
                )));
            }
            let fits = match key {
                BlkioKey::Weight => *v == 0 || WEIGHTS.contains(v),
                BlkioKey::ReadIops | BlkioKey::WriteIops => u32::try_from(*v).is_ok(),
                BlkioKey::ReadBps | BlkioKey::WriteBps => true,
            };
            if !fits {
                return Err(invalid(format!(
                    "invalid value '{v}' for parameter '{}' of device '{path}': {}",
                    list_name(key),
                    if key == BlkioKey::Weight {
                        "0 (none) or 100 to 1000".to_string()
                    } else {
                        format!("at most {}", u32::MAX)
                    }
                )));
            }
        }
    }
    Ok(())
}

/// A device's value of `key` (0: none).
fn device_value(d: &BlkioDevice, key: BlkioKey) -> u64 {
    match key {
        BlkioKey::Weight => d.weight.map(u64::from),
        BlkioKey::ReadIops => d.read_iops_sec.map(u64::from),
        BlkioKey::WriteIops => d.write_iops_sec.map(u64::from),
        BlkioKey::ReadBps => d.read_bytes_sec,
        BlkioKey::WriteBps => d.write_bytes_sec,
    }
    .unwrap_or(0)
}

/// Sets a device's `key` to `v` (0: none); checked to fit before.
fn set_device_value(d: &mut BlkioDevice, key: BlkioKey, v: u64) {
    let some = (v != 0).then_some(v);
    let small = some.and_then(|v| u32::try_from(v).ok());
    match key {
        BlkioKey::Weight => d.weight = small,
        BlkioKey::ReadIops => d.read_iops_sec = small,
        BlkioKey::WriteIops => d.write_iops_sec = small,
        BlkioKey::ReadBps => d.read_bytes_sec = some,
        BlkioKey::WriteBps => d.write_bytes_sec = some,
    }
}

/// `def`'s `<blkiotune>` with `change` merged in as libvirt merges it: a
/// device listed gets that setting (0: removed), a device not yet there
/// is added unless its value is 0, and a device left with no setting is
/// dropped.
pub(super) fn merged_blkiotune(def: &DomainDef, change: &BlkioTuneChange) -> Option<BlkioTune> {
    let mut b = def.blkiotune.as_deref().cloned().unwrap_or_default();
    if let Some(w) = change.weight {
        b.weight = Some(w);
    }
    for (key, list) in device_lists(change) {
        for (path, v) in list {
            match b.devices.iter_mut().find(|d| d.path == *path) {
                Some(d) => set_device_value(d, key, *v),
                None if *v == 0 => {}
                None => {
                    let mut d = BlkioDevice {
                        path: path.clone(),
                        ..BlkioDevice::default()
                    };
                    set_device_value(&mut d, key, *v);
                    b.devices.push(d);
                }
            }
        }
    }
    b.devices
        .retain(|d| KEYS.iter().any(|k| device_value(d, *k) != 0));
    (b != BlkioTune::default()).then_some(b)
}

/// The `major:minor` of host block device `path`.
fn block_device(path: &str) -> Result<String> {
    let st = nix::sys::stat::stat(Path::new(path))
        .map_err(|e| invalid(format!("cannot use blkio device '{path}': {e}")))?;
    if st.st_mode & nix::libc::S_IFMT != nix::libc::S_IFBLK {
        return Err(invalid(format!("Path '{path}' must be a block device")));
    }
    Ok(format!(
        "{}:{}",
        nix::sys::stat::major(st.st_rdev),
        nix::sys::stat::minor(st.st_rdev)
    ))
}

/// The group of the run recorded in `file`, or else one made for it now
/// by `make` (and recorded, so that the run's end removes it).
fn group_of(
    run: &Running,
    file: &str,
    make: impl FnOnce() -> std::result::Result<PathBuf, String>,
) -> std::result::Result<PathBuf, Refusal> {
    if let Ok(dir) = std::fs::read_to_string(run.run_dir.join(file)) {
        return Ok(PathBuf::from(dir.trim()));
    }
    let dir = make().map_err(Refusal::Lacks)?;
    crate::sys::fsutil::write_atomic(&run.run_dir.join(file), dir.to_string_lossy().as_bytes())
        .map_err(|e| Refusal::Lacks(e.to_string()))?;
    Ok(dir)
}

/// The error of a cgroup change of domain `dom` that `what` describes.
fn refused(dom: &Domain, what: &str, r: Refusal) -> Error {
    let (code, why) = match r {
        Refusal::Lacks(why) => (ErrorCode::NoSupport, why),
        Refusal::Refused(why) => (ErrorCode::OperationFailed, why),
    };
    Error::new(
        code,
        format!(
            "cannot change the {what} of running domain '{}': {why}",
            dom.name
        ),
    )
}

/// Bytes of a limit in KiB.
fn bytes(kib: Option<u64>) -> Option<u64> {
    kib.map(|k| k.saturating_mul(1024))
}

impl Core {
    /// [`crate::Driver::set_memtune`].
    pub(crate) fn set_memtune(
        &self,
        dom: &Domain,
        change: &MemTuneChange,
        flags: ModifyFlags,
    ) -> Result<()> {
        check_memtune(change)?;
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let (run, config) = self.targets(dom, flags, "change the memory tuning of")?;
        // Every check first, so that a refused change changes nothing.
        let live = match &run {
            Some(run) => Some(merged_memtune(&run.live_def(), change, "running domain")?),
            None => None,
        };
        if config {
            self.with_entry(dom, |e| match &e.persistent {
                Some(def) => merged_memtune(def, change, "persistent definition").map(|_| ()),
                None => Ok(()),
            })?;
        }
        if let (Some(run), Some(new)) = (&run, live)
            && !change.is_empty()
        {
            let m = new.unwrap_or_default();
            let limits = MemoryLimits {
                hard: bytes(m.hard_limit_kib),
                soft: bytes(m.soft_limit_kib),
                swap_hard: bytes(m.swap_hard_limit_kib),
            };
            let set = |v: Option<u64>| {
                v.map(|k| (k < MemTune::UNLIMITED_KIB).then(|| k.saturating_mul(1024)))
            };
            let memory = MemoryChange {
                hard: set(change.hard_limit_kib),
                soft: set(change.soft_limit_kib),
                swap_hard: set(change.swap_hard_limit_kib),
            };
            let tag = dom.uuid.to_string();
            group_of(run, MEMORY_GROUP_FILE, || {
                cgroup::limit_memory(run.process.pid, &tag, &MemoryLimits::default())
            })
            .and_then(|dir| cgroup::change_memory(&dir, &memory, &limits))
            .map_err(|r| refused(dom, "memory limits", r))?;
            lock(&run.live).memtune = Some(new);
            self.save_status(dom.uuid, run);
        }
        if config {
            self.edit_config(dom, &|def, which| {
                def.memtune = merged_memtune(def, change, which)?;
                Ok(())
            })?;
        }
        self.log.info(&format!(
            "domain '{}': memory tuning changed{}{}",
            dom.name,
            if run.is_some() { " (live)" } else { "" },
            if config { " (config)" } else { "" }
        ));
        Ok(())
    }

    /// [`crate::Driver::set_blkiotune`].
    pub(crate) fn set_blkiotune(
        &self,
        dom: &Domain,
        change: &BlkioTuneChange,
        flags: ModifyFlags,
    ) -> Result<()> {
        check_blkiotune(change)?;
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let (run, config) = self.targets(dom, flags, "change the block I/O tuning of")?;
        if let Some(run) = &run
            && !change.is_empty()
        {
            // Every device is found before the first write.
            let def = run.live_def();
            let old = def.blkiotune.as_deref().cloned().unwrap_or_default();
            let mut changes = Vec::new();
            if let Some(w) = change.weight {
                changes.push(BlkioChange {
                    dev: None,
                    key: BlkioKey::Weight,
                    value: u64::from(w),
                    old: old.weight.map_or(0, u64::from),
                });
            }
            for (key, list) in device_lists(change) {
                for (path, value) in list {
                    let was = old.devices.iter().find(|d| d.path == *path);
                    changes.push(BlkioChange {
                        dev: Some(block_device(path)?),
                        key,
                        value: *value,
                        old: was.map_or(0, |d| device_value(d, key)),
                    });
                }
            }
            let tag = dom.uuid.to_string();
            group_of(run, BLKIO_GROUP_FILE, || {
                cgroup::limit_blkio(run.process.pid, &tag, &Default::default())
            })
            .and_then(|dir| cgroup::change_blkio(&dir, &changes))
            .map_err(|r| refused(dom, "block I/O tuning", r))?;
            lock(&run.live).blkiotune = Some(merged_blkiotune(&def, change).map(Box::new));
            self.save_status(dom.uuid, run);
        }
        if config {
            self.edit_config(dom, &|def, _| {
                def.blkiotune = merged_blkiotune(def, change).map(Box::new);
                Ok(())
            })?;
        }
        self.log.info(&format!(
            "domain '{}': block I/O tuning changed{}{}",
            dom.name,
            if run.is_some() { " (live)" } else { "" },
            if config { " (config)" } else { "" }
        ));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(xml_tune: &str) -> DomainDef {
        DomainDef::from_xml(&format!(
            "<domain type='qemu'><name>t</name><memory unit='MiB'>64</memory>{xml_tune}\
             <os><type arch='x86_64' machine='pc'>hvm</type></os><devices/></domain>"
        ))
        .unwrap()
    }

    fn dev(path: &str) -> BlkioDevice {
        BlkioDevice {
            path: path.into(),
            ..BlkioDevice::default()
        }
    }

    #[test]
    fn memtune_limits_merge_and_unlimited_removes_one() {
        let d = def("<memtune><hard_limit>1000</hard_limit><soft_limit>500</soft_limit></memtune>");
        let c = MemTuneChange {
            swap_hard_limit_kib: Some(2000),
            soft_limit_kib: Some(MemTune::UNLIMITED_KIB),
            ..MemTuneChange::default()
        };
        let m = merged_memtune(&d, &c, "x").unwrap().unwrap();
        assert_eq!(m.hard_limit_kib, Some(1000));
        assert_eq!(m.soft_limit_kib, None);
        assert_eq!(m.swap_hard_limit_kib, Some(2000));
        let all = MemTuneChange {
            hard_limit_kib: Some(MemTune::UNLIMITED_KIB),
            soft_limit_kib: Some(MemTune::UNLIMITED_KIB),
            ..MemTuneChange::default()
        };
        assert_eq!(merged_memtune(&d, &all, "x").unwrap(), None);
    }

    #[test]
    fn a_hard_limit_above_the_swap_limit_is_refused_on_the_merged_result() {
        let d = def("<memtune><swap_hard_limit>1000</swap_hard_limit></memtune>");
        let mut c = MemTuneChange {
            hard_limit_kib: Some(1001),
            ..MemTuneChange::default()
        };
        let e = merged_memtune(&d, &c, "persistent definition").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(e.message.contains("swap_hard_limit"), "{e}");
        c.hard_limit_kib = Some(1000);
        assert!(merged_memtune(&d, &c, "x").is_ok());
        // No hard limit is above any swap limit, as libvirt sees it.
        c.hard_limit_kib = Some(MemTune::UNLIMITED_KIB);
        let e = merged_memtune(&d, &c, "x").unwrap_err();
        assert!(e.message.contains("unlimited above 1000 KiB"), "{e}");
        c.swap_hard_limit_kib = Some(MemTune::UNLIMITED_KIB);
        assert_eq!(merged_memtune(&d, &c, "x").unwrap(), None);
        let too_big = MemTuneChange {
            hard_limit_kib: Some(MemTune::UNLIMITED_KIB + 1),
            ..MemTuneChange::default()
        };
        assert_eq!(
            check_memtune(&too_big).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
    }

    #[test]
    fn blkio_devices_merge_as_libvirt_merges_them() {
        let d = def("<blkiotune><weight>500</weight><device><path>/dev/a</path>\
             <read_bytes_sec>100</read_bytes_sec><write_iops_sec>7</write_iops_sec></device></blkiotune>");
        // /dev/a loses its read limit and keeps its write limit; /dev/b
        // is added; /dev/c with 0 is not.
        let c = BlkioTuneChange {
            device_read_bytes_sec: vec![("/dev/a".into(), 0), ("/dev/b".into(), 9)],
            device_write_iops_sec: vec![("/dev/c".into(), 0)],
            ..BlkioTuneChange::default()
        };
        let b = merged_blkiotune(&d, &c).unwrap();
        assert_eq!(b.weight, Some(500));
        let mut a = dev("/dev/a");
        a.write_iops_sec = Some(7);
        let mut bb = dev("/dev/b");
        bb.read_bytes_sec = Some(9);
        assert_eq!(b.devices, vec![a, bb]);
        // Removing the last settings of a device drops it.
        let c = BlkioTuneChange {
            device_write_iops_sec: vec![("/dev/a".into(), 0)],
            device_read_bytes_sec: vec![("/dev/a".into(), 0)],
            ..BlkioTuneChange::default()
        };
        let b = merged_blkiotune(&d, &c).unwrap();
        assert!(b.devices.is_empty(), "{b:?}");
    }

    #[test]
    fn blkio_values_out_of_range_are_refused() {
        let c = BlkioTuneChange {
            weight: Some(50),
            ..BlkioTuneChange::default()
        };
        assert_eq!(
            check_blkiotune(&c).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
        let c = BlkioTuneChange {
            device_weight: vec![("/dev/a".into(), 20)],
            ..BlkioTuneChange::default()
        };
        assert!(
            check_blkiotune(&c)
                .unwrap_err()
                .message
                .contains("device_weight")
        );
        let c = BlkioTuneChange {
            device_read_iops_sec: vec![("/dev/a".into(), 1 << 33)],
            ..BlkioTuneChange::default()
        };
        assert!(check_blkiotune(&c).is_err());
        let c = BlkioTuneChange {
            device_read_bytes_sec: vec![("sda".into(), 1)],
            ..BlkioTuneChange::default()
        };
        assert!(
            check_blkiotune(&c)
                .unwrap_err()
                .message
                .contains("absolute")
        );
        let c = BlkioTuneChange {
            device_weight: vec![("/dev/a".into(), 0)],
            device_read_bytes_sec: vec![("/dev/a".into(), 1 << 40)],
            ..BlkioTuneChange::default()
        };
        assert!(check_blkiotune(&c).is_ok());
    }

    #[test]
    fn a_path_that_is_not_a_block_device_is_refused() {
        let e = block_device("/dev/null").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(e.message.contains("must be a block device"), "{e}");
        assert!(block_device("/nonexistent/dev").is_err());
    }
}
