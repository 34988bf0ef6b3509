//! Storage pools and volumes: libvirt's `<pool>` and `<volume>` documents,
//! typed, read strictly and written canonically.
//!
//! Only directory pools (`<pool type='dir'>`) and file volumes in the
//! `raw` and `qcow2` formats exist here. A volume's format is always
//! stated (`<target><format type=...>`, raw when absent, as libvirt's
//! directory pools default to), and a backing store's format must be
//! stated too: nothing is ever probed from an image's contents.
//!
//! The sizes a manager reports (a pool's capacity, a volume's allocation
//! and physical size, its key and path) are written with the document;
//! when read back, the sizes of a pool and a volume's physical size are
//! taken as the report they are, and the rest is checked by the manager
//! against what it computes (see the fields).

use uuid::Uuid;

use super::parse::storage as read;
use super::words::words;
use super::xmlwrite::{Attrs, XmlWriter};
use super::{MAX_NAME_BYTES, ModelError, ModelErrorKind};

words! {
    /// `<pool type=...>`.
    pub enum PoolType {
        /// A directory of image files.
        Dir = "dir",
    }

    /// A volume's image format (`<format type=...>`).
    pub enum VolumeFormat {
        /// The bytes of the disk as they are.
        Raw = "raw",
        /// QEMU's copy-on-write format (snapshots, backing files).
        Qcow2 = "qcow2",
    }

    /// `<compat>` of a qcow2 volume: the qcow2 version it is written in.
    pub enum QcowCompat {
        /// qcow2 version 2, readable by QEMU 0.10 and later.
        V0_10 = "0.10",
        /// qcow2 version 3, QEMU 1.1 and later.
        V1_1 = "1.1",
    }
}

/// `<permissions>` of a pool's directory or of a volume's file: applied
/// when the manager creates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Permissions {
    /// `<mode>`, octal as libvirt writes it.
    pub mode: Option<u32>,
    /// `<owner>`: a uid.
    pub owner: Option<u32>,
    /// `<group>`: a gid.
    pub group: Option<u32>,
}

impl Permissions {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Permissions::default()
    }
}

/// A storage pool's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolDef {
    /// `type`.
    pub kind: PoolType,
    /// `<name>`.
    pub name: String,
    /// `<uuid>`; generated when absent.
    pub uuid: Uuid,
    /// `<target><path>`: the directory holding the volumes, absolute.
    pub path: String,
    /// `<target><permissions>`: applied when the manager creates the
    /// directory (`pool-build`).
    pub permissions: Permissions,
}

/// What a manager reports of an active pool, written with its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolSizes {
    /// Bytes of the file system holding the pool.
    pub capacity: u64,
    /// Bytes used on it.
    pub allocation: u64,
    /// Bytes free for the pool's user.
    pub available: u64,
}

impl PoolDef {
    /// A directory pool `name` at `path`, with a new UUID.
    pub fn new_dir(name: impl Into<String>, path: impl Into<String>) -> PoolDef {
        PoolDef {
            kind: PoolType::Dir,
            name: name.into(),
            uuid: Uuid::new_v4(),
            path: path.into(),
            permissions: Permissions::default(),
        }
    }

    /// Reads and checks a `<pool>` document. Sizes in it are a manager's
    /// report and are not part of the definition.
    pub fn from_xml(xml: &str) -> Result<PoolDef, ModelError> {
        let def = read::pool(xml)?;
        def.validate()?;
        Ok(def)
    }

    /// Checks the definition (name, absolute path).
    pub fn validate(&self) -> Result<(), ModelError> {
        check_name("pool name", &self.name)?;
        check_path("pool target path", &self.path)
    }

    /// Writes the definition, with `sizes` when the pool is active.
    pub fn to_xml(&self, sizes: Option<PoolSizes>) -> String {
        let mut w = XmlWriter::new();
        w.open("pool", Attrs::new().add("type", self.kind.as_str()));
        w.text("name", Attrs::new(), &self.name);
        w.text("uuid", Attrs::new(), &self.uuid.hyphenated().to_string());
        let s = sizes.unwrap_or_default();
        let bytes = || Attrs::new().add("unit", "bytes");
        w.text("capacity", bytes(), &s.capacity.to_string());
        w.text("allocation", bytes(), &s.allocation.to_string());
        w.text("available", bytes(), &s.available.to_string());
        w.empty("source", Attrs::new());
        w.open("target", Attrs::new());
        w.text("path", Attrs::new(), &self.path);
        write_permissions(&mut w, &self.permissions);
        w.close("target");
        w.close("pool");
        w.finish()
    }
}

