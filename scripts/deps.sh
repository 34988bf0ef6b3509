#!/usr/bin/env bash
# Installs what qvirt's tests and demo need on Debian: QEMU (with
# qemu-system-common's virtiofsd for <filesystem> shares, qemu-utils'
# qemu-nbd for network disks, and qemu-block-extra's curl, iSCSI and RBD
# block drivers for http(s)/iscsi/rbd disks), OVMF (UEFI
# firmware with its descriptors), swtpm and swtpm-tools (the emulated TPM
# each domain with <tpm> gets), xmllint (to validate our XML against
# libvirt's schema), the packages the test guest is built from, and
# iproute2 (the bridge tests make network namespaces), the real
# libvirt clients qvirtd's libvirt sockets are tested with (virsh from
# libvirt-clients, python3-libvirt, virt-install from virtinst; setpriv
# from util-linux runs one as another user), and OpenSSH's server and
# client (the qemu+ssh tests run their own sshd inside a namespace; the
# package's own service is kept from starting), and tgt (an iSCSI target
# the iSCSI disk test runs inside a namespace, like Open vSwitch's daemons
# for the virtualport test; their services are kept from
# starting too), passt (the backend of user interfaces with
# <backend type='passt'>), pci.ids (the PCI vendor and product names
# the libvirt socket shows with host devices, as libvirt does) and
# dmidecode (which reads the host's SMBIOS for virsh sysinfo, as libvirt's),
# openssl (test certificates), socat (the TLS front of the HTTPS disk
# test's web server), dbus-daemon (the private bus of a D-Bus display) and
# libglib2.0-bin (gdbus, the D-Bus client its test reads QEMU with).
# Does nothing when all of it is already there.
set -euo pipefail

packages=(qemu-system-x86 qemu-system-common qemu-utils qemu-block-extra ovmf swtpm swtpm-tools libxml2-utils busybox-static cpio xz-utils gzip iproute2
  libvirt-clients python3-libvirt virtinst util-linux openssh-server openssh-client tgt
  openvswitch-switch passt pci.ids dmidecode socat openssl dbus-daemon libglib2.0-bin)
find_missing() {
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
}
find_missing
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "qvirt needs these Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# No package may start a service here (openssh-server would start sshd
# on port 22 of the host): a policy-rc.d that says no, while installing,
# unless the machine has one already.
policy=/usr/sbin/policy-rc.d
added_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  added_policy=1
fi
trap 'if [ -n "$added_policy" ]; then rm -f "$policy"; fi' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# A package of another QEMU version already on the machine (a backported
# qemu-utils, say) is removed by apt when QEMU's own packages come in, as
# they depend on one version: install what that took away, now from the
# same release as the rest, and fail if anything is still missing.
find_missing
if [ ${#missing[@]} -ne 0 ]; then
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  find_missing
  if [ ${#missing[@]} -ne 0 ]; then
    echo "qvirt: these packages could not be installed: ${missing[*]}" >&2
    exit 1
  fi
fi
