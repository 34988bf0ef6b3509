#!/usr/bin/python3
"""api.py URI DIR ROOT — a python3-libvirt program, as a user writes one,
against qvirtd's libvirt socket. DIR holds fw.xml (a firmware-only VM named
py-fw), tx.xml (the same, named py-tx), lin.xml (the Linux test guest,
py-lin) and kept.xml (py-kept); ROOT is the daemon's root, where the
guest's console log is. Every call the issue names is made and its answer
checked, lifecycle events included, on a connection with keepalive. Prints
`KEPT <uuid>` for the domain it leaves defined, then PY-OK; on a failed
check it raises, and the interpreter exits non-zero with the traceback.
"""
import os
import sys
import threading
import time

import libvirt

uri, d, root = sys.argv[1], sys.argv[2], sys.argv[3]
libvirt.registerErrorHandler(lambda *_: None, None)
libvirt.virEventRegisterDefaultImpl()


def loop():
    while True:
        libvirt.virEventRunDefaultImpl()


threading.Thread(target=loop, daemon=True).start()


def xml(name):
    with open(os.path.join(d, name)) as f:
        return f.read()


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
        time.sleep(0.02)


events = []
cv = threading.Condition()


def on_lifecycle(_conn, dom, event, detail, _opaque):
    with cv:
        events.append((dom.name(), event, detail))
        cv.notify_all()


def expect(name, event, detail, timeout=60):
    """Waits for the lifecycle event, and drops it and the ones before."""
    want = (name, event, detail)
    deadline = time.monotonic() + timeout
    with cv:
        while want not in events:
            left = deadline - time.monotonic()
            assert left > 0, f"no event {want}; got {events}"
            cv.wait(left)
        del events[: events.index(want) + 1]


E = libvirt
c = libvirt.open(uri)
assert c.setKeepAlive(1, 2) == 0
cid = c.domainEventRegisterAny(None, E.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_lifecycle, None)

# define, the ids, autostart
fw = c.defineXML(xml("fw.xml"))
expect("py-fw", E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED)
assert fw.name() == "py-fw"
assert fw.ID() == -1
assert fw.state()[0] == E.VIR_DOMAIN_SHUTOFF
assert fw.isPersistent() == 1 and fw.isActive() == 0
uuid = fw.UUIDString()
assert c.lookupByName("py-fw").UUIDString() == uuid
assert c.lookupByUUIDString(uuid).name() == "py-fw"
assert fw.setAutostart(1) == 0 and fw.autostart() == 1
assert fw.setAutostart(0) == 0 and fw.autostart() == 0

