//! The Linux test guest: ACPI shutdown, reboot, the serial console, save
//! and restore of a booted guest, and a QEMU killed under it. Each case
//! boots its own guest.

use std::time::Duration;

use qvirt::ErrorCode;
use qvirt::driver::{DomainState, EventKind, KeyCodeset, ListFilter, ShutdownOptions, StateReason};

use crate::{
    BOOT, Console, Ctx, QUICK, READY, Vm, Watch, boot_guest, define_and_start, expect_err, info,
    kill_process, process_alive, processes_under, wait_state,
};

/// An ACPI shutdown that waits returns once the guest powered off: the
/// domain is shut off (shutdown), after Shutdown and Stopped events.
pub fn guest_shutdown_waits(cx: &mut Ctx<'_>) {
    let vm = Vm::linux("lx-a");
    let (dom, _console) = boot_guest(cx.d(), &vm);
    let pid = cx.qemu_pid("lx-a");
    let d = cx.d();
    let mut w = Watch::new(d);
    let opts = ShutdownOptions::NO_WAIT.with_wait(BOOT);
    d.shutdown(&dom, opts).unwrap();
    let i = info(d, &dom);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Shutoff, StateReason::Shutdown)
    );
    w.expect(
        vm.uuid,
        &[
            EventKind::Shutdown,
            EventKind::Stopped(StateReason::Shutdown),
        ],
    );
    assert!(!process_alive(pid));
    assert!(!cx.run_dir("lx-a").exists());
    assert!(d.list(ListFilter::ACTIVE).unwrap().is_empty());
}

/// A shutdown with a wait, asked for the moment the guest starts (its
/// kernel is not listening to the power button yet), powers it off once
/// it has booted: the request is made again while waiting.
pub fn guest_shutdown_right_after_start(cx: &mut Ctx<'_>) {
    let vm = Vm::linux("lx-a");
    let d = cx.d();
    let dom = define_and_start(d, &vm);
    let opts = ShutdownOptions::NO_WAIT.with_wait(BOOT);
    d.shutdown(&dom, opts).unwrap();
    let i = info(d, &dom);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Shutoff, StateReason::Shutdown)
    );
}

/// A shutdown whose wait is too short for the guest is `Timeout`; the
/// request was delivered all the same, and the guest powers off soon
/// after.
///
/// The wait starts once the request is delivered; a caller that then
/// waits longer for a CPU than the guest takes to power off (~50 ms)
/// finds it off already, which is a success: that happens only on a
/// starved machine, and the guest must then be off for the right reason.
pub fn guest_shutdown_too_short_times_out(cx: &mut Ctx<'_>) {
    let vm = Vm::linux("lx-a");
    let (dom, _console) = boot_guest(cx.d(), &vm);
    let d = cx.d();
    let opts = ShutdownOptions::NO_WAIT.with_wait(Duration::from_millis(1));
    match d.shutdown(&dom, opts) {
        Ok(()) => assert_eq!(info(d, &dom).state, DomainState::Shutoff),
        Err(e) => {
            assert_eq!(e.code, ErrorCode::Timeout, "1 ms wait: {}", e.message);
            assert!(e.message.contains("lx-a"), "{}", e.message);
        }
    }
    let i = wait_state(d, &dom, DomainState::Shutoff, BOOT);
    assert_eq!(i.reason, StateReason::Shutdown);
    assert_eq!(processes_under(cx.root()), Vec::<i32>::new());
}

/// A reboot keeps the QEMU process and the id: a Reset event, and the
/// guest boots again to its marker on the same console.
pub fn guest_reboot_keeps_process(cx: &mut Ctx<'_>) {
    let vm = Vm::linux("lx-a");
    let (dom, mut console) = boot_guest(cx.d(), &vm);
    let pid = cx.qemu_pid("lx-a");
    let d = cx.d();
    let mut w = Watch::new(d);
    d.reboot(&dom).unwrap();
    w.wait_for(vm.uuid, EventKind::Reset, BOOT);
    console.read_until(READY, BOOT);
    console.echo_roundtrip("after-reboot");
    assert_eq!(info(d, &dom).state, DomainState::Running);
    assert_eq!(d.lookup_by_name("lx-a").unwrap().id, dom.id, "same id");
    assert_eq!(cx.qemu_pid("lx-a"), pid, "same QEMU");
    assert!(process_alive(pid));
    // The power-off policy is back in force: a shutdown now powers off.
    let opts = ShutdownOptions::NO_WAIT.with_wait(BOOT);
    d.shutdown(&dom, opts).unwrap();
    assert_eq!(info(d, &dom).reason, StateReason::Shutdown);
}

