#!/usr/bin/python3
"""trays.py URI NAME — a python3-libvirt program that listens for the tray
change events of domain NAME. It prints READY once its callback is
registered (the call has returned: the daemon has it), then one line
`TRAY <alias> <reason>` per event (reason: libvirt's number, 0 open,
1 close), and exits when its standard input closes.
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


c = libvirt.open(uri)
dom = c.lookupByName(name)
c.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_TRAY_CHANGE, on_tray, None)
assert libvirt.VIR_DOMAIN_EVENT_TRAY_CHANGE_OPEN == 0
assert libvirt.VIR_DOMAIN_EVENT_TRAY_CHANGE_CLOSE == 1
print("READY", flush=True)
sys.stdin.read()
