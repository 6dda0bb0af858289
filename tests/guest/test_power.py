#!/usr/bin/env python3
"""The guest's buttons: the power button and Ctrl+Alt+Del reach the default
guest through condo's virtio-input device, and a guest without the driver
gets a clear "not delivered".

usage: tests/guest/test_power.py [CONDO] [--guest DIR] [--log-dir DIR]
  CONDO          condo binary (default build/condo)
  --guest DIR    default guest directory (CONDO_GUEST_DIR; default: condo's)
  --log-dir DIR  console logs (default build/test-power)

The buttons are pressed with signals (SIGUSR1: power button, SIGUSR2:
Ctrl+Alt+Del; see docs/DEVICES.md). Three VMs, one after the other:

 1. The guest's kernel names the input device "condo power button"; the
    default guest's watcher holds its event device open, asleep in read(2)
    with no CPU time spent between two looks; after a guest reboot it does
    again (the device was reset and probed afresh); SIGUSR1 makes condo say
    "power button (SIGUSR1) pressed", the guest say it powers off, the
    kernel print "reboot: Power down", and condo exit 0.
 2. SIGUSR2 (Ctrl+Alt+Del): the kernel signals init, whose ctrlaltdel
    action powers off: "reboot: Power down" and exit 0; the power button's
    watcher had no part in it.
 3. A guest booted with module_blacklist=virtio_input has no driver: both
    signals get "not delivered: the guest has no virtio-input driver
    ready" on condo's stderr, the VM runs on and answers, and `poweroff`
    still ends it with status 0.

Prints PASS/FAIL per check and, last, `N passed, M failed`; exits 1 if any
check failed. Takes about a minute.
"""
import os
import re
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import guestlib  # noqa: E402  (tests/guest/guestlib.py)
from guestlib import BOOT_TIMEOUT, PROMPT, READY, Steps  # noqa: E402

CMD_TIMEOUT = 60.0
NAME = "condo power button"
POWER_DOWN = r"reboot: Power down"
# Every process holding an input event device open, with its state and
# CPU ticks (utime + stime): "PID STATE TICKS" per line.
WATCHERS = (
    "for p in /proc/[0-9]*; do "
    "ls -l $p/fd 2>/dev/null | grep -q /dev/input/event || continue; "
    "set -- $(cat $p/stat 2>/dev/null); [ $# -gt 15 ] || continue; "
    "echo ${p#/proc/} $3 $(( ${14} + ${15} )); done")


def watchers(vm):
    status, out = vm.run(WATCHERS, CMD_TIMEOUT)
    rows = []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[0].isdigit() and f[2].isdigit():
            rows.append((int(f[0]), f[1], int(f[2])))
    return rows


def wait_watcher(vm):
    """Until some process holds the event device open (the watcher starts
    in the background just before the guest says it is ready)."""
    deadline = time.monotonic() + CMD_TIMEOUT
    while time.monotonic() < deadline:
        rows = watchers(vm)
        if rows:
            return rows
        vm.run("sleep 0.5", CMD_TIMEOUT)
    return []


def device_named(vm):
    status, out = vm.run("cat /sys/class/input/*/name 2>/dev/null", CMD_TIMEOUT)
    return NAME in out.splitlines(), out


