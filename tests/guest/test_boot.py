#!/usr/bin/env python3
"""Boot the default guest under condo and check what a user relies on.

usage: tests/guest/test_boot.py [CONDO] [--guest DIR] [--log-dir DIR]
  CONDO          condo binary (default build/condo)
  --guest DIR    default guest directory (CONDO_GUEST_DIR; default: condo's)
  --log-dir DIR  console logs (default build/test-boot)

Three VMs, one after the other (never two at once), all through
tests/guest/driver.py (stdin/stdout are pipes):

 1. `condo run`: the guest reaches "condo-guest: ready" and the prompt;
    uname -m is riscv64; /proc/cpuinfo's isa starts rv64imafdc; the UART's
    interrupt count in /proc/interrupts rises with console I/O (the serial
    port is interrupt driven); the RTC's since_epoch lies between the host's
    time just before and just after reading it (goldfish RTC), date +%s too
    (or one second behind: the kernel set its clock from the RTC to the
    whole second); long output (seq 1 2000, seq 1 3000
    | tail -1) and a 500-character typed line come back intact; `reboot`
    brings a fresh boot (a file made before is gone) and a prompt; a kernel
    panic (sysrq c, panic=-1) also reboots to a prompt (two resets are not a
    loop); `poweroff` ends condo with status 0.
 2. End of input is not the end of the VM: a background job
    `(sleep 5; echo marker; poweroff)` is started, then condo's stdin is
    closed; after the close the marker and the kernel's "Power down" must
    still appear, then condo exits 0 by itself (the order of events is
    checked, never a duration).
 3. Reset loop: `--append "console=ttyS0 panic=-1 rdinit=/nonexistent"`
    panics at every boot; condo must stop with status 3 and one line on
    stderr saying why.

Prints PASS/FAIL per check and, last, `N passed, M failed`; exits 1 if any
check failed. Takes about a minute (3 minutes at most).
"""
import os
import re
import secrets
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import guestlib  # noqa: E402  (tests/guest/guestlib.py)
from guestlib import BOOT_TIMEOUT, PROMPT, READY, Steps  # noqa: E402

CMD_TIMEOUT = 60.0


def expect_output(vm, cmd, want=None, regex=None):
    status, out = vm.run(cmd, CMD_TIMEOUT)
    if status != 0:
        return False, "`%s` exited %d: %r" % (cmd, status, out[-300:])
    if want is not None and out != want:
        return False, "`%s` printed %r, want %r" % (cmd, out[-300:], want)
    if regex is not None and not re.search(regex, out):
        return False, "`%s` printed %r, want /%s/" % (cmd, out[-300:], regex)
    return True, ""


def uart_irq_count(vm):
    status, out = vm.run("cat /proc/interrupts", CMD_TIMEOUT)
    for line in out.splitlines():
        if "ttyS0" in line:
            f = line.split()
            return int(f[1]), line.strip()
    raise AssertionError("no ttyS0 line in /proc/interrupts:\n" + out)


