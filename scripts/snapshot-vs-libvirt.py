#!/usr/bin/python3
"""Times snapshots through python3-libvirt against one daemon (qvirtd's
libvirt socket or a libvirtd): a running 256 MiB firmware-only TCG VM
with a 64 MiB qcow2 disk; ROUNDS internal snapshots (memory and disk),
each followed by a revert to it, then ROUNDS external disk-only
snapshots. Prints one JSON object of medians (ms) on stdout, and
each call's time on stderr.

Before the external series the script waits SETTLE seconds (default 2,
the environment's SNAPBENCH_SETTLE): a revert leaves QEMU busy for a
while (the restored guest's memory is touched again), and without the
pause the first external snapshots measure that, on both daemons alike.

    snapshot-vs-libvirt.py URI WORKDIR [ROUNDS]
"""
import json
import os
import statistics
import subprocess
import sys
import time

import libvirt

uri, work = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
os.makedirs(work, exist_ok=True)
image = os.path.join(work, "snapbench.qcow2")
subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", image, "64M"], check=True)
xml = f"""<domain type='qemu'>
  <name>snapbench</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{image}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <memballoon model='none'/>
  </devices>
</domain>"""

conn = libvirt.open(uri)
dom = conn.defineXML(xml)
dom.create()
internal, revert, external = [], [], []
try:
    for i in range(rounds):
        t0 = time.perf_counter()
        snap = dom.snapshotCreateXML(
            f"<domainsnapshot><name>i{i}</name></domainsnapshot>", 0)
        internal.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        dom.revertToSnapshot(snap, 0)
        revert.append(time.perf_counter() - t0)
    time.sleep(float(os.environ.get("SNAPBENCH_SETTLE", "2")))
    flags = (libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
             | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC)
    for i in range(rounds):
        overlay = os.path.join(work, f"snapbench.e{i}")
        snapxml = (f"<domainsnapshot><name>e{i}</name><memory snapshot='no'/><disks>"
                   f"<disk name='vda' snapshot='external'><source file='{overlay}'/></disk>"
                   "</disks></domainsnapshot>")
        t0 = time.perf_counter()
        dom.snapshotCreateXML(snapxml, flags)
        external.append(time.perf_counter() - t0)
finally:
    try:
        dom.destroy()
    except libvirt.libvirtError:
        pass
    for s in dom.listAllSnapshots(0):
        try:
            s.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
        except libvirt.libvirtError:
            pass
    dom.undefine()
    conn.close()

ms = lambda xs: round(statistics.median(xs) * 1e3, 2)
each = lambda xs: " ".join(f"{x * 1e3:.2f}" for x in xs)
print(f"internal: {each(internal)}\nrevert: {each(revert)}\n"
      f"external: {each(external)}", file=sys.stderr)
print(json.dumps({"internal_ms": ms(internal), "revert_ms": ms(revert),
                  "external_ms": ms(external), "rounds": rounds}))
