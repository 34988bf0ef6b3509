#!/usr/bin/python3
"""Runs virt-install for every case of the corpus and writes its XML.

Called by scripts/virt-install-corpus.sh, which installs the packages and
runs the private libvirtd this talks to. For each case:

  virt-install --connect URI --name NAME --uuid UUID --osinfo OS ARGS...
               --print-xml --dry-run

NAME.xml is the first (or only) domain virt-install prints; when the
install takes two steps (--cdrom), final/NAME.xml is the second, the
domain as it stays after installation. That domain (or the only one) is
then defined in the private libvirtd and read back with `virsh dumpxml
--inactive` into defined/NAME.xml, libvirt's own normalised form, and
undefined again. A document libvirt refuses to define goes to
rejected/NAME.xml with libvirt's error in rejected/NAME.err.

UUIDs and MAC addresses are derived from the case name, and every path is
fixed, so a rerun writes the same files.

virt-install runs inside this process (its `main()`, with its arguments in
sys.argv and its output captured), as virt-manager's own test suite runs
it: starting Python and loading virtinst for each of about 1200 runs would
take most of the time. Every run of the first cases is repeated with the
real /usr/bin/virt-install and must print the same bytes.
"""

import argparse
import hashlib
import io
import os
import re
import shlex
import subprocess
import sys
import uuid

sys.path.insert(0, "/usr/share/virt-manager")
from virtinst import cli as virtinst_cli  # noqa: E402
from virtinst import virtinstall  # noqa: E402

# How many cases also run the real virt-install command to compare.
CLI_CHECKS = 12

# UUIDs of the cases: uuid5(UUID_NS, name).
UUID_NS = uuid.UUID("6f1c2c1e-2f6b-4d0e-9a55-1d3c0b7f4a10")

# Operating systems whose default XML (cdrom install, no other option) is
# kept: every major family, several versions each, old and new.
OS_SPREAD = """
almalinux9 almalinux8 alpinelinux3.17 alpinelinux3.12 alt10.0 altlinux7.0
android-x86-9.0 archlinux centos-stream9 centos-stream8 centos8 centos7.0
centos6.10 centos5.11 cirros0.5.2 clearlinux debian11 debian10 debian9
debian8 debian7 debian6 debiantesting dragonflybsd5.6 elementary5.0 eos3.10
fedora37 fedora36 fedora34 fedora30 fedora20 fedora-coreos-stable
fedora-rawhide fedora-unknown freebsd13.1 freebsd12.3 freebsd11.4
freebsd10.4 freebsd8.4 freedos1.2 gentoo guix-1.3 haikur1beta3 hyperbola03
linux2022 linux2020 linux2016 macosx10.7 mageia8 mandriva2011 manjaro
msdos6.22 netbsd9.0 netbsd8.2 netbsd6.1 nixos-22.05 ol8.5 ol7.9 ol6.10
openbsd7.0 openbsd6.9 openbsd5.9 opensolaris2009.06 opensuse15.4
opensuse42.3 opensusetumbleweed popos20.10 pureos10 rhel9.1 rhel8.7 rhel7.9
rhel6.10 rhel5.11 rhel4.9 rocky9 rocky8 scientificlinux7.6 silverblue37
slackware14.2 sle15sp4 sles12sp5 sles11sp4 sled12sp5 solaris11 solaris10
trisquel9 ubuntu22.10 ubuntu22.04 ubuntu20.04 ubuntu18.04 ubuntu16.04
ubuntu14.04 ubuntu12.04 ucs5.0 voidlinux win11 win10 win8.1 win7 winvista
winxp win2k win2k22 win2k19 win2k16 win2k12r2 win2k8r2 win2k3 generic
unknown
""".split()

# The operating systems the option families are crossed with.
LINUX = "ubuntu22.04"  # q35, virtio everywhere, qemu-ga channel
WIN = "win10"          # q35, sata, e1000e, hyperv, localtime clock
WIN11 = "win11"        # UEFI and TPM by default
GENERIC = "generic"    # no osinfo data: virt-install's bare defaults
BSD = "freebsd13.1"
OLDWIN = "winxp"       # i440fx, ich6 sound, e1000
FEDORA = "fedora37"

SB_ON = ("uefi,firmware.feature0.name=secure-boot,firmware.feature0.enabled=yes,"
         "firmware.feature1.name=enrolled-keys,firmware.feature1.enabled=yes")
SB_ON_NO_KEYS = ("uefi,firmware.feature0.name=secure-boot,firmware.feature0.enabled=yes,"
                 "firmware.feature1.name=enrolled-keys,firmware.feature1.enabled=no")
