//! The samples of the calls on a running domain's migration parameters,
//! its disks' write thresholds and its peer-to-peer migration (see
//! `samples.rs`).

use qvirt::transport::libvirt::procedures::{Call, Procedure, Reply};
use qvirt::transport::libvirt::types::*;
use qvirt::transport::libvirt::xdr::Opaque;

/// The procedures whose samples are here.
macro_rules! migtune_procedures {
    () => {
        Procedure::DomainMigrateSetMaxDowntime
            | Procedure::DomainMigrateGetMaxDowntime
            | Procedure::DomainMigrateGetCompressionCache
            | Procedure::DomainMigrateSetCompressionCache
            | Procedure::DomainSetBlockThreshold
            | Procedure::DomainMigrateStartPostCopy
            | Procedure::DomainMigratePerform3Params
            | Procedure::DomainMigrateBegin3Params
            | Procedure::DomainMigratePrepare3Params
            | Procedure::DomainMigrateFinish3Params
            | Procedure::DomainMigrateConfirm3Params
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
        P::DomainMigratePerform3Params => {
            Call::DomainMigratePerform3Params(Perform3ParamsArgs {
                dom: super::dom(),
                dconnuri: Some("qemu+ssh://root@10.0.0.2/system".into()),
                params: vec![
                    TypedParam {
                        field: "migrate_uri".into(),
                        value: ParamValue::String("tcp:10.0.0.2:49152".into()),
                    },
                    TypedParam {
                        field: "bandwidth".into(),
                        value: ParamValue::ULLong(100),
                    },
                ],
                cookie_in: Opaque(Vec::new()),
                // LIVE | PEER2PEER | PERSIST_DEST
                flags: 0b1011,
            })
        }
        P::DomainMigrateBegin3Params => Call::DomainMigrateBegin3Params(Begin3ParamsArgs {
            dom: super::dom(),
            params: Vec::new(),
            flags: 1,
        }),
        P::DomainMigratePrepare3Params => Call::DomainMigratePrepare3Params(Prepare3ParamsArgs {
            params: vec![TypedParam {
                field: "destination_xml".into(),
                value: ParamValue::String("<domain/>".into()),
            }],
            cookie_in: Opaque(Vec::new()),
            flags: 1,
        }),
        P::DomainMigrateFinish3Params => Call::DomainMigrateFinish3Params(Finish3ParamsArgs {
            params: Vec::new(),
            cookie_in: Opaque(b"{}".to_vec()),
            flags: 1,
            cancelled: 0,
        }),
        P::DomainMigrateConfirm3Params => Call::DomainMigrateConfirm3Params(Confirm3ParamsArgs {
            dom: super::dom(),
            params: Vec::new(),
            cookie_in: Opaque(Vec::new()),
            flags: 1,
            cancelled: 1,
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
        P::DomainMigratePerform3Params => Reply::DomainMigratePerform3Params(Perform3ParamsRet {
            cookie_out: Opaque(Vec::new()),
        }),
        P::DomainMigrateBegin3Params => Reply::DomainMigrateBegin3Params(Begin3ParamsRet {
            cookie_out: Opaque(b"c".to_vec()),
            xml: "<domain/>".into(),
        }),
        P::DomainMigratePrepare3Params => Reply::DomainMigratePrepare3Params(Prepare3ParamsRet {
            cookie_out: Opaque(Vec::new()),
            uri_out: Some("tcp:host-b:49152".into()),
        }),
        P::DomainMigrateFinish3Params => Reply::DomainMigrateFinish3Params(Finish3ParamsRet {
            dom: super::dom(),
            cookie_out: Opaque(Vec::new()),
        }),
        P::DomainMigrateConfirm3Params => Reply::DomainMigrateConfirm3Params(()),
        other => panic!("{other:?} has no sample here"),
    }
}
