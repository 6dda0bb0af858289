#!/usr/bin/env python3
"""SMP scaling: a 2-job CPU-bound guest workload on 1 and 2 vCPUs, condo
versus QEMU's multi-threaded TCG, side by side in one run.

    bench/smp.py [--runs N] [--condo PATH] [--qemu PATH] [--guest DIR]
                 [--rounds R] [--out FILE]

Boots the default guest (build/guest) with 1 and then 2 vCPUs under condo
(`--cpus N`) and under qemu-system-riscv64 (virt, `-smp N -accel
tcg,thread=multi`), alternately (condo 1, QEMU 1, condo 2, QEMU 2, ...; N
runs each, default 3). In each VM it writes an 8 MiB file to the
initramfs's tmpfs and times, on the host, two jobs that run at once, each
`md5sum` over the file R times (default 8): busybox's C code, integer work
on one thread per job. Prints the medians, each VMM's scaling
time(1 vCPU) / time(2 vCPUs) (2.0 would be perfect on two free host
cores) and condo's times relative to QEMU's. Every run goes to
build/bench/smp.json with the load average. Timings are reported, never
asserted: the exit status is 0 unless something failed to run (1) or the
options were wrong (2).
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))
import driver  # noqa: E402

VMMS = ("condo", "qemu")
PROMPT = r"~ # "


def say(*a):
    print(*a, flush=True)


def argv_for(vmm, cpus, a):
    g = a.guest
    files = [os.path.join(g, n) for n in ("fw_dynamic.bin", "Image", "initramfs.cpio")]
    if vmm == "condo":
        return [a.condo, "run", "--cpus", str(cpus), "--memory", "512M", "--bios", files[0],
                "--kernel", files[1], "--initrd", files[2], "--append", "console=ttyS0 panic=-1"]
    return [a.qemu, "-machine", "virt", "-smp", str(cpus), "-accel", "tcg,thread=multi",
            "-m", "512M", "-nographic", "-bios", files[0], "-kernel", files[1],
            "-initrd", files[2], "-append", "console=ttyS0 panic=-1"]


def guest(vm, cmd, timeout):
    status, out = vm.run(cmd, timeout)
    if status != 0:
        raise RuntimeError("`%s` failed (%d): %s" % (cmd, status, out[-300:]))
    return out


def one_run(vmm, cpus, a, logdir, idx):
    r = {"vmm": vmm, "cpus": cpus, "run": idx + 1, "ok": False}
    log = os.path.join(logdir, "smp-%s-%d-%d.log" % (vmm, cpus, idx + 1))
    vm = driver.VM(argv_for(vmm, cpus, a), log=log)
    try:
        vm.expect(PROMPT, a.timeout)
        n = guest(vm, "nproc", a.timeout).strip()
        if n != str(cpus):
            raise RuntimeError("the guest sees %s CPUs, not %d" % (n, cpus))
        guest(vm, "dd if=/dev/zero of=/tmp/f bs=1M count=8 2>/dev/null", a.timeout)
        job = "(for k in $(seq %d); do md5sum /tmp/f >/dev/null; done)" % a.rounds
        t0 = time.monotonic()
        guest(vm, "%s & %s & wait" % (job, job), a.timeout)
        r["seconds"] = time.monotonic() - t0
        r["ok"] = True
    except (driver.DriverError, RuntimeError) as e:
        r["error"] = "%s (log: %s)" % (str(e).splitlines()[0], log)
    finally:
        vm.kill()
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--condo", default=os.path.join(ROOT, "build", "condo"))
    ap.add_argument("--qemu", default=shutil.which("qemu-system-riscv64") or "qemu-system-riscv64")
    ap.add_argument("--guest", default=os.path.join(ROOT, "build", "guest"))
    ap.add_argument("--rounds", type=int, default=8, help="md5sum passes per job")
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench", "smp.json"))
    a = ap.parse_args()
    for exe in (a.condo, a.qemu):
        if not shutil.which(exe):
            say("bench/smp.py: %s not found" % exe)
            return 2
    if not os.path.exists(os.path.join(a.guest, "initramfs.cpio")):
        say("bench/smp.py: no guest in %s (guest/build-guest.sh)" % a.guest)
        return 2
    logdir = os.path.dirname(a.out)
    os.makedirs(logdir, exist_ok=True)
    load0 = os.getloadavg()
    runs = []
    for i in range(a.runs):
        for cpus in (1, 2):
            for vmm in VMMS:
                r = one_run(vmm, cpus, a, logdir, i)
                runs.append(r)
                say("  %-5s --cpus %d run %d: %s" % (vmm, cpus, i + 1,
                                                   "%.2f s" % r["seconds"] if r["ok"]
                                                   else "FAILED: " + r["error"]))
    med = {}
    for vmm in VMMS:
        for cpus in (1, 2):
            xs = [r["seconds"] for r in runs if r["ok"] and r["vmm"] == vmm and r["cpus"] == cpus]
            med[(vmm, cpus)] = statistics.median(xs) if xs else None
    say("")
    say("two md5sum jobs at once, %d passes each over 8 MiB (median of %d, host wall time)"
        % (a.rounds, a.runs))
    say("%-6s %10s %10s %9s" % ("", "1 vCPU", "2 vCPUs", "scaling"))
    result = {}
    for vmm in VMMS:
        t1, t2 = med[(vmm, 1)], med[(vmm, 2)]
        sc = t1 / t2 if t1 and t2 else None
        result[vmm] = {"1": t1, "2": t2, "scaling": sc}
        say("%-6s %9.2fs %9.2fs %8.2fx" % (vmm, t1 or 0, t2 or 0, sc or 0))
    for cpus in (1, 2):
        c, q = med[("condo", cpus)], med[("qemu", cpus)]
        if c and q:
            say("condo/QEMU time, %d vCPU%s: %.2f" % (cpus, "s" if cpus > 1 else "", c / q))
            result["ratio_%d" % cpus] = c / q
    rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
    with open(a.out, "w") as f:
        json.dump({"date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                   "commit": rev or None, "loadavg_start": load0, "loadavg_end": os.getloadavg(),
                   "rounds": a.rounds, "medians": result, "runs": runs}, f, indent=1)
    say("load average at start %.2f, at end %.2f; runs in %s" % (load0[0], os.getloadavg()[0], a.out))
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
