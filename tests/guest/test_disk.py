#!/usr/bin/env python3
"""Virtio disks under condo, checked against the host's own tools.

usage: tests/guest/test_disk.py [CONDO] [--work DIR]
  CONDO       condo binary (default build/condo)
  --work DIR  images and console logs (default build/test-disk; wiped)

The host tools are the reference: e2fsprogs (mke2fs -d, debugfs, e2fsck)
and qemu-utils (qemu-img). VMs run one after the other, through
tests/guest/driver.py. What is checked:

 1. raw ext4: an image made on the host with `mke2fs -t ext4 -d` is mounted
    in the guest and a host-made file reads back with the host's sha256; a
    guest-written file (dd from /dev/urandom) keeps its sha256 across
    `sync` + `reboot` (same VM process); after umount + poweroff the host
    reads it with `debugfs -R "cat ..."` (same sha256) and `e2fsck -fn` is
    clean (exit 0).
 2. read-only (`--disk IMG,ro`): /sys/block/vda/ro is 1, `dd of=/dev/vda`
    fails, a rw mount is refused or falls back to read-only (a file cannot
    be created), the host file's sha256 is unchanged.
 3. qcow2: a blank `qemu-img create -f qcow2` image (vdb) is filled by the
    guest with dd from a raw ext4 image (vda); `qemu-img check` is clean and
    `qemu-img compare` says it equals the raw image. Two overlays
    (`qemu-img create -b base -F qcow2`), used by two VMs in sequence, each
    get their own file; the base's sha256 is unchanged; each VM sees only its
    own file; `qemu-img check` is clean for base and overlays; each overlay
    converted to raw with `qemu-img convert` holds its own file (debugfs,
    sha256) and not the other's.
 4. durability: the guest writes a file (dd), sha256sum, `sync`; once the
    sync has returned, condo is killed with SIGKILL. Asserted on a copy of
    the image: `e2fsck -fy` replays the journal and exits 0 or 1 without
    repairing anything (no "...? yes" answer in its output, except the
    superblock's "Free blocks/inodes count wrong", totals that ext4 does not
    maintain while mounted and that e2fsck -n does not count as errors),
    a following `e2fsck -fn` exits 0, and debugfs reads the file with the
    guest's sha256. The original image's own `e2fsck -fn` status is
    printed, not asserted (an unreplayed journal is legitimate after a
    crash). The same with a qcow2 image, plus `qemu-img check` exit 0 on
    the killed image (no corruption and no leaked clusters).
 5. a throttled disk does not stall the guest: with `--disk IMG,bps=1M`, a
    guest `dd if=/dev/zero of=/dev/vda bs=1M count=16 oflag=direct
    conv=fsync` runs in the background (the limit makes it last at least
    15 s); meanwhile the shell answers `echo` (each within CMD_TIMEOUT, a
    generous bound; the latencies are printed, never asserted) and dd is
    still running afterwards (kill -0). Then dd exits 0, took at least the
    15 s the limit allows (a lower bound only: the limiter still applies),
    and the host file holds the 16 MiB of zeros and the pattern after them.
 6. errors: `--disk /nonexistent` and `--disk FILE,bogus` make condo exit
    2 with a message naming the path / the option. A compressed qcow2
    (`qemu-img convert -c`) must give a clear "not supported": either exit 2
    at start, or (condo's present design) a boot where every use of a
    compressed cluster fails with an I/O error in the guest and a message
    on stderr, and the image stays valid (qemu-img check) and unchanged
    outside what the guest wrote.

Prints PASS/FAIL per check and, last, `N passed, M failed`; exits 1 if any
check failed. About 1-2 minutes.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import driver  # noqa: E402
import guestlib  # noqa: E402  (tests/guest/guestlib.py)
from guestlib import BOOT_TIMEOUT, PROMPT, READY, Results, say  # noqa: E402

CMD_TIMEOUT = 120.0
SHA = re.compile(r"\b([0-9a-f]{64})\b")


class Steps(guestlib.Steps):
    """Named checks on one VM (or none: host-side checks); after a driver
    error (timeout, VM exit) every later check of the same VM fails at
    once as not run. A host command's failure fails only its check."""

    soft = (subprocess.SubprocessError, OSError, AssertionError)


