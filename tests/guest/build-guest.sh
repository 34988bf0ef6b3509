#!/usr/bin/env bash
# build-guest.sh: build qvirt's tiny Linux test guest from Debian packages.
#
# Usage: tests/guest/build-guest.sh [OUTDIR]
#
#   OUTDIR defaults to ${QVIRT_GUEST_DIR:-$HOME/.cache/qvirt/test-guest-6}. It
#   must lie outside the source tree (the kernel alone is ~70 MB).
#
# Produces in OUTDIR:
#   vmlinux     the uncompressed ELF kernel. It carries a Xen PVH entry note,
#               so `qemu-system-x86_64 -kernel vmlinux` boots it through the
#               PVH entry point, skipping the real-mode setup code and the
#               in-guest decompression (markedly faster under TCG).
#   vmlinuz     the same kernel as Debian ships it (bzImage), kept for
#               callers that want the classic Linux boot protocol.
#   initrd.img  a cpio (newc) initramfs: busybox, a few kernel modules from
#               the same kernel package, and an /init script (see below).
#   manifest    key=value lines: package names/versions, the sha256 of this
#               script, the modules included. Used to skip a rebuild.
#
# Prints OUTDIR on stdout when done; progress and errors go to stderr.
# A second run with the same package versions and an unchanged script exits
# at once (about a second, mostly apt-cache) without downloading anything.
#
# Boot the guest with, for example:
#   qemu-system-x86_64 -machine pc,accel=tcg -m 128 -nodefaults \
#     -no-user-config -display none -serial stdio \
#     -kernel OUTDIR/vmlinux -initrd OUTDIR/initrd.img -append 'console=ttyS0'
#
# Kernel command line words understood by the guest's /init:
#   guestnet            bring up eth0 with a static address and start an HTTP
#                       server on port 80 serving /www/index.html, whose body
#                       is "qvirt-guest-http-ok".
#   guestip=A.B.C.D/NN  eth0 address (default 10.0.2.15/24, QEMU user net)
#   guestgw=A.B.C.D     default gateway (default 10.0.2.2)
#   guestagent          load ext4 (for the agent's fsfreeze) and start the QEMU guest agent (qemu-ga)
#   guestusb            load the USB controller's driver and the FTDI serial driver (usb-serial ports)
#                       on the virtio port named org.qemu.guest_agent.0
#                       (/sbin/shutdown and /usr/sbin/chpasswd are small
#                       scripts over busybox for its shutdown and password
#                       commands)
# /init prints the line QVIRT-GUEST-READY on the console once the power
# button handler (and, with guestnet, the network and HTTP server) is up,
# then runs a shell (prompt "guest# ") on the console, in a loop.
#
# Requirements on the build host (Debian or a derivative, amd64):
#   apt-get, apt-cache     package lookup and download (the caller must have
#                          run `apt-get update`; no package is installed)
#   dpkg, dpkg-deb         unpack the .deb files
#   cpio                   GNU cpio, to write the initramfs
#   xz                     (xz-utils) to unpack the kernel image and modules
#   gzip                   to compress the initramfs when asked to
#   coreutils, GNU grep (-o -b -a -U), sed, awk, find, od
#   optional: flock (util-linux) serialises concurrent runs on one OUTDIR;
#             readelf (binutils) makes the PVH note check exact (without
#             it, grep -P looks for the note's raw bytes);
#             zstd, only if a future kernel ships .ko.zst modules.
#   python3 is not needed.
#
# Environment knobs:
#   QVIRT_GUEST_DIR           default OUTDIR
#   QVIRT_GUEST_KERNEL_PKG    a specific linux-image-* package to use instead
#                             of the one linux-image-amd64 depends on
#   QVIRT_GUEST_INITRD_GZIP=1 gzip the initramfs (default: uncompressed,
#                             ~2.8 MB; under TCG it boots at least as fast,
#                             as the guest need not inflate it)

set -euo pipefail

PROG=build-guest.sh
die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }

