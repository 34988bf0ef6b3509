//! A disk's `<iotune>` changed in the running domain or in its definition
//! (virsh's `blkdeviotune` with values), with libvirt's rules
//! (`qemuDomainSetBlockIoTune`): a family of limits not given keeps the
//! disk's (or, joining another group, that group's), a `_max_length`
//! whose family is cleared falls back to what QEMU accepts, a `_max`
//! needs its base and may not be below it, all limits 0 removes the
//! throttle and the group; live, QEMU's `block_set_io_throttle` on the
//! disk's device, and every disk of the group takes the new limits.
//! Every check comes before the first change.

use super::driver::Core;
use crate::driver::{BlockIoTuneChange, Domain, ModifyFlags};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, IOTUNE_LIMITS, IoTune};

/// QEMU's largest throttle limit (libvirt's `QEMU_BLOCK_IOTUNE_MAX`).
pub const IOTUNE_MAX: u64 = 1_000_000_000_000_000;

/// How many limits a throttle has.
const N: usize = 19;

/// The limits of a throttle, in [`IOTUNE_LIMITS`] order.
type Limits = [u64; N];

/// A throttle as libvirt merges it: the limits and the group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Info {
    limits: Limits,
    group: Option<String>,
}

/// The family of limit `i` (what libvirt sets together): the bytes,
/// iops, bytes max, iops max, size, bytes max length, iops max length.
fn family(i: usize) -> usize {
    match i {
        0..=11 => i / 3,
        12 => 4,
        13..=15 => 5,
        _ => 6,
    }
}

/// The families given, as bits; the group as bit 7.
const GROUP_GIVEN: u32 = 1 << 7;

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

fn unsupported(message: String) -> Error {
    Error::new(ErrorCode::ConfigUnsupported, message)
}

/// The change read: the limits given (0 where not), which families and
/// whether the group were given. Unknown or repeated names, limits above
/// [`IOTUNE_MAX`] and a total beside its read or write part are refused.
fn given(change: &BlockIoTuneChange) -> Result<(Info, u32)> {
    let mut info = Info::default();
    let mut set = 0u32;
    let mut seen = [false; N];
    for (name, v) in &change.limits {
        let i = IOTUNE_LIMITS
            .iter()
            .position(|(n, _)| n == name)
            .ok_or_else(|| invalid(format!("parameter '{name}' not supported")))?;
        if seen[i] {
            return Err(invalid(format!("parameter '{name}' occurs multiple times")));
        }
        if *v > IOTUNE_MAX {
            return Err(invalid(format!(
                "block I/O throttle limit value must be no more than {IOTUNE_MAX}"
            )));
        }
        seen[i] = true;
        info.limits[i] = *v;
        set |= 1 << family(i);
    }
    if let Some(g) = &change.group_name {
        info.group = (!g.is_empty()).then(|| g.clone());
        set |= GROUP_GIVEN;
    }
    for (base, what) in [
        (0, "bytes_sec"),
        (3, "iops_sec"),
        (6, "bytes_sec_max"),
        (9, "iops_sec_max"),
    ] {
        let l = &info.limits;
        if l[base] != 0 && (l[base + 1] != 0 || l[base + 2] != 0) {
            return Err(invalid(format!(
                "total and read/write of {what} cannot be set at the same time"
            )));
        }
    }
    Ok((info, set))
}

/// The throttle of `t` as an [`Info`].
fn info_of(t: Option<&IoTune>) -> Info {
    let Some(t) = t else {
        return Info::default();
    };
    let mut limits = [0; N];
    for (i, (name, _)) in IOTUNE_LIMITS.iter().enumerate() {
        limits[i] = t.get(name);
    }
    Info {
        limits,
        group: t.group_name.clone(),
    }
}

/// `info` as `<iotune>`: none when every limit is 0.
fn iotune_of(info: &Info) -> Option<IoTune> {
    if info.limits.iter().all(|v| *v == 0) {
        return None;
    }
    Some(IoTune {
        limits: IOTUNE_LIMITS
            .iter()
            .zip(info.limits)
            .filter(|(_, v)| *v > 0)
            .map(|((n, _), v)| (*n, v))
            .collect(),
        group_name: info.group.clone(),
    })
}

/// The disk `path` names in `def` (its target or its file).
fn disk_index(def: &DomainDef, path: &str) -> Option<usize> {
    def.devices
        .disks
        .iter()
        .position(|d| d.target == path || d.source.as_deref() == Some(path))
}

