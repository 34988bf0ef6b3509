#!/usr/bin/python3
"""storage.py URI DIR — a python3-libvirt program that makes every storage
pool and volume call qvirt serves, and checks each answer, against the
daemon at URI: a directory pool `pyst` at DIR/pool (DIR must exist and
DIR/pool must not), defined, built, started, listed the old way (names)
and the new (objects), its volumes made (a qcow2 image with lazy
refcounts and its metadata preallocated, as virt-install makes them),
looked up by name, key and path, inspected, resized, cloned and deleted,
then the pool stopped and undefined. Leaves nothing defined.

Run by tests/libvirt_storage.rs against qvirtd, and by
scripts/libvirt-storage-capture.sh against a real libvirtd 9.0 to record
the messages for the XDR tests: what it checks holds for both. Prints
`POOL <uuid>` for the pool it made, then PY-STORAGE-OK; a failed check
raises, and the interpreter exits non-zero with the traceback.
"""
import os
import sys

import libvirt

uri, work = sys.argv[1], sys.argv[2]
libvirt.registerErrorHandler(lambda *_: None, None)
MIB = 1024 * 1024
target = os.path.join(work, "pool")
conn = libvirt.open(uri)


def code_of(call):
    """The libvirt error code `call` fails with (it must fail)."""
    try:
        call()
    except libvirt.libvirtError as e:
        return e.get_error_code()
    raise AssertionError("expected an error")


active_before = conn.numOfStoragePools()
defined_before = conn.numOfDefinedStoragePools()
pool = conn.storagePoolDefineXML(
    f"<pool type='dir'><name>pyst</name><target><path>{target}</path></target></pool>", 0
)
print("POOL", pool.UUIDString())
assert not pool.isActive() and pool.isPersistent()
assert "pyst" in conn.listDefinedStoragePools(), conn.listDefinedStoragePools()
assert conn.numOfDefinedStoragePools() == defined_before + 1
pool.build(0)
assert os.path.isdir(target)
pool.create(0)
pool.setAutostart(1)
assert pool.isActive() and pool.autostart() == 1
assert "pyst" in conn.listStoragePools() and conn.numOfStoragePools() == active_before + 1
assert "pyst" not in conn.listDefinedStoragePools()
assert conn.storagePoolLookupByUUID(pool.UUID()).name() == "pyst"
assert conn.storagePoolLookupByName("pyst").UUIDString() == pool.UUIDString()
state, capacity, allocation, available = pool.info()
assert state == libvirt.VIR_STORAGE_POOL_RUNNING and capacity > 0 and available <= capacity
F = libvirt
running_dirs = F.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE | F.VIR_CONNECT_LIST_STORAGE_POOLS_DIR
assert "pyst" in [p.name() for p in conn.listAllStoragePools(running_dirs)]
assert "pyst" not in [
    p.name() for p in conn.listAllStoragePools(F.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE)
]
assert conn.listAllStoragePools(F.VIR_CONNECT_LIST_STORAGE_POOLS_LOGICAL) == []
assert f"<path>{target}</path>" in pool.XMLDesc(0)
assert f"<path>{target}</path>" in pool.XMLDesc(F.VIR_STORAGE_XML_INACTIVE)
pool.refresh(0)

vol = pool.createXML(
    "<volume><name>a.qcow2</name><capacity unit='MiB'>16</capacity><allocation>0</allocation>"
    "<target><format type='qcow2'/><features><lazy_refcounts/></features></target></volume>",
    F.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA,
)
path = os.path.join(target, "a.qcow2")
assert vol.path() == path and vol.key() == path, (vol.path(), vol.key())
assert os.path.getsize(path) > 16 * MIB, "metadata for all 16 MiB"
assert pool.numOfVolumes() == 1 and pool.listVolumes() == ["a.qcow2"]
assert [v.name() for v in pool.listAllVolumes(0)] == ["a.qcow2"]
assert pool.storageVolLookupByName("a.qcow2").key() == path
assert conn.storageVolLookupByKey(path).name() == "a.qcow2"
assert conn.storageVolLookupByPath(path).name() == "a.qcow2"
assert vol.storagePoolLookupByVolume().name() == "pyst"
kind, capacity, allocation = vol.info()
assert kind == F.VIR_STORAGE_VOL_FILE and capacity == 16 * MIB, vol.info()
physical = vol.infoFlags(F.VIR_STORAGE_VOL_GET_PHYSICAL)[2]
assert physical == os.path.getsize(path), (physical, os.path.getsize(path))
xml = vol.XMLDesc(0)
assert "<lazy_refcounts/>" in xml and "<format type='qcow2'/>" in xml, xml
vol.resize(32 * MIB, 0)
assert vol.info()[1] == 32 * MIB
copy = pool.createXMLFrom(
    "<volume><name>b.qcow2</name><capacity>0</capacity>"
    "<target><format type='qcow2'/></target></volume>",
    vol,
    0,
)
assert copy.info()[1] == 32 * MIB and sorted(pool.listVolumes()) == ["a.qcow2", "b.qcow2"]

# What does not exist is libvirt's "not found" for its kind.
assert code_of(lambda: conn.storagePoolLookupByName("nope")) == F.VIR_ERR_NO_STORAGE_POOL
assert code_of(lambda: pool.storageVolLookupByName("nope")) == F.VIR_ERR_NO_STORAGE_VOL
assert code_of(lambda: conn.storageVolLookupByPath("/nowhere/x")) == F.VIR_ERR_NO_STORAGE_VOL

copy.delete(0)
vol.delete(0)
assert pool.listVolumes() == [] and not os.path.exists(path)
pool.setAutostart(0)
pool.destroy()
assert not pool.isActive()
pool.undefine()
assert code_of(lambda: conn.storagePoolLookupByName("pyst")) == F.VIR_ERR_NO_STORAGE_POOL
conn.close()
print("PY-STORAGE-OK")