SB_OFF = "uefi,firmware.feature0.name=secure-boot,firmware.feature0.enabled=no"


class Case:
    def __init__(self, name, osid, family, install, args=()):
        self.name = name
        self.osid = osid
        self.family = family
        self.install = install  # "cdrom", "import" or "pxe"
        self.args = list(args)


def short(osid):
    return {LINUX: "ubuntu", WIN: "win10", WIN11: "win11", GENERIC: "generic",
            BSD: "freebsd", OLDWIN: "winxp", FEDORA: "fedora"}.get(osid, osid)


def option_cases():
    """Each option family, crossed with a few operating systems."""
    cases = []

    def add(name, osids, args, family=None, install="import"):
        for osid in osids:
            cases.append(Case("%s-%s" % (name, short(osid)), osid,
                              family or name.split("-")[0], install, args))

    # Install methods.
    add("install-import", [LINUX, WIN, GENERIC, BSD, OLDWIN], [], family="install")
    add("install-pxe", [LINUX, WIN, GENERIC], [], family="install", install="pxe")

    # Machine types.
    add("machine-pc", [LINUX, WIN, GENERIC, BSD], ["--machine", "pc"])
    add("machine-q35", [GENERIC, OLDWIN, BSD], ["--machine", "q35"])
    add("machine-pc-i440fx-7.2", [LINUX], ["--machine", "pc-i440fx-7.2"])
    add("machine-pc-q35-7.2", [LINUX], ["--machine", "pc-q35-7.2"])

    # Graphics.
    add("graphics-vnc", [LINUX, WIN, GENERIC], ["--graphics", "vnc"])
    add("graphics-vnc-listen-port-password", [LINUX, BSD],
        ["--graphics", "vnc,listen=0.0.0.0,port=5910,password=s3cret"])
    add("graphics-vnc-localhost", [WIN], ["--graphics", "vnc,listen=127.0.0.1"])
    add("graphics-vnc-listen-none", [LINUX], ["--graphics", "vnc,listen=none"])
    add("graphics-vnc-keymap", [GENERIC], ["--graphics", "vnc,port=5901,keymap=de"])
    add("graphics-spice", [GENERIC, BSD], ["--graphics", "spice"])
    add("graphics-spice-listen-port-password", [LINUX, WIN],
        ["--graphics", "spice,listen=0.0.0.0,port=5930,password=s3cret"])
    add("graphics-spice-localhost", [FEDORA], ["--graphics", "spice,listen=127.0.0.1"])
    add("graphics-none", [LINUX, WIN, GENERIC, BSD], ["--graphics", "none"])

    # Video.
    for model in ["vga", "qxl", "virtio", "bochs", "cirrus", "ramfb", "none"]:
        add("video-" + model, [LINUX], ["--video", model])
    add("video-vga", [GENERIC, OLDWIN], ["--video", "vga"])
    add("video-cirrus", [GENERIC], ["--video", "cirrus"])
    add("video-virtio", [WIN, BSD], ["--video", "virtio"])
    add("video-bochs", [WIN], ["--video", "bochs"])
    add("video-qxl-sizes", [LINUX],
        ["--video", "qxl,ram=65536,vram=65536,vgamem=16384,heads=1"])
    add("video-qxl-vram64", [WIN], ["--video", "qxl,vram64=65536"])
    add("video-vga-vnc", [LINUX, GENERIC], ["--graphics", "vnc", "--video", "vga"])

    # Sound.
    for model in ["ich9", "ich6", "ac97"]:
        add("sound-" + model, [LINUX, WIN], ["--sound", model])
    add("sound-ich6", [GENERIC], ["--sound", "ich6"])
    add("sound-ac97", [OLDWIN], ["--sound", "ac97"])
    add("sound-ich9-vnc", [LINUX], ["--graphics", "vnc", "--sound", "ich9"])
    add("sound-ich9-nographics", [LINUX], ["--graphics", "none", "--sound", "ich9"])
    add("sound-none", [LINUX, WIN], ["--sound", "none"])

    # Channels, usb redirection, consoles and serial ports.
    add("channel-qemu-ga", [GENERIC, WIN, BSD],
        ["--channel", "unix,target.type=virtio,name=org.qemu.guest_agent.0"])
    add("channel-qemu-ga-path", [LINUX],
        ["--channel", "unix,mode=bind,path=/var/lib/libvirt/qemu/channel/target/"
         "channel-qemu-ga-path-ubuntu.org.qemu.guest_agent.0,"
         "target.type=virtio,name=org.qemu.guest_agent.0"])
    add("channel-spicevmc", [GENERIC, BSD], ["--graphics", "spice", "--channel", "spicevmc"])
    add("channel-none", [LINUX, WIN], ["--channel", "none"])
    add("redirdev-spicevmc", [GENERIC, BSD],
        ["--graphics", "spice", "--redirdev", "usb,type=spicevmc"])
    add("redirdev-spicevmc-one", [LINUX], ["--redirdev", "usb,type=spicevmc"])
    add("redirdev-none", [LINUX, WIN], ["--redirdev", "none"])
    add("console-pty-serial", [LINUX, GENERIC, BSD], ["--console", "pty,target_type=serial"])
    add("console-pty-virtio", [LINUX, GENERIC], ["--console", "pty,target_type=virtio"])
    add("console-none", [LINUX], ["--console", "none"])
    add("serial-pty", [LINUX, WIN, GENERIC], ["--serial", "pty"])
    add("serial-file", [LINUX], ["--serial", "file,path=/var/log/libvirt/qemu/serial-file-ubuntu.log"])
    add("serial-unix", [GENERIC],
        ["--serial", "unix,path=/tmp/virt-install-corpus/serial-unix.sock,mode=bind"])
    add("serial-none-console-virtio", [LINUX],
        ["--serial", "none", "--console", "pty,target_type=virtio"])

    # Random number generator.
    add("rng-urandom", [LINUX, GENERIC, WIN], ["--rng", "/dev/urandom"])
    add("rng-random", [LINUX, BSD], ["--rng", "/dev/random"])
    add("rng-builtin", [LINUX, GENERIC], ["--rng", "builtin"])
    add("rng-none", [LINUX], ["--rng", "none"])

    # Watchdog: each model with each action.
    for action in ["reset", "shutdown", "poweroff", "pause", "none", "dump", "inject-nmi"]:
        add("watchdog-i6300esb-" + action, [LINUX], ["--watchdog", "i6300esb,action=" + action])
    # libvirt 9.0 does not know the itco model (9.1 added it): these go to
    # rejected/.
    add("watchdog-itco-reset", [LINUX], ["--watchdog", "itco,action=reset"])
    add("watchdog-i6300esb-reset", [GENERIC, WIN], ["--watchdog", "i6300esb,action=reset"])
    add("watchdog-i6300esb-pc", [LINUX], ["--machine", "pc", "--watchdog", "i6300esb"])
    add("watchdog-itco-poweroff", [WIN], ["--watchdog", "itco,action=poweroff"])

    # Memory balloon, memory and vCPUs.
    add("memballoon-virtio-stats", [LINUX, WIN], ["--memballoon", "virtio,stats.period=10"])
    add("memballoon-virtio", [GENERIC, BSD], ["--memballoon", "virtio"])
    add("memballoon-none", [LINUX, WIN], ["--memballoon", "none"])
    add("memory-current-below-max", [LINUX, WIN], ["--memory", "memory=4096,currentMemory=2048"])
    add("vcpus-cpuset", [LINUX], ["--vcpus", "2,cpuset=0-1"])
    add("vcpus-topology", [LINUX, WIN], ["--vcpus", "4,sockets=1,cores=2,threads=2"])
    add("vcpus-current", [LINUX], ["--vcpus", "2,maxvcpus=4"])

    # TPM.
    add("tpm-emulator-crb", [LINUX, WIN], ["--tpm", "emulator,model=tpm-crb"])
    add("tpm-emulator-tis", [LINUX, WIN, GENERIC], ["--tpm", "emulator,model=tpm-tis"])
    add("tpm-emulator-tis-2.0", [LINUX], ["--tpm", "emulator,model=tpm-tis,version=2.0"])
    add("tpm-none", [WIN11], ["--tpm", "none"])

    # Firmware.
    add("boot-uefi", [LINUX, WIN, GENERIC, BSD], ["--boot", "uefi"])
    add("boot-uefi-pc", [LINUX], ["--machine", "pc", "--boot", "uefi"])
    add("boot-uefi-secure-on", [LINUX, WIN, WIN11], ["--boot", SB_ON])
    add("boot-uefi-secure-on-no-keys", [LINUX], ["--boot", SB_ON_NO_KEYS])
    add("boot-uefi-secure-off", [LINUX, WIN11], ["--boot", SB_OFF])
    add("boot-firmware-efi", [FEDORA], ["--boot", "firmware=efi"])
    add("boot-loader-path", [LINUX],
        ["--boot", "loader=/usr/share/OVMF/OVMF_CODE_4M.fd,loader.readonly=yes,"
         "loader.type=pflash,nvram.template=/usr/share/OVMF/OVMF_VARS_4M.fd"])
    add("boot-loader-secure", [WIN],
        ["--boot", "loader=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd,loader.readonly=yes,"
         "loader.type=pflash,loader.secure=yes,"
         "nvram.template=/usr/share/OVMF/OVMF_VARS_4M.ms.fd", "--features", "smm.state=on"])
    add("boot-firmware-bios", [WIN11], ["--boot", "firmware=bios", "--tpm", "none"])
    add("boot-menu", [LINUX, GENERIC], ["--boot", "hd,cdrom,menu=on"])
    add("boot-order-network", [LINUX], ["--boot", "network,hd"])
    add("boot-kernel", [LINUX, GENERIC],
        ["--boot", "kernel=/tmp/virt-install-corpus/media/vmlinuz,"
         "initrd=/tmp/virt-install-corpus/media/initrd.img,kernel_args=console=ttyS0"])
    add("boot-useserial", [GENERIC], ["--boot", "hd,bios.useserial=on,bios.rebootTimeout=5000"])

    # Controllers and disk buses.
    add("disk-scsi-virtio-scsi", [LINUX, WIN, GENERIC],
        ["--controller", "type=scsi,model=virtio-scsi", "--disk", "{img},bus=scsi"])
    add("disk-scsi-virtio-scsi-queues", [LINUX],
        ["--controller", "type=scsi,model=virtio-scsi,driver.queues=4", "--disk", "{img},bus=scsi"])
    add("disk-scsi-implicit-controller", [LINUX, BSD], ["--disk", "{img},bus=scsi"])
    add("disk-sata", [LINUX, GENERIC], ["--disk", "{img},bus=sata"])
    add("disk-usb", [LINUX, WIN], ["--disk", "{img},bus=usb"])
    add("disk-ide", [GENERIC, OLDWIN], ["--machine", "pc", "--disk", "{img},bus=ide"])
    add("disk-virtio", [WIN, GENERIC], ["--disk", "{img},bus=virtio"])
    add("disk-floppy", [GENERIC], ["--machine", "pc", "--disk", "{img}",
                                   "--disk", "{raw},device=floppy"])
    add("disk-cache-none-io-native", [LINUX, WIN], ["--disk", "{img},cache=none,io=native"])
    add("disk-cache-writeback-io-threads", [LINUX], ["--disk", "{img},cache=writeback,io=threads"])
    add("disk-cache-writethrough-io-uring", [LINUX], ["--disk", "{img},cache=writethrough,io=io_uring"])
    add("disk-cache-directsync", [LINUX], ["--disk", "{img},cache=directsync"])
    add("disk-cache-unsafe", [GENERIC], ["--disk", "{img},cache=unsafe"])
    add("disk-discard-unmap-detect-zeroes-unmap", [LINUX, WIN],
        ["--disk", "{img},discard=unmap,detect_zeroes=unmap"])
    add("disk-discard-ignore-detect-zeroes-on", [LINUX], ["--disk", "{img},discard=ignore,detect_zeroes=on"])
    add("disk-detect-zeroes-off", [GENERIC], ["--disk", "{img},detect_zeroes=off"])
    add("disk-serial", [LINUX, WIN], ["--disk", "{img},serial=QVIRT-DISK-0001"])
    add("disk-raw-readonly", [LINUX], ["--disk", "{img}", "--disk", "{raw},format=raw,readonly=on"])
    add("disk-two", [LINUX, WIN], ["--disk", "{img}", "--disk", "{img2},bus=sata"])
    add("disk-cdrom-empty", [LINUX, GENERIC], ["--disk", "{img}", "--disk", "device=cdrom"])
    add("disk-cdrom-scsi", [LINUX], ["--disk", "{img}", "--disk", "{iso},device=cdrom,bus=scsi"])
    add("disk-boot-order", [LINUX], ["--disk", "{img},boot.order=1",
                                     "--network", "network=default,mac={mac},boot.order=2"])
    add("disk-new-raw", [LINUX], ["--disk", "size=8,format=raw"], install="cdrom")
    add("disk-new-qcow2-virtio", [WIN], ["--disk", "size=40,bus=virtio"], install="cdrom")
    add("controller-usb2", [LINUX, GENERIC], ["--controller", "usb2"])
    add("controller-usb3", [WIN, OLDWIN], ["--controller", "usb3"])
    add("controller-usb-ich9-ehci1", [LINUX], ["--controller", "type=usb,model=ich9-ehci1"])
    add("controller-usb-qemu-xhci", [GENERIC, OLDWIN], ["--controller", "type=usb,model=qemu-xhci"])
    add("controller-usb-none", [LINUX], ["--controller", "type=usb,model=none"])
    add("controller-usb2-pc", [GENERIC], ["--machine", "pc", "--controller", "usb2"])

    # Networks.
    for model in ["virtio", "e1000e", "e1000", "rtl8139"]:
        add("network-user-" + model, [LINUX], ["--network", "user,model=%s,mac={mac}" % model])
        add("network-bridge-" + model, [LINUX], ["--network", "bridge=br0,model=%s,mac={mac}" % model])
        add("network-default-" + model, [WIN], ["--network", "network=default,model=%s,mac={mac}" % model])
    add("network-user", [GENERIC, BSD], ["--network", "user,mac={mac}"])
    add("network-bridge", [GENERIC, WIN], ["--network", "bridge=br0,mac={mac}"])
    add("network-e1000-pc", [GENERIC], ["--machine", "pc", "--network", "network=default,model=e1000,mac={mac}"])
    add("network-two", [LINUX], ["--network", "network=default,mac={mac}",
                                 "--network", "bridge=br0,mac={mac2}"])
    add("network-none", [LINUX, WIN], ["--network", "none"])

    # CPU.
    add("cpu-host-passthrough", [LINUX, WIN, GENERIC], ["--cpu", "host-passthrough"])
    add("cpu-host-model", [LINUX, WIN, BSD], ["--cpu", "host-model"])
    add("cpu-maximum", [LINUX], ["--cpu", "maximum"])
    add("cpu-haswell", [LINUX, WIN], ["--cpu", "Haswell"])
    add("cpu-haswell-notsx-ibrs", [LINUX], ["--cpu", "Haswell-noTSX-IBRS"])
    add("cpu-skylake-client", [LINUX, WIN], ["--cpu", "Skylake-Client"])
    add("cpu-epyc", [LINUX, GENERIC], ["--cpu", "EPYC"])
    add("cpu-qemu64", [GENERIC], ["--cpu", "qemu64"])
    add("cpu-named-features", [LINUX], ["--cpu", "Skylake-Client,require=vmx,disable=hle"])
    add("cpu-topology", [LINUX, WIN],
        ["--vcpus", "4", "--cpu", "host-passthrough,topology.sockets=1,topology.cores=2,topology.threads=2"])
    add("cpu-host-passthrough-migratable", [LINUX], ["--cpu", "host-passthrough,migratable=on"])
    add("cpu-host-passthrough-cache", [LINUX], ["--cpu", "host-passthrough,cache.mode=passthrough"])

    # Features.
    add("features-vmport-on", [LINUX, WIN], ["--features", "vmport.state=on"])
    add("features-vmport-off", [GENERIC], ["--features", "vmport.state=off"])
    add("features-hyperv", [LINUX],
        ["--features", "hyperv.relaxed.state=on,hyperv.vapic.state=on,"
         "hyperv.spinlocks.state=on,hyperv.spinlocks.retries=4096"])
    add("features-hyperv-synic-reset", [WIN, WIN11],
        ["--features", "hyperv.synic.state=on,hyperv.reset.state=on"])
    add("features-smm-on", [LINUX, GENERIC], ["--features", "smm.state=on"])
    add("features-smm-off", [LINUX], ["--features", "smm.state=off"])
    add("features-pae", [GENERIC], ["--features", "pae=on"])
    add("features-ioapic-qemu", [LINUX], ["--features", "ioapic.driver=qemu"])
    add("features-ioapic-kvm", [WIN], ["--features", "ioapic.driver=kvm"])
    add("features-acpi-apic-off", [GENERIC], ["--machine", "pc", "--features", "acpi=off,apic=off"])

    # Clock.
    add("clock-utc", [LINUX, WIN], ["--clock", "offset=utc"])
    add("clock-localtime", [LINUX, GENERIC], ["--clock", "offset=localtime"])
    add("clock-variable", [LINUX], ["--clock", "offset=variable", "--xml", "./clock/@basis=utc",
                                    "--xml", "./clock/@adjustment=3600"])
    add("clock-variable-localtime", [WIN], ["--clock", "offset=variable", "--xml", "./clock/@basis=localtime",
                                            "--xml", "./clock/@adjustment=-7200"])
    add("clock-timezone", [LINUX], ["--clock", "offset=timezone", "--xml", "./clock/@timezone=Europe/Paris"])
    add("clock-timers", [LINUX, GENERIC],
        ["--clock", "offset=utc,rtc_tickpolicy=catchup,pit_tickpolicy=delay,hpet_present=yes,"
         "kvmclock_present=yes"])
    add("clock-kvmclock-off", [LINUX], ["--clock", "kvmclock_present=no"])
    add("clock-hypervclock", [WIN], ["--clock", "offset=localtime,hypervclock_present=yes,hpet_present=no"])
    add("clock-pit-discard", [GENERIC], ["--clock", "pit_tickpolicy=discard,rtc_tickpolicy=merge"])

    # Power management.
    add("pm-on", [LINUX, GENERIC], ["--pm", "suspend_to_mem.enabled=on,suspend_to_disk.enabled=on"])
    add("pm-off", [WIN], ["--pm", "suspend_to_mem.enabled=off,suspend_to_disk.enabled=off"])
    add("pm-mem-only", [LINUX], ["--pm", "suspend_to_mem.enabled=on,suspend_to_disk.enabled=off"])

    # Input devices.
    for dev, buses in [("tablet", ["usb", "virtio"]), ("mouse", ["usb", "virtio", "ps2"]),
                       ("keyboard", ["usb", "virtio", "ps2"])]:
        for bus in buses:
            add("input-%s-%s" % (dev, bus), [LINUX], ["--input", "%s,bus=%s" % (dev, bus)])
    add("input-tablet-usb", [GENERIC, WIN], ["--input", "tablet,bus=usb"])
    add("input-keyboard-usb", [WIN], ["--input", "keyboard,bus=usb"])
    add("input-mouse-usb", [GENERIC], ["--input", "mouse,bus=usb"])
    add("input-tablet-ps2", [LINUX], ["--input", "tablet,bus=ps2"])

    # Lifecycle actions.
    add("events-restart", [LINUX, WIN],
        ["--events", "on_poweroff=destroy,on_reboot=restart,on_crash=restart"])
    add("events-crash-destroy", [GENERIC], ["--events", "on_crash=destroy"])

    # What virt-manager sets up for a new VM, all at once.
    full = ["--graphics", "spice", "--video", "qxl", "--sound", "ich9",
            "--redirdev", "usb,type=spicevmc", "--redirdev", "usb,type=spicevmc",
            "--channel", "unix,target.type=virtio,name=org.qemu.guest_agent.0",
            "--channel", "spicevmc", "--tpm", "emulator,model=tpm-crb",
            "--boot", SB_ON, "--rng", "/dev/urandom", "--memballoon", "virtio,stats.period=5"]
    add("virt-manager-style", [LINUX, WIN11, FEDORA], full, family="virt-manager")
    add("virt-manager-style-cdrom", [WIN11], full, family="virt-manager", install="cdrom")
    return cases


