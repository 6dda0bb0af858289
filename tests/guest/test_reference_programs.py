#!/usr/bin/env python3
"""Run the guest reference programs in a VM and compare with qemu-riscv64.

Each program in tests/guest/progs/*.c is a deterministic static riscv64
Linux binary that checks its own results and exits 0 when they hold. The
reference is its output and exit status under qemu-riscv64 (user mode) on
this host, and the reference run must exit 0: a program whose own checks
fail under QEMU fails here (whatever the VM does), so two sides failing
the same way never pass. The test boots ONE VM with the programs in its
initramfs at /opt/extra, runs each there and requires the same output and
exit status, byte for byte (after the console's CR/LF and escape-sequence
noise is removed on both sides).

usage: tests/guest/test_reference_programs.py [--vm condo|qemu] [options]
  --vm condo       the VM is `CONDO run --bios FW --kernel IMAGE --initrd
                   INITRD` with build/guest-test's files (default)
  --vm qemu        the VM is qemu-system-riscv64 -machine virt (the check
                   that the programs and this harness are right)
  --condo PATH     condo binary (default build/condo)
  --vm-cmd TMPL    any other VM command; {initrd} {kernel} {fw} are
                   replaced (split on spaces after substitution)
  --cpus N         the VM has N CPUs (condo --cpus, QEMU -smp with
                   multi-threaded TCG); the guest must also see N (nproc)
  --only A,B       run only these programs
  --boot-timeout S (default 120)  --timeout S per program (default 120)
  --log FILE       console log (default build/guest-test/console-VM.log)
Prints PASS/FAIL per program (a diff on failure) and, last, a line
`N passed, M failed`; exits 1 if anything failed.

See docs/TESTING-GUEST.md.
"""
import argparse
import difflib
import os
import shlex
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import driver  # noqa: E402  (tests/guest/driver.py)

PROGS_SRC = os.path.join(HERE, "progs")
PROGS_OUT = os.path.join(ROOT, "build", "guest-progs")
TEST_DIR = os.path.join(ROOT, "build", "guest-test")
REF_DIR = os.path.join(TEST_DIR, "ref")
GUEST_PATH = "/opt/extra"


def say(*a):
    print(*a, flush=True)


def normalize(text):
    """The form both sides are compared in: what driver.run() returns."""
    return driver.clean(text).strip("\n")


def program_names():
    return sorted(f[:-2] for f in os.listdir(PROGS_SRC) if f.endswith(".c"))


def build_programs():
    r = subprocess.run(["make", "-s", "-C", PROGS_SRC, "OUT=" + PROGS_OUT],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        say(r.stdout)
        raise SystemExit("test_reference_programs: building the programs failed")


def reference_run(name, timeout):
    """(status, output, seconds) of NAME under qemu-riscv64.

    A program that re-executes itself execs $SELF_EXE when set: here that
    is a host script starting qemu-riscv64 on it again (user-mode QEMU
    cannot execve a RISC-V binary without binfmt_misc). The environment is
    the guest shell's, reduced: nothing the programs print depends on it."""
    binary = os.path.join(PROGS_OUT, name)
    os.makedirs(REF_DIR, exist_ok=True)
    wrapper = os.path.join(REF_DIR, name + ".self")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec qemu-riscv64 %s \"$@\"\n" % shlex.quote(binary))
    os.chmod(wrapper, 0o755)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/root",
           "SELF_EXE": wrapper}
    t0 = time.monotonic()
    try:
        r = subprocess.run(["qemu-riscv64", binary], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=env, cwd=REF_DIR, timeout=timeout,
                           start_new_session=True)
    except subprocess.TimeoutExpired:
        raise SystemExit("test_reference_programs: %s timed out under qemu-riscv64" % name)
    dt = time.monotonic() - t0
    status = r.returncode if r.returncode >= 0 else 128 - r.returncode
    return status, normalize(r.stdout.decode("utf-8", "replace")), dt


