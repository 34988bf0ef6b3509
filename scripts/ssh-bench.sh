#!/usr/bin/env bash
# qvirt-bench over qemu+ssh:// between two network namespaces joined by
# a veth pair: host B runs OpenSSH's sshd and `qvirtd --root DIR`, host A
# the bench, whose rpc scenario prints ssh's own echo round trip beside
# the lookup+info pair. Needs root, iproute2 and openssh-server. Nothing
# leaves the namespaces, which are removed at the end.
#
#   ./scripts/ssh-bench.sh [--only rpc,...]     (default: --only rpc)
#
# QVIRT_PROXY_COPY=1 in the environment makes the remote `qvirtd
# --proxy` copy bytes instead of handing the channel to the daemon (the
# way calls went before the hand-over), for a comparison in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "ssh-bench: needs root (network namespaces)" >&2; exit 1; }
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--only rpc)
cargo build --release --bin qvirt-bench --bin qvirtd

dir=$(mktemp -d /tmp/qvirt-ssh-bench.XXXXXX)
a=qvsbA$$ b=qvsbB$$
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del "$a" 2>/dev/null || true
    ip netns del "$b" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

ip netns add "$a"
ip netns add "$b"
ip link add va netns "$a" type veth peer name vb netns "$b"
ip -n "$a" addr add 10.55.9.1/24 dev va
ip -n "$b" addr add 10.55.9.2/24 dev vb
for ns in "$a" "$b"; do
    ip -n "$ns" link set lo up
done
ip -n "$a" link set va up
ip -n "$b" link set vb up

ssh-keygen -q -t ed25519 -N '' -C host -f "$dir/host"
ssh-keygen -q -t ed25519 -N '' -C user -f "$dir/id"
mkdir -p "$dir/keys" "$dir/bin" /run/sshd
cp "$dir/id.pub" "$dir/keys/root"
echo "10.55.9.2 $(cut -d' ' -f1-2 "$dir/host.pub")" >"$dir/known_hosts"
ln -s "$PWD/target/release/qvirtd" "$dir/bin/qvirtd"
cat >"$dir/sshd_config" <<EOF
ListenAddress 10.55.9.2
HostKey $dir/host
PidFile none
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $dir/keys/%u
PermitRootLogin prohibit-password
StrictModes no
UseDNS no
SetEnv PATH=$dir/bin:/usr/sbin:/usr/bin:/sbin:/bin${QVIRT_PROXY_COPY:+ QVIRT_PROXY_COPY=1}
EOF
ip netns exec "$b" /usr/sbin/sshd -D -e -f "$dir/sshd_config" 2>"$dir/sshd.log" &
pids+=($!)
ip netns exec "$b" ./target/release/qvirtd --root "$dir/root" 2>"$dir/qvirtd.log" &
pids+=($!)
for _ in $(seq 300); do
    grep -q "Server listening" "$dir/sshd.log" && [ -S "$dir/root/run/qvirt-sock" ] && break
    sleep 0.1
done

uri="qemu+ssh://root@10.55.9.2/system?socket=$dir/root/run/qvirt-sock&keyfile=$dir/id&known_hosts=$dir/known_hosts&no_tty=1"
echo "== $uri"
ip netns exec "$a" ./target/release/qvirt-bench --uri "$uri" "${args[@]}"
