//! A live migration as libvirt's clients ask for one, peer to peer:
//! `virsh migrate --p2p` and python3-libvirt's `migrateToURI3` call
//! `virDomainMigratePerform3Params` on the source with the destination's
//! URI, and the source's manager drives the destination itself
//! ([`Driver::migrate`]). Each flag and parameter is one of
//! [`MigrateOptions`] or refused by name.
//!
//! A migration the client drives (virsh without `--p2p`: Begin here,
//! Prepare on the destination, Perform here, Finish there, Confirm here)
//! maps each step to qvirt's: Prepare is [`Driver::migrate_incoming`],
//! its lease kept by the client's connection; Perform is
//! [`Driver::migrate_perform`], the guest left paused under the job
//! until Confirm ([`Driver::migrate_confirm`]); Finish is
//! [`Driver::migrate_finish`]. A connection that ends between the steps
//! gives up the destination's copy (before its Finish) or leaves the
//! source's guest paused (after its Perform), as libvirt does.

use super::jobstats::{ParamValue, TypedParam};
use super::types::Dom;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::{Opaque, xdr_struct};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::stream_address;
use crate::driver::{
    Confirmation, Domain, DomainState, Driver, IncomingParams, MigrateOptions, XmlFlags,
};
use crate::model::DomainDef;
use crate::transport::dispatch::Opened;

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
    /// `remote_domain_migrate_prepare3_params_args`.
    pub struct Prepare3ParamsArgs { pub params: Vec<TypedParam>, pub cookie_in: Opaque, pub flags: u32 }
    /// `remote_domain_migrate_prepare3_params_ret`.
    pub struct Prepare3ParamsRet { pub cookie_out: Opaque, pub uri_out: Option<String> }
    /// `remote_domain_migrate_finish3_params_args`.
    pub struct Finish3ParamsArgs { pub params: Vec<TypedParam>, pub cookie_in: Opaque, pub flags: u32, pub cancelled: i32 }
    /// `remote_domain_migrate_finish3_params_ret`.
    pub struct Finish3ParamsRet { pub dom: Dom, pub cookie_out: Opaque }
    /// `remote_domain_migrate_confirm3_params_args`.
    pub struct Confirm3ParamsArgs { pub dom: Dom, pub params: Vec<TypedParam>, pub cookie_in: Opaque, pub flags: u32, pub cancelled: i32 }
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

/// What the source's Perform tells the destination's Finish (libvirt's
/// cookie, opaque to the client): the domain, whether its guest ran, and
/// the definition to keep there with `VIR_MIGRATE_PERSIST_DEST`.
#[derive(serde::Serialize, serde::Deserialize)]
struct PerformCookie {
    uuid: uuid::Uuid,
    was_running: bool,
    persistent_xml: Option<String>,
}

/// The options of a step of a migration the client drives: as
/// [`options_of`], and whether the guest stays paused on the destination
/// (`VIR_MIGRATE_PAUSED`, which libvirt's client sets for a paused guest).
fn step_options(flags: u32, params: &[TypedParam], name: &str) -> Result<(MigrateOptions, bool)> {
    let paused = flags & flag::PAUSED != 0;
    let options = options_of(flags & !flag::PAUSED, params, name)?;
    if options.copy_storage_all || options.postcopy {
        return Err(Error::new(
            ErrorCode::NoSupport,
            "a storage copy (--copy-storage-all) or post-copy (--postcopy) needs a peer-to-peer migration (virsh migrate --p2p)",
        ));
    }
    Ok((options, paused))
}

/// A string parameter.
fn string_param<'a>(params: &'a [TypedParam], field: &str) -> Option<&'a str> {
    params.iter().find_map(|p| match &p.value {
        ParamValue::String(v) if p.field == field => Some(v.as_str()),
        _ => None,
    })
}

/// `virDomainMigratePerform3Params`: peer to peer, the whole migration;
/// otherwise the stream of a migration the client drives, left waiting
/// for its Confirm (tied to the connection: left paused if it ends first).
pub fn perform(
    driver: &dyn Driver,
    a: Perform3ParamsArgs,
    opened: &mut Option<Opened>,
) -> Result<Perform3ParamsRet> {
    let dom = Domain::from(&a.dom);
    if a.flags & flag::PEER2PEER != 0 {
        let dconnuri = a.dconnuri.ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "a peer-to-peer migration needs the destination's URI (dconnuri)",
            )
        })?;
        let options = options_of(a.flags, &a.params, &a.dom.name)?;
        driver.migrate(&dom, &dconnuri, options)?;
        return Ok(Perform3ParamsRet {
            cookie_out: Opaque(Vec::new()),
        });
    }
    let (options, _) = step_options(a.flags, &a.params, &a.dom.name)?;
    let uri = options.migrate_uri.clone().ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            "the stream's address (migrate_uri, the destination's Prepare gives it) is missing",
        )
    })?;
    let info = driver.info(&dom)?;
    let persistent_xml = if options.persistent {
        Some(match (&options.dest_xml, info.persistent) {
            (_, true) => driver.xml_desc(&dom, XmlFlags::INACTIVE | XmlFlags::SECURE)?,
            (Some(xml), false) => xml.clone(),
            (None, false) => driver.xml_desc(&dom, XmlFlags::MIGRATABLE | XmlFlags::SECURE)?,
        })
    } else {
        None
    };
    let cookie = PerformCookie {
        uuid: dom.uuid,
        was_running: info.state == DomainState::Running,
        persistent_xml,
    };
    driver.migrate_perform(&dom, &uri, options)?;
    *opened = Some(Opened::AwaitingConfirm(dom));
    Ok(Perform3ParamsRet {
        cookie_out: Opaque(serde_json::to_vec(&cookie).unwrap_or_default()),
    })
}

