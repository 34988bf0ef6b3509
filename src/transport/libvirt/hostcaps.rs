//! What the host can be asked to run, as libvirt names it:
//!
//! - `virConnectGetCPUModelNames` (virsh's `cpu-models`): the CPU models
//!   the driver's QEMU offers for an architecture, as its domain
//!   capabilities list them (`<mode name='custom'>`, from QEMU's
//!   `query-cpu-definitions`);
//! - `virConnectGetStoragePoolCapabilities` (virsh's
//!   `pool-capabilities`): each pool type libvirt knows, supported only
//!   where qvirt has it (directories), with the volume formats qvirt
//!   makes in it;
//! - `virConnectDomainXMLToNative` (virsh's `domxml-to-native`): the
//!   QEMU command line the driver would run for a domain XML;
//! - `virNodeGetSEVInfo` (virsh's `nodesevinfo`): libvirt's refusal
//!   where the driver's domain capabilities say QEMU has no SEV guest.

use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{DomainCapsQuery, Driver};
use crate::model::{PoolType, VolumeFormat};

xdr_struct! {
    /// `remote_connect_get_cpu_model_names_args`.
    pub struct CpuModelNamesArgs { pub arch: String, pub need_results: i32, pub flags: u32 }
    /// `remote_connect_get_cpu_model_names_ret`.
    pub struct CpuModelNamesRet { pub models: Vec<String>, pub ret: i32 }
    /// `remote_connect_domain_xml_to_native_args`.
    pub struct XmlToNativeArgs { pub native_format: String, pub domain_xml: String, pub flags: u32 }
    /// `remote_connect_domain_xml_to_native_ret`.
    pub struct XmlToNativeRet { pub native_config: String }
    /// `remote_connect_get_storage_pool_capabilities_args`.
    pub struct PoolCapsArgs { pub flags: u32 }
    /// `remote_connect_get_storage_pool_capabilities_ret`.
    pub struct PoolCapsRet { pub capabilities: String }
    /// `remote_node_get_sev_info_args`.
    pub struct SevInfoArgs { pub nparams: i32, pub flags: u32 }
    /// `remote_node_get_sev_info_ret`.
    pub struct SevInfoRet { pub params: Vec<super::jobstats::TypedParam>, pub nparams: i32 }
}

/// libvirt's architecture names (`virArch`), for telling an unknown name
/// from one the driver has no emulator for.
const ARCHES: &[&str] = &[
    "alpha",
    "armv6l",
    "armv7l",
    "armv7b",
    "aarch64",
    "cris",
    "i686",
    "ia64",
    "lm32",
    "m68k",
    "microblaze",
    "microblazeel",
    "mips",
    "mipsel",
    "mips64",
    "mips64el",
    "openrisc",
    "parisc",
    "parisc64",
    "ppc",
    "ppcle",
    "ppc64",
    "ppc64le",
    "ppcemb",
    "riscv32",
    "riscv64",
    "s390",
    "s390x",
    "sh4",
    "sh4eb",
    "sparc",
    "sparc64",
    "unicore32",
    "x86_64",
    "xtensa",
    "xtensaeb",
];

/// A `<domainCapabilities>` document the driver wrote; one that does not
/// parse is the driver's fault, so an internal error.
fn parse_caps(caps: &str) -> Result<roxmltree::Document<'_>> {
    roxmltree::Document::parse(caps).map_err(|e| {
        Error::new(
            ErrorCode::Internal,
            format!("the domain capabilities do not parse: {e}"),
        )
    })
}

/// The custom CPU models of a `<domainCapabilities>` document.
fn custom_models(caps: &str) -> Result<Vec<String>> {
    let doc = parse_caps(caps)?;
    Ok(doc
        .descendants()
        .filter(|n| n.has_tag_name("mode") && n.attribute("name") == Some("custom"))
        .flat_map(|m| m.children().filter(|c| c.has_tag_name("model")))
        .filter_map(|c| c.text().map(str::to_string))
        .collect())
}

/// `virConnectGetCPUModelNames`: the models of `arch`'s QEMU.
pub fn cpu_model_names(driver: &dyn Driver, a: CpuModelNamesArgs) -> Result<CpuModelNamesRet> {
    check_flags(a.flags, 0, "virConnectGetCPUModelNames")?;
    if !ARCHES.contains(&a.arch.as_str()) {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("cannot find architecture {}", a.arch),
        ));
    }
    let query = DomainCapsQuery::new(None, Some(a.arch.clone()), None, None);
    let models = custom_models(&driver.domain_capabilities(&query)?)?;
    Ok(CpuModelNamesRet {
        ret: models.len() as i32,
        models: if a.need_results != 0 {
            models
        } else {
            Vec::new()
        },
    })
}

