#!/usr/bin/env python3
"""Bulk TCP through condo's virtual networks with virtio-net's offloads on:
every byte checked end to end.

usage: tests/guest/test_net_bulk.py [CONDO] [--guest DIR] [--log-dir DIR]
  CONDO          condo binary (default build/condo)
  --guest DIR    default guest directory (CONDO_GUEST_DIR; default: condo's)
  --log-dir DIR  console logs (default build/test-net-bulk)

Everything stays on the host's loopback and inside condo's own virtual
networks (the slirp host alias 10.0.2.2 is the host's 127.0.0.1; the
switch's 192.168.78.0/24 exists only between the two VMs).

 1. One VM with `--net user`: the guest's virtio-net driver negotiated the
    offloads (checksum both ways, TSO4/TSO6, mergeable receive buffers:
    /sys/bus/virtio/devices/*/features); 64 MiB of random bytes from a TCP
    source on the host's 127.0.0.1 to the guest (`nc 10.0.2.2 PORT >
    /tmp/big`), whose sha256 in the guest matches the host's; then the
    same 64 MiB back from the guest (`nc 10.0.2.2 PORT2 < /tmp/big`) to a
    sink on the host that hashes what it gets: the sha256 matches. The
    guest's TCP sends large segments (the device cuts or hands them whole
    to libslirp) and trusts the device's checksums, so a mistake in either
    would show as a wrong hash or a stalled transfer.
 2. Two VMs on `--net switch,name=bulkNNN` (private XDG_RUNTIME_DIR):
    16 MiB of random bytes from one to the other through nc, sha256 equal
    on both sides.

Prints PASS/FAIL per check and, last, `N passed, M failed`; exits 1 if any
check failed. Timings are printed, never asserted.
"""
import hashlib
import os
import re
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import driver  # noqa: E402,F401  (tests/guest/driver.py)
import guestlib  # noqa: E402  (tests/guest/guestlib.py)
from guestlib import boot  # noqa: E402

CMD_TIMEOUT = 300.0
DHCP_TIMEOUT = 40.0
BIG_MIB = 64
SWITCH_MIB = 16
# virtio-net feature bits (virtio 1.2, 5.1.3) the guest must have taken
FEATURES = {"CSUM": 0, "GUEST_CSUM": 1, "GUEST_TSO4": 7, "HOST_TSO4": 11,
            "HOST_TSO6": 12, "MRG_RXBUF": 15}


class Steps(guestlib.Steps):
    fatal = (driver.DriverError, OSError, AssertionError)
    tail_lines = 20

    def tail_header(self, vm):
        return "     console tail of %s:" % vm.argv[-1]


def run_ok(vm, cmd, timeout=CMD_TIMEOUT):
    status, out = vm.run(cmd, timeout)
    if status != 0:
        raise AssertionError("`%s` exited %d: %r" % (cmd, status, out[-300:]))
    return out


def guest_sha(vm, path):
    out = run_ok(vm, "sha256sum %s" % path)
    return out.split()[0] if out else ""


class Source:
    """Sends data to the first connection on 127.0.0.1, then closes."""

    def __init__(self, data):
        self.data = data
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        try:
            self.srv.settimeout(CMD_TIMEOUT)
            c, _ = self.srv.accept()
            c.settimeout(CMD_TIMEOUT)
            c.sendall(self.data)
            c.close()
        except OSError:
            pass
        finally:
            self.srv.close()


class Sink:
    """Hashes everything one connection on 127.0.0.1 sends."""

    def __init__(self):
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.n, self.sha, self.secs = 0, None, None
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        h = hashlib.sha256()
        try:
            self.srv.settimeout(CMD_TIMEOUT)
            c, _ = self.srv.accept()
            c.settimeout(CMD_TIMEOUT)
            t0 = None
            while True:
                d = c.recv(1 << 18)
                if not d:
                    break
                if t0 is None:
                    t0 = time.monotonic()
                h.update(d)
                self.n += len(d)
            self.secs = time.monotonic() - t0 if t0 else None
            c.close()
            self.sha = h.hexdigest()
        except OSError:
            pass
        finally:
            self.srv.close()
            self.done.set()