/// The console carries the guest's output and our input.
pub fn guest_console_echo(cx: &mut Ctx<'_>) {
    let vm = Vm::linux("lx-a");
    let (dom, mut console) = boot_guest(cx.d(), &vm);
    console.echo_roundtrip("hello-marker");
    console.write("uname -s\n");
    console.read_until("Linux", QUICK);
    // Keys sent to the keyboard reach the guest's kernel: Alt+SysRq+H
    // prints its SysRq help on the (serial) console.
    let d = cx.d();
    d.send_key(&dom, KeyCodeset::Linux, 50, &[56, 99, 35])
        .unwrap();
    console.read_until("sysrq: HELP", QUICK);
    // So does a non-maskable interrupt, from no source the kernel knows.
    d.inject_nmi(&dom).unwrap();
    console.read_until("NMI received for unknown reason", QUICK);
    expect_err(
        d.send_key(&dom, KeyCodeset::Linux, 0, &[84]),
        ErrorCode::InvalidArgument,
        "a code with no key",
    );
    expect_err(
        d.send_key(&dom, KeyCodeset::Linux, 0, &[30; 17]),
        ErrorCode::InvalidArgument,
        "17 keys",
    );
    // A paused guest's console can still be opened; output resumes after.
    let d = cx.d();
    d.suspend(&dom).unwrap();
    drop(console);
    let mut console = Console::open(d, &dom, false);
    d.resume(&dom).unwrap();
    console.echo_roundtrip("after-pause");
}

/// One client holds the console: a second open without force fails; with
/// force it succeeds and cuts the first one off. Once released, a plain
/// open works again.
pub fn guest_console_force_takes_over(cx: &mut Ctx<'_>) {
    let vm = Vm::linux("lx-a");
    let (dom, mut first) = boot_guest(cx.d(), &vm);
    let d = cx.d();
    let e = expect_err(
        d.console(&dom, false).map(|_| ()),
        ErrorCode::OperationInvalid,
        "held",
    );
    assert!(e.message.contains("lx-a"), "{}", e.message);
    let mut second = Console::open(d, &dom, true);
    let e = expect_err(
        first.stream().write(b"echo x\n"),
        ErrorCode::OperationDenied,
        "cut off",
    );
    assert!(e.message.contains("lx-a"), "{}", e.message);
    expect_err(
        first.stream().read(Duration::from_millis(50)),
        ErrorCode::OperationDenied,
        "read after losing it",
    );
    second.echo_roundtrip("forced-marker");
    drop(first);
    // The old holder going away does not free the new holder's console.
    expect_err(
        d.console(&dom, false).map(|_| ()),
        ErrorCode::OperationInvalid,
        "still held",
    );
    drop(second);
    let mut third = Console::open(d, &dom, false);
    third.echo_roundtrip("third-marker");
}

/// A booted guest saved to a file and restored carries on where it was:
/// its shell answers on the console.
pub fn guest_save_and_restore(cx: &mut Ctx<'_>) {
    let file = cx.root().join("lx-a.save");
    let vm = Vm::linux("lx-a");
    let (dom, mut console) = boot_guest(cx.d(), &vm);
    console.write("export MARK=kept-across\n");
    console.echo_roundtrip("before-save");
    let d = cx.d();
    d.save(&dom, &file).unwrap();
    assert_eq!(info(d, &dom).reason, StateReason::Saved);
    drop(console);
    let back = d.restore(&file).unwrap();
    assert_eq!(info(d, &back).state, DomainState::Running);
    let mut console = Console::open(d, &back, false);
    console.echo_roundtrip("after-restore");
    console.write("echo $MARK-$MARK\n");
    console.read_until("kept-across-kept-across", QUICK);
}

/// The QEMU of a booted guest killed: shut off (crashed), and the
/// console reports the end instead of hanging.
pub fn guest_killed_is_crashed(cx: &mut Ctx<'_>) {
    let vm = Vm::linux("lx-a");
    let (dom, mut console) = boot_guest(cx.d(), &vm);
    let d = cx.d();
    let mut w = Watch::new(d);
    kill_process(cx.qemu_pid("lx-a"));
    w.wait_for(vm.uuid, EventKind::Stopped(StateReason::Crashed), QUICK);
    let i = info(d, &dom);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Shutoff, StateReason::Crashed)
    );
    assert!(!cx.run_dir("lx-a").exists());
    // Output the guest wrote before it died may still be in flight (a
    // daemon relays it); after that, the console must report the end
    // rather than wait forever.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match console.stream().read(Duration::from_millis(500)) {
            Err(_) => break,
            Ok(_) => assert!(
                std::time::Instant::now() < deadline,
                "the console of a dead domain still reads after 5 s"
            ),
        }
    }
    expect_err(
        d.console(&dom, false).map(|_| ()),
        ErrorCode::OperationInvalid,
        "console",
    );
}
