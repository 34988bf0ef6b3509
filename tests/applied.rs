//! Accepted means applied: for the elements that no QEMU option can
//! express, a running domain shows them. Each test defines a domain in an
//! embedded driver, starts it, lets the driver go (QEMU runs on; its QMP
//! monitor serves one client), and looks at QEMU itself: `query-balloon`
//! for `<currentMemory>`, the balloon's statistics period, the CPU
//! affinity of QEMU's threads for `<vcpu cpuset>`, the NVRAM file made
//! from its template, the swtpm process of an emulated `<tpm>`, display
//! passwords, the guest agent's socket; and `domxml-to-native` against
//! the command line QEMU runs. A new driver then reattaches and stops the
//! domain.

#[path = "applied/audio.rs"]
mod audio;
#[path = "applied/chardev.rs"]
mod chardev;
#[path = "applied/chardev_guest.rs"]
mod chardev_guest;
#[path = "applied/chardev_kinds.rs"]
mod chardev_kinds;
#[path = "applied/chardev_tls.rs"]
mod chardev_tls;
#[path = "applied/dbus_display.rs"]
mod dbus_display;
#[path = "applied/disk_dir.rs"]
mod disk_dir;
#[path = "applied/disk_http.rs"]
mod disk_http;
#[path = "applied/disk_props.rs"]
mod disk_props;
#[path = "applied/disk_sources.rs"]
mod disk_sources;
#[path = "applied/disks.rs"]
mod disks;
#[path = "applied/display.rs"]
mod display;
#[path = "applied/encryption.rs"]
mod encryption;
#[path = "applied/features.rs"]
mod features;
#[path = "applied/fs_models.rs"]
mod fs_models;
#[path = "applied/guest_security.rs"]
mod guest_security;
#[path = "applied/hmat.rs"]
mod hmat;
#[path = "applied/inguest.rs"]
mod inguest;
#[path = "applied/iommu_virtio.rs"]
mod iommu_virtio;
#[path = "applied/iothreads.rs"]
mod iothreads;
#[path = "applied/iscsi.rs"]
mod iscsi;
#[path = "applied/iscsi_lun.rs"]
mod iscsi_lun;
#[path = "applied/machine.rs"]
mod machine;
#[path = "applied/memdev.rs"]
mod memdev;
#[path = "applied/memory_hotplug.rs"]
mod memory_hotplug;
#[path = "applied/metadata_cache.rs"]
mod metadata_cache;
#[path = "applied/nbd_tls.rs"]
mod nbd_tls;
#[path = "applied/net.rs"]
mod net;
#[path = "applied/net_vhostuser.rs"]
mod net_vhostuser;
#[path = "applied/pci_props.rs"]
mod pci_props;
#[allow(dead_code)]
#[path = "common/procs.rs"]
mod procs;
#[path = "applied/qemu_ns.rs"]
mod qemu_ns;
#[path = "applied/rng.rs"]
mod rng;
#[path = "applied/shmem.rs"]
mod shmem;
#[path = "applied/smbios.rs"]
mod smbios;
#[path = "applied/spice_passwd.rs"]
mod spice_passwd;
#[path = "applied/spice_tls.rs"]
mod spice_tls;
#[path = "applied/support.rs"]
mod support;
#[path = "applied/tpm.rs"]
mod tpm;
#[path = "applied/tpm_external.rs"]
mod tpm_external;
#[path = "applied/tpm_state.rs"]
mod tpm_state;
#[path = "applied/tuning.rs"]
mod tuning;
#[path = "applied/uefi.rs"]
mod uefi;
#[path = "applied/uefi_formats.rs"]
mod uefi_formats;
#[path = "applied/uefi_network.rs"]
mod uefi_network;
#[path = "applied/usbredir.rs"]
mod usbredir;

use nix::sched::sched_getaffinity;
use nix::unistd::Pid;
use serde_json::json;

use support::{State, poll};

/// `<currentMemory>` below `<memory>` inflates the balloon by the
/// difference: the Linux guest's balloon driver reports it to
/// `query-balloon`. `<stats period>` is the balloon's polling interval.
#[test]
fn current_memory_and_stats_period_reach_the_balloon() {
    let st = State::new("balloon");
    st.start(&support::linux_vm(
        "balloon",
        256,
        "<currentMemory unit='MiB'>160</currentMemory>",
        "<memballoon model='virtio'><stats period='3'/></memballoon>",
    ));
    let mut qmp = st.qmp("balloon");
    let period = qmp.qom_get(
        "/machine/peripheral/balloon0",
        "guest-stats-polling-interval",
    );
    assert_eq!(period, json!(3), "the statistics period");
    let want = 160 * 1024 * 1024;
    let actual = poll(
        "the guest's balloon to reach 160 MiB",
        support::BOOT,
        || {
            let b = qmp.exec("query-balloon", json!({}));
            let actual = b["actual"].as_u64()?;
            (actual == want).then_some(actual)
        },
    );
    assert_eq!(actual, want);
    drop(qmp);
    st.stop("balloon");
}

