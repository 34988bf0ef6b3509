#!/usr/bin/env python3
"""Prints the BENCHMARKS.md table from the JSON files of interleaved rounds.

Usage: scripts/bench-table.py DIR
DIR holds embed-N.json and daemon-N.json (qvirt-bench --json) and
libvirt-N.json (../shared/bench-libvirt/libvirt_bench.py --out), as
scripts/bench-rounds.sh writes them. Each cell is the median over the
rounds of each run's figure (a run's median where it has a distribution),
with the range over the rounds in brackets.
"""

import glob
import json
import os
import statistics
import sys


def load(pattern):
    runs = []
    for path in sorted(glob.glob(pattern)):
        with open(path) as f:
            runs.append(json.load(f))
    return runs


def cell(runs, key):
    xs = [med(r.get(key)) for r in runs]
    xs = [x for x in xs if isinstance(x, (int, float))]
    if not xs:
        return None, "—"
    m = statistics.median(xs)
    text = fmt(m)
    if len(xs) > 1 and min(xs) != max(xs):
        text += f" ({fmt(min(xs))}–{fmt(max(xs))})"
    return m, text


def fmt(x):
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def med(node):
    """A figure: a number, a run's {median, ...}, or a list of samples."""
    if isinstance(node, dict):
        return node.get("median")
    if isinstance(node, list):
        return statistics.median(node) if node else None
    return node


def conc(run, clients):
    for level in run.get("g_concurrency", []):
        if level.get("clients") == clients:
            return level.get("rpcs_per_s")
    return None


# (label, qvirt key, libvirt figure of a run, target)
ROWS = [
    ("lookup+info pair, µs", "rpc_us", lambda r: med(r["b_lookup_info"]["per_pair_us"]), "≤ 0.1×"),
    ("define (durable), ms", "define_ms", lambda r: med(r["a_define"]["per_op_ms"]), "≤ 0.6×"),
    ("undefine, ms", "undefine_ms", lambda r: med(r["undefine"]["per_op_ms"]), ""),
    ("list, 1,000 defined, ms", "list_1000_ms", lambda r: med(r["c_list"]["listAllDomains_ms"]), ""),
    ("list, 10,000 defined, ms", "list_10000_ms", None, ""),
    ("cold open → full list, 1,000 defined, ms", "cold_start_1000_ms",
     lambda r: med(r["d_restart"]["spawn_to_list_all_ms"]), "≤ 0.1×"),
    ("cold open → full list, 10,000 defined, ms", "cold_start_10000_ms", None, "< 500 ms"),
    ("RSS with 1,000 defined, KiB", "rss_1000_kib",
     lambda r: med(r["d_restart"]["rss_kib_after_list"]), "≤ 0.33×"),
    ("1 client, calls/s", "concurrency_1_calls_per_s", lambda r: conc(r, 1), ""),
    ("8 clients, calls/s", "concurrency_calls_per_s", lambda r: conc(r, 8), "≥ 5×"),
    ("start (firmware VM), ms", "start_ms", lambda r: med(r["e_cycles"][0]["create_ms"]), ""),
    ("raw floor: same argv to QMP ready, ms", "raw_start_ms", None, ""),
    ("start − raw floor, ms", "start_minus_raw_ms", None, "≤ 5 ms"),
    ("destroy, ms", "destroy_ms", lambda r: med(r["e_cycles"][0]["destroy_ms"]), "≤ 10 ms"),
    ("storm: VMs running", "storm_running", None, "100"),
    ("storm: all 100 running, s", "storm_all_running_s", None, ""),
    ("storm: list during it, p99, ms", "storm_list_p99_ms", None, "≤ 10 ms"),
    ("boot → ready marker, ms", "boot_ms", lambda r: med(r["f_boot"][0]["create_to_ready_ms"]), ""),
    ("ACPI shutdown → shut off, ms", "shutdown_ms",
     lambda r: med(r["f_boot"][0]["shutdown_to_stopped_ms"]), ""),
]


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "."
    embed = load(os.path.join(d, "embed-*.json"))
    daemon = load(os.path.join(d, "daemon-*.json"))
    libvirt = load(os.path.join(d, "libvirt-*.json"))
    print(f"rounds: embed {len(embed)}, daemon {len(daemon)}, libvirt {len(libvirt)}\n")
    print("| measure | qvirt embed | qvirt daemon | libvirt 9.0 | daemon / libvirt | target |")
    print("|---|---:|---:|---:|---:|---|")
    for label, key, figure, target in ROWS:
        _, e = cell(embed, key)
        dm, dt = cell(daemon, key)
        lt, ratio = "—", ""
        if figure:
            xs = []
            for r in libvirt:
                try:
                    xs.append(figure(r))
                except (KeyError, IndexError, TypeError):
                    pass
            xs = [x for x in xs if isinstance(x, (int, float))]
            if xs:
                lm = statistics.median(xs)
                lt = fmt(lm)
                if len(xs) > 1 and min(xs) != max(xs):
                    lt += f" ({fmt(min(xs))}–{fmt(max(xs))})"
                if dm is not None and lm:
                    ratio = f"{dm / lm:.3f}" if dm / lm < 1 else f"{dm / lm:.1f}×"
        print(f"| {label} | {e} | {dt} | {lt} | {ratio} | {target} |")


if __name__ == "__main__":
    main()
