#!/usr/bin/env python3
"""Debian's riscv64 programs inside the guest, condo versus QEMU, side by
side in one run.

    bench/userland.py [--runs N] [--condo PATH] [--qemu PATH] [--guest DIR]
                      [--seconds S] [--out FILE]

Boots the same guest (default build/bench-userland: the default guest plus
Debian trixie's riscv64 `7zip` and `openssl` packages and their libraries,
built on demand with `guest/build-guest.sh --packages "7zip openssl"`)
alternately under condo and under qemu-system-riscv64 (virt machine, one
vCPU, 512 MiB), N times each (default 3), and runs in it:

  7z b 1 -mmt1 -md18              7-Zip's own LZMA benchmark, one thread,
                                  one pass at a 256 KiB dictionary:
                                  compression, decompression and total
                                  ratings (MIPS)
  openssl speed -seconds S -bytes 16384 sha256 sha512 aes-128-cbc
                                  throughput (kB/s) on 16 KiB blocks
  openssl speed -seconds S rsa2048
                                  RSA-2048 signs/s and verifies/s

Every figure is the program's own report, timed by the guest's clock (both
VMMs derive it from the host's monotonic clock). The table prints medians
and the ratio QEMU/condo of each rate, i.e. condo's time for the same work
relative to QEMU's: below 1 means condo is faster, the same sense as
bench/run.py's condo/QEMU time ratios. Every run goes to
build/bench/userland.json with the load average. Timings are reported,
never asserted: the exit status is 0 unless something failed to run (1) or
the options were wrong (2).
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
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
PACKAGES = "7zip openssl"
# (name, unit): rates, higher is better
METRICS = (("7z compress", "MIPS"), ("7z decompress", "MIPS"), ("7z total", "MIPS"),
           ("sha256", "MB/s"), ("sha512", "MB/s"), ("aes-128-cbc", "MB/s"),
           ("rsa2048 sign", "1/s"), ("rsa2048 verify", "1/s"))


def say(*a):
    print(*a, flush=True)


def ensure_guest(gdir):
    if os.path.exists(os.path.join(gdir, "initramfs.cpio")):
        return
    subprocess.run([os.path.join(ROOT, "guest", "build-guest.sh"), "--out", gdir,
                    "--packages", PACKAGES], check=True)


def argv_for(vmm, a):
    g = a.guest
    files = [os.path.join(g, n) for n in ("fw_dynamic.bin", "Image", "initramfs.cpio")]
    if vmm == "condo":
        return [a.condo, "run", "--cpus", "1", "--memory", "512M", "--bios", files[0],
                "--kernel", files[1], "--initrd", files[2], "--append", "console=ttyS0 panic=-1"]
    return [a.qemu, "-machine", "virt", "-smp", "1", "-m", "512M", "-nographic",
            "-bios", files[0], "-kernel", files[1], "-initrd", files[2],
            "-append", "console=ttyS0 panic=-1"]


def guest(vm, cmd, timeout):
    status, out = vm.run(cmd, timeout)
    if status != 0:
        raise RuntimeError("`%s` failed (%d): %s" % (cmd, status, out[-300:]))
    return out


def parse_7z(out):
    # "Avr:  <c speed> <c usage> <c R/U> <c rating> | <d speed> ... <d rating>"
    m = re.search(r"^Avr:\s+\d+\s+\d+\s+\d+\s+(\d+)\s*\|\s*\d+\s+\d+\s+\d+\s+(\d+)", out, re.M)
    t = re.search(r"^Tot:\s+\d+\s+\d+\s+(\d+)", out, re.M)
    if not m or not t:
        raise RuntimeError("no 7z ratings in %r" % out[-400:])
    return {"7z compress": float(m.group(1)), "7z decompress": float(m.group(2)),
            "7z total": float(t.group(1))}


def parse_speed(out):
    r = {}
    for name in ("sha256", "sha512", "aes-128-cbc"):
        m = re.search(r"^%s\s+([\d.]+)k" % re.escape(name), out, re.M)
        if m:
            r[name] = float(m.group(1)) / 1000.0  # kB/s -> MB/s
    # OpenSSL 3.5 prints an encaps/decaps table first: take the line after
    # the sign/s heading
    m = re.search(r"sign/s\s+verify/s\s*\n\s*rsa2048\s+[\d.]+s\s+[\d.]+s\s+[\d.]+s\s+[\d.]+"
                  r"\s+([\d.]+)\s+([\d.]+)", out)
    if m:
        r["rsa2048 sign"] = float(m.group(1))
        r["rsa2048 verify"] = float(m.group(2))
    return r


def one_run(vmm, a, logdir, idx):
    r = {"vmm": vmm, "run": idx + 1, "ok": False}
    log = os.path.join(logdir, "userland-%s-%d.log" % (vmm, idx + 1))
    vm = driver.VM(argv_for(vmm, a), log=log)
    try:
        t0 = time.monotonic()
        vm.expect(PROMPT, a.timeout)
        r["boot_s"] = time.monotonic() - t0
        r.update(parse_7z(guest(vm, "7z b 1 -mmt1 -md18", a.timeout)))
        r.update(parse_speed(guest(
            vm, "openssl speed -seconds %d -bytes 16384 sha256 sha512 aes-128-cbc 2>/dev/null"
            % a.seconds, a.timeout)))
        r.update(parse_speed(guest(vm, "openssl speed -seconds %d rsa2048 2>/dev/null" % a.seconds,
                                   a.timeout)))
        missing = [m for m, _ in METRICS if m not in r]
        if missing:
            raise RuntimeError("no figure for %s (log: %s)" % (", ".join(missing), log))
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
    ap.add_argument("--guest", default=os.path.join(ROOT, "build", "bench-userland"))
    ap.add_argument("--seconds", type=int, default=2, help="openssl speed per test (s)")
    ap.add_argument("--timeout", type=float, default=900.0, help="per command (s)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench", "userland.json"))
    a = ap.parse_args()
    if a.runs < 1 or a.seconds < 1:
        ap.error("--runs and --seconds must be at least 1")
    for exe in (a.condo, a.qemu):
        if not shutil.which(exe):
            say("bench/userland: %s not found" % exe)
            return 2
    a.guest = os.path.abspath(a.guest)
    ensure_guest(a.guest)
    workdir = os.path.join(ROOT, "build", "bench", "userland-work")
    logdir = os.path.join(ROOT, "build", "bench", "logs")
    os.makedirs(workdir, exist_ok=True)
    os.makedirs(logdir, exist_ok=True)
    # A private copy of condo: a rebuild during the run cannot mix binaries.
    priv = os.path.join(workdir, "condo")
    shutil.copy2(shutil.which(a.condo), priv)
    with open(priv, "rb") as f:
        condo_sha = hashlib.sha256(f.read()).hexdigest()
    a.condo = priv
    load_start = os.getloadavg()
    say("load average at start: %.2f %.2f %.2f" % load_start)

    runs = []
    failed = False
    for i in range(a.runs):
        for vmm in VMMS:
            r = one_run(vmm, a, logdir, i)
            r["loadavg_after"] = os.getloadavg()[0]
            runs.append(r)
            if r["ok"]:
                say("run %d %-5s " % (i + 1, vmm) + "  ".join(
                    "%s %.1f" % (m, r[m]) for m, _ in METRICS))
            else:
                failed = True
                say("run %d %-5s FAILED: %s" % (i + 1, vmm, r["error"]))

    summary = {}
    for m, unit in METRICS:
        row = {"unit": unit}
        for vmm in VMMS:
            vals = [r[m] for r in runs if r["vmm"] == vmm and r.get("ok")]
            row[vmm] = {"median": statistics.median(vals) if vals else None,
                        "min": min(vals) if vals else None,
                        "max": max(vals) if vals else None, "n": len(vals)}
        c, q = row["condo"]["median"], row["qemu"]["median"]
        row["time_ratio_condo_over_qemu"] = (q / c) if c and q else None
        summary[m] = row

    n = summary[METRICS[0][0]]
    say("")
    say("| program | unit | condo (median of %d) | QEMU (median of %d) | time condo/QEMU |"
        % (n["condo"]["n"], n["qemu"]["n"]))
    say("|---|---|---:|---:|---:|")
    for m, unit in METRICS:
        row = summary[m]

        def f(x):
            return "-" if x is None else ("%.0f" % x if x >= 100 else "%.1f" % x)
        ratio = row["time_ratio_condo_over_qemu"]
        say("| %s | %s | %s | %s | %s |" % (m, unit, f(row["condo"]["median"]),
                                            f(row["qemu"]["median"]),
                                            "-" if ratio is None else "%.2f" % ratio))
    load_end = os.getloadavg()
    say("\nload average at start %.2f, at end %.2f (1 min)" % (load_start[0], load_end[0]))
    qv = subprocess.run([a.qemu, "--version"], stdout=subprocess.PIPE, text=True).stdout
    pk = os.path.join(a.guest, "PACKAGES")
    doc = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": {"machine": platform.machine(), "kernel": platform.release(),
                 "cpus": os.cpu_count()},
        "qemu": qv.splitlines()[0] if qv else None,
        "condo_sha256": condo_sha,
        "guest_packages": open(pk).read().splitlines() if os.path.exists(pk) else None,
        "loadavg": {"start": load_start, "end": load_end},
        "params": {"runs": a.runs, "seconds": a.seconds, "guest": a.guest},
        "summary": summary, "runs": runs,
    }
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=2)
    say("\nwrote %s" % a.out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
