#!/usr/bin/env python3
"""The VM process's sandbox (docs/SANDBOX.md), as root and as an
unprivileged user.

usage: tests/guest/test_sandbox.py [CONDO] [--guest DIR] [--log-dir DIR]

Run as root (CI does), it checks both identities: root itself, and the
user `nobody` through `setpriv --reuid=nobody --regid=nogroup
--clear-groups`. Run as another user, it checks that user only and says
so in one line (the root half needs root; it is not counted as passed).
Everything stays on the host's loopback and inside condo's own networks.

For each identity:
 1. `condo run -v --sandbox-selftest` with a raw ext4 disk, a qcow2 disk
    and `--net user,hostfwd=tcp:127.0.0.1:P-:8080`: every forbidden attempt
    of the self-test (execve, fork, ptrace, mount, setuid, W+X memory,
    signalling or reading another process, host files such as /etc/passwd,
    writing outside, new AF_UNIX/AF_NETLINK/AF_PACKET sockets, ...) is
    refused, at least 20 of them, none allowed; -v lists the layers (as
    root: the jail, uid 65534, Landlock, seccomp; as a user: Landlock and
    seccomp, no jail).
 2. While it runs: every thread's /proc/PID/task/TID/status says Seccomp 2
    and NoNewPrivs 1; under root the uids are 65534, not 0; as a user they
    stay the user's; /proc/PID/maps has no mapping both writable and
    executable, and the JIT's code is mapped twice (r-xs and rw-s).
 3. A normal session still works: boot, a file written to the ext4 disk
    and 2 MiB to the qcow2 disk, each synced; the guest downloads a file
    from an HTTP server on the host's 127.0.0.1 (sha256); the host fetches
    a file from the guest's busybox httpd through hostfwd (sha256);
    `reboot` in the same process (the boot images are read again inside
    the sandbox) back to a prompt, the ext4 file still there; `poweroff`
    ends condo with status 0; afterwards `e2fsck -fn` and `qemu-img check`
    are clean.
 4. A forbidden call kills only its own VM: with the session VM up, a
    second VM started with `--sandbox-selftest=die` makes one forbidden
    call once its CPU thread runs and must die of SIGSYS, while the first
    still answers its console.
And once (as the test's own identity): `--sandbox off` leaves Seccomp 0.

Prints PASS/FAIL per check and, last, `N passed, M failed`; exits 1 if any
check failed. About two to three minutes.
"""
import functools
import hashlib
import http.server
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import driver  # noqa: E402  (tests/guest/driver.py)
import guestlib  # noqa: E402  (tests/guest/guestlib.py)

CMD_TIMEOUT = 90.0
SANDBOX_UID = 65534  # condo's default identity under root: nobody
SETPRIV = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


class Steps(guestlib.Steps):
    fatal = (driver.DriverError, OSError, AssertionError)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass


def run_ok(vm, cmd, timeout=CMD_TIMEOUT):
    status, out = vm.run(cmd, timeout)
    if status != 0:
        raise AssertionError("`%s` exited %d: %r" % (cmd, status, out[-300:]))
    return out


