//! libvirt's domain snapshot procedures (`virDomainSnapshot*`) on
//! qvirt's snapshots: the XDR shapes of `remote_protocol.x`, and what
//! each call answers from the [`Driver`]'s snapshot methods, with
//! libvirt's list filters and its errors (`VIR_ERR_NO_DOMAIN_SNAPSHOT`).

use super::types::Dom;
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{
    Driver, Snapshot, SnapshotCreateFlags, SnapshotDeleteFlags, SnapshotInfo, SnapshotRevertFlags,
};
use crate::model::SnapshotState;

xdr_struct! {
    /// `remote_nonnull_domain_snapshot`.
    pub struct Snap { pub name: String, pub dom: Dom }
    /// `remote_domain_snapshot_create_xml_args`.
    pub struct SnapCreateArgs { pub dom: Dom, pub xml_desc: String, pub flags: u32 }
    /// The reply of the calls that give a snapshot
    /// (`remote_domain_snapshot_*_ret { remote_nonnull_domain_snapshot snap; }`).
    pub struct SnapRet { pub snap: Snap }
    /// The arguments of the calls on one snapshot with flags
    /// (`remote_domain_snapshot_*_args { snap; unsigned int flags; }`).
    pub struct SnapFlagsArgs { pub snap: Snap, pub flags: u32 }
    /// `remote_domain_snapshot_list_names_args`.
    pub struct SnapNamesArgs { pub dom: Dom, pub maxnames: i32, pub flags: u32 }
    /// `remote_domain_snapshot_list_children_names_args`.
    pub struct SnapChildNamesArgs { pub snap: Snap, pub maxnames: i32, pub flags: u32 }
    /// `remote_domain_list_all_snapshots_args`.
    pub struct SnapListAllArgs { pub dom: Dom, pub need_results: i32, pub flags: u32 }
    /// `remote_domain_snapshot_list_all_children_args`.
    pub struct SnapChildrenArgs { pub snap: Snap, pub need_results: i32, pub flags: u32 }
    /// `remote_domain_list_all_snapshots_ret`,
    /// `remote_domain_snapshot_list_all_children_ret`.
    pub struct SnapListRet { pub snapshots: Vec<Snap>, pub ret: i32 }
    /// `remote_domain_snapshot_lookup_by_name_args`.
    pub struct SnapLookupArgs { pub dom: Dom, pub name: String, pub flags: u32 }
}

/// libvirt's `VIR_DOMAIN_SNAPSHOT_LIST_*` flags.
mod list {
    pub const ROOTS: u32 = 1;
    pub const DESCENDANTS: u32 = 1;
    pub const METADATA: u32 = 2;
    pub const LEAVES: u32 = 4;
    pub const NO_LEAVES: u32 = 8;
    pub const NO_METADATA: u32 = 16;
    pub const INACTIVE: u32 = 32;
    pub const ACTIVE: u32 = 64;
    pub const DISK_ONLY: u32 = 128;
    pub const INTERNAL: u32 = 256;
    pub const EXTERNAL: u32 = 512;
    /// Every flag above, and `TOPOLOGICAL` (1024), which qvirt's order
    /// (oldest first, so parents first) always honours.
    pub const ALL: u32 = 2047;
}

/// `VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE`: qvirt always reads snapshot
/// XML strictly, so asking for it changes nothing.
const CREATE_VALIDATE: u32 = 512;

impl Snap {
    /// The wire form of `snap`.
    pub fn of(snap: Snapshot) -> Snap {
        Snap {
            name: snap.name,
            dom: snap.domain.into(),
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            domain: self.dom.clone().into(),
            name: self.name.clone(),
        }
    }
}

/// libvirt's words for a snapshot that is not there (the code comes with
/// qvirt's, `NoSnapshot`).
fn no_snapshot(message: String) -> Error {
    Error::new(
        ErrorCode::NoSnapshot,
        format!("Domain snapshot not found: {message}"),
    )
}

/// libvirt's words for the snapshot `snap` names not being there.
fn not_there(snap: &Snap) -> Error {
    no_snapshot(format!(
        "no domain snapshot with matching name '{}'",
        snap.name
    ))
}