/// The throttle disk `i` of `def` has after `new` (given families `set`),
/// as libvirt merges it (`qemuDomainSetBlockIoTuneDefaults`,
/// `qemuDomainCheckBlockIoTuneReset`); `live` adds the checks of the
/// running domain's `_max` limits.
fn merged(def: &DomainDef, i: usize, new: &Info, set: u32, live: bool) -> Result<Info> {
    let disk = &def.devices.disks[i];
    if disk.vhost_user.is_some() {
        return Err(unsupported(
            "a block I/O throttling is not supported for vhostuser disk".into(),
        ));
    }
    let own = info_of(disk.iotune.as_deref());
    // Joining another group: what that group has is the current one.
    let cur = match &new.group {
        Some(g) if own.group.as_ref() != Some(g) => def
            .devices
            .disks
            .iter()
            .map(|d| info_of(d.iotune.as_deref()))
            .find(|o| o.group.as_ref() == Some(g))
            .unwrap_or(own.clone()),
        _ => own.clone(),
    };
    let mut out = new.clone();
    for i in 0..13 {
        if set & (1 << family(i)) == 0 {
            out.limits[i] = cur.limits[i];
        }
    }
    if set & GROUP_GIVEN == 0 {
        out.group.clone_from(&cur.group);
    }
    for i in 13..N {
        let (base, max) = (i - 13, i - 7);
        if set & (1 << family(i)) == 0 {
            out.limits[i] = cur.limits[i];
        } else if cur.limits[i] != 0 && out.limits[i] == 0 {
            out.limits[i] = u64::from(out.limits[base] != 0 || out.limits[max] != 0);
        }
    }
    if out.limits.iter().all(|v| *v == 0) {
        if out.group.is_some() && out.group != own.group {
            return Err(unsupported(
                "creating a new group/updating existing with all tune parameters zero is not supported"
                    .into(),
            ));
        }
        out.group = None;
    }
    if live {
        for (base, (name, _)) in IOTUNE_LIMITS.iter().enumerate().take(6) {
            let (v, max) = (out.limits[base], out.limits[base + 6]);
            if max == 0 {
                continue;
            }
            if v == 0 {
                return Err(unsupported(format!(
                    "cannot reset '{name}' when '{name}_max' is set"
                )));
            }
            if max < v {
                return Err(unsupported(format!(
                    "value '{name}_max' cannot be smaller than '{name}'"
                )));
            }
        }
    }
    Ok(out)
}

/// `def` with disk `i`'s throttle `info`, and every disk of its group
/// with the same (`qemuDomainSetGroupBlockIoTune`).
fn apply(def: &mut DomainDef, i: usize, info: &Info) {
    let t = iotune_of(info).map(Box::new);
    def.devices.disks[i].iotune.clone_from(&t);
    if info.group.is_some() {
        for d in &mut def.devices.disks {
            if d.iotune.as_ref().and_then(|o| o.group_name.as_ref()) == info.group.as_ref() {
                d.iotune.clone_from(&t);
            }
        }
    }
}