/// `<vcpu cpuset>` pins every QEMU thread, the vCPU threads
/// `query-cpus-fast` names among them, to those host CPUs.
#[test]
fn vcpu_cpuset_pins_the_vcpu_threads() {
    let mine = sched_getaffinity(Pid::from_raw(0)).unwrap();
    let cpus: Vec<usize> = (0..nix::sched::CpuSet::count())
        .filter(|c| mine.is_set(*c).unwrap_or(false))
        .collect();
    assert!(
        cpus.len() >= 2,
        "pinning can only be seen with two CPUs or more; this test process may use {cpus:?}"
    );
    let cpu = *cpus.last().unwrap();
    let st = State::new("pin");
    st.start(&format!(
        "<domain type='qemu'>
  <name>pin</name>
  <memory unit='MiB'>32</memory>
  <vcpu placement='static' cpuset='{cpu}'>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><memballoon model='none'/></devices>
</domain>"
    ));
    let mut qmp = st.qmp("pin");
    let vcpus = qmp.exec("query-cpus-fast", json!({}));
    let threads: Vec<i32> = vcpus
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["thread-id"].as_i64().unwrap() as i32)
        .collect();
    assert_eq!(threads.len(), 2, "two vCPU threads: {vcpus}");
    for tid in threads.iter().copied().chain([st.qemu_pid("pin")]) {
        let set = sched_getaffinity(Pid::from_raw(tid)).unwrap();
        let on: Vec<usize> = (0..nix::sched::CpuSet::count())
            .filter(|c| set.is_set(*c).unwrap_or(false))
            .collect();
        assert_eq!(on, [cpu], "thread {tid} may run on {on:?}");
    }
    drop(qmp);
    st.stop("pin");
}

/// A display password is set over QMP (never on the command line): VNC
/// and SPICE then ask for it; a SPICE display without one does not.
#[test]
fn display_passwords_are_set_over_qmp() {
    let st = State::new("display");
    let vm = |name: &str, graphics: &str| {
        format!(
            "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>{graphics}<memballoon model='none'/></devices>
</domain>"
        )
    };
    st.start(&vm(
        "vnc",
        "<graphics type='vnc' autoport='yes' passwd='s3cret'/>",
    ));
    st.start(&vm(
        "spice",
        "<graphics type='spice' autoport='yes' passwd='s3cret'/><video><model type='qxl'/></video>",
    ));
    st.start(&vm(
        "spice-open",
        "<graphics type='spice' autoport='yes'/><video><model type='qxl'/></video>",
    ));
    for name in ["vnc", "spice", "spice-open"] {
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", st.qemu_pid(name))).unwrap();
        assert!(
            !String::from_utf8_lossy(&cmdline).contains("s3cret"),
            "{name}: the password is on the command line"
        );
    }
    let mut qmp = st.qmp("vnc");
    assert_eq!(qmp.exec("query-vnc", json!({}))["auth"], "vnc");
    drop(qmp);
    let mut qmp = st.qmp("spice");
    assert_eq!(qmp.exec("query-spice", json!({}))["auth"], "spice");
    drop(qmp);
    let mut qmp = st.qmp("spice-open");
    assert_eq!(qmp.exec("query-spice", json!({}))["auth"], "none");
    drop(qmp);
    for name in ["vnc", "spice", "spice-open"] {
        st.stop(name);
    }
}

/// The qemu-guest-agent channel written without a path gets a socket in
/// the domain's runtime directory, named in the live XML, on which QEMU
/// listens.
#[test]
fn guest_agent_channel_listens_in_the_runtime_dir() {
    let st = State::new("agent");
    st.start(
        "<domain type='qemu'>
  <name>agent</name>
  <memory unit='MiB'>32</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <channel type='unix'>
      <source mode='bind'/>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <memballoon model='none'/>
  </devices>
</domain>",
    );
    let live = st.live_xml("agent");
    let def = qvirt::DomainDef::from_xml(&live).unwrap();
    let qvirt::model::CharSource::Unix {
        path: Some(path), ..
    } = &def.devices.channels[0].source
    else {
        panic!("no socket path in the live XML:\n{live}");
    };
    assert!(
        path.starts_with(st.run_dir("agent").to_str().unwrap()),
        "{path} is not in the runtime directory"
    );
    std::os::unix::net::UnixStream::connect(path)
        .unwrap_or_else(|e| panic!("QEMU does not listen on {path}: {e}"));
    st.stop("agent");
}
