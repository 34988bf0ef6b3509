//! Starts the real `qemu-system-x86_64` with command lines built from
//! golden-like definitions (real image files, in a directory whose name
//! has a comma and a space) and checks over QMP that it reached the
//! paused state: proof that the option syntax is what QEMU accepts.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use qvirt::DomainDef;
use qvirt::qemu::argv::{RuntimePaths, build_argv};
use qvirt::qemu::caps::QemuCaps;

const QEMU: &str = "/usr/bin/qemu-system-x86_64";

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A QEMU process, killed on drop.
struct Qemu(Child);

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn require_qemu() {
    assert!(
        Path::new(QEMU).exists(),
        "{QEMU} is missing: install the Debian package qemu-system-x86 (and qemu-utils), e.g. with scripts/deps.sh"
    );
}

fn scratch(case: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("qvirt argv,{case},{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("run")).unwrap();
    Scratch(dir)
}

fn qemu_img(args: &[&str]) {
    let out = Command::new("qemu-img")
        .args(args)
        .output()
        .expect("qemu-img runs: install the Debian package qemu-utils");
    assert!(
        out.status.success(),
        "qemu-img {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A raw image of 1 MiB.
fn raw(path: &Path) {
    std::fs::File::create(path)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
}

/// A file that QEMU's x86 loader takes for a Linux kernel (boot protocol
/// 2.06 header, loaded high); never run, since QEMU stays paused.
fn fake_kernel(path: &Path) {
    let mut k = vec![0u8; 64 * 1024];
    k[0x1f1] = 4; // setup sectors
    k[0x202..0x206].copy_from_slice(b"HdrS");
    k[0x206..0x208].copy_from_slice(&0x0206u16.to_le_bytes());
    k[0x211] = 0x01; // LOADED_HIGH
    k[0x22c..0x230].copy_from_slice(&0x37ff_ffffu32.to_le_bytes()); // initrd_addr_max
    k[0x238..0x23c].copy_from_slice(&2048u32.to_le_bytes()); // cmdline_size
    std::fs::write(path, k).unwrap();
}

/// A TCP port nobody listens on, at or above `from`.
fn free_port(from: u16) -> u16 {
    (from..from + 100)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free TCP port")
}

/// One line of QMP that is not an event.
fn qmp_reply(
    reader: &mut BufReader<UnixStream>,
    failure: &dyn Fn(&str) -> String,
) -> serde_json::Value {
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) => panic!("{}", failure("QMP closed the connection")),
            Err(e) => panic!("{}", failure(&format!("QMP read: {e}"))),
            Ok(_) => {}
        }
        let v: serde_json::Value = serde_json::from_str(&line).expect("QMP sends JSON");
        if v.get("event").is_none() {
            return v;
        }
    }
}

