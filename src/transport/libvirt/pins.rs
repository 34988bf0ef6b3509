//! vCPUs and QEMU's other threads pinned as libvirt's calls ask
//! (virsh's `vcpupin` and `emulatorpin` with a CPU list):
//! `virDomainPinVcpu`, `virDomainPinVcpuFlags` and `virDomainPinEmulator`
//! go to [`Driver::pin_cpus`]; their reading is in `vcpus.rs`.

use super::threads::cpus_of;
use super::types::Dom;
use super::values::{affect, check_flags};
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::{Opaque, xdr_struct};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, Driver, ModifyFlags, PinTarget};

xdr_struct! {
    /// `remote_domain_pin_vcpu_args`.
    pub struct PinVcpuArgs { pub dom: Dom, pub vcpu: u32, pub cpumap: Opaque }
    /// `remote_domain_pin_vcpu_flags_args`.
    pub struct PinVcpuFlagsArgs { pub dom: Dom, pub vcpu: u32, pub cpumap: Opaque, pub flags: u32 }
    /// `remote_domain_pin_emulator_args`.
    pub struct PinEmulatorArgs { pub dom: Dom, pub cpumap: Opaque, pub flags: u32 }
}

/// `REMOTE_CPUMAP_MAX`.
const CPUMAP_MAX: usize = 2048;

/// Pins `target` to the CPUs of libvirt's `map` with `flags`
/// (`VIR_DOMAIN_AFFECT_*`), checked for `function`.
fn pin(
    driver: &dyn Driver,
    dom: &Dom,
    target: PinTarget,
    map: &[u8],
    flags: u32,
    function: &str,
) -> Result<()> {
    check_flags(flags, affect::LIVE | affect::CONFIG, function)?;
    if map.len() > CPUMAP_MAX {
        return Err(Error::new(
            ErrorCode::Protocol,
            format!(
                "a CPU map of {} bytes is more than libvirt's protocol carries ({CPUMAP_MAX})",
                map.len()
            ),
        ));
    }
    let flags = ModifyFlags::new(flags & affect::LIVE != 0, flags & affect::CONFIG != 0);
    driver.pin_cpus(&Domain::from(dom), target, &cpus_of(map), flags)
}

/// `virDomainPinVcpu`: the running domain's, as libvirt's
/// `qemuDomainPinVcpu` asks (`VIR_DOMAIN_AFFECT_LIVE`).
pub fn pin_vcpu(driver: &dyn Driver, a: PinVcpuArgs) -> Result<()> {
    let target = PinTarget::Vcpu(a.vcpu);
    pin(
        driver,
        &a.dom,
        target,
        &a.cpumap.0,
        affect::LIVE,
        "virDomainPinVcpu",
    )
}

/// `virDomainPinVcpuFlags`.
pub fn pin_vcpu_flags(driver: &dyn Driver, a: PinVcpuFlagsArgs) -> Result<()> {
    let target = PinTarget::Vcpu(a.vcpu);
    pin(
        driver,
        &a.dom,
        target,
        &a.cpumap.0,
        a.flags,
        "virDomainPinVcpuFlags",
    )
}

/// `virDomainPinEmulator`.
pub fn pin_emulator(driver: &dyn Driver, a: PinEmulatorArgs) -> Result<()> {
    let target = PinTarget::Emulator;
    pin(
        driver,
        &a.dom,
        target,
        &a.cpumap.0,
        a.flags,
        "virDomainPinEmulator",
    )
}
