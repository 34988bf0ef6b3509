//! The definition a save image holds, libvirt's way:
//! `virDomainSaveImageGetXMLDesc` and `virDomainSaveImageDefineXML`
//! (virsh's `save-image-dumpxml`, `save-image-define`) by the image's
//! path, `virDomainManagedSaveGetXMLDesc` and
//! `virDomainManagedSaveDefineXML` (`managedsave-dumpxml`,
//! `managedsave-define`) by the domain; through
//! [`Driver::save_image_xml`] and [`Driver::save_image_define`].

use super::types::{Dom, DomFlagsArgs, XmlRet};
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, Driver, SaveImage};

xdr_struct! {
    /// `remote_domain_save_image_get_xml_desc_args`.
    pub struct SaveImageXmlArgs { pub file: String, pub flags: u32 }
    /// `remote_domain_save_image_define_xml_args`.
    pub struct SaveImageDefineArgs { pub file: String, pub dxml: String, pub flags: u32 }
    /// `remote_domain_managed_save_define_xml_args`.
    pub struct ManagedSaveDefineArgs { pub dom: Dom, pub dxml: Option<String>, pub flags: u32 }
}

/// `VIR_DOMAIN_SAVE_IMAGE_XML_SECURE`.
const XML_SECURE: u32 = 1;
/// `VIR_DOMAIN_SAVE_RUNNING` and `VIR_DOMAIN_SAVE_PAUSED`.
const RUNNING: u32 = 2;
const PAUSED: u32 = 4;

/// Whether a restore of the image runs the vCPUs, by `flags`.
fn running(flags: u32, function: &str) -> Result<Option<bool>> {
    check_flags(flags, RUNNING | PAUSED, function)?;
    match (flags & RUNNING != 0, flags & PAUSED != 0) {
        (true, true) => Err(Error::new(
            ErrorCode::InvalidArgument,
            "VIR_DOMAIN_SAVE_RUNNING and VIR_DOMAIN_SAVE_PAUSED are mutually exclusive",
        )),
        (true, false) => Ok(Some(true)),
        (false, true) => Ok(Some(false)),
        (false, false) => Ok(None),
    }
}

/// `virDomainSaveImageGetXMLDesc`.
pub fn save_image_xml(driver: &dyn Driver, a: SaveImageXmlArgs) -> Result<XmlRet> {
    check_flags(a.flags, XML_SECURE, "virDomainSaveImageGetXMLDesc")?;
    let image = SaveImage::File(a.file.into());
    Ok(XmlRet {
        xml: driver.save_image_xml(&image, a.flags & XML_SECURE != 0)?,
    })
}

/// `virDomainSaveImageDefineXML`.
pub fn save_image_define(driver: &dyn Driver, a: SaveImageDefineArgs) -> Result<()> {
    let running = running(a.flags, "virDomainSaveImageDefineXML")?;
    driver.save_image_define(&SaveImage::File(a.file.into()), &a.dxml, running)
}

/// `virDomainManagedSaveGetXMLDesc`.
pub fn managed_save_xml(driver: &dyn Driver, a: DomFlagsArgs) -> Result<XmlRet> {
    check_flags(a.flags, XML_SECURE, "virDomainManagedSaveGetXMLDesc")?;
    let image = SaveImage::Managed(Domain::from(&a.dom));
    Ok(XmlRet {
        xml: driver.save_image_xml(&image, a.flags & XML_SECURE != 0)?,
    })
}

/// `virDomainManagedSaveDefineXML`: without a definition, only whether
/// the restore runs the vCPUs changes.
pub fn managed_save_define(driver: &dyn Driver, a: ManagedSaveDefineArgs) -> Result<()> {
    let running = running(a.flags, "virDomainManagedSaveDefineXML")?;
    let image = SaveImage::Managed(Domain::from(&a.dom));
    let xml = match a.dxml {
        Some(xml) => xml,
        None => driver.save_image_xml(&image, true)?,
    };
    driver.save_image_define(&image, &xml, running)
}