def vm_main(r, condo, logdir):
    """VM 1: most checks on one guest, then reboot, panic, poweroff."""
    vm = guestlib.start(condo, [], os.path.join(logdir, "console-main.log"))
    s = Steps(r, vm)
    try:
        def boot():
            vm.expect(READY, BOOT_TIMEOUT)
            t_ready = vm.elapsed()
            vm.expect(PROMPT, BOOT_TIMEOUT)
            return True, "ready after %.1f s, prompt after %.1f s" % (t_ready, vm.elapsed())
        s("boot to 'condo-guest: ready' and the shell prompt", boot)

        s("uname -m is riscv64", lambda: expect_output(vm, "uname -m", want="riscv64"))
        s("/proc/cpuinfo isa starts rv64imafdc", lambda: expect_output(
            vm, "cat /proc/cpuinfo", regex=r"(?m)^isa\s*:\s*rv64imafdc"))

        def irq():
            try:
                before, line = uart_irq_count(vm)
                vm.run("seq 1 300; echo %s" % ("x" * 200), CMD_TIMEOUT)
                after, line2 = uart_irq_count(vm)
            except AssertionError as e:
                return False, str(e)
            return after - before >= 10, "ttyS0 interrupts %d -> %d after ~2 KB of I/O (%s)" % (
                before, after, line2)
        s("UART is interrupt driven (/proc/interrupts ttyS0 count rises)", irq)

        def clock(cmd, what, grain):
            # The guest's clock must read the host's: between the host's
            # time just before the command and just after it, in whole
            # seconds. A bracket, not a tolerance window: a slow machine
            # widens it, never fails it. `grain`: the kernel set its clock
            # from the RTC at boot (hctosys) to the RTC's whole second plus
            # half a second (Linux's rtc_hctosys adds NSEC_PER_SEC/2 to halve
            # the truncation error), so the system time may be up to half a
            # second off either way: one second of slack on both sides.
            def f():
                before = int(time.time())
                status, out = vm.run(cmd, CMD_TIMEOUT)
                after = int(time.time())
                try:
                    guest = int(out.strip().splitlines()[-1])
                except (ValueError, IndexError):
                    return False, "`%s` printed %r" % (cmd, out)
                return (status == 0 and before - grain <= guest <= after + grain,
                        "%s %d, host %d..%d" % (what, guest, before, after))
            return f
        s("date +%s reads the host's clock", clock("date +%s", "guest date", 1))
        s("RTC (goldfish) since_epoch reads the host's clock", clock(
            "cat /sys/class/rtc/rtc0/since_epoch", "rtc0", 0))
        s("the RTC is the goldfish device", lambda: expect_output(
            vm, "cat /sys/class/rtc/rtc0/name", regex=r"goldfish"))

        s("long output: seq 1 3000 | tail -1", lambda: expect_output(
            vm, "seq 1 3000 | tail -1", want="3000"))

        def seq2000():
            status, out = vm.run("seq 1 2000", CMD_TIMEOUT)
            want = [str(i) for i in range(1, 2001)]
            got = out.splitlines()
            if status == 0 and got == want:
                return True, "2000 lines, %d bytes, intact" % len(out)
            bad = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), 2000))
            return False, "status %d, %d lines; first difference at line %d: got %r" % (
                status, len(got), bad + 1, got[bad:bad + 3])
        s("long output: seq 1 2000 comes back whole", seq2000)

        def long_input():
            text = "".join(secrets.token_hex(4) + "-" for _ in range(56))  # 504 chars
            status, out = vm.run("echo " + text, CMD_TIMEOUT)
            ok = status == 0 and out.strip() == text
            return ok, "%d typed characters echoed back %s" % (
                len(text), "intact" if ok else "as %r" % out[-200:])
        s("typing a 500-character line", long_input)

        def reboot():
            st, out = vm.run("touch /before-reboot && test -e /before-reboot && echo made",
                             CMD_TIMEOUT)
            if st != 0 or out != "made":
                return False, "could not make /before-reboot (status %d, %r): nothing to " \
                    "tell a fresh boot from the old one" % (st, out[-200:])
            vm.sendline("reboot")
            t0 = time.monotonic()
            vm.expect(r"OpenSBI v", BOOT_TIMEOUT)
            vm.expect(READY, BOOT_TIMEOUT)
            vm.expect(PROMPT, BOOT_TIMEOUT)
            t = time.monotonic() - t0
            status, out = vm.run("test -e /before-reboot && echo stale || echo fresh", CMD_TIMEOUT)
            return out == "fresh", "firmware, ready and prompt again after %.1f s; %s boot" % (t, out)
        s("reboot restarts the guest to a fresh prompt", reboot)
        s("uname -m after the reboot", lambda: expect_output(vm, "uname -m", want="riscv64"))

        def panic_reboot():
            # Debian's kernel has CONFIG_MAGIC_SYSRQ: a missing trigger is
            # a broken guest, not a reason to skip.
            status, out = vm.run("test -w /proc/sysrq-trigger && echo yes || echo no", CMD_TIMEOUT)
            if out != "yes":
                return False, "no writable /proc/sysrq-trigger in the guest (%r)" % out
            vm.sendline("echo c > /proc/sysrq-trigger")
            t0 = time.monotonic()
            vm.expect(r"Kernel panic", CMD_TIMEOUT)
            vm.expect(r"OpenSBI v", BOOT_TIMEOUT)
            vm.expect(READY, BOOT_TIMEOUT)
            vm.expect(PROMPT, BOOT_TIMEOUT)
            ok, detail = expect_output(vm, "uname -m", want="riscv64")
            return ok, "panic, reboot and prompt after %.1f s %s" % (time.monotonic() - t0, detail)
        s("a kernel panic (sysrq c, panic=-1) reboots to a prompt", panic_reboot)

        s("poweroff ends condo with status 0", lambda: guestlib.poweroff(vm, CMD_TIMEOUT))
    finally:
        vm.kill()


