//! What the Linux test guest itself sees of the definition: the SMBIOS
//! tables `<sysinfo>` describes, a virtiofs and a 9p share mounted from
//! their `<filesystem>` (both ways: a host file read, a guest file written),
//! an NBD and an HTTP `<disk type='network'>` whose blocks it reads, and a
//! `<disk type='vhostuser'>` qemu-storage-daemon serves (read and written). One
//! guest boot carries them all, each checked by name.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use qvirt::Driver;
use qvirt::driver::ConsoleStream;

use crate::support::{BOOT, Nbd, RangeServer, State, VhostUserBlk, guest_dir, linux_vm, poll};

/// A shell on the guest's serial console.
pub struct Shell {
    stream: Box<dyn ConsoleStream>,
    seen: String,
    commands: u32,
}

impl Shell {
    /// Waits for the guest's ready marker on `name`'s console.
    pub fn open(d: &dyn Driver, name: &str) -> Shell {
        let dom = d.lookup_by_name(name).unwrap();
        let stream = d.console(&dom, false).expect("the console opens");
        let mut shell = Shell {
            stream,
            seen: String::new(),
            commands: 0,
        };
        shell.until("QVIRT-GUEST-READY", BOOT);
        shell
    }

    /// Reads until `needle`; returns what came before it.
    fn until(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.seen.find(needle) {
                let head = self.seen[..i].to_string();
                self.seen.drain(..i + needle.len());
                return head;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no '{needle}' on the console within {timeout:?}; seen:\n{}",
                self.seen
            );
            let chunk = self.stream.read(left.min(Duration::from_secs(1))).unwrap();
            self.seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Runs `command` in the guest; its output (without the echoed line).
    pub fn run(&mut self, command: &str) -> String {
        self.commands += 1;
        // The marker is split in the typed line, whole only in the output.
        let n = self.commands;
        let line = format!("{command}; echo END''-{n}-OF\n");
        self.stream.write(line.as_bytes()).unwrap();
        let out = self.until(&format!("END-{n}-OF"), Duration::from_secs(60));
        // Drop the echoed command line, up to its marker.
        let out = out
            .rsplit_once(&format!("END''-{n}-OF"))
            .map_or(out.as_str(), |(_, after)| after);
        out.replace('\r', "").trim().to_string()
    }
}

#[test]
fn the_guest_sees_smbios_virtiofs_and_9p_shares_and_network_disks() {
    let guest = guest_dir();
    let st = State::new("inguest");
    // The share, with a file from the host.
    let share = st.root().join("share");
    std::fs::create_dir_all(&share).unwrap();
    std::fs::write(share.join("from-host.txt"), "written-by-the-host\n").unwrap();
    // A 9p share (accessmode mapped: the guest's owners kept in xattrs).
    let share9p = st.root().join("share9p");
    std::fs::create_dir_all(&share9p).unwrap();
    std::fs::write(share9p.join("from-host.txt"), "nine-p-from-the-host\n").unwrap();
    // The NBD export: 8 MiB of 0x5a.
    let image = st.root().join("served.raw");
    let made = Command::new("qemu-img")
        .args(["create", "-q", "-f", "raw"])
        .arg(&image)
        .arg("8M")
        .status()
        .unwrap();
    assert!(made.success());
    let written = Command::new("qemu-io")
        .args(["-f", "raw", "-c", "write -P 0x5a 0 8M"])
        .arg(&image)
        .output()
        .unwrap();
    assert!(written.status.success(), "{written:?}");
    let socket = st.root().join("nbd.sock");
    let _server = Nbd::serve(&image, &socket, "export0");
    // The vhost-user disk: 6 MiB of 0x7e, served by qemu-storage-daemon.
    let vu_image = st.root().join("vhost-user.raw");
    std::fs::write(&vu_image, vec![0x7eu8; 6 << 20]).unwrap();
    let vu_socket = st.root().join("vu.sock");
    let _vu = VhostUserBlk::serve(&vu_image, &vu_socket);
    // The HTTP disk: 4 MiB of 0xc3, read through QEMU's curl driver.
    let web_image = st.root().join("web.raw");
    std::fs::write(&web_image, vec![0xc3u8; 4 << 20]).unwrap();
    let web = RangeServer::serve(&web_image);
    // A SLIC table: its ACPI header (QEMU fills in the length and the
    // checksum it keeps) and a body the guest reads back.
    let slic = st.root().join("slic.bin");
    let mut table = Vec::new();
    table.extend_from_slice(b"SLIC");
    table.extend_from_slice(&(36u32 + 16).to_le_bytes());
    table.push(1);
    table.push(0);
    table.extend_from_slice(b"QVIRT ");
    table.extend_from_slice(b"QVIRTSLC");
    table.extend_from_slice(&1u32.to_le_bytes());
    table.extend_from_slice(b"QVRT");
    table.extend_from_slice(&1u32.to_le_bytes());
    table.extend_from_slice(b"QVIRT-SLIC-BODY!");
    std::fs::write(&slic, &table).unwrap();
    let ignition = st.root().join("config.ign");
    std::fs::write(&ignition, "{\"ignition\":{\"version\":\"3.4.0\"}}").unwrap();
    let scsi_image = st.root().join("scsi.raw");
    std::fs::write(&scsi_image, vec![0u8; 1 << 20]).unwrap();
    let serial_log = st.root().join("serial.log");
    std::fs::write(&serial_log, "before the start\n").unwrap();
    // Images in the other formats QEMU reads, each with its own byte in
    // its first MiB; the vmdk over a vmdk base that holds the second.
    let image_in = |format: &str, name: &str, byte: u8, backing: Option<&Path>| {
        let path = st.root().join(name);
        let mut create = Command::new("qemu-img");
        create.args(["create", "-q", "-f", format]);
        if let Some(b) = backing {
            create.arg("-F").arg(format).arg("-b").arg(b);
        }
        assert!(create.arg(&path).arg("4M").status().unwrap().success());
        let written = Command::new("qemu-io")
            .args(["-f", format, "-c"])
            .arg(format!(
                "write -P {byte} {} 1M",
                if backing.is_some() { 0 } else { 1 << 20 }
            ))
            .arg(&path)
            .output()
            .unwrap();
        assert!(written.status.success(), "{written:?}");
        path
    };
    let base = image_in("vmdk", "base.vmdk", 0x22, None);
    let formats = [
        (
            "vmdk",
            image_in("vmdk", "top.vmdk", 0x11, Some(&base)),
            0x11,
        ),
        ("vdi", image_in("vdi", "d.vdi", 0x33, None), 0x33),
        ("vhd", image_in("vhdx", "d.vhdx", 0x44, None), 0x44),
        ("vpc", image_in("vpc", "d.vhd", 0x55, None), 0x55),
        ("qed", image_in("qed", "d.qed", 0x66, None), 0x66),
    ];
    let format_disks: String = formats
        .iter()
        .zip(["vdc", "vdd", "vde", "vdf", "vdg"])
        .map(|((format, path, _), dev)| {
            let backing = if *format == "vmdk" {
                format!(
                    "<backingStore type='file'><format type='vmdk'/><source file='{}'/><backingStore/></backingStore>",
                    base.display()
                )
            } else {
                String::new()
            };
            format!(
                "<disk type='file' device='disk'><driver name='qemu' type='{format}'/>\
                 <source file='{}'/>{backing}<target dev='{dev}' bus='virtio'/></disk>",
                path.display()
            )
        })
        .collect();
    st.start(&format!(
        "<domain type='qemu'>
  <name>inguest</name>
  <memory unit='MiB'>256</memory>
  <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>
  <sysinfo type='smbios'>
    <bios><entry name='vendor'>Qvirt BIOS Works</entry></bios>
    <system>
      <entry name='manufacturer'>Qvirt Labs</entry>
      <entry name='product'>Applied Check</entry>
      <entry name='serial'>SN-4242</entry>
    </system>
    <baseBoard><entry name='manufacturer'>Qvirt Boards</entry></baseBoard>
    <chassis><entry name='manufacturer'>Qvirt Chassis</entry></chassis>
    <oemStrings><entry>qvirt-oem-string-one</entry></oemStrings>
  </sysinfo>
  <sysinfo type='fwcfg'>
    <entry name='opt/org.qvirt/text'>fw-cfg-text</entry>
    <entry name='opt/com.coreos/config' file='{}'/>
  </sysinfo>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{}</kernel>
    <initrd>{}</initrd>
    <cmdline>console=ttyS0 quiet</cmdline>
    <acpi><table type='slic'>{}</table></acpi>
    <smbios mode='sysinfo'/>
  </os>
  <features><acpi/></features>
  <devices>
    <disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='nbd' name='export0'><host transport='unix' socket='{}'/></source>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='http' name='/disk.img'><host name='127.0.0.1' port='{}'/></source>
      <target dev='vdb' bus='virtio'/>
      <readonly/>
    </disk>
    {format_disks}
    <disk type='vhostuser' device='disk'>
      <driver name='qemu' type='raw'/>
      <source type='unix' path='{}'><reconnect enabled='yes' timeout='5'/></source>
      <target dev='vdh' bus='virtio'/>
    </disk>
    <controller type='scsi' model='virtio-scsi'/>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{}'/>
      <target dev='sda' bus='scsi'/>
      <wwn>0x5000c0ffee0d15c1</wwn>
      <vendor>QVIRT</vendor>
      <product>APPLIED DISK</product>
    </disk>
    <filesystem type='mount' accessmode='passthrough'>
      <driver type='virtiofs'/>
      <source dir='{}'/>
      <target dir='hostshare'/>
    </filesystem>
    <filesystem type='mount' accessmode='mapped'>
      <source dir='{}'/>
      <target dir='ninep'/>
    </filesystem>
    <serial type='pty'><log file='{}' append='off'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>",
        ignition.display(),
        guest.join("vmlinux").display(),
        guest.join("initrd.img").display(),
        slic.display(),
        socket.display(),
        web.port,
        vu_socket.display(),
        scsi_image.display(),
        share.display(),
        share9p.display(),
        serial_log.display(),
    ));
    let d = st.driver();
    let mut sh = Shell::open(&*d, "inguest");
    // The serial port's <log>: the guest's console output, the file
    // truncated at start (append='off'). QEMU writes the log after the
    // pty, so the line seen on the pty may reach the file a moment later.
    let logged = poll(
        "the serial log to hold the guest's line",
        Duration::from_secs(10),
        || {
            std::fs::read_to_string(&serial_log)
                .ok()
                .filter(|l| l.contains("QVIRT-GUEST-READY"))
        },
    );
    assert!(
        !logged.contains("before the start"),
        "append='off' truncates"
    );

    // SMBIOS: the kernel's DMI view, and the OEM string in the raw table.
    let dmi = sh.run(
        "cd /sys/class/dmi/id && cat bios_vendor sys_vendor product_name product_serial \
         board_vendor chassis_vendor; cd /",
    );
    assert_eq!(
        dmi.lines().collect::<Vec<_>>(),
        [
            "Qvirt BIOS Works",
            "Qvirt Labs",
            "Applied Check",
            "SN-4242",
            "Qvirt Boards",
            "Qvirt Chassis"
        ],
        "the guest's DMI view"
    );
    let oem = sh.run("strings /sys/firmware/dmi/tables/DMI | grep -c qvirt-oem-string-one");
    assert_eq!(oem, "1", "the OEM string in the guest's SMBIOS table");

    // virtiofs: mounted by its tag; a host file read, a guest file written.
    let mounted = sh.run("mkdir -p /mnt/h && mount -t virtiofs hostshare /mnt/h && echo mounted");
    assert_eq!(mounted, "mounted", "mount -t virtiofs");
    assert_eq!(sh.run("cat /mnt/h/from-host.txt"), "written-by-the-host");
    sh.run("echo written-by-the-guest > /mnt/h/from-guest.txt && sync");
    let from_guest = poll(
        "the guest's file on the host",
        Duration::from_secs(30),
        || std::fs::read_to_string(share.join("from-guest.txt")).ok(),
    );
    assert_eq!(from_guest, "written-by-the-guest\n");

    // 9p: mounted by its tag over virtio; a host file read, a guest file
    // written and seen on the host.
    let mounted = sh.run(
        "mkdir -p /mnt/n && mount -t 9p -o trans=virtio,version=9p2000.L ninep /mnt/n && echo mounted",
    );
    assert_eq!(mounted, "mounted", "mount -t 9p");
    assert_eq!(sh.run("cat /mnt/n/from-host.txt"), "nine-p-from-the-host");
    sh.run("echo nine-p-from-the-guest > /mnt/n/from-guest.txt && sync");
    let from_guest = poll(
        "the guest's 9p file on the host",
        Duration::from_secs(30),
        || std::fs::read_to_string(share9p.join("from-guest.txt")).ok(),
    );
    assert_eq!(from_guest, "nine-p-from-the-guest\n");
    sh.run("umount /mnt/n");

    // NBD: the guest's /dev/vda is the served image.
    let size = sh.run("cat /sys/block/vda/size");
    assert_eq!(size, (8 * 1024 * 1024 / 512).to_string(), "vda's sectors");
    let bytes =
        sh.run("dd if=/dev/vda bs=512 skip=8191 count=1 2>/dev/null | od -An -tx1 | head -n 1");
    assert_eq!(
        bytes.split_whitespace().collect::<Vec<_>>(),
        ["5a"; 16],
        "the last sector's first bytes"
    );
    // vhost-user: /dev/vdh is qemu-storage-daemon's image, both ways.
    let size = sh.run("cat /sys/block/vdh/size");
    assert_eq!(size, (6 * 1024 * 1024 / 512).to_string(), "vdh's sectors");
    let bytes =
        sh.run("dd if=/dev/vdh bs=512 skip=100 count=1 2>/dev/null | od -An -tx1 | head -n 1");
    assert_eq!(
        bytes.split_whitespace().collect::<Vec<_>>(),
        ["7e"; 16],
        "a sector of the vhost-user disk"
    );
    sh.run("printf vhost-user-from-guest | dd of=/dev/vdh bs=512 seek=7 conv=fsync 2>/dev/null");
    poll(
        "the guest's write in the served image",
        Duration::from_secs(30),
        || {
            let data = std::fs::read(&vu_image).ok()?;
            data[7 * 512..]
                .starts_with(b"vhost-user-from-guest")
                .then_some(())
        },
    );
    // HTTP: /dev/vdb is the served file, read in byte ranges.
    let size = sh.run("cat /sys/block/vdb/size");
    assert_eq!(size, (4 * 1024 * 1024 / 512).to_string(), "vdb's sectors");
    let bytes =
        sh.run("dd if=/dev/vdb bs=512 skip=4000 count=1 2>/dev/null | od -An -tx1 | head -n 1");
    assert_eq!(
        bytes.split_whitespace().collect::<Vec<_>>(),
        ["c3"; 16],
        "a sector of the HTTP disk"
    );
    assert!(
        web.ranged_reads.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "QEMU read the HTTP disk in ranges"
    );
    // vmdk (over its vmdk base), vdi, vhdx, vpc and qed: each disk's
    // first MiB holds its own byte, read through QEMU's format driver;
    // the vmdk's second MiB is its base's.
    let mut first = |dev: &str, skip: u32| {
        sh.run(&format!(
            "dd if=/dev/{dev} bs=512 skip={skip} count=1 2>/dev/null | od -An -tx1 | head -n 1"
        ))
        .split_whitespace()
        .map(str::to_string)
        .collect::<Vec<_>>()
    };
    for (((format, _, byte), dev), skip) in formats
        .iter()
        .zip(["vdc", "vdd", "vde", "vdf", "vdg"])
        .zip([0, 2048, 2048, 2048, 2048])
    {
        assert_eq!(
            first(dev, skip),
            vec![format!("{byte:02x}"); 16],
            "the {format} disk {dev}"
        );
    }
    assert_eq!(first("vdc", 2048), vec!["22"; 16], "the vmdk's base");
    // <os><acpi><table type='slic'>: the table among the guest's ACPI
    // tables, its body as written.
    let body = sh.run("tail -c 16 /sys/firmware/acpi/tables/SLIC; echo");
    assert_eq!(body, "QVIRT-SLIC-BODY!", "the SLIC table in the guest");
    // <sysinfo type='fwcfg'>: a text and a file's content, read by the
    // guest from QEMU's firmware configuration device.
    let fw = sh.run(
        "cd /sys/firmware/qemu_fw_cfg/by_name/opt && cat org.qvirt/text/raw; echo; \
         cat com.coreos/config/raw; echo; cd /",
    );
    assert_eq!(
        fw.lines().collect::<Vec<_>>(),
        ["fw-cfg-text", "{\"ignition\":{\"version\":\"3.4.0\"}}"],
        "the fw_cfg entries in the guest"
    );
    // The SCSI disk's WWN, vendor and product, as the guest's INQUIRY
    // and device identification pages report them.
    let scsi = sh.run(
        "for i in $(seq 100); do [ -e /sys/block/sda ] && break; sleep 0.1; done; \
         for f in vendor model wwid; do sed 's/ *$//' /sys/block/sda/device/$f; done",
    );
    assert_eq!(
        scsi.lines().collect::<Vec<_>>(),
        ["QVIRT", "APPLIED DISK", "naa.5000c0ffee0d15c1"],
        "the SCSI disk's identity in the guest"
    );
    sh.run("umount /mnt/h");
    drop(sh);
    drop(d);
    st.stop("inguest");
}

/// `<interface><link state>`: the guest sees one NIC's carrier down, the
/// other's up. `<panic model='isa'>`: the guest kernel finds QEMU's pvpanic device
/// (ACPI QEMU0001) and reports its panic through it; with `<on_crash>
/// preserve`, the domain is then crashed and kept, its QEMU paused, until
/// destroyed.
#[test]
fn link_states_and_a_guest_panic_through_the_pvpanic_device() {
    let st = State::new("panic");
    st.start(&linux_vm(
        "panic",
        192,
        "<on_crash>preserve</on_crash>",
        "<memballoon model='none'/>
    <panic model='isa'><address type='isa' iobase='0x505'/></panic>
    <interface type='user'><mac address='52:54:00:00:0d:01'/><model type='e1000'/><link state='down'/></interface>
    <interface type='user'><mac address='52:54:00:00:0d:02'/><model type='e1000'/><link state='up'/></interface>",
    ));
    let d = st.driver();
    let mut sh = Shell::open(&*d, "panic");
    let bound =
        sh.run("basename \"$(readlink /sys/bus/acpi/devices/QEMU0001:00/physical_node/driver)\"");
    assert_eq!(
        bound, "pvpanic-mmio",
        "the guest's driver of the ACPI pvpanic device"
    );
    // <link state>: the guest's carrier on each NIC, by MAC address.
    let links = sh.run(
        "for n in /sys/class/net/eth*; do ip link set ${n##*/} up; done; \
         for t in $(seq 100); do grep -l 0d:02 /sys/class/net/eth*/address | \
         sed 's/address$/carrier/' | xargs cat | grep 1 >/dev/null && break; sleep 0.1; done; \
         for n in /sys/class/net/eth*; do echo $(cat $n/address) $(cat $n/carrier); done",
    );
    let mut links: Vec<&str> = links.lines().collect();
    links.sort();
    assert_eq!(
        links,
        ["52:54:00:00:0d:01 0", "52:54:00:00:0d:02 1"],
        "the link down, the other up"
    );
    let dom = d.lookup_by_name("panic").unwrap();
    assert_eq!(d.info(&dom).unwrap().state, qvirt::DomainState::Running);
    sh.stream.write(b"echo c > /proc/sysrq-trigger\n").unwrap();
    let info = poll("the crashed state", Duration::from_secs(60), || {
        let i = d.info(&dom).unwrap();
        (i.state == qvirt::DomainState::Crashed).then_some(i)
    });
    assert_eq!(info.reason, qvirt::driver::StateReason::Crashed);
    // Kept, not gone: the QEMU process is still there, its guest stopped
    // by the panic (the monitor serves one client: the driver goes first).
    drop(sh);
    drop(d);
    let mut qmp = st.qmp("panic");
    let status = qmp.exec("query-status", serde_json::json!({}));
    assert_eq!(status["status"], "guest-panicked", "{status}");
    drop(qmp);
    st.stop("panic");
}

/// `<numa><cell><distances>`: the guest's kernel reads the distances
/// between its nodes from the ACPI table QEMU builds of them, the one
/// written one way holding both ways.
#[test]
fn the_guest_sees_its_numa_distances() {
    let st = State::new("numadist");
    st.start(&linux_vm(
        "numadist",
        192,
        "<vcpu>2</vcpu>
  <cpu><numa>
    <cell id='0' cpus='0' memory='96' unit='MiB'><distances><sibling id='1' value='23'/></distances></cell>
    <cell id='1' cpus='1' memory='96' unit='MiB'/>
  </numa></cpu>",
        "<memballoon model='none'/>",
    ));
    let d = st.driver();
    let mut sh = Shell::open(&*d, "numadist");
    let distances = sh
        .run("cat /sys/devices/system/node/node0/distance /sys/devices/system/node/node1/distance");
    assert_eq!(
        distances.lines().collect::<Vec<_>>(),
        ["10 23", "23 10"],
        "the guest's node distances"
    );
    drop(sh);
    drop(d);
    st.stop("numadist");
}

/// 9p shares' `fmode`/`dmode`: a file and a directory the guest makes
/// have those modes on the host. `multidevs`: a share holding another
/// host device's mount (`/dev` with its `pts`, read-only) serves that
/// device's files with `remap` and without a word, refuses them with
/// `forbid`, and serves them with QEMU's warning with `warn`.
#[test]
fn nine_p_shares_create_with_their_modes_and_treat_other_devices_as_told() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dev = |p: &str| std::fs::metadata(p).unwrap().dev();
    assert_ne!(
        dev("/dev"),
        dev("/dev/pts"),
        "the host's /dev/pts is a mount of its own (the multidevs case needs one)"
    );
    let st = State::new("ninep-modes");
    let share = st.root().join("modes");
    std::fs::create_dir_all(&share).unwrap();
    let devs = |tag: &str, multidevs: &str| {
        format!(
            "<filesystem type='mount' accessmode='mapped' multidevs='{multidevs}'>\
             <source dir='/dev'/><target dir='{tag}'/><readonly/></filesystem>"
        )
    };
    st.start(&linux_vm(
        "ninep",
        192,
        "",
        &format!(
            "<memballoon model='none'/>\
             <filesystem type='mount' accessmode='mapped' fmode='0640' dmode='0750'>\
             <source dir='{}'/><target dir='modes'/></filesystem>{}{}{}",
            share.display(),
            devs("remap", "remap"),
            devs("forbid", "forbid"),
            devs("warn", "warn"),
        ),
    ));
    let d = st.driver();
    let mut sh = Shell::open(&*d, "ninep");
    let mount = |sh: &mut Shell, tag: &str| {
        let out = sh.run(&format!(
            "mkdir -p /mnt/{tag} && mount -t 9p -o trans=virtio,version=9p2000.L{} {tag} /mnt/{tag} && echo mounted",
            if tag == "modes" { "" } else { ",ro" }
        ));
        assert_eq!(out, "mounted", "mount {tag}");
    };
    mount(&mut sh, "modes");
    sh.run("echo x > /mnt/modes/file && mkdir /mnt/modes/dir && sync");
    let mode = |name: &str| {
        let p = share.join(name);
        poll(
            &format!("{name} on the host"),
            Duration::from_secs(30),
            || std::fs::metadata(&p).ok(),
        )
        .permissions()
        .mode()
            & 0o777
    };
    assert_eq!(mode("file"), 0o640, "fmode");
    assert_eq!(mode("dir"), 0o750, "dmode");

    let log = st.root().join("log/qemu/ninep.log");
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let forbidden = "denied due to virtfs option 'multidevs=forbid'";
    let warned = "might lead to file ID collisions";
    let look = "ls -a /mnt/TAG/pts >/dev/null 2>&1 && echo served || echo refused";
    mount(&mut sh, "remap");
    assert_eq!(sh.run(&look.replace("TAG", "remap")), "served", "remap");
    // QEMU writes its report before it answers the guest.
    let text = read_log();
    assert!(
        !text.contains(forbidden) && !text.contains(warned),
        "remap reports nothing: {text}"
    );
    mount(&mut sh, "forbid");
    assert_eq!(sh.run(&look.replace("TAG", "forbid")), "refused", "forbid");
    assert!(read_log().contains(forbidden), "{}", read_log());
    assert!(!read_log().contains(warned), "{}", read_log());
    mount(&mut sh, "warn");
    assert_eq!(sh.run(&look.replace("TAG", "warn")), "served", "warn");
    assert!(read_log().contains(warned), "{}", read_log());
    drop(sh);
    drop(d);
    st.stop("ninep");
}
