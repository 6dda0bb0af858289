#!/usr/bin/env python3
"""The control API on a real VM, driven with curl as Firecracker's
getting-started guide drives Firecracker.

usage: tests/guest/test_api_vm.py [CONDO] [--guest DIR] [--log-dir DIR]
  CONDO          condo binary (default build/condo)
  --guest DIR    default guest directory (CONDO_GUEST_DIR; default: condo's)
  --log-dir DIR  console logs (default build/test-api-vm)

Two VMs, one after the other:

 1. `condo run --api-sock S` with no VM options waits to be configured:
    GET / says "Not started"; InstanceStart without a kernel is a 400 with
    Firecracker's message; a missing kernel file is a 400 naming it; then
    PUT /boot-source, /machine-config (256 MiB), /drives/scratch (a raw
    image) and /condo/net/eth0 (user networking), InstanceStart, and the
    guest boots to its shell with that memory, that disk and that card.
    While it runs: configuration PUTs are refused (400, Firecracker's
    message); GET /vm/config shows what was configured; a guest read of
    the disk shows in GET /condo/status's read_bytes; PATCH
    /drives/scratch changes the rate limit (GET /vm/config shows it);
    PATCH /vm Paused stops the guest (a command typed meanwhile gets no
    answer, GET / says "Paused") and Resumed lets it answer;
    SendCtrlAltDel powers the guest off and condo exits 0.
 2. `condo run --api-sock S` with VM options boots at once; PUT
    /condo/stop {"timeout_s": 60} presses the power button: the guest
    powers off, condo exits 0 and its socket is gone (started as root, the
    sandboxed VMM runs as nobody and cannot remove it from a directory of
    root's: it is then left, answering nothing).

Prints PASS/FAIL per check and, last, `N passed, M failed`; exits 1 if any
check failed. Takes about a minute.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import guestlib  # noqa: E402  (tests/guest/guestlib.py)
from guestlib import BOOT_TIMEOUT, PROMPT, READY, Steps  # noqa: E402

CMD_TIMEOUT = 60.0
FC_AFTER = "The requested operation is not supported after starting the microVM."


def curl(sock, method, path, body=None):
    """One request with curl; (HTTP status, parsed JSON body or None)."""
    argv = ["curl", "-s", "--unix-socket", sock, "-X", method,
            "-w", "\n%{http_code}", "http://localhost" + path,
            "-H", "Accept: application/json"]
    if body is not None:
        argv += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout
    text, _, code = out.rpartition("\n")
    try:
        doc = json.loads(text) if text.strip() else None
    except ValueError:
        doc = text
    return int(code or 0), doc


def wait_socket(vm, sock, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(sock):
            return True
        if vm.proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def want(code, doc, status, what, fault=None):
    ok = code == status
    if fault is not None:
        ok = ok and isinstance(doc, dict) and fault in doc.get("fault_message", "")
    return ok, "%s: %d %s" % (what, code, json.dumps(doc) if doc is not None else "")


def vm_preboot(r, condo, logdir, tmp):
    gdir = os.environ.get("CONDO_GUEST_DIR") or os.path.join(os.path.dirname(condo), "guest")
    sock = os.path.join(tmp, "api.sock")
    disk = os.path.join(tmp, "scratch.img")
    with open(disk, "wb") as f:
        f.truncate(8 << 20)
    vm = guestlib.start(condo, ["--api-sock", sock], os.path.join(logdir, "console-preboot.log"))
    s = Steps(r, vm)
    try:
        s("the API socket appears", lambda: (wait_socket(vm, sock), sock))

        def not_started():
            code, doc = curl(sock, "GET", "/")
            return (code == 200 and doc.get("state") == "Not started",
                    "GET /: %d %s" % (code, doc))
        s("GET / before InstanceStart: Not started", not_started)
        s("InstanceStart without a kernel: 400, Firecracker's message", lambda: want(
            *curl(sock, "PUT", "/actions", {"action_type": "InstanceStart"}), 400,
            "PUT /actions", "Cannot start microvm without kernel configuration."))
        s("a kernel file that does not exist: 400 naming it", lambda: want(
            *curl(sock, "PUT", "/boot-source",
                  {"kernel_image_path": os.path.join(tmp, "no-such-Image")}),
            400, "PUT /boot-source", "no-such-Image"))
        s("PATCH /vm before InstanceStart: 400", lambda: want(
            *curl(sock, "PATCH", "/vm", {"state": "Paused"}), 400, "PATCH /vm",
            "before starting"))
        s("PUT /boot-source", lambda: want(*curl(sock, "PUT", "/boot-source", {
            "kernel_image_path": os.path.join(gdir, "Image"),
            "initrd_path": os.path.join(gdir, "initramfs.cpio"),
            "boot_args": "console=ttyS0 panic=-1"}), 204, "PUT /boot-source"))
        s("PUT /machine-config 256 MiB", lambda: want(*curl(
            sock, "PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 256}),
            204, "PUT /machine-config"))
        s("PUT /drives/scratch", lambda: want(*curl(sock, "PUT", "/drives/scratch", {
            "drive_id": "scratch", "path_on_host": disk, "is_root_device": False,
            "is_read_only": False}), 204, "PUT /drives/scratch"))
        s("PUT /condo/net/eth0 (user networking)", lambda: want(*curl(
            sock, "PUT", "/condo/net/eth0", {"iface_id": "eth0", "spec": "user"}),
            204, "PUT /condo/net/eth0"))

        def start():
            code, doc = curl(sock, "PUT", "/actions", {"action_type": "InstanceStart"})
            if code != 204:
                return False, "InstanceStart: %d %s" % (code, doc)
            t = guestlib.wait_prompt(vm)
            code, doc = curl(sock, "GET", "/")
            return (doc.get("state") == "Running",
                    "prompt %.1f s after launch; GET / state %s" % (t, doc.get("state")))
        s("InstanceStart: the guest boots to its shell, GET / says Running", start)

        def hardware():
            _, mem = vm.run("grep MemTotal /proc/meminfo", CMD_TIMEOUT)
            _, size = vm.run("cat /sys/block/vda/size", CMD_TIMEOUT)
            _, link = vm.run("ls /sys/class/net", CMD_TIMEOUT)
            kib = int(re.search(r"(\d+)", mem).group(1)) if re.search(r"\d+", mem) else 0
            ok = 131072 < kib <= 262144 and size.strip() == str((8 << 20) // 512) \
                and "eth0" in link.split()
            return ok, "MemTotal %d kB, vda %s sectors, net: %s" % (kib, size.strip(),
                                                                    link.split())
        s("the guest has the configured memory, disk and network card", hardware)

        s("PUT /machine-config after start: 400, Firecracker's message", lambda: want(
            *curl(sock, "PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 512}),
            400, "PUT /machine-config", FC_AFTER))
        s("PUT /drives after start: 400", lambda: want(*curl(sock, "PUT", "/drives/x", {
            "drive_id": "x", "path_on_host": disk, "is_root_device": False}),
            400, "PUT /drives/x", FC_AFTER))

        def config():
            code, doc = curl(sock, "GET", "/vm/config")
            d = (doc or {}).get("drives") or [{}]
            ok = (code == 200 and doc["machine-config"]["mem_size_mib"] == 256
                  and d[0].get("drive_id") == "scratch" and d[0].get("path_on_host") == disk
                  and doc["boot-source"]["kernel_image_path"].endswith("/Image"))
            return ok, "GET /vm/config: %d %s" % (code, json.dumps(doc)[:300])
        s("GET /vm/config shows the configuration", config)

        def counters():
            def read_bytes():
                _, doc = curl(sock, "GET", "/condo/status")
                return doc["disks"][0]["read_bytes"], doc
            before, _ = read_bytes()
            vm.run("dd if=/dev/vda of=/dev/null bs=64k count=32 iflag=direct", CMD_TIMEOUT)
            after, doc = read_bytes()
            return after - before >= 2 << 20, "read_bytes %d -> %d (%s)" % (
                before, after, json.dumps(doc["disks"]))
        s("a guest read of 2 MiB shows in /condo/status read_bytes", counters)

        def limit():
            code, doc = curl(sock, "PATCH", "/drives/scratch", {
                "drive_id": "scratch",
                "rate_limiter": {"bandwidth": {"size": 1048576, "refill_time": 1000}}})
            if code != 204:
                return False, "PATCH: %d %s" % (code, doc)
            _, doc = curl(sock, "GET", "/vm/config")
            rl = doc["drives"][0].get("rate_limiter") or {}
            bw = (rl.get("bandwidth") or {})
            # and the guest's disk still works under the limit
            st, out = vm.run("dd if=/dev/vda of=/dev/null bs=64k count=4 iflag=direct "
                             "2>/dev/null; echo rc=$?", CMD_TIMEOUT)
            ok = bw.get("size") == 1048576 and bw.get("refill_time") == 1000 and "rc=0" in out
            return ok, "rate_limiter now %s; guest dd: %s" % (json.dumps(rl), out.strip())
        s("PATCH /drives/scratch rate_limiter while running", limit)

        def pause():
            code, doc = curl(sock, "PATCH", "/vm", {"state": "Paused"})
            if code != 204:
                return False, "PATCH /vm Paused: %d %s" % (code, doc)
            _, info = curl(sock, "GET", "/")
            marker = "paused-%d" % os.getpid()
            vm.sendline("echo %s''-answered" % marker)
            try:
                vm.expect(marker + "-answered", 2.0)
                answered = True
            except guestlib.driver.Timeout:
                answered = False
            code2, _ = curl(sock, "PATCH", "/vm", {"state": "Resumed"})
            vm.expect(marker + "-answered", CMD_TIMEOUT)
            _, info2 = curl(sock, "GET", "/")
            ok = (not answered and info.get("state") == "Paused" and code2 == 204
                  and info2.get("state") == "Running")
            return ok, "paused: state %s, %s; resumed: %d, answered, state %s" % (
                info.get("state"), "ANSWERED while paused" if answered else "no answer",
                code2, info2.get("state"))
        s("PATCH /vm Paused stops the guest, Resumed lets it answer", pause)

        def cad():
            vm.expect(PROMPT, CMD_TIMEOUT)
            code, doc = curl(sock, "PUT", "/actions", {"action_type": "SendCtrlAltDel"})
            if code != 204:
                return False, "SendCtrlAltDel: %d %s" % (code, doc)
            vm.expect(r"reboot: Power down", CMD_TIMEOUT)
            rc = vm.wait_exit(CMD_TIMEOUT)
            return rc == 0, "the guest powered off; condo exit status %d" % rc
        s("SendCtrlAltDel: the guest powers off, condo exits 0", cad)
    finally:
        vm.kill()


def vm_stop(r, condo, logdir, tmp):
    sock = os.path.join(tmp, "api2.sock")
    vm = guestlib.start(condo, ["--api-sock", sock, "--memory", "256M"],
                        os.path.join(logdir, "console-stop.log"))
    s = Steps(r, vm)
    try:
        s("boot with VM options and --api-sock", lambda: guestlib.boot(vm))

        def running():
            code, doc = curl(sock, "GET", "/vm/config")
            d = doc.get("drives") if isinstance(doc, dict) else None
            code2, info = curl(sock, "GET", "/")
            return (code == 200 and d == [] and info.get("state") == "Running",
                    "GET /vm/config drives %s; GET / %s" % (d, info))
        s("GET / says Running at once", running)

        def stop():
            code, doc = curl(sock, "PUT", "/condo/stop", {"timeout_s": 60})
            if code != 204:
                return False, "PUT /condo/stop: %d %s" % (code, doc)
            vm.expect(r"reboot: Power down", CMD_TIMEOUT)
            rc = vm.wait_exit(CMD_TIMEOUT)
            # Started as root, the sandboxed VMM runs as nobody and cannot
            # remove a socket from root's directory (docs/API.md): then the
            # socket must at least no longer answer.
            gone = not os.path.exists(sock)
            dead = gone or curl(sock, "GET", "/")[0] == 0
            if os.geteuid() != 0:
                dead = gone
            return rc == 0 and dead, "guest powered off; exit status %d; socket %s" % (
                rc, "removed" if gone else "left, not answering" if dead else "ANSWERS")
        s("PUT /condo/stop: the power button powers the guest off, exit 0", stop)
    finally:
        vm.kill()


def all_vms(r, condo, logdir):
    with tempfile.TemporaryDirectory(prefix="condo-api-vm-") as tmp:
        vm_preboot(r, condo, logdir, tmp)
        vm_stop(r, condo, logdir, tmp)


def main():
    return guestlib.guest_main(__doc__, "test-api-vm", all_vms)


if __name__ == "__main__":
    sys.exit(main())
