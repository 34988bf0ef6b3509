#!/usr/bin/env bash
# smoke.sh: boot the test guest built by build-guest.sh under QEMU (TCG) and
# check that it works. Meant to be run by hand after changing the guest.
#
# Usage: tests/guest/smoke.sh [GUEST_DIR]
#   GUEST_DIR defaults to ${QVIRT_GUEST_DIR:-$HOME/.cache/qvirt/test-guest-6}.
#   QEMU=/path/to/qemu-system-x86_64 overrides the emulator.
#
# Checks:
#   1. the guest boots and prints QVIRT-GUEST-READY on the serial port
#      (the time from starting QEMU to the marker is printed);
#   2. QMP system_powerdown (ACPI power button) makes the guest power off,
#      and QEMU exits by itself;
#   3. with "guestnet" and user networking + e1000, an HTTP GET to a host
#      port forwarded to the guest's port 80 returns qvirt-guest-http-ok.
#
# Needs only bash, coreutils and QEMU: QMP and HTTP are spoken over
# loopback TCP through bash's /dev/tcp. Every wait is bounded; QEMU is
# killed on exit. Exits non-zero if any check fails.

set -euo pipefail

GUEST=${1:-${QVIRT_GUEST_DIR:-$HOME/.cache/qvirt/test-guest-6}}
QEMU=${QEMU:-qemu-system-x86_64}
MARKER=QVIRT-GUEST-READY
BOOT_TIMEOUT=60        # s, QEMU start -> marker (TCG on a loaded host)
POWERDOWN_TIMEOUT=15   # s, system_powerdown -> QEMU exit
HTTP_TIMEOUT=20        # s, retrying the GET until the guest answers

for f in vmlinux initrd.img; do
    [[ -s $GUEST/$f ]] || {
        echo "smoke.sh: $GUEST/$f missing; run tests/guest/build-guest.sh" >&2
        exit 2
    }
