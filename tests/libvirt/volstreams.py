#!/usr/bin/python3
"""volstreams.py URI — a python3-libvirt program that moves the bytes of
the 2 MiB raw volume `v.raw` of the pool `default` both ways with
libvirt's streams: `virStorageVolUpload` fed by `virStreamSendAll`,
`virStorageVolDownload` drained by `virStreamRecvAll` and by
`virStreamRecv`, an upload it aborts, an offset past the end, and a
sparse upload and download (`sparseSendAll`, `sparseRecvAll`). It
leaves the volume holding its pattern, prints PY-VOLSTREAMS-OK; a failed
check raises, and the interpreter exits non-zero with the traceback.

Run by tests/libvirt_volstreams.rs against qvirtd.
"""
import sys

import libvirt

uri = sys.argv[1]
libvirt.registerErrorHandler(lambda *_: None, None)
SIZE = 2 * 1024 * 1024
# The pattern tests/libvirt_volstreams.rs checks on disk.
data = bytes(((i * 2654435761) % (1 << 32) >> 13) & 0xFF for i in range(SIZE))

conn = libvirt.open(uri)
vol = conn.storagePoolLookupByName("default").storageVolLookupByName("v.raw")


def upload(offset, payload):
    st = conn.newStream(0)
    vol.upload(st, offset, len(payload), 0)
    pos = [0]

    def source(_st, nbytes, _opaque):
        chunk = payload[pos[0]:pos[0] + nbytes]
        pos[0] += len(chunk)
        return chunk

    st.sendAll(source, None)
    st.finish()


def download(offset, length):
    st = conn.newStream(0)
    vol.download(st, offset, length, 0)
    got = []

    def sink(_st, buf, _opaque):
        got.append(buf)
        return len(buf)

    st.recvAll(sink, None)
    st.finish()
    return b"".join(got)


# A first pattern, read back whole and in part.
first = bytes(reversed(data))
upload(0, first)
assert download(0, 0) == first, "the download is the upload"
assert download(100, 1000) == first[100:1100]

# virStreamRecv by hand, to its end.
st = conn.newStream(0)
vol.download(st, SIZE - 70000, 0, 0)
got = b""
while True:
    buf = st.recv(65536)
    if not buf:
        break
    got += buf
st.finish()
assert got == first[-70000:], "recv to the end"

# An upload aborted half-way is confirmed, and the volume serves on.
st = conn.newStream(0)
vol.upload(st, 0, 0, 0)
st.send(b"\0" * 1000)
st.abort()

# An offset past the end is libvirt's invalid argument.
st = conn.newStream(0)
try:
    vol.upload(st, SIZE + 1, 0, 0)
    raise AssertionError("an upload past the end was accepted")
except libvirt.libvirtError as e:
    assert e.get_error_code() == libvirt.VIR_ERR_INVALID_ARG, e

# Sparse streams: 64 KiB of data, then a hole to the end, sent with
# sparseSendAll and read back with sparseRecvAll, holes told apart.
DATA = 65536
sections = [(True, DATA), (False, SIZE - DATA)]
at = [0, 0]  # section, bytes of it done


def in_data(_st, _opaque):
    while at[0] < len(sections) and at[1] == sections[at[0]][1]:
        at[0] += 1
        at[1] = 0
    if at[0] == len(sections):
        return (True, 0)
    kind, length = sections[at[0]]
    return (kind, length - at[1])


def give(_st, nbytes, _opaque):
    chunk = data[at[1]:at[1] + nbytes] if at[0] == 0 else b""
    at[1] += len(chunk)
    return chunk


def skip(_st, length, _opaque):
    at[1] += length
    return 0


st = conn.newStream(0)
vol.upload(st, 0, 0, libvirt.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM)
st.sparseSendAll(give, in_data, skip, None)
st.finish()

got, holes = [], []
st = conn.newStream(0)
vol.download(st, 0, 0, libvirt.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM)
st.sparseRecvAll(lambda _st, buf, _o: got.append(buf) or 0,
                 lambda _st, length, _o: holes.append(length) or got.append(b"\0" * length) or 0,
                 None)
st.finish()
assert b"".join(got) == data[:DATA] + b"\0" * (SIZE - DATA), "sparse round trip"
assert sum(holes) >= SIZE - DATA - 4096, holes

upload(0, data)
assert download(0, 0) == data
print("PY-VOLSTREAMS-OK")