def host(argv, check=True, **kw):
    """Run a host command; CompletedProcess with text output."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, errors="replace", **kw)
    if check and p.returncode != 0:
        raise AssertionError("`%s` exited %d: %s" % (" ".join(argv), p.returncode,
                                                    (p.stdout + p.stderr)[-400:]))
    return p


def sha_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def debugfs_sha(img, path):
    """sha256 of a file inside an ext4 image, read by debugfs (None: absent)."""
    p = subprocess.run(["debugfs", "-R", "cat " + path, img],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0 or b"File not found" in p.stderr:
        return None
    return hashlib.sha256(p.stdout).hexdigest()


def debugfs_ls(img):
    p = host(["debugfs", "-R", "ls -l /", img])
    return p.stdout


def mkext4(img, srcdir, size="64M"):
    if os.path.exists(img):
        os.unlink(img)
    host(["mke2fs", "-q", "-F", "-t", "ext4", "-d", srcdir, img, size])


class Guest:
    """One VM with helpers; `with Guest(...) as g:` kills it at the end."""

    def __init__(self, condo, disks, log, extra=()):
        args = []
        for d in disks:
            args += ["--disk", d]
        self.vm = guestlib.start(condo, args + list(extra), log)

    def boot(self):
        guestlib.wait_prompt(self.vm)
        # Keep kernel messages off the console: they would mix into outputs.
        self.vm.run("dmesg -n 1", CMD_TIMEOUT)
        return self.vm.elapsed()

    def run(self, cmd, timeout=CMD_TIMEOUT):
        return self.vm.run(cmd, timeout)

    def ok(self, cmd, timeout=CMD_TIMEOUT):
        status, out = self.vm.run(cmd, timeout)
        if status != 0:
            raise AssertionError("guest `%s` exited %d: %r" % (cmd, status, out[-300:]))
        return out

    def sha(self, path):
        out = self.ok("sha256sum " + path)
        m = SHA.search(out)
        if not m:
            raise AssertionError("no sha256 in %r" % out)
        return m.group(1)

    def poweroff(self):
        self.vm.sendline("poweroff")
        return self.vm.wait_exit(60)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.vm.kill()


def section(name):
    say("== " + name)


# --------------------------------------------------------------------------
def test_raw(r, condo, w):
    section("raw ext4 image, write + reboot + host check")
    src = os.path.join(w, "raw-src")
    os.makedirs(os.path.join(src, "dir"))
    with open(os.path.join(src, "dir", "host.bin"), "wb") as f:
        f.write(os.urandom(300 * 1024 + 17))
    host_sha = sha_file(os.path.join(src, "dir", "host.bin"))
    img = os.path.join(w, "raw.img")
    mkext4(img, src)
    st = {}
    with Guest(condo, [img], os.path.join(w, "console-raw.log")) as g:
        s = Steps(r, g.vm)
        s("raw: boot with --disk raw.img", lambda: (True, "prompt after %.1f s" % g.boot()))

        def read_host():
            g.ok("mount /dev/vda /mnt")
            got = g.sha("/mnt/dir/host.bin")
            return got == host_sha, "guest %s, host %s" % (got[:16], host_sha[:16])
        s("raw: mount /dev/vda, host-made file has the host's sha256", read_host)

        def write():
            g.ok("dd if=/dev/urandom of=/mnt/guest.bin bs=64k count=48")
            st["sha"] = g.sha("/mnt/guest.bin")
            g.ok("sync")
            return True, "3 MiB, sha256 %s" % st["sha"][:16]
        s("raw: guest writes a 3 MiB file and syncs", write)

        def reboot():
            g.vm.sendline("reboot")
            t = g.vm.elapsed()
            g.boot()
            g.ok("mount /dev/vda /mnt")
            got = g.sha("/mnt/guest.bin")
            return got == st.get("sha"), "after reboot (%.1f s) sha256 %s" % (
                g.vm.elapsed() - t, got[:16])
        s("raw: reboot in place, the file's sha256 is the same", reboot)

        def off():
            g.ok("umount /mnt")
            code = g.poweroff()
            return code == 0, "condo exit %d" % code
        s("raw: umount + poweroff, condo exits 0", off)

    def host_check():
        got = debugfs_sha(img, "/guest.bin")
        return got == st.get("sha"), "debugfs cat /guest.bin sha256 %s" % (got or "absent")[:16]
    s = Steps(r)
    s("raw: host debugfs reads the guest's file with its sha256", host_check)

    def fsck():
        p = host(["e2fsck", "-fn", img], check=False)
        return p.returncode == 0, "e2fsck -fn exit %d %s" % (
            p.returncode, "" if p.returncode == 0 else (p.stdout + p.stderr)[-300:])
    s("raw: e2fsck -fn is clean", fsck)


# --------------------------------------------------------------------------
def test_ro(r, condo, w):
    section("read-only disk")
    src = os.path.join(w, "ro-src")
    os.makedirs(src)
    with open(os.path.join(src, "f.txt"), "w") as f:
        f.write("read only\n")
    img = os.path.join(w, "ro.img")
    mkext4(img, src)
    before = sha_file(img)
    with Guest(condo, [img + ",ro"], os.path.join(w, "console-ro.log")) as g:
        s = Steps(r, g.vm)
        s("ro: boot with --disk ro.img,ro", lambda: (True, "prompt after %.1f s" % g.boot()))

        def sysro():
            out = g.ok("cat /sys/block/vda/ro")
            return out.strip() == "1", "/sys/block/vda/ro = %r" % out.strip()
        s("ro: the guest sees a read-only device", sysro)

        def dd():
            status, out = g.run("dd if=/dev/zero of=/dev/vda bs=4096 count=16 conv=fsync")
            return status != 0, "dd of=/dev/vda exit %d: %s" % (
                status, out.strip().splitlines()[0][:100] if out.strip() else "")
        s("ro: dd of=/dev/vda fails", dd)

        def mnt():
            # A rw mount of a ro device is refused or falls back to read-only.
            g.run("mount /dev/vda /mnt")
            status, out = g.run("grep ' /mnt ' /proc/mounts")
            if status != 0:
                g.ok("mount -o ro /dev/vda /mnt")
                status, out = g.run("grep ' /mnt ' /proc/mounts")
            txt = g.ok("cat /mnt/f.txt")
            ts, tout = g.run("touch /mnt/new && sync")
            ro = re.search(r"\sro[\s,]", out) is not None
            return ro and ts != 0 and txt.strip() == "read only", \
                "mount: %r; cat: %r; touch exit %d" % (out.strip(), txt.strip(), ts)
        s("ro: mounted read-only, file readable, creating a file fails", mnt)

        def off():
            g.run("umount /mnt")
            code = g.poweroff()
            return code == 0, "condo exit %d" % code
        s("ro: poweroff, condo exits 0", off)
    after = sha_file(img)
    r.check("ro: image unchanged (host sha256 before == after)", before == after,
            "%s -> %s" % (before[:16], after[:16]))


# --------------------------------------------------------------------------
def test_qcow2(r, condo, w):
    section("qcow2 base + overlays")
    src = os.path.join(w, "q-src")
    os.makedirs(src)
    with open(os.path.join(src, "base.txt"), "w") as f:
        f.write("from the base\n")
    raw = os.path.join(w, "q-raw.img")
    mkext4(raw, src)
    base = os.path.join(w, "base.qcow2")
    s = Steps(r)
    s("qcow2: qemu-img create -f qcow2 base.qcow2 64M",
      lambda: (host(["qemu-img", "create", "-q", "-f", "qcow2", base, "64M"]) and True, ""))

    with Guest(condo, [raw + ",ro", base], os.path.join(w, "console-qfill.log")) as g:
        s = Steps(r, g.vm)
        s("qcow2: boot with a raw ro vda and the blank qcow2 as vdb",
          lambda: (True, "prompt after %.1f s" % g.boot()))

        def fill():
            g.ok("dd if=/dev/vda of=/dev/vdb bs=1M && sync", 300)
            code = g.poweroff()
            return code == 0, "guest dd vda->vdb, condo exit %d" % code
        s("qcow2: guest copies the ext4 image onto the qcow2 disk", fill)

    s = Steps(r)

    def chk(img):
        def f():
            p = host(["qemu-img", "check", img], check=False)
            return p.returncode == 0, "qemu-img check %s exit %d %s" % (
                os.path.basename(img), p.returncode,
                "" if p.returncode == 0 else (p.stdout + p.stderr)[-300:])
        return f
    s("qcow2: qemu-img check base.qcow2 clean", chk(base))

    def compare():
        p = host(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", raw, base], check=False)
        return p.returncode == 0, "qemu-img compare exit %d: %s" % (p.returncode, p.stdout.strip())
    s("qcow2: qemu-img compare: base.qcow2 == the raw ext4 image", compare)

    base_sha = sha_file(base)
    shas = {}
    for name in ("ov1", "ov2"):
        ov = os.path.join(w, name + ".qcow2")
        host(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", ov])
        other = "ov2" if name == "ov1" else "ov1"
        with Guest(condo, [ov], os.path.join(w, "console-%s.log" % name)) as g:
            s = Steps(r, g.vm)
            s("%s: boot with overlay %s.qcow2" % (name, name),
              lambda: (True, "prompt after %.1f s" % g.boot()))

            def write():
                g.ok("mount /dev/vda /mnt")
                t = g.ok("cat /mnt/base.txt")
                g.ok("dd if=/dev/urandom of=/mnt/%s.bin bs=64k count=8" % name)
                shas[name] = g.sha("/mnt/%s.bin" % name)
                g.ok("sync")
                st, ls = g.run("ls /mnt")
                return t.strip() == "from the base" and other not in ls, \
                    "base.txt %r; ls /mnt: %s" % (t.strip(), " ".join(ls.split()))
            s("%s: sees the base's file and writes its own, not %s's" % (name, other), write)

            def off():
                g.ok("umount /mnt")
                code = g.poweroff()
                return code == 0, "condo exit %d" % code
            s("%s: umount + poweroff, condo exits 0" % name, off)

    s = Steps(r)
    s("qcow2: base.qcow2 unchanged after both VMs (sha256)",
      lambda: (sha_file(base) == base_sha, base_sha[:16]))
    s("qcow2: qemu-img check base.qcow2 clean after the VMs", chk(base))
    for name in ("ov1", "ov2"):
        other = "ov2" if name == "ov1" else "ov1"
        ov = os.path.join(w, name + ".qcow2")
        s("%s: qemu-img check clean" % name, chk(ov))

        def conv(name=name, other=other, ov=ov):
            out = os.path.join(w, name + "-conv.img")
            host(["qemu-img", "convert", "-O", "raw", ov, out])
            mine = debugfs_sha(out, "/%s.bin" % name)
            theirs = debugfs_sha(out, "/%s.bin" % other)
            basetxt = debugfs_sha(out, "/base.txt")
            fs = host(["e2fsck", "-fn", out], check=False).returncode
            return (mine == shas.get(name) and theirs is None and basetxt is not None
                    and fs == 0), \
                "own file sha256 %s, %s's file %s, e2fsck -fn exit %d" % (
                    (mine or "absent")[:16], other, "absent" if theirs is None else "PRESENT", fs)
        s("%s: qemu-img convert to raw holds its own file only (debugfs)" % name, conv)


# --------------------------------------------------------------------------
def test_durability(r, condo, w, fmt):
    section("durability after SIGKILL (%s)" % fmt)
    src = os.path.join(w, "dur-src-" + fmt)
    os.makedirs(src)
    with open(os.path.join(src, "seed.txt"), "w") as f:
        f.write("seed\n")
    raw = os.path.join(w, "dur-%s.raw" % fmt)
    mkext4(raw, src)
    if fmt == "qcow2":
        img = os.path.join(w, "dur.qcow2")
        host(["qemu-img", "convert", "-O", "qcow2", raw, img])
        os.unlink(raw)
    else:
        img = raw
    st = {}
    tag = "dur-" + fmt
    with Guest(condo, [img], os.path.join(w, "console-%s.log" % tag)) as g:
        s = Steps(r, g.vm)
        s("%s: boot" % tag, lambda: (True, "prompt after %.1f s" % g.boot()))

        def write_kill():
            g.ok("mount /dev/vda /mnt")
            g.ok("mkdir /mnt/d && dd if=/dev/urandom of=/mnt/d/data.bin bs=64k count=64")
            st["sha"] = g.sha("/mnt/d/data.bin")
            g.ok("sync")  # returns only after the guest's flush completed
            g.vm.kill()   # SIGKILL to condo's process group, at once
            return g.vm.proc.returncode == -9, "4 MiB written, sync returned, condo %s" % (
                "killed by SIGKILL" if g.vm.proc.returncode == -9
                else "ended with %s" % g.vm.proc.returncode)
        s("%s: write 4 MiB + sync, then SIGKILL condo" % tag, write_kill)

    s = Steps(r)
    if fmt == "qcow2":
        def qchk():
            p = host(["qemu-img", "check", img], check=False)
            return p.returncode == 0, "qemu-img check exit %d %s" % (
                p.returncode, "" if p.returncode == 0 else (p.stdout + p.stderr)[-300:])
        s("%s: qemu-img check clean after SIGKILL" % tag, qchk)
        rawcopy = os.path.join(w, "dur-qcow2-conv.img")
        if os.path.exists(rawcopy):
            os.unlink(rawcopy)
        try:
            host(["qemu-img", "convert", "-O", "raw", img, rawcopy])
        except AssertionError as e:
            r.check("%s: qemu-img convert to raw" % tag, False, str(e))
            return
        copy = rawcopy
    else:
        copy = os.path.join(w, "dur-raw-copy.img")
        shutil.copyfile(img, copy)
    p = host(["e2fsck", "-fn", img if fmt == "raw" else copy], check=False)
    say("     info: e2fsck -fn on the image as left by SIGKILL: exit %d" % p.returncode)

    def replay():
        p = host(["e2fsck", "-fy", copy], check=False)
        # ext4 does not keep the superblock's free block/inode totals up to
        # date while mounted (the group descriptors are authoritative), so
        # after a crash e2fsck recomputes them: those two are not repairs.
        lines = (p.stdout + p.stderr).splitlines()
        fixes = []
        for i, l in enumerate(lines):
            if re.search(r"\?\s+yes", l):
                what = lines[i - 1] if i > 0 else ""
                if not re.match(r"Free (blocks|inodes) count wrong \(", what):
                    fixes.append(what + " " + l)
        return p.returncode in (0, 1) and not fixes, \
            "e2fsck -fy exit %d, %d repair(s)%s" % (
                p.returncode, len(fixes), (": " + "; ".join(fixes[:3])) if fixes else "")
    s("%s: e2fsck -fy on a copy only replays the journal, repairs nothing" % tag, replay)

    def clean_after():
        p = host(["e2fsck", "-fn", copy], check=False)
        return p.returncode == 0, "e2fsck -fn exit %d" % p.returncode
    s("%s: e2fsck -fn on the replayed copy is clean" % tag, clean_after)

    def data():
        got = debugfs_sha(copy, "/d/data.bin")
        return got is not None and got == st.get("sha"), "debugfs sha256 %s, guest %s" % (
            (got or "absent")[:16], (st.get("sha") or "?")[:16])
    s("%s: the synced file is on the host disk with its sha256" % tag, data)


# --------------------------------------------------------------------------
def test_throttled(r, condo, w):
    section("a throttled disk: the guest shell answers while dd runs")
    mib, bps = 16, 1 << 20
    img = os.path.join(w, "slow.img")
    with open(img, "wb") as f:
        f.write(b"\xa5" * ((mib + 1) << 20))
    with Guest(condo, ["%s,format=raw,bps=%d" % (img, bps)],
               os.path.join(w, "console-slow.log")) as g:
        s = Steps(r, g.vm)
        s("throttle: boot with --disk slow.img,bps=1M",
          lambda: (True, "prompt after %.1f s" % g.boot()))
        st = {}

        def answers():
            st["t0"] = time.monotonic()
            g.ok("dd if=/dev/zero of=/dev/vda bs=1M count=%d oflag=direct conv=fsync "
                 "2>/tmp/dd.err & echo $! > /tmp/dd.pid" % mib)
            lat = []
            for _ in range(5):
                t = time.monotonic()
                out = g.ok("echo still-here")
                lat.append(time.monotonic() - t)
                if "still-here" not in out:
                    return False, "echo printed %r" % out
            status, out = g.run("kill -0 $(cat /tmp/dd.pid) && echo dd-running")
            running = status == 0 and "dd-running" in out
            return running, "5 echos answered in %s s (max %.2f); dd %s" % (
                " ".join("%.2f" % x for x in lat), max(lat),
                "still running afterwards" if running else "had already ended: %r" % out)
        s("throttle: the shell answers echo while dd runs", answers)

        def finished():
            out = g.ok("wait $(cat /tmp/dd.pid); r=$?; cat /tmp/dd.err; echo dd-exit-$r", 300)
            took = time.monotonic() - st.get("t0", time.monotonic())
            ok = "dd-exit-0" in out and took >= mib - 1
            return ok, "dd took %.1f s (the limit allows no less than %d s): %r" % (
                took, mib - 1, out[-120:])
        s("throttle: dd completes, no faster than the limit", finished)

        def off():
            return g.poweroff() == 0, "poweroff"
        s("throttle: poweroff", off)

    def host_check():
        with open(img, "rb") as f:
            data = f.read()
        zeros = data[:mib << 20] == bytes(mib << 20)
        tail = data[mib << 20:] == b"\xa5" * (1 << 20)
        return zeros and tail, "first %d MiB zeros: %s, the MiB after untouched: %s" % (
            mib, zeros, tail)
    Steps(r)("throttle: the host file holds what dd wrote", host_check)


# --------------------------------------------------------------------------
def test_errors(r, condo, w):
    section("bad --disk arguments")

    def run_expect2(args, want, name):
        try:
            p = subprocess.run([condo, "run"] + args, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, errors="replace", timeout=30,
                               start_new_session=True)
            code, err = p.returncode, p.stderr.strip()
        except subprocess.TimeoutExpired:
            code, err = None, "condo still running after 30 s (killed)"
        good = code == 2 and re.search(want, err, re.I) is not None
        r.check(name, good, "exit %s, stderr %r" % (code, err[-200:]))

    run_expect2(["--disk", "/nonexistent/disk.img"], r"/nonexistent/disk\.img",
                "error: --disk /nonexistent/disk.img -> exit 2 naming the file")

    src = os.path.join(w, "c-src")
    os.makedirs(src)
    with open(os.path.join(src, "z"), "wb") as f:
        f.write(b"compress me " * 50000)
    raw = os.path.join(w, "c-raw.img")
    mkext4(raw, src, "16M")
    comp = os.path.join(w, "compressed.qcow2")
    host(["qemu-img", "convert", "-c", "-O", "qcow2", raw, comp])
    compressed(r, condo, w, comp)

    run_expect2(["--disk", raw + ",bogus"], r"bogus",
                "error: --disk FILE,bogus -> exit 2 naming the option")


def compressed(r, condo, w, comp):
    """A qcow2 with compressed clusters. Two outcomes are accepted: condo
    refuses the image at start (exit 2, "not supported" on stderr), or it
    boots and refuses each use of a compressed cluster: the guest's read
    fails with an I/O error, condo prints "not supported" once, and the
    image stays valid (qemu-img check) with its data unchanged."""
    name = "error: compressed qcow2 -> clear 'not supported', no corruption"
    def contents(tag):
        out = os.path.join(w, "compressed-%s.raw" % tag)
        host(["qemu-img", "convert", "-O", "raw", comp, out])
        with open(out, "rb") as f:
            return f.read()
    before = contents("before")
    log = os.path.join(w, "console-compressed.log")
    g = Guest(condo, [comp], log)
    try:
        try:
            g.vm.expect(READY, BOOT_TIMEOUT)
        except driver.Exited:
            code = g.vm.proc.wait()
            msg = driver.clean(g.vm.tail)
            r.check(name, code == 2 and re.search(r"not supported", msg, re.I) is not None,
                    "refused at start: exit %d, %r" % (code, msg.strip()[-200:]))
            return
        g.vm.expect(PROMPT, BOOT_TIMEOUT)
        g.run("dmesg -n 1")
        rs, rout = g.run("dd if=/dev/vda of=/dev/null bs=64k")
        ws, wout = g.run("dd if=/dev/zero of=/dev/vda bs=4096 count=1 seek=100 conv=fsync")
        code = g.poweroff()
        msg = driver.clean(open(log, errors="replace").read())
        said = re.search(r"compressed.*not support|not support.*compress", msg, re.I)
        chk = host(["qemu-img", "check", comp], check=False).returncode
        after = contents("after")
        r.check(name + " (refused when used)",
                rs != 0 and said is not None and chk == 0 and code == 0,
                "boots; guest read exit %d (%s); write exit %d; message %s; "
                "qemu-img check exit %d; condo exit %d" % (
                    rs, rout.strip().splitlines()[-1][:60] if rout.strip() else "",
                    ws, "printed" if said else "MISSING", chk, code))
        # A write may succeed (a fresh cluster) or fail; either way the
        # rest of the image keeps its content.
        same = before[:100 * 4096] == after[:100 * 4096] and \
            before[101 * 4096:] == after[101 * 4096:]
        r.check("error: compressed qcow2: data outside the written block unchanged",
                same, "raw contents compared via qemu-img convert")
    except driver.DriverError as e:
        r.check(name, False, str(e).split("\n")[0])
    finally:
        g.vm.kill()


def main():
    ap = guestlib.parser(__doc__)
    ap.add_argument("--work", default=os.path.join(guestlib.ROOT, "build", "test-disk"))
    a = ap.parse_args()
    condo = os.path.abspath(a.condo)
    for tool in ("mke2fs", "debugfs", "e2fsck", "qemu-img"):
        if shutil.which(tool) is None and not os.path.exists("/usr/sbin/" + tool):
            say("test_disk: '%s' not found (apt-get install e2fsprogs qemu-utils)" % tool)
            return 2
    os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    w = os.path.abspath(a.work)
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    r = Results()
    for t in (test_raw, test_ro, test_qcow2,
              lambda r, c, w: test_durability(r, c, w, "raw"),
              lambda r, c, w: test_durability(r, c, w, "qcow2"),
              test_throttled, test_errors):
        try:
            t(r, condo, w)
        except (AssertionError, OSError, subprocess.SubprocessError, driver.DriverError) as e:
            r.check("setup of %s" % getattr(t, "__name__", "test"), False,
                    "%s: %s" % (type(e).__name__, str(e).split("\n")[0]))
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
