#!/usr/bin/python3
"""secrets.py URI RO_URI — a python3-libvirt program that makes every
secret call qvirt serves, and checks each answer, against the daemon at
URI (read-write) and RO_URI (its read-only socket): a persistent iSCSI
secret and an ephemeral, private Ceph one defined, looked up by UUID and
by usage, listed the old way (UUIDs) and the new (objects, with the
ephemeral and private filters), described, given values with NUL bytes
in them and read back (the private one's refused, code 65), redefined,
refused on the read-only connection, and a secret of usage `none`
defined and undefined. Leaves the two secrets defined, with their values.

Run by tests/libvirt_secrets.rs. Prints `PERSISTENT <uuid>` and
`EPHEMERAL <uuid>`, then PY-SECRETS-OK; a failed check raises, and the
interpreter exits non-zero with the traceback.
"""
import sys

import libvirt

uri, ro_uri = sys.argv[1], sys.argv[2]
libvirt.registerErrorHandler(lambda *_: None, None)
conn = libvirt.open(uri)


def error_of(call):
    """The libvirt error `call` fails with (it must fail): (code, domain,
    message)."""
    try:
        call()
    except libvirt.libvirtError as e:
        return e.get_error_code(), e.get_error_domain(), e.get_error_message()
    raise AssertionError("expected an error")


assert conn.numOfSecrets() == 0
assert conn.listSecrets() == []
assert conn.listAllSecrets() == []

iscsi = conn.secretDefineXML(
    "<secret ephemeral='no' private='no'><description>CHAP</description>"
    "<usage type='iscsi'><target>target</target></usage></secret>"
)
assert iscsi.usageType() == libvirt.VIR_SECRET_USAGE_TYPE_ISCSI
assert iscsi.usageID() == "target"
uuid = iscsi.UUIDString()
assert iscsi.UUID() == bytes.fromhex(uuid.replace("-", ""))

ceph = conn.secretDefineXML(
    "<secret ephemeral='yes' private='yes'>"
    "<usage type='ceph'><name>client.admin</name></usage></secret>"
)
assert ceph.usageType() == libvirt.VIR_SECRET_USAGE_TYPE_CEPH
assert ceph.usageID() == "client.admin"

# Lookups: by UUID (as a string and as bytes) and by usage.
assert conn.secretLookupByUUIDString(uuid).UUIDString() == uuid
assert conn.secretLookupByUUID(iscsi.UUID()).usageID() == "target"
found = conn.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_ISCSI, "target")
assert found.UUIDString() == uuid
assert found.usageType() == libvirt.VIR_SECRET_USAGE_TYPE_ISCSI
assert found.usageID() == "target"
by_ceph = conn.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_CEPH, "client.admin")
assert by_ceph.UUIDString() == ceph.UUIDString()

# What is not there: VIR_ERR_NO_SECRET (66) from VIR_FROM_SECRET (30).
missing = "00000000-0000-4000-8000-000000000001"
code, domain, message = error_of(lambda: conn.secretLookupByUUIDString(missing))
assert (code, domain) == (libvirt.VIR_ERR_NO_SECRET, libvirt.VIR_FROM_SECRET), (code, domain)
assert code == 66
assert message == "Secret not found: no secret with matching uuid '%s'" % missing, message
code, _, message = error_of(
    lambda: conn.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_ISCSI, "other")
)
assert code == 66 and "matching usage 'other'" in message, message
# The right ID under another usage type finds nothing either.
code, _, _ = error_of(
    lambda: conn.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_CEPH, "target")
)
assert code == 66

# Lists: the old way (UUIDs) and the new, with each filter.
assert conn.numOfSecrets() == 2
assert sorted(conn.listSecrets()) == sorted([uuid, ceph.UUIDString()])


def listed(flags=0):
    return sorted(s.UUIDString() for s in conn.listAllSecrets(flags))