def os_cases():
    return [Case("os-" + osid, osid, "os", "cdrom") for osid in OS_SPREAD]


def mac_for(name, index):
    h = hashlib.sha256(("%s/%d" % (name, index)).encode()).digest()
    return "52:54:00:%02x:%02x:%02x" % (h[0], h[1], h[2])


class Runner:
    def __init__(self, uri, work, out):
        self.uri = uri
        self.work = work
        self.out = out
        self.cli_checks = CLI_CHECKS
        self.media = os.path.join(work, "media")
        self.images = os.path.join(work, "images")
        os.makedirs(self.media, exist_ok=True)
        os.makedirs(self.images, exist_ok=True)
        for f in ["vmlinuz", "initrd.img"]:
            open(os.path.join(self.media, f), "a").close()

    def virsh(self, *args, check=True):
        p = subprocess.run(["virsh", "-q", "-c", self.uri] + list(args),
                           capture_output=True, text=True)
        if check and p.returncode != 0:
            raise RuntimeError("virsh %s: %s" % (" ".join(args), p.stderr.strip()))
        return p

    def qcow2(self, path):
        if not os.path.exists(path):
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, "10G"], check=True)
        return path

    def iso(self, osid):
        path = os.path.join(self.media, osid + ".iso")
        open(path, "a").close()
        return path

    def expand(self, case):
        """The case's arguments with placeholders and defaults filled in."""
        args = []
        subst = {
            "{img}": lambda: self.qcow2(os.path.join(self.images, case.name + ".qcow2")),
            "{img2}": lambda: self.qcow2(os.path.join(self.images, case.name + "-2.qcow2")),
            "{raw}": lambda: self._raw(os.path.join(self.images, case.name + ".img")),
            "{iso}": lambda: self.iso(case.osid),
            "{mac}": lambda: mac_for(case.name, 0),
            "{mac2}": lambda: mac_for(case.name, 1),
        }
        for a in case.args:
            for key, fn in subst.items():
                if key in a:
                    a = a.replace(key, fn())
            args.append(a)
        head = ["--name", case.name, "--uuid", str(uuid.uuid5(UUID_NS, case.name)),
                "--osinfo", case.osid]
        if case.install == "cdrom":
            head += ["--cdrom", self.iso(case.osid)]
        elif case.install == "pxe":
            head += ["--pxe"]
        else:
            head += ["--import"]
            if "--disk" not in args:
                head += ["--disk", self.qcow2(os.path.join(self.images, case.name + ".qcow2"))]
        if "--network" not in args:
            head += ["--network", "type=default,mac=%s" % mac_for(case.name, 0)]
        return head + args

    def _raw(self, path):
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.truncate(1474560)
        return path

    def virt_install(self, args):
        """virt-install's domain documents for args, and the args used.

        Some osinfo entries lack data that virt-install needs; a user
        gives it on the command line, and so does this: --memory when the
        OS has no recommended memory, a 20 GiB disk when it has no
        recommended storage."""
        fallbacks = [
            ("--memory amount in MiB is required", ["--memory", "1024"]),
            ("--disk storage must be specified", ["--disk", "size=20"]),
            ("--disk size=0: Device type 'disk' requires a path", ["--disk", "size=20"]),
        ]
        while True:
            rc, stdout, stderr = self.run(args + ["--print-xml", "--dry-run"])
            extra = [more for msg, more in fallbacks
                     if rc != 0 and msg in stderr and more[0] not in args]
            if not extra:
                break
            args = args + extra[0]
        if self.cli_checks > 0:
            self.cli_checks -= 1
            cmd = ["virt-install", "--connect", self.uri] + args + ["--print-xml", "--dry-run"]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if (p.returncode, p.stdout) != (rc, stdout):
                raise SystemExit("virt-install run in-process differs from /usr/bin/virt-install "
                                 "for %s" % shlex.join(args))
        if rc != 0:
            raise RuntimeError(stderr.strip())
        docs = re.findall(r"(?ms)^<domain\b.*?^</domain>\n", stdout)
        if not docs or len(docs) > 2:
            raise RuntimeError("expected one or two domains from virt-install, got %d" % len(docs))
        return args, docs

    def run(self, args):
        """virt-install's exit code, stdout and stderr for args, run as
        /usr/bin/virt-install runs it (virtinstall.runcli)."""
        out, err = io.StringIO(), io.StringIO()
        saved = sys.argv, sys.stdout, sys.stderr
        sys.argv = ["virt-install", "--connect", self.uri] + args
        sys.stdout, sys.stderr = out, err
        try:
            try:
                rc = virtinstall.main()
            except SystemExit as e:
                rc = e.code
            except KeyboardInterrupt:
                raise
            except Exception as e:  # what runcli does with any other error
                try:
                    virtinst_cli.fail(e)
                except SystemExit as e2:
                    rc = e2.code
        finally:
            sys.argv, sys.stdout, sys.stderr = saved
        return (rc or 0), out.getvalue(), err.getvalue()

    def check_clean(self):
        left = self.virsh("list", "--all", "--name").stdout.split()
        if left:
            raise RuntimeError("domains left defined: %s" % " ".join(left))
        for pool in self.virsh("pool-list", "--all", "--name").stdout.split():
            vols = self.virsh("vol-list", pool, check=False).stdout.split("\n")
            for line in vols:
                fields = line.split()
                if len(fields) >= 2 and not fields[1].startswith(self.work + "/"):
                    raise RuntimeError("virt-install created a volume: %s" % fields[1])

    def define(self, name, xml):
        """libvirt's inactive XML for xml, or (None, error)."""
        path = os.path.join(self.work, "define.xml")
        with open(path, "w") as f:
            f.write(xml)
        p = self.virsh("define", path, check=False)
        if p.returncode != 0:
            # The first line names our temporary file; libvirt's reason follows.
            lines = [l for l in p.stderr.strip().splitlines()
                     if not l.startswith("error: Failed to define domain from")]
            return None, "\n".join(lines)
        try:
            dumped = self.virsh("dumpxml", "--inactive", name).stdout
        finally:
            self.virsh("undefine", name, "--nvram", "--tpm")
        return dumped, None


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def strip_identity(xml):
    """The XML with what differs between any two OSes' defaults removed."""
    xml = re.sub(r"<name>.*?</name>", "<name/>", xml)
    xml = re.sub(r"<uuid>.*?</uuid>", "<uuid/>", xml)
    xml = re.sub(r'<libosinfo:os id="[^"]*"/>', "<libosinfo:os/>", xml)
    xml = re.sub(r"<(memory|currentMemory|vcpu)>\d+</\1>", r"<\1/>", xml)
    xml = re.sub(r'<source file="[^"]*"/>', "<source/>", xml)
    xml = re.sub(r'<mac address="[^"]*"/>', "<mac/>", xml)
    return xml


