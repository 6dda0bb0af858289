#!/usr/bin/env python3
"""Snapshots of a running guest: Ctrl-A s, then `condo run --restore`.

usage: tests/guest/test_snapshot.py [CONDO] [--guest DIR] [--log-dir DIR]

The default guest runs with its console on a pipe for output and a
pseudo-terminal for input (so condo's escape keys work), `--sandbox off`
(the sandbox does not yet let the VM process write snapshots) and
`--snapshot-dir`. What is checked:

 1. a counting loop runs in the guest (a counter in /tmp, the initramfs's
    RAM), and a marker file holds a random token; Ctrl-A s writes a
    snapshot (condo names the file and the pause); the VM then scribbles:
    the marker is overwritten, and a 32 MiB file of random bytes fills RAM;
    then the VM is killed (SIGKILL);
 2. `condo run --restore FILE`: the shell answers, the marker holds the
    token again, the scribble is gone, the counter continues from where it
    was at the snapshot (not from zero, not backwards) and keeps counting
    (so timers fire), and the guest's monotonic clock did not go back;
 3. the same snapshot restored a second time (branching) gives the same
    token, independent of what the first restored VM did;
 4. restore 1 takes a snapshot of itself (its RAM is mapped from the first
    file: untouched pages must come from there) and that one restores
    with restore 1's marker and the count going on;
 5. a truncated and a corrupted copy of the snapshot (a byte of the
    checksummed machine section; the mapped RAM is guest memory and is
    not checksummed, as a memory file's), a newer version and a file that
    is not a snapshot are refused with exit status 2 and one line naming
    the file;
 6. on 2 vCPUs, with two guest loops rewriting 48 MiB as fast as they can,
    Ctrl-A s gives a consistent snapshot (the writer child sees RAM frozen
    at the fork): a 16 MiB file's md5 is intact after the restore; and a
    SIGKILL of the VM during the next save takes the forked writer with
    it (the first snapshot, restored after, stays intact).
Prints PASS/FAIL per check, the figures measured (pause, file size, time
to the shell answering), and `N passed, M failed`; exits 1 if any check
failed.
"""
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import driver  # noqa: E402
import guestlib  # noqa: E402
from guestlib import say  # noqa: E402

SNAP_LINE = r"snapshot (\S+) written \(guest paused ([0-9.]+) ms, (\d+) non-zero pages, (\d+) bytes; ([0-9.]+) ms in all\)"


class PtyInVM(driver.VM):
    """driver.VM whose stdin is a pseudo-terminal (condo's escape keys
    work only on a terminal); output stays a pipe."""

    def __init__(self, argv, log=None):
        master, slave = os.openpty()
        self.master = master
        real_popen = subprocess.Popen

        def popen(args, stdin=None, **kw):
            return real_popen(args, stdin=slave, **kw)
        subprocess.Popen = popen
        try:
            super().__init__(argv, log=log)
        finally:
            subprocess.Popen = real_popen
        os.close(slave)
        self.proc.stdin = os.fdopen(master, "wb", buffering=0)


def count_of(vm):
    status, out = vm.run("cat /tmp/count")
    m = re.search(r"(\d+)", out)
    return int(m.group(1)) if status == 0 and m else -1


def start_counting(vm, token):
    """Write token to /tmp/mark and start a loop that counts in /tmp/count
    every 0.2 s: (ok, detail) for a Steps step."""
    vm.run("echo %s > /tmp/mark" % token)
    vm.run("(i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.2; done) "
           ">/dev/null 2>&1 &")
    time.sleep(2)
    c = count_of(vm)
    return c > 0, "counting (%d)" % c


def uptime(vm):
    status, out = vm.run("cut -d' ' -f1 /proc/uptime")
    try:
        return float(out.strip().split()[-1])
    except (ValueError, IndexError):
        return -1.0


def section_of(data, tag):
    """(offset, length) of a section in a snapshot file's table."""
    n = int.from_bytes(data[12:16], "little")
    for i in range(n):
        e = data[64 + 48 * i:64 + 48 * (i + 1)]
        if e[:16].rstrip(b"\0").decode() == tag:
            return int.from_bytes(e[24:32], "little"), int.from_bytes(e[32:40], "little")
    raise ValueError("no section " + tag)


