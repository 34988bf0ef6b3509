//! A live migration as libvirt's clients ask for one, peer to peer:
//! `virsh migrate --p2p` and python3-libvirt's `migrateToURI3` call
//! `virDomainMigratePerform3Params` on the source with the destination's
//! URI, and the source's manager drives the destination itself
//! ([`Driver::migrate`]). Each flag and parameter is one of
//! [`MigrateOptions`] or refused by name.
//!
//! A migration the client drives (virsh without `--p2p`: Begin, Prepare,
//! Perform, Finish and Confirm, each called by the client on one of the
//! two daemons) is refused at its first step, naming `--p2p`: qvirt's
//! source keeps the destination's lease and settles a cut-off migration
//! by asking the destination, which only a source that reaches the
//! destination itself can do.

use super::jobstats::{ParamValue, TypedParam};
use super::types::Dom;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::{Opaque, xdr_struct};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, Driver, MigrateOptions};

xdr_struct! {
    /// `remote_domain_migrate_perform3_params_args`.
    pub struct Perform3ParamsArgs {
        pub dom: Dom,
        pub dconnuri: Option<String>,
        pub params: Vec<TypedParam>,
        pub cookie_in: Opaque,
        pub flags: u32,
    }
    /// `remote_domain_migrate_perform3_params_ret`.
    pub struct Perform3ParamsRet { pub cookie_out: Opaque }
    /// `remote_domain_migrate_begin3_params_args`.
    pub struct Begin3ParamsArgs { pub dom: Dom, pub params: Vec<TypedParam>, pub flags: u32 }
    /// `remote_domain_migrate_begin3_params_ret`.
    pub struct Begin3ParamsRet { pub cookie_out: Opaque, pub xml: String }
}

/// `virDomainMigrateFlags`.
pub mod flag {
    #![allow(missing_docs)]
    pub const LIVE: u32 = 1 << 0;
    pub const PEER2PEER: u32 = 1 << 1;
    pub const TUNNELLED: u32 = 1 << 2;
    pub const PERSIST_DEST: u32 = 1 << 3;
    pub const UNDEFINE_SOURCE: u32 = 1 << 4;
    pub const PAUSED: u32 = 1 << 5;
    pub const NON_SHARED_DISK: u32 = 1 << 6;
    pub const NON_SHARED_INC: u32 = 1 << 7;
    pub const CHANGE_PROTECTION: u32 = 1 << 8;
    pub const UNSAFE: u32 = 1 << 9;
    pub const OFFLINE: u32 = 1 << 10;
    pub const COMPRESSED: u32 = 1 << 11;
    pub const ABORT_ON_ERROR: u32 = 1 << 12;
    pub const AUTO_CONVERGE: u32 = 1 << 13;
    pub const RDMA_PIN_ALL: u32 = 1 << 14;
    pub const POSTCOPY: u32 = 1 << 15;
    pub const TLS: u32 = 1 << 16;
    pub const PARALLEL: u32 = 1 << 17;
    pub const NON_SHARED_SYNCHRONOUS_WRITES: u32 = 1 << 18;
    pub const POSTCOPY_RESUME: u32 = 1 << 19;
    pub const ZEROCOPY: u32 = 1 << 20;
}

/// The flags qvirt does not offer, with libvirt's names and virsh's
/// options.
const REFUSED: [(u32, &str, &str); 13] = [
    (
        flag::TUNNELLED,
        "VIR_MIGRATE_TUNNELLED",
        "--tunnelled: qvirt's stream goes from QEMU to QEMU directly",
    ),
    (
        flag::PAUSED,
        "VIR_MIGRATE_PAUSED",
        "--suspend: the guest runs on the destination as it ran here",
    ),
    (
        flag::NON_SHARED_INC,
        "VIR_MIGRATE_NON_SHARED_INC",
        "--copy-storage-inc: qvirt copies whole disks (--copy-storage-all)",
    ),
    (
        flag::CHANGE_PROTECTION,
        "VIR_MIGRATE_CHANGE_PROTECTION",
        "--change-protection",
    ),
    (
        flag::OFFLINE,
        "VIR_MIGRATE_OFFLINE",
        "--offline: qvirt migrates running domains",
    ),
    (flag::COMPRESSED, "VIR_MIGRATE_COMPRESSED", "--compressed"),
    (
        flag::ABORT_ON_ERROR,
        "VIR_MIGRATE_ABORT_ON_ERROR",
        "--abort-on-error",
    ),
    (
        flag::AUTO_CONVERGE,
        "VIR_MIGRATE_AUTO_CONVERGE",
        "--auto-converge (qvirt converges with --timeout or post-copy)",
    ),
    (
        flag::RDMA_PIN_ALL,
        "VIR_MIGRATE_RDMA_PIN_ALL",
        "--rdma-pin-all",
    ),
    (flag::TLS, "VIR_MIGRATE_TLS", "--tls"),
    (flag::PARALLEL, "VIR_MIGRATE_PARALLEL", "--parallel"),
    (
        flag::POSTCOPY_RESUME,
        "VIR_MIGRATE_POSTCOPY_RESUME",
        "--postcopy-resume",
    ),
    (flag::ZEROCOPY, "VIR_MIGRATE_ZEROCOPY", "--zerocopy"),
];

