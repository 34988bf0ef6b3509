//! The samples of the calls on a running domain's migration parameters
//! and its disks' write thresholds (see `samples.rs`).

use qvirt::transport::libvirt::procedures::{Call, Procedure, Reply};
use qvirt::transport::libvirt::types::*;

/// The procedures whose samples are here.
macro_rules! migtune_procedures {
    () => {
        Procedure::DomainMigrateSetMaxDowntime
            | Procedure::DomainMigrateGetMaxDowntime
            | Procedure::DomainMigrateGetCompressionCache
            | Procedure::DomainMigrateSetCompressionCache
            | Procedure::DomainSetBlockThreshold
            | Procedure::DomainMigrateStartPostCopy
    };
}
pub(crate) use migtune_procedures;

/// The sample call of procedure `p`.
pub fn call(p: Procedure) -> Call {
    use Procedure as P;
    match p {
        P::DomainMigrateSetMaxDowntime => Call::DomainMigrateSetMaxDowntime(SetMaxDowntimeArgs {
            dom: super::dom(),
            downtime: 250,
            flags: 0,
        }),
        P::DomainMigrateGetMaxDowntime => Call::DomainMigrateGetMaxDowntime(MaxDowntimeArgs {
            dom: super::dom(),
            flags: 0,
        }),
        P::DomainMigrateGetCompressionCache => {
            Call::DomainMigrateGetCompressionCache(CompressionCacheArgs {
                dom: super::dom(),
                flags: 0,
            })
        }
        P::DomainMigrateSetCompressionCache => {
            Call::DomainMigrateSetCompressionCache(SetCompressionCacheArgs {
                dom: super::dom(),
                cache_size: 8 << 20,
                flags: 0,
            })
        }
        P::DomainMigrateStartPostCopy => Call::DomainMigrateStartPostCopy(StartPostCopyArgs {
            dom: super::dom(),
            flags: 0,
        }),
        P::DomainSetBlockThreshold => Call::DomainSetBlockThreshold(SetBlockThresholdArgs {
            dom: super::dom(),
            dev: "vda".into(),
            threshold: 1 << 20,
            flags: 0,
        }),
        other => panic!("{other:?} has no sample here"),
    }
}

/// The sample reply to procedure `p`.
pub fn reply(p: Procedure) -> Reply {
    use Procedure as P;
    match p {
        P::DomainMigrateSetMaxDowntime => Reply::DomainMigrateSetMaxDowntime(()),
        P::DomainMigrateGetMaxDowntime => {
            Reply::DomainMigrateGetMaxDowntime(MaxDowntimeRet { downtime: 300 })
        }
        P::DomainMigrateGetCompressionCache => {
            Reply::DomainMigrateGetCompressionCache(CompressionCacheRet {
                cache_size: 64 << 20,
            })
        }
        P::DomainMigrateSetCompressionCache => Reply::DomainMigrateSetCompressionCache(()),
        P::DomainSetBlockThreshold => Reply::DomainSetBlockThreshold(()),
        P::DomainMigrateStartPostCopy => Reply::DomainMigrateStartPostCopy(()),
        other => panic!("{other:?} has no sample here"),
    }
}