SCRIPT_PATH=$(readlink -f "${BASH_SOURCE[0]}")
SCRIPT_DIR=$(dirname "$SCRIPT_PATH")
OUT=${1:-${QVIRT_GUEST_DIR:-$HOME/.cache/qvirt/test-guest-6}}
KERNEL_META=linux-image-amd64
BUSYBOX_PKG=busybox-static
# The QEMU guest agent and the libraries it loads (its Depends, recursively:
# `apt-cache depends --recurse` lists the same); the loader of libc6 finds
# which of their files qemu-ga needs.
AGENT_PKG=qemu-guest-agent
AGENT_LIB_PKGS=(libc6 libgcc-s1 gcc-12-base libglib2.0-0 libnuma1 libudev1
                liburing2 libblkid1 libffi8 libmount1 libpcre2-8-0
                libselinux1 zlib1g)
INITRD_GZIP=${QVIRT_GUEST_INITRD_GZIP:-0}

# Kernel modules wanted in the initramfs, as "module:CONFIG_SYMBOL:need".
# A symbol set to =y is built into the kernel and needs no module; =m means
# the module (and whatever it depends on) is copied. "required" modules that
# are neither =y nor =m fail the build; "optional" ones only warn.
# Order matters: it is the load order (dependencies are inserted before).
WANTED_MODULES=(
    button:ACPI_BUTTON:required      # ACPI power button -> input event
    evdev:INPUT_EVDEV:required       # /dev/input/event*, read by acpid
    e1000:E1000:required             # QEMU's default NIC model on -M pc
    virtio_pci:VIRTIO_PCI:optional   # virtio transport for virtio-net-pci
    virtio_net:VIRTIO_NET:optional   # virtio-net (pulls in net_failover...)
    virtio_balloon:VIRTIO_BALLOON:optional  # follows the balloon target
    virtio_blk:VIRTIO_BLK:required   # virtio disks (/dev/vdX): storage tests
    virtio_scsi:SCSI_VIRTIO:required # virtio-scsi controllers
    sd_mod:BLK_DEV_SD:required       # SCSI disks (/dev/sdX): WWN, vendor, product
    qemu_fw_cfg:FW_CFG_SYSFS:required # QEMU's fw_cfg entries in sysfs
    virtiofs:VIRTIO_FS:required      # virtiofs shares (pulls in fuse)
    pvpanic_mmio:PVPANIC_MMIO:required  # ISA pvpanic (ACPI QEMU0001): guest panics reach the host
    9pnet_virtio:NET_9P_VIRTIO:required  # 9p shares over virtio
    9p:9P_FS:required                # the 9p file system
    virtio_console:VIRTIO_CONSOLE:required  # virtio-serial ports (/dev/vportNpM)
    virtio_rng:HW_RANDOM_VIRTIO:required  # virtio RNGs (/dev/hwrng), plugged in live
    i6300esb:I6300ESB_WDT:required   # <watchdog model='i6300esb'>: /dev/watchdog fires
    virtio_mem:VIRTIO_MEM:required   # virtio-mem: the guest plugs the memory requested
    virtio_input:VIRTIO_INPUT:required  # virtio keyboards, mice, tablets (/proc/bus/input/devices)
)
# Loaded by /init only with `guestagent`, so other guests do not change.
AGENT_MODULES=(
    crc32c_generic:CRYPTO_CRC32C:required  # ext4's checksums (a soft dependency)
    ext4:EXT4_FS:required            # a freezable file system (mke2fs + mount)
)
# Loaded by /init only with `guestusb`, so other guests do not change.
USB_MODULES=(
    uhci_hcd:USB_UHCI_HCD:required   # the pc machine's USB controller (piix3-usb-uhci)
    ftdi_sio:USB_SERIAL_FTDI_SIO:required  # QEMU's usb-serial, an FTDI adapter (/dev/ttyUSB0)
)

# --------------------------------------------------------------------------
# Preconditions.

for tool in apt-get apt-cache dpkg dpkg-deb cpio xz gzip sha256sum grep sed \
            awk find od tr head tail cut sort mktemp readlink; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' not found; install it (see the header of $SCRIPT_PATH)"
done

