#!/usr/bin/env python3
"""Networking of the default guest under condo: user mode (libslirp) and
the inter-VM switch.

usage: tests/guest/test_net.py [CONDO] [--guest DIR] [--log-dir DIR]
  CONDO          condo binary (default build/condo)
  --guest DIR    default guest directory (CONDO_GUEST_DIR; default: condo's)
  --log-dir DIR  console logs (default build/test-net)

Everything stays on the host's loopback and inside condo's own virtual
networks; no other address is ever contacted.

 0. `condo run --net bogus` and `--net switch` (no name) are refused with
    status 2 and a message naming the problem, before any boot.
 1. One VM with `--net user,hostfwd=tcp::P1-:7000,hostfwd=tcp::P2-:8080`:
    eth0 gets 10.0.2.15/24 by DHCP (the guest's init runs udhcpc) with a
    default route via 10.0.2.2; the guest fetches a 256 KiB random file
    from an HTTP server the test runs on the host's 127.0.0.1 (as
    http://10.0.2.2:PORT/) and its sha256 matches; the host sends 64 KiB
    to the guest's `nc -l -p 7000` through 127.0.0.1:P1 and the guest's
    sha256 matches; the host fetches a file from the guest's busybox httpd
    through 127.0.0.1:P2 and its sha256 matches; the guest powers off.
 2. Two VMs at once on `--net switch,name=testNNN` (a private
    XDG_RUNTIME_DIR): static addresses 192.168.77.1/24 and .2/24, distinct
    MAC addresses, ping both ways, 128 KiB through nc from one to the other
    with matching sha256; both power off and the switch's directory is
    gone afterwards.

Prints PASS/FAIL per check and, last, `N passed, M failed`; exits 1 if any
check failed. Takes one to two minutes.
"""
import functools
import hashlib
import http.server
import os
import re
import secrets
import shutil
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
from guestlib import boot  # noqa: E402

CMD_TIMEOUT = 90.0
DHCP_TIMEOUT = 40.0


class Steps(guestlib.Steps):
    """Named checks against some VMs. A check returns (ok, detail) or
    raises; after a driver error (timeout, VM exit), an OSError or an
    AssertionError every later check fails at once as not run."""

    fatal = (driver.DriverError, OSError, AssertionError)
    tail_lines = 20

    def tail_header(self, vm):
        return "     console tail of %s:" % vm.argv[-1]


def run_ok(vm, cmd, timeout=CMD_TIMEOUT):
    status, out = vm.run(cmd, timeout)
    if status != 0:
        raise AssertionError("`%s` exited %d: %r" % (cmd, status, out[-300:]))
    return out