/// `e`, in libvirt's words when it says `snap` is not there.
fn worded(e: Error, snap: &Snap) -> Error {
    if e.code == ErrorCode::NoSnapshot {
        not_there(snap)
    } else {
        e
    }
}

/// The info of the snapshot a handle names.
fn info(driver: &dyn Driver, snap: &Snap) -> Result<SnapshotInfo> {
    driver
        .snapshot_info(&snap.snapshot())
        .map_err(|e| worded(e, snap))
}

/// Whether `s` passes libvirt's status, location, leaf and metadata
/// filters in `flags` (each group filters only when one of its flags is
/// set).
fn passes(s: &SnapshotInfo, flags: u32) -> bool {
    let status = flags & (list::INACTIVE | list::ACTIVE | list::DISK_ONLY);
    let status_ok = status == 0
        || match s.state {
            SnapshotState::Shutoff => status & list::INACTIVE != 0,
            SnapshotState::DiskSnapshot => status & list::DISK_ONLY != 0,
            _ => status & list::ACTIVE != 0,
        };
    let location = flags & (list::INTERNAL | list::EXTERNAL);
    let location_ok = location == 0
        || (s.external && location & list::EXTERNAL != 0)
        || (!s.external && location & list::INTERNAL != 0);
    let leaves = flags & (list::LEAVES | list::NO_LEAVES);
    let leaves_ok = leaves == 0
        || (s.children == 0 && leaves & list::LEAVES != 0)
        || (s.children > 0 && leaves & list::NO_LEAVES != 0);
    // Every qvirt snapshot has metadata.
    let metadata = flags & (list::METADATA | list::NO_METADATA);
    let metadata_ok = metadata == 0 || metadata & list::METADATA != 0;
    status_ok && location_ok && leaves_ok && metadata_ok
}

/// The domain's snapshots `flags` selects, oldest first (which puts
/// parents before children: `TOPOLOGICAL` holds).
fn of_domain(
    driver: &dyn Driver,
    dom: &Dom,
    flags: u32,
    function: &str,
) -> Result<Vec<SnapshotInfo>> {
    check_flags(flags, list::ALL, function)?;
    let all = driver.snapshot_list(&dom.clone().into())?;
    Ok(all
        .into_iter()
        .filter(|s| flags & list::ROOTS == 0 || s.parent.is_none())
        .filter(|s| passes(s, flags))
        .collect())
}

/// The children of `snap` (all its descendants with `DESCENDANTS`) that
/// `flags` selects, oldest first.
fn children_of(
    driver: &dyn Driver,
    snap: &Snap,
    flags: u32,
    function: &str,
) -> Result<Vec<SnapshotInfo>> {
    check_flags(flags, list::ALL, function)?;
    let all = driver.snapshot_list(&snap.dom.clone().into())?;
    if !all.iter().any(|s| s.name == snap.name) {
        return Err(not_there(snap));
    }
    let mut family = vec![snap.name.clone()];
    let mut out = Vec::new();
    // Oldest first: a child comes after its parent, so one pass finds
    // every descendant.
    for s in &all {
        let Some(parent) = &s.parent else { continue };
        let direct = parent == &snap.name;
        let below = flags & list::DESCENDANTS != 0 && family.contains(parent);
        if direct || below {
            family.push(s.name.clone());
            out.push(s.clone());
        }
    }
    Ok(out.into_iter().filter(|s| passes(s, flags)).collect())
}

