//! A virtio-mem device's requested size, changed while the domain runs
//! (virsh's `update-memory-device`, which is libvirt's
//! virDomainUpdateDeviceFlags of the `<memory>` with a new
//! `<requested>`: qemuDomainChangeMemLive), and what the guest plugged
//! of it (QEMU's `MEMORY_DEVICE_SIZE_CHANGE`: the live XML's `<current>`,
//! and libvirt's `VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE`).

use serde_json::{Value, json};

use super::driver::Core;
use super::runtime::Running;
use crate::driver::{Domain, EventKind, ModifyFlags};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, MemoryDevice, MemoryModel};
use crate::qemu::argv::memory_device_ids;
use crate::qemu::qmp::QMP_TIMEOUT;

/// The virtio-mem device of `def` that `new` names: by its PCI address
/// when it gives one, else by what the device is (model, size, node,
/// block size and source), as libvirt finds it.
fn find(def: &DomainDef, new: &MemoryDevice, which: &str) -> Result<usize> {
    let same = |m: &MemoryDevice| {
        m.model == new.model
            && match &new.address {
                Some(a) => m.address.as_ref() == Some(a),
                None => {
                    m.size_kib == new.size_kib
                        && m.node == new.node
                        && new.block_kib.is_none_or(|b| m.block_kib == Some(b))
                        && m.pagesize_kib == new.pagesize_kib
                        && m.nodemask == new.nodemask
                }
            }
    };
    def.devices.memories.iter().position(same).ok_or_else(|| {
        Error::new(
            ErrorCode::OperationInvalid,
            format!("matching memory device was not found in the {which}"),
        )
    })
}

/// libvirt's rule: of a memory device only a virtio-mem device's
/// requested size changes; everything else the element gives must be
/// the device's own.
fn check_requested_only(new: &MemoryDevice, cur: &MemoryDevice) -> Result<()> {
    let mut same = new.clone();
    same.requested_kib = cur.requested_kib;
    same.current_kib = cur.current_kib;
    same.address.clone_from(&cur.address);
    same.alias.clone_from(&cur.alias);
    same.block_kib = same.block_kib.or(cur.block_kib);
    if same != *cur {
        return Err(Error::new(
            ErrorCode::ConfigUnsupported,
            "cannot modify memory device: only the requested size of a virtio-mem device changes",
        ));
    }
    Ok(())
}

impl Core {
    /// [`crate::Driver::update_device`] of a `<memory>` device: a
    /// virtio-mem device's requested size, live (QEMU's `requested-size`,
    /// which the guest then plugs or unplugs blocks to reach) and in the
    /// definition. Checked first on both, nothing changed on a refusal.
    pub(crate) fn update_memory(
        &self,
        dom: &Domain,
        new: &MemoryDevice,
        flags: ModifyFlags,
    ) -> Result<()> {
        if new.model != MemoryModel::VirtioMem {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!(
                    "updating memory device '{}' is not supported: only a virtio-mem device's requested size changes",
                    new.model.as_str()
                ),
            ));
        }
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let (run, config) = self.targets(dom, flags, "update a memory device of")?;
        let changed = |def: &DomainDef, which: &str| -> Result<(usize, DomainDef)> {
            let i = find(def, new, which)?;
            check_requested_only(new, &def.devices.memories[i])?;
            let mut def = def.clone();
            def.devices.memories[i].requested_kib = new.requested_kib;
            def.validate().map_err(Error::from)?;
            Ok((i, def))
        };
        // The live change is made once, checked with the definition's
        // before either is applied (the modify job keeps both as they are).
        let live = match &run {
            Some(run) => Some(changed(&run.live_def(), "running domain")?),
            None => None,
        };
        if config {
            self.with_entry(dom, |e| match &e.persistent {
                Some(def) => changed(def, "persistent definition").map(drop),
                None => Ok(()),
            })?;
        }
        if let (Some(run), Some((i, def))) = (&run, live) {
            let (id, _) = memory_device_ids(&def).swap_remove(i);
            run.qmp()?.execute(
                "qom-set",
                Some(json!({
                    "path": format!("/machine/peripheral/{id}"),
                    "property": "requested-size",
                    "value": new.requested_kib * 1024,
                })),
                QMP_TIMEOUT,
            )?;
            run.update_plugged(|p| {
                if let Some(m) = p.memories.get_mut(i) {
                    m.requested_kib = new.requested_kib;
                }
            });
            self.save_status(dom.uuid, run);
        }
        if config {
            self.edit_config(dom, &|def, which| {
                *def = changed(def, which)?.1;
                Ok(())
            })?;
        }
        self.log.info(&format!(
            "domain '{}': a virtio-mem device's requested size is now {} KiB",
            dom.name, new.requested_kib
        ));
        Ok(())
    }

    /// QEMU's `MEMORY_DEVICE_SIZE_CHANGE`: the guest plugged or unplugged
    /// blocks of a virtio-mem device. The live XML's `<current>` follows,
    /// and subscribers hear the device's alias and its size now.
    pub(crate) fn on_memory_size_change(&self, run: &Running, data: &Value) {
        let (Some(id), Some(size)) = (
            data.get("id").and_then(Value::as_str),
            data.get("size").and_then(Value::as_u64),
        ) else {
            return;
        };
        let Some(i) = memory_device_ids(&run.live_def())
            .iter()
            .position(|(d, _)| d == id)
        else {
            return;
        };
        run.update_plugged(|p| {
            if let Some(m) = p.memories.get_mut(i) {
                m.current_kib = Some(size >> 10);
            }
        });
        self.save_status(run.def.uuid, run);
        self.emit(
            super::monitor::handle_of(run.def.uuid, run),
            EventKind::MemoryDeviceSizeChange {
                alias: id.to_string(),
                size_kib: size >> 10,
            },
        );
    }
}
