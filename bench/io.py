#!/usr/bin/env python3
"""Disk and network I/O, condo versus QEMU, side by side in one run.

    bench/io.py [--runs N] [--condo PATH] [--qemu PATH] [--guest DIR]
                [--disk-mib M] [--ops K] [--fsync-ops F] [--net-mib M]
                [--only net|disk] [--out FILE] [--baseline OLD-CONDO]

Boots the same guest (default build/bench-guest-io: the default guest plus
bench/io's static `randio` at /opt/extra, built on demand with
`guest/build-guest.sh --extra`) alternately under condo and under Debian's
qemu-system-riscv64 (virt machine, 512 MiB, virtio-mmio disk with
cache=writeback and a user-mode virtio-net card), N times each (default 3),
each boot on a fresh sparse raw image of 256 MiB, and inside the guest
measures:

  seq-write  dd if=/dev/zero of=/dev/vda bs=1M count=M conv=fsync
  seq-read   echo 3 > /proc/sys/vm/drop_caches; then P passes (default 8)
             of dd if=/dev/vda of=/dev/null bs=1M count=M iflag=direct
  rand-read  /opt/extra/randio /dev/vda K: K preads of 4 KiB at random
             aligned offsets, O_DIRECT, queue depth 1; prints ops/s
  rand-write the same with pwrite (randio ... write)
  fsync      F pwrites of 4 KiB, each followed by fdatasync (a flush
             request each: the host's fdatasync), randio ... fsync
  net-tx     dd if=/dev/zero bs=64k count=... | nc 10.0.2.2 PORT: M MiB
             from guest to a TCP sink on the host's 127.0.0.1:PORT; time
             from the sink's first to its last byte (host clock)
  net-tx-httpd  the host fetches M MiB of a file from the guest's busybox
             httpd (which uses sendfile: large writes, unlike nc's 1 KiB
             ones) through hostfwd=tcp:127.0.0.1:HPORT-:8080 (host clock)
  net-rx     nc 10.0.2.2 PORT </dev/null | wc -c: M MiB from a TCP source
             on the host's 127.0.0.1:PORT to the guest, which counts them
             (must be all); the guest's /proc/uptime around the command

--only net (or disk) skips the other half (and then needs no randio:
the default guest will do, e.g. --guest build/guest).

With --baseline, a second condo binary (say, a build of the previous
commit) runs in the same rotation (baseline, condo, QEMU, ...): a before
and after, side by side with QEMU, in one run.

The dd timings are the guest's /proc/uptime (10 ms resolution) read just
before and after dd in the same shell command; the host-side wall time of
the whole command is recorded too. Prints medians, the ratio condo/QEMU
(higher = condo faster for every metric here) and writes every run to
build/bench/io.json. Timings are reported, never asserted: the exit status
is 0 unless something failed to run (1) or the options were wrong (2).
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))
import driver  # noqa: E402

VMMS = ("condo", "qemu")
METRICS = (("seq-write", "MiB/s"), ("seq-read", "MiB/s"),
           ("rand-read", "IOPS"), ("rand-write", "IOPS"), ("fsync", "ops/s"),
           ("net-tx", "MiB/s"), ("net-tx-httpd", "MiB/s"), ("net-rx", "MiB/s"))
PROMPT = r"~ # "
IMG_MIB = 256


def say(*a):
    print(*a, flush=True)


class Sink:
    """A TCP sink on 127.0.0.1: counts bytes of one connection and the
    host time from its first to its last byte."""

    def __init__(self):
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.result = None
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        try:
            self.srv.settimeout(600)
            c, _ = self.srv.accept()
            c.settimeout(120)
            n, t0, t1 = 0, None, None
            while True:
                d = c.recv(1 << 17)
                if not d:
                    break
                now = time.monotonic()
                if t0 is None:
                    t0 = now
                n += len(d)
                t1 = now
            c.close()
            self.result = (n, (t1 - t0) if t0 is not None else None)
        except OSError as e:
            self.result = (0, None, str(e))
        finally:
            self.done.set()
            self.srv.close()


class Source:
    """A TCP source on 127.0.0.1: sends n bytes to the first connection,
    then closes it."""

    def __init__(self, n):
        self.n = n
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        try:
            self.srv.settimeout(600)
            c, _ = self.srv.accept()
            c.settimeout(300)
            chunk = b"\0" * (1 << 16)
            left = self.n
            while left > 0:
                k = min(left, len(chunk))
                c.sendall(chunk[:k])
                left -= k
            c.close()
        except OSError:
            pass
        finally:
            self.done.set()
            self.srv.close()


def ensure_guest(gdir):
    if os.path.exists(os.path.join(gdir, "initramfs.cpio")):
        return
    extra = os.path.join(ROOT, "build", "bench", "io-extra")
    subprocess.run(["make", "-C", os.path.join(HERE, "io"), "OUT=" + extra], check=True)
    subprocess.run([os.path.join(ROOT, "guest", "build-guest.sh"), "--out", gdir,
                    "--extra", extra], check=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def argv_for(vmm, a, img):
    g = a.guest
    fwd = "hostfwd=tcp:127.0.0.1:%d-:8080" % a.http_port
    if vmm in ("condo", "baseline"):
        return [a.condo if vmm == "condo" else a.baseline, "run", "--memory", "512M",
                "--bios", os.path.join(g, "fw_dynamic.bin"),
                "--kernel", os.path.join(g, "Image"),
                "--initrd", os.path.join(g, "initramfs.cpio"),
                "--append", "console=ttyS0 panic=-1",
                "--disk", img + ",format=raw", "--net", "user," + fwd]
    return [a.qemu, "-machine", "virt", "-m", "512M", "-nographic",
            "-bios", os.path.join(g, "fw_dynamic.bin"),
            "-kernel", os.path.join(g, "Image"),
            "-initrd", os.path.join(g, "initramfs.cpio"),
            "-append", "console=ttyS0 panic=-1",
            "-drive", "file=%s,format=raw,if=none,id=d0,cache=writeback" % img,
            "-device", "virtio-blk-device,drive=d0",
            "-netdev", "user,id=n0," + fwd, "-device", "virtio-net-device,netdev=n0"]


def uptime_dd(vm, cmd, timeout):
    """Run cmd between two reads of /proc/uptime; (guest s, host s, output)."""
    line = "u0=$(cut -d' ' -f1 /proc/uptime); %s; r=$?; u1=$(cut -d' ' -f1 /proc/uptime); " \
           "echo UPTIME $u0 $u1; [ $r = 0 ]" % cmd
    t = time.monotonic()
    status, out = vm.run(line, timeout)
    host = time.monotonic() - t
    if status != 0:
        raise RuntimeError("`%s` failed (%d): %s" % (cmd, status, out[-300:]))
    m = re.search(r"UPTIME ([\d.]+) ([\d.]+)", out)
    if not m:
        raise RuntimeError("no uptime in %r" % out[-300:])
    return float(m.group(2)) - float(m.group(1)), host, out


def one_run(vmm, a, logdir, idx):
    a.http_port = free_port()
    img = os.path.join(a.workdir, "io-%s.img" % vmm)
    if os.path.exists(img):
        os.unlink(img)
    with open(img, "wb") as f:
        f.truncate(IMG_MIB << 20)
    log = os.path.join(logdir, "io-%s-%d.log" % (vmm, idx))
    if os.path.exists(log):
        os.unlink(log)
    vm = driver.VM(argv_for(vmm, a, img), log=log)
    r = {"vmm": vmm, "run": idx}
    try:
        vm.expect(PROMPT, 180)
        vm.run("dmesg -n 1", 60)
        # Same devices under both VMMs: one disk as vda, one NIC as eth0.
        # udhcpc may still be at work when the prompt appears: wait for it.
        st, out = vm.run("for i in $(seq 1 120); do ip -o addr show eth0 | grep -q 10.0.2.15 "
                         "&& break; sleep 0.5; done; ls /sys/block | grep vd; "
                         "ip -o addr show eth0", 90)
        if "vda" not in out or "10.0.2.15" not in out:
            raise RuntimeError("%s guest: no vda or eth0 without 10.0.2.15: %r" % (vmm, out))
        t = a.timeout
        if a.only != "net":
            disk_tests(vm, a, r, t)
        if a.only != "disk":
            net_tests(vm, a, r, t)
        vm.sendline("poweroff")
        vm.wait_exit(60)
        r["ok"] = True
    except (driver.DriverError, RuntimeError, OSError) as e:
        r["ok"] = False
        r["error"] = str(e).split("\n")[0]
    finally:
        vm.kill()
        try:
            os.unlink(img)
        except OSError:
            pass
    return r


def disk_tests(vm, a, r, t):
    g, h, _ = uptime_dd(vm, "dd if=/dev/zero of=/dev/vda bs=1M count=%d conv=fsync 2>/dev/null"
                        % a.disk_mib, t)
    r["seq-write"] = a.disk_mib / g if g > 0 else None
    r["seq-write-host-s"], r["seq-write-guest-s"] = h, g
    vm.run("sync; echo 3 > /proc/sys/vm/drop_caches", t)
    g, h, _ = uptime_dd(vm, "bad=0; for p in %s; do dd if=/dev/vda of=/dev/null bs=1M "
                        "count=%d iflag=direct 2>/dev/null || bad=1; done; [ $bad = 0 ]"
                        % (" ".join(str(i) for i in range(a.read_passes)), a.disk_mib), t)
    r["seq-read"] = a.disk_mib * a.read_passes / g if g > 0 else None
    r["seq-read-host-s"], r["seq-read-guest-s"] = h, g
    for metric, mode, n in (("rand-read", "read", a.ops), ("rand-write", "write", a.ops),
                            ("fsync", "fsync", a.fsync_ops)):
        st, out = vm.run("/opt/extra/randio /dev/vda %d 1 %s" % (n, mode), t)
        m = re.search(r"= ([\d.]+) ops/s", out)
        if st != 0 or not m:
            raise RuntimeError("randio %s failed (%d): %r" % (mode, st, out[-300:]))
        r[metric] = float(m.group(1))


def net_tests(vm, a, r, t):
    sink = Sink()
    count = a.net_mib * 16
    st, out = vm.run("dd if=/dev/zero bs=64k count=%d 2>/dev/null | nc 10.0.2.2 %d"
                     % (count, sink.port), t)
    sink.done.wait(60)
    if not sink.result or sink.result[0] != count * 65536 or not sink.result[1]:
        raise RuntimeError("net: sink got %r, want %d bytes (nc status %d %r)"
                           % (sink.result, count * 65536, st, out[-200:]))
    r["net-tx"] = sink.result[0] / 1048576 / sink.result[1]
    r["net-tx-host-s"] = sink.result[1]
    # guest -> host with large writes: the guest's httpd sends a file
    # (sendfile), the host fetches it through the forwarded port
    vm.run("mkdir -p /tmp/www && dd if=/dev/zero of=/tmp/www/z bs=1M count=%d 2>/dev/null "
           "&& httpd -p 8080 -h /tmp/www" % a.net_mib, t)
    t0 = time.monotonic()
    with urllib.request.urlopen("http://127.0.0.1:%d/z" % a.http_port, timeout=t) as resp:
        n = len(resp.read())
    host_s = time.monotonic() - t0
    vm.run("killall httpd; rm -f /tmp/www/z", t)
    if n != a.net_mib << 20:
        raise RuntimeError("net-tx-httpd: got %d bytes, want %d" % (n, a.net_mib << 20))
    r["net-tx-httpd"] = a.net_mib / host_s
    r["net-tx-httpd-host-s"] = host_s
    # host -> guest: the guest's nc connects to a source on the host
    total = a.net_mib << 20
    src = Source(total)
    g, h, out = uptime_dd(vm, "nc 10.0.2.2 %d </dev/null | wc -c" % src.port, t)
    src.done.wait(60)
    m = re.search(r"^\s*(\d+)\s*$", out, re.M)
    if not m or int(m.group(1)) != total:
        raise RuntimeError("net-rx: guest counted %r, want %d" % (out[-200:], total))
    r["net-rx"] = total / 1048576 / g if g > 0 else None
    r["net-rx-guest-s"], r["net-rx-host-s"] = g, h


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--condo", default=os.path.join(ROOT, "build", "condo"))
    ap.add_argument("--baseline", help="another condo binary to run alongside (before/after)")
    ap.add_argument("--qemu", default=shutil.which("qemu-system-riscv64") or "qemu-system-riscv64")
    ap.add_argument("--guest", default=os.path.join(ROOT, "build", "bench-guest-io"))
    ap.add_argument("--disk-mib", type=int, default=128, help="sequential size (<= 256)")
    ap.add_argument("--read-passes", type=int, default=8,
                    help="sequential read passes over the first --disk-mib MiB")
    ap.add_argument("--ops", type=int, default=10000, help="random 4 KiB reads, and writes")
    ap.add_argument("--fsync-ops", type=int, default=1000, help="4 KiB writes + fdatasync")
    ap.add_argument("--net-mib", type=int, default=16, help="MiB sent each way")
    ap.add_argument("--only", choices=("net", "disk"), help="run only these tests")
    ap.add_argument("--timeout", type=float, default=300.0, help="per command (s)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench", "io.json"))
    a = ap.parse_args()
    if (a.runs < 1 or not 1 <= a.disk_mib <= IMG_MIB or a.ops < 1 or a.net_mib < 1
            or a.read_passes < 1 or a.fsync_ops < 1):
        ap.error("bad sizes")
    for exe in (a.condo, a.qemu):
        if not shutil.which(exe):
            say("bench/io: %s not found" % exe)
            return 2
    a.guest = os.path.abspath(a.guest)
    if a.only != "net":
        ensure_guest(a.guest)
    a.workdir = os.path.join(ROOT, "build", "bench", "io-work")
    logdir = os.path.join(ROOT, "build", "bench", "logs")
    os.makedirs(a.workdir, exist_ok=True)
    os.makedirs(logdir, exist_ok=True)

    # A private copy of condo: a rebuild during the run cannot mix binaries.
    priv = os.path.join(a.workdir, "condo")
    shutil.copy2(shutil.which(a.condo), priv)
    with open(priv, "rb") as f:
        condo_sha = hashlib.sha256(f.read()).hexdigest()
    a.condo = priv
    vmms = VMMS
    baseline_sha = None
    if a.baseline:
        if not shutil.which(a.baseline):
            say("bench/io: %s not found" % a.baseline)
            return 2
        bpriv = os.path.join(a.workdir, "condo-baseline")
        shutil.copy2(shutil.which(a.baseline), bpriv)
        with open(bpriv, "rb") as f:
            baseline_sha = hashlib.sha256(f.read()).hexdigest()
        a.baseline = bpriv
        vmms = ("baseline",) + VMMS
    load_start = os.getloadavg()
    say("load average at start: %.2f %.2f %.2f" % load_start)

    runs = []
    failed = False
    for i in range(a.runs):
        for vmm in vmms:
            r = one_run(vmm, a, logdir, i)
            r["loadavg_after"] = os.getloadavg()[0]
            runs.append(r)
            if r["ok"]:
                say("run %d %-8s " % (i + 1, vmm) + "  ".join(
                    "%s %.1f" % (m, r[m]) for m, _ in METRICS if r.get(m) is not None))
            else:
                failed = True
                say("run %d %-8s FAILED: %s" % (i + 1, vmm, r["error"]))

    summary = {}
    for m, unit in METRICS:
        row = {"unit": unit}
        for vmm in vmms:
            vals = [r[m] for r in runs if r["vmm"] == vmm and r.get(m) is not None]
            row[vmm] = {"median": statistics.median(vals) if vals else None,
                        "min": min(vals) if vals else None,
                        "max": max(vals) if vals else None, "n": len(vals)}
        c, q = row["condo"]["median"], row["qemu"]["median"]
        row["ratio_condo_over_qemu"] = (c / q) if c and q else None
        if a.baseline:
            b = row["baseline"]["median"]
            row["ratio_baseline_over_qemu"] = (b / q) if b and q else None
        summary[m] = row

    say("")
    n = summary["net-tx" if a.only == "net" else "seq-write"]
    if a.baseline:
        say("| metric | unit | baseline (median of %d) | condo (median of %d) | QEMU (median of %d) "
            "| baseline/QEMU | condo/QEMU | condo/baseline |" % (
                n["baseline"]["n"], n["condo"]["n"], n["qemu"]["n"]))
        say("|---|---|---:|---:|---:|---:|---:|---:|")
    else:
        say("| metric | unit | condo (median of %d) | QEMU (median of %d) | condo/QEMU |" % (
            n["condo"]["n"], n["qemu"]["n"]))
        say("|---|---|---:|---:|---:|")

    def f(x):
        return "-" if x is None else ("%.0f" % x if x >= 100 else "%.1f" % x)

    def ratio(x, y):
        return "-" if not x or not y else "%.2f" % (x / y)
    for m, unit in METRICS:
        row = summary[m]
        c, q = row["condo"]["median"], row["qemu"]["median"]
        if a.baseline:
            b = row["baseline"]["median"]
            say("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                m, unit, f(b), f(c), f(q), ratio(b, q), ratio(c, q), ratio(c, b)))
        else:
            say("| %s | %s | %s | %s | %s |" % (m, unit, f(c), f(q), ratio(c, q)))

    load_end = os.getloadavg()
    say("\nload average at start %.2f, at end %.2f (1 min)" % (load_start[0], load_end[0]))
    qv = subprocess.run([a.qemu, "--version"], stdout=subprocess.PIPE, text=True).stdout
    doc = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": {"machine": platform.machine(), "kernel": platform.release(),
                 "cpus": os.cpu_count()},
        "qemu": qv.splitlines()[0] if qv else None,
        "condo_sha256": condo_sha,
        "baseline_sha256": baseline_sha,
        "loadavg": {"start": load_start, "end": load_end},
        "params": {"runs": a.runs, "disk_mib": a.disk_mib, "ops": a.ops, "fsync_ops": a.fsync_ops,
                   "net_mib": a.net_mib, "only": a.only, "read_passes": a.read_passes, "image_mib": IMG_MIB, "guest": a.guest},
        "summary": summary, "runs": runs,
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=2)
    say("\nwrote %s" % a.out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
