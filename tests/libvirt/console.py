#!/usr/bin/python3
"""console.py URI NAME — drives `virsh -c URI console NAME` as a person at a
terminal would (virsh needs a terminal for its console): under a pseudo
terminal, waits for virsh to connect, presses Enter to get the guest's
prompt, types a command whose output is computed by the guest's shell,
checks the answer, leaves with Ctrl-], and prints CONSOLE-OK when virsh
exits cleanly. Every wait has a deadline; on failure it prints what it saw
and exits 1.
"""
import os
import pty
import select
import sys
import time

uri, name = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.environ["LC_ALL"] = "C"
    os.execvp("virsh", ["virsh", "-c", uri, "console", name])

seen = b""


def wait_for(marker, timeout):
    global seen
    deadline = time.time() + timeout
    while marker not in seen:
        left = deadline - time.time()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return marker in seen
            if not data:
                return marker in seen
            seen += data
    return True


def fail(what):
    print(f"console: {what}; saw:\n{seen.decode(errors='replace')[-2000:]}")
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    sys.exit(1)


if not wait_for(b"Escape character is", 30):
    fail("virsh did not connect")
# The prompt comes back on Enter; the guest may still be printing.
for _ in range(10):
    os.write(fd, b"\r")
    if wait_for(b"guest# ", 5):
        break
else:
    fail("no prompt")
os.write(fd, b"echo qvirt-$((6*7))\r")
if not wait_for(b"qvirt-42", 30):
    fail("no answer from the guest's shell")
os.write(fd, b"\x1d")
deadline = time.time() + 30
while time.time() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    wait_for(b"\0never\0", 0.2)
else:
    fail("virsh did not exit on Ctrl-]")
if os.waitstatus_to_exitcode(status) != 0:
    fail(f"virsh exited with {status}")
print("CONSOLE-OK")
