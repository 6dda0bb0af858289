#!/usr/bin/env python3
"""Check condo's console on a terminal: raw mode, escape keys, restore.

usage: tests/guest/test_console_tty.py [CONDO] [--guest DIR] [--log FILE]

Runs `condo run` (the default guest) on a pseudo-terminal that is its
controlling terminal, as a user's shell would, and checks:
  - condo says "VM started: Ctrl-A h for help, ..." on the terminal;
  - while the VM runs the terminal is raw (no ICANON, ECHO, ISIG);
  - typing `uname -m` and Enter (a CR, as a terminal sends) at the guest's
    prompt prints riscv64;
  - Ctrl-C reaches the guest (its line editor drops a half-typed line)
    instead of killing condo: the terminal's ISIG is off;
  - the guest's commands start with no signal ignored (SigIgn is zero),
    and Ctrl-C stops a running `sleep 1000` (status 130, prompt back);
  - Ctrl-A h prints the escape-key help;
  - Ctrl-A Ctrl-A sends one Ctrl-A (byte 0x01) to the guest;
  - Ctrl-A x quits: condo exits with status 5, and the terminal's termios
    settings afterwards equal those before condo started.
Prints PASS/FAIL per check and, last, `N passed, M failed`; exits 1 if any
check failed. About 15 s (the boot) plus a few seconds; 2 minutes at most.
"""
import argparse
import codecs
import errno
import fcntl
import os
import re
import select
import signal
import subprocess
import sys
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from driver import clean  # noqa: E402  (tests/guest/driver.py)
from guestlib import cpus_args  # noqa: E402  (tests/guest/guestlib.py)

BOOT_TIMEOUT = 120.0
STEP_TIMEOUT = 30.0
PROMPT = r"~ # "


def say(*a):
    print(*a, flush=True)


class Timeout(Exception):
    pass