impl Core {
    /// [`crate::Driver::set_block_iotune`].
    pub(crate) fn set_block_iotune(
        &self,
        dom: &Domain,
        path: &str,
        change: &BlockIoTuneChange,
        flags: ModifyFlags,
    ) -> Result<()> {
        let (new, set) = given(change)?;
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let (run, config) = self.targets(dom, flags, "change the I/O throttle of a disk of")?;
        // Every check first, so that a refused change changes nothing.
        let live = match &run {
            Some(run) => {
                let def = run.live_def();
                let i = disk_index(&def, path)
                    .ok_or_else(|| invalid(format!("disk '{path}' not found in domain")))?;
                let info = merged(&def, i, &new, set, true)?;
                Some((def, i, info))
            }
            None => None,
        };
        if config {
            self.with_entry(dom, |e| match &e.persistent {
                Some(def) => {
                    let i = disk_index(def, path).ok_or_else(|| {
                        invalid(format!(
                            "missing persistent configuration for disk '{path}'"
                        ))
                    })?;
                    merged(def, i, &new, set, false).map(drop)
                }
                None => Ok(()),
            })?;
        }
        if let (Some(run), Some((mut def, i, info))) = (&run, live) {
            let disk = &def.devices.disks[i];
            // QEMU takes no throttle for an empty drive (libvirt skips
            // it too).
            if disk.source.is_some() || disk.network.is_some() {
                let id = crate::qemu::argv::disk_device_ids(&def)?.swap_remove(i);
                let t = iotune_of(&info).unwrap_or_default();
                super::tuning::send_io_throttle(run.qmp()?, disk, &id, &t)?;
            }
            let before = def.devices.disks.clone();
            apply(&mut def, i, &info);
            for (d, was) in def.devices.disks.iter().zip(&before) {
                if d != was {
                    run.set_disk(d.clone());
                }
            }
            self.save_status(dom.uuid, run);
            // What was asked, as libvirt tells it.
            use crate::driver::TunableValue;
            let mut params = vec![(
                "blkdeviotune.disk".to_string(),
                TunableValue::Text(path.to_string()),
            )];
            params.extend(
                change
                    .limits
                    .iter()
                    .map(|(name, v)| (format!("blkdeviotune.{name}"), TunableValue::Number(*v))),
            );
            if let Some(group) = &change.group_name {
                params.push((
                    "blkdeviotune.group_name".to_string(),
                    TunableValue::Text(group.clone()),
                ));
            }
            super::monitor::tell_tunables(self, run, params);
        }
        if config {
            self.edit_config(dom, &|def, _| {
                let i = disk_index(def, path).ok_or_else(|| {
                    invalid(format!(
                        "missing persistent configuration for disk '{path}'"
                    ))
                })?;
                let info = merged(def, i, &new, set, false)?;
                apply(def, i, &info);
                Ok(())
            })?;
        }
        self.log.info(&format!(
            "domain '{}': I/O throttle of disk {path} changed{}{}",
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

    fn def(disks: &str) -> DomainDef {
        DomainDef::from_xml(&format!(
            "<domain type='qemu'><name>t</name><memory unit='MiB'>64</memory>\
             <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{disks}</devices></domain>"
        ))
        .unwrap()
    }

    fn disk(target: &str, iotune: &str) -> String {
        format!(
            "<disk type='file' device='disk'><source file='/i/{target}'/>\
             <target dev='{target}' bus='virtio'/>{iotune}</disk>"
        )
    }

    fn change(limits: &[(&str, u64)], group: Option<&str>) -> BlockIoTuneChange {
        BlockIoTuneChange::new(
            limits.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
            group.map(str::to_string),
        )
    }

    fn merge(d: &DomainDef, c: &BlockIoTuneChange) -> Result<Info> {
        let (new, set) = given(c)?;
        merged(d, 0, &new, set, true)
    }

    #[test]
    fn families_not_given_keep_their_limits() {
        let d = def(&disk(
            "vda",
            "<iotune><read_bytes_sec>100</read_bytes_sec><total_iops_sec>7</total_iops_sec>\
             <group_name>g</group_name></iotune>",
        ));
        let m = merge(&d, &change(&[("total_bytes_sec", 5)], None)).unwrap();
        // The bytes family is replaced whole; the iops and group stay.
        assert_eq!((m.limits[0], m.limits[1], m.limits[3]), (5, 0, 7));
        assert_eq!(m.group.as_deref(), Some("g"));
        let none = merge(
            &d,
            &change(&[("total_bytes_sec", 0), ("total_iops_sec", 0)], None),
        );
        assert_eq!(none.unwrap(), Info::default());
    }

    #[test]
    fn libvirts_refusals() {
        let d = def(&disk("vda", ""));
        let e = merge(
            &d,
            &change(&[("total_bytes_sec", 5), ("read_bytes_sec", 1)], None),
        );
        assert!(
            e.unwrap_err()
                .message
                .contains("total and read/write of bytes_sec")
        );
        let e = merge(&d, &change(&[("total_iops_sec_max", 5)], None)).unwrap_err();
        assert_eq!(e.code, ErrorCode::ConfigUnsupported);
        assert_eq!(
            e.message,
            "cannot reset 'total_iops_sec' when 'total_iops_sec_max' is set"
        );
        let e = merge(
            &d,
            &change(&[("read_bytes_sec", 9), ("read_bytes_sec_max", 5)], None),
        );
        assert!(e.unwrap_err().message.contains("cannot be smaller"));
        let e = merge(&d, &change(&[("total_bytes_sec", IOTUNE_MAX + 1)], None));
        assert!(e.unwrap_err().message.contains("no more than"));
        let e = merge(&d, &change(&[("bogus", 1)], None));
        assert!(e.unwrap_err().message.contains("'bogus' not supported"));
        let e = merge(&d, &change(&[], Some("new"))).unwrap_err();
        assert!(e.message.contains("creating a new group"), "{}", e.message);
    }

    #[test]
    fn joining_a_group_takes_its_limits_and_the_group_shares_the_new_ones() {
        let mut d = def(&format!(
            "{}{}",
            disk("vda", ""),
            disk(
                "vdb",
                "<iotune><total_bytes_sec>100</total_bytes_sec><group_name>g</group_name></iotune>"
            )
        ));
        let (new, set) = given(&change(&[("write_iops_sec", 3)], Some("g"))).unwrap();
        let m = merged(&d, 0, &new, set, true).unwrap();
        assert_eq!((m.limits[0], m.limits[5]), (100, 3));
        apply(&mut d, 0, &m);
        assert_eq!(d.devices.disks[0].iotune, d.devices.disks[1].iotune);
        assert_eq!(
            d.devices.disks[1]
                .iotune
                .as_ref()
                .unwrap()
                .get("write_iops_sec"),
            3
        );
    }

    #[test]
    fn a_cleared_family_keeps_a_max_length_qemu_accepts() {
        let d = def(&disk(
            "vda",
            "<iotune><total_bytes_sec>10</total_bytes_sec><total_bytes_sec_max>20</total_bytes_sec_max>\
             <total_bytes_sec_max_length>5</total_bytes_sec_max_length></iotune>",
        ));
        let m = merge(&d, &change(&[("total_bytes_sec_max_length", 0)], None)).unwrap();
        assert_eq!(m.limits[13], 1);
    }
}
