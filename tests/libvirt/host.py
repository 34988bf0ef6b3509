#!/usr/bin/python3
"""host.py URI DOMAIN_XML — a python3-libvirt program that asks qvirtd
what management tools ask of a host and a domain, and checks each answer
against the host itself, read here independently:

- getMaxVcpus: 16 for no type and 'qemu', KVM's own limit for 'kvm'
  (KVM_CHECK_EXTENSION on /dev/kvm), an invalid argument for 'xen';
- getCellsFreeMemory and getFreePages: each NUMA node's free memory and
  free pages of each size (/sys/devices/system/node), libvirt's errors
  for a node or a page size the host lacks;
- getMemoryParameters: /sys/kernel/mm/ksm under libvirt's shm_* names;
- networks: none, in every count and list, and lookups answering
  VIR_ERR_NO_NETWORK;
- security labels (the model is empty: no security driver) and
  checkpoints (none) of a domain, shut off and running.

Run by tests/libvirt_host.rs. Prints PY-HOST-OK; a failed check raises.
"""
import fcntl
import os
import sys

import libvirt

uri, xml = sys.argv[1], sys.argv[2]
libvirt.registerErrorHandler(lambda *_: None, None)
conn = libvirt.open(uri)
NODES = "/sys/devices/system/node"
# Free memory moves while the test reads it: the daemon's figure and the
# test's must agree within this (bytes).
SLACK = 512 << 20


def error_of(call):
    """(code, domain, message) of the libvirt error `call` fails with."""
    try:
        call()
    except libvirt.libvirtError as e:
        return e.get_error_code(), e.get_error_domain(), e.get_error_message()
    raise AssertionError("expected an error")


def read(path):
    with open(path) as f:
        return f.read().strip()


# Maximum vCPUs, by libvirt's QEMU rules.
assert conn.getMaxVcpus(None) == 16
assert conn.getMaxVcpus("qemu") == 16
kvm = os.open("/dev/kvm", os.O_RDONLY)
limit = 0
for cap in (66, 9):  # KVM_CAP_MAX_VCPUS, KVM_CAP_NR_VCPUS
    limit = fcntl.ioctl(kvm, 0xAE03, cap)
    if limit > 0:
        break
os.close(kvm)
assert conn.getMaxVcpus("kvm") == (limit if limit > 0 else 4), conn.getMaxVcpus("kvm")
code, _, message = error_of(lambda: conn.getMaxVcpus("xen"))
assert code == libvirt.VIR_ERR_INVALID_ARG and "unknown type 'xen'" in message, message

# Free memory of each NUMA node.
nodes = sorted(int(n[4:]) for n in os.listdir(NODES) if n.startswith("node") and n[4:].isdigit())
last = nodes[-1]


def node_free(n):
    for line in read(f"{NODES}/node{n}/meminfo").splitlines():
        if line.split(":")[0].split()[-1] == "MemFree":
            return int(line.split(":")[1].split()[0]) * 1024
    raise AssertionError("no MemFree")


cells = conn.getCellsFreeMemory(0, last + 8)
assert len(cells) == last + 1, cells
for n in nodes:
    assert abs(cells[n] - node_free(n)) < SLACK, (n, cells[n], node_free(n))
code, _, message = error_of(lambda: conn.getCellsFreeMemory(last + 1, 1))
assert code == libvirt.VIR_ERR_INTERNAL_ERROR, code
assert f"start cell {last + 1} out of range (0-{last})" in message, message
print("CELL0", cells[0])

# Free pages: the system's size and each huge page pool of node 0.
sizes = sorted(int(d[len("hugepages-"):-2]) for d in os.listdir(f"{NODES}/node0/hugepages"))
assert sizes, "the kernel shows no huge page pools"
page = os.sysconf("SC_PAGE_SIZE") // 1024
free = conn.getFreePages([page] + sizes, 0, 1)
assert list(free.keys()) == [0], free
assert abs(free[0][page] * page * 1024 - node_free(0)) < SLACK, free
for size in sizes:
    want = int(read(f"{NODES}/node0/hugepages/hugepages-{size}kB/free_hugepages"))
    assert free[0][size] == want, (size, free[0][size], want)
missing = 16 if 16 not in sizes + [page] else 32
code, _, message = error_of(lambda: conn.getFreePages([missing], 0, 1))
assert code == libvirt.VIR_ERR_OPERATION_FAILED, code
assert f"page size {missing} is not available on node 0" in message, message

# Same-page merging.
params = conn.getMemoryParameters()
files = ["pages_to_scan", "sleep_millisecs", "pages_shared", "pages_sharing",
         "pages_unshared", "pages_volatile", "full_scans", "merge_across_nodes"]
ksm = "/sys/kernel/mm/ksm"
want = {"shm_" + f: int(read(f"{ksm}/{f}")) for f in files if os.path.exists(f"{ksm}/{f}")}
assert want, "the kernel shows no KSM"
if read(f"{ksm}/run") == "0":
    # Merging is stopped: its counters do not move.
    assert params == want, (params, want)
else:
    for k in ("shm_pages_to_scan", "shm_sleep_millisecs", "shm_merge_across_nodes"):
        assert params.get(k) == want.get(k), (k, params, want)
    assert set(params) == set(want), (params, want)
print("KSM", sorted(params.items()))

# Networks: none.
assert conn.numOfNetworks() == 0 and conn.numOfDefinedNetworks() == 0
assert conn.listNetworks() == [] and conn.listDefinedNetworks() == []
assert conn.listAllNetworks() == []
code, domain, message = error_of(lambda: conn.networkLookupByName("default"))
assert (code, domain) == (libvirt.VIR_ERR_NO_NETWORK, libvirt.VIR_FROM_NETWORK), (code, domain)
assert "no network with matching name 'default'" in message, message
code, _, message = error_of(
    lambda: conn.networkLookupByUUIDString("6f0bd9b7-1b43-4ce4-8e62-7a9d2c3e1f00"))
assert code == libvirt.VIR_ERR_NO_NETWORK, code
assert "no network with matching uuid '6f0bd9b7-1b43-4ce4-8e62-7a9d2c3e1f00'" in message

# Security labels and checkpoints of a domain, shut off then running.
assert conn.getSecurityModel() == ["", ""], conn.getSecurityModel()
dom = conn.defineXML(xml)
for running in (False, True):
    if running:
        dom.create()
        assert dom.isActive()
    assert dom.securityLabel() == ["", 0], dom.securityLabel()
    assert dom.securityLabelList() == [], dom.securityLabelList()
    assert dom.listAllCheckpoints() == []
    code, domain, message = error_of(lambda: dom.checkpointLookupByName("c1"))
    assert (code, domain) == (libvirt.VIR_ERR_NO_DOMAIN_CHECKPOINT,
                              libvirt.VIR_FROM_DOMAIN_CHECKPOINT), (code, domain)
    assert "no domain checkpoint with matching name 'c1'" in message, message
dom.destroy()
dom.undefine()
code, _, _ = error_of(lambda: dom.securityLabel())
assert code == libvirt.VIR_ERR_NO_DOMAIN, code
print("PY-HOST-OK")