class PtyVM:
    """condo on a new pty that is its controlling terminal."""

    def __init__(self, argv, log=None):
        self.master, self.slave = os.openpty()
        # A usual interactive terminal: cooked, echo, signals, CR->NL.
        attrs = termios.tcgetattr(self.slave)
        attrs[0] |= termios.ICRNL
        attrs[1] |= termios.OPOST | termios.ONLCR
        attrs[3] |= termios.ICANON | termios.ECHO | termios.ISIG | termios.IEXTEN
        termios.tcsetattr(self.slave, termios.TCSANOW, attrs)
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, b"\x18\x00\x50\x00\x00\x00\x00\x00")
        self.before_attrs = termios.tcgetattr(self.slave)
        self.logf = open(log, "wb") if log else None
        slave = self.slave

        def make_ctty():
            # start_new_session made a new session: adopt the pty.
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True, preexec_fn=make_ctty)
        os.set_blocking(self.master, False)
        self.buf = ""
        self.all = ""
        self.dec = codecs.getincrementaldecoder("utf-8")("replace")
        self.start = time.monotonic()

    def _read(self, timeout):
        r, _, _ = select.select([self.master], [], [], max(0.0, timeout))
        if not r:
            return
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError as e:
            if e.errno == errno.EIO:   # no process has the slave open
                time.sleep(min(timeout, 0.05))
                return
            raise
        if self.logf:
            self.logf.write(data)
            self.logf.flush()
        text = self.dec.decode(data)
        self.buf += text
        self.all += text

    def expect(self, regex, timeout=STEP_TIMEOUT):
        """Wait for regex in the output (escape sequences and CRs removed)."""
        pat = re.compile(regex)
        deadline = time.monotonic() + timeout
        while True:
            c = clean(self.buf)
            m = pat.search(c)
            if m:
                self.buf = c[m.end():]   # consume up to the match
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("timeout after %.0f s waiting for /%s/; last output:\n%s"
                              % (timeout, regex, clean(self.all)[-1500:]))
            if self.proc.poll() is not None:
                self._read(0.1)
                if not pat.search(clean(self.buf)):
                    raise Timeout("condo exited (status %s) while waiting for /%s/; last "
                                  "output:\n%s" % (self.proc.returncode, regex,
                                                   clean(self.all)[-1500:]))
                continue
            self._read(min(left, 0.2))

    def drain(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._read(end - time.monotonic())

    def send(self, data):
        os.write(self.master, data)

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        self._read(0.05)
        return self.proc.poll()

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.logf:
            self.logf.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("condo", nargs="?", default=os.path.join(ROOT, "build", "condo"))
    ap.add_argument("--guest", help="default guest directory (sets CONDO_GUEST_DIR)")
    ap.add_argument("--log", default=os.path.join(ROOT, "build", "test-boot", "console-tty.log"))
    a = ap.parse_args()
    condo = os.path.abspath(a.condo)
    if a.guest:
        os.environ["CONDO_GUEST_DIR"] = os.path.abspath(a.guest)
    os.makedirs(os.path.dirname(a.log), exist_ok=True)
    passed = failed = 0
    dead = None

    def check(name, fn):
        nonlocal passed, failed, dead
        if dead:
            ok, detail = False, "not run: " + dead
        else:
            try:
                ok, detail = fn()
            except Timeout as e:
                ok, detail = False, str(e)
                dead = "an earlier check timed out"
        say("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""))
        if ok:
            passed += 1
        else:
            failed += 1

    vm = PtyVM([condo, "run"] + cpus_args(), log=a.log)
    try:
        def banner():
            vm.expect(r"VM started: Ctrl-A h for help, Ctrl-A x to quit", BOOT_TIMEOUT)
            return True, ""
        check("condo announces the escape keys on the terminal", banner)

        def raw():
            t = termios.tcgetattr(vm.slave)
            lflag = t[3]
            on = [n for n in ("ICANON", "ECHO", "ISIG") if lflag & getattr(termios, n)]
            return not on, "terminal raw while the VM runs" if not on else "still on: " + " ".join(on)
        check("terminal is raw while the VM runs", raw)

        def boot():
            vm.expect(r"condo-guest: ready", BOOT_TIMEOUT)
            vm.expect(PROMPT, BOOT_TIMEOUT)
            return True, "prompt after %.1f s" % (time.monotonic() - vm.start)
        check("guest boots to its prompt", boot)

        def typing():
            vm.send(b"uname -m\r")
            vm.expect(r"\nriscv64\n", STEP_TIMEOUT)
            vm.expect(PROMPT)
            return True, "typed 'uname -m' + CR, got riscv64"
        check("typing a command at the prompt (raw mode, CR as Enter)", typing)

        def ctrl_c():
            # Half a command line, then Ctrl-C: the guest's line editor must
            # get the byte and drop the line; condo must not get SIGINT.
            vm.send(b"echo __PART''IAL__")
            vm.drain(0.5)
            vm.send(b"\x03")
            vm.drain(0.5)
            vm.send(b"echo __AL''IVE__\r")
            vm.expect(r"\n__ALIVE__\n", 10)
            vm.expect(PROMPT, 10)
            if vm.proc.poll() is not None:
                return False, "condo exited %s" % vm.proc.returncode
            if "__PARTIAL__" in clean(vm.all):
                return False, "the half-typed line ran: Ctrl-C did not reach the guest"
            return True, "the guest dropped the half-typed line; condo still running"
        check("Ctrl-C goes to the guest, not to condo", ctrl_c)

        def sigint_default():
            # docs/TESTING.md "Ctrl-C in the guest": the console shell's
            # commands start with no signal ignored.
            vm.send(b"grep SigIgn /proc/self/status\r")
            m = vm.expect(r"\nSigIgn:\s*([0-9a-f]+)\s*\n", STEP_TIMEOUT)
            vm.expect(PROMPT, STEP_TIMEOUT)
            return int(m.group(1), 16) == 0, "a command's SigIgn mask is %s" % m.group(1)
        check("commands run with no signal ignored (SigIgn all zeros)", sigint_default)

        def ctrl_c_stops():
            # A command that would run for 1000 s; once it has started (its
            # marker is printed by the child that then becomes `sleep`),
            # Ctrl-C must end it and give the prompt back: status 130
            # (128 + SIGINT). If SIGINT were ignored, the prompt would not
            # come back for 1000 s.
            vm.send(b"sh -c 'echo __SLE''EPING__; exec sleep 1000'\r")
            vm.expect(r"\n__SLEEPING__\n", STEP_TIMEOUT)
            vm.send(b"\x03")
            vm.expect(PROMPT, STEP_TIMEOUT)
            vm.send(b"echo __RC''_$?__\r")
            m = vm.expect(r"__RC_(\d+)__", STEP_TIMEOUT)
            vm.expect(PROMPT, STEP_TIMEOUT)
            if vm.proc.poll() is not None:
                return False, "condo exited %s" % vm.proc.returncode
            return m.group(1) == "130", "sleep 1000 ended by Ctrl-C, status %s" % m.group(1)
        check("Ctrl-C stops a running command in the guest (sleep 1000: status 130)",
              ctrl_c_stops)

        def help_text():
            vm.send(b"\x01h")
            vm.expect(r"(C-a|Ctrl-A) x\s+quit", 10)
            return True, ""
        check("Ctrl-A h prints the escape-key help", help_text)

        def ctrl_a_ctrl_a():
            # The guest's terminal is cooked: head gets the line "\x01\n".
            vm.send(b"head -c 1 | od -An -tx1\r")
            vm.drain(1.0)
            vm.send(b"\x01\x01\r")
            m = vm.expect(r"\n\s*([0-9a-f]{2})\s*\n", 10)
            vm.expect(PROMPT, 10)
            return m.group(1) == "01", "guest read byte 0x%s" % m.group(1)
        check("Ctrl-A Ctrl-A sends one Ctrl-A to the guest", ctrl_a_ctrl_a)

        def quit_():
            vm.send(b"\x01x")
            code = vm.wait(15)
            if code is None:
                raise Timeout("condo still running 15 s after Ctrl-A x")
            return code == 5, "exit status %s" % code
        check("Ctrl-A x quits with exit status 5", quit_)

        def restored():
            if vm.proc.poll() is None:
                return False, "condo still running"
            after = termios.tcgetattr(vm.slave)
            names = ["iflag", "oflag", "cflag", "lflag", "ispeed", "ospeed", "cc"]
            diff = [n for n, x, y in zip(names, vm.before_attrs, after) if x != y]
            return not diff, "termios equal before and after" if not diff else \
                "differs in " + ", ".join(diff)
        check("terminal settings restored on exit", restored)
    finally:
        vm.close()
    say("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
