//! The samples of the block job and block copy procedures and of
//! `virDomainGetJobStats` (see `samples.rs`).

use qvirt::transport::libvirt::procedures::{Call, Procedure, Reply};
use qvirt::transport::libvirt::types::*;

use super::dom;

fn path(flags: u32) -> BlockPathArgs {
    BlockPathArgs {
        dom: dom(),
        path: "vda".into(),
        flags,
    }
}

/// The sample call of block job procedure `p`.
pub fn call(p: Procedure) -> Call {
    use Procedure as P;
    match p {
        P::DomainGetBlockInfo => Call::DomainGetBlockInfo(path(0)),
        P::DomainBlockJobAbort => Call::DomainBlockJobAbort(path(2)),
        P::DomainBlockJobSetSpeed => Call::DomainBlockJobSetSpeed(BlockJobSetSpeedArgs {
            dom: super::dom(),
            path: "vda".into(),
            bandwidth: 5,
            flags: 0,
        }),
        P::DomainGetBlockJobInfo => Call::DomainGetBlockJobInfo(path(0)),
        P::DomainBlockPull => Call::DomainBlockPull(BlockPullArgs {
            dom: dom(),
            path: "vda".into(),
            bandwidth: 0,
            flags: 0,
        }),
        P::DomainBlockRebase => Call::DomainBlockRebase(BlockRebaseArgs {
            dom: dom(),
            path: "vda".into(),
            base: None,
            bandwidth: 0,
            flags: 0,
        }),
        P::DomainGetControlInfo => Call::DomainGetControlInfo(super::flags(0)),
        P::DomainGetJobStats => Call::DomainGetJobStats(JobStatsArgs {
            dom: dom(),
            flags: 1,
        }),
        P::DomainBlockCommit => Call::DomainBlockCommit(BlockCommitArgs {
            dom: dom(),
            disk: "vda".into(),
            base: None,
            top: None,
            bandwidth: 0,
            flags: 4,
        }),
        P::DomainBlockCopy => Call::DomainBlockCopy(BlockCopyArgs {
            dom: dom(),
            path: "vda".into(),
            destxml:
                "<disk type='file'><source file='/srv/copy.qcow2'/><driver type='qcow2'/></disk>"
                    .into(),
            params: vec![TypedParam {
                field: "granularity".into(),
                value: ParamValue::UInt(65536),
            }],
            flags: 4,
        }),
        other => unreachable!("{other:?} is not a block job procedure"),
    }
}

/// The sample reply of block job procedure `p`.
pub fn reply(p: Procedure) -> Reply {
    use Procedure as P;
    match p {
        P::DomainGetBlockInfo => Reply::DomainGetBlockInfo(BlockInfoRet {
            allocation: 200_704,
            capacity: 64 << 20,
            physical: 262_144,
        }),
        P::DomainBlockJobAbort => Reply::DomainBlockJobAbort(()),
        P::DomainBlockJobSetSpeed => Reply::DomainBlockJobSetSpeed(()),
        P::DomainGetBlockJobInfo => Reply::DomainGetBlockJobInfo(BlockJobInfoRet {
            found: 1,
            kind: 4,
            bandwidth: 0,
            cur: 1 << 20,
            end: 1 << 20,
        }),
        P::DomainBlockPull => Reply::DomainBlockPull(()),
        P::DomainBlockRebase => Reply::DomainBlockRebase(()),
        P::DomainBlockCommit => Reply::DomainBlockCommit(()),
        P::DomainBlockCopy => Reply::DomainBlockCopy(()),
        P::DomainGetControlInfo => Reply::DomainGetControlInfo(ControlInfoRet {
            state: 1,
            details: 0,
            state_time: 1052,
        }),
        P::DomainGetJobStats => Reply::DomainGetJobStats(JobStatsRet {
            kind: 3,
            params: vec![
                TypedParam {
                    field: "operation".into(),
                    value: ParamValue::Int(6),
                },
                TypedParam {
                    field: "time_elapsed".into(),
                    value: ParamValue::ULLong(52),
                },
            ],
        }),
        other => unreachable!("{other:?} is not a block job procedure"),
    }
}