def wait_file(vm, path, timeout=30.0):
    """Poll until path exists in the guest (a background job's end), at
    most timeout seconds; the caller's checksum tells what arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st, _ = vm.run("test -e %s" % path, CMD_TIMEOUT)
        if st == 0:
            break
        time.sleep(0.5)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sha(data):
    return hashlib.sha256(data).hexdigest()


def guest_sha(vm, path):
    out = run_ok(vm, "sha256sum %s" % path)
    return out.split()[0] if out else ""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass


def start_http_server(directory):
    handler = functools.partial(QuietHandler, directory=directory)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return srv


def cli_errors(r, condo):
    for spec, want in (("bogus", r"bogus"), ("switch", r"name")):
        try:
            p = subprocess.run([condo, "run", "--net", spec], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            err = p.stderr.decode(errors="replace").strip()
            ok = p.returncode == 2 and re.search(want, err) is not None and \
                "OpenSBI" not in p.stdout.decode(errors="replace")
            r.check("`condo run --net %s` is refused with status 2" % spec, ok,
                    "status %d, stderr %r" % (p.returncode, err[-300:]))
        except subprocess.TimeoutExpired:
            r.check("`condo run --net %s` is refused with status 2" % spec, False,
                    "still running after 30 s")


def vm_user(r, condo, logdir, tmp):
    www = os.path.join(tmp, "www")
    os.makedirs(www)
    blob = secrets.token_bytes(256 * 1024)
    with open(os.path.join(www, "blob"), "wb") as f:
        f.write(blob)
    srv = start_http_server(www)
    http_port = srv.server_address[1]
    p_nc, p_httpd = free_port(), free_port()
    spec = "user,hostfwd=tcp::%d-:7000,hostfwd=tcp:127.0.0.1:%d-:8080" % (p_nc, p_httpd)
    vm = guestlib.start(condo, ["--net", spec], os.path.join(logdir, "console-user.log"))
    s = Steps(r, [vm])
    try:
        s("user: boot with --net %s" % spec, lambda: boot(vm))

        def dhcp():
            deadline = time.monotonic() + DHCP_TIMEOUT
            out = ""
            while time.monotonic() < deadline:
                out = run_ok(vm, "ip -4 addr show dev eth0")
                if "inet 10.0.2.15/24" in out:
                    return True, "eth0 10.0.2.15/24 after %.1f s" % vm.elapsed()
                time.sleep(1)
            return False, "no 10.0.2.15/24 on eth0 after %.0f s: %r" % (DHCP_TIMEOUT, out)
        s("user: DHCP gives eth0 10.0.2.15/24", dhcp)

        def route():
            out = run_ok(vm, "ip route")
            return "default via 10.0.2.2" in out, repr(out)
        s("user: default route via 10.0.2.2", route)

        def fetch():
            t0 = time.monotonic()
            run_ok(vm, "wget -q -O /tmp/blob http://10.0.2.2:%d/blob" % http_port)
            t = time.monotonic() - t0
            got = guest_sha(vm, "/tmp/blob")
            return got == sha(blob), "256 KiB in %.1f s (%.0f KiB/s), sha256 %s" % (
                t, 256 / max(t, 1e-3), "matches" if got == sha(blob) else "differs: " + got)
        s("user: the guest fetches a file from the host's HTTP server (wget, sha256)", fetch)

        def hostfwd_in():
            data = secrets.token_bytes(64 * 1024)
            vm.run("rm -f /tmp/up; (nc -l -p 7000 > /tmp/up; echo nc-done > /tmp/nc-done) &",
                   CMD_TIMEOUT)
            time.sleep(1.0)  # let nc listen
            c = socket.create_connection(("127.0.0.1", p_nc), timeout=30)
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            c.settimeout(30)
            while c.recv(4096):
                pass
            c.close()
            wait_file(vm, "/tmp/nc-done")
            got = guest_sha(vm, "/tmp/up")
            return got == sha(data), "64 KiB host -> 127.0.0.1:%d -> guest:7000, sha256 %s" % (
                p_nc, "matches" if got == sha(data) else "differs")
        s("user: hostfwd into the guest's nc -l -p 7000", hostfwd_in)

        def hostfwd_httpd():
            run_ok(vm, "mkdir -p /tmp/www && dd if=/dev/urandom of=/tmp/www/g bs=1024 count=96 "
                       "2>/dev/null && httpd -p 8080 -h /tmp/www")
            want = guest_sha(vm, "/tmp/www/g")
            with urllib.request.urlopen("http://127.0.0.1:%d/g" % p_httpd, timeout=60) as resp:
                data = resp.read()
            return sha(data) == want, "%d bytes from the guest's httpd via 127.0.0.1:%d, " \
                "sha256 %s" % (len(data), p_httpd, "matches" if sha(data) == want else "differs")
        s("user: hostfwd to the guest's busybox httpd (host fetches, sha256)", hostfwd_httpd)

        s("user: poweroff ends condo with status 0", lambda: guestlib.poweroff(vm, CMD_TIMEOUT))
    finally:
        vm.kill()
        srv.shutdown()


def vm_switch(r, condo, logdir, tmp):
    name = "test%d" % (os.getpid() % 100000)
    env = dict(os.environ)
    rundir = os.path.join(tmp, "run")
    os.makedirs(rundir, mode=0o700)
    env["XDG_RUNTIME_DIR"] = rundir
    spec = "switch,name=%s" % name
    a = guestlib.start(condo, ["--net", spec], os.path.join(logdir, "console-switch-a.log"),
                       env=env)
    b = guestlib.start(condo, ["--net", spec], os.path.join(logdir, "console-switch-b.log"),
                       env=env)
    s = Steps(r, [a, b])
    try:
        s("switch: two VMs boot with --net %s" % spec, lambda: (
            boot(a)[0] and boot(b)[0], "both at the prompt after %.1f s" % b.elapsed()))

        def addresses():
            macs = []
            for vm, ip in ((a, "192.168.77.1"), (b, "192.168.77.2")):
                # the init's udhcpc would flush the address: stop it first
                vm.run("killall udhcpc 2>/dev/null; sleep 0.2", CMD_TIMEOUT)
                run_ok(vm, "ip addr flush dev eth0; ip addr add %s/24 dev eth0 && "
                           "ip link set eth0 up" % ip)
                macs.append(run_ok(vm, "cat /sys/class/net/eth0/address").strip())
            ok = macs[0] != macs[1] and all(re.fullmatch(r"52:54:00(:[0-9a-f]{2}){3}", m)
                                            for m in macs)
            return ok, "MACs %s and %s" % tuple(macs)
        s("switch: static addresses 192.168.77.1 and .2, distinct MACs", addresses)

        def ping(src, dst):
            def f():
                st, out = src.run("ping -c 3 -W 5 %s" % dst, CMD_TIMEOUT)
                m = re.search(r"(\d+) packets received", out)
                ok = st == 0 and m is not None and int(m.group(1)) >= 1
                return ok, " / ".join(out.splitlines()[-2:])
            return f
        s("switch: ping 192.168.77.2 from the first VM", ping(a, "192.168.77.2"))
        s("switch: ping 192.168.77.1 from the second VM", ping(b, "192.168.77.1"))

        def transfer():
            run_ok(a, "dd if=/dev/urandom of=/tmp/blob bs=1024 count=128 2>/dev/null")
            want = guest_sha(a, "/tmp/blob")
            b.run("rm -f /tmp/got; (nc -l -p 7001 > /tmp/got; echo done > /tmp/nc-done) &",
                  CMD_TIMEOUT)
            time.sleep(1.0)
            t0 = time.monotonic()
            run_ok(a, "nc 192.168.77.2 7001 < /tmp/blob")
            wait_file(b, "/tmp/nc-done")
            t = time.monotonic() - t0
            got = guest_sha(b, "/tmp/got")
            return got == want, "128 KiB in %.1f s, sha256 %s" % (
                t, "matches" if got == want else "differs")
        s("switch: nc carries 128 KiB from one VM to the other (sha256)", transfer)

        def poweroff():
            codes = []
            for vm in (a, b):
                vm.sendline("poweroff")
            for vm in (a, b):
                codes.append(vm.wait_exit(CMD_TIMEOUT))
            d = os.path.join(rundir, "condo", "switch", name)
            left = os.listdir(d) if os.path.isdir(d) else []
            return codes == [0, 0] and not left, "exit statuses %s; %s" % (
                codes, "switch directory removed" if not os.path.isdir(d)
                else "left in %s: %s" % (d, left))
        s("switch: both power off (status 0) and leave no socket behind", poweroff)
    finally:
        a.kill()
        b.kill()


def all_vms(r, condo, logdir):
    tmp = tempfile.mkdtemp(prefix="condo-test-net-")
    try:
        cli_errors(r, condo)
        vm_user(r, condo, logdir, tmp)
        vm_switch(r, condo, logdir, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    return guestlib.guest_main(__doc__, "test-net", all_vms)


if __name__ == "__main__":
    sys.exit(main())
