#!/usr/bin/python3
"""libvirt-session.py URI WORKDIR — drives a libvirt daemon at URI with the
calls qvirt serves, through virsh and python3-libvirt, so that
scripts/libvirt-capture.sh can record the messages real clients and a real
daemon exchange. Uses a firmware-only domain (no disk: it sits in the
BIOS) with a cdrom drive and a VNC display; leaves nothing defined.
"""
import os
import subprocess
import sys
import threading
import time

import libvirt

uri, work = sys.argv[1], sys.argv[2]
NAME = "rec-fw"
XML = f"""<domain type='qemu'>
  <name>{NAME}</name>
  <uuid>2f7d6c1e-5a4b-4c3d-8e9f-0a1b2c3d4e5f</uuid>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>
    <graphics type='vnc' port='-1'/>
    <video><model type='vga'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def virsh(*args, check=True):
    r = subprocess.run(["virsh", "-c", uri, *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"virsh {' '.join(args)} failed: {r.stderr}")
    return r.stdout


libvirt.registerErrorHandler(lambda *_: None, None)
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()

xml_path = os.path.join(work, "rec-fw.xml")
with open(xml_path, "w") as f:
    f.write(XML)
media = os.path.join(work, "media.iso")
with open(media, "wb") as f:
    f.truncate(1 << 20)

# Events and keepalive over one connection, for the whole session.
events = libvirt.open(uri)
events.setKeepAlive(1, 3)
seen = []
cb = events.domainEventRegisterAny(
    None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
    lambda _c, d, e, det, _o: seen.append((d.name(), e, det)), None)
cb2 = events.domainEventRegisterAny(
    None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, lambda _c, d, _o: seen.append((d.name(), "reboot")),
    None)

for args in (["uri"], ["version", "--daemon"], ["hostname"], ["nodeinfo"],
             ["define", xml_path], ["list", "--all"], ["list", "--inactive"],
             ["dominfo", NAME], ["domstate", "--reason", NAME], ["domuuid", NAME],
             ["dumpxml", "--inactive", NAME], ["start", NAME], ["domid", NAME],
             ["domname", "1"], ["list", "--state-running"], ["suspend", NAME],
             ["resume", NAME], ["domblklist", NAME], ["domiflist", NAME],
             ["change-media", NAME, "hdc", media, "--insert"],
             ["change-media", NAME, "hdc", "--eject"],
             ["screenshot", NAME, os.path.join(work, "shot.png")],
             ["reset", NAME], ["save", NAME, os.path.join(work, "rec.save")],
             ["restore", os.path.join(work, "rec.save")], ["managedsave", NAME],
             ["list", "--all", "--with-managed-save"], ["start", NAME],
             ["autostart", NAME], ["list", "--all", "--autostart"],
             ["autostart", "--disable", NAME], ["destroy", NAME], ["undefine", NAME],
             ["create", xml_path], ["destroy", NAME]):
    virsh(*args)
virsh("dominfo", "no-such-domain", check=False)

c = libvirt.open(uri)
ro = libvirt.openReadOnly(uri)
c.getCapabilities()
c.getLibVersion()
c.getVersion()
c.getType()
c.getHostname()
d = c.defineXML(XML)
c.listAllDomains(0)
c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)
d = c.lookupByName(NAME)
d.info()
d.state()
d.XMLDesc(0)
d.createWithFlags(0)
c.lookupByID(d.ID())
c.lookupByUUIDString(d.UUIDString())
d.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)
d.isActive()
d.isPersistent()
d.autostart()
d.hasManagedSaveImage()
d.save(os.path.join(work, "py.save"))
c.restore(os.path.join(work, "py.save"))
d = c.lookupByName(NAME)
d.shutdown()
d.destroy()
d.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
t = c.createXML(XML, 0)
c.listDomainsID()
c.numOfDomains()
t.destroy()
c.defineXML(XML).undefine()
c.listDefinedDomains()
c.numOfDefinedDomains()
ro.listAllDomains(0)
try:
    c.lookupByName("no-such-domain")
except libvirt.libvirtError:
    pass
try:
    ro.lookupByName(NAME)
except libvirt.libvirtError:
    pass
# Let the last events arrive.
time.sleep(2)
events.domainEventDeregisterAny(cb)
events.domainEventDeregisterAny(cb2)
for conn in (c, ro, events):
    conn.close()
print(f"{len(seen)} events seen", file=sys.stderr)