def vm_power_button(r, condo, logdir):
    vm = guestlib.start(condo, [], os.path.join(logdir, "console-power.log"))
    s = Steps(r, vm)
    try:
        s("boot", lambda: guestlib.boot(vm))

        def named():
            ok, out = device_named(vm)
            return ok, "input devices: %r" % out
        s("the guest's kernel has the input device '%s'" % NAME, named)

        def idle():
            rows = wait_watcher(vm)
            if not rows:
                return False, "no process holds /dev/input/event* open"
            vm.run("sleep 2", CMD_TIMEOUT)
            later = {pid: (st, t) for pid, st, t in watchers(vm)}
            detail = []
            ok = True
            for pid, st, ticks in rows:
                st2, t2 = later.get(pid, ("gone", -1))
                detail.append("pid %d %s->%s, %d->%d ticks" % (pid, st, st2, ticks, t2))
                ok = ok and st == "S" and st2 == "S" and t2 == ticks
            return ok, "; ".join(detail)
        s("the watcher holds the event device open, asleep, using no CPU while idle", idle)

        def reboot():
            vm.sendline("reboot")
            vm.expect(r"OpenSBI v", BOOT_TIMEOUT)
            vm.expect(READY, BOOT_TIMEOUT)
            vm.expect(PROMPT, BOOT_TIMEOUT)
            ok, out = device_named(vm)
            rows = wait_watcher(vm)
            return ok and bool(rows), "after the reboot: device %s, %d watcher process(es)" % (
                "present" if ok else "MISSING", len(rows))
        s("after a guest reboot the device is probed again and watched", reboot)

        def press():
            os.kill(vm.proc.pid, signal.SIGUSR1)
            vm.expect(r"power button \(SIGUSR1\) pressed", CMD_TIMEOUT)
            vm.expect(r"condo-guest: power button pressed: powering off", CMD_TIMEOUT)
            vm.expect(POWER_DOWN, CMD_TIMEOUT)
            code = vm.wait_exit(CMD_TIMEOUT)
            return code == 0, "condo said 'pressed', the guest powered off cleanly " \
                "('%s'), condo exit status %d" % (POWER_DOWN, code)
        s("SIGUSR1 (power button): clean power-off, exit status 0", press)
    finally:
        vm.kill()


def vm_ctrl_alt_del(r, condo, logdir):
    vm = guestlib.start(condo, [], os.path.join(logdir, "console-ctrl-alt-del.log"))
    s = Steps(r, vm)
    try:
        s("boot", lambda: guestlib.boot(vm))

        def cad():
            # The watcher holds the device from early on; wait for it so
            # that "it took no part" below means something.
            if not wait_watcher(vm):
                return False, "no watcher"
            os.kill(vm.proc.pid, signal.SIGUSR2)
            vm.expect(r"Ctrl\+Alt\+Del \(SIGUSR2\) pressed", CMD_TIMEOUT)
            vm.expect(POWER_DOWN, CMD_TIMEOUT)
            code = vm.wait_exit(CMD_TIMEOUT)
            watcher = "power button pressed" in vm.before
            return code == 0 and not watcher, (
                "'%s', condo exit status %d; %s" % (
                    POWER_DOWN, code,
                    "the power button's watcher acted (wrong path)" if watcher
                    else "through init's ctrlaltdel action"))
        s("SIGUSR2 (Ctrl+Alt+Del): init's ctrlaltdel powers off, exit status 0", cad)
    finally:
        vm.kill()


def vm_no_driver(r, condo, logdir):
    append = "console=ttyS0 panic=-1 module_blacklist=virtio_input"
    vm = guestlib.start(condo, ["--append", append],
                        os.path.join(logdir, "console-no-driver.log"))
    s = Steps(r, vm)
    try:
        s("boot with module_blacklist=virtio_input", lambda: guestlib.boot(vm))

        def none():
            ok, out = device_named(vm)
            return not ok, "input devices: %r" % out
        s("the guest has no input device", none)

        def refused(sig, what):
            def f():
                os.kill(vm.proc.pid, sig)
                m = vm.expect(re.escape(what) + r" not delivered: ([^\r\n]*)", CMD_TIMEOUT)
                ok = "no virtio-input driver ready" in m.group(1)
                return ok, m.group(0).strip()
            return f
        s("SIGUSR1: 'not delivered' (no driver)",
          refused(signal.SIGUSR1, "power button (SIGUSR1)"))
        s("SIGUSR2: 'not delivered' (no driver)",
          refused(signal.SIGUSR2, "Ctrl+Alt+Del (SIGUSR2)"))

        def alive():
            status, out = vm.run("echo still''-here", CMD_TIMEOUT)
            return out == "still-here", "the guest answers: %r" % out
        s("the VM runs on", alive)
        s("poweroff still ends condo with status 0", lambda: guestlib.poweroff(vm, CMD_TIMEOUT))
    finally:
        vm.kill()


def all_vms(r, condo, logdir):
    vm_power_button(r, condo, logdir)
    vm_ctrl_alt_del(r, condo, logdir)
    vm_no_driver(r, condo, logdir)


def main():
    return guestlib.guest_main(__doc__, "test-power", all_vms)


if __name__ == "__main__":
    sys.exit(main())
