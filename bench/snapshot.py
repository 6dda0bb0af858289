#!/usr/bin/env python3
"""Snapshots: the guest's pause while a snapshot is taken, restore to the
first guest instruction and to the shell answering, and 20 clones of one
snapshot; condo and QEMU side by side in one run.

    bench/snapshot.py [--runs N] [--saves N] [--clones N] [--memory SIZE]
                      [--condo PATH] [--qemu PATH] [--guest DIR]
                      [--no-qemu] [--out FILE]

Both VMMs boot the default guest (build/guest) with one vCPU and 256 MiB
(`--memory`), start a counting loop in the shell (so the snapshot holds a
running guest) and then:

  pause     condo: Ctrl-A s, `--saves` times (default 10); the figure is
            the guest's pause that condo reports (from the request to
            stop the vCPUs to their release; the file is written by a
            forked child afterwards). QEMU: `migrate "exec:cat > FILE"`
            over its monitor, the same number of times (each from a fresh
            boot: a migrated QEMU stays stopped), reading the `downtime`
            QEMU reports for it. QEMU has no savevm without a qcow2 disk;
            migrate-to-file is its nearest equivalent.
  restore   `--runs` times (default 20): `condo run --restore FILE` (RAM
            mapped from the file) and `qemu-system-riscv64 ... -incoming
            "exec:cat FILE"`. condo: a command is typed at once, measured
            from just before the process is spawned to its answer. QEMU:
            the time until its monitor reports the VM running, then a
            command is typed (QEMU's restored guest loses what is typed
            while the stream loads; its shell then never answered) and
            given 5 s to answer (restores that did not are counted and
            left out of the figure). condo also
            reports (with -v) the time from its start to the first guest
            instruction, in-process and from the spawn.
  clones    `--clones` (default 20) restores of one snapshot at once, each
            its own process: the time until every one answered (QEMU:
            until every one runs), then each
            one's RSS and PSS (/proc/PID/smaps_rollup) next to a freshly
            booted VM's. condo's clones map the file copy-on-write, so
            pages they did not write are shared (PSS splits them).

Prints P50/P90 per figure and condo/QEMU ratios; everything goes to
build/bench/snapshot.json with the load average. Timings are reported,
never asserted: the exit status is 0 unless something failed to run (1).
"""
import argparse
import datetime
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))
import driver  # noqa: E402
from test_snapshot import PtyInVM, SNAP_LINE  # noqa: E402

READY = r"condo-guest: ready"
PROMPT = r"~ # "
APPEND = "console=ttyS0 panic=-1"
FIRST = r"first guest instruction ([0-9.]+) ms after condo started \(monotonic (\d+) ns\)"


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summary(xs):
    return {"p50": pct(xs, 50), "p90": pct(xs, 90), "n": len(xs),
            "min": min(xs) if xs else None, "max": max(xs) if xs else None}


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[:3]
    except OSError:
        return []


def mem_of(pid):
    """RSS and PSS in KiB of a process (smaps_rollup)."""
    rss = pss = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def guest_files(g):
    return [os.path.join(g, n) for n in ("fw_dynamic.bin", "Image", "initramfs.cpio")]


def condo_boot_argv(a, snapdir):
    fw, image, initrd = guest_files(a.guest)
    return [a.condo, "run", "--sandbox", "off", "--cpus", "1", "--memory", a.memory,
            "--bios", fw, "--kernel", image, "--initrd", initrd, "--append", APPEND,
            "--snapshot-dir", snapdir]


def qemu_argv(a, extra=()):
    fw, image, initrd = guest_files(a.guest)
    return [a.qemu, "-machine", "virt", "-smp", "1", "-m", a.memory, "-display", "none",
            "-serial", "stdio", "-bios", fw, "-kernel", image, "-initrd", initrd,
            "-append", APPEND] + list(extra)


def settle(vm):
    """Boot to the prompt, start the counting loop the snapshot holds."""
    vm.expect(READY, 120)
    vm.expect(PROMPT, 60)
    vm.run("(i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.2; done) "
           ">/dev/null 2>&1 &")
    time.sleep(1)


