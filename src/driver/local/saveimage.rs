//! The definition a save image holds (virsh's `save-image-dumpxml`,
//! `save-image-define`, `managedsave-dumpxml`, `managedsave-define`),
//! read from and written into the image's header in place (see
//! [`super::saving`]), as libvirt's `qemuSaveImageUpdateDef` does: the
//! new definition must describe the same machine and fit in the room
//! the header has; QEMU's stream after it is left untouched.

use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;

use super::driver::Core;
use super::jobs::SyncKind;
use super::saving::{header_bytes, read_header};
use crate::driver::SaveImage;
use crate::error::{Error, ErrorCode, Result};
use crate::model::DomainDef;

impl Core {
    /// The file of `image`: a managed one only while the domain has it.
    fn image_path(&self, image: &SaveImage) -> Result<PathBuf> {
        match image {
            SaveImage::File(path) => Ok(path.clone()),
            SaveImage::Managed(dom) => {
                let (name, has) =
                    self.with_entry(dom, |e| Ok((e.def().name.clone(), e.managed_save)))?;
                if !has {
                    return Err(Error::new(
                        ErrorCode::OperationInvalid,
                        format!("domain '{name}' does not have managed save image"),
                    ));
                }
                Ok(self.layout.managed_save_file(&name))
            }
        }
    }

    /// [`crate::Driver::save_image_xml`].
    pub(crate) fn save_image_xml(&self, image: &SaveImage, secure: bool) -> Result<String> {
        let (_, header) = read_header(&self.image_path(image)?)?;
        Ok(if secure {
            header.def.to_xml()
        } else {
            header.def.without_secrets().to_xml()
        })
    }

    /// [`crate::Driver::save_image_define`].
    pub(crate) fn save_image_define(
        &self,
        image: &SaveImage,
        xml: &str,
        running: Option<bool>,
    ) -> Result<()> {
        // A managed image is not restored or removed meanwhile.
        let jobs = match image {
            SaveImage::Managed(dom) => Some((self.jobs(dom)?, dom)),
            SaveImage::File(_) => None,
        };
        let _job = match &jobs {
            Some((jobs, dom)) => Some(jobs.begin(SyncKind::Modify, &dom.name)?),
            None => None,
        };
        let path = self.image_path(image)?;
        let (mut file, header) = read_header(&path)?;
        let new = DomainDef::from_xml(xml)?;
        super::migrate::same_machine(&header.def, &new, "the new definition")?;
        let was_running = running.unwrap_or(header.was_running);
        let bytes = header_bytes(&new.to_xml(), was_running, Some(header.data_offset)).ok_or_else(
            || {
                Error::new(
                    ErrorCode::OperationFailed,
                    format!(
                        "new xml too large to fit in file: {} has room for {} bytes of header",
                        path.display(),
                        header.data_offset
                    ),
                )
            },
        )?;
        drop(file);
        file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.write_all(&bytes))
            .and_then(|_| file.sync_all())
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        self.log.info(&format!(
            "save image {}: definition of '{}' replaced",
            path.display(),
            new.name
        ));
        Ok(())
    }
}

impl super::LocalDriver {
    /// `image` with its domain looked up.
    pub(super) fn resolve_image(&self, image: &SaveImage) -> Result<SaveImage> {
        Ok(match image {
            SaveImage::Managed(dom) => SaveImage::Managed(self.core.resolve(dom)?),
            other => other.clone(),
        })
    }
}
