//! The samples of the calls that change or read a domain's tuning and
//! threads beside the statistics (see `samples.rs`).

use qvirt::transport::libvirt::procedures::{Call, Procedure, Reply};
use qvirt::transport::libvirt::types::*;

fn param(field: &str, value: ParamValue) -> TypedParam {
    TypedParam {
        field: field.into(),
        value,
    }
}

/// The sample call of procedure `p`.
pub fn call(p: Procedure) -> Call {
    use Procedure as P;
    match p {
        P::DomainSetBlockIoTune => Call::DomainSetBlockIoTune(SetBlockIoTuneArgs {
            dom: super::dom(),
            disk: "vda".into(),
            params: vec![
                param("total_bytes_sec", ParamValue::ULLong(2_097_152)),
                param("group_name", ParamValue::String("gq".into())),
            ],
            flags: 1,
        }),
        other => panic!("{other:?} has no sample here"),
    }
}

/// The sample reply to procedure `p`.
pub fn reply(p: Procedure) -> Reply {
    use Procedure as P;
    match p {
        P::DomainSetBlockIoTune => Reply::DomainSetBlockIoTune(()),
        other => panic!("{other:?} has no sample here"),
    }
}
