//! No host here has a PCI device free to pass through, so the tests of
//! host device handling run the sysfs protocol against a scratch tree
//! whose `drivers_probe` is a pipe read by a thread playing the kernel's
//! part: it applies the unbind and binds the device to its override, or
//! to its own driver. The kernel probes before the write returns; the
//! thread does it just after, so tests wait for the driver they expect.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{PciHost, VFIO_DRIVER, write};

/// The device every scratch tree has, in IOMMU group 7.
pub const DEV: &str = "0000:06:12.5";

/// A scratch sysfs tree and the thread playing the kernel.
pub struct Kernel {
    /// The tree's root, for [`PciHost::root`].
    pub root: PathBuf,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Kernel {
    /// The host view of this tree.
    pub fn host(&self) -> PciHost {
        PciHost {
            root: self.root.clone(),
        }
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        // A last probe of no device ends the thread.
        let _ = write(&self.root.join("sys/bus/pci/drivers_probe"), "stop");
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A tree with device `DEV` in IOMMU group 7, bound to `e1000e`, and
/// `others` in the same group with their drivers.
pub fn kernel(tag: &str, others: &[(&str, &str)]) -> Kernel {
    let root = std::env::temp_dir().join(format!("qvirt-pci-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let pci = root.join("sys/bus/pci");
    for d in ["e1000e", "vfio-pci", "snd_hda_intel"] {
        std::fs::create_dir_all(pci.join("drivers").join(d)).unwrap();
        std::fs::write(pci.join("drivers").join(d).join("unbind"), "").unwrap();
    }
    let group = root.join("sys/kernel/iommu_groups/7/devices");
    std::fs::create_dir_all(&group).unwrap();
    std::fs::create_dir_all(root.join("dev/vfio")).unwrap();
    for (name, driver) in std::iter::once((DEV, "e1000e")).chain(others.iter().copied()) {
        let dev = pci.join("devices").join(name);
        std::fs::create_dir_all(&dev).unwrap();
        std::fs::write(dev.join("driver_override"), "(null)\n").unwrap();
        std::fs::write(dev.join("preferred"), driver).unwrap();
        symlink(pci.join("drivers").join(driver), dev.join("driver")).unwrap();
        symlink(
            root.join("sys/kernel/iommu_groups/7"),
            dev.join("iommu_group"),
        )
        .unwrap();
        symlink(&dev, group.join(name)).unwrap();
    }
    let probe = pci.join("drivers_probe");
    nix::unistd::mkfifo(&probe, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let r = root.clone();
    let thread = std::thread::spawn(move || {
        loop {
            // Writes that meet in the pipe arrive as one read.
            let names = std::fs::read_to_string(&probe).unwrap();
            for name in names.as_bytes().chunks(DEV.len()) {
                if name == b"stop" {
                    return;
                }
                probe_device(&r, std::str::from_utf8(name).unwrap());
            }
        }
    });
    Kernel {
        root,
        thread: Some(thread),
    }
}

/// What the kernel does: an unbind written to the old driver took the
/// device off it; a probe binds it to its override, else its own driver.
fn probe_device(root: &Path, name: &str) {
    let pci = root.join("sys/bus/pci");
    let dev = pci.join("devices").join(name);
    if let Ok(old) = std::fs::read_link(dev.join("driver")) {
        let unbind = old.join("unbind");
        if std::fs::read_to_string(&unbind).unwrap() == name {
            std::fs::write(&unbind, "").unwrap();
            std::fs::remove_file(dev.join("driver")).unwrap();
            let _ = std::fs::remove_file(root.join("dev/vfio/7"));
        }
    }
    if dev.join("driver").exists() {
        return;
    }
    let over = std::fs::read_to_string(dev.join("driver_override")).unwrap();
    let driver = match over.trim() {
        "" | "(null)" => std::fs::read_to_string(dev.join("preferred")).unwrap(),
        d => d.to_string(),
    };
    symlink(pci.join("drivers").join(&driver), dev.join("driver")).unwrap();
    if driver == VFIO_DRIVER {
        let _ = std::fs::write(root.join("dev/vfio/7"), "");
    }
}

/// The driver of `DEV` once it is `want` (or after a second).
pub fn settled(host: &PciHost, want: &str) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let d = host.driver(DEV);
        if d.as_deref() == Some(want) || Instant::now() > deadline {
            return d;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