# create (start), info, state, lookups by id, lists
assert fw.create() == 0
expect("py-fw", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED)
assert fw.ID() > 0
assert c.lookupByID(fw.ID()).name() == "py-fw"
state, max_mem, mem, vcpus, _cpu = fw.info()
assert (state, max_mem, mem, vcpus) == (E.VIR_DOMAIN_RUNNING, 32768, 32768, 1), fw.info()
assert fw.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_BOOTED]
names = lambda flags: sorted(x.name() for x in c.listAllDomains(flags))  # noqa: E731
assert "py-fw" in names(0)
assert "py-fw" in names(E.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
assert "py-fw" not in names(E.VIR_CONNECT_LIST_DOMAINS_INACTIVE)
live = fw.XMLDesc(0)
assert "<name>py-fw</name>" in live and uuid in live
assert "<name>py-fw</name>" in fw.XMLDesc(E.VIR_DOMAIN_XML_INACTIVE)

# suspend, resume
assert fw.suspend() == 0
expect("py-fw", E.VIR_DOMAIN_EVENT_SUSPENDED, E.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED)
assert fw.state() == [E.VIR_DOMAIN_PAUSED, E.VIR_DOMAIN_PAUSED_USER]
assert fw.resume() == 0
expect("py-fw", E.VIR_DOMAIN_EVENT_RESUMED, E.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED)

# save, restore
image = os.path.join(d, "py-fw.save")
assert fw.save(image) == 0
expect("py-fw", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SAVED)
assert fw.state() == [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_SAVED]
assert os.path.getsize(image) > 0
assert c.restore(image) == 0
expect("py-fw", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_RESTORED)
assert fw.state() == [E.VIR_DOMAIN_RUNNING, E.VIR_DOMAIN_RUNNING_RESTORED]

# destroy, undefine
assert fw.destroy() == 0
expect("py-fw", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)
assert fw.state() == [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_DESTROYED]
assert fw.undefine() == 0
expect("py-fw", E.VIR_DOMAIN_EVENT_UNDEFINED, E.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)
assert code_of(lambda: c.lookupByName("py-fw")) == E.VIR_ERR_NO_DOMAIN

# createXML: a transient domain, gone once destroyed
tx = c.createXML(xml("tx.xml"), 0)
expect("py-tx", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED)
assert tx.isPersistent() == 0 and tx.isActive() == 1
assert tx.destroy() == 0
expect("py-tx", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)
assert code_of(lambda: c.lookupByName("py-tx")) == E.VIR_ERR_NO_DOMAIN

# createXML with AUTODESTROY on a second connection: destroyed (and so
# gone, being transient) when that connection closes
c2 = libvirt.open(uri)
t2 = c2.createXML(xml("tx.xml"), E.VIR_DOMAIN_START_AUTODESTROY)
expect("py-tx", E.VIR_DOMAIN_EVENT_STARTED, E.VIR_DOMAIN_EVENT_STARTED_BOOTED)
assert c.lookupByName("py-tx").isActive() == 1
del t2
c2.close()
expect("py-tx", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)
assert code_of(lambda: c.lookupByName("py-tx")) == E.VIR_ERR_NO_DOMAIN

# errors carry libvirt's codes
assert code_of(lambda: c.defineXML("<domain type='qemu'>")) == E.VIR_ERR_XML_ERROR
kept = c.defineXML(xml("kept.xml"))
assert code_of(lambda: kept.suspend()) == E.VIR_ERR_OPERATION_INVALID

# the Linux guest: ACPI shutdown, then undefineFlags
lin = c.defineXML(xml("lin.xml"))
assert lin.create() == 0
log = os.path.join(root, "log", "console", "py-lin.log")


def ready():
    try:
        with open(log, "rb") as f:
            return b"QVIRT-GUEST-READY" in f.read()
    except FileNotFoundError:
        return False


wait("the guest to boot", ready, 240)
assert lin.shutdown() == 0
expect("py-lin", E.VIR_DOMAIN_EVENT_STOPPED, E.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN, 240)
assert lin.state() == [E.VIR_DOMAIN_SHUTOFF, E.VIR_DOMAIN_SHUTOFF_SHUTDOWN]
assert lin.undefineFlags(E.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE) == 0
expect("py-lin", E.VIR_DOMAIN_EVENT_UNDEFINED, E.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)

# a read-only connection reads, and neither changes anything nor sees secrets
ro = libvirt.openReadOnly(uri)
assert "py-kept" in [x.name() for x in ro.listAllDomains(0)]
rk = ro.lookupByName("py-kept")
assert rk.info()[0] == E.VIR_DOMAIN_SHUTOFF
assert "<name>py-kept</name>" in rk.XMLDesc(0)
denied = E.VIR_ERR_OPERATION_DENIED
assert code_of(lambda: rk.XMLDesc(E.VIR_DOMAIN_XML_SECURE)) == denied
assert code_of(lambda: rk.create()) == denied
assert code_of(lambda: rk.setAutostart(1)) == denied
assert code_of(lambda: ro.defineXML(xml("tx.xml"))) == denied
del rk
assert ro.close() == 0, "no reference left to the read-only connection"

# keepalive: the client pings every second and gives up after two
# unanswered PINGs; idle longer than that, the connection must live on.
deadline = time.monotonic() + 4
while time.monotonic() < deadline:
    time.sleep(0.1)
assert c.isAlive() == 1
assert kept.setAutostart(1) == 0
print("KEPT", kept.UUIDString())
c.domainEventDeregisterAny(cid)  # raises on failure
# close answers how many references (domain objects) still hold it.
assert c.close() >= 0
print("PY-OK")
