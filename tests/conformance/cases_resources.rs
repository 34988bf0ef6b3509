//! Memory and vCPUs changed while the guest runs and in the definition,
//! statistics, and the monitor escape hatch: each change is looked for
//! inside the running Linux guest (its /proc and /sys), not only in
//! qvirt's own answers.

use qvirt::driver::{DomainState, ModifyFlags, XmlFlags};
use qvirt::{DomainDef, ErrorCode};

use super::*;

/// Runs `command` in the guest's shell and returns its output (the lines
/// between the command and an end marker).
fn guest_run(console: &mut Console, command: &str) -> String {
    console.write(&format!("{command}; echo END''OF''OUT\n"));
    let text = console.read_until("ENDOFOUT", QUICK);
    // The echoed command line holds END''OF''OUT, not ENDOFOUT.
    let body = text.rsplit_once("ENDOFOUT").map_or("", |(b, _)| b);
    let after = body.rsplit_once("END''OF''OUT").map_or(body, |(_, a)| a);
    after.replace('\r', "").trim().to_string()
}

/// The guest's MemTotal, KiB.
fn guest_mem_total(console: &mut Console) -> u64 {
    let out = guest_run(console, "grep MemTotal /proc/meminfo");
    out.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no MemTotal in {out:?}"))
}

/// The Linux guest with a balloon and one of two vCPUs online.
fn resizable(name: &str) -> Vm {
    let vm = Vm::linux(name).memory_mib(256).vcpus(2);
    Vm {
        devices: vm
            .devices
            .replace("<memballoon model='none'/>", "<memballoon model='virtio'/>"),
        ..vm
    }
}

/// `setmem --live` through the balloon: the guest's MemTotal drops; a
/// size above `<memory>` is refused; `--config` changes only the
/// definition.
pub fn live_memory_reaches_the_guest(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = resizable("lx-mem");
    let dom = d
        .define_xml(
            &vm.xml()
                .replace("<vcpu>2</vcpu>", "<vcpu current='1'>2</vcpu>"),
        )
        .unwrap();
    let dom = d.start(&dom).unwrap();
    let mut console = Console::open(d, &dom, false);
    console.wait_ready();
    let before = guest_mem_total(&mut console);
    d.set_memory(&dom, 128 * 1024, ModifyFlags::LIVE).unwrap();
    wait_until("the guest to give memory to the balloon", BOOT, || {
        (guest_mem_total(&mut console) + 64 * 1024 < before).then_some(())
    });
    assert_eq!(info(d, &dom).memory_kib, 128 * 1024);
    let live = DomainDef::from_xml(&d.xml_desc(&dom, XmlFlags::NONE).unwrap()).unwrap();
    assert_eq!(live.current_memory_kib, Some(128 * 1024));
    let stats = wait_until("the balloon to settle", BOOT, || {
        let s = d.stats(&dom).unwrap();
        (s.balloon.current_kib == 128 * 1024).then_some(s)
    });
    assert_eq!(stats.balloon.maximum_kib, 256 * 1024);
    assert!(stats.balloon.rss_kib > 0);
    expect_err(
        d.set_memory(&dom, 512 * 1024, ModifyFlags::LIVE),
        ErrorCode::InvalidArgument,
        "above <memory>",
    );
    expect_err(
        d.set_max_memory(&dom, 512 * 1024, ModifyFlags::LIVE),
        ErrorCode::OperationInvalid,
        "setmaxmem --live",
    );
    // The definition alone.
    d.set_max_memory(&dom, 512 * 1024, ModifyFlags::CONFIG)
        .unwrap();
    d.set_memory(&dom, 300 * 1024, ModifyFlags::CONFIG).unwrap();
    let kept = DomainDef::from_xml(&d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap()).unwrap();
    assert_eq!(kept.memory_kib, 512 * 1024);
    assert_eq!(kept.current_memory_kib, Some(300 * 1024));
    assert_eq!(
        info(d, &dom).memory_kib,
        128 * 1024,
        "the running guest unchanged"
    );
    // Giving memory back grows the guest again.
    d.set_memory(&dom, 256 * 1024, ModifyFlags::CURRENT)
        .unwrap();
    wait_until("the balloon to give memory back", BOOT, || {
        (guest_mem_total(&mut console) + 16 * 1024 >= before).then_some(())
    });
}

