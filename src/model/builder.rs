//! Building a definition in code, without XML: [`DomainDef::new`] and
//! setters for what a small VM needs. Anything else is set on the public
//! fields; [`DomainDef::to_xml`] shows the result in libvirt's words.

use uuid::Uuid;

use super::chardev::{CharDevice, CharSource};
use super::disk::{Disk, DiskDevice, DiskFormat};
use super::domain::{DomainDef, LifecycleAction, Vcpu, VirtType};

impl DomainDef {
    /// A domain named `name` with `memory_mib` MiB of memory and one
    /// vCPU, and nothing else: KVM, the host's architecture, the
    /// emulator's default machine, a new random UUID, no devices; powered
    /// off it is destroyed, rebooted it restarts, crashed it is destroyed
    /// (libvirt's defaults). The name is checked when the domain is
    /// defined or created.
    ///
    /// ```
    /// use qvirt::DomainDef;
    /// use qvirt::model::{DiskFormat, VirtType};
    ///
    /// let def = DomainDef::new("demo", 256)
    ///     .with_virt_type(VirtType::Qemu)
    ///     .with_vcpus(2)
    ///     .with_kernel("/srv/vm/vmlinuz", Some("/srv/vm/initrd.img"), Some("console=ttyS0"))
    ///     .with_disk("/srv/vm/demo.qcow2", DiskFormat::Qcow2, "vda")
    ///     .with_serial_console();
    /// assert!(def.to_xml().contains("<name>demo</name>"));
    /// ```
    pub fn new(name: impl Into<String>, memory_mib: u64) -> DomainDef {
        DomainDef {
            virt_type: VirtType::Kvm,
            name: name.into(),
            uuid: Uuid::new_v4(),
            title: None,
            description: None,
            metadata: None,
            memory_kib: memory_mib.saturating_mul(1024),
            dump_core: None,
            current_memory_kib: None,
            max_memory: None,
            memory_backing: None,
            memtune: None,
            blkiotune: None,
            iothreads: None,
            iothread_ids: None,
            thread_pools: Default::default(),
            cputune: None,
            numatune: None,
            partition: None,
            sysinfo: None,
            fw_cfg: Vec::new(),
            genid: None,
            seclabels: Vec::new(),
            launch_security: None,
            perf: Vec::new(),
            qemu: Default::default(),
            vcpu: Vcpu {
                max: 1,
                current: None,
                cpuset: None,
                placement: None,
                individual: None,
            },
            os: Default::default(),
            features: Default::default(),
            clock: None,
            pm: Default::default(),
            cpu: None,
            on_poweroff: LifecycleAction::Destroy,
            on_reboot: LifecycleAction::Restart,
            on_crash: LifecycleAction::Destroy,
            devices: Default::default(),
        }
    }

    /// With `virt_type` (`Qemu`: TCG emulation, where KVM is missing).
    pub fn with_virt_type(mut self, virt_type: VirtType) -> DomainDef {
        self.virt_type = virt_type;
        self
    }

    /// With `n` vCPUs.
    pub fn with_vcpus(mut self, n: u32) -> DomainDef {
        self.vcpu.max = n;
        self
    }

    /// With this UUID instead of a random one.
    pub fn with_uuid(mut self, uuid: Uuid) -> DomainDef {
        self.uuid = uuid;
        self
    }

    /// Booting `kernel` directly (with an initial ramdisk and a command
    /// line), rather than from a disk.
    pub fn with_kernel(
        mut self,
        kernel: impl Into<String>,
        initrd: Option<&str>,
        cmdline: Option<&str>,
    ) -> DomainDef {
        self.os.kernel = Some(kernel.into());
        self.os.initrd = initrd.map(str::to_string);
        self.os.cmdline = cmdline.map(str::to_string);
        self
    }

    /// With a disk: the image file `path` in `format`, seen by the guest
    /// as `target` (`vda` is virtio, `sda` SCSI, `hda` IDE).
    pub fn with_disk(
        mut self,
        path: impl Into<String>,
        format: DiskFormat,
        target: impl Into<String>,
    ) -> DomainDef {
        let mut disk = Disk::new(DiskDevice::Disk, target);
        disk.format = Some(format);
        disk.source = Some(path.into());
        self.devices.disks.push(disk);
        self
    }

    /// With a serial port on a pseudo-terminal, which is also the
    /// console (`Driver::console` reaches it).
    pub fn with_serial_console(mut self) -> DomainDef {
        self.devices.serials.push(CharDevice {
            source: CharSource::Pty { path: None },
            target_port: Some(0),
            target_type: None,
            log: None,
            address: None,
            alias: None,
        });
        self
    }
}