done
command -v "$QEMU" >/dev/null || { echo "smoke.sh: $QEMU not found" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/qvirt-smoke.XXXXXX")
QEMU_PID=
cleanup_qemu() { # kill the QEMU we started, if it still runs
    if [[ -n $QEMU_PID ]]; then
        kill "$QEMU_PID" 2>/dev/null || true
        wait "$QEMU_PID" 2>/dev/null || true
        QEMU_PID=
    fi
}
cleanup() {
    cleanup_qemu
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASSED=0 FAILED=0
pass() { echo "PASS: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
now() { date +%s%N; }
ms_since() { echo $((($(now) - $1) / 1000000)); }

# A loopback TCP port nobody listens on right now.
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# start_qemu LOG QMP_PORT APPEND [EXTRA QEMU ARGS...]
start_qemu() {
    local log=$1 qmp=$2 append=$3
    shift 3
    : >"$log"
    "$QEMU" -machine pc,accel=tcg -m 128 -nodefaults -no-user-config \
        -display none -no-reboot \
        -kernel "$GUEST/vmlinux" -initrd "$GUEST/initrd.img" \
        -append "console=ttyS0 panic=-1 $append" \
        -serial "file:$log" \
        -qmp "tcp:127.0.0.1:$qmp,server=on,wait=off" \
        "$@" >"$log.qemu" 2>&1 &
    QEMU_PID=$!
    STARTED=$(now)
}

# wait_marker LOG: wait for the marker; prints the milliseconds it took.
wait_marker() {
    local deadline=$((SECONDS + BOOT_TIMEOUT))
    while ((SECONDS < deadline)); do
        if grep -q "^$MARKER" "$1"; then
            ms_since "$STARTED"
            return 0
        fi
        kill -0 "$QEMU_PID" 2>/dev/null || return 1
        sleep 0.02
    done
    return 1
}

# qmp PORT COMMAND...: run QMP commands (no arguments), one reply each.
qmp() {
    local port=$1 line cmd
    shift
    exec 5<>"/dev/tcp/127.0.0.1/$port" || return 1
    read -r -t 10 line <&5 || return 1                # greeting
    for cmd in qmp_capabilities "$@"; do
        printf '{"execute":"%s"}\n' "$cmd" >&5
        while read -r -t 10 line <&5 2>/dev/null; do  # skip async events
            [[ $line == *'"return"'* ]] && continue 2
            [[ $line == *'"error"'* ]] && { echo "$line" >&2; break; }
        done
        exec 5<&-
        return 1
    done
    exec 5<&-
}

# wait_exit SECONDS: wait for QEMU to exit by itself.
wait_exit() {
    local deadline=$((SECONDS + $1))
    while kill -0 "$QEMU_PID" 2>/dev/null; do
        ((SECONDS < deadline)) || return 1
        sleep 0.05
    done
    wait "$QEMU_PID" 2>/dev/null || true
    QEMU_PID=
}

# Why wait_marker failed.
no_marker() {
    if kill -0 "$QEMU_PID" 2>/dev/null; then
        echo "no $MARKER within ${BOOT_TIMEOUT} s"
    else
        echo "QEMU exited before $MARKER (guest panic or QEMU error)"
    fi
}

show_log() { echo "--- serial log (tail) ---"; tail -n 20 "$1"; cat "$1.qemu"; }

# -- 1 + 2: boot, then ACPI power button --------------------------------------
LOG=$WORK/boot.log
QMP_PORT=$(free_port)
start_qemu "$LOG" "$QMP_PORT" ""
if ms=$(wait_marker "$LOG"); then
    pass "boot: $MARKER after ${ms} ms"
    t0=$(now)
    if ! qmp "$QMP_PORT" system_powerdown; then
        fail "powerdown: QMP system_powerdown failed"
    elif wait_exit "$POWERDOWN_TIMEOUT"; then
        pass "powerdown: QEMU exited $(ms_since "$t0") ms after system_powerdown"
    else
        fail "powerdown: QEMU still running ${POWERDOWN_TIMEOUT} s after system_powerdown"
        show_log "$LOG"
    fi
else
    fail "boot: $(no_marker)"
    fail "powerdown: not tried (no boot)"
    show_log "$LOG"
fi
cleanup_qemu

# -- 3: network + HTTP ---------------------------------------------------------
LOG=$WORK/net.log
QMP_PORT=$(free_port)
HTTP_PORT=$(free_port)
start_qemu "$LOG" "$QMP_PORT" guestnet \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$HTTP_PORT-:80" \
    -device e1000,netdev=n0
if ms=$(wait_marker "$LOG"); then
    body=
    t0=$(now)
    deadline=$((SECONDS + HTTP_TIMEOUT))
    while ((SECONDS < deadline)); do
        body=$( (exec 4<>"/dev/tcp/127.0.0.1/$HTTP_PORT" &&
            printf 'GET / HTTP/1.0\r\nHost: guest\r\n\r\n' >&4 &&
            timeout 5 cat <&4) 2>/dev/null || true)
        [[ $body == *qvirt-guest-http-ok* ]] && break
        sleep 0.2
    done
    if [[ $body == *qvirt-guest-http-ok* ]]; then
        pass "http: GET 127.0.0.1:$HTTP_PORT -> guest:80 returned qvirt-guest-http-ok $(ms_since "$t0") ms after the marker (marker after ${ms} ms)"
    else
        fail "http: no qvirt-guest-http-ok from 127.0.0.1:$HTTP_PORT within ${HTTP_TIMEOUT} s"
        show_log "$LOG"
    fi
    t0=$(now)
    qmp "$QMP_PORT" quit || true
    wait_exit 10 || true
    echo "(quit took $(ms_since "$t0") ms)"
else
    fail "http: $(no_marker)"
    show_log "$LOG"
fi
cleanup_qemu

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