# Canonical path (readlink -m: the directory need not exist yet). It must
# not be inside the tree this script lives in (tests/guest/ -> repo root).
OUT=$(readlink -m "$OUT")
SRC_ROOT=$(readlink -f "$SCRIPT_DIR/../..")
case $OUT/ in
    "$SRC_ROOT"/*) die "output directory $OUT is inside the source tree" \
                       "$SRC_ROOT; use a cache directory outside it" ;;
esac
mkdir -p "$OUT" || die "cannot create output directory $OUT"

# Serialise concurrent builds into the same directory (e.g. parallel tests).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$OUT/.lock"
    flock 9 || die "cannot lock $OUT/.lock"
fi

# --------------------------------------------------------------------------
# Which packages would we use? (Local apt metadata only: no network.)

if [[ -n ${QVIRT_GUEST_KERNEL_PKG:-} ]]; then
    KPKG=$QVIRT_GUEST_KERNEL_PKG
else
    # linux-image-amd64 is a metapackage depending on the current ABI's
    # linux-image-X.Y.Z-N-amd64, the package with the kernel and modules.
    KPKG=$(apt-cache depends "$KERNEL_META" 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
    [[ -n $KPKG ]] ||
        die "cannot resolve the kernel package behind $KERNEL_META;" \
            "has 'apt-get update' been run?"
fi

# Candidate versions of both packages in one apt-cache call (each call
# loads the whole package cache, ~0.5 s).
declare -A CANDIDATE=()
while read -r pkg ver; do
    [[ $ver == "(none)" ]] || CANDIDATE[$pkg]=$ver
done < <(apt-cache policy "$KPKG" "$BUSYBOX_PKG" "$AGENT_PKG" "${AGENT_LIB_PKGS[@]}" \
    2>/dev/null | awk '
    /^[^ ]/ { pkg = $1; sub(/:$/, "", pkg) }
    $1 == "Candidate:" { print pkg, $2 }')

KVER=${CANDIDATE[$KPKG]:-}
[[ -n $KVER ]] ||
    die "no installable version of $KPKG; has 'apt-get update' been run?"

BVER=${CANDIDATE[$BUSYBOX_PKG]:-}
BB_INSTALLED=$(dpkg-query -W -f='${Status}|${Version}' "$BUSYBOX_PKG" \
    2>/dev/null || true)
if [[ -z $BVER ]]; then
    # Not downloadable (no apt lists); fall back to the installed copy.
    [[ $BB_INSTALLED == "install ok installed|"* ]] ||
        die "$BUSYBOX_PKG is neither downloadable nor installed;" \
            "has 'apt-get update' been run?"
    BVER=${BB_INSTALLED#*|}
fi

AVERS=
for p in "$AGENT_PKG" "${AGENT_LIB_PKGS[@]}"; do
    [[ -n ${CANDIDATE[$p]:-} ]] ||
        die "no installable version of $p; has 'apt-get update' been run?"
    AVERS+="$p=${CANDIDATE[$p]} "
done
AVERS=${AVERS% }

SCRIPT_SHA=$(sha256sum "$SCRIPT_PATH" | cut -d' ' -f1)

# --------------------------------------------------------------------------
# Up to date already?

manifest_get() { # KEY -> value from the existing manifest, or empty
    sed -n "s/^$1=//p" "$OUT/manifest" 2>/dev/null | head -n1
}

if [[ -s $OUT/manifest && -s $OUT/vmlinux && -s $OUT/vmlinuz &&
      -s $OUT/initrd.img &&
      $(manifest_get kernel_package) == "$KPKG" &&
      $(manifest_get kernel_version) == "$KVER" &&
      $(manifest_get busybox_version) == "$BVER" &&
      $(manifest_get agent_packages) == "$AVERS" &&
      $(manifest_get initrd_gzip) == "$INITRD_GZIP" &&
      $(manifest_get script_sha256) == "$SCRIPT_SHA" ]]; then
    log "up to date ($KPKG $KVER, $BUSYBOX_PKG $BVER)"
    echo "$OUT"
    exit 0
fi

log "building into $OUT ($KPKG $KVER, $BUSYBOX_PKG $BVER)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/qvirt-guest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$TMP/debs" "$TMP/kernel" "$TMP/busybox" "$TMP/root" "$TMP/out" \
         "$TMP/agent"

# apt-get download, quietly; the full log is shown only on failure.
# (As root, apt would warn that its sandbox user cannot write to our private
# temp dir and fall back to downloading unsandboxed; that is fine here.)
apt_download() { # PKG=VERSION...
    if ! (cd "$TMP/debs" && apt-get download "$@") >"$TMP/apt.log" 2>&1; then
        cat "$TMP/apt.log" >&2
        return 1
    fi
}

# --------------------------------------------------------------------------
# Kernel: download, unpack (no install), extract vmlinux.

apt_download "$KPKG=$KVER" || die "apt-get download $KPKG=$KVER failed"
KDEB=$(find "$TMP/debs" -maxdepth 1 -name "${KPKG}_*.deb" | head -n1)
[[ -n $KDEB ]] || die "apt-get download left no ${KPKG}_*.deb"
dpkg -x "$KDEB" "$TMP/kernel" || die "dpkg -x $KDEB failed"
rm -f "$KDEB"   # 70 MB we no longer need

VMLINUZ=$(find "$TMP/kernel/boot" -maxdepth 1 -name 'vmlinuz-*' | head -n1)
[[ -n $VMLINUZ ]] || die "$KPKG contains no /boot/vmlinuz-*"
KREL=${VMLINUZ##*/vmlinuz-}
KCONFIG=$TMP/kernel/boot/config-$KREL
[[ -f $KCONFIG ]] || die "$KPKG contains no /boot/config-$KREL"
MODDIR=
for d in "$TMP/kernel/lib/modules/$KREL" "$TMP/kernel/usr/lib/modules/$KREL"; do
    [[ -d $d ]] && { MODDIR=$d; break; }
