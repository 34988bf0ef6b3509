//! [`crate::Driver::save_image_xml`] and
//! [`crate::Driver::save_image_define`] as libvirt's calls: by path
//! for a file, by domain for a managed save image.

use super::conn::Conn;
use crate::driver::SaveImage;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::transport::libvirt::procedures::Caller;
use crate::transport::libvirt::types::*;

/// The path of file image `path` as libvirt's string.
fn file(path: &std::path::Path) -> Result<String> {
    path.to_str().map(str::to_string).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("save image path {} is not UTF-8", path.display()),
        )
    })
}

/// `virDomainSaveImageGetXMLDesc` or `virDomainManagedSaveGetXMLDesc`.
pub(super) fn xml(conn: &Conn, image: &SaveImage, secure: bool) -> Result<String> {
    let flags = u32::from(secure);
    Ok(match image {
        SaveImage::File(path) => {
            conn.domain_save_image_get_xml_desc(SaveImageXmlArgs {
                file: file(path)?,
                flags,
            })?
            .xml
        }
        SaveImage::Managed(d) => {
            conn.domain_managed_save_get_xml_desc(DomFlagsArgs {
                dom: Dom::from(d),
                flags,
            })?
            .xml
        }
    })
}

/// `virDomainSaveImageDefineXML` or `virDomainManagedSaveDefineXML`.
pub(super) fn define(
    conn: &Conn,
    image: &SaveImage,
    xml: &str,
    running: Option<bool>,
) -> Result<()> {
    // VIR_DOMAIN_SAVE_RUNNING, VIR_DOMAIN_SAVE_PAUSED.
    let flags = match running {
        Some(true) => 2,
        Some(false) => 4,
        None => 0,
    };
    match image {
        SaveImage::File(path) => conn.domain_save_image_define_xml(SaveImageDefineArgs {
            file: file(path)?,
            dxml: xml.to_string(),
            flags,
        }),
        SaveImage::Managed(d) => conn.domain_managed_save_define_xml(ManagedSaveDefineArgs {
            dom: Dom::from(d),
            dxml: Some(xml.to_string()),
            flags,
        }),
    }
}