def vm_user(r, condo, logdir):
    vm = guestlib.start(condo, ["--memory", "512M", "--net", "user"],
                        os.path.join(logdir, "console-user.log"))
    s = Steps(r, [vm])
    try:
        s("user: boot with --net user", lambda: boot(vm))

        def dhcp():
            deadline = time.monotonic() + DHCP_TIMEOUT
            out = ""
            while time.monotonic() < deadline:
                out = run_ok(vm, "ip -4 addr show dev eth0")
                if "inet 10.0.2.15/24" in out:
                    return True, "eth0 10.0.2.15/24"
                time.sleep(1)
            return False, "no 10.0.2.15/24 on eth0: %r" % out
        s("user: DHCP gives eth0 10.0.2.15/24", dhcp)

        def features():
            out = run_ok(vm, "for d in /sys/bus/virtio/devices/*; do "
                             "[ \"$(cat $d/device)\" = 0x0001 ] && cat $d/features; done; true")
            m = re.search(r"^[01]{32,}$", out, re.M)
            if not m:
                return False, "no virtio-net feature string in %r" % out[-200:]
            bits = m.group(0)
            missing = [n for n, b in FEATURES.items() if bits[b] != "1"]
            return not missing, "negotiated %s" % (
                "all of " + ", ".join(FEATURES) if not missing else "none of " + ", ".join(missing))
        s("user: the driver negotiated checksum, TSO and mergeable-buffer offloads", features)

        data = secrets.token_bytes(BIG_MIB << 20)
        want = hashlib.sha256(data).hexdigest()

        def host_to_guest():
            src = Source(data)
            t0 = time.monotonic()
            run_ok(vm, "nc 10.0.2.2 %d </dev/null >/tmp/big" % src.port)
            t = time.monotonic() - t0
            got = guest_sha(vm, "/tmp/big")
            size = run_ok(vm, "wc -c </tmp/big").strip()
            return got == want, "%s bytes in %.1f s (%.1f MiB/s), sha256 %s" % (
                size, t, BIG_MIB / t, "matches" if got == want else "differs: " + got)
        s("user: %d MiB host 127.0.0.1 -> guest through 10.0.2.2 (sha256)" % BIG_MIB,
          host_to_guest)

        def guest_to_host():
            sink = Sink()
            run_ok(vm, "nc 10.0.2.2 %d </tmp/big" % sink.port)
            sink.done.wait(CMD_TIMEOUT)
            rate = "%.1f MiB/s" % (sink.n / 1048576 / sink.secs) if sink.secs else "-"
            return sink.sha == want and sink.n == len(data), \
                "%d bytes (%s), sha256 %s" % (sink.n, rate,
                                              "matches" if sink.sha == want else "differs")
        s("user: %d MiB guest -> host 127.0.0.1 through 10.0.2.2 (sha256)" % BIG_MIB,
          guest_to_host)
        s("user: poweroff ends condo with status 0", lambda: guestlib.poweroff(vm, 120))
    finally:
        vm.kill()


def vm_switch(r, condo, logdir, tmp):
    name = "bulk%d" % (os.getpid() % 100000)
    env = dict(os.environ)
    rundir = os.path.join(tmp, "run")
    os.makedirs(rundir, mode=0o700)
    env["XDG_RUNTIME_DIR"] = rundir
    spec = "switch,name=%s" % name
    a = guestlib.start(condo, ["--memory", "512M", "--net", spec],
                       os.path.join(logdir, "console-switch-a.log"), env=env)
    b = guestlib.start(condo, ["--memory", "512M", "--net", spec],
                       os.path.join(logdir, "console-switch-b.log"), env=env)
    s = Steps(r, [a, b])
    try:
        s("switch: two VMs boot with --net %s" % spec, lambda: (
            boot(a)[0] and boot(b)[0], "both at the prompt"))

        def addresses():
            for vm, ip in ((a, "192.168.78.1"), (b, "192.168.78.2")):
                vm.run("killall udhcpc 2>/dev/null; sleep 0.2", CMD_TIMEOUT)
                run_ok(vm, "ip addr flush dev eth0; ip addr add %s/24 dev eth0 && "
                           "ip link set eth0 up" % ip)
            st, out = a.run("ping -c 2 -W 5 192.168.78.2", CMD_TIMEOUT)
            return st == 0, " / ".join(out.splitlines()[-2:])
        s("switch: 192.168.78.1 and .2 reach each other", addresses)

        def transfer():
            run_ok(a, "dd if=/dev/urandom of=/tmp/blob bs=1M count=%d 2>/dev/null" % SWITCH_MIB)
            want = guest_sha(a, "/tmp/blob")
            b.run("rm -f /tmp/got /tmp/nc-done; "
                  "(nc -l -p 7001 > /tmp/got; echo done > /tmp/nc-done) &", CMD_TIMEOUT)
            time.sleep(1.0)
            t0 = time.monotonic()
            run_ok(a, "nc 192.168.78.2 7001 < /tmp/blob")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and b.run("test -e /tmp/nc-done")[0] != 0:
                time.sleep(0.5)
            t = time.monotonic() - t0
            got = guest_sha(b, "/tmp/got")
            return got == want, "%d MiB in %.1f s, sha256 %s" % (
                SWITCH_MIB, t, "matches" if got == want else "differs")
        s("switch: nc carries %d MiB from one VM to the other (sha256)" % SWITCH_MIB, transfer)

        def poweroff():
            for vm in (a, b):
                vm.sendline("poweroff")
            codes = [vm.wait_exit(120) for vm in (a, b)]
            return codes == [0, 0], "exit statuses %s" % codes
        s("switch: both power off (status 0)", poweroff)
    finally:
        a.kill()
        b.kill()


def all_vms(r, condo, logdir):
    tmp = tempfile.mkdtemp(prefix="condo-test-net-bulk-")
    try:
        vm_user(r, condo, logdir)
        vm_switch(r, condo, logdir, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    return guestlib.guest_main(__doc__, "test-net-bulk", all_vms)


if __name__ == "__main__":
    sys.exit(main())
