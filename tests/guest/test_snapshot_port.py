#!/usr/bin/env python3
"""A snapshot moves to another engine and another host architecture.

usage: tests/guest/test_snapshot_port.py [CONDO] [--aarch64 PATH]
                                         [--guest DIR] [--log-dir DIR]

CONDO (default build/condo) is the x86-64 build with its JIT; --aarch64
(default build-aarch64/condo, `make cross-aarch64`) is condo built for
aarch64 hosts, interpreter only, run here under qemu-aarch64 user mode.
What is checked:

 1. the x86-64 build (JIT on) boots the default guest; a counting loop
    runs (a counter in /tmp) and a marker file holds a random token;
    Ctrl-A s writes a snapshot; the VM is killed;
 2. the same binary with CONDO_JIT=0 (the interpreter, the reference)
    restores it: the shell answers, the marker holds the token, the
    counter continues from where it was and keeps counting, the guest's
    clock did not go back;
 3. the aarch64 build restores the same file under qemu-aarch64: the
    same checks;
 4. the VM on the aarch64 build writes its own snapshot (Ctrl-A s), and
    the x86-64 build with its JIT restores that: the round trip, with
    what the guest wrote on aarch64 and the count still going on.
The aarch64 VMs run with `--sandbox off` (qemu-user does not emulate
seccomp filters); the x86-64 ones too, as in test_snapshot.py (the
sandbox does not yet let the VM process create snapshot files).
Prints PASS/FAIL per check and `N passed, M failed`; exits 1 if any
check failed. A missing qemu-aarch64 or aarch64 build is a failure
(scripts/install-deps.sh, make cross-aarch64).
"""
import os
import secrets
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import driver  # noqa: E402
import guestlib  # noqa: E402
from test_snapshot import SNAP_LINE, PtyInVM, count_of, start_counting, uptime  # noqa: E402

EM_AARCH64 = 183


def elf_machine(path):
    with open(path, "rb") as f:
        h = f.read(20)
    if h[:4] != b"\x7fELF":
        return None
    return int.from_bytes(h[18:20], "little")


def aarch64_path():
    for i, arg in enumerate(sys.argv):
        if arg == "--aarch64" and i + 1 < len(sys.argv):
            p = sys.argv[i + 1]
            del sys.argv[i:i + 2]
            return os.path.abspath(p)
        if arg.startswith("--aarch64="):
            del sys.argv[i]
            return os.path.abspath(arg.split("=", 1)[1])
    return os.path.join(ROOT, "build-aarch64", "condo")


AARCH64 = aarch64_path()


def body(r, condo, log_dir):
    snapdir = os.path.join(log_dir, "snaps")
    shutil.rmtree(snapdir, ignore_errors=True)
    os.makedirs(snapdir)
    qemu = shutil.which("qemu-aarch64")
    aarch64_ok = True
    if not qemu:
        r.check("qemu-aarch64 is installed", False, "not found: scripts/install-deps.sh (qemu-user)")
        aarch64_ok = False
    if not os.path.exists(AARCH64):
        r.check("the aarch64 build exists", False, "%s missing: run make cross-aarch64" % AARCH64)
        aarch64_ok = False
    elif elf_machine(AARCH64) != EM_AARCH64:
        r.check("the aarch64 build is an aarch64 program", False,
                "%s: ELF machine %r" % (AARCH64, elf_machine(AARCH64)))
        aarch64_ok = False

    token = secrets.token_hex(8)
    state = {}
    vm = PtyInVM([condo, "run", "--sandbox", "off", "--snapshot-dir", snapdir],
                 log=os.path.join(log_dir, "console-x86_64.log"))
    steps = guestlib.Steps(r, vm)
    try:
        steps("x86-64 (JIT): the guest boots", lambda: guestlib.boot(vm))

        steps("x86-64 (JIT): a counting loop runs", lambda: start_counting(vm, token))

        def snap():
            state["before"] = count_of(vm)
            state["up_before"] = uptime(vm)
            vm.send("\x01s")
            m = vm.expect(SNAP_LINE, 60)
            state["path"] = m.group(1)
            state["after"] = count_of(vm)
            return os.path.exists(m.group(1)), "%s, count %d" % (m.group(1), state["before"])
        steps("x86-64 (JIT): Ctrl-A s writes a snapshot", snap)
    finally:
        vm.kill()
    if "path" not in state:
        r.check("restores", False, "not run: no snapshot")
        return

    def resumed(name, argv, env, path, lo, hi, up_before, mark, resnap=False):
        """Restore path with argv; the guest answers, holds mark, counts
        on from [lo, hi + 3]; with resnap, snapshot it again."""
        log = os.path.join(log_dir, "console-%s.log" % name.replace(" ", "-"))
        full = argv + ["run", "--sandbox", "off", "--restore", path]
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            rv = PtyInVM(full + ["--snapshot-dir", snapdir], log=log) if resnap else \
                driver.VM(full, log=log)
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        s = guestlib.Steps(r, rv)
        t0 = time.monotonic()
        try:
            def answers():
                st, out = rv.run("cat /tmp/mark", timeout=120)
                return st == 0 and mark in out, "marker %r, %.2f s after launch" % (
                    out.strip(), time.monotonic() - t0)
            s("%s: the shell answers, memory is back" % name, answers)

            def counts():
                c1 = count_of(rv)
                time.sleep(2)
                c2 = count_of(rv)
                return lo <= c1 <= hi + 3 and c2 > c1, \
                    "count %d at the snapshot, %d after the restore, then %d" % (lo, c1, c2)
            s("%s: the count continues and keeps counting" % name, counts)

            def clock():
                u = uptime(rv)
                return u >= up_before, "uptime %.2f s at the snapshot, %.2f s now" % (up_before, u)
            s("%s: the guest's clock did not go back" % name, clock)
            if resnap:
                def again():
                    rv.run("echo moved-%s > /tmp/mark" % token)
                    state["before2"] = count_of(rv)
                    state["up_before2"] = uptime(rv)
                    rv.send("\x01s")
                    m = rv.expect(SNAP_LINE, 120)
                    state["path2"] = m.group(1)
                    state["after2"] = count_of(rv)
                    return os.path.exists(m.group(1)), m.group(1)
                s("%s: Ctrl-A s writes a snapshot there" % name, again)
        finally:
            rv.kill()

    resumed("no JIT", [condo], {"CONDO_JIT": "0"}, state["path"], state["before"],
            state["after"], state["up_before"], token)
    if not aarch64_ok:
        return
    resumed("aarch64", [qemu, AARCH64], {}, state["path"], state["before"], state["after"],
            state["up_before"], token, resnap=True)
    if "path2" not in state:
        r.check("back on x86-64", False, "not run: no snapshot from the aarch64 build")
        return
    resumed("back on x86-64 (JIT)", [condo], {}, state["path2"], state["before2"],
            state["after2"], state["up_before2"], "moved-" + token)


def main():
    return guestlib.guest_main(__doc__, "test-snapshot-port", body)


if __name__ == "__main__":
    sys.exit(main())