# ------------------------------------------------------------------ condo
def condo_saves(a, work, logdir):
    snapdir = os.path.join(work, "condo-snaps")
    os.makedirs(snapdir, exist_ok=True)
    vm = PtyInVM(condo_boot_argv(a, snapdir), log=os.path.join(logdir, "condo-save.log"))
    pauses, totals, files = [], [], []
    try:
        settle(vm)
        for _ in range(a.saves):
            vm.send("\x01s")
            m = vm.expect(SNAP_LINE, 120)
            files.append(m.group(1))
            pauses.append(float(m.group(2)))
            totals.append(float(m.group(5)))
            time.sleep(0.3)
        st, _ = vm.run("echo alive")
        if st != 0:
            raise RuntimeError("the guest stopped answering after the snapshots")
    finally:
        vm.kill()
    path = files[-1]
    for f in files[:-1]:
        os.unlink(f)
    sb = os.stat(path)
    return {"pause_ms": pauses, "writer_ms": totals, "file": path,
            "file_bytes": sb.st_size, "file_alloc_bytes": sb.st_blocks * 512}


def condo_restore_once(a, snap, log):
    t0 = time.monotonic_ns()
    vm = driver.VM([a.condo, "run", "-v", "--sandbox", "off", "--restore", snap], log=log)
    try:
        st, out = vm.run("echo alive", timeout=60)
        t_answer = (time.monotonic_ns() - t0) / 1e6
        if st != 0 or "alive" not in out:
            raise RuntimeError("restored guest did not answer: %r" % out)
    finally:
        vm.kill()
    text = open(log, errors="replace").read()
    m = None
    for m in re.finditer(FIRST, text):
        pass
    if not m:
        raise RuntimeError("no first-instruction line in " + log)
    return {"answer_ms": t_answer, "first_insn_inproc_ms": float(m.group(1)),
            "first_insn_spawn_ms": (int(m.group(2)) - t0) / 1e6}


def run_clones(argv_of, n, logdir, tag, settle_s=2.0):
    """n VMs at once; time until each answered; then RSS/PSS of each."""
    vms = []
    t0 = time.monotonic()
    try:
        for i in range(n):
            vms.append(driver.VM(argv_of(i), log=os.path.join(logdir, "%s-clone%d.log" % (tag, i))))
        hung = 0
        for vm in vms:
            try:
                st, out = vm.run("echo alive", timeout=120)
                if st != 0 or "alive" not in out:
                    hung += 1
            except driver.Timeout:
                hung += 1
        all_ms = (time.monotonic() - t0) * 1e3
        time.sleep(settle_s)
        mem = [mem_of(vm.proc.pid) for vm in vms]
    finally:
        for vm in vms:
            vm.kill()
    return {"all_answering_ms": all_ms, "rss_kib": [m[0] for m in mem],
            "pss_kib": [m[1] for m in mem], "never_answered": hung}


def booted_mem(argv, log, settle_fn):
    """RSS/PSS of one freshly booted VM, settled."""
    vm = driver.VM(argv, log=log)
    try:
        settle_fn(vm)
        time.sleep(2)
        return mem_of(vm.proc.pid)
    finally:
        vm.kill()


