#!/usr/bin/env python3
"""How many idle default guests (128 MiB each) this host holds.

    bench/scale.py [CONDO] [--max N] [--batch N] [--margin-mib M]
                   [--memory SIZE] [--rtt-bound S] [--balloon SPEC] [--keep]

Starts VMs with `condo start` in a private CONDO_HOME, a batch at a time
(default 10), and waits for each guest's ready line on its console socket.
After each batch it checks the bounds and stops adding VMs at the first
that breaks:
  - admission: `condo start` refused (exit 13: the overcommit policy),
  - memory: the host's MemAvailable would drop below --margin-mib (default
    3072: the machine is shared; going further makes the kernel's OOM
    killer pick processes, VMs or not),
  - response: a console round trip (`echo`, framed by a random marker) on
    three VMs (the newest, the oldest, one between) takes longer than
    --rtt-bound seconds (default 2),
  - idle CPU: all the VMs together use more than one host core (utime +
    stime over 3 s from /proc/PID/stat),
  - --max VMs (default 200).
At the end every VM held must answer a console round trip (8 at a time):
the count that did is reported, so a VM that stopped answering shows.
Reports: VMs held, which bound ended it, `condo start` latency (the command
returning: the VM runs) and time to the guest's ready line, per-VM memory
from /proc/PID/smaps (RSS; PSS, which counts the JIT's buffer once though
it is mapped twice, W^X; the guest RAM mapping's resident part, what the
guest touched; overhead = PSS minus that), idle CPU, and how long stopping
them all (`condo stop --force`) takes. Prints figures, never asserts;
exit status 1 only if nothing could be started.
"""
import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))
import test_vms  # noqa: E402  (Home, SockConsole, proc_cpu_s)


def say(*a):
    print(*a, flush=True)


def mem_available_mib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    return 0


def smaps(pid, guest_kib):
    """(rss, pss, guest-touched) in KiB of one VMM."""
    rss = pss = guest = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
        size = None
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                if line.startswith("Size:"):
                    size = int(line.split()[1])
                elif line.startswith("Rss:") and size == guest_kib:
                    guest = max(guest, int(line.split()[1]))
    except OSError:
        pass
    return rss, pss, guest