/// `<backingStore>` of a new volume: the image it is an overlay of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeBacking {
    /// `<path>`: absolute.
    pub path: String,
    /// `<format type=...>`: required, never probed.
    pub format: VolumeFormat,
}

/// A volume's definition (`<volume>`), as given to create one or as a
/// manager reports one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeDef {
    /// `<name>`: the file's name in the pool's directory.
    pub name: String,
    /// `<capacity>`: the virtual size in bytes.
    pub capacity: u64,
    /// `<allocation>`: bytes allocated on the host. For a new raw volume,
    /// that many bytes (at most its capacity) are allocated up front, the
    /// rest is sparse; a new qcow2 volume is preallocated when this is
    /// at least its capacity, else sparse. `None`: 0.
    pub allocation: Option<u64>,
    /// `<physical>`: the file's size, as a manager reports it; ignored
    /// when creating a volume.
    pub physical: Option<u64>,
    /// `<key>`: the volume's path, as a manager reports it; when given to
    /// create a volume it must be the path the volume gets.
    pub key: Option<String>,
    /// `<target><path>`: as `key`.
    pub path: Option<String>,
    /// `<target><format type=...>`; raw when absent.
    pub format: VolumeFormat,
    /// `<target><compat>` of a qcow2 volume; qemu-img's default when
    /// absent.
    pub compat: Option<QcowCompat>,
    /// `<target><features><lazy_refcounts/>`: a qcow2 volume (compat
    /// 1.1) that updates its reference counts lazily, as qemu-img's
    /// `lazy_refcounts=on`. Off when absent.
    pub lazy_refcounts: bool,
    /// `<target><permissions>`: applied to the new file.
    pub permissions: Permissions,
    /// `<backingStore>`: makes a qcow2 volume an overlay of that image.
    pub backing: Option<VolumeBacking>,
}

impl VolumeDef {
    /// A volume `name` of `capacity` bytes in `format`, with nothing else
    /// set.
    pub fn new(name: impl Into<String>, capacity: u64, format: VolumeFormat) -> VolumeDef {
        VolumeDef {
            name: name.into(),
            capacity,
            allocation: None,
            physical: None,
            key: None,
            path: None,
            format,
            compat: None,
            lazy_refcounts: false,
            permissions: Permissions::default(),
            backing: None,
        }
    }

    /// Reads and checks a `<volume>` document.
    pub fn from_xml(xml: &str) -> Result<VolumeDef, ModelError> {
        let def = read::volume(xml)?;
        def.validate()?;
        Ok(def)
    }

    /// Checks the definition: the name (no `/`), the sizes, the backing
    /// store (only under qcow2, with an absolute path).
    pub fn validate(&self) -> Result<(), ModelError> {
        check_name("volume name", &self.name)?;
        if self.compat.is_some() && self.format != VolumeFormat::Qcow2 {
            return Err(invalid(format!(
                "volume '{}': <compat> applies to qcow2 volumes only",
                self.name
            )));
        }
        if self.lazy_refcounts && self.format != VolumeFormat::Qcow2 {
            return Err(invalid(format!(
                "volume '{}': <lazy_refcounts/> applies to qcow2 volumes only",
                self.name
            )));
        }
        if self.lazy_refcounts && self.compat == Some(QcowCompat::V0_10) {
            return Err(invalid(format!(
                "volume '{}': <lazy_refcounts/> needs qcow2 compat 1.1, not 0.10",
                self.name
            )));
        }
        if let Some(b) = &self.backing {
            if self.format != VolumeFormat::Qcow2 {
                return Err(invalid(format!(
                    "volume '{}': only a qcow2 volume can have a backing store",
                    self.name
                )));
            }
            check_path("backing store path", &b.path)?;
        }
        for (what, p) in [("key", &self.key), ("target path", &self.path)] {
            if let Some(p) = p {
                check_path(&format!("volume {what}"), p)?;
            }
        }
        Ok(())
    }

