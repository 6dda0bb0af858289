#!/usr/bin/env python3
"""condo versus QEMU, side by side in one run.

    bench/run.py [--runs N] [--only boot|cpu] [--condo PATH] [--qemu PATH]
                 [--guest DIR] [--out FILE] [--idle-seconds S] [--settle S]

Runs every measurement alternately under condo and under QEMU (condo,
QEMU, condo, QEMU, ...; N runs each, default 3) and prints medians, the
spread, and the ratio condo/QEMU; writes the figures and every single run
to build/bench/results.json. Measured (docs/BENCHMARKS.md says how):

  boot  the default guest (512 MiB, 1 vCPU): host wall time from launching
        the VMM to the kernel's "Run /init", to "condo-guest: ready" and to
        the first shell prompt; then, with the guest idle at the prompt,
        3 s of settling and 10 s of measuring the VMM's utime+stime
        (/proc/PID/stat) as a percentage of one core; then its peak RSS
        (VmHWM in /proc/PID/status); then `poweroff` and the time to exit.
  cpu   bench/cpu's bare-metal workload (int, mem, fp, all, and a trivial
        ELF that passes at once: the fixed start-up cost): wall time of the
        whole VMM process, nothing subtracted. QEMU runs it on its `spike`
        machine, condo with --bios none; both honour HTIF tohost.

Every VM runs in its own process group and is killed on timeout, error or
interrupt. Timings are reported, never asserted: the exit status is 0
unless something failed to run or a workload checksum differed (1), or
the options/files were wrong (2).
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.dont_write_bytecode = True  # leave no __pycache__ in tests/guest/
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))
import driver  # noqa: E402  (tests/guest/driver.py, Python stdlib only)

VMMS = ("condo", "qemu")
CPU_ELFS = ("trivial", "int", "mem", "fp", "all")
KERNEL_ARGS = "console=ttyS0 panic=-1"
MEMORY = "512M"
# Console landmarks of a boot of the default guest.
RE_INIT = r"Run /init as init process"
RE_READY = r"condo-guest: ready"
RE_PROMPT = r"~ # "
# Bare-metal exit codes of bench/cpu/workload.c (start.S for traps).
CPU_CODES = {1: "int checksum differs", 2: "mem checksum differs",
             3: "fp checksum differs", 99: "unexpected interrupt"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, flush=True)


# ------------------------------------------------------------ process info
def proc_cpu_seconds(pid):
    """utime + stime of the whole process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    # The command name (field 2) may hold spaces: split after its ')'.
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14, 15


