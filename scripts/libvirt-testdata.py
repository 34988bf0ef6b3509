#!/usr/bin/env python3
"""Copies libvirt's x86_64 XML-to-argv test data into our tree.

Called by scripts/libvirt-testdata.sh with the unpacked libvirt source and
the output folder. For each tests/qemuxml2argvdata/NAME.xml of an x86 guest
it copies NAME.xml and one expected result, renamed to NAME.args (libvirt's
QEMU command line) or NAME.err (libvirt's error: it refuses the input),
chosen in this order:

  NAME.x86_64-latest.args, NAME.x86_64-latest.err   (newest QEMU capabilities)
  NAME.args, NAME.err                               (flags set by the test)
  NAME.x86_64-X.Y.Z.args/.err, newest X.Y.Z first    (that QEMU's capabilities)

manifest.tsv lists what was copied, skipped.tsv what was not and why.
"""

import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET

X86_ARCHES = {"x86_64", "i686"}
X86_MACHINE = re.compile(r"^(pc|q35|isapc|microvm|xenfv|xenpv)(-.*)?$")
NON_X86_EMULATOR = re.compile(
    r"qemu-system-(aarch64|arm|ppc|ppc64|ppcemb|s390x|riscv32|riscv64|mips\w*|sparc\w*|"
    r"alpha|cris|lm32|m68k|microblaze\w*|or1k|sh4\w*|tricore|unicore32|xtensa\w*)$")


def describe(path):
    """(arch, machine, emulator) of a domain XML; '' when absent."""
    try:
        root = ET.parse(path).getroot()
        t = root.find("./os/type")
        arch = t.get("arch", "") if t is not None else ""
        machine = t.get("machine", "") if t is not None else ""
        emu = root.findtext("./devices/emulator", default="").strip()
        return arch, machine, emu
    except ET.ParseError:
        # Some inputs are malformed on purpose; read what a regex can.
        text = open(path, encoding="utf-8", errors="replace").read()
        arch = re.search(r"<type[^>]*\barch=['\"]([^'\"]+)", text)
        machine = re.search(r"<type[^>]*\bmachine=['\"]([^'\"]+)", text)
        emu = re.search(r"<emulator>\s*([^<\s]+)", text)
        return (arch.group(1) if arch else "", machine.group(1) if machine else "",
                emu.group(1) if emu else "")


def expected(files, name):
    """(upstream file, kind, caps) of NAME's x86_64 result, or None."""
    for suffix, kind, caps in [(".x86_64-latest.args", "args", "latest"),
                               (".x86_64-latest.err", "err", "latest"),
                               (".args", "args", "flags"),
                               (".err", "err", "flags")]:
        if name + suffix in files:
            return name + suffix, kind, caps
    versioned = []
    pat = re.compile(re.escape(name) + r"\.x86_64-(\d+)\.(\d+)\.(\d+)\.(args|err)$")
    for f in files:
        m = pat.match(f)
        if m:
            version = tuple(int(g) for g in m.group(1, 2, 3))
            versioned.append((version, m.group(4) == "args", f, m.group(4)))
    if versioned:
        version, _, f, kind = max(versioned)
        return f, kind, "%d.%d.%d" % version
    return None


def main():
    src, out = sys.argv[1], sys.argv[2]
    data = os.path.join(src, "tests", "qemuxml2argvdata")
    files = set(os.listdir(data))
    names = sorted(f[:-4] for f in files if f.endswith(".xml"))

    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith((".xml", ".args", ".err")):
            os.remove(os.path.join(out, f))

    kept, skipped = [], []
    for name in names:
        arch, machine, emu = describe(os.path.join(data, name + ".xml"))
        if arch and arch not in X86_ARCHES:
            skipped.append((name, "arch %s" % arch))
            continue
        if not arch and machine and not X86_MACHINE.match(machine):
            skipped.append((name, "machine %s" % machine))
            continue
        if NON_X86_EMULATOR.search(emu):
            skipped.append((name, "emulator %s" % emu))
            continue
        result = expected(files, name)
        if result is None:
            others = sorted(f for f in files if f.startswith(name + ".") and f != name + ".xml"
                            and f.endswith((".args", ".err")))
            skipped.append((name, "no x86_64 result" + (" (only %s)" % " ".join(others)
                                                         if others else " (xml2xml input only)")))
            continue
        upstream, kind, caps = result
        shutil.copyfile(os.path.join(data, name + ".xml"), os.path.join(out, name + ".xml"))
        shutil.copyfile(os.path.join(data, upstream), os.path.join(out, name + "." + kind))
        kept.append((name, kind, upstream, arch or "-", machine or "-", caps))

    with open(os.path.join(out, "manifest.tsv"), "w") as f:
        f.write("name\tresult\tupstream\tarch\tmachine\tcaps\n")
        for row in kept:
            f.write("\t".join(row) + "\n")
    with open(os.path.join(out, "skipped.tsv"), "w") as f:
        f.write("name\treason\n")
        for row in skipped:
            f.write("\t".join(row) + "\n")
    n_args = sum(1 for r in kept if r[1] == "args")
    print("%d inputs copied (%d .args, %d .err), %d skipped"
          % (len(kept), n_args, len(kept) - n_args, len(skipped)), file=sys.stderr)


if __name__ == "__main__":
    main()
