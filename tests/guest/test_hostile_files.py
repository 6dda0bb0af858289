#!/usr/bin/env python3
"""Every file condo reads is hostile: disk images made by qemu-img that name
host files as their backing file, FIFOs and devices where files belong,
truncated kernels and images, the same image twice, loops, bad --disk values.

Each refusal must be one clear line on stderr and a clean exit status (2 for
bad input, 6 when the host lacks resources), never a hang, never a crash or a
sanitizer report, never a VM started; and no guest may ever read a byte of a
file the user did not name. Most checks start no guest (a bare-metal program
that passes at once proves a disk was accepted); two boot the default guest:
the issue's attack (`head -c 80 /dev/vda` sees no host file) and a qcow2 image
truncated under the running VM (the guest gets I/O errors, not zeros).

`make check-guest` runs this against the release build, `make check-hostile`
against the ASan/UBSan build (the exit statuses must hold there too: a leak
report would turn exit 2 into 1).

usage: tests/guest/test_hostile_files.py [CONDO] [--no-boot] [--guest DIR]
Prints PASS/FAIL per check and `N passed, M failed`; exit 1 on a failure.
"""
import fcntl
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import driver  # noqa: E402
import guestlib  # noqa: E402
from guestlib import Results, say  # noqa: E402

HERE = guestlib.HERE
ROOT = guestlib.ROOT
LIMIT = 30.0  # seconds: every refusal here comes far sooner (ASan included)
CMD_TIMEOUT = 60.0
CRASH = re.compile(r"Sanitizer|runtime error|Segmentation|Aborted|assert|core dumped", re.I)
SECRET = b"root:$6$host-secret-the-guest-must-never-see$:19000:0:99999:7:::\n"


def host(argv, check=True, **kw):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       errors="replace", **kw)
    if check and p.returncode != 0:
        raise AssertionError("`%s` exited %d: %s" % (" ".join(argv), p.returncode,
                                                    (p.stdout + p.stderr)[-400:]))
    return p


class Run:
    """One condo invocation, stdin empty, with a deadline."""

    def __init__(self, condo, args, env=None, timeout=LIMIT, prefix=()):
        t0 = time.monotonic()
        try:
            p = subprocess.run(list(prefix) + [condo] + list(args), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                               timeout=timeout)
            self.rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            self.rc, out, err = None, e.stdout or b"", e.stderr or b""
        self.secs = time.monotonic() - t0
        self.out = out.decode(errors="replace")
        self.err = err.decode(errors="replace")
        self.lines = [l for l in self.err.splitlines() if l.strip()]


def one_line(run, want_rc, regex):
    """(ok, detail): exit want_rc, nothing on stdout, one line on stderr
    matching regex, no crash report."""
    first = run.lines[0] if run.lines else ""
    if run.rc is None:
        return False, "no exit within %.0f s (blocked?)" % LIMIT
    if CRASH.search(run.err):
        return False, "crash or sanitizer report: %s" % run.err[-600:]
    if run.rc != want_rc:
        return False, "exit %s (want %d): %s" % (run.rc, want_rc, run.err[-400:])
    if run.out.strip():
        return False, "wrote to stdout (a VM ran?): %r" % run.out[:200]
    if len(run.lines) != 1:
        return False, "%d lines on stderr (want one): %r" % (len(run.lines), run.err[-400:])
    if not re.search(regex, first, re.I):
        return False, "message does not name the problem (want /%s/): %s" % (regex, first)
    return True, "exit %d in %.1f s: %s" % (run.rc, run.secs, first[:160])


def exits(run, want_rc):
    if run.rc is None:
        return False, "no exit within %.0f s" % LIMIT
    if CRASH.search(run.err):
        return False, "crash or sanitizer report: %s" % run.err[-600:]
    return run.rc == want_rc, "exit %s (want %d)%s" % (
        run.rc, want_rc, "" if run.rc == want_rc else ": " + run.err[-300:])


def sanitized(condo):
    with open(condo, "rb") as f:
        return b"__asan_init" in f.read()


def build_tiny(out):
    """tests/guest/tiny/tiny.S: reports pass through HTIF at once."""
    for cc in ("riscv64-unknown-elf-gcc", "riscv64-linux-gnu-gcc"):
        if shutil.which(cc):
            host([cc, "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-nostdlib",
                  "-nostartfiles", "-static", "-Wl,--no-warn-rwx-segments", "-Wl,--build-id=none",
                  "-T", os.path.join(HERE, "tiny", "link.ld"), "-o", out,
                  os.path.join(HERE, "tiny", "tiny.S")])
            return
    raise AssertionError("no RISC-V compiler (scripts/install-deps.sh installs "
                         "gcc-riscv64-unknown-elf)")


