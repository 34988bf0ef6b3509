//! A domain's memory binding changed as libvirt's
//! `virDomainSetNumaParameters` asks (virsh's `numatune` with
//! `--mode`/`--nodeset`; the reading is in `domparams.rs`), with
//! libvirt's rules (`qemuDomainSetNumaParameters`, `virDomainNumatuneSet`):
//! in the persistent definition, `<numatune><memory>`'s mode and host
//! nodes, which the next start gives QEMU's memory backend. A running
//! domain's binding is refused by name: QEMU's memory backends are bound
//! when it starts, and qvirt keeps no cpuset cgroup to move them.

use super::domparams::mode_number;
use super::jobstats::{ParamValue, TypedParam};
use super::resources::{not_running, redefine};
use super::types::Dom;
use super::values::{affect, check_flags};
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, DomainState, Driver};
use crate::model::{DomainDef, NumaMemory, NumaMode, Placement, parse_cpuset};

xdr_struct! {
    /// `remote_domain_set_numa_parameters_args`.
    pub struct SetNumaArgs { pub dom: Dom, pub params: Vec<TypedParam>, pub flags: u32 }
}

/// `REMOTE_DOMAIN_NUMA_PARAMETERS_MAX`.
const PARAMETERS_MAX: usize = 16;

const FUNCTION: &str = "virDomainSetNumaParameters";

/// The mode of libvirt's number (`virDomainNumatuneMemMode`).
fn mode_of(n: i32) -> Result<NumaMode> {
    [
        NumaMode::Strict,
        NumaMode::Preferred,
        NumaMode::Interleave,
        NumaMode::Restrictive,
    ]
    .into_iter()
    .find(|m| mode_number(*m) == n)
    .ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("unsupported numatune mode: '{n}'"),
        )
    })
}

/// `virDomainSetNumaParameters`.
pub fn set(driver: &dyn Driver, a: SetNumaArgs) -> Result<()> {
    check_flags(a.flags, affect::LIVE | affect::CONFIG, FUNCTION)?;
    let allowed = [("numa_mode", "int"), ("numa_nodeset", "string")];
    super::tunables::validate_upto(&a.params, &allowed, PARAMETERS_MAX)?;
    let mut mode = None;
    let mut nodeset = None;
    for p in &a.params {
        match &p.value {
            ParamValue::Int(n) => mode = Some(mode_of(*n)?),
            ParamValue::String(s) => {
                let nodes = parse_cpuset(s).ok_or_else(|| {
                    Error::new(
                        ErrorCode::InvalidArgument,
                        format!("Failed to parse bitmap '{s}'"),
                    )
                })?;
                if nodes.is_empty() {
                    return Err(Error::new(
                        ErrorCode::OperationInvalid,
                        format!("Invalid nodeset of 'numatune': {s}"),
                    ));
                }
                nodeset = Some(crate::model::format_cpuset(&nodes));
            }
            _ => {}
        }
    }
    let dom = Domain::from(&a.dom);
    let info = driver.info(&dom)?;
    let active = info.state != DomainState::Shutoff;
    // Neither flag: the running domain's, else the definition.
    let live = a.flags & affect::LIVE != 0 || (a.flags & affect::CONFIG == 0 && active);
    if live {
        if !active {
            return Err(not_running(&dom));
        }
        return Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "{FUNCTION}: the memory binding of running domain '{}' cannot change: QEMU's memory backends are bound when it starts, and qvirt keeps no cpuset cgroup to move them; change the persistent definition (--config), which applies at the next start",
                dom.name
            ),
        ));
    }
    redefine(driver, &dom, info.persistent, |def| {
        merge(def, mode, nodeset)
    })
}

/// `virDomainNumatuneSet`: a mode and/or host nodes over what `def` has;
/// host nodes make the placement static, which needs them.
fn merge(def: &mut DomainDef, mode: Option<NumaMode>, nodeset: Option<String>) -> Result<()> {
    if mode.is_none() && nodeset.is_none() {
        return Ok(());
    }
    let tune = def.numatune.get_or_insert_with(Box::default);
    let m = tune.memory.get_or_insert(NumaMemory {
        mode: None,
        nodeset: None,
        placement: None,
    });
    if let Some(mode) = mode {
        m.mode = Some(mode);
    }
    if let Some(nodes) = nodeset {
        m.nodeset = Some(nodes);
        if m.placement == Some(Placement::Auto) {
            m.placement = None;
        }
    }
    if m.nodeset.is_none() && m.placement != Some(Placement::Auto) {
        return Err(Error::new(
            ErrorCode::ConfigUnsupported,
            "nodeset for NUMA memory tuning must be set if 'placement' is 'static'",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(numatune: &str) -> DomainDef {
        DomainDef::from_xml(&format!(
            "<domain type='qemu'><name>t</name><memory unit='MiB'>64</memory>{numatune}\
             <os><type arch='x86_64' machine='pc'>hvm</type></os><devices/></domain>"
        ))
        .unwrap()
    }

    #[test]
    fn a_mode_and_nodes_merge_as_libvirt_merges_them() {
        let mut d = def("");
        let e = merge(&mut d, Some(NumaMode::Interleave), None).unwrap_err();
        assert!(
            e.message
                .contains("nodeset for NUMA memory tuning must be set"),
            "{e}"
        );
        let mut d = def("");
        merge(&mut d, Some(NumaMode::Interleave), Some("0".into())).unwrap();
        merge(&mut d, None, Some("0-1".into())).unwrap();
        let m = d.numatune.as_ref().unwrap().memory.clone().unwrap();
        assert_eq!(
            (m.mode, m.nodeset.as_deref()),
            (Some(NumaMode::Interleave), Some("0-1"))
        );
        let mut d = def("<numatune><memory placement='auto'/></numatune>");
        merge(&mut d, Some(NumaMode::Preferred), None).unwrap();
        merge(&mut d, None, Some("0".into())).unwrap();
        let m = d.numatune.as_ref().unwrap().memory.clone().unwrap();
        assert_eq!((m.placement, m.nodeset.as_deref()), (None, Some("0")));
        assert!(
            mode_of(4)
                .unwrap_err()
                .message
                .contains("unsupported numatune mode: '4'")
        );
        assert_eq!(mode_of(3).unwrap(), NumaMode::Restrictive);
    }
}