/// Every flag libvirt 9.0 knows.
const KNOWN: u32 = (1 << 21) - 1;

/// The parameters qvirt takes, with their types.
const TAKEN: [(&str, &str); 3] = [
    ("migrate_uri", "string"),
    ("destination_xml", "string"),
    ("bandwidth", "ullong"),
];

/// What `flags` and `params` ask for, as [`MigrateOptions`]; anything
/// qvirt does not offer refused by libvirt's name. `name` is the domain's,
/// which `destination_name` may repeat but not change.
pub fn options_of(flags: u32, params: &[TypedParam], name: &str) -> Result<MigrateOptions> {
    super::values::check_flags(flags, KNOWN, "virDomainMigratePerform3Params")?;
    let refuse = |what: String| {
        Err(Error::new(
            ErrorCode::NoSupport,
            format!("qvirt does not offer {what} in a migration"),
        ))
    };
    if let Some((_, api, virsh)) = REFUSED.iter().find(|(bit, _, _)| flags & bit != 0) {
        return refuse(format!("{api} ({virsh})"));
    }
    if flags & flag::NON_SHARED_SYNCHRONOUS_WRITES != 0 {
        return refuse(
            "VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES (--copy-storage-synchronous-writes)"
                .to_string(),
        );
    }
    let mut options = MigrateOptions {
        live: flags & flag::LIVE != 0,
        persistent: flags & flag::PERSIST_DEST != 0,
        undefine_source: flags & flag::UNDEFINE_SOURCE != 0,
        copy_storage_all: flags & flag::NON_SHARED_DISK != 0,
        postcopy: flags & flag::POSTCOPY != 0,
        ..MigrateOptions::default()
    };
    let mut seen: Vec<&str> = Vec::new();
    for p in params {
        if p.field == "destination_name" {
            match &p.value {
                ParamValue::String(n) if n == name => continue,
                _ => {
                    return refuse(format!(
                        "a new name on the destination (destination_name, virsh's --dname): domain '{name}' keeps its name"
                    ));
                }
            }
        }
        let Some((field, want)) = TAKEN.iter().find(|(f, _)| *f == p.field) else {
            return refuse(format!("the parameter '{}'", p.field));
        };
        if seen.contains(field) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("parameter '{field}' is given more than once"),
            ));
        }
        seen.push(field);
        match (&p.value, *field) {
            (ParamValue::String(v), "migrate_uri") => options.migrate_uri = Some(v.clone()),
            (ParamValue::String(v), "destination_xml") => options.dest_xml = Some(v.clone()),
            // 0 is libvirt's "no limit".
            (ParamValue::ULLong(v), "bandwidth") => {
                options.bandwidth_mib_s = (*v > 0).then_some(*v);
            }
            (other, _) => {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "invalid type '{}' for parameter '{field}', expected '{want}'",
                        super::tunables::type_name(other)
                    ),
                ));
            }
        }
    }
    Ok(options)
}