def qimg(*args):
    host(["qemu-img", "create", "-q"] + list(args))


def rebase_unsafe(img, backing, fmt=None):
    argv = ["qemu-img", "rebase", "-u", "-b", backing]
    if fmt:
        argv += ["-F", fmt]
    host(argv + [img])


def host_secret():
    """The issue's file if this host has it, else one of our own."""
    for p in ("/etc/gshadow-", "/etc/gshadow", "/etc/shadow"):
        if os.path.isfile(p) and os.access(p, os.R_OK) and os.path.getsize(p) > 0:
            return p
    return None


def cli_checks(r, condo, w, guest_dir):
    env = dict(os.environ, CONDO_HOME=os.path.join(w, "home"))
    img = os.path.join(w, "img")
    out = os.path.join(w, "outside")
    for d in (img, out, os.path.join(img, "lower"), os.path.join(w, "home", "images")):
        os.makedirs(d, exist_ok=True)
    secret = os.path.join(out, "secret.img")
    with open(secret, "wb") as f:
        f.write(SECRET.ljust(4096, b"\0"))
    tiny = os.path.join(w, "pass.elf")
    build_tiny(tiny)

    def run(*args, **kw):
        return Run(condo, args, env=env, **kw)

    def bare(*disks):
        """condo run --bios none --kernel pass.elf --disk D...: exit 0 means
        every disk opened."""
        args = ["run", "--bios", "none", "--kernel", tiny]
        for d in disks:
            args += ["--disk", d]
        return run(*args)

    def P(name):
        return os.path.join(img, name)

    # -- 1. the backing rule --------------------------------------------------
    say("== the backing rule (images made by qemu-img)")
    gs = host_secret() or secret
    qimg("-f", "qcow2", "-u", "-b", gs, "-F", "raw", P("x.qcow2"), "1M")
    r.check("the issue's attack (qemu-img -u -b %s): refused, one line naming the image "
            "and backing=" % gs, *one_line(bare(P("x.qcow2")), 2, r"x\.qcow2.*backing="))
    r.check("the same attack against the default guest: refused before any guest runs",
            *one_line(run("run", "--disk", P("x.qcow2")), 2, r"x\.qcow2.*outside"))

    qimg("-f", "qcow2", "-u", "-b", "../outside/secret.img", "-F", "raw", P("t.qcow2"), "1M")
    r.check("../ traversal out of the image's directory: refused",
            *one_line(bare(P("t.qcow2")), 2, r"t\.qcow2.*outside"))
    os.symlink(secret, P("link.img"))
    qimg("-f", "qcow2", "-u", "-b", "link.img", "-F", "raw", P("l.qcow2"), "1M")
    r.check("a name in the directory that is a symbolic link leading out: refused",
            *one_line(bare(P("l.qcow2")), 2, r"l\.qcow2.*outside"))
    qimg("-f", "qcow2", "-u", "-b", "/dev/zero", "-F", "raw", P("dev.qcow2"), "1M")
    r.check("a host device as backing file (/dev/zero): refused",
            *one_line(bare(P("dev.qcow2")), 2, r"dev\.qcow2"))
    blk = next((d for d in ("/dev/loop0", "/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/xvda")
                if os.path.exists(d) and stat.S_ISBLK(os.stat(d).st_mode)), None)
    if blk:
        qimg("-f", "qcow2", "-u", "-b", blk, "-F", "raw", P("blk.qcow2"), "1M")
        r.check("a host block device (%s) as backing file: refused" % blk,
                *one_line(bare(P("blk.qcow2")), 2, r"blk\.qcow2"))
    os.mkfifo(P("fifo"))
    qimg("-f", "qcow2", "-u", "-b", "fifo", "-F", "raw", P("f.qcow2"), "1M")
    r.check("a FIFO in the image's own directory as backing file: refused at once",
            *one_line(bare(P("f.qcow2")), 2, r"FIFO"))
    shutil.copy(P("x.qcow2"), P("probed.raw"))
    os.truncate(P("probed.raw"), 256 * 1024)  # whole sectors, for format=raw
    r.check("a raw file starting with qcow2's magic, format probed: same rule, refused",
            *one_line(bare(P("probed.raw")), 2, r"probed\.raw.*backing"))
    r.check("the same file with format=raw: only its own bytes, accepted",
            *exits(bare(P("probed.raw") + ",format=raw"), 0))

    host(["qemu-img", "create", "-q", "-f", "raw", P("base.img"), "1M"])
    qimg("-f", "qcow2", "-b", "base.img", "-F", "raw", P("ok.qcow2"))
    r.check("a base beside the image: followed", *exits(bare(P("ok.qcow2")), 0))
    host(["qemu-img", "create", "-q", "-f", "raw", P("lower/base.img"), "1M"])
    qimg("-f", "qcow2", "-b", "lower/base.img", "-F", "raw", P("ok2.qcow2"))
    r.check("a base below the image's directory: followed", *exits(bare(P("ok2.qcow2")), 0))
    store_base = os.path.join(w, "home", "images", "debian.img")
    host(["qemu-img", "create", "-q", "-f", "raw", store_base, "1M"])
    qimg("-f", "qcow2", "-b", store_base, "-F", "raw", P("ok3.qcow2"))
    r.check("a base in condo's image store ($CONDO_HOME/images): followed",
            *exits(bare(P("ok3.qcow2")), 0))
    r.check("--disk FILE,backing=PATH names a base outside: followed",
            *exits(bare(P("t.qcow2") + ",backing=" + secret), 0))
    r.check("--disk FILE,backing=none,ro: the top layer alone",
            *exits(bare(P("x.qcow2") + ",backing=none,ro"), 0))
    r.check("--disk FILE,backing=none without ro: refused (writes would lose the base)",
            *one_line(bare(P("x.qcow2") + ",backing=none"), 2, r"backing=none.*ro"))
    r.check("backing= on an image without a backing file: refused",
            *one_line(bare(P("base.img") + ",backing=" + secret), 2, r"base\.img"))

    # -- condo disk info --------------------------------------------------------
    say("== condo disk info")
    p = run("disk", "info", P("x.qcow2"))
    r.check("disk info on the attack image: exit 1, shows the name and the refusal",
            p.rc == 1 and gs in p.out and "backing allowed: no" in p.out and not CRASH.search(p.err),
            "exit %s: %s" % (p.rc, p.out.replace("\n", " | ")[:300]))
    p = run("disk", "info", "--json", P("x.qcow2"))
    try:
        j = json.loads(p.out)
        c = j["chain"]
        ok = (p.rc == 1 and len(c) == 1 and c[0]["backing-filename"] == gs
              and c[0]["backing-allowed"] is False and "outside" in c[0]["backing-refused"])
        detail = "exit %s, %d layer(s), backing-allowed %s" % (p.rc, len(c), c[0].get("backing-allowed"))
    except (ValueError, KeyError, IndexError) as e:
        ok, detail = False, "bad JSON (%s): %r" % (e, p.out[:300])
    r.check("disk info --json: valid JSON with the refusal", ok, detail)
    qimg("-f", "qcow2", "-b", "ok.qcow2", "-F", "qcow2", P("top.qcow2"), "2M")
    p = run("disk", "info", "--json", P("top.qcow2"))
    try:
        c = json.loads(p.out)["chain"]
        q = json.loads(host(["qemu-img", "info", "--output=json", "--backing-chain",
                             P("top.qcow2")]).stdout)
        ok = (p.rc == 0 and [l["virtual-size"] for l in c] == [l["virtual-size"] for l in q]
              and [l["format"] for l in c] == [l["format"] for l in q]
              and all(l.get("backing-allowed", True) for l in c))
        detail = "exit %s; condo %s, qemu-img %s" % (
            p.rc, [(l["format"], l["virtual-size"]) for l in c],
            [(l["format"], l["virtual-size"]) for l in q])
    except (ValueError, KeyError) as e:
        ok, detail = False, "bad JSON (%s): %r" % (e, p.out[:300])
    r.check("disk info of a 3-layer chain: the layers qemu-img sees, all allowed", ok, detail)
    r.check("disk info on a FIFO: refused at once",
            *one_line(run("disk", "info", P("fifo")), 2, r"fifo.*regular"))

    # -- condo disk create -------------------------------------------------------
    os.makedirs(P("sub"), exist_ok=True)
    p = run("disk", "create", P("sub/o.qcow2"), "--backing", "../../outside/secret.img")
    ok, detail = one_line(p, 1, r"cannot create.*outside")
    r.check("disk create with a base condo run would refuse: not created",
            ok and not os.path.exists(P("sub/o.qcow2")), detail)

    # -- 2. nothing blocks -------------------------------------------------------
    say("== FIFOs where files belong")
    fifo = os.path.join(out, "fifo")
    os.mkfifo(fifo)
    r.check("--disk FIFO: refused at once", *one_line(bare(fifo), 2, r"fifo.*regular"))
    r.check("--bios none --kernel FIFO: refused at once",
            *one_line(run("run", "--bios", "none", "--kernel", fifo), 2, r"FIFO"))
    gfile = lambda n: os.path.join(guest_dir, n)  # noqa: E731
    if all(os.path.exists(gfile(n)) for n in guestlib.GUEST_FILES):
        r.check("--kernel FIFO: refused at once",
                *one_line(run("run", "--kernel", fifo), 2, r"FIFO"))
        r.check("--initrd FIFO: refused at once",
                *one_line(run("run", "--initrd", fifo), 2, r"FIFO"))
        r.check("--bios FIFO: refused at once",
                *one_line(run("run", "--bios", fifo), 2, r"FIFO"))

        # -- 5. a truncated kernel -------------------------------------------
        say("== truncated kernels")
        with open(gfile("Image"), "rb") as f:
            kernel = f.read()
        for cut in (1024, len(kernel) // 2, len(kernel) - 1):
            t = os.path.join(w, "Image-%d" % cut)
            with open(t, "wb") as f:
                f.write(kernel[:cut])
            r.check("the default kernel cut to %d of %d bytes: refused as truncated"
                    % (cut, len(kernel)),
                    *one_line(run("run", "--kernel", t), 2, r"truncated"))
    else:
        r.check("default guest files in %s" % guest_dir, False,
                "missing: run guest/build-guest.sh")

    # -- 6. rejected --disk values: exit 2 under the sanitizer build too -----------
    say("== rejected --disk values")
    for val, regex in ((P("base.img") + ",bogus=1", r"bogus"),
                       ("/nonexistent.img", r"nonexistent"),
                       ("", r"--disk"),
                       (P("base.img") + ",backing=", r"backing"),
                       (P("base.img") + ",iops=abc", r"iops"),
                       (",ro", r"--disk")):
        r.check("--disk %r: exit 2, one line, no leak report" % val,
                *one_line(run("run", "--bios", "none", "--kernel", tiny, "--disk", val), 2, regex))
    r.check("nine --disk options: exit 2", *one_line(bare(*([P("base.img") + ",ro"] * 9)), 2,
                                                      r"at most"))

    # -- 7. the same image twice, a loop ---------------------------------------
    say("== the same image twice, loops")
    qimg("-f", "qcow2", P("a.qcow2"), "1M")
    p = bare(P("a.qcow2"), P("a.qcow2"))
    ok, detail = one_line(p, 2, r"already open in this VM")
    r.check("one image as two disks: says so (not 'another process')",
            ok and "another process" not in p.err, detail)
    r.check("one image twice, both read-only: accepted",
            *exits(bare(P("a.qcow2") + ",ro", P("a.qcow2") + ",ro"), 0))
    qimg("-f", "qcow2", "-b", "a.qcow2", "-F", "qcow2", P("b.qcow2"))
    rebase_unsafe(P("a.qcow2"), "b.qcow2", "qcow2")
    p = bare(P("a.qcow2"))
    ok, detail = one_line(p, 2, r"loops")
    r.check("a backing cycle opened read-write: says it loops (not 'another process')",
            ok and "another process" not in p.err, detail)
    r.check("a backing cycle opened read-only: says it loops",
            *one_line(bare(P("a.qcow2") + ",ro"), 2, r"loops"))
    with open(P("base.img"), "rb+") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r.check("an image another process holds: 'in use by another process'",
                *one_line(bare(P("base.img")), 2, r"another process"))

    # -- host resources: exit 6, not "bad options" -------------------------------
    if not sanitized(condo) and shutil.which("prlimit"):
        p = Run(condo, ["run", "--bios", "none", "--kernel", tiny, "--memory", "4G"], env=env,
                prefix=["prlimit", "--as=1000000000", "--"])
        r.check("guest RAM the host cannot give (address space limited to 1 GB): exit 6",
                *one_line(p, 6, r"memory"))


def boot_checks(r, condo, w):
    img = os.path.join(w, "img")
    gs = host_secret() or os.path.join(w, "outside", "secret.img")

    def vm(args, name):
        return guestlib.start(condo, args, os.path.join(w, "console-%s.log" % name))

    # -- the attack, end to end -----------------------------------------
    say("== the attack against a running guest")
    v = vm(["--disk", os.path.join(img, "x.qcow2") + ",backing=none,ro"], "attack")
    try:
        s = guestlib.Steps(r, v)
        s("boot with the attack image, top layer alone (backing=none,ro)",
          lambda: guestlib.boot(v))

        def head():
            st, o = v.run("head -c 80 /dev/vda | od -v -An -tx1 | tr -d ' \\n'; echo; "
                          "head -c 4096 /dev/vda | grep -c 'root:'", CMD_TIMEOUT)
            lines = o.splitlines()
            zeros = lines and set(lines[0]) <= {"0"} and len(lines[0]) == 160
            return st != 0 and zeros, "head -c 80 /dev/vda: %s" % " | ".join(lines)[:200]
        s("the guest's `head -c 80 /dev/vda` shows zeros, nothing of %s" % gs, head)
        s("poweroff", lambda: guestlib.poweroff(v, 60))
    finally:
        v.kill()

    # -- 4. a qcow2 image truncated under the running VM --------------------------
    say("== a qcow2 image truncated while the guest runs")
    data = os.path.join(w, "data.qcow2")
    qimg("-f", "qcow2", data, "8M")
    host(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 8M", data])
    v = vm(["--disk", data], "truncate")
    try:
        s = guestlib.Steps(r, v)
        s("boot with an 8 MiB qcow2 disk full of 0x5a", lambda: guestlib.boot(v))

        def before():
            st, o = v.run("dd if=/dev/vda bs=4096 count=1 skip=1024 2>/dev/null | od -An -tx1 "
                          "| head -n1", CMD_TIMEOUT)
            return st == 0 and "5a 5a" in o, o.strip()[:80]
        s("the guest reads 0x5a from the middle of the disk", before)

        def cut():
            os.truncate(data, 256 * 1024)  # header and tables only
            st, o = v.run("echo 3 > /proc/sys/vm/drop_caches; "
                          "dd if=/dev/vda of=/dev/null bs=4096 count=1 skip=1536 2>&1", CMD_TIMEOUT)
            return st != 0 and re.search(r"I/O error|Input/output", o) is not None, \
                "dd exit %d: %s" % (st, o.replace("\n", " | ")[:200])
        s("after the host truncates the file, a read is an I/O error (not zeros)", cut)

        def write():
            st, o = v.run("dd if=/dev/zero of=/dev/vda bs=4096 count=1 seek=10 conv=fsync 2>&1",
                          CMD_TIMEOUT)
            return st != 0, "dd exit %d: %s" % (st, o.replace("\n", " | ")[:200])
        s("... and a write fails too (not taken silently)", write)

        def logged():
            t = driver.clean(v.tail)
            n = t.count("shrank")
            return n == 1, "%d 'shrank' line(s) on condo's stderr" % n
        s("condo says once that the image shrank under it", logged)
    finally:
        v.kill()


def main():
    ap = guestlib.parser(__doc__)
    ap.add_argument("--no-boot", action="store_true", help="skip the two checks that boot")
    ap.add_argument("--guest", help="default guest directory (sets CONDO_GUEST_DIR)")
    a = ap.parse_args()
    condo = os.path.abspath(a.condo)
    if a.guest:
        os.environ["CONDO_GUEST_DIR"] = os.path.abspath(a.guest)
    guest_dir = os.environ.get("CONDO_GUEST_DIR") or os.path.join(os.path.dirname(condo), "guest")
    r = Results()
    if not os.access(condo, os.X_OK):
        r.check("condo binary", False, "%s is not executable (run make)" % condo)
        return r.finish()
    for tool in ("qemu-img", "qemu-io"):
        if not shutil.which(tool):
            r.check(tool, False, "not installed (scripts/install-deps.sh installs qemu-utils)")
            return r.finish()
    w = tempfile.mkdtemp(prefix="condo-hostile-")
    try:
        try:
            cli_checks(r, condo, w, guest_dir)
            if not a.no_boot:
                boot_checks(r, condo, w)
        except AssertionError as e:
            r.check("test set-up", False, str(e))
    finally:
        shutil.rmtree(w, ignore_errors=True)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