def rtt(home, name):
    c = test_vms.SockConsole(home.console_sock(name))
    try:
        c.drain(0.2)  # the scrollback
        word = secrets.token_hex(4)
        t0 = time.monotonic()
        st, out = c.run("echo %s" % word, timeout=30)
        return time.monotonic() - t0 if st == 0 and out.endswith(word) else float("inf")
    except Exception:
        return float("inf")
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("condo", nargs="?", default=os.path.join(ROOT, "build", "condo"))
    ap.add_argument("--max", type=int, default=200)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--margin-mib", type=int, default=3072)
    ap.add_argument("--memory", default="128M")
    ap.add_argument("--rtt-bound", type=float, default=2.0)
    ap.add_argument("--balloon", help="condo create --balloon SPEC (default: condo's, "
                    "on with free page reporting); `off` measures without it")
    ap.add_argument("--keep", action="store_true", help="leave the VMs running at the end")
    a = ap.parse_args()
    condo = os.path.abspath(a.condo)
    guest_kib = int(a.memory.rstrip("M")) * 1024
    tmp = tempfile.mkdtemp(prefix="condo-bench-scale-")
    home = test_vms.Home(condo, os.path.join(tmp, "home"))
    names, starts, readies = [], [], []
    ended = "--max %d reached" % a.max
    per_vm_mib = None
    say("host: %d CPUs, %d MiB available, load average %s" % (
        os.cpu_count(), mem_available_mib(), open("/proc/loadavg").read().split()[:3]))
    pool = ThreadPoolExecutor(max_workers=a.batch)
    try:
        while len(names) < a.max:
            avail = mem_available_mib()
            if per_vm_mib and avail - a.batch * per_vm_mib < a.margin_mib:
                ended = "memory: %d MiB available, a batch needs ~%d, margin %d" % (
                    avail, a.batch * per_vm_mib, a.margin_mib)
                break
            batch = ["s%03d" % (len(names) + i) for i in range(min(a.batch, a.max - len(names)))]
            refused = None
            t_batch = time.monotonic()
            for n in batch:
                extra = ["--balloon", a.balloon] if a.balloon else []
                rc, out, err = home("create", n, "--memory", a.memory, *extra)
                t0 = time.monotonic()
                rc, out, err = home("start", n)
                if rc == 13:
                    refused = err.strip()
                    home("rm", n)
                    break
                if rc != 0:
                    refused = "condo start %s: exit %d %s" % (n, rc, err.strip())
                    home("rm", n)
                    break
                starts.append(time.monotonic() - t0)
                names.append(n)

            def boot(n):
                c = test_vms.SockConsole(home.console_sock(n))
                try:
                    c.expect(r"condo-guest: ready", 600)
                    return time.monotonic() - t_batch
                finally:
                    c.close()
            started = [n for n in batch if n in names]
            readies += list(pool.map(boot, started))
            if refused:
                ended = "admission: " + refused
                break
            vms = home.ls()
            pids = [v["pid"] for v in vms.values() if v["state"] == "running"]
            if len(pids) != len(names):
                ended = "only %d of %d VMs running" % (len(pids), len(names))
                break
            c0 = sum(test_vms.proc_cpu_s(p) for p in pids)
            time.sleep(3)
            idle = 100 * (sum(test_vms.proc_cpu_s(p) for p in pids) - c0) / 3
            probe = sorted({names[0], names[len(names) // 2], names[-1]})
            rtts = [rtt(home, n) for n in probe]
            mems = [smaps(p, guest_kib) for p in pids[-a.batch:]]
            per_vm_mib = max(1, int(statistics.mean(m[1] for m in mems) / 1024))
            say("%4d VMs: idle CPU %5.1f%% of a core, round trips %s s, %d MiB available" % (
                len(names), idle, "/".join("%.2f" % t for t in rtts), mem_available_mib()))
            if max(rtts) > a.rtt_bound:
                ended = "response: a console round trip took %.2f s > %.1f s" % (
                    max(rtts), a.rtt_bound)
                break
            if idle > 100:
                ended = "idle CPU: %.0f%% > one core" % idle
                break
        vms = home.ls()
        pids = [v["pid"] for v in vms.values() if v["state"] == "running"]
        mems = [smaps(p, guest_kib) for p in pids]
        say("")
        say("VMs held: %d (ended by %s)" % (len(pids), ended))
        if not pids:
            return 1
        with ThreadPoolExecutor(max_workers=8) as ex:
            all_rtts = list(ex.map(lambda n: rtt(home, n), names))
        ok = [t for t in all_rtts if t != float("inf")]
        say("answering:             %d of %d VMs answered a console round trip (%s)" % (
            len(ok), len(names),
            "median %.2f s, max %.2f s" % (statistics.median(ok), max(ok)) if ok else "none"))
        c0 = sum(test_vms.proc_cpu_s(p) for p in pids)
        time.sleep(5)
        idle = 100 * (sum(test_vms.proc_cpu_s(p) for p in pids) - c0) / 5
        q = lambda xs: "median %.2f, max %.2f" % (statistics.median(xs), max(xs))  # noqa: E731
        say("condo start returns:   %s s" % q(starts))
        say("to the ready line:     %s s (from the batch's first start; batches of %d)" % (
            q(readies), a.batch))
        mib = lambda kib: kib / 1024  # noqa: E731
        say("per VM RSS:            median %.0f MiB (the JIT buffer counted twice: mapped RW "
            "and RX)" % mib(statistics.median(m[0] for m in mems)))
        say("per VM PSS:            median %.0f MiB" % mib(statistics.median(m[1] for m in mems)))
        say("guest RAM touched:     median %.0f MiB of %s" % (
            mib(statistics.median(m[2] for m in mems)), a.memory))
        say("VMM overhead:          median %.0f MiB (PSS minus guest RAM touched)" % mib(
            statistics.median(m[1] - m[2] for m in mems)))
        say("idle CPU, all VMs:     %.1f%% of a core (%.2f%% per VM)" % (idle, idle / len(pids)))
        say("host MemAvailable:     %d MiB" % mem_available_mib())
        rc, out, err = home("host")
        say(out.rstrip())
    finally:
        pool.shutdown()
        if not a.keep:
            t0 = time.monotonic()
            with ThreadPoolExecutor(max_workers=8) as ex:
                list(ex.map(lambda n: home("stop", "--force", n, timeout=60), names))
            say("stopping %d VMs (condo stop --force, 8 at a time): %.1f s" % (
                len(names), time.monotonic() - t0))
            home.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