def proc_status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def git_rev():
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0")  # read-only: never touch the index
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, env=env, timeout=10)
        if rev.returncode != 0:
            return "none (no commit yet)"
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, env=env, timeout=30)
        return rev.stdout.strip() + ("+uncommitted changes" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def first_line(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


def host_cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# ------------------------------------------------------------- commands
def boot_argv(vmm, a):
    g = a.guest
    fw, image, initrd = (os.path.join(g, n) for n in ("fw_dynamic.bin", "Image", "initramfs.cpio"))
    if vmm == "condo":
        return [a.condo, "run", "--cpus", "1", "--memory", MEMORY, "--bios", fw,
                "--kernel", image, "--initrd", initrd, "--append", KERNEL_ARGS]
    return [a.qemu, "-machine", "virt", "-smp", "1", "-m", MEMORY, "-nographic",
            "-bios", fw, "-kernel", image, "-initrd", initrd, "-append", KERNEL_ARGS]


def cpu_argv(vmm, elf, a):
    if vmm == "condo":
        return [a.condo, "run", "--cpus", "1", "--memory", MEMORY, "--bios", "none", "--kernel", elf]
    return [a.qemu, "-machine", "spike", "-smp", "1", "-m", MEMORY, "-bios", "none",
            "-nographic", "-monitor", "none", "-serial", "none", "-kernel", elf]


# ---------------------------------------------------------------- boot
NEVER = re.compile(r"(?!)")


def idle(vm, seconds):
    """Leave the guest alone for `seconds`, draining its console output so
    a chatty guest never blocks on a full pipe. Raises driver.Exited if
    the VM exits meanwhile."""
    try:
        vm.expect(NEVER, seconds)
    except driver.Timeout:
        pass


def bench_boot(vmm, run, a):
    """One boot to the prompt, idle and RSS measurement, poweroff.

    Returns a dict of figures; "error" is set when something failed."""
    r = {"vmm": vmm, "run": run, "loadavg1": os.getloadavg()[0]}
    logpath = os.path.join(a.logdir, "boot-%s-%d.log" % (vmm, run))
    vm = driver.VM(boot_argv(vmm, a), log=logpath)
    try:
        vm.expect(RE_INIT, a.timeout)
        r["to_init_s"] = vm.elapsed()
        vm.expect(RE_READY, a.timeout)
        r["to_ready_s"] = vm.elapsed()
        vm.expect(RE_PROMPT, a.timeout)
        r["to_prompt_s"] = vm.elapsed()
        # Idle: let the guest settle, then sample the VMM's CPU time. The
        # guest prints nothing while idle; drain anyway so a chatty guest
        # could never block on a full pipe.
        pid = vm.proc.pid
        idle(vm, a.settle)
        c0, w0 = proc_cpu_seconds(pid), time.monotonic()
        idle(vm, a.idle_seconds)
        c1, w1 = proc_cpu_seconds(pid), time.monotonic()
        r["idle_cpu_pct"] = 100.0 * (c1 - c0) / (w1 - w0)
        r["peak_rss_mib"] = proc_status_kib(pid, "VmHWM") / 1024.0
        t0 = vm.elapsed()
        vm.sendline("poweroff")
        code = vm.wait_exit(a.timeout)
        r["poweroff_s"] = vm.elapsed() - t0
        r["exit_code"] = code
        if code != 0:
            r["error"] = "exit status %d after poweroff (log: %s)" % (code, logpath)
    except driver.DriverError as e:
        r["error"] = "%s (log: %s)" % (str(e).splitlines()[0], logpath)
    except (OSError, TypeError) as e:  # /proc vanished: the VMM died
        r["error"] = "reading /proc failed: %s (log: %s)" % (e, logpath)
    finally:
        vm.kill()
    return r


# ----------------------------------------------------------------- cpu
LIVE = set()  # process groups of running VMs, killed on interrupt


def kill_group(proc, reap=True):
    """SIGKILL the process group of proc (start_new_session made one)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if reap:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            pass


def bench_cpu(vmm, elf_name, run, a):
    r = {"vmm": vmm, "run": run, "elf": elf_name, "loadavg1": os.getloadavg()[0]}
    elf = os.path.join(a.cpudir, elf_name + ".elf")
    logpath = os.path.join(a.logdir, "cpu-%s-%s-%d.log" % (elf_name, vmm, run))
    with open(logpath, "wb") as out:
        t0 = time.monotonic()
        proc = subprocess.Popen(cpu_argv(vmm, elf, a), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        LIVE.add(proc)
        timer = threading.Timer(a.cpu_timeout, kill_group, [proc, False])
        timer.start()
        try:
            # Blocking wait4: the wall time ends when the process is reaped,
            # and its own rusage comes with it.
            _, status, ru = os.wait4(proc.pid, 0)
            wall = time.monotonic() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            timer.cancel()
            kill_group(proc)  # its children too, if it left any
            LIVE.discard(proc)
    if wall >= a.cpu_timeout:
        r["error"] = "timeout after %g s (log: %s)" % (a.cpu_timeout, logpath)
        return r
    r["wall_s"] = wall
    r["cpu_s"] = ru.ru_utime + ru.ru_stime
    r["maxrss_mib"] = ru.ru_maxrss / 1024.0
    r["exit_code"] = proc.returncode
    if proc.returncode != 0:
        why = CPU_CODES.get(proc.returncode)
        if why is None and 100 <= proc.returncode < 164:
            why = "unexpected exception, mcause %d" % (proc.returncode - 100)
        r["error"] = "exit status %d%s (log: %s)" % (
            proc.returncode, ": " + why if why else "", logpath)
    return r


# -------------------------------------------------------------- report
BOOT_METRICS = [
    ("boot_to_init_s", "to_init_s", "boot: to \"Run /init\"", "s"),
    ("boot_to_ready_s", "to_ready_s", "boot: to \"condo-guest: ready\"", "s"),
    ("boot_to_prompt_s", "to_prompt_s", "boot: to first prompt", "s"),
    ("poweroff_s", "poweroff_s", "poweroff: command to exit", "s"),
    ("peak_rss_mib", "peak_rss_mib", "peak RSS, 512 MiB guest", "MiB"),
    ("idle_cpu_pct", "idle_cpu_pct", "idle guest: host CPU", "% core"),
]
CPU_LABELS = {"trivial": "cpu: trivial ELF (start-up)", "int": "cpu: int part",
              "mem": "cpu: mem part", "fp": "cpu: fp part", "all": "cpu: whole workload"}


def summarize(runs, field):
    """{vmm: {median, min, max, n, runs}} over the successful runs."""
    out = {}
    for vmm in VMMS:
        vals = [r[field] for r in runs if r["vmm"] == vmm and field in r and "error" not in r]
        if vals:
            out[vmm] = {"median": statistics.median(vals), "min": min(vals),
                        "max": max(vals), "n": len(vals), "runs": vals}
    if "condo" in out and "qemu" in out and out["qemu"]["median"] > 0:
        out["ratio"] = out["condo"]["median"] / out["qemu"]["median"]
    return out


def fmt(v, unit):
    if unit == "% core":
        return "%.2f" % v
    if unit == "MiB":
        return "%.0f" % v
    return "%.3f" % v


def table(summary, runs_n):
    rows = []
    for key, label, unit in summary["_order"]:
        s = summary[key]
        cells = []
        for vmm in VMMS:
            if vmm in s:
                m = s[vmm]
                cell = fmt(m["median"], unit)
                if m["n"] > 1:
                    cell += " (%s-%s)" % (fmt(m["min"], unit), fmt(m["max"], unit))
                cells.append(cell)
            else:
                cells.append("failed")
        ratio = "%.2f" % s["ratio"] if "ratio" in s else "n/a"
        rows.append(("%s [%s]" % (label, unit), cells[0], cells[1], ratio))
    heads = ("measurement (median of %d, min-max)" % runs_n, "condo", "QEMU", "condo/QEMU")
    widths = [max(len(r[i]) for r in rows + [heads]) for i in range(4)]
    line = "  ".join("%-*s" % (widths[0], heads[0]) if i == 0 else "%*s" % (widths[i], heads[i])
                     for i in range(4))
    out = [line, "-" * len(line)]
    for r in rows:
        out.append("  ".join("%-*s" % (widths[0], r[0]) if i == 0 else "%*s" % (widths[i], r[i])
                             for i in range(4)))
    return "\n".join(out)


# ---------------------------------------------------------------- main
def shortpath(p):
    rel = os.path.relpath(p)
    return p if rel.startswith("..") else rel


def on_signal(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 2)[2])
    ap.add_argument("--runs", type=int, default=3, help="runs per VMM and measurement (default 3)")
    ap.add_argument("--only", choices=("boot", "cpu"), help="only the boot (with RSS and idle) or the cpu part")
    ap.add_argument("--condo", default=os.path.join(ROOT, "build", "condo"), help="condo binary (default build/condo)")
    ap.add_argument("--qemu", default="qemu-system-riscv64", help="QEMU binary (default from PATH)")
    ap.add_argument("--guest", default=os.path.join(ROOT, "build", "guest"),
                    help="fw_dynamic.bin, Image, initramfs.cpio (guest/build-guest.sh)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench", "results.json"),
                    help="results file; console logs go to logs/ beside it")
    ap.add_argument("--settle", type=float, default=3.0, help="idle guest: seconds before measuring")
    ap.add_argument("--idle-seconds", type=float, default=10.0, help="idle guest: seconds measured")
    ap.add_argument("--timeout", type=float, default=300.0, help="per boot step (s)")
    ap.add_argument("--cpu-timeout", type=float, default=600.0, help="per workload run (s)")
    a = ap.parse_args()
    if a.runs < 1:
        ap.error("--runs must be at least 1")

    problems = []
    if not os.access(a.condo, os.X_OK):
        problems.append("%s not found: build it with `make`" % a.condo)
    if subprocess.run(["sh", "-c", 'command -v "$0" >/dev/null', a.qemu]).returncode != 0:
        problems.append("%s not found: scripts/install-deps.sh installs QEMU" % a.qemu)
    if a.only != "cpu":
        for n in ("fw_dynamic.bin", "Image", "initramfs.cpio"):
            if not os.path.isfile(os.path.join(a.guest, n)):
                problems.append("%s missing: run guest/build-guest.sh" % os.path.join(a.guest, n))
    if problems:
        for p in problems:
            print("bench: " + p, file=sys.stderr)
        return 2

    outdir = os.path.dirname(os.path.abspath(a.out))
    a.logdir = os.path.join(outdir, "logs")
    a.cpudir = os.path.join(ROOT, "build", "bench", "cpu")
    os.makedirs(a.logdir, exist_ok=True)
    for f in os.listdir(a.logdir):
        if f.endswith(".log"):
            os.unlink(os.path.join(a.logdir, f))
    if a.only != "boot":
        mk = subprocess.run(["make", "-s", "-C", os.path.join(HERE, "cpu"), "OUT=" + a.cpudir],
                            stdout=subprocess.DEVNULL)
        if mk.returncode != 0:
            print("bench: building bench/cpu failed (needs gcc and riscv64-unknown-elf-gcc)",
                  file=sys.stderr)
            return 1

    # Run a private copy of condo: the tree's binary may be rebuilt while
    # the benchmark runs, and one run must measure one binary.
    snap = os.path.join(outdir, "condo.bench")
    shutil.copy2(a.condo, snap + ".tmp")
    os.replace(snap + ".tmp", snap)
    with open(snap, "rb") as f:
        condo_sha = hashlib.sha256(f.read()).hexdigest()
    condo_orig, a.condo = a.condo, snap

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    meta = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": git_rev(),
        "condo": first_line([a.condo, "--version"]),
        "condo_binary": {"path": condo_orig, "sha256": condo_sha},
        "qemu": first_line([a.qemu, "--version"]),
        "host": "%s, %d cores (%s)" % (host_cpu(), os.cpu_count() or 0, platform.platform()),
        "loadavg_start": os.getloadavg(),
        "runs": a.runs,
        "commands": {
            "boot": {v: boot_argv(v, a) for v in VMMS},
            "cpu": {v: cpu_argv(v, "ELF", a) for v in VMMS},
        },
    }
    log("bench: %s at commit %s; %s vs %s; load average %.2f %.2f %.2f"
        % (meta["date"], meta["commit"], meta["condo"], meta["qemu"], *meta["loadavg_start"]))

    boot_runs, cpu_runs, errors = [], [], []
    interrupted = False
    try:
        if a.only != "cpu":
            for run in range(1, a.runs + 1):
                for vmm in VMMS:
                    r = bench_boot(vmm, run, a)
                    boot_runs.append(r)
                    if "error" in r:
                        errors.append("boot %s run %d: %s" % (vmm, run, r["error"]))
                        log("  boot %-5s run %d: FAILED: %s" % (vmm, run, r["error"]))
                    else:
                        log("  boot %-5s run %d: init %.2f s, ready %.2f s, prompt %.2f s, "
                            "idle %.2f%% core, peak RSS %.0f MiB, poweroff %.2f s"
                            % (vmm, run, r["to_init_s"], r["to_ready_s"], r["to_prompt_s"],
                               r["idle_cpu_pct"], r["peak_rss_mib"], r["poweroff_s"]))
        if a.only != "boot":
            for run in range(1, a.runs + 1):
                for elf in CPU_ELFS:
                    for vmm in VMMS:
                        r = bench_cpu(vmm, elf, run, a)
                        cpu_runs.append(r)
                        if "error" in r:
                            errors.append("cpu %s %s run %d: %s" % (elf, vmm, run, r["error"]))
                            log("  cpu %-7s %-5s run %d: FAILED: %s" % (elf, vmm, run, r["error"]))
                        else:
                            log("  cpu %-7s %-5s run %d: %.3f s wall, %.3f s CPU"
                                % (elf, vmm, run, r["wall_s"], r["cpu_s"]))
    except KeyboardInterrupt as e:
        interrupted = True
        errors.append("interrupted (%s)" % (e or "SIGINT"))
    finally:
        for proc in list(LIVE):
            kill_group(proc)
        try:
            os.unlink(snap)  # its sha256 is in the results
        except OSError:
            pass

    meta["loadavg_end"] = os.getloadavg()
    summary = {"_order": []}
    if boot_runs:
        for key, field, label, unit in BOOT_METRICS:
            summary[key] = summarize(boot_runs, field)
            summary["_order"].append((key, label, unit))
    if cpu_runs:
        for field, suffix, what in (("wall_s", "s", "wall"), ("cpu_s", "cpu_s", "user+sys")):
            for elf in CPU_ELFS:
                key = "cpu_%s_%s" % (elf, suffix)
                summary[key] = summarize([r for r in cpu_runs if r["elf"] == elf], field)
                summary["_order"].append((key, "%s, %s" % (CPU_LABELS[elf], what), "s"))

    print()
    print("condo vs QEMU, measured %s at commit %s (%s; %s)"
          % (meta["date"], meta["commit"], meta["condo"], meta["qemu"]))
    print("host: %s; load average %.2f at start, %.2f at end"
          % (meta["host"], meta["loadavg_start"][0], meta["loadavg_end"][0]))
    print(table(summary, a.runs))
    if errors:
        print("\nFAILED:")
        for e in errors:
            print("  " + e)

    order = summary.pop("_order")
    result = {"meta": meta, "summary": summary,
              "units": {k: u for k, _, u in order},
              "runs": {"boot": boot_runs, "cpu": cpu_runs},
              "errors": errors}
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    os.replace(tmp, a.out)
    print("\nwrote %s (console logs in %s)" % (shortpath(a.out), shortpath(a.logdir)))
    if interrupted:
        return 130
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
