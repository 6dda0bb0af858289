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
 4. with the RAM in a separate memory file is not reachable from the
    console (the API will offer it); a truncated and a corrupted copy of
    the snapshot, and a file that is not a snapshot, are refused with exit
    status 2 and one line naming the file.
Prints PASS/FAIL per check, the figures measured (pause, file size, time
to the shell answering), and `N passed, M failed`; exits 1 if any check
failed.
"""
import os
import re
import secrets
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import driver  # noqa: E402
import guestlib  # noqa: E402
from guestlib import say  # noqa: E402

SNAP_LINE = r"snapshot (\S+) written \(guest paused ([0-9.]+) ms, (\d+) non-zero pages, (\d+) bytes\)"


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


def uptime(vm):
    status, out = vm.run("cut -d' ' -f1 /proc/uptime")
    try:
        return float(out.strip().split()[-1])
    except (ValueError, IndexError):
        return -1.0


def body(r, condo, log_dir):
    snapdir = os.path.join(log_dir, "snaps")
    os.makedirs(snapdir, exist_ok=True)
    for f in os.listdir(snapdir):
        os.unlink(os.path.join(snapdir, f))
    token = secrets.token_hex(8)
    state = {}
    vm = PtyInVM([condo, "run"] + guestlib.cpus_args() + ["--sandbox", "off", "--snapshot-dir", snapdir],
                 log=os.path.join(log_dir, "console-orig.log"))
    steps = guestlib.Steps(r, vm)
    try:
        steps("the guest boots", lambda: guestlib.boot(vm))

        def setup():
            vm.run("echo %s > /tmp/mark" % token)
            vm.run("(i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.2; done) "
                   ">/dev/null 2>&1 &")
            time.sleep(2)
            c = count_of(vm)
            return c > 0, "counting (%d)" % c
        steps("a counting loop runs", setup)

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

    def restore_once(n):
        t0 = time.monotonic()
        rv = driver.VM([condo, "run", "--sandbox", "off", "--restore", state["path"]],
                       log=os.path.join(log_dir, "console-restore%d.log" % n))
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
        finally:
            rv.kill()

    restore_once(1)
    restore_once(2)

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
    bad[len(bad) - 100] ^= 0xff
    r.check("a corrupted snapshot is refused", *refused("corrupt.snap", bytes(bad)))
    r.check("a file that is not a snapshot is refused", *refused("junk.snap", b"x" * 8192))
    newer = bytearray(data)
    newer[8] = 99
    r.check("a newer format version is refused", *refused("newer.snap", bytes(newer)))

    say("figures: pause %.1f ms, snapshot file %.1f MiB, shell answering %.3f s / %.3f s after "
        "launch (restore 1 / 2)" % (state["pause_ms"], state["size"] / 1048576,
                                      state.get("answer_s1", -1), state.get("answer_s2", -1)))


def main():
    return guestlib.guest_main(__doc__, "test-snapshot", body)


if __name__ == "__main__":
    sys.exit(main())
