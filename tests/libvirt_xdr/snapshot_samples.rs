//! The samples of the snapshot procedures (see `samples.rs`).

use qvirt::transport::libvirt::procedures::{Call, Procedure, Reply};
use qvirt::transport::libvirt::types::*;

use super::{dom, flags};

fn snap(name: &str) -> Snap {
    Snap {
        name: name.into(),
        dom: dom(),
    }
}

fn on(name: &str, f: u32) -> SnapFlagsArgs {
    SnapFlagsArgs {
        snap: snap(name),
        flags: f,
    }
}

/// The sample call of snapshot procedure `p`.
pub fn call(p: Procedure) -> Call {
    use Procedure as P;
    match p {
        P::DomainSnapshotCreateXml => Call::DomainSnapshotCreateXml(SnapCreateArgs {
            dom: dom(),
            xml_desc: "<domainsnapshot><name>before</name></domainsnapshot>".into(),
            flags: 16,
        }),
        P::DomainSnapshotGetXmlDesc => Call::DomainSnapshotGetXmlDesc(on("before", 0)),
        P::DomainSnapshotNum => Call::DomainSnapshotNum(flags(64)),
        P::DomainSnapshotListNames => Call::DomainSnapshotListNames(SnapNamesArgs {
            dom: dom(),
            maxnames: 16,
            flags: 1,
        }),
        P::DomainSnapshotLookupByName => Call::DomainSnapshotLookupByName(SnapLookupArgs {
            dom: dom(),
            name: "before".into(),
            flags: 0,
        }),
        P::DomainHasCurrentSnapshot => Call::DomainHasCurrentSnapshot(flags(0)),
        P::DomainSnapshotCurrent => Call::DomainSnapshotCurrent(flags(0)),
        P::DomainRevertToSnapshot => Call::DomainRevertToSnapshot(on("before", 1)),
        P::DomainSnapshotDelete => Call::DomainSnapshotDelete(on("before", 1)),
        P::DomainSnapshotGetParent => Call::DomainSnapshotGetParent(on("after", 0)),
        P::DomainSnapshotNumChildren => Call::DomainSnapshotNumChildren(on("before", 1)),
        P::DomainSnapshotListChildrenNames => {
            Call::DomainSnapshotListChildrenNames(SnapChildNamesArgs {
                snap: snap("before"),
                maxnames: 8,
                flags: 0,
            })
        }
        P::DomainSnapshotIsCurrent => Call::DomainSnapshotIsCurrent(on("after", 0)),
        P::DomainSnapshotHasMetadata => Call::DomainSnapshotHasMetadata(on("after", 0)),
        P::DomainListAllSnapshots => Call::DomainListAllSnapshots(SnapListAllArgs {
            dom: dom(),
            need_results: 1,
            flags: 1024,
        }),
        P::DomainSnapshotListAllChildren => Call::DomainSnapshotListAllChildren(SnapChildrenArgs {
            snap: snap("before"),
            need_results: 1,
            flags: 1,
        }),
        other => unreachable!("{other:?} is not a snapshot procedure"),
    }
}

/// The sample reply of snapshot procedure `p`.
pub fn reply(p: Procedure) -> Reply {
    use Procedure as P;
    let one = |name: &str| SnapRet { snap: snap(name) };
    let both = || SnapListRet {
        snapshots: vec![snap("before"), snap("after")],
        ret: 2,
    };
    let names = || ListNamesRet {
        names: vec!["before".into(), "after".into()],
    };
    match p {
        P::DomainSnapshotCreateXml => Reply::DomainSnapshotCreateXml(one("before")),
        P::DomainSnapshotGetXmlDesc => Reply::DomainSnapshotGetXmlDesc(XmlRet {
            xml: "<domainsnapshot><name>before</name><state>running</state></domainsnapshot>"
                .into(),
        }),
        P::DomainSnapshotNum => Reply::DomainSnapshotNum(NumRet { num: 2 }),
        P::DomainSnapshotListNames => Reply::DomainSnapshotListNames(names()),
        P::DomainSnapshotLookupByName => Reply::DomainSnapshotLookupByName(one("before")),
        P::DomainHasCurrentSnapshot => Reply::DomainHasCurrentSnapshot(IntRet { value: 1 }),
        P::DomainSnapshotCurrent => Reply::DomainSnapshotCurrent(one("after")),
        P::DomainRevertToSnapshot => Reply::DomainRevertToSnapshot(()),
        P::DomainSnapshotDelete => Reply::DomainSnapshotDelete(()),
        P::DomainSnapshotGetParent => Reply::DomainSnapshotGetParent(one("before")),
        P::DomainSnapshotNumChildren => Reply::DomainSnapshotNumChildren(NumRet { num: 1 }),
        P::DomainSnapshotListChildrenNames => Reply::DomainSnapshotListChildrenNames(names()),
        P::DomainSnapshotIsCurrent => Reply::DomainSnapshotIsCurrent(IntRet { value: 1 }),
        P::DomainSnapshotHasMetadata => Reply::DomainSnapshotHasMetadata(IntRet { value: 1 }),
        P::DomainListAllSnapshots => Reply::DomainListAllSnapshots(both()),
        P::DomainSnapshotListAllChildren => Reply::DomainSnapshotListAllChildren(both()),
        other => unreachable!("{other:?} is not a snapshot procedure"),
    }
}
