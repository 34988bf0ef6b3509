//! What a start checks of the host for `<memory>` devices: the hugetlbfs
//! mount a device's huge pages come from, the host NUMA nodes of its
//! `<nodemask>`, and the folder of an NVDIMM's or virtio-pmem's file
//! (QEMU makes the file, not the folder).

use std::path::Path;

use super::hostcheck::{Host, lacks};
use crate::error::Result;
use crate::model::DomainDef;
use crate::qemu::argv::{hugepage_dir, hugetlbfs_page_kib};

impl Host {
    /// Every memory device's host resources exist.
    pub(super) fn memory_devices(&self, def: &DomainDef) -> Result<()> {
        for (i, m) in def.devices.memories.iter().enumerate() {
            let what = format!("<memory model='{}'> (device {i})", m.model.as_str());
            if let Some(size) = hugetlbfs_page_kib(def, m) {
                let dir = hugepage_dir(size);
                if !self.hugetlbfs_at(&dir) {
                    return Err(lacks(
                        def,
                        format!(
                            "{what} is backed by huge pages of {size} KiB, which need hugetlbfs mounted at {dir} (mount -t hugetlbfs -o pagesize={size}K none {dir}) and pages reserved"
                        ),
                    ));
                }
            }
            if let Some(node) = m
                .nodemask
                .as_deref()
                .and_then(|n| self.missing_numa_node(n))
            {
                return Err(lacks(
                    def,
                    format!(
                        "{what} binds its memory to host NUMA node {node} (<nodemask>), which this host does not have (see /sys/devices/system/node)"
                    ),
                ));
            }
            if let Some(path) = &m.path {
                let folder = Path::new(path).parent().unwrap_or(Path::new("/"));
                if !self.path(&folder.to_string_lossy()).is_dir() {
                    return Err(lacks(
                        def,
                        format!(
                            "{what} is backed by {path}, whose folder {} does not exist; create it (QEMU makes the file)",
                            folder.display()
                        ),
                    ));
                }
                if self.path(path).is_dir() {
                    return Err(lacks(
                        def,
                        format!("{what} is backed by {path}, which is a folder, not a file"),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(devices: &str) -> DomainDef {
        DomainDef::from_xml(&format!(
            "<domain type='qemu'><name>h</name><maxMemory slots='4' unit='MiB'>1024</maxMemory>
             <memory unit='MiB'>64</memory>
             <os><type arch='x86_64' machine='pc'>hvm</type></os>
             <cpu><numa><cell id='0' cpus='0' memory='64' unit='MiB'/></numa></cpu>
             <devices>{devices}</devices></domain>"
        ))
        .unwrap()
    }

    fn scratch(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("qvirt-memcheck-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("proc")).unwrap();
        std::fs::create_dir_all(d.join("sys/devices/system/node/node0")).unwrap();
        std::fs::write(d.join("proc/mounts"), "").unwrap();
        d
    }

    #[test]
    fn huge_pages_nodes_and_folders_of_memory_devices_must_exist() {
        let root = scratch("mem");
        let host = Host { root: root.clone() };
        let vmem = |source: &str| {
            def(&format!(
                "<memory model='virtio-mem'><source>{source}</source><target><size unit='MiB'>64</size><node>0</node><block unit='MiB'>2</block></target></memory>"
            ))
        };
        let paged = vmem("<pagesize unit='KiB'>2048</pagesize>");
        let e = host.memory_devices(&paged).unwrap_err();
        assert!(
            e.message.contains("hugetlbfs mounted at /dev/hugepages"),
            "{e}"
        );
        std::fs::write(
            root.join("proc/mounts"),
            "hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n",
        )
        .unwrap();
        host.memory_devices(&paged).unwrap();
        let far = vmem("<nodemask>0-1</nodemask>");
        let e = host.memory_devices(&far).unwrap_err();
        assert!(e.message.contains("host NUMA node 1"), "{e}");
        host.memory_devices(&vmem("<nodemask>0</nodemask>"))
            .unwrap();
        let nv = |path: &str| {
            def(&format!(
                "<memory model='nvdimm'><source><path>{path}</path></source><target><size unit='MiB'>64</size><node>0</node></target></memory>"
            ))
        };
        let e = host.memory_devices(&nv("/images/nv.img")).unwrap_err();
        assert!(e.message.contains("folder /images does not exist"), "{e}");
        std::fs::create_dir_all(root.join("images/nv.img")).unwrap();
        let e = host.memory_devices(&nv("/images/nv.img")).unwrap_err();
        assert!(e.message.contains("which is a folder"), "{e}");
        host.memory_devices(&nv("/images/other.img")).unwrap();
        let _ = std::fs::remove_dir_all(&root);
    }
}