# ------------------------------------------------------------------- qemu
class Monitor:
    def __init__(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.s.settimeout(timeout)
        self.read_prompt()

    def read_prompt(self):
        buf = b""
        while not buf.endswith(b"(qemu) "):
            d = self.s.recv(4096)
            if not d:
                raise RuntimeError("QEMU monitor closed")
            buf += d
        return buf.decode(errors="replace")

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\n")
        return self.read_prompt()

    def close(self):
        self.s.close()


def qemu_save_once(a, work, logdir, i):
    mon = os.path.join(work, "qemu-mon.sock")
    path = os.path.join(work, "qemu.mig")
    vm = driver.VM(qemu_argv(a, ["-monitor", "unix:%s,server,nowait" % mon]),
                   log=os.path.join(logdir, "qemu-save%d.log" % i))
    try:
        settle(vm)
        m = Monitor(mon)
        m.cmd('migrate "exec:cat > %s"' % path)
        deadline = time.monotonic() + 120
        while True:
            info = m.cmd("info migrate")
            if re.search(r"Migration status: (completed|failed)", info):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("QEMU migration did not finish")
            time.sleep(0.05)
        m.close()
        if "completed" not in info:
            raise RuntimeError("QEMU migration failed: " + info)
        down = re.search(r"downtime: (\d+) ms", info)
        total = re.search(r"total time: (\d+) ms", info)
        return path, float(down.group(1)), float(total.group(1)) if total else None
    finally:
        vm.kill()


def qemu_restore_argv(a, path, mon):
    return qemu_argv(a, ["-monitor", "unix:%s,server,nowait" % mon,
                         "-incoming", "exec:cat %s" % path])


def wait_running(mon_path, timeout=60):
    """Poll QEMU's monitor until the incoming VM runs."""
    m = Monitor(mon_path, timeout)
    deadline = time.monotonic() + timeout
    try:
        while "running" not in m.cmd("info status"):
            if time.monotonic() > deadline:
                raise RuntimeError("QEMU's incoming VM did not start")
            time.sleep(0.005)
    finally:
        m.close()


def qemu_restore_once(a, path, work, log):
    """(ms to the VM running, ms to the typed command answered or None).
    Typed only once QEMU runs the VM: typed earlier, the restored guest's
    kernel echoed the line but its shell never ran it."""
    mon = os.path.join(work, "qemu-in.sock")
    t0 = time.monotonic_ns()
    vm = driver.VM(qemu_restore_argv(a, path, mon), log=log)
    try:
        wait_running(mon)
        t_run = (time.monotonic_ns() - t0) / 1e6
        try:
            st, out = vm.run("echo alive", timeout=5)
            t = (time.monotonic_ns() - t0) / 1e6 if st == 0 and "alive" in out else None
        except driver.Timeout:
            t = None
        return t_run, t
    finally:
        vm.kill()


def qemu_clones(a, path, n, work, logdir):
    """n incoming QEMUs at once: time until all run, then RSS/PSS."""
    vms = []
    t0 = time.monotonic()
    try:
        for i in range(n):
            mon = os.path.join(work, "qemu-clone%d.sock" % i)
            vms.append((driver.VM(qemu_restore_argv(a, path, mon),
                                  log=os.path.join(logdir, "qemu-clone%d.log" % i)), mon))
        for _, mon in vms:
            wait_running(mon, 300)
        all_ms = (time.monotonic() - t0) * 1e3
        time.sleep(2)
        mem = [mem_of(vm.proc.pid) for vm, _ in vms]
    finally:
        for vm, _ in vms:
            vm.kill()
    return {"all_running_ms": all_ms, "rss_kib": [m[0] for m in mem],
            "pss_kib": [m[1] for m in mem]}


# ------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="restores timed per VMM (20)")
    ap.add_argument("--saves", type=int, default=10, help="snapshots timed per VMM (10)")
    ap.add_argument("--clones", type=int, default=20, help="clones started at once (20)")
    ap.add_argument("--memory", default="256M", help="guest RAM (256M)")
    ap.add_argument("--condo", default=os.path.join(ROOT, "build", "condo"))
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--guest", default=os.environ.get("CONDO_GUEST_DIR",
                                                      os.path.join(ROOT, "build", "guest")))
    ap.add_argument("--no-qemu", action="store_true", help="condo only")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench", "snapshot.json"))
    a = ap.parse_args()
    for f in guest_files(a.guest):
        if not os.path.exists(f):
            print("missing %s: run guest/build-guest.sh" % f, file=sys.stderr)
            return 1
    use_qemu = not a.no_qemu
    if use_qemu and not shutil.which(a.qemu):
        print("%s not found (scripts/install-deps.sh installs it)" % a.qemu, file=sys.stderr)
        return 1
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    logdir = os.path.join(os.path.dirname(a.out), "snapshot-logs")
    os.makedirs(logdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="condo-bench-snap-", dir=os.path.dirname(a.out))
    # a private copy: a rebuild during the run cannot mix two binaries
    condo_copy = os.path.join(work, "condo")
    shutil.copy2(a.condo, condo_copy)
    a.condo = condo_copy
    res = {"meta": {"date": datetime.datetime.utcnow().isoformat() + "Z", "memory": a.memory,
                    "load_start": loadavg(), "runs": a.runs, "saves": a.saves,
                    "clones": a.clones}}
    failed = []
    try:
        print("condo: %d snapshots of a running %s guest ..." % (a.saves, a.memory), flush=True)
        cs = condo_saves(a, work, logdir)
        res["condo_save"] = cs
        snap = cs["file"]
        print("condo: %d restores ..." % a.runs, flush=True)
        rs = [condo_restore_once(a, snap, os.path.join(logdir, "condo-restore%d.log" % i))
              for i in range(a.runs)]
        res["condo_restore"] = rs
        print("condo: %d clones ..." % a.clones, flush=True)
        res["condo_clones"] = run_clones(
            lambda i: [a.condo, "run", "--sandbox", "off", "--restore", snap], a.clones,
            logdir, "condo")
        res["condo_booted_mem_kib"] = booted_mem(
            condo_boot_argv(a, work), os.path.join(logdir, "condo-booted.log"), settle)
    except (driver.DriverError, RuntimeError, OSError) as e:
        failed.append("condo: %s" % str(e).split("\n")[0])
    if use_qemu:
        try:
            print("qemu: %d migrations to a file ..." % a.saves, flush=True)
            downs, totals = [], []
            for i in range(a.saves):
                path, down, total = qemu_save_once(a, work, logdir, i)
                downs.append(down)
                totals.append(total)
            res["qemu_save"] = {"downtime_ms": downs, "total_ms": totals,
                                "file_bytes": os.path.getsize(path)}
            print("qemu: %d restores ..." % a.runs, flush=True)
            qr = [qemu_restore_once(a, path, work,
                                    os.path.join(logdir, "qemu-restore%d.log" % i))
                  for i in range(a.runs)]
            res["qemu_restore_running"] = [r[0] for r in qr]
            res["qemu_restore"] = [r[1] for r in qr if r[1] is not None]
            res["qemu_restore_silent"] = sum(1 for r in qr if r[1] is None)
            print("qemu: %d clones ..." % a.clones, flush=True)
            res["qemu_clones"] = qemu_clones(a, path, a.clones, work, logdir)
            res["qemu_booted_mem_kib"] = booted_mem(
                qemu_argv(a, ["-monitor", "none"]), os.path.join(logdir, "qemu-booted.log"),
                settle)
        except (driver.DriverError, RuntimeError, OSError) as e:
            failed.append("qemu: %s" % str(e).split("\n")[0])
    res["meta"]["load_end"] = loadavg()
    res["failed"] = failed
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)
    report(res)
    for f in failed:
        print("FAILED: " + f)
    return 1 if failed else 0