def proc_status(pid):
    """{tid: {field: value}} for every thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        fields = {}
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            for line in f:
                k, _, v = line.partition(":")
                fields[k] = v.strip()
        out[tid] = fields
    return out


def log_text(path):
    with open(path, "rb") as f:
        return driver.clean(f.read().decode("utf-8", "replace"))


def identity(r, condo, logdir, tmp, who, wrap, srv_port):
    """Checks 1-4 for one identity: who is 'root' or 'user'."""
    work = os.path.join(tmp, who)
    os.makedirs(work)
    raw = os.path.join(work, "raw.img")
    qcow = os.path.join(work, "disk.qcow2")
    subprocess.run(["truncate", "-s", "32M", raw], check=True)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", raw], check=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", qcow, "16M"], check=True)
    if wrap:  # the VM runs as nobody: its files must be nobody's
        nobody = pwd.getpwnam("nobody")
        for p in (work, raw, qcow):
            os.chown(p, nobody.pw_uid, nobody.pw_gid)
    p_httpd = free_port()
    log = os.path.join(logdir, "console-%s.log" % who)
    args = ["run"] + guestlib.cpus_args() + ["-v", "--sandbox-selftest", "--disk", raw, "--disk", qcow,
            "--net", "user,hostfwd=tcp:127.0.0.1:%d-:8080" % p_httpd]
    vm = driver.VM(wrap + [condo] + args, log=log, cwd=work)
    s = Steps(r, [vm])
    uid_now = os.getuid()
    try:
        s("%s: boot with --sandbox-selftest, two disks, --net user" % who,
          lambda: guestlib.boot(vm))

        def selftest():
            text = log_text(log)
            lines = re.findall(r"sandbox-selftest: (.*)", text)
            bad = [l for l in lines if "ALLOWED" in l or "REFUSED" in l or "FAILED" in l]
            refused = [l for l in lines if ": refused (" in l]
            m = re.search(r"sandbox-selftest: (\d+) attempts, all refused", text)
            ok = m is not None and not bad and len(refused) >= 20 and \
                int(m.group(1)) == len(refused)
            return ok, "%d refused%s%s" % (len(refused),
                                           "; NOT refused: %r" % bad if bad else "",
                                           "" if m else "; no summary line")
        s("%s: every forbidden attempt of the self-test is refused" % who, selftest)

        def layers():
            text = log_text(log)
            want = [r"sandbox: rlimits: no core dumps", r"sandbox: Landlock ABI \d+",
                    r"sandbox: seccomp: \d+ system calls allowed.*kill the process"]
            if who == "root":
                want += [r"sandbox: jail: private mount", r"sandbox: identity: uid 65534"]
            missing = [w for w in want if not re.search(w, text)]
            extra = who != "root" and re.search(r"sandbox: jail:", text)
            return not missing and not extra, "missing %r" % missing if missing else (
                "a jail line as a user" if extra else "jail, identity, Landlock, seccomp"
                if who == "root" else "Landlock and seccomp, no jail")
        s("%s: -v lists the sandbox's layers" % who, layers)

        def status():
            st = proc_status(vm.proc.pid)
            seccomp = {t: f.get("Seccomp") for t, f in st.items()}
            nnp = {t: f.get("NoNewPrivs") for t, f in st.items()}
            uids = {f.get("Uid") for f in st.values()}
            want_uid = SANDBOX_UID if (who == "root" or wrap) else uid_now
            uid_ok = all(set(u.split()) == {str(want_uid)} for u in uids)
            ok = all(v == "2" for v in seccomp.values()) and \
                all(v == "1" for v in nnp.values()) and uid_ok and len(st) >= 2
            return ok, "%d threads, Seccomp %s, NoNewPrivs %s, Uid %s" % (
                len(st), sorted(set(seccomp.values())), sorted(set(nnp.values())),
                sorted(uids))
        s("%s: every thread: Seccomp 2, NoNewPrivs 1, uid %s" % (
            who, "65534, not 0" if who == "root" else "unchanged"), status)

        def maps():
            with open("/proc/%d/maps" % vm.proc.pid) as f:
                lines = f.read().splitlines()
            rwx = [l for l in lines if l.split()[1].startswith("rwx")]
            jit = sorted({l.split()[1] for l in lines if "condo-jit" in l})
            return not rwx and jit == ["r-xs", "rw-s"], "%d mappings, rwx: %r, JIT views %s" % (
                len(lines), rwx[:3], jit)
        s("%s: no mapping writable and executable; JIT code mapped RW and RX" % who, maps)

        marker = secrets.token_hex(8)

        def disk_io():
            run_ok(vm, "mkdir -p /m && mount /dev/vda /m && echo %s > /m/marker && "
                       "dd if=/dev/urandom of=/m/blob bs=64k count=16 2>/dev/null && sync"
                   % marker)
            run_ok(vm, "dd if=/dev/urandom of=/dev/vdb bs=64k count=32 2>/dev/null && sync")
            return True, "ext4 file and 2 MiB to the qcow2 disk, synced"
        s("%s: disk writes and flushes" % who, disk_io)

        def fetch():
            deadline = time.monotonic() + 40
            while "10.0.2.15" not in run_ok(vm, "ip -4 addr show dev eth0"):
                if time.monotonic() > deadline:
                    return False, "no DHCP address"
                time.sleep(1)
            run_ok(vm, "wget -q -O /tmp/blob http://10.0.2.2:%d/blob" % srv_port)
            got = run_ok(vm, "sha256sum /tmp/blob").split()[0]
            return got == BLOB_SHA, "sha256 %s" % ("matches" if got == BLOB_SHA else got)
        s("%s: the guest fetches from the host's 127.0.0.1 (--net user)" % who, fetch)

        def hostfwd():
            run_ok(vm, "mkdir -p /tmp/www && dd if=/dev/urandom of=/tmp/www/g bs=1024 "
                       "count=64 2>/dev/null && httpd -p 8080 -h /tmp/www")
            want = run_ok(vm, "sha256sum /tmp/www/g").split()[0]
            with urllib.request.urlopen("http://127.0.0.1:%d/g" % p_httpd, timeout=60) as rsp:
                data = rsp.read()
            return sha(data) == want, "%d bytes, sha256 %s" % (
                len(data), "matches" if sha(data) == want else "differs")
        s("%s: the host fetches from the guest through hostfwd" % who, hostfwd)

        def die():
            dlog = os.path.join(logdir, "console-%s-die.log" % who)
            d = driver.VM(wrap + [condo, "run"] + guestlib.cpus_args() + ["--sandbox-selftest=die"], log=dlog, cwd=work)
            try:
                code = d.wait_exit(60)
            finally:
                d.kill()
            alive = run_ok(vm, "echo still-$((40+2))")
            ok = code == -signal.SIGSYS and "still-42" in alive
            return ok, "second VM: %s; first VM answers: %r" % (
                "killed by SIGSYS" if code == -signal.SIGSYS else "exit status %d" % code,
                alive[-40:])
        s("%s: a forbidden call kills only its own VM (SIGSYS)" % who, die)

        def reboot():
            run_ok(vm, "umount /m")
            vm.sendline("reboot")
            guestlib.wait_prompt(vm)
            out = run_ok(vm, "mkdir -p /m && mount /dev/vda /m && cat /m/marker && umount /m")
            return marker in out, "the boot images were read again; marker %s" % (
                "kept" if marker in out else "lost: %r" % out[-100:])
        s("%s: reboot inside the sandbox, the disk's file kept" % who, reboot)

        s("%s: poweroff ends condo with status 0" % who,
          lambda: guestlib.poweroff(vm, CMD_TIMEOUT))
    finally:
        vm.kill()

    fsck = subprocess.run(["e2fsck", "-fn", raw], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    r.check("%s: e2fsck -fn of the ext4 disk is clean" % who, fsck.returncode == 0,
            "exit %d" % fsck.returncode)
    chk = subprocess.run(["qemu-img", "check", qcow], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    r.check("%s: qemu-img check of the qcow2 disk is clean" % who, chk.returncode == 0,
            "exit %d: %s" % (chk.returncode,
                             chk.stdout.decode(errors="replace").strip().split("\n")[0]))


def sandbox_off(r, condo, logdir, tmp):
    log = os.path.join(logdir, "console-off.log")
    vm = driver.VM([condo, "run"] + guestlib.cpus_args() + ["--sandbox", "off"], log=log, cwd=tmp)
    try:
        vm.expect(r"OpenSBI|Linux version", 60)
        st = proc_status(vm.proc.pid)
        vals = sorted({f.get("Seccomp") for f in st.values()})
        r.check("--sandbox off: no seccomp filter (Seccomp 0)", vals == ["0"], "Seccomp %s" % vals)
    except driver.DriverError as e:
        r.check("--sandbox off: no seccomp filter (Seccomp 0)", False, str(e).split("\n")[0])
    finally:
        vm.kill()


BLOB_SHA = None


def body(r, condo, logdir):
    global BLOB_SHA
    tmp = tempfile.mkdtemp(prefix="condo-test-sandbox-")
    os.chmod(tmp, 0o755)  # nobody works below it
    www = os.path.join(tmp, "www")
    os.makedirs(www)
    blob = secrets.token_bytes(128 * 1024)
    BLOB_SHA = sha(blob)
    with open(os.path.join(www, "blob"), "wb") as f:
        f.write(blob)
    srv = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=www))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        if os.geteuid() == 0:
            identity(r, condo, logdir, tmp, "root", [], srv.server_address[1])
            if not shutil.which("setpriv"):
                r.check("setpriv (util-linux) to run as nobody", False, "not found")
            else:
                identity(r, condo, logdir, tmp, "user", SETPRIV, srv.server_address[1])
        else:
            guestlib.say("NOTE: not root: the root half (jail, uid change) needs root and "
                         "is not run")
            identity(r, condo, logdir, tmp, "user", [], srv.server_address[1])
        sandbox_off(r, condo, logdir, tmp)
    finally:
        srv.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    rc = guestlib.guest_main(__doc__, "test-sandbox", body)
    return rc


if __name__ == "__main__":
    sys.exit(main())
