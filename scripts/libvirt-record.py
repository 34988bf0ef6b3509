#!/usr/bin/python3
"""libvirt-record.py LISTEN TARGET OUT — a recording proxy for libvirt's RPC.

Listens on the UNIX socket LISTEN, connects each client to TARGET, copies
the bytes both ways unchanged, and appends every whole message to OUT as a
line `c HEX` (client to daemon) or `d HEX` (daemon to client), hex of the
message with its length word. Connections are recorded one after the
other as they interleave; a line `# connection N` opens each. Stops on
SIGTERM. Used by scripts/libvirt-capture.sh to record real clients and a
real libvirtd for the golden tests of qvirt's XDR codec.
"""
import os
import signal
import socket
import struct
import sys
import threading

listen, target, out = sys.argv[1:4]
lock = threading.Lock()
log = open(out, "a", buffering=1)


def record(tag, msg):
    with lock:
        log.write(f"{tag} {msg.hex()}\n")


def pump(src, dst, tag):
    buf = b""
    while True:
        try:
            data = src.recv(1 << 16)
        except OSError:
            data = b""
        if not data:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            return
        dst.sendall(data)
        buf += data
        while len(buf) >= 4:
            (n,) = struct.unpack(">I", buf[:4])
            if len(buf) < n:
                break
            record(tag, buf[:n])
            buf = buf[n:]


def main():
    if os.path.exists(listen):
        os.unlink(listen)
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(listen)
    srv.listen(16)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    n = 0
    while True:
        client, _ = srv.accept()
        daemon = socket.socket(socket.AF_UNIX)
        daemon.connect(target)
        n += 1
        with lock:
            log.write(f"# connection {n}\n")
        threading.Thread(target=pump, args=(client, daemon, "c"), daemon=True).start()
        threading.Thread(target=pump, args=(daemon, client, "d"), daemon=True).start()


main()
