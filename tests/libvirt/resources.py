#!/usr/bin/python3
"""resources.py URI RO_URI NAME — a python3-libvirt program, as a user
writes one, that resizes the running domain NAME (the Linux test guest: a
balloon, one of two vCPUs online, one disk vda, no network interface)
through qvirtd's libvirt socket URI and reads its statistics; RO_URI is
the daemon's read-only socket. It leaves the guest with 128 MiB and two
vCPUs, and the definition with <memory> 512 MiB and <vcpu> 4, for the
caller to look at in the guest. Prints PY-RES-OK; on a failed check it
raises, and the interpreter exits non-zero with the traceback.
"""
import sys
import time

import libvirt

uri, ro_uri, name = sys.argv[1], sys.argv[2], sys.argv[3]
libvirt.registerErrorHandler(lambda *_: None, None)

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
MEM_MAX = libvirt.VIR_DOMAIN_MEM_MAXIMUM
VCPU_MAX = libvirt.VIR_DOMAIN_VCPU_MAXIMUM


def code_of(call):
    """The libvirt error code `call` fails with."""
    try:
        call()
    except libvirt.libvirtError as e:
        return e.get_error_code()
    raise AssertionError("the call succeeded")


def wait(what, check, timeout):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


conn = libvirt.open(uri)
dom = conn.lookupByName(name)

# vCPUs: one of two online.
assert dom.vcpusFlags(LIVE) == 1
assert dom.vcpusFlags(LIVE | VCPU_MAX) == 2
assert dom.vcpusFlags(CONFIG) == 1
assert dom.maxVcpus() == 2
dom.setVcpusFlags(2, LIVE)
assert dom.vcpusFlags(LIVE) == 2, "the second vCPU is plugged"
assert dom.vcpusFlags(CONFIG) == 1, "the definition keeps its count"
assert code_of(lambda: dom.setVcpusFlags(3, LIVE)) == libvirt.VIR_ERR_INVALID_ARG
# The maximum of a running domain (libvirt's library itself wants CONFIG
# with MAXIMUM).
assert code_of(lambda: dom.setVcpusFlags(4, LIVE | CONFIG | VCPU_MAX)) == libvirt.VIR_ERR_OPERATION_INVALID
assert code_of(lambda: dom.setVcpusFlags(1, libvirt.VIR_DOMAIN_VCPU_GUEST)) == libvirt.VIR_ERR_NO_SUPPORT
assert code_of(lambda: dom.vcpusFlags(LIVE | CONFIG)) == libvirt.VIR_ERR_INVALID_ARG
dom.setVcpusFlags(4, CONFIG | VCPU_MAX)
assert dom.vcpusFlags(CONFIG | VCPU_MAX) == 4
assert dom.vcpusFlags(LIVE | VCPU_MAX) == 2

# Memory: virDomainSetMemory, then virDomainSetMemoryFlags; the balloon
# follows each.
dom.setMemory(192 * 1024)
wait("the balloon at 192 MiB", lambda: dom.memoryStats().get("actual") == 192 * 1024, 180)
dom.setMemoryFlags(128 * 1024, LIVE)
wait("the balloon at 128 MiB", lambda: dom.memoryStats().get("actual") == 128 * 1024, 180)
assert dom.info()[2] == 128 * 1024
mem = dom.memoryStats()
assert mem["rss"] > 0, mem
assert code_of(lambda: dom.setMemoryFlags(1 << 20, LIVE)) == libvirt.VIR_ERR_INVALID_ARG
assert code_of(lambda: dom.setMemoryFlags(512 * 1024, LIVE | MEM_MAX)) == libvirt.VIR_ERR_OPERATION_INVALID
assert code_of(lambda: dom.setMaxMemory(512 * 1024)) == libvirt.VIR_ERR_OPERATION_INVALID
dom.setMemoryFlags(512 * 1024, CONFIG | MEM_MAX)
assert dom.maxMemory() == 256 * 1024, "the running domain keeps its <memory>"

# Statistics of every domain, and of this one.
records = conn.getAllDomainStats()
stats = {d.name(): s for d, s in records}[name]
assert stats["state.state"] == libvirt.VIR_DOMAIN_RUNNING, stats
assert stats["vcpu.current"] == 2 and stats["vcpu.maximum"] == 2, stats
assert stats["vcpu.0.state"] == 1 and stats["vcpu.1.state"] == 1, stats
assert stats["balloon.current"] == 128 * 1024, stats
assert stats["balloon.maximum"] == 256 * 1024, stats
assert stats["block.count"] == 1 and stats["block.0.name"] == "vda", stats
assert stats["block.0.capacity"] == 8 << 20, stats
assert stats["cpu.time"] > 0, stats
assert stats["net.count"] == 0, stats
groups = libvirt.VIR_DOMAIN_STATS_VCPU | libvirt.VIR_DOMAIN_STATS_BALLOON
[(d, only)] = conn.domainListGetStats([dom], groups)
assert d.UUIDString() == dom.UUIDString()
assert all(k.startswith(("vcpu.", "balloon.")) for k in only), only
assert only["vcpu.current"] == 2
assert code_of(lambda: conn.getAllDomainStats(
    libvirt.VIR_DOMAIN_STATS_PERF,
    libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS)) == libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED

rd_req, rd_bytes, wr_req, wr_bytes, errs = dom.blockStats("vda")
assert errs == -1, "QEMU counts no errors: unknown"
assert rd_bytes >= stats["block.0.rd.bytes"], (rd_bytes, stats)
flags = dom.blockStatsFlags("vda")
assert set(flags) == {"rd_bytes", "rd_operations", "rd_total_times", "wr_bytes",
                      "wr_operations", "wr_total_times", "flush_operations",
                      "flush_total_times"}, flags
assert flags["rd_bytes"] >= rd_bytes and flags["rd_operations"] >= rd_req
assert code_of(lambda: dom.blockStats("vdz")) == libvirt.VIR_ERR_INVALID_ARG
assert code_of(lambda: dom.interfaceStats("vnet9")) == libvirt.VIR_ERR_INVALID_ARG
[total] = dom.getCPUStats(True)
assert total["cpu_time"] > 0, total
assert total["cpu_time"] == total["user_time"] + total["system_time"], total

# The read-only socket: every figure, no change.
ro = libvirt.open(ro_uri)
rdom = ro.lookupByName(name)
assert rdom.memoryStats()["actual"] == 128 * 1024
assert rdom.vcpusFlags(LIVE) == 2
assert {d.name(): s for d, s in ro.getAllDomainStats()}[name]["vcpu.current"] == 2
denied = libvirt.VIR_ERR_OPERATION_DENIED
assert code_of(lambda: rdom.setMemoryFlags(64 * 1024, LIVE)) == denied
assert code_of(lambda: rdom.setMemory(64 * 1024)) == denied
assert code_of(lambda: rdom.setMaxMemory(64 * 1024)) == denied
assert code_of(lambda: rdom.setVcpusFlags(1, LIVE)) == denied
assert code_of(lambda: rdom.setVcpus(1)) == denied
assert code_of(lambda: rdom.vcpusFlags(libvirt.VIR_DOMAIN_VCPU_GUEST)) == denied
ro.close()
assert dom.memoryStats()["actual"] == 128 * 1024, "the read-only calls changed nothing"
conn.close()
print("PY-RES-OK")
