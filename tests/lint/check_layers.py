#!/usr/bin/env python3
"""The layering rule, checked: each directory of src/ may include only the
headers of its own layer and of the layers below it.

    core  <  backend  <  dev, engine  <  board  <  snapshot  <  vmm  <  manager  <  cli

(snapshot sits below vmm: the VM process saves and restores through it;
the snapshot layer knows the machine only through the machine interface.)

core holds what every layer uses (bus, guest RAM, clock, state buffers,
errors, log, event loop, rate limiter, work queue, the machine interface); the VM loop
in src/vmm/ drives a board only through that interface. A header belongs to
the layer named in HEADERS below; a new header must be added there.

usage: tests/lint/check_layers.py   (exit 1 and one line per violation)
"""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))

RANK = {"core": 0, "backend": 1, "dev": 2, "engine": 2, "board": 3,
        "snapshot": 4, "vmm": 5, "manager": 6, "cli": 7}
# Layers of equal rank may not include each other (dev and engine stay
# strangers: a device never knows which engine runs the CPU).

HEADERS = {
    "core": ["common.h", "error.h", "bus.h", "device.h", "guest_ram.h", "clock.h",
             "state.h", "event_loop.h", "rate_limit.h", "chardev.h", "machine.h",
             "log.h", "paths.h", "work_queue.h", "file_ops.h"],
    "backend": ["block.h", "net.h", "net_offload.h"],
    "dev": ["dev_aclint.h", "dev_goldfish_rtc.h", "dev_plic.h", "dev_syscon.h",
            "dev_uart16550.h", "virtio.h", "virtio_blk.h", "virtio_net.h",
            "virtio_rng.h", "virtio_input.h", "dev_vmgenid.h", "virtio_balloon.h"],
    "engine": ["riscv.h", "riscv_fpu.h"],
    "board": ["riscv_virt.h", "loader.h", "boards.h"],
    "vmm": ["vm.h", "console.h", "vm_def.h", "api.h", "sandbox.h"],
    "snapshot": ["snapshot.h"],
    "manager": ["manager.h"],
}


def header_layer():
    owner = {}
    for layer, names in HEADERS.items():
        for n in names:
            owner["condo/" + n] = layer
    return owner


def main():
    owner = header_layer()
    bad = []
    inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
    for d in sorted(os.listdir(os.path.join(ROOT, "src"))):
        if d not in RANK:
            bad.append(f"src/{d}/: not a known layer (add it to tests/lint/check_layers.py)")
            continue
        for base, _, files in os.walk(os.path.join(ROOT, "src", d)):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(base, f)
                rel = os.path.relpath(path, ROOT)
                for lineno, line in enumerate(open(path, encoding="utf-8"), 1):
                    m = inc.match(line)
                    if not m:
                        continue
                    h = m.group(1)
                    if h.startswith("condo/"):
                        layer = owner.get(h)
                        if layer is None:
                            if os.path.exists(os.path.join(ROOT, "include", h)):
                                bad.append(f"{rel}:{lineno}: {h} has no layer "
                                           "(add it to tests/lint/check_layers.py)")
                            continue
                    elif "/" in h:
                        layer = h.split("/")[0]  # "board/..." from src/
                        if layer not in RANK:
                            continue
                    else:
                        continue  # a private header next to the file
                    if layer == d:
                        continue
                    if RANK[layer] >= RANK[d]:
                        bad.append(f"{rel}:{lineno}: {d} includes {h} ({layer}), "
                                   "a layer not below it")
    for h in sorted(os.listdir(os.path.join(ROOT, "include", "condo"))):
        if "condo/" + h not in owner:
            bad.append(f"include/condo/{h}: no layer (add it to tests/lint/check_layers.py)")
    for b in bad:
        print(b)
    print(f"layers: {len(bad)} violation(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