done
[[ -n $MODDIR ]] || die "$KPKG contains no lib/modules/$KREL"

is_elf() { # FILE -> true if it starts with the ELF magic
    [[ $(head -c 4 "$1" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]
}

# A bzImage is setup code + a small decompressor + the compressed ELF
# vmlinux. Debian's kernels use xz (CONFIG_KERNEL_XZ=y). Find every
# occurrence of the xz stream magic FD 37 7A 58 5A 00 (the grep matches its
# first five bytes; -b prints byte offsets, -a/-U read the binary as-is) and
# take the first one whose single stream unpacks to an ELF file.
# --single-stream makes xz stop at the end of the stream and ignore the
# trailer that follows it inside the bzImage.
grep -q '^CONFIG_KERNEL_XZ=y' "$KCONFIG" ||
    die "kernel $KREL is not xz-compressed ($(grep -o '^CONFIG_KERNEL_[A-Z0-9]*=y' \
        "$KCONFIG" | tr '\n' ' ')); this script only unpacks xz bzImages"
found=
# shellcheck disable=SC2013 # offsets are plain numbers, one per line
for off in $(LC_ALL=C grep -obUaF $'\xfd7zXZ' "$VMLINUZ" | cut -d: -f1); do
    # The 6th magic byte (00) is outside the grep pattern: check it here.
    [[ $(tail -c "+$((off + 6))" "$VMLINUZ" | head -c 1 | od -An -tx1 |
        tr -d ' \n') == 00 ]] || continue
    # (tail may die of SIGPIPE once xz has the whole stream: ignore that.)
    if (set +o pipefail
        tail -c "+$((off + 1))" "$VMLINUZ" |
            xz -dc --single-stream >"$TMP/out/vmlinux" 2>/dev/null
        exit "${PIPESTATUS[1]}") && is_elf "$TMP/out/vmlinux"; then
        found=$off
        break
    fi
done
[[ -n $found ]] || die "no xz stream in $VMLINUZ unpacks to an ELF vmlinux"
log "vmlinux: xz payload at byte offset $found of ${VMLINUZ##*/}"

# QEMU boots an ELF vmlinux only through the PVH entry point, announced by
# an ELF note of owner "Xen" and type XEN_ELFNOTE_PHYS32_ENTRY (18). Without
# it QEMU would refuse the kernel ("Error loading uncompressed kernel
# without PVH ELF Note").
has_pvh_note() {
    if command -v readelf >/dev/null 2>&1; then
        readelf -n "$1" 2>/dev/null |
            grep -Eq 'Xen[[:space:]]+0x[0-9a-f]+[[:space:]].*0x00000012'
    else
        # The raw note header: namesz=4, descsz=4 or 8, type=0x12, "Xen\0".
        LC_ALL=C grep -qaP \
            '\x04\x00\x00\x00[\x04\x08]\x00\x00\x00\x12\x00\x00\x00Xen\x00' "$1"
    fi
}
has_pvh_note "$TMP/out/vmlinux" ||
    die "vmlinux of $KREL has no PVH ELF note (CONFIG_PVH); QEMU cannot" \
        "boot it with -kernel; use vmlinuz instead"
cp "$VMLINUZ" "$TMP/out/vmlinuz"

# --------------------------------------------------------------------------
# Busybox: download + unpack the static build; fall back to the installed
# one if the download is impossible.

BUSYBOX_BIN=
if apt_download "$BUSYBOX_PKG=$BVER"; then
    BDEB=$(find "$TMP/debs" -maxdepth 1 -name "${BUSYBOX_PKG}_*.deb" | head -n1)
    [[ -n $BDEB ]] || die "apt-get download left no ${BUSYBOX_PKG}_*.deb"
    dpkg -x "$BDEB" "$TMP/busybox" || die "dpkg -x $BDEB failed"
    BUSYBOX_BIN=$(find "$TMP/busybox" -path '*bin/busybox' -type f | head -n1)
    BB_SOURCE=download
elif [[ $BB_INSTALLED == "install ok installed|$BVER" ]]; then
    log "download of $BUSYBOX_PKG failed; using the installed copy"
    BUSYBOX_BIN=$(dpkg -L "$BUSYBOX_PKG" | grep -E '/bin/busybox$' | head -n1)
    BB_SOURCE=installed
else
    die "apt-get download $BUSYBOX_PKG=$BVER failed"
fi
[[ -n $BUSYBOX_BIN && -f $BUSYBOX_BIN ]] || die "no busybox binary found"
is_elf "$BUSYBOX_BIN" || die "$BUSYBOX_BIN is not an ELF binary"
# A dynamically linked busybox names its program interpreter; the initramfs
# has no libc, so that one would not run.
if LC_ALL=C grep -qaF '/lib64/ld-linux' "$BUSYBOX_BIN"; then
    die "$BUSYBOX_BIN is dynamically linked; $BUSYBOX_PKG must be static"
fi

# --------------------------------------------------------------------------
# Initramfs tree.

R=$TMP/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,run,www} \
         "$R"/{etc/acpi/PWRF,lib/modules,var/log,var/run}
cp "$BUSYBOX_BIN" "$R/bin/busybox"
chmod 0755 "$R/bin/busybox"
# /bin/sh must exist before /init runs (it is /init's interpreter); /init
# installs the other applet links itself (busybox --install -s).
ln -s busybox "$R/bin/sh"
chmod 1777 "$R/tmp"

# Kernel modules. Debian's package does not ship modules.dep (depmod builds
# it at install time), so dependencies are read from each module's own
# .modinfo section ("depends=a,b,c"), which is what depmod records too.
# Modules may be shipped plain (.ko) or compressed (.ko.xz/.ko.zst/.ko.gz):
# busybox insmod wants them plain, so they are unpacked here.
declare -A MODFILE=()   # module name (dashes as underscores) -> path
while IFS= read -r -d '' f; do
    n=${f##*/}
    n=${n%%.ko*}
    MODFILE[${n//-/_}]=$f
done < <(find "$MODDIR/kernel" -name '*.ko*' -print0)
[[ ${#MODFILE[@]} -gt 0 ]] || die "no kernel modules found under $MODDIR"

declare -A MODSEEN=()
MODORDER=()
add_module() { # NAME: copy NAME and (first) its dependencies
    local m=${1//-/_} src dst deps d
    [[ -n ${MODSEEN[$m]:-} ]] && return 0
    MODSEEN[$m]=1
    src=${MODFILE[$m]:-}
    [[ -n $src ]] || die "module $m not found in $KPKG"
    dst=$R/lib/modules/$m.ko
    case $src in
        *.ko)     cp "$src" "$dst" ;;
        *.ko.xz)  xz -dc "$src" >"$dst" ;;
        *.ko.gz)  gzip -dc "$src" >"$dst" ;;
        *.ko.zst) command -v zstd >/dev/null 2>&1 ||
                      die "module $src is zstd-compressed; install zstd"
                  zstd -qdc "$src" >"$dst" ;;
        *)        die "unknown module format: $src" ;;
    esac
    deps=$(tr '\0' '\n' <"$dst" | sed -n 's/^depends=//p' | head -n1)
    for d in ${deps//,/ }; do
        add_module "$d"
    done
    MODORDER+=("$m")
}

BUILTIN=()
for spec in "${WANTED_MODULES[@]}"; do
    IFS=: read -r mod sym need <<<"$spec"
    val=$(sed -n "s/^CONFIG_$sym=//p" "$KCONFIG" | head -n1)
    case $val in
        y) BUILTIN+=("$mod") ;;
        m) add_module "$mod" ;;
        *) if [[ $need == required ]]; then
               die "CONFIG_$sym is '${val:-unset}' in $KREL; need =y or =m"
           fi
           log "warning: CONFIG_$sym is '${val:-unset}'; $mod left out" ;;
    esac
done
printf '%s\n' "${MODORDER[@]}" >"$R/lib/modules/load-order"
log "modules: ${MODORDER[*]}${BUILTIN[*]:+ (built in: ${BUILTIN[*]})}"

# The modules loaded only with a word of the kernel command line, listed in
# the file OUT: those the lists before already load are not repeated.
extra_modules() { # OUT SPEC...
    local out=$1 spec mod sym need val
    shift
    MODORDER=()
    for spec in "$@"; do
        IFS=: read -r mod sym need <<<"$spec"
        val=$(sed -n "s/^CONFIG_$sym=//p" "$KCONFIG" | head -n1)
        case $val in
            y) BUILTIN+=("$mod") ;;
            m) add_module "$mod" ;;
            *) die "CONFIG_$sym is '${val:-unset}' in $KREL; need =y or =m" ;;
        esac
    done
    printf '%s\n' "${MODORDER[@]}" >"$R/lib/modules/$out"
}
BASE_MODULES=("${MODORDER[@]}")
extra_modules load-order-agent "${AGENT_MODULES[@]}"
log "agent modules: ${MODORDER[*]}"
AGENT_MODORDER=("${MODORDER[@]}")
extra_modules load-order-usb "${USB_MODULES[@]}"
log "usb modules: ${MODORDER[*]}"
USB_MODORDER=("${MODORDER[@]}")
MODORDER=("${BASE_MODULES[@]}")

