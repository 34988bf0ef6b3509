#!/usr/bin/python3
"""domain_events.py URI NAME — a python3-libvirt program that listens for
the tray change, block threshold and device added and removed events of
domain NAME. It prints READY once its callbacks are registered (the
calls have returned: the daemon has them), then one line per event:
`TRAY <alias> <reason>` (reason: libvirt's number, 0 open, 1 close),
`THRESHOLD <dev> <path> <threshold> <excess>`, `ADDED <alias>`,
`REMOVED <alias>`, `IOERROR <path> <alias> <action> <reason>`,
`RTC <offset>`, `BALLOON <KiB>`, `AGENT <state> <reason>`, `METADATA
<type> <uri>`, `WATCHDOG <action>`, `PM <event> <reason>` (event:
PMSUSPEND, PMSUSPEND_DISK, PMWAKEUP) or `GRAPHICS <phase> <family>:<node>:<service>
<family>:<node>:<service> <auth> <type>=<name>...`, and exits when its
standard input closes; `TUNABLE <name>=<value>...` (sorted by name),
`ITERATION <n>`, `MEMSIZE <alias> <KiB>` or `DISKCHANGE <alias> <old>
<new> <reason>`.
"""
import sys
import threading

import libvirt

uri, name = sys.argv[1], sys.argv[2]
libvirt.virEventRegisterDefaultImpl()


def loop():
    while True:
        libvirt.virEventRunDefaultImpl()


threading.Thread(target=loop, daemon=True).start()


def on_tray(_conn, dom, alias, reason, _opaque):
    assert dom.name() == name, dom.name()
    print(f"TRAY {alias} {reason}", flush=True)


def on_threshold(_conn, dom, dev, path, threshold, excess, _opaque):
    assert dom.name() == name, dom.name()
    print(f"THRESHOLD {dev} {path} {threshold} {excess}", flush=True)


def on_device(what):
    def callback(_conn, dom, alias, _opaque):
        assert dom.name() == name, dom.name()
        print(f"{what} {alias}", flush=True)

    return callback


def on_io_error(_conn, dom, path, alias, action, reason, _opaque):
    assert dom.name() == name, dom.name()
    print(f"IOERROR {path} {alias} {action} {reason}", flush=True)


c = libvirt.open(uri)
dom = c.lookupByName(name)
c.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_TRAY_CHANGE, on_tray, None)
c.domainEventRegisterAny(
    dom, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_THRESHOLD, on_threshold, None
)
for event, what in (
    (libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, "ADDED"),
    (libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, "REMOVED"),
):
    c.domainEventRegisterAny(dom, event, on_device(what), None)
c.domainEventRegisterAny(
    dom, libvirt.VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON, on_io_error, None
)
for event, callback in (
    (libvirt.VIR_DOMAIN_EVENT_ID_RTC_CHANGE,
     lambda _c, _d, offset, _o: print(f"RTC {offset}", flush=True)),
    (libvirt.VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE,
     lambda _c, _d, actual, _o: print(f"BALLOON {actual}", flush=True)),
    (libvirt.VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
     lambda _c, _d, state, reason, _o: print(f"AGENT {state} {reason}", flush=True)),
    (libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
     lambda _c, _d, kind, uri, _o: print(f"METADATA {kind} {uri}", flush=True)),
    (libvirt.VIR_DOMAIN_EVENT_ID_WATCHDOG,
     lambda _c, _d, action, _o: print(f"WATCHDOG {action}", flush=True)),
):
    c.domainEventRegisterAny(dom, event, callback, None)


def on_pm(what):
    def callback(_conn, dom, reason, _opaque):
        assert dom.name() == name, dom.name()
        print(f"PM {what} {reason}", flush=True)

    return callback


def on_graphics(_conn, dom, phase, local, remote, auth, subject, _opaque):
    assert dom.name() == name, dom.name()
    ends = " ".join(f"{a['family']}:{a['node']}:{a['service']}" for a in (local, remote))
    who = "".join(f" {kind}={who}" for kind, who in subject)
    print(f"GRAPHICS {phase} {ends} {auth}{who}", flush=True)


c.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_GRAPHICS, on_graphics, None)


def on_tunable(_conn, dom, params, _opaque):
    assert dom.name() == name, dom.name()
    print("TUNABLE " + " ".join(f"{k}={params[k]}" for k in sorted(params)), flush=True)


c.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_TUNABLE, on_tunable, None)
c.domainEventRegisterAny(
    dom,
    libvirt.VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
    lambda _c, _d, iteration, _o: print(f"ITERATION {iteration}", flush=True),
    None,
)
c.domainEventRegisterAny(
    dom,
    libvirt.VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE,
    lambda _c, _d, alias, size, _o: print(f"MEMSIZE {alias} {size}", flush=True),
    None,
)
c.domainEventRegisterAny(
    dom,
    libvirt.VIR_DOMAIN_EVENT_ID_DISK_CHANGE,
    lambda _c, _d, old, new, alias, reason, _o: print(
        f"DISKCHANGE {alias} {old} {new} {reason}", flush=True
    ),
    None,
)
for what in ("PMSUSPEND", "PMSUSPEND_DISK", "PMWAKEUP"):
    event = getattr(libvirt, f"VIR_DOMAIN_EVENT_ID_{what}")
    c.domainEventRegisterAny(dom, event, on_pm(what), None)
assert libvirt.VIR_DOMAIN_EVENT_WATCHDOG_PAUSE == 1
assert libvirt.VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED == 1
assert libvirt.VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_REASON_CHANNEL == 2
assert libvirt.VIR_DOMAIN_EVENT_IO_ERROR_PAUSE == 1
assert libvirt.VIR_DOMAIN_EVENT_TRAY_CHANGE_OPEN == 0
assert libvirt.VIR_DOMAIN_EVENT_TRAY_CHANGE_CLOSE == 1
print("READY", flush=True)
sys.stdin.read()