    /// Writes the volume as libvirt reports one (`type='file'`).
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("volume", Attrs::new().add("type", "file"));
        w.text("name", Attrs::new(), &self.name);
        if let Some(k) = &self.key {
            w.text("key", Attrs::new(), k);
        }
        let bytes = || Attrs::new().add("unit", "bytes");
        w.text("capacity", bytes(), &self.capacity.to_string());
        if let Some(a) = self.allocation {
            w.text("allocation", bytes(), &a.to_string());
        }
        if let Some(p) = self.physical {
            w.text("physical", bytes(), &p.to_string());
        }
        w.open("target", Attrs::new());
        if let Some(p) = &self.path {
            w.text("path", Attrs::new(), p);
        }
        w.empty("format", Attrs::new().add("type", self.format.as_str()));
        write_permissions(&mut w, &self.permissions);
        if let Some(c) = self.compat {
            w.text("compat", Attrs::new(), c.as_str());
        }
        if self.lazy_refcounts {
            w.open("features", Attrs::new());
            w.empty("lazy_refcounts", Attrs::new());
            w.close("features");
        }
        w.close("target");
        if let Some(b) = &self.backing {
            w.open("backingStore", Attrs::new());
            w.text("path", Attrs::new(), &b.path);
            w.empty("format", Attrs::new().add("type", b.format.as_str()));
            w.close("backingStore");
        }
        w.close("volume");
        w.finish()
    }
}

fn write_permissions(w: &mut XmlWriter, p: &Permissions) {
    if p.is_empty() {
        return;
    }
    w.open("permissions", Attrs::new());
    if let Some(m) = p.mode {
        w.text("mode", Attrs::new(), &format!("{m:04o}"));
    }
    if let Some(o) = p.owner {
        w.text("owner", Attrs::new(), &o.to_string());
    }
    if let Some(g) = p.group {
        w.text("group", Attrs::new(), &g.to_string());
    }
    w.close("permissions");
}

fn invalid(msg: String) -> ModelError {
    ModelError::new(ModelErrorKind::Invalid, msg)
}

/// Checks the name of a pool, volume or snapshot (`what` says which): not
/// empty, no `/`, not starting with `.` (it names a file, and must not be
/// hidden or climb), printable, at most [`MAX_NAME_BYTES`] bytes.
pub fn check_name(what: &str, name: &str) -> Result<(), ModelError> {
    let shown: String = name
        .chars()
        .take(64)
        .collect::<String>()
        .escape_debug()
        .to_string();
    if name.is_empty() {
        return Err(invalid(format!("{what} is empty")));
    }
    if name.contains('/') {
        return Err(invalid(format!("{what} '{shown}' contains '/'")));
    }
    if name.starts_with('.') {
        return Err(invalid(format!("{what} '{shown}' starts with '.'")));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{what} '{shown}' contains a control character"
        )));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(invalid(format!(
            "{what} is {} bytes long, more than {MAX_NAME_BYTES}",
            name.len()
        )));
    }
    Ok(())
}

/// Checks that `path` is absolute and printable.
fn check_path(what: &str, path: &str) -> Result<(), ModelError> {
    let shown: String = path
        .chars()
        .take(64)
        .collect::<String>()
        .escape_debug()
        .to_string();
    if !path.starts_with('/') {
        return Err(invalid(format!("{what} '{shown}' is not an absolute path")));
    }
    if path.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{what} '{shown}' contains a control character"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAZY: &str = "<volume><name>v.qcow2</name><capacity>1048576</capacity>\
        <target><format type='qcow2'/><features><lazy_refcounts/></features></target></volume>";

    #[test]
    fn lazy_refcounts_round_trip() {
        let def = VolumeDef::from_xml(LAZY).unwrap();
        assert!(def.lazy_refcounts);
        let again = VolumeDef::from_xml(&def.to_xml()).unwrap();
        assert_eq!(again, def);
        assert!(
            !VolumeDef::new("p", 1, VolumeFormat::Qcow2)
                .to_xml()
                .contains("features")
        );
    }

    #[test]
    fn volume_features_are_checked() {
        let e = VolumeDef::from_xml(&LAZY.replace("qcow2'", "raw'")).unwrap_err();
        assert_eq!(e.kind, ModelErrorKind::Invalid, "{}", e.message);
        let old = LAZY.replace("<features>", "<compat>0.10</compat><features>");
        let e = VolumeDef::from_xml(&old).unwrap_err();
        assert!(e.message.contains("compat 1.1"), "{}", e.message);
        let other = LAZY.replace("<lazy_refcounts/>", "<extended_l2/>");
        let e = VolumeDef::from_xml(&other).unwrap_err();
        assert_eq!(e.kind, ModelErrorKind::Unsupported, "{}", e.message);
        assert!(e.message.contains("extended_l2"), "{}", e.message);
    }
}