/// `setvcpus --live 2` hot-plugs a second vCPU the guest can bring
/// online; the definition keeps its own count.
pub fn live_vcpus_reach_the_guest(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = resizable("lx-cpu");
    let dom = d
        .define_xml(
            &vm.xml()
                .replace("<vcpu>2</vcpu>", "<vcpu current='1'>2</vcpu>"),
        )
        .unwrap();
    let dom = d.start(&dom).unwrap();
    let mut console = Console::open(d, &dom, false);
    console.wait_ready();
    assert_eq!(
        guest_run(&mut console, "cat /sys/devices/system/cpu/present").trim(),
        "0"
    );
    assert_eq!(info(d, &dom).vcpus, 1);
    expect_err(
        d.set_vcpus(&dom, 3, ModifyFlags::LIVE),
        ErrorCode::InvalidArgument,
        "above <vcpu>",
    );
    d.set_vcpus(&dom, 2, ModifyFlags::LIVE).unwrap();
    assert_eq!(info(d, &dom).vcpus, 2);
    assert_eq!(d.stats(&dom).unwrap().vcpus.len(), 2);
    wait_until("the guest to see the new CPU", QUICK, || {
        (guest_run(&mut console, "cat /sys/devices/system/cpu/present").trim() == "0-1")
            .then_some(())
    });
    guest_run(
        &mut console,
        "echo 1 > /sys/devices/system/cpu/cpu1/online 2>/dev/null",
    );
    let cpus = guest_run(&mut console, "grep -c ^processor /proc/cpuinfo");
    assert_eq!(cpus.trim(), "2", "the second CPU is online in the guest");
    let kept = DomainDef::from_xml(&d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap()).unwrap();
    assert_eq!(kept.vcpu.current, Some(1), "--live left the definition");
    let live = DomainDef::from_xml(&d.xml_desc(&dom, XmlFlags::NONE).unwrap()).unwrap();
    assert_eq!(live.vcpu.current, None, "all of <vcpu> online");
    d.set_vcpus(&dom, 2, ModifyFlags::CONFIG).unwrap();
    d.set_max_vcpus(&dom, 4, ModifyFlags::CONFIG).unwrap();
    let kept = DomainDef::from_xml(&d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap()).unwrap();
    assert_eq!((kept.vcpu.current, kept.vcpu.max), (Some(2), 4));
    expect_err(
        d.set_max_vcpus(&dom, 4, ModifyFlags::LIVE),
        ErrorCode::OperationInvalid,
        "maximum while running",
    );
}