/// Whether domain capabilities `caps` offer SEV guests
/// (`<features><sev supported='yes'>`).
fn offers_sev(caps: &str) -> Result<bool> {
    let doc = parse_caps(caps)?;
    Ok(doc
        .descendants()
        .any(|n| n.has_tag_name("sev") && n.attribute("supported") == Some("yes")))
}

/// `virNodeGetSEVInfo`: where QEMU has no SEV guest (the driver's
/// domain capabilities say `<sev supported='no'/>`, as libvirt's
/// `QEMU_CAPS_SEV_GUEST` is off), libvirt's own answer,
/// `VIR_ERR_OPERATION_UNSUPPORTED` "QEMU does not support SEV guest";
/// the platform's SEV parameters where it has one are not read.
pub fn sev_info(driver: &dyn Driver, a: SevInfoArgs) -> Result<SevInfoRet> {
    check_flags(
        a.flags,
        super::resources::flag::STRING_OKAY,
        "virNodeGetSEVInfo",
    )?;
    let caps = driver.domain_capabilities(&DomainCapsQuery::new(None, None, None, None))?;
    if !offers_sev(&caps)? {
        return Err(super::frame::libvirt_error(
            super::frame::code::OPERATION_UNSUPPORTED,
            ErrorCode::NoSupport,
            "Operation not supported: QEMU does not support SEV guest",
        ));
    }
    Err(Error::new(
        ErrorCode::NoSupport,
        "reading the platform's SEV parameters (query-sev-capabilities) is not supported by qvirtd",
    ))
}

/// `virConnectDomainXMLToNative`: the QEMU command line a start of the
/// XML would run.
pub fn xml_to_native(driver: &dyn Driver, a: XmlToNativeArgs) -> Result<XmlToNativeRet> {
    check_flags(a.flags, 0, "virConnectDomainXMLToNative")?;
    Ok(XmlToNativeRet {
        native_config: driver.domain_xml_to_native(&a.native_format, &a.domain_xml)?,
    })
}

/// libvirt's pool types (`virStoragePoolType`), in its order.
const POOL_TYPES: &[&str] = &[
    "dir",
    "fs",
    "netfs",
    "logical",
    "disk",
    "iscsi",
    "iscsi-direct",
    "scsi",
    "mpath",
    "rbd",
    "sheepdog",
    "gluster",
    "zfs",
    "vstorage",
];

/// The storage pool capabilities document: libvirt's layout, a pool type
/// supported when qvirt keeps pools of it, with the formats its volumes
/// may have (the first, raw, when none is named).
pub fn pool_capabilities_xml() -> String {
    let mut out = String::from("<storagepoolCapabilities>\n");
    for name in POOL_TYPES {
        if !PoolType::ALL.iter().any(|t| t.as_str() == *name) {
            out.push_str(&format!("  <pool type='{name}' supported='no'/>\n"));
            continue;
        }
        out.push_str(&format!("  <pool type='{name}' supported='yes'>\n"));
        out.push_str("    <volOptions>\n");
        out.push_str(&format!(
            "      <defaultFormat type='{}'/>\n",
            VolumeFormat::Raw.as_str()
        ));
        out.push_str("      <enum name='targetFormatType'>\n");
        for f in VolumeFormat::ALL {
            out.push_str(&format!("        <value>{}</value>\n", f.as_str()));
        }
        out.push_str("      </enum>\n    </volOptions>\n  </pool>\n");
    }
    out.push_str("</storagepoolCapabilities>\n");
    out
}

/// `virConnectGetStoragePoolCapabilities`.
pub fn pool_capabilities(a: PoolCapsArgs) -> Result<PoolCapsRet> {
    check_flags(a.flags, 0, "virConnectGetStoragePoolCapabilities")?;
    Ok(PoolCapsRet {
        capabilities: pool_capabilities_xml(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_models_are_read_from_the_custom_mode_only() {
        let caps = "<domainCapabilities><cpu><mode name='host-model' supported='yes'>\
            <model fallback='forbid'>Skylake</model></mode><mode name='custom' supported='yes'>\
            <model usable='yes'>qemu64</model><model usable='no'>EPYC</model></mode></cpu>\
            </domainCapabilities>";
        assert_eq!(custom_models(caps).unwrap(), ["qemu64", "EPYC"]);
    }

    #[test]
    fn only_directory_pools_are_supported() {
        let xml = pool_capabilities_xml();
        assert!(xml.contains("<pool type='dir' supported='yes'>"), "{xml}");
        assert!(xml.contains("<value>qcow2</value>"), "{xml}");
        assert!(
            xml.contains("<pool type='logical' supported='no'/>"),
            "{xml}"
        );
        assert_eq!(xml.matches("<pool ").count(), POOL_TYPES.len());
    }
}