def body(r, condo, log_dir):
    snapdir = os.path.join(log_dir, "snaps")
    os.makedirs(snapdir, exist_ok=True)
    for f in os.listdir(snapdir):
        p = os.path.join(snapdir, f)
        if os.path.isdir(p):
            shutil.rmtree(p)
        else:
            os.unlink(p)
    token = secrets.token_hex(8)
    state = {}
    vm = PtyInVM([condo, "run"] + guestlib.cpus_args() + ["--sandbox", "off", "--snapshot-dir", snapdir],
                 log=os.path.join(log_dir, "console-orig.log"))
    steps = guestlib.Steps(r, vm)
    try:
        steps("the guest boots", lambda: guestlib.boot(vm))

        steps("a counting loop runs", lambda: start_counting(vm, token))

        def snap():
            state["before"] = count_of(vm)
            state["up_before"] = uptime(vm)
            vm.send("\x01s")
            m = vm.expect(SNAP_LINE, 60)
            state["path"], state["pause_ms"] = m.group(1), float(m.group(2))
            state["size"] = int(m.group(4))
            state["after"] = count_of(vm)
            ok = os.path.exists(state["path"])
            return ok, "%s: paused %.1f ms, %d bytes, %s non-zero pages" % (
                state["path"], state["pause_ms"], state["size"], m.group(3))
        steps("Ctrl-A s writes a snapshot", snap)

        def scribble():
            vm.run("echo scribbled > /tmp/mark")
            st, _ = vm.run("dd if=/dev/urandom of=/tmp/scribble bs=1M count=32 2>/dev/null")
            _, out = vm.run("cat /tmp/mark")
            return st == 0 and "scribbled" in out, "marker overwritten, 32 MiB scribbled"
        steps("the guest scribbles over its memory", scribble)
    finally:
        vm.kill()

    if "path" not in state:
        r.check("restore", False, "not run: no snapshot")
        return

    def restore_once(n, resnap=False):
        t0 = time.monotonic()
        argv = [condo, "run", "--sandbox", "off", "--restore", state["path"]]
        log = os.path.join(log_dir, "console-restore%d.log" % n)
        rv = PtyInVM(argv + ["--snapshot-dir", snapdir], log=log) if resnap else driver.VM(
            argv, log=log)
        s2 = guestlib.Steps(r, rv)
        try:
            def answers():
                st, out = rv.run("echo alive", timeout=60)
                state["answer_s%d" % n] = time.monotonic() - t0
                return st == 0 and "alive" in out, "shell answered %.3f s after launch" % (
                    time.monotonic() - t0)
            s2("restore %d: the shell answers" % n, answers)

            def memory_back():
                _, out = rv.run("cat /tmp/mark; ls /tmp/scribble 2>&1")
                return token in out and "No such file" in out, out.strip().replace("\n", " | ")
            s2("restore %d: memory is back (marker, no scribble)" % n, memory_back)

            def continues():
                c1 = count_of(rv)
                time.sleep(1.5)
                c2 = count_of(rv)
                ok = state["before"] <= c1 <= state["after"] + 3 and c2 > c1
                return ok, "count %d at the snapshot, %d after restore, then %d" % (
                    state["before"], c1, c2)
            s2("restore %d: the count continues and keeps counting" % n, continues)

            def clock():
                u = uptime(rv)
                return u >= state["up_before"], "uptime %.2f s before the snapshot, %.2f s now" % (
                    state["up_before"], u)
            s2("restore %d: the guest's clock did not go back" % n, clock)

            def write_here():
                rv.run("echo branch%d > /tmp/mark" % n)
                _, out = rv.run("cat /tmp/mark")
                return "branch%d" % n in out, ""
            s2("restore %d: the restored guest goes on (writes its own branch)" % n, write_here)

            def snap_again():
                # RAM is now mapped from the first snapshot: pages the
                # guest never touched since hold that file's bytes and
                # must be saved too
                state["count_chain"] = count_of(rv)
                rv.send("\x01s")
                m = rv.expect(SNAP_LINE, 60)
                state["chain"] = m.group(1)
                return os.path.exists(m.group(1)), "%s, paused %s ms" % (m.group(1), m.group(2))
            if resnap:
                s2("restore %d: a snapshot of the restored VM" % n, snap_again)
        finally:
            rv.kill()

    restore_once(1, resnap=True)
    restore_once(2)

    def chain():
        rv = driver.VM([condo, "run", "--sandbox", "off", "--restore", state["chain"]],
                       log=os.path.join(log_dir, "console-chain.log"))
        try:
            _, out = rv.run("cat /tmp/mark; ls /tmp/scribble 2>&1", timeout=60)
            c1 = count_of(rv)
            time.sleep(1.5)
            c2 = count_of(rv)
            ok = "branch1" in out and "No such file" in out and \
                state["count_chain"] <= c1 < c2
            return ok, "marker %r, count %d at the snapshot, then %d, %d" % (
                out.splitlines()[0] if out else "", state["count_chain"], c1, c2)
        finally:
            rv.kill()
    if "chain" in state:
        r.check("a snapshot of a restored VM restores (its branch, still counting)", *chain())
    else:
        r.check("a snapshot of a restored VM restores", False, "not run: no snapshot")

    smp_heavy(r, condo, log_dir, snapdir)

    def refused(name, data):
        p = os.path.join(snapdir, name)
        with open(p, "wb") as f:
            f.write(data)
        pr = subprocess.run([condo, "run", "--sandbox", "off", "--restore", p],
                            stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        err = pr.stderr.decode(errors="replace").strip()
        lines = [l for l in err.splitlines() if l.strip()]
        return pr.returncode == 2 and len(lines) == 1 and p in lines[0], \
            "exit %d: %s" % (pr.returncode, err[:200])

    data = open(state["path"], "rb").read()
    r.check("a truncated snapshot is refused", *refused("trunc.snap", data[:len(data) // 2]))
    bad = bytearray(data)
    # a byte in the middle of the machine section (checksummed; mapped RAM
    # is not: it is guest memory, as a memory file's)
    moff, mlen = section_of(data, "machine")
    bad[moff + mlen // 2] ^= 0xff
    r.check("a corrupted snapshot is refused", *refused("corrupt.snap", bytes(bad)))
    r.check("a file that is not a snapshot is refused", *refused("junk.snap", b"x" * 8192))
    newer = bytearray(data)
    newer[8] = 99
    r.check("a newer format version is refused", *refused("newer.snap", bytes(newer)))

    say("figures: pause %.1f ms, snapshot file %.1f MiB, shell answering %.3f s / %.3f s after "
        "launch (restore 1 / 2)" % (state["pause_ms"], state["size"] / 1048576,
                                      state.get("answer_s1", -1), state.get("answer_s2", -1)))


def writer_alive(snapdir):
    """pids named by NAME.tmp.PID files in snapdir that still run."""
    pids = []
    for f in os.listdir(snapdir):
        m = re.search(r"\.tmp\.(\d+)$", f)
        if m and os.path.exists("/proc/%s" % m.group(1)):
            pids.append(int(m.group(1)))
    return pids


def smp_heavy(r, condo, log_dir, snapdir):
    """Two vCPUs, the guest rewriting 24 MiB as fast as it can while the
    snapshot is taken (the writer child must see RAM frozen at the fork),
    then a second snapshot killed mid-way (SIGKILL of the VM must take the
    writer with it and leave the first file intact)."""
    d = os.path.join(snapdir, "smp")
    os.makedirs(d, exist_ok=True)
    state = {}
    vm = PtyInVM([condo, "run", "--sandbox", "off", "--cpus", "2", "--snapshot-dir", d],
                 log=os.path.join(log_dir, "console-smp.log"))
    steps = guestlib.Steps(r, vm)
    try:
        steps("smp: the guest boots on 2 vCPUs", lambda: guestlib.boot(vm))

        def setup():
            vm.run("dd if=/dev/urandom of=/tmp/fixed bs=1M count=16 2>/dev/null")
            _, out = vm.run("md5sum /tmp/fixed")
            state["md5"] = out.split()[0]
            vm.run("(while :; do dd if=/dev/urandom of=/tmp/noise bs=1M count=24 "
                   "conv=notrunc 2>/dev/null; done) >/dev/null 2>&1 &")
            vm.run("(while :; do dd if=/dev/zero of=/tmp/noise2 bs=1M count=24 "
                   "conv=notrunc 2>/dev/null; done) >/dev/null 2>&1 &")
            time.sleep(1)
            return len(state["md5"]) == 32, "md5 %s; two writers busy" % state["md5"]
        steps("smp: a 16 MiB file, and two loops rewriting 48 MiB", setup)

        def snap():
            vm.send("\x01s")
            m = vm.expect(SNAP_LINE, 60)
            state["path"] = m.group(1)
            return os.path.exists(m.group(1)), "paused %s ms, written in %s ms" % (
                m.group(2), m.group(5))
        steps("smp: Ctrl-A s while the guest writes", snap)

        def killed():
            vm.send("\x01s")
            time.sleep(0.05)
            os.killpg(vm.proc.pid, signal.SIGKILL)
            vm.proc.wait(10)
            deadline = time.monotonic() + 5
            while writer_alive(d) and time.monotonic() < deadline:
                time.sleep(0.1)
            left = writer_alive(d)
            tmps = [f for f in os.listdir(d) if ".tmp." in f]
            return not left, "writer gone with the VM (%d temporary file(s) left%s)" % (
                len(tmps), ", writer pids %s still alive" % left if left else "")
        steps("smp: SIGKILL during the next save takes the writer with it", killed)
    finally:
        vm.kill()
    if "path" not in state:
        return
    rv = driver.VM([condo, "run", "--sandbox", "off", "--restore", state["path"]],
                   log=os.path.join(log_dir, "console-smp-restore.log"))
    s2 = guestlib.Steps(r, rv)
    try:
        def consistent():
            _, out = rv.run("md5sum /tmp/fixed; nproc", timeout=60)
            _, sizes = rv.run("ls -l /tmp/noise /tmp/noise2")
            time.sleep(1)
            st, _ = rv.run("echo alive")
            return state["md5"] in out and st == 0, "md5 %s; %s" % (
                out.split()[0] if out else "?", " ".join(sizes.split()[4:5]))
        s2("smp: the snapshot restores consistent (the file's md5, the writers go on)",
           consistent)
    finally:
        rv.kill()


def main():
    return guestlib.guest_main(__doc__, "test-snapshot", body)


if __name__ == "__main__":
    sys.exit(main())