def os_list():
    """The osinfo database's operating systems, each as its list of names."""
    out = subprocess.run(["virt-install", "--osinfo", "list"], capture_output=True,
                         text=True, check=True).stdout
    groups = []
    for line in out.splitlines():
        names = [n.strip() for n in line.split(",") if n.strip()]
        if names and all(re.fullmatch(r"[A-Za-z0-9._-]+", n) for n in names):
            groups.append(names)
    return groups


def canonical(names):
    """virt-install lists its own aliases (ubuntu-lts-latest) first."""
    real = [n for n in names if not n.endswith("-latest")]
    return (real or names)[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uri", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-sweep", action="store_true")
    ap.add_argument("filter", nargs="?")
    opts = ap.parse_args()

    r = Runner(opts.uri, opts.work, opts.out)
    cases = os_cases() + option_cases()
    names = [c.name for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        sys.exit("duplicate case names: %s" % " ".join(sorted(dup)))
    groups = os_list()
    known = {n for g in groups for n in g}
    unknown = [c.osid for c in cases if c.osid not in known]
    if unknown:
        sys.exit("not in this osinfo database: %s" % " ".join(sorted(set(unknown))))

    # The sweep: every OS's default XML, to find defaults that no case
    # above shows; each such distinct XML gets the first OS that has it.
    coverage = []
    if not opts.no_sweep and not opts.filter:
        shapes = {}
        all_ids = [canonical(g) for g in groups]
        print("sweeping %d operating systems" % len(all_ids), file=sys.stderr)
        for i, osid in enumerate(all_ids):
            case = Case("sweep", osid, "os", "cdrom")
            try:
                _, docs = r.virt_install(r.expand(case))
                key = "".join(strip_identity(d) for d in docs)
            except RuntimeError as e:
                key = "error: " + str(e).splitlines()[-1]
            shapes.setdefault(key, []).append(osid)
            if i % 50 == 49:
                print("  %d/%d, %d distinct" % (i + 1, len(all_ids), len(shapes)), file=sys.stderr)
        spread = set(OS_SPREAD)
        for key, osids in shapes.items():
            if key.startswith("error: "):
                for osid in osids:
                    coverage.append((osid, "-", key))
                continue
            reps = [o for o in osids if o in spread]
            if reps:
                rep = reps[0]
            else:
                rep = osids[0]
                cases.append(Case("os-" + rep, rep, "os", "cdrom"))
            for osid in osids:
                coverage.append((osid, "os-" + rep, "same default XML as os-%s" % rep))
        r.check_clean()

    if opts.filter:
        cases = [c for c in cases if opts.filter in c.name]
    else:
        for sub in ["", "final", "defined", "rejected"]:
            d = os.path.join(opts.out, sub)
            if os.path.isdir(d):
                for f in os.listdir(d):
                    if f.endswith(".xml") or f.endswith(".err"):
                        os.remove(os.path.join(d, f))

    manifest = []
    failed = []
    for n, case in enumerate(cases):
        try:
            args, docs = r.virt_install(r.expand(case))
        except RuntimeError as e:
            failed.append((case.name, str(e)))
            print("FAILED %s: %s" % (case.name, e), file=sys.stderr)
            continue
        dumped, err = r.define(case.name, docs[-1])
        if dumped is not None:
            write(os.path.join(opts.out, case.name + ".xml"), docs[0])
            if len(docs) == 2:
                write(os.path.join(opts.out, "final", case.name + ".xml"), docs[1])
            write(os.path.join(opts.out, "defined", case.name + ".xml"), dumped)
            libvirt = "defined"
        else:
            # libvirt refuses it: kept apart, with libvirt's reason.
            write(os.path.join(opts.out, "rejected", case.name + ".xml"), docs[-1])
            write(os.path.join(opts.out, "rejected", case.name + ".err"), err + "\n")
            libvirt = "rejected"
        r.check_clean()
        shown = [a.replace(opts.work, "/tmp/virt-install-corpus") for a in args]
        manifest.append((case.name, case.osid, case.family, case.install,
                         "2" if len(docs) == 2 else "1", libvirt, shlex.join(shown)))
        if n % 25 == 24:
            print("  %d/%d cases" % (n + 1, len(cases)), file=sys.stderr)

    if not opts.filter:
        with open(os.path.join(opts.out, "manifest.tsv"), "w") as f:
            f.write("name\tos\tfamily\tinstall\tsteps\tlibvirt\targs\n")
            for row in manifest:
                f.write("\t".join(row) + "\n")
        if coverage:
            with open(os.path.join(opts.out, "os-coverage.tsv"), "w") as f:
                f.write("os\tcase\tnote\n")
                for row in coverage:
                    f.write("\t".join(row) + "\n")
    print("%d cases written, %d failed" % (len(manifest), len(failed)), file=sys.stderr)
    if failed:
        for name, err in failed:
            print("  %s: %s" % (name, err.splitlines()[-1] if err else ""), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