both = sorted([uuid, ceph.UUIDString()])
assert listed() == both
assert listed(libvirt.VIR_CONNECT_LIST_SECRETS_EPHEMERAL) == [ceph.UUIDString()]
assert listed(libvirt.VIR_CONNECT_LIST_SECRETS_NO_EPHEMERAL) == [uuid]
assert listed(libvirt.VIR_CONNECT_LIST_SECRETS_PRIVATE) == [ceph.UUIDString()]
assert listed(libvirt.VIR_CONNECT_LIST_SECRETS_NO_PRIVATE) == [uuid]
assert (
    listed(
        libvirt.VIR_CONNECT_LIST_SECRETS_EPHEMERAL
        | libvirt.VIR_CONNECT_LIST_SECRETS_NO_EPHEMERAL
    )
    == both
)
assert (
    listed(
        libvirt.VIR_CONNECT_LIST_SECRETS_NO_EPHEMERAL
        | libvirt.VIR_CONNECT_LIST_SECRETS_PRIVATE
    )
    == []
)
code, _, message = error_of(lambda: conn.listAllSecrets(1 << 4))
assert code == libvirt.VIR_ERR_INVALID_ARG and "unsupported flags" in message, message

# The document: what it is for, never a value.
xml = iscsi.XMLDesc()
assert "<uuid>%s</uuid>" % uuid in xml, xml
assert "<target>target</target>" in xml and "<description>CHAP</description>" in xml, xml

# Values: no value yet is "not found"; bytes with NULs come back whole.
code, _, message = error_of(iscsi.value)
assert code == 66 and "does not have a value" in message, message
value = b"\x00pass\x00word\x00"
assert iscsi.setValue(value) == 0
assert iscsi.value() == value
assert ceph.setValue(b"\x01\x00\x02") == 0
# A private secret's value is never given out: VIR_ERR_INVALID_SECRET.
code, domain, message = error_of(ceph.value)
assert (code, domain) == (libvirt.VIR_ERR_INVALID_SECRET, libvirt.VIR_FROM_SECRET), (code, domain)
assert message == "Invalid secret: secret is private", message
# libvirt's largest value, and one byte more.
big = bytes(range(256)) * 256
assert iscsi.setValue(big) == 0 and iscsi.value() == big
try:
    iscsi.setValue(big + b"x")
    raise AssertionError("a value over 64 KiB was taken")
except libvirt.libvirtError:
    pass
assert iscsi.setValue(value) == 0

# A redefinition keeps the value; another usage for the UUID is refused.
conn.secretDefineXML(
    "<secret ephemeral='no' private='no'><uuid>%s</uuid>"
    "<usage type='iscsi'><target>target</target></usage></secret>" % uuid
)
assert iscsi.value() == value
assert "<description>" not in iscsi.XMLDesc()
code, _, _ = error_of(
    lambda: conn.secretDefineXML(
        "<secret><uuid>%s</uuid><usage type='iscsi'><target>t2</target></usage></secret>"
        % uuid
    )
)
assert code == libvirt.VIR_ERR_OPERATION_INVALID, code

# A secret of usage none: its usage ID is empty.
plain = conn.secretDefineXML("<secret><usage type='none'/></secret>")
assert plain.usageType() == libvirt.VIR_SECRET_USAGE_TYPE_NONE
assert plain.usageID() == ""
assert plain.undefine() == 0
code, _, _ = error_of(plain.XMLDesc)
assert code == 66
assert conn.numOfSecrets() == 2

# The read-only socket: lists and documents, never a value or a change.
ro = libvirt.open(ro_uri)
ro_iscsi = ro.secretLookupByUUIDString(uuid)
assert ro_iscsi.XMLDesc() == iscsi.XMLDesc()
assert sorted(s.UUIDString() for s in ro.listAllSecrets()) == both
for call in (
    ro_iscsi.value,
    lambda: ro_iscsi.setValue(b"x"),
    ro_iscsi.undefine,
    lambda: ro.secretDefineXML("<secret><usage type='none'/></secret>"),
):
    code, _, message = error_of(call)
    assert code == libvirt.VIR_ERR_OPERATION_DENIED, (code, message)
    assert "read only access prevents" in message, message
ro.close()
assert iscsi.value() == value

print("PERSISTENT %s" % uuid)
print("EPHEMERAL %s" % ceph.UUIDString())
conn.close()
print("PY-SECRETS-OK")