def vm_eof(r, condo, logdir):
    """VM 2: closing condo's stdin must not stop the VM."""
    vm = guestlib.start(condo, [], os.path.join(logdir, "console-eof.log"))
    s = Steps(r, vm)
    try:
        s("second VM boots", lambda: guestlib.boot(vm))

        def eof():
            tag = secrets.token_hex(4)
            after = "__AFTER_EOF_%s__" % tag
            # Quotes split the markers so the echo of the typed line never
            # matches; only the shell's execution prints them whole. The
            # order of events proves it, not their timing: the marker and
            # the kernel's "Power down" must come after stdin was closed.
            vm.sendline("echo __BG''_%s__; (sleep 5; echo __AFTER''_EOF_%s__; poweroff) &"
                        % (tag, tag))
            vm.expect(r"__BG_%s__" % tag, CMD_TIMEOUT)
            early = after in vm.buf
            vm.proc.stdin.close()
            if early:
                return False, ("inconclusive: the guest printed %s before stdin was closed "
                               "(the host stalled for 5 s?)" % after)
            vm.expect(after, CMD_TIMEOUT)
            vm.expect(r"reboot: Power down", CMD_TIMEOUT)
            code = vm.wait_exit(CMD_TIMEOUT)
            return code == 0, ("stdin closed; then the guest printed its marker and powered "
                               "off; condo exited %d" % code)
        s("end of input does not stop the VM (it runs on and powers off: exit 0)", eof)
    finally:
        vm.kill()


def vm_reset_loop(r, condo, logdir):
    """VM 3: a kernel that panics at every boot is a reset loop: exit 3."""
    append = "console=ttyS0 panic=-1 rdinit=/nonexistent"
    t0 = time.monotonic()
    try:
        p = subprocess.run([condo, "run"] + guestlib.cpus_args() + ["--append", append], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=150)
    except subprocess.TimeoutExpired:
        return r.check("reset loop ends with status 3", False,
                       "condo still running after 150 s")
    t = time.monotonic() - t0
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace").strip()
    with open(os.path.join(logdir, "console-reset-loop.log"), "w") as f:
        f.write(out)
    boots = len(re.findall(r"OpenSBI v", out))
    panics = len(re.findall(r"Kernel panic", out))
    lines = err.splitlines()
    ok = (p.returncode == 3 and boots >= 2 and panics >= 2 and len(lines) == 1
          and re.search(r"reset|reboot|loop", lines[0], re.I) is not None)
    r.check("reset loop (panic at every boot, panic=-1) ends with status 3 and one line",
            ok, "status %d after %.1f s, %d boots, %d panics; stderr: %r"
            % (p.returncode, t, boots, panics, err[-400:]))


def all_vms(r, condo, logdir):
    vm_main(r, condo, logdir)
    vm_eof(r, condo, logdir)
    vm_reset_loop(r, condo, logdir)


def main():
    return guestlib.guest_main(__doc__, "test-boot", all_vms)


if __name__ == "__main__":
    sys.exit(main())