def report(res):
    m = res["meta"]
    print("\nsnapshot bench, %s guest; load average %s at the start, %s at the end" % (
        m["memory"], " ".join(m["load_start"]), " ".join(m.get("load_end", []))))
    rows = []

    def row(name, cx, qx, unit="ms"):
        c, q = summary(cx) if cx else None, summary(qx) if qx else None
        ratio = "%.3f" % (c["p50"] / q["p50"]) if c and q and q["p50"] else "-"
        fmt = (lambda s: "%8.1f / %8.1f" % (s["p50"], s["p90"])) if True else None
        rows.append((name, fmt(c) if c else "-", fmt(q) if q else "-", ratio, unit))

    cs, qs = res.get("condo_save"), res.get("qemu_save")
    row("pause while saving", cs and cs["pause_ms"], qs and qs["downtime_ms"])
    row("save, until the file is complete", cs and cs["writer_ms"],
        qs and [t for t in qs["total_ms"] if t is not None])
    cr, qr = res.get("condo_restore"), res.get("qemu_restore")
    row("restore: first guest instruction (in process)",
        cr and [r["first_insn_inproc_ms"] for r in cr], None)
    row("restore: first guest instruction (from spawn)",
        cr and [r["first_insn_spawn_ms"] for r in cr], None)
    row("restore: VM running (QEMU: monitor says so)", None, res.get("qemu_restore_running"))
    row("restore: typed command answered (from spawn)", cr and [r["answer_ms"] for r in cr], qr)
    print("%-48s %19s %19s %7s" % ("P50 / P90", "condo", "QEMU", "c/Q"))
    for name, c, q, ratio, unit in rows:
        print("%-48s %19s %19s %7s %s" % (name, c, q, ratio, unit))
    for vmm in ("condo", "qemu"):
        cl = res.get(vmm + "_clones")
        if not cl:
            continue
        booted = res.get(vmm + "_booted_mem_kib") or (0, 0)
        n = len(cl["rss_kib"])
        print("%s: %d clones all %s after %.0f ms%s; per clone RSS %.1f MiB, PSS %.1f MiB "
              "(mean); one booted VM: RSS %.1f MiB, PSS %.1f MiB" % (
                  vmm, n, "answering" if "all_answering_ms" in cl else "running",
                  cl.get("all_answering_ms", cl.get("all_running_ms")),
                  " (%d never answered)" % cl["never_answered"] if cl.get("never_answered")
                  else "",
                  statistics.mean(cl["rss_kib"]) / 1024,
                  statistics.mean(cl["pss_kib"]) / 1024, booted[0] / 1024, booted[1] / 1024))
    if res.get("qemu_restore_silent"):
        print("QEMU: %d of %d restored guests never answered a typed command within 5 s "
              "(not in the figures)" % (res["qemu_restore_silent"],
                                        len(res.get("qemu_restore_running", []))))
    if cs:
        print("condo snapshot file: %.1f MiB long, %.1f MiB on disk (zero pages are holes)" % (
            cs["file_bytes"] / 2**20, cs["file_alloc_bytes"] / 2**20))
    if qs:
        print("QEMU migration file: %.1f MiB" % (qs["file_bytes"] / 2**20))


if __name__ == "__main__":
    sys.exit(main())