# --------------------------------------------------------------------------
# QEMU guest agent: unpack qemu-ga and its libraries (no install), and copy
# qemu-ga with the shared objects the libc6 loader resolves for it, each at
# its own path, plus the loader itself.

read -r -a agent_args <<<"$AVERS"
apt_download "${agent_args[@]}" || die "apt-get download of $AVERS failed"
for deb in "$TMP"/debs/*.deb; do
    dpkg -x "$deb" "$TMP/agent" || die "dpkg -x $deb failed"
done
rm -f "$TMP"/debs/*.deb
A=$TMP/agent
QGA=$A/usr/sbin/qemu-ga
[[ -x $QGA ]] || die "$AGENT_PKG contains no /usr/sbin/qemu-ga"
LDSO=$A/lib64/ld-linux-x86-64.so.2
[[ -e $LDSO ]] || die "libc6 contains no /lib64/ld-linux-x86-64.so.2"
mkdir -p "$R/lib64"
cp -L "$LDSO" "$R/lib64/ld-linux-x86-64.so.2"
cp "$QGA" "$R/usr/sbin/qemu-ga"
libpath=$A/lib/x86_64-linux-gnu:$A/usr/lib/x86_64-linux-gnu
"$LDSO" --library-path "$libpath" --list "$QGA" >"$TMP/qga.ldd" ||
    die "the libc6 loader cannot resolve the libraries of qemu-ga"
while read -r name arrow path _; do
    [[ $arrow == "=>" ]] || continue
    case $path in
        "$A"/*) ;;
        *) die "qemu-ga needs $name, which no unpacked package has ($path)" ;;
    esac
    mkdir -p "$R/$(dirname "${path#"$A"/}")"
    cp -L "$path" "$R/${path#"$A"/}"
done <"$TMP/qga.ldd"
log "qemu-ga: $(grep -c '=>' "$TMP/qga.ldd") shared libraries"
# qemu-ga's guest-shutdown runs `/sbin/shutdown -P|-H|-r +0 MESSAGE`, which
# busybox does not have: map it onto busybox's poweroff, halt and reboot.
cat >"$R/sbin/shutdown" <<'EOF'
#!/bin/sh
# /sbin/shutdown for qemu-ga (generated by tests/guest/build-guest.sh).
echo "qvirt-guest: shutdown $*" >/dev/console
sync
case " $* " in
    *" -r "*) reboot -f ;;
    *" -H "*) halt -f ;;
    *) poweroff -f ;;
esac
EOF
chmod 0755 "$R/sbin/shutdown"
# guest-set-user-password runs `chpasswd [-e]` with USER:PASSWORD on its
# stdin; Debian's busybox has no chpasswd applet: set the field of
# /etc/passwd (hashing with busybox's mkpasswd unless -e says it is one).
cat >"$R/usr/sbin/chpasswd" <<'EOF'
#!/bin/sh
# chpasswd for qemu-ga (generated by tests/guest/build-guest.sh).
enc=0
[ "$1" = -e ] && enc=1
while IFS=: read -r user pass; do
    [ $enc = 1 ] || pass=$(mkpasswd -m sha512 "$pass") || exit 1
    awk -F: -v OFS=: -v u="$user" -v p="$pass" \
        '$1 == u { $2 = p; found = 1 } { print } END { exit !found }' \
        /etc/passwd >/etc/passwd.new && mv /etc/passwd.new /etc/passwd || exit 1
done
EOF
chmod 0755 "$R/usr/sbin/chpasswd"
cat >"$R/etc/os-release" <<'EOF'
NAME="qvirt test guest"
ID=qvirt-guest
VERSION_ID=1
PRETTY_NAME="qvirt test guest 1"
EOF

# Power button handler. busybox acpid reads /dev/input/event* and maps a
# KEY_POWER press to the event "PWRF/00000080", which it runs relative to
# its config directory (/etc/acpi): a directory there would be handed to
# run-parts, a file is executed directly (so it needs its #! line).
cat >"$R/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
# ACPI power button pressed (e.g. QMP system_powerdown): power off now.
echo "qvirt-guest: power button, powering off" >/dev/console
sync
poweroff -f
EOF
chmod 0755 "$R/etc/acpi/PWRF/00000080"

echo qvirt-guest-http-ok >"$R/www/index.html"
echo qvirt-guest >"$R/etc/hostname"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"

# /init runs as PID 1. It must never exit (the kernel would panic), hence
# the shell loop at the end.
cat >"$R/init" <<'EOF'
#!/bin/sh
# /init of the qvirt test guest (generated by tests/guest/build-guest.sh).
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The initramfs has no /dev/console node of its own, so the kernel could not
# give us a console: take it now that devtmpfs provides one.
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
hostname -F /etc/hostname

# Modules, dependencies first (order computed at build time).
while read -r m; do
    insmod "/lib/modules/$m.ko" || echo "qvirt-guest: insmod $m failed"
done </lib/modules/load-order

# Kernel command line options.
net=0 agent=0 usb=0 ip=10.0.2.15/24 gw=10.0.2.2
read -r cmdline </proc/cmdline
for w in $cmdline; do
    case $w in
        guestnet) net=1 ;;
        guestagent) agent=1 ;;
        guestusb) usb=1 ;;
        guestip=*) ip=${w#guestip=} ;;
        guestgw=*) gw=${w#guestgw=} ;;
    esac
done

if [ $usb = 1 ]; then
    while read -r m; do
        insmod "/lib/modules/$m.ko" || echo "qvirt-guest: insmod $m failed"
    done </lib/modules/load-order-usb
fi

# Power button -> /etc/acpi/PWRF/00000080 (poweroff -f). Wait until acpid
# has opened the input devices, so that a power button press right after
# the ready marker is not lost.
acpid_has_input() { # true once acpid has an input event device open
    for fd in "/proc/$1/fd/"*; do
        case $(readlink "$fd") in /dev/input/event*) return 0 ;; esac
    done
    return 1
}
acpid -f -c /etc/acpi -l /dev/null &
acpid_pid=$!
i=0
while ! acpid_has_input $acpid_pid && [ $i -lt 100 ]; do
    i=$((i + 1))
    usleep 20000
done
[ $i -lt 100 ] || echo "qvirt-guest: warning: acpid has no input device open"

ip link set lo up
if [ $net = 1 ]; then
    if ip addr add "$ip" dev eth0 && ip link set eth0 up; then
        # The NIC reports carrier a moment after "up"; until then packets
        # are dropped. Wait (up to 5 s) so that the marker means "reachable".
        i=0
        while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] &&
              [ $i -lt 250 ]; do
            i=$((i + 1))
            usleep 20000
        done
        [ $i -lt 250 ] || echo "qvirt-guest: warning: eth0 has no carrier"
        ip route add default via "$gw" ||
            echo "qvirt-guest: warning: no default route via $gw"
        # Say hello to the gateway: QEMU's user-mode network learns the
        # guest's MAC address from it, so the first forwarded connection
        # is not delayed by an ARP round and a TCP retransmission (~1 s).
        ping -c 1 -W 2 "$gw" >/dev/null 2>&1 || true
        httpd -p 80 -h /www || echo "qvirt-guest: httpd failed"
        echo "qvirt-guest: eth0 $ip gw $gw, httpd on port 80"
    else
        echo "qvirt-guest: guestnet: cannot configure eth0"
    fi
fi

if [ $agent = 1 ]; then
    while read -r m; do
        insmod "/lib/modules/$m.ko" || echo "qvirt-guest: insmod $m failed"
    done </lib/modules/load-order-agent
    # No udev here to make /dev/virtio-ports/NAME: find the port by name.
    port=
    i=0
    while [ -z "$port" ] && [ $i -lt 250 ]; do
        for d in /sys/class/virtio-ports/vport*; do
            [ "$(cat "$d/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] &&
                [ -e "/dev/${d##*/}" ] && port=/dev/${d##*/}
        done
        [ -n "$port" ] || { i=$((i + 1)); usleep 20000; }
    done
    if [ -n "$port" ]; then
        mkdir -p /var/run/qemu-ga
        qemu-ga -m virtio-serial -p "$port" -t /var/run/qemu-ga \
            -l /var/log/qemu-ga.log &
        echo "qvirt-guest: qemu-ga on $port"
    else
        echo "qvirt-guest: guestagent: no port org.qemu.guest_agent.0"
    fi