def build_initramfs():
    """build-guest.sh --extra: the default guest plus the programs."""
    r = subprocess.run([os.path.join(ROOT, "guest", "build-guest.sh"), "--out", TEST_DIR,
                        "--extra", PROGS_OUT],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        say(r.stdout)
        raise SystemExit("test_reference_programs: guest/build-guest.sh failed")
    return {k: os.path.join(TEST_DIR, f) for k, f in
            (("initrd", "initramfs.cpio"), ("kernel", "Image"), ("fw", "fw_dynamic.bin"))}


def vm_argv(args, files):
    if args.vm_cmd:
        return [w.format(**files) for w in args.vm_cmd.split()]
    if args.vm == "qemu":
        return ["qemu-system-riscv64", "-machine", "virt", "-m", "512M", "-nographic",
                "-smp", str(args.cpus), "-accel", "tcg,thread=multi",
                "-bios", files["fw"], "-kernel", files["kernel"],
                "-initrd", files["initrd"], "-append", "console=ttyS0"]
    # The same three files QEMU gets (condo's defaults would be build/guest's).
    return [args.condo, "run", "--cpus", str(args.cpus), "--bios", files["fw"],
            "--kernel", files["kernel"], "--initrd", files["initrd"]]


def show_diff(ref, got):
    diff = difflib.unified_diff(ref.splitlines(), got.splitlines(),
                                "qemu-riscv64 (reference)", "guest", lineterm="", n=2)
    for line in diff:
        say("    " + line)


def main():
    ap = argparse.ArgumentParser(
        description="Compare guest programs' output in a VM with qemu-riscv64.")
    ap.add_argument("--vm", choices=("condo", "qemu"), default="condo")
    ap.add_argument("--condo", default=os.path.join(ROOT, "build", "condo"))
    ap.add_argument("--vm-cmd", help="VM command template with {initrd} {kernel} {fw}")
    ap.add_argument("--cpus", type=int, default=1, help="CPUs of the VM (default 1)")
    ap.add_argument("--only", help="comma-separated program names")
    ap.add_argument("--boot-timeout", type=float, default=120.0)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--log")
    args = ap.parse_args()
    t_start = time.monotonic()

    for tool in ("make", "riscv64-linux-gnu-gcc", "qemu-riscv64"):
        if not shutil.which(tool):
            say("FAIL: '%s' not found (scripts/install-deps.sh installs it)" % tool)
            say("0 passed, 1 failed")
            return 1
    names = program_names()
    if args.only:
        wanted = args.only.split(",")
        unknown = [n for n in wanted if n not in names]
        if unknown:
            ap.error("unknown program(s): %s (have: %s)" % (", ".join(unknown), ", ".join(names)))
        names = wanted

    say("building %d programs into %s" % (len(names), os.path.relpath(PROGS_OUT, ROOT)))
    build_programs()
    refs = {}
    for n in names:
        refs[n] = reference_run(n, args.timeout)
        say("reference %-18s status %d, %d lines, %.2f s under qemu-riscv64"
            % (n, refs[n][0], refs[n][1].count("\n") + 1, refs[n][2]))

    say("building the test initramfs (guest/build-guest.sh --out %s --extra %s)"
        % (os.path.relpath(TEST_DIR, ROOT), os.path.relpath(PROGS_OUT, ROOT)))
    files = build_initramfs()
    argv = vm_argv(args, files)
    if args.vm == "condo" and not args.vm_cmd and not os.access(args.condo, os.X_OK):
        say("FAIL: %s not built (make)" % args.condo)
        say("0 passed, %d failed" % len(names))
        return 1
    log = args.log or os.path.join(TEST_DIR, "console-%s.log" % ("custom" if args.vm_cmd else args.vm))
    if os.path.exists(log):
        os.unlink(log)
    say("booting: %s" % " ".join(shlex.quote(a) for a in argv))
    say("console log: %s" % log)

    passed, failed = [], []
    vm = driver.VM(argv, log=log)
    try:
        try:
            vm.expect(r"condo-guest: ready", args.boot_timeout)
            vm.expect(r"~ # ", args.boot_timeout)
            say("guest ready after %.1f s" % vm.elapsed())
            # Kernel messages on the console would interleave with program output.
            vm.run("dmesg -n 1", args.timeout)
            if args.cpus != 1:
                _, got = vm.run("nproc", args.timeout)
                if got.strip() == str(args.cpus):
                    say("PASS the guest sees %d CPUs (nproc)" % args.cpus)
                    passed.append("nproc")
                else:
                    say("FAIL the guest sees %r CPUs (nproc), not %d" % (got, args.cpus))
                    failed.append("nproc")
        except driver.DriverError as e:
            say("FAIL: the guest did not boot to a shell: %s" % e)
            failed.extend(names)
            names = []
        alive = True
        for n in names:
            if not alive:
                say("FAIL %s: not run, the VM is gone" % n)
                failed.append(n)
                continue
            ref_status, ref_out, _ = refs[n]
            if ref_status != 0:
                # The program's own checks fail under the reference: the
                # program or this harness is wrong; comparing proves nothing.
                say("FAIL %s: exits %d under qemu-riscv64 (its own checks fail on the "
                    "reference); output there:" % (n, ref_status))
                lines = ref_out.splitlines()
                shown = [l for l in lines if "fail" in l.lower()][:10] or lines[-10:]
                for line in shown:
                    say("    | " + line)
                failed.append(n)
                continue
            t0 = time.monotonic()
            try:
                status, out = vm.run("%s/%s </dev/null 2>&1" % (GUEST_PATH, n), args.timeout)
            except driver.Timeout as e:
                say("FAIL %s: no result within %.0f s\n%s" % (n, args.timeout, e))
                failed.append(n)
                # ^C the program and see whether the shell comes back.
                try:
                    vm.send("\x03")
                    vm.run("true", 30)
                except driver.DriverError:
                    alive = False
                continue
            except driver.Exited as e:
                say("FAIL %s: the VM exited\n%s" % (n, e))
                failed.append(n)
                alive = False
                continue
            dt = time.monotonic() - t0
            if status == ref_status and out == ref_out:
                say("PASS %s (%.1f s in the guest)" % (n, dt))
                passed.append(n)
                continue
            say("FAIL %s (%.1f s in the guest)" % (n, dt))
            if status != ref_status:
                say("    exit status: guest %d, reference %d" % (status, ref_status))
            if out != ref_out:
                show_diff(ref_out, out)
            failed.append(n)
        if alive and names:
            try:
                vm.sendline("poweroff")
                vm.wait_exit(60)
            except driver.DriverError:
                pass
    finally:
        vm.kill()
    say("total time %.1f s" % (time.monotonic() - t_start))
    say("%d passed, %d failed" % (len(passed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
