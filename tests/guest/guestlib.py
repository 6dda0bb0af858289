"""Scaffolding shared by the Python guest tests (test_boot.py, test_net.py,
test_disk.py): the PASS/FAIL tally, named checks against VMs, starting and
booting condo's default guest, and the common main() prelude.

Python 3, stdlib only; VMs are driven through tests/guest/driver.py. Each
test keeps its own checks; only what they all did the same way lives here.
"""
import argparse
import os
import time

import driver  # tests/guest/driver.py (this directory is on sys.path)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

BOOT_TIMEOUT = 120.0   # to ready + prompt (about 10 s today)
PROMPT = r"~ # "
READY = r"condo-guest: ready"
# The files of a default guest directory (guest/build-guest.sh makes them).
GUEST_FILES = ("Image", "initramfs.cpio", "fw_dynamic.bin")


def say(*a):
    print(*a, flush=True)


class Results:
    """Counts checks; prints one PASS/FAIL line each. finish() prints the
    `N passed, M failed` line that run-all.sh parses."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        say("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""))
        return ok

    def finish(self):
        """Print the summary line; the process's exit status."""
        say("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


class Steps:
    """Runs named checks against zero or more VMs. A check is a function
    returning (ok, detail). An exception in `fatal` (by default a driver
    error: timeout, VM exit) fails the check, prints the VMs' console
    tails and makes every later check of this Steps fail at once as not
    run; one in `soft` fails only that check. Tests that need other
    exceptions or another tail format subclass and set these."""

    fatal = (driver.DriverError,)
    soft = ()
    tail_lines = 25

    def __init__(self, results, vms=()):
        self.r = results
        if vms is None:
            vms = ()
        elif isinstance(vms, driver.VM):
            vms = (vms,)
        self.vms = list(vms)
        self.dead = None

    def tail_header(self, vm):
        return "     console tail:"

    def __call__(self, name, fn):
        if self.dead:
            return self.r.check(name, False, "not run: " + self.dead)
        try:
            ok, detail = fn()
        except self.fatal as e:
            first = str(e).split("\n", 1)[0]
            self.dead = "an earlier check failed (%s)" % first
            for vm in self.vms:
                say(self.tail_header(vm) + "\n" + "\n".join(
                    "     | " + l
                    for l in driver.clean(vm.tail).splitlines()[-self.tail_lines:]))
            return self.r.check(name, False, first)
        except self.soft as e:
            return self.r.check(name, False, "%s: %s" % (type(e).__name__, e))
        return self.r.check(name, ok, detail)


def cpus_args():
    """`--cpus N` when CONDO_TEST_CPUS=N is in the environment (the suites
    on an SMP guest: `make check-guest-smp`), else nothing. Every suite that
    boots a guest puts it right after `run`."""
    cpus = os.environ.get("CONDO_TEST_CPUS")
    return ["--cpus", cpus] if cpus else []


def start(condo, args, log, **kw):
    """`condo run ARGS...` as a driver.VM whose console goes to log, with
    cpus_args()."""
    return driver.VM([condo, "run"] + cpus_args() + list(args), log=log, **kw)


def wait_prompt(vm, timeout=BOOT_TIMEOUT):
    """Wait for the guest's ready line, then its shell prompt; seconds
    since the VM started."""
    vm.expect(READY, timeout)
    vm.expect(PROMPT, timeout)
    return vm.elapsed()


def boot(vm):
    """A check: the guest boots to its prompt."""
    return True, "prompt after %.1f s" % wait_prompt(vm)


def poweroff(vm, timeout):
    """A check: `poweroff` ends condo with status 0."""
    vm.sendline("poweroff")
    code = vm.wait_exit(timeout)
    return code == 0, "condo exit status %d" % code


def parser(doc):
    """argparse with the CONDO argument every guest test takes; the
    description is the first paragraph of the test's docstring."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("condo", nargs="?", default=os.path.join(ROOT, "build", "condo"))
    return ap


def guest_main(doc, log_name, body):
    """main() of a test that boots the default guest: takes [CONDO]
    [--guest DIR] [--log-dir DIR] (default build/LOG_NAME), clears old
    console-* logs, checks that condo is executable and the guest files
    exist, then calls body(results, condo, log_dir); prints the summary
    and returns the exit status (1 if any check failed)."""
    ap = parser(doc)
    ap.add_argument("--guest", help="default guest directory (sets CONDO_GUEST_DIR)")
    ap.add_argument("--log-dir", default=os.path.join(ROOT, "build", log_name))
    a = ap.parse_args()
    condo = os.path.abspath(a.condo)
    if a.guest:
        os.environ["CONDO_GUEST_DIR"] = os.path.abspath(a.guest)
    os.makedirs(a.log_dir, exist_ok=True)
    for f in os.listdir(a.log_dir):
        if f.startswith("console-"):
            os.unlink(os.path.join(a.log_dir, f))
    r = Results()
    if not os.access(condo, os.X_OK):
        r.check("condo binary", False, "%s is not executable (run make)" % condo)
    else:
        gdir = os.environ.get("CONDO_GUEST_DIR") or os.path.join(os.path.dirname(condo), "guest")
        missing = [f for f in GUEST_FILES if not os.path.exists(os.path.join(gdir, f))]
        if missing:
            r.check("default guest", False, "%s lacks %s: run guest/build-guest.sh"
                    % (gdir, ", ".join(missing)))
        else:
            t0 = time.monotonic()
            body(r, condo, a.log_dir)
            say("(%.0f s; console logs in %s)" % (time.monotonic() - t0, a.log_dir))
    return r.finish()