fi

echo QVIRT-GUEST-READY

# An interactive shell on the console, restarted whenever it exits.
# setsid + cttyhack give it the console as controlling tty (job control,
# Ctrl-C).
export PS1='guest# '
while :; do
    setsid cttyhack sh -i
    sleep 1
done
EOF
chmod 0755 "$R/init"

# newc cpio, all files owned by root, as the kernel expects.
(cd "$R" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 --reproducible) >"$TMP/out/initrd.cpio" ||
    die "cpio failed"
if [[ $INITRD_GZIP == 1 ]]; then
    gzip -9n <"$TMP/out/initrd.cpio" >"$TMP/out/initrd.img"
    rm -f "$TMP/out/initrd.cpio"
else
    mv "$TMP/out/initrd.cpio" "$TMP/out/initrd.img"
fi

# --------------------------------------------------------------------------
# Install the outputs; the manifest goes last, so an interrupted build is
# never taken as complete.

rm -f "$OUT/manifest"
for f in vmlinux vmlinuz initrd.img; do
    mv -f "$TMP/out/$f" "$OUT/$f.tmp.$$"
    mv -f "$OUT/$f.tmp.$$" "$OUT/$f"
done
BB_BANNER=$("$R/bin/busybox" 2>/dev/null | head -n1 || true)
{
    echo "kernel_package=$KPKG"
    echo "kernel_version=$KVER"
    echo "kernel_release=$KREL"
    echo "busybox_package=$BUSYBOX_PKG"
    echo "busybox_version=$BVER"
    echo "busybox_source=$BB_SOURCE"
    echo "busybox_banner=$BB_BANNER"
    echo "modules=${MODORDER[*]}"
    echo "modules_builtin=${BUILTIN[*]}"
    echo "agent_modules=${AGENT_MODORDER[*]}"
    echo "usb_modules=${USB_MODORDER[*]}"
    echo "agent_packages=$AVERS"
    echo "initrd_gzip=$INITRD_GZIP"
    echo "script_sha256=$SCRIPT_SHA"
    echo "built_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$OUT/manifest.tmp.$$"
mv -f "$OUT/manifest.tmp.$$" "$OUT/manifest"

log "done"
echo "$OUT"