fn names(list: Vec<SnapshotInfo>, maxnames: i32) -> Vec<String> {
    let max = usize::try_from(maxnames).unwrap_or(0);
    list.into_iter().take(max).map(|s| s.name).collect()
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn handles(dom: &Dom, list: Vec<SnapshotInfo>, need: i32) -> SnapListRet {
    let ret = count(list.len());
    let snapshots = if need != 0 {
        list.into_iter()
            .map(|s| Snap {
                name: s.name,
                dom: dom.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    SnapListRet { snapshots, ret }
}

/// `virDomainSnapshotCreateXML`.
pub fn create(driver: &dyn Driver, a: SnapCreateArgs) -> Result<SnapRet> {
    let known = SnapshotCreateFlags::DISK_ONLY.bits()
        | SnapshotCreateFlags::QUIESCE.bits()
        | SnapshotCreateFlags::ATOMIC.bits();
    check_flags(
        a.flags,
        known | CREATE_VALIDATE,
        "virDomainSnapshotCreateXML",
    )?;
    let flags = SnapshotCreateFlags::from_bits(a.flags & known).unwrap_or_default();
    let snap = driver.snapshot_create_xml(&a.dom.into(), &a.xml_desc, flags)?;
    Ok(SnapRet {
        snap: Snap::of(snap),
    })
}

/// `virDomainSnapshotGetXMLDesc`.
pub fn xml(driver: &dyn Driver, a: SnapFlagsArgs) -> Result<String> {
    check_flags(a.flags, 0, "virDomainSnapshotGetXMLDesc")?;
    driver
        .snapshot_xml(&a.snap.snapshot())
        .map_err(|e| worded(e, &a.snap))
}

/// `virDomainSnapshotNum`.
pub fn num(driver: &dyn Driver, dom: &Dom, flags: u32) -> Result<i32> {
    Ok(count(
        of_domain(driver, dom, flags, "virDomainSnapshotNum")?.len(),
    ))
}

/// `virDomainSnapshotListNames`.
pub fn list_names(driver: &dyn Driver, a: SnapNamesArgs) -> Result<Vec<String>> {
    let all = of_domain(driver, &a.dom, a.flags, "virDomainSnapshotListNames")?;
    Ok(names(all, a.maxnames))
}

/// `virDomainListAllSnapshots`.
pub fn list_all(driver: &dyn Driver, a: SnapListAllArgs) -> Result<SnapListRet> {
    let all = of_domain(driver, &a.dom, a.flags, "virDomainListAllSnapshots")?;
    Ok(handles(&a.dom, all, a.need_results))
}

/// `virDomainSnapshotNumChildren`.
pub fn num_children(driver: &dyn Driver, a: SnapFlagsArgs) -> Result<i32> {
    let all = children_of(driver, &a.snap, a.flags, "virDomainSnapshotNumChildren")?;
    Ok(count(all.len()))
}

/// `virDomainSnapshotListChildrenNames`.
pub fn list_children_names(driver: &dyn Driver, a: SnapChildNamesArgs) -> Result<Vec<String>> {
    let all = children_of(
        driver,
        &a.snap,
        a.flags,
        "virDomainSnapshotListChildrenNames",
    )?;
    Ok(names(all, a.maxnames))
}

/// `virDomainSnapshotListAllChildren`.
pub fn list_all_children(driver: &dyn Driver, a: SnapChildrenArgs) -> Result<SnapListRet> {
    let all = children_of(driver, &a.snap, a.flags, "virDomainSnapshotListAllChildren")?;
    Ok(handles(&a.snap.dom, all, a.need_results))
}

/// `virDomainSnapshotLookupByName`.
pub fn lookup_by_name(driver: &dyn Driver, a: SnapLookupArgs) -> Result<SnapRet> {
    check_flags(a.flags, 0, "virDomainSnapshotLookupByName")?;
    let snap = Snap {
        name: a.name,
        dom: a.dom,
    };
    driver
        .snapshot_lookup(&snap.dom.clone().into(), &snap.name)
        .map_err(|e| worded(e, &snap))?;
    Ok(SnapRet { snap })
}

/// `virDomainHasCurrentSnapshot`.
pub fn has_current(driver: &dyn Driver, dom: Dom, flags: u32) -> Result<i32> {
    check_flags(flags, 0, "virDomainHasCurrentSnapshot")?;
    Ok(i32::from(driver.snapshot_current(&dom.into())?.is_some()))
}

/// `virDomainSnapshotCurrent`.
pub fn current(driver: &dyn Driver, dom: Dom, flags: u32) -> Result<SnapRet> {
    check_flags(flags, 0, "virDomainSnapshotCurrent")?;
    let name = dom.name.clone();
    match driver.snapshot_current(&dom.into())? {
        Some(snap) => Ok(SnapRet {
            snap: Snap::of(snap),
        }),
        None => Err(no_snapshot(format!(
            "the domain '{name}' does not have a current snapshot"
        ))),
    }
}

/// `virDomainRevertToSnapshot`.
pub fn revert(driver: &dyn Driver, a: SnapFlagsArgs) -> Result<()> {
    let known = SnapshotRevertFlags::RUNNING.bits()
        | SnapshotRevertFlags::PAUSED.bits()
        | SnapshotRevertFlags::FORCE.bits();
    check_flags(a.flags, known, "virDomainRevertToSnapshot")?;
    let flags = SnapshotRevertFlags::from_bits(a.flags).unwrap_or_default();
    driver
        .snapshot_revert(&a.snap.snapshot(), flags)
        .map_err(|e| worded(e, &a.snap))
}

/// `virDomainSnapshotDelete`.
pub fn delete(driver: &dyn Driver, a: SnapFlagsArgs) -> Result<()> {
    let known = SnapshotDeleteFlags::CHILDREN.bits()
        | SnapshotDeleteFlags::METADATA_ONLY.bits()
        | SnapshotDeleteFlags::CHILDREN_ONLY.bits();
    check_flags(a.flags, known, "virDomainSnapshotDelete")?;
    let flags = SnapshotDeleteFlags::from_bits(a.flags).unwrap_or_default();
    driver
        .snapshot_delete(&a.snap.snapshot(), flags)
        .map_err(|e| worded(e, &a.snap))
}

/// `virDomainSnapshotGetParent`.
pub fn parent(driver: &dyn Driver, a: SnapFlagsArgs) -> Result<SnapRet> {
    check_flags(a.flags, 0, "virDomainSnapshotGetParent")?;
    match info(driver, &a.snap)?.parent {
        Some(name) => Ok(SnapRet {
            snap: Snap {
                name,
                dom: a.snap.dom,
            },
        }),
        None => Err(no_snapshot(format!(
            "snapshot '{}' does not have a parent",
            a.snap.name
        ))),
    }
}

/// `virDomainSnapshotIsCurrent`.
pub fn is_current(driver: &dyn Driver, a: SnapFlagsArgs) -> Result<i32> {
    check_flags(a.flags, 0, "virDomainSnapshotIsCurrent")?;
    Ok(i32::from(info(driver, &a.snap)?.current))
}

/// `virDomainSnapshotHasMetadata`: every qvirt snapshot has it.
pub fn has_metadata(driver: &dyn Driver, a: SnapFlagsArgs) -> Result<i32> {
    check_flags(a.flags, 0, "virDomainSnapshotHasMetadata")?;
    info(driver, &a.snap)?;
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, parent: Option<&str>, state: SnapshotState, children: u32) -> SnapshotInfo {
        let mut s = SnapshotInfo::new(name, 0, state);
        s.parent = parent.map(str::to_string);
        s.children = children;
        s
    }

    #[test]
    fn filters_are_libvirts() {
        let run = info("a", None, SnapshotState::Running, 1);
        let off = info("b", Some("a"), SnapshotState::Shutoff, 0);
        let mut disk = info("c", Some("a"), SnapshotState::DiskSnapshot, 0);
        disk.external = true;
        assert!(passes(&run, 0) && passes(&off, 0) && passes(&disk, 0));
        assert!(passes(&run, list::ACTIVE) && !passes(&off, list::ACTIVE));
        assert!(passes(&off, list::INACTIVE) && !passes(&disk, list::INACTIVE));
        assert!(passes(&disk, list::DISK_ONLY | list::INACTIVE));
        assert!(passes(&disk, list::EXTERNAL) && !passes(&run, list::EXTERNAL));
        assert!(passes(&run, list::NO_LEAVES) && !passes(&off, list::NO_LEAVES));
        assert!(passes(&off, list::LEAVES) && !passes(&run, list::LEAVES));
        assert!(passes(&run, list::METADATA) && !passes(&run, list::NO_METADATA));
    }
}