/// Statistics of a running domain come from QEMU and /proc; of a shut-off
/// one, only the state. The monitor escape hatch answers and taints.
pub fn stats_and_monitor_command(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let disk = cx.root().join("stats-disk.img");
    std::fs::File::create(&disk)
        .unwrap()
        .set_len(8 << 20)
        .unwrap();
    let vm = Vm::firmware("fw-stats").device(&format!(
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
         <source file='{}'/><target dev='vda' bus='virtio'/></disk>",
        disk.display()
    ));
    let dom = define(d, &vm);
    let off = d.stats(&dom).unwrap();
    assert_eq!(off.state, DomainState::Shutoff);
    assert!(off.blocks.is_empty() && off.vcpus.is_empty());
    let dom = d.start(&dom).unwrap();
    let s = d.stats(&dom).unwrap();
    assert_eq!(s.state, DomainState::Running);
    assert!(s.cpu_time_ns > 0);
    assert_eq!(s.vcpus.len(), 1);
    // libvirt's statistics name no vCPU thread: its client says 0.
    if !d.uri().contains("proto=libvirt") {
        assert!(s.vcpus[0].thread_id > 0);
    }
    assert_eq!(s.blocks.len(), 1);
    assert_eq!(s.blocks[0].target, "vda");
    assert_eq!(s.blocks[0].capacity, 8 << 20);
    assert_eq!(s.blocks[0].physical, 8 << 20);
    assert!(d.messages(&dom).unwrap().is_empty(), "untainted at start");
    let answer = d
        .qemu_monitor_command(&dom, r#"{"execute":"query-status"}"#)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(v["return"]["status"], "running", "{answer}");
    let log = std::fs::read_to_string(cx.root().join("log/qemu/fw-stats.log")).unwrap();
    assert!(log.contains("tainted: custom-monitor"), "{log}");
    // The taint is libvirt's message, once however many commands, and a
    // new manager still knows it.
    d.qemu_monitor_command(&dom, r#"{"execute":"query-name"}"#)
        .unwrap();
    let tainted = vec!["tainted: custom monitor control commands issued".to_string()];
    assert_eq!(d.messages(&dom).unwrap(), tainted);
    cx.reopen();
    let d = cx.d();
    assert_eq!(d.messages(&dom).unwrap(), tainted, "after a reattach");
    expect_err(
        d.qemu_monitor_command(&dom, "info status"),
        ErrorCode::InvalidArgument,
        "not QMP JSON",
    );
    let e = expect_err(
        d.qemu_monitor_command(&dom, r#"{"execute":"no-such-command"}"#),
        ErrorCode::OperationFailed,
        "QEMU's own error",
    );
    assert!(e.message.contains("no-such-command"), "{e}");
    d.destroy(&dom).unwrap();
    expect_err(
        d.qemu_monitor_command(&dom, r#"{"execute":"query-status"}"#),
        ErrorCode::OperationInvalid,
        "shut off",
    );
    // A taint ends with the run it marked.
    assert!(d.messages(&dom).unwrap().is_empty());
    let dom = d.start(&dom).unwrap();
    assert!(
        d.messages(&dom).unwrap().is_empty(),
        "a new run is untainted"
    );
    d.destroy(&dom).unwrap();
}

/// The balloon's statistics period (`dommemstat --period`): live as
/// QEMU's `guest-stats-polling-interval` (read back with `qom-get`),
/// in the definition as `<stats period>` (applied at the next start),
/// kept by a manager that reattaches; a domain without a balloon
/// refuses it.
pub fn balloon_stats_period_live_and_config(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let fw = Vm::firmware("fw-period");
    let vm = Vm {
        devices: fw
            .devices
            .replace("<memballoon model='none'/>", "<memballoon model='virtio'/>"),
        ..fw
    };
    let dom = define_and_start(d, &vm);
    let polling = |d: &dyn qvirt::Driver| -> u64 {
        let answer = d
            .qemu_monitor_command(
                &dom,
                r#"{"execute":"qom-get","arguments":{"path":"/machine/peripheral/balloon0","property":"guest-stats-polling-interval"}}"#,
            )
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
        v["return"].as_u64().unwrap_or_else(|| panic!("{answer}"))
    };
    let period = |d: &dyn qvirt::Driver, inactive: bool| -> Option<u32> {
        let xml = d.xml_desc(&dom, XmlFlags::inactive_if(inactive)).unwrap();
        let def = DomainDef::from_xml(&xml).unwrap();
        def.devices.memballoon.and_then(|b| b.stats_period)
    };
    assert_eq!(polling(d), 0);
    d.set_memory_stats_period(&dom, 5, ModifyFlags::LIVE)
        .unwrap();
    assert_eq!(polling(d), 5);
    assert_eq!((period(d, false), period(d, true)), (Some(5), None));
    d.set_memory_stats_period(&dom, 7, ModifyFlags::CONFIG)
        .unwrap();
    assert_eq!(polling(d), 5, "the running balloon keeps its period");
    assert_eq!((period(d, false), period(d, true)), (Some(5), Some(7)));
    // A manager that reattaches still knows the live period.
    cx.reopen();
    let d = cx.d();
    assert_eq!((period(d, false), period(d, true)), (Some(5), Some(7)));
    // 0 stops the reports, and leaves no <stats>.
    d.set_memory_stats_period(&dom, 0, ModifyFlags::new(true, true))
        .unwrap();
    assert_eq!(polling(d), 0);
    assert_eq!((period(d, false), period(d, true)), (None, None));
    // The definition's period is the next run's.
    d.set_memory_stats_period(&dom, 9, ModifyFlags::CONFIG)
        .unwrap();
    d.destroy(&dom).unwrap();
    d.start(&dom).unwrap();
    assert_eq!(polling(d), 9);
    assert_eq!(period(d, false), Some(9));
    d.destroy(&dom).unwrap();

    // No balloon, no period; nothing changes.
    let none = define(d, &Vm::firmware("fw-noballoon"));
    let before = d.xml_desc(&none, XmlFlags::INACTIVE).unwrap();
    expect_err(
        d.set_memory_stats_period(&none, 5, ModifyFlags::CONFIG),
        ErrorCode::OperationInvalid,
        "no balloon",
    );
    assert_eq!(d.xml_desc(&none, XmlFlags::INACTIVE).unwrap(), before);
}