/// Builds the command line of `xml` (with `@DIR@` replaced by the scratch
/// directory), starts QEMU and returns its run state from `query-status`.
fn start(case: &str, dir: &Path, xml: &str, incoming: bool) -> String {
    let xml = xml.replace("@DIR@", dir.to_str().unwrap());
    let def = DomainDef::from_xml(&xml).unwrap_or_else(|e| panic!("{case}: {e}"));
    let mut paths = RuntimePaths::new(dir.join("run"));
    paths.serial_log = Some(dir.join("console,log"));
    paths.vnc_port = Some(free_port(5900));
    paths.nvram = Some(dir.join("VARS,copy.fd"));
    paths.incoming = incoming;
    let caps = QemuCaps::assumed(QEMU);
    let argv = build_argv(&def, &caps, &paths).unwrap_or_else(|e| panic!("{case}: {e}"));
    let log_path = dir.join("qemu.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("QEMU starts");
    let mut qemu = Qemu(child);
    let failure = |why: &str| {
        format!(
            "{case}: {why}\ncommand line: {argv:?}\nQEMU says: {}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        )
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let stream = loop {
        if let Some(status) = qemu.0.try_wait().unwrap() {
            panic!("{}", failure(&format!("QEMU exited ({status})")));
        }
        if let Ok(s) = UnixStream::connect(&paths.qmp_socket) {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "{}",
            failure("no QMP socket after 30 s")
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let greeting = qmp_reply(&mut reader, &failure);
    assert!(
        greeting.get("QMP").is_some(),
        "{}",
        failure("no QMP greeting")
    );
    writer
        .write_all(b"{\"execute\":\"qmp_capabilities\"}\n")
        .unwrap();
    let reply = qmp_reply(&mut reader, &failure);
    assert!(
        reply.get("return").is_some(),
        "{}",
        failure(&format!("{reply}"))
    );
    writer
        .write_all(b"{\"execute\":\"query-status\"}\n")
        .unwrap();
    let reply = qmp_reply(&mut reader, &failure);
    reply["return"]["status"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", failure(&format!("query-status: {reply}"))))
        .to_string()
}

const HEAD: &str = "<domain type='qemu'>
  <name>NAME</name>
  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
  <memory unit='KiB'>131072</memory>
  <vcpu>2</vcpu>
";

const PC: &str = "  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='cdrom'/>
    <boot dev='hd'/>
    <boot dev='fd'/>
    <boot dev='network'/>
  </os>
  <features><acpi/></features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <source file='@DIR@/vda,raw.img'/>
      <target dev='vda' bus='virtio'/>
      <readonly/>
      <serial>VDA 1</serial>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='@DIR@/hda,=x.qcow2'/>
      <target dev='hda' bus='ide'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <disk type='file' device='floppy'>
      <source file='@DIR@/fda.img'/>
      <target dev='fda' bus='fdc'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='@DIR@/sda.img'/>
      <target dev='sda' bus='scsi'/>
      <shareable/>
    </disk>
    <disk type='file' device='disk'>
      <source file='@DIR@/sdb.img'/>
      <target dev='sdb' bus='sata'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='@DIR@/usb.img'/>
      <target dev='sdc' bus='usb'/>
    </disk>
    <controller type='usb' index='0' model='ich9-ehci1'/>
    <controller type='usb' index='0' model='ich9-uhci1'><master startport='0'/></controller>
    <controller type='usb' index='0' model='ich9-uhci2'><master startport='2'/></controller>
    <controller type='usb' index='0' model='ich9-uhci3'><master startport='4'/></controller>
    <controller type='usb' index='1' model='nec-xhci' ports='8'/>
    <controller type='pci' index='1' model='pci-bridge'/>
    <controller type='pci' index='2' model='pci-expander-bus'><target busNr='200'/></controller>
    <interface type='user'>
      <mac address='52:54:00:00:00:01'/>
      <model type='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x03' function='0x0'/>
      <portForward proto='tcp'><range start='HOSTPORT' to='22'/></portForward>
    </interface>
    <interface type='user'>
      <mac address='52:54:00:00:00:02'/>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </interface>
    <serial type='file'><source path='@DIR@/serial,0.log'/><target port='0'/></serial>
    <serial type='pty'><target port='1'/></serial>
    <serial type='unix'><source mode='bind' path='@DIR@/run/serial2.sock'/><target port='2'/></serial>
    <serial type='null'><target port='3'/></serial>
    <console type='file'><source path='@DIR@/serial,0.log'/><target type='serial' port='0'/></console>
    <console type='pty'><target type='virtio'/></console>
    <input type='tablet' bus='usb'><address type='usb' bus='1' port='1'/></input>
    <input type='mouse' bus='virtio'/>
    <input type='keyboard' bus='usb'/>
    <graphics type='vnc' autoport='yes' passwd='secret'/>
    <video><model type='qxl' ram='65536' vram='32768' vgamem='16384' heads='1' primary='yes'/></video>
    <video><model type='virtio' heads='2'/></video>
    <memballoon model='virtio' autodeflate='on' freePageReporting='on'>
      <driver iommu='off' packed='on'/>
    </memballoon>
  </devices>
</domain>
";

const Q35: &str = "  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' type='pflash'>@DIR@/CODE,ro.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'/>
  </os>
  <features><acpi/></features>
  <clock offset='localtime'>
    <timer name='rtc' tickpolicy='catchup'/>
    <timer name='hpet' present='no'/>
  </clock>
  <on_poweroff>preserve</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <pm><suspend-to-mem enabled='no'/><suspend-to-disk enabled='no'/></pm>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='@DIR@/sda,x.qcow2'/>
      <target dev='sda' bus='sata'/>
      <boot order='2'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='sdb' bus='sata'/>
      <readonly/>
      <boot order='1'/>
    </disk>
    <disk type='file' device='floppy'>
      <source file='@DIR@/fda.img'/>
      <target dev='fda' bus='fdc'/>
      <boot order='3'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='@DIR@/vda.img'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='@DIR@/scsi.img'/>
      <target dev='sdc' bus='scsi'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='sdd' bus='scsi'/>
      <readonly/>
    </disk>
    <controller type='scsi' index='0' model='virtio-scsi'><driver packed='on'/></controller>
    <controller type='pci' index='1' model='pcie-root-port'/>
    <controller type='pci' index='2' model='pcie-root-port'><model name='ioh3420'/><target hotplug='off'/></controller>
    <controller type='pci' index='3' model='pcie-switch-upstream-port'/>
    <controller type='pci' index='4' model='pcie-switch-downstream-port'/>
    <controller type='pci' index='5' model='dmi-to-pci-bridge'/>
    <controller type='pci' index='6' model='pci-bridge'/>
    <interface type='user'>
      <mac address='52:54:00:00:00:03'/>
      <model type='e1000e'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </interface>
    <interface type='user'>
      <mac address='52:54:00:00:00:04'/>
      <model type='e1000'/>
      <address type='pci' domain='0x0000' bus='0x06' slot='0x01' function='0x0'/>
    </interface>
    <console type='unix'><source mode='bind' path='@DIR@/run/console.sock'/><target type='virtio'/></console>
    <input type='tablet' bus='usb'/>
    <input type='keyboard' bus='virtio'><driver iommu='off'/></input>
    <graphics type='vnc' port='-1' autoport='yes' listen='::1'/>
  </devices>
</domain>
";

const KERNEL: &str = "  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <loader>@DIR@/bios,x.bin</loader>
    <kernel>@DIR@/vmlinuz,1</kernel>
    <initrd>@DIR@/initrd,1</initrd>
    <cmdline>console=ttyS0,115200 x=a,b</cmdline>
  </os>
  <devices>
    <interface type='user'><mac address='52:54:00:00:00:05'/><model type='rtl8139'/></interface>
    <interface type='user'><mac address='52:54:00:00:00:06'/><model type='ne2k_pci'/></interface>
    <interface type='user'><mac address='52:54:00:00:00:07'/><model type='pcnet'/></interface>
    <interface type='user'><mac address='52:54:00:00:00:08'/><model type='vmxnet3'/></interface>
    <interface type='user'><mac address='52:54:00:00:00:09'/><model type='e1000-82545em'/></interface>
    <interface type='user'><mac address='52:54:00:00:00:0a'/><model type='i82559er'/></interface>
    <interface type='user'><mac address='52:54:00:00:00:0b'/><model type='tulip'/></interface>
    <serial type='pty'/>
    <input type='tablet' bus='virtio'/>
    <video><model type='cirrus'/></video>
    <video><model type='bochs' vram='16384'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
";

#[test]
fn qemu_starts_paused_with_a_pc_machine() {
    require_qemu();
    let s = scratch("pc");
    let d = &s.0;
    for f in ["vda,raw.img", "fda.img", "sda.img", "sdb.img", "usb.img"] {
        raw(&d.join(f));
    }
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        d.join("hda,=x.qcow2").to_str().unwrap(),
        "1M",
    ]);
    let xml = format!("{}{}", HEAD.replace("NAME", "pc,guest"), PC)
        .replace("HOSTPORT", &free_port(20022).to_string());
    assert_eq!(start("pc", d, &xml, false), "prelaunch");
}

#[test]
fn qemu_starts_paused_with_a_q35_uefi_machine() {
    require_qemu();
    let s = scratch("q35");
    let d = &s.0;
    for f in ["fda.img", "vda.img", "scsi.img"] {
        raw(&d.join(f));
    }
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        d.join("sda,x.qcow2").to_str().unwrap(),
        "1M",
    ]);
    std::fs::copy("/usr/share/OVMF/OVMF_CODE_4M.fd", d.join("CODE,ro.fd"))
        .expect("OVMF is installed (Debian package ovmf)");
    // The driver's part: copy the template to the store it chose.
    std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.fd", d.join("VARS,copy.fd")).unwrap();
    let xml = format!("{}{}", HEAD.replace("NAME", "q35"), Q35);
    assert_eq!(start("q35", d, &xml, false), "prelaunch");
}

#[test]
fn qemu_waits_for_an_incoming_stream_with_direct_kernel_boot() {
    require_qemu();
    let s = scratch("kernel");
    let d = &s.0;
    fake_kernel(&d.join("vmlinuz,1"));
    std::fs::write(d.join("initrd,1"), vec![0u8; 4096]).unwrap();
    std::fs::copy("/usr/share/seabios/bios-256k.bin", d.join("bios,x.bin"))
        .expect("SeaBIOS is installed (Debian package seabios)");
    let xml = format!("{}{}", HEAD.replace("NAME", "kernel"), KERNEL);
    assert_eq!(start("kernel", d, &xml, true), "inmigrate");
}