/// `virDomainMigrateBegin3Params`, the first step of a migration the
/// client drives: the definition the destination is to start.
pub fn begin(driver: &dyn Driver, a: Begin3ParamsArgs) -> Result<Begin3ParamsRet> {
    if a.flags & flag::PEER2PEER != 0 {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "a peer-to-peer migration has no Begin step here: use virDomainMigrateToURI3",
        ));
    }
    let (options, _) = step_options(a.flags, &a.params, &a.dom.name)?;
    let dom = Domain::from(&a.dom);
    let info = driver.info(&dom)?;
    if !matches!(info.state, DomainState::Running | DomainState::Paused) {
        return Err(Error::new(
            ErrorCode::OperationInvalid,
            format!("domain '{}' is not running", dom.name),
        ));
    }
    let xml = match options.dest_xml {
        Some(xml) => xml,
        None => driver.xml_desc(&dom, XmlFlags::MIGRATABLE | XmlFlags::SECURE)?,
    };
    Ok(Begin3ParamsRet {
        cookie_out: Opaque(Vec::new()),
        xml,
    })
}

/// `virDomainMigratePrepare3Params` on the destination: QEMU waits for
/// the stream on the address `migrate_uri` names (every address, told as
/// this host's name, when none), and the connection keeps the copy's
/// lease until the Finish.
pub fn prepare(
    driver: &dyn Driver,
    a: Prepare3ParamsArgs,
    opened: &mut Option<Opened>,
) -> Result<Prepare3ParamsRet> {
    let xml = string_param(&a.params, "destination_xml").ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            "the domain's definition (destination_xml, from the source's Begin) is missing",
        )
    })?;
    let def = DomainDef::from_xml(xml)?;
    let (options, _) = step_options(a.flags, &a.params, &def.name)?;
    let mut params = IncomingParams::new(xml);
    let told = match options.migrate_uri.as_deref() {
        Some(uri) => {
            let (host, port) = stream_address("", Some(uri))?;
            params.listen = Some(host.clone());
            params.port = port;
            host
        }
        None => super::dispatch::hostname()?,
    };
    let ready = driver.migrate_incoming(params)?;
    *opened = Some(Opened::IncomingLease(def.uuid));
    let host = if told.contains(':') {
        format!("[{told}]")
    } else {
        told
    };
    Ok(Prepare3ParamsRet {
        cookie_out: Opaque(Vec::new()),
        uri_out: Some(format!("tcp:{host}:{}", ready.port)),
    })
}

/// `virDomainMigrateFinish3Params` on the destination: the guest runs
/// here (`cancelled`: the copy is given up).
pub fn finish(driver: &dyn Driver, a: Finish3ParamsArgs) -> Result<Finish3ParamsRet> {
    let cookie: PerformCookie = serde_json::from_slice(&a.cookie_in.0).map_err(|e| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "the source's migration cookie cannot be read ({e}): the source is not a qvirtd"
            ),
        )
    })?;
    if a.cancelled != 0 {
        let _ = driver.migrate_abort_incoming(cookie.uuid);
        return Err(Error::new(
            ErrorCode::OperationFailed,
            "the migration was cancelled on the source: the copy here is given up",
        ));
    }
    let resume = cookie.was_running && a.flags & flag::PAUSED == 0;
    let persistent_xml = if a.flags & flag::PERSIST_DEST != 0 {
        cookie.persistent_xml
    } else {
        None
    };
    let dom = driver.migrate_finish(cookie.uuid, resume, persistent_xml)?;
    Ok(Finish3ParamsRet {
        dom: dom.into(),
        cookie_out: Opaque(Vec::new()),
    })
}

/// `virDomainMigrateConfirm3Params` on the source: the copy here stops,
/// or (`cancelled`) the guest runs here again; the connection no longer
/// holds the wait for it.
pub fn confirm(
    driver: &dyn Driver,
    a: Confirm3ParamsArgs,
    opened: &mut Option<Opened>,
) -> Result<()> {
    let how = if a.cancelled != 0 {
        Confirmation::Cancelled
    } else {
        Confirmation::Done
    };
    let undefine = a.flags & flag::UNDEFINE_SOURCE != 0;
    let dom = Domain::from(&a.dom);
    driver.migrate_confirm(&dom, how, undefine)?;
    *opened = Some(Opened::Confirmed(dom));
    Ok(())
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