/// The flags and parameters that ask for `options` (peer to peer): the
/// inverse of [`options_of`], for qvirt's own client over libvirt's
/// protocol. A timeout is the client's to keep in libvirt (virsh's
/// `--timeout` watches the job itself), so it is refused by name here.
pub fn request_of(options: &MigrateOptions) -> Result<(u32, Vec<TypedParam>)> {
    if options.timeout.is_some() || options.timeout_postcopy {
        return Err(Error::new(
            ErrorCode::NoSupport,
            "a migration's --timeout over libvirt's protocol: libvirt leaves it to the client (virsh watches the job and suspends the guest itself)",
        ));
    }
    let mut flags = flag::PEER2PEER;
    for (on, bit) in [
        (options.live, flag::LIVE),
        (options.persistent, flag::PERSIST_DEST),
        (options.undefine_source, flag::UNDEFINE_SOURCE),
        (options.copy_storage_all, flag::NON_SHARED_DISK),
        (options.postcopy, flag::POSTCOPY),
    ] {
        if on {
            flags |= bit;
        }
    }
    let mut params = Vec::new();
    let mut string = |field: &str, v: &Option<String>| {
        if let Some(v) = v {
            params.push(TypedParam {
                field: field.to_string(),
                value: ParamValue::String(v.clone()),
            });
        }
    };
    string("migrate_uri", &options.migrate_uri);
    string("destination_xml", &options.dest_xml);
    if let Some(b) = options.bandwidth_mib_s {
        params.push(TypedParam {
            field: "bandwidth".to_string(),
            value: ParamValue::ULLong(b),
        });
    }
    Ok((flags, params))
}

/// `virDomainMigratePerform3Params`: peer to peer only (see the module).
pub fn perform(driver: &dyn Driver, a: Perform3ParamsArgs) -> Result<Perform3ParamsRet> {
    if a.flags & flag::PEER2PEER == 0 {
        return Err(client_driven());
    }
    let dconnuri = a.dconnuri.ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            "a peer-to-peer migration needs the destination's URI (dconnuri)",
        )
    })?;
    let options = options_of(a.flags, &a.params, &a.dom.name)?;
    driver.migrate(&Domain::from(&a.dom), &dconnuri, options)?;
    Ok(Perform3ParamsRet {
        cookie_out: Opaque(Vec::new()),
    })
}

/// `virDomainMigrateBegin3Params`, the first step of a migration the
/// client drives: refused, naming the peer-to-peer way.
pub fn begin(_: &dyn Driver, _: Begin3ParamsArgs) -> Result<Begin3ParamsRet> {
    Err(client_driven())
}

/// The refusal of a migration the client drives.
fn client_driven() -> Error {
    Error::new(
        ErrorCode::NoSupport,
        "qvirtd migrates peer to peer: the source's manager drives the destination's itself; use virsh migrate --p2p (virDomainMigrateToURI3 with VIR_MIGRATE_PEER2PEER)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(field: &str, v: &str) -> TypedParam {
        TypedParam {
            field: field.into(),
            value: ParamValue::String(v.into()),
        }
    }

    #[test]
    fn flags_and_parameters_become_options_and_back() {
        let params = vec![
            string("migrate_uri", "tcp:10.0.0.2:49200"),
            TypedParam {
                field: "bandwidth".into(),
                value: ParamValue::ULLong(100),
            },
            string("destination_name", "vm"),
        ];
        let flags = flag::LIVE | flag::PEER2PEER | flag::PERSIST_DEST | flag::UNSAFE;
        let o = options_of(flags, &params, "vm").unwrap();
        assert!(o.live && o.persistent && !o.undefine_source && !o.copy_storage_all);
        assert_eq!(o.migrate_uri.as_deref(), Some("tcp:10.0.0.2:49200"));
        assert_eq!(o.bandwidth_mib_s, Some(100));
        let (back, back_params) = request_of(&o).unwrap();
        assert_eq!(back, flags & !flag::UNSAFE);
        assert_eq!(options_of(back, &back_params, "vm").unwrap(), o);
    }

    #[test]
    fn what_qvirt_does_not_offer_is_refused_by_name() {
        let refused = |flags: u32, params: &[TypedParam]| {
            options_of(flags, params, "vm").unwrap_err().to_string()
        };
        assert!(refused(flag::PEER2PEER | flag::TUNNELLED, &[]).contains("VIR_MIGRATE_TUNNELLED"));
        assert!(refused(flag::PEER2PEER | flag::OFFLINE, &[]).contains("--offline"));
        assert!(
            refused(flag::PEER2PEER, &[string("destination_name", "other")]).contains("--dname")
        );
        assert!(
            refused(flag::PEER2PEER, &[string("tls.destination", "h")])
                .contains("'tls.destination'")
        );
        assert!(refused(1 << 25, &[]).contains("unsupported flags"));
        let twice = [
            string("migrate_uri", "tcp:a:1"),
            string("migrate_uri", "tcp:b:1"),
        ];
        assert!(refused(flag::PEER2PEER, &twice).contains("more than once"));
        let typed = [string("bandwidth", "100")];
        assert!(refused(flag::PEER2PEER, &typed).contains("expected 'ullong'"));
    }
}
