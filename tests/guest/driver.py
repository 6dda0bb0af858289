#!/usr/bin/env python3
"""Drive a VM's serial console through pipes: a library and a small CLI.

The VM is any command (condo, qemu-system-riscv64 -nographic, ...) whose
stdin/stdout is the guest's console. Its stdin and stdout are PIPES, not a
pty: the guest's own tty echoes what we type, and busybox's line editor
adds escape sequences; both are tolerated (commands are framed by markers
that only the shell's execution can produce, never the echo).

Library:
    vm = VM(argv, log="console.log")
    vm.expect(r"condo-guest: ready", timeout=60)  # -> re.Match
    status, out = vm.run("uname -m")              # -> (0, "riscv64")
    vm.sendline("poweroff")
    code = vm.wait_exit(timeout=30)               # VM process exit code
    vm.kill()
On timeout Timeout is raised, on VM exit Exited; both carry the last 2 KB
of console output in their message.

CLI (used by tests/guest/*.sh):
    driver.py [--log F] [--timeout S] [--ready RE] [--prompt RE]
              [--run CMD | --expect-run CMD=RE]... [--poweroff] -- ARGV...
Prints the time to ready and to the first prompt, each command's status
and output; exits 0 when every step succeeded.
"""
import argparse
import codecs
import errno
import os
import re
import secrets
import select
import signal
import subprocess
import sys
import time

TAIL = 2048
# CSI / OSC escape sequences (busybox ash's line editor asks the terminal
# for the cursor position with ESC[6n before every prompt).
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[@-Z\\-_]")


def clean(text):
    """Console text without escape sequences and carriage returns."""
    return ANSI.sub("", text).replace("\r", "")


class DriverError(Exception):
    pass


class Timeout(DriverError):
    pass


class Exited(DriverError):
    pass


class VM:
    def __init__(self, argv, log=None, env=None, cwd=None, echo=False):
        self.argv = list(argv)
        self.logf = open(log, "ab") if log else None
        self.echo = echo
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, bufsize=0, env=env, cwd=cwd,
            start_new_session=True)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.start = time.monotonic()
        self.buf = ""      # output not yet consumed by expect()
        self.before = ""   # text before the last expect() match
        self.tail = ""     # last TAIL chars of all output, for errors
        self.eof = False
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    # -- low level -----------------------------------------------------
    def _feed(self, data):
        if self.logf:
            self.logf.write(data)
            self.logf.flush()
        if self.echo:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        text = self._decoder.decode(data)
        self.buf += text
        self.tail = (self.tail + text)[-TAIL:]

    def _read(self, timeout):
        """Read what is available within timeout; False at EOF."""
        if self.eof:
            return False
        fd = self.proc.stdout.fileno()
        r, _, _ = select.select([fd], [], [], max(0.0, timeout))
        if not r:
            return True
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            data = b""
        if not data:
            self.eof = True
            return False
        self._feed(data)
        return True

    def _fail(self, cls, what):
        raise cls("%s\n--- last %d bytes of console output ---\n%s\n--- end ---"
                  % (what, TAIL, clean(self.tail)))

    # -- API -----------------------------------------------------------
    def elapsed(self):
        return time.monotonic() - self.start

    def expect(self, regex, timeout=30.0):
        """Wait until regex matches the unconsumed output; consume up to it.

        The text before the match is left in self.before."""
        pat = re.compile(regex) if isinstance(regex, str) else regex
        deadline = time.monotonic() + timeout
        while True:
            m = pat.search(self.buf)
            if m:
                self.before = self.buf[:m.start()]
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                self._fail(Timeout, "timeout after %.1f s waiting for %r" % (timeout, pat.pattern))
            if not self._read(min(left, 0.5)):
                m = pat.search(self.buf)
                if m:
                    self.before = self.buf[:m.start()]
                    self.buf = self.buf[m.end():]
                    return m
                self._fail(Exited, "VM exited (status %s) while waiting for %r"
                           % (self.proc.wait(), pat.pattern))

    def send(self, s):
        try:
            self.proc.stdin.write(s.encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            self._fail(Exited, "VM's console input is closed (VM exited?)")

    def sendline(self, s=""):
        self.send(s + "\n")

    def run(self, cmd, timeout=60.0):
        """Run cmd in the guest shell; return (exit status, output).

        The command is framed by two markers spelled with quotes in the
        typed line (__B''EGIN_...), so the echo of the line never matches;
        only the shell's execution prints them unquoted."""
        tag = secrets.token_hex(4)
        sep = " " if cmd.rstrip().endswith("&") else ";"
        self.sendline("echo __B''EGIN_%s__; %s%s echo __E''ND_%s_$?__" % (tag, cmd, sep, tag))
        self.expect(r"__BEGIN_%s__\r?\n" % tag, timeout)
        m = self.expect(r"__END_%s_(\d+)__" % tag, timeout)
        return int(m.group(1)), clean(self.before).strip("\n")

    def wait_exit(self, timeout=30.0):
        """Wait for the VM process to exit (draining its output); its code."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                self._fail(Timeout, "timeout after %.1f s waiting for the VM to exit" % timeout)
            self._read(min(left, 0.5))
        try:
            return self.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._fail(Timeout, "VM closed its output but did not exit within %.1f s" % timeout)

    def kill(self):
        """Kill the VM (its whole process group) and reap it."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        if self.logf:
            self.logf.close()
            self.logf = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log", help="append the raw console output to this file")
    ap.add_argument("--timeout", type=float, default=120.0, help="per-step timeout (s)")
    ap.add_argument("--ready", default=r"condo-guest: ready", help="regex marking boot done")
    ap.add_argument("--prompt", default=r"~ # ", help="regex of the shell prompt")
    ap.add_argument("--run", action="append", default=[], metavar="CMD",
                    help="run CMD in the guest; it must exit 0")
    ap.add_argument("--expect-run", action="append", default=[], metavar="CMD=RE",
                    help="run CMD; it must exit 0 and its output match RE")
    ap.add_argument("--poweroff", action="store_true",
                    help="finally send poweroff and wait for the VM to exit")
    ap.add_argument("--echo", action="store_true", help="copy console output to stdout")
    ap.add_argument("argv", nargs="+", help="the VM command (after --)")
    a = ap.parse_args(argv)
    steps = [(c, None) for c in a.run]
    for er in a.expect_run:
        if "=" not in er:
            ap.error("--expect-run wants CMD=REGEX")
        c, r = er.split("=", 1)
        steps.append((c, r))
    ok = True
    vm = VM(a.argv, log=a.log, echo=a.echo)
    try:
        vm.expect(a.ready, a.timeout)
        print("ready: %.3f s" % vm.elapsed())
        vm.expect(a.prompt, a.timeout)
        print("prompt: %.3f s" % vm.elapsed())
        for cmd, regex in steps:
            status, out = vm.run(cmd, a.timeout)
            good = status == 0 and (regex is None or re.search(regex, out))
            ok = ok and bool(good)
            print("%s [%d] %s" % ("ok  " if good else "FAIL", status, cmd))
            for line in out.splitlines():
                print("      | " + line)
        if a.poweroff:
            vm.sendline("poweroff")
            code = vm.wait_exit(a.timeout)
            print("exit: %d after %.3f s" % (code, vm.elapsed()))
    except DriverError as e:
        print("FAIL: %s" % e)
        ok = False
    finally:
        vm.kill()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
