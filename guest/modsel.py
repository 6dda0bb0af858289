#!/usr/bin/env python3
"""Pick kernel modules and their dependencies for the initramfs.

usage: modsel.py MODROOT KCONFIG OUTDIR NAME...

MODROOT is an extracted lib/modules/<release> (the .deb ships no
modules.dep, so dependencies come from each module's own `depends` and
`softdep pre:` fields, read with the host's modinfo). A wanted module that
is built in (modules.builtin, or =y in KCONFIG) is skipped; one that is
neither is reported and skipped. Chosen modules are written DECOMPRESSED
(busybox insmod cannot read .ko.xz) to OUTDIR/<name>.ko, and OUTDIR/load-order
lists them in dependency order, one name per line.
"""
import gzip
import lzma
import os
import subprocess
import sys

# Config symbol of each module we may want, for the built-in check and log.
CONFIG_OF = {
    "virtio_mmio": "VIRTIO_MMIO", "virtio_blk": "VIRTIO_BLK",
    "virtio_net": "VIRTIO_NET", "virtio_rng": "HW_RANDOM_VIRTIO",
    "virtio_console": "VIRTIO_CONSOLE", "ext4": "EXT4_FS",
    "crc32c_generic": "CRYPTO_CRC32C", "virtio_vsock": "VIRTIO_VSOCKETS",
    "vmw_vsock_virtio_transport": "VIRTIO_VSOCKETS",
    "virtio_input": "VIRTIO_INPUT", "evdev": "INPUT_EVDEV",
    "virtio_balloon": "VIRTIO_BALLOON",
}
# softdep targets named by an alias rather than a module
ALIAS = {"crc32c": "crc32c_generic"}


def norm(n):
    return n.replace("-", "_")


def modname(fname):
    for suf in (".ko.xz", ".ko.zst", ".ko.gz", ".ko"):
        if fname.endswith(suf):
            return norm(fname[: -len(suf)])
    return None


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".gz"):
        return gzip.decompress(data)
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], check=True,
                              stdout=subprocess.PIPE).stdout
    return data


def modinfo(path, field):
    r = subprocess.run(["modinfo", "-F", field, path], check=True,
                       stdout=subprocess.PIPE, text=True)
    return r.stdout.strip()


def main(argv):
    if len(argv) < 5:
        raise SystemExit(__doc__)
    modroot, kconfig, outdir, want = argv[1], argv[2], argv[3], argv[4:]
    os.makedirs(outdir, exist_ok=True)
    files = {}
    for root, _, names in os.walk(os.path.join(modroot, "kernel")):
        for n in names:
            m = modname(n)
            if m:
                files[m] = os.path.join(root, n)
    builtin = set()
    try:
        with open(os.path.join(modroot, "modules.builtin")) as f:
            for line in f:
                m = modname(os.path.basename(line.strip()))
                if m:
                    builtin.add(m)
    except OSError:
        pass
    config = {}
    try:
        with open(kconfig) as f:
            for line in f:
                if line.startswith("CONFIG_") and "=" in line:
                    k, v = line.strip().split("=", 1)
                    config[k[7:]] = v
    except OSError:
        pass

    order, state = [], {}

    def visit(m, chain):
        if state.get(m) == "done":
            return
        if state.get(m) == "busy":
            raise SystemExit("modsel: dependency cycle: %s" % " -> ".join(chain + [m]))
        state[m] = "busy"
        out = os.path.join(outdir, m + ".ko")
        with open(out, "wb") as f:
            f.write(load(files[m]))
        deps = [norm(d) for d in modinfo(out, "depends").split(",") if d]
        for sd in modinfo(out, "softdep").split("\n"):
            words = sd.split()
            if words[:1] == ["pre:"]:
                for w in words[1:]:
                    w = ALIAS.get(norm(w), norm(w))
                    if w in files:
                        deps.append(w)
        for d in deps:
            if d in files:
                visit(d, chain + [m])
            elif d not in builtin:
                print("warning: %s needs %s, which is neither a module nor built in" % (m, d))
        state[m] = "done"
        order.append(m)

    for m in map(norm, want):
        sym = CONFIG_OF.get(m)
        cfg = "CONFIG_%s=%s" % (sym, config.get(sym, "n")) if sym else "no config symbol known"
        if m in files:
            visit(m, [])
            print("%-15s module (%s)" % (m, cfg))
        elif m in builtin or (sym and config.get(sym) == "y"):
            print("%-15s built in (%s)" % (m, cfg))
        else:
            print("%-15s NOT AVAILABLE (%s): skipped" % (m, cfg))
    with open(os.path.join(outdir, "load-order"), "w") as f:
        for m in order:
            f.write(m + "\n")
    print("load order: %s" % " ".join(order))


if __name__ == "__main__":
    main(sys.argv)
