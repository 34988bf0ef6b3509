//! The lifecycle policies with the Linux guest: what happens when the
//! guest powers off (`<on_poweroff>`) or reboots (`<on_reboot>`).

use qvirt::driver::{DomainState, EventKind, ShutdownOptions, StateReason};

use crate::{BOOT, Ctx, QUICK, READY, Vm, Watch, boot_guest, info, process_alive, wait_state};

/// `on_poweroff='restart'`: the guest's power-off restarts it in the same
/// QEMU (as libvirt does): same id and process, the guest boots again.
pub fn guest_on_poweroff_restart(cx: &mut Ctx<'_>) {
    let vm = Vm::linux("lx-a").element("<on_poweroff>restart</on_poweroff>");
    let (dom, mut console) = boot_guest(cx.d(), &vm);
    let pid = cx.qemu_pid("lx-a");
    let d = cx.d();
    let mut w = Watch::new(d);
    d.shutdown(&dom, ShutdownOptions::default()).unwrap();
    w.wait_for(vm.uuid, EventKind::Shutdown, BOOT);
    console.read_until(READY, BOOT);
    console.echo_roundtrip("restarted-marker");
    let i = info(d, &dom);
    assert_eq!(i.state, DomainState::Running);
    assert_eq!(d.lookup_by_name("lx-a").unwrap().id, dom.id);
    assert_eq!(cx.qemu_pid("lx-a"), pid);
    // And again: the policy holds for every power-off.
    d.shutdown(&dom, ShutdownOptions::default()).unwrap();
    console.read_until(READY, BOOT);
    assert_eq!(info(d, &dom).state, DomainState::Running);
    assert!(process_alive(pid));
}

/// `on_poweroff='preserve'`: the powered-off guest is kept, paused
/// (shutting down), until destroyed.
pub fn guest_on_poweroff_preserve(cx: &mut Ctx<'_>) {
    let vm = Vm::linux("lx-a").element("<on_poweroff>preserve</on_poweroff>");
    let (dom, _console) = boot_guest(cx.d(), &vm);
    let pid = cx.qemu_pid("lx-a");
    let d = cx.d();
    let mut w = Watch::new(d);
    d.shutdown(&dom, ShutdownOptions::default()).unwrap();
    w.wait_for(vm.uuid, EventKind::Shutdown, BOOT);
    let i = wait_state(d, &dom, DomainState::Paused, QUICK);
    assert_eq!(i.reason, StateReason::ShuttingDown);
    assert!(process_alive(pid), "the QEMU process is kept");
    assert_eq!(d.lookup_by_name("lx-a").unwrap().id, dom.id);
    d.destroy(&dom).unwrap();
    w.wait_for(vm.uuid, EventKind::Stopped(StateReason::Destroyed), QUICK);
    assert!(!process_alive(pid));
}

/// `on_reboot='destroy'`: a reboot from inside the guest ends the domain
/// as a guest shutdown (not a crash).
pub fn guest_on_reboot_destroy(cx: &mut Ctx<'_>) {
    let vm = Vm::linux("lx-a").element("<on_reboot>destroy</on_reboot>");
    let (dom, mut console) = boot_guest(cx.d(), &vm);
    let d = cx.d();
    let mut w = Watch::new(d);
    console.write("reboot -f\n");
    w.wait_for(vm.uuid, EventKind::Stopped(StateReason::Shutdown), BOOT);
    let i = info(d, &dom);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Shutoff, StateReason::Shutdown)
    );
    assert!(!cx.run_dir("lx-a").exists());
}

/// `on_reboot='preserve'`: a reboot from inside the guest keeps it,
/// paused (shutting down), in the same QEMU.
pub fn guest_on_reboot_preserve(cx: &mut Ctx<'_>) {
    let vm = Vm::linux("lx-a").element("<on_reboot>preserve</on_reboot>");
    let (dom, mut console) = boot_guest(cx.d(), &vm);
    let pid = cx.qemu_pid("lx-a");
    let d = cx.d();
    console.write("reboot -f\n");
    let i = wait_state(d, &dom, DomainState::Paused, BOOT);
    assert_eq!(i.reason, StateReason::ShuttingDown);
    assert!(process_alive(pid));
    assert_eq!(d.lookup_by_name("lx-a").unwrap().id, dom.id);
}

/// `on_reboot='preserve'` makes QEMU pause on any power-off (it cannot
/// tell the two apart), but `on_poweroff` is still `destroy`: the guest's
/// power-off ends the domain (shutdown), as it would without the reboot
/// policy.
pub fn guest_poweroff_destroys_despite_reboot_preserve(cx: &mut Ctx<'_>) {
    let vm = Vm::linux("lx-a").element("<on_reboot>preserve</on_reboot>");
    let (dom, _console) = boot_guest(cx.d(), &vm);
    let pid = cx.qemu_pid("lx-a");
    let d = cx.d();
    let mut w = Watch::new(d);
    d.shutdown(&dom, ShutdownOptions::default()).unwrap();
    w.wait_for(vm.uuid, EventKind::Stopped(StateReason::Shutdown), BOOT);
    let i = info(d, &dom);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Shutoff, StateReason::Shutdown)
    );
    assert!(!process_alive(pid));
}
