#!/usr/bin/env python3
"""CPU allocation between named VMs: --cpu-weight under contention and the
--cpu-limit cap, measured as host CPU from /proc/PID/stat.

    bench/vms.py [CONDO] [--seconds S] [--no-nobody] [--only weight|nice|limit]

Each scenario starts default guests (128 MiB) with `condo start` in a
private CONDO_HOME, waits for their prompt, starts `while :; do :; done &`
in each guest, lets it settle 2 s and measures each VMM's utime+stime over
S seconds (default 10) as a percentage of one host core.

  weight     two VMs with --cpu-weight 100 and 400, both VMMs (all their
             threads) pinned to host CPU 0 with taskset, so they contend
             for one core. Run as the invoking user: as root here the
             launcher uses a cgroup (v2 cpu.weight if delegated, else v1
             cpu.shares); `condo ls --json` says which.
  nice       the same as nobody (setpriv), where no cgroup is writable and
             the launcher falls back to nice: weights 25 and 100 (nice 6
             and 0; without root a VMM cannot be given a nice below 0, so
             100 vs 400 would both get nice 0).
  limit      one VM with --cpu-limit 25, not pinned, alone.

There is no QEMU figure: QEMU has neither knob (its share is whatever the
host scheduler gives a process). Prints figures, never asserts them; exit
status 1 only if a VM failed to start or answer.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))
import test_vms  # noqa: E402  (Home, SockConsole, proc_cpu_s)

SETPRIV = test_vms.SETPRIV


def say(*a):
    print(*a, flush=True)


def run_scenario(condo, tmp, label, specs, pin, seconds, wrap=()):
    """specs: [(name, [create options])]; returns {name: (cpu%, share)}."""
    base = os.path.join(tmp, label)
    os.makedirs(base)
    if wrap:
        os.chown(base, 65534, 65534)
    home = test_vms.Home(condo, os.path.join(base, "home"), wrap)
    cons = {}
    try:
        for name, opts in specs:
            for verb in (["create", name, "--memory", "128M"] + opts, ["start", name]):
                rc, out, err = home(*verb)
                if rc != 0:
                    raise RuntimeError("%s: condo %s: exit %d %s" % (label, verb[0], rc, err))
        vms = home.ls()
        for name, _ in specs:
            cons[name] = test_vms.SockConsole(home.console_sock(name))
            if not cons[name].boot():
                raise RuntimeError("%s: %s did not answer" % (label, name))
            if pin is not None:
                subprocess.run(["taskset", "-a", "-p", "-c", str(pin), str(vms[name]["pid"])],
                               check=True, stdout=subprocess.DEVNULL)
        for name, _ in specs:
            cons[name].send("while :; do :; done &\n")
        time.sleep(2)
        vms = home.ls()
        pids = {n: vms[n]["pid"] for n, _ in specs}
        c0 = {n: test_vms.proc_cpu_s(p) for n, p in pids.items()}
        t0 = time.monotonic()
        time.sleep(seconds)
        dt = time.monotonic() - t0
        res = {n: (100.0 * (test_vms.proc_cpu_s(p) - c0[n]) / dt, vms[n].get("cpu_share"))
               for n, p in pids.items()}
        return res
    finally:
        for c in cons.values():
            c.close()
        home.cleanup()
        for name, _ in specs:
            home("rm", "--force", name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("condo", nargs="?", default=os.path.join(ROOT, "build", "condo"))
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--no-nobody", action="store_true", help="skip the nice scenario")
    ap.add_argument("--only", choices=("weight", "nice", "limit"), help="one scenario")
    a = ap.parse_args()
    condo = os.path.abspath(a.condo)
    tmp = tempfile.mkdtemp(prefix="condo-bench-vms-")
    os.chmod(tmp, 0o755)
    say("host: %d CPUs, load average %s" % (os.cpu_count(), open("/proc/loadavg").read().split()[:3]))
    ok = True
    try:
        scen = [("weight", [("w100", ["--cpu-weight", "100"]), ("w400", ["--cpu-weight", "400"])],
                 0, ())]
        if not a.no_nobody and os.geteuid() == 0 and shutil.which("setpriv"):
            scen.append(("nice", [("w25", ["--cpu-weight", "25"]),
                                  ("w100", ["--cpu-weight", "100"])], 0, SETPRIV))
        scen.append(("limit", [("cap25", ["--cpu-limit", "25"])], None, ()))
        for label, specs, pin, wrap in scen:
            if a.only and label != a.only:
                continue
            try:
                res = run_scenario(condo, tmp, label, specs, pin, a.seconds, wrap)
            except Exception as e:  # a failed scenario is reported; the others still run
                say("%-7s FAILED: %s" % (label, e))
                ok = False
                continue
            for n, (pct, share) in res.items():
                say("%-7s %-5s %6.1f%% of a core   (%s)" % (label, n, pct, share))
            if len(res) == 2:
                (n1, (p1, _)), (n2, (p2, _)) = res.items()
                say("%-7s ratio %s/%s = %.2f%s" % (label, n2, n1, p2 / p1 if p1 else float("inf"),
                                                  "   (pinned to host CPU %d)" % pin
                                                  if pin is not None else ""))
        say("load average at the end: %s" % open("/proc/loadavg").read().split()[:3])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
