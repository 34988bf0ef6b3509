#!/usr/bin/python3
"""libvirt-resources-session.py URI WORKDIR — drives a libvirt daemon at URI
with the memory, vCPU, vCPU placement and statistics calls qvirt serves, through virsh and
python3-libvirt, so that scripts/libvirt-resources-capture.sh can record
the messages real clients and a real daemon exchange. Uses a firmware-only
domain (it sits in the BIOS) with a balloon, one of two vCPUs online, a
disk and a tap interface; leaves nothing defined.
"""
import os
import subprocess
import sys

import libvirt

uri, work = sys.argv[1], sys.argv[2]
NAME = "rec-res"
disk = os.path.join(work, "rec-res.img")
with open(disk, "wb") as f:
    f.truncate(8 << 20)
XML = f"""<domain type='qemu'>
  <name>{NAME}</name>
  <uuid>3e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu current='1'>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/>
      <source file='{disk}'/><target dev='vda' bus='virtio'/></disk>
    <interface type='ethernet'><mac address='52:54:00:0a:0b:0c'/>
      <target dev='recres0' managed='yes'/><model type='virtio'/></interface>
    <memballoon model='virtio'><stats period='1'/></memballoon>
  </devices>
</domain>
"""


def virsh(*args, check=True):
    r = subprocess.run(["virsh", "-c", uri, *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"virsh {' '.join(args)} failed: {r.stderr}")
    return r.stdout


path = os.path.join(work, "rec-res.xml")
with open(path, "w") as f:
    f.write(XML)
virsh("define", path)
virsh("start", NAME)
# virsh's verbs.
virsh("setmem", NAME, "48M", "--live")
virsh("setmem", NAME, "40M", "--config")
virsh("setmaxmem", NAME, "96M", "--config")
virsh("setmem", NAME, "512M", "--live", check=False)
virsh("setvcpus", NAME, "2")
virsh("setvcpus", NAME, "2", "--config")
virsh("setvcpus", NAME, "3", "--config", "--maximum")
virsh("vcpucount", NAME)
virsh("dommemstat", NAME)
virsh("dommemstat", NAME, "--period", "2", "--live")
virsh("dommemstat", NAME, "--period", "3", "--config")
virsh("domblkstat", NAME, "vda")
virsh("domblkstat", NAME, "vdz", check=False)
virsh("domifstat", NAME, "recres0")
virsh("cpu-stats", NAME, "--total")
virsh("domstats")
virsh("domstats", NAME, "--balloon", "--vcpu")
virsh("domstats", "--list-running", "--block", "--interface", "--cpu-total", "--state")
# Where the vCPUs run, and the host's CPUs.
virsh("vcpuinfo", NAME)
virsh("vcpupin", NAME)
virsh("emulatorpin", NAME)
virsh("nodecpumap")
virsh("freecell")
virsh("nodecpustats")
virsh("nodecpustats", "0")
virsh("nodememstats")
virsh("domcontrol", NAME)

# python3-libvirt's calls.
libvirt.registerErrorHandler(lambda *_: None, None)
conn = libvirt.open(uri)
dom = conn.lookupByName(NAME)
dom.setMemory(44 * 1024)
try:
    dom.setMaxMemory(128 * 1024)
except libvirt.libvirtError:
    pass
dom.maxVcpus()
dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
dom.memoryStats()
dom.setMemoryStatsPeriod(1, libvirt.VIR_DOMAIN_AFFECT_LIVE)
dom.blockStats("vda")
dom.blockStatsFlags("vda")
dom.interfaceStats("52:54:00:0a:0b:0c")
dom.getCPUStats(True)
conn.getAllDomainStats()
conn.domainListGetStats([dom], libvirt.VIR_DOMAIN_STATS_BALLOON)
dom.vcpus()
dom.vcpuPinInfo(libvirt.VIR_DOMAIN_AFFECT_CONFIG)
conn.getCPUMap()
conn.getFreeMemory()
conn.getCPUStats(-1)
conn.getMemoryStats(-1)
try:
    dom.setVcpus(1)  # a guest in its firmware cannot let a vCPU go
except libvirt.libvirtError:
    pass
conn.close()
virsh("destroy", NAME)
virsh("setvcpus", NAME, "1", "--config")
virsh("vcpuinfo", NAME)
virsh("domstats", NAME)
virsh("undefine", NAME)
