#!/usr/bin/env python3
"""Snapshots of named VMs as a user types them: condo snapshot
create/ls/restore/rm, condo clone --count, the control API's
PUT /snapshot/create and /snapshot/load, a fresh identity per clone
(vmgenid), and the same verbs as an unprivileged user.

Every check runs against a private CONDO_HOME in a temporary directory; one
booted VM serves several checks (the suite stays short on 2 cores):

 1. A 256 MiB VM with an ext4 disk: the guest mounts it and writes a file,
    keeps a marker in RAM (/tmp) and runs a counting loop. `snapshot create
    sv s1`; then "malware": the guest deletes the file, unmounts, zeroes
    the start of the disk and fills RAM with a 16 MiB scribble; `snapshot
    create sv s2` (its parent is s1: `ls` shows the tree), `snapshot rm sv
    s2`. `snapshot restore sv s1`: the marker is back, the scribble gone,
    the count continues from the snapshot's, the file is back on the
    disk; after a clean stop the disk (its overlay chain, converted with
    qemu-img) passes `e2fsck -fn`. An unknown tag: exit 15.
 2. `clone sv s1 cl --count 2`: two running clones; right after they
    resume, they read different bytes from /dev/urandom (the kernel
    reseeded on the vmgenid interrupt: without it both would continue the
    same RNG state), and they take different hostnames (the guest's init
    reacts to the new generation).
 3. The control API with curl on the VM's socket: PATCH /vm Paused, PUT
    /snapshot/create, PATCH Resumed; a second save into the same file is
    cut short by SIGKILL of the VMM; the first file still loads: PUT
    /snapshot/load with resume_vm into a pre-boot `condo run --api-sock`,
    and the guest answers with its marker.
 4. As nobody (setpriv): create/start a VM, snapshot create/ls/restore
    (the count continues), clone --count 2, snapshot rm.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import driver  # noqa: E402
import guestlib  # noqa: E402
from guestlib import say  # noqa: E402
from test_vms import SETPRIV, Home, SockConsole, Soft, Steps  # noqa: E402

NO_TAG = 15


def count_of(c):
    st, out = c.run("cat /tmp/count")
    m = re.search(r"(\d+)\s*$", out)
    return int(m.group(1)) if st == 0 and m else -1


def start_counter(c):
    c.run("(i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.2; done) "
          "</dev/null >/dev/null 2>&1 & true")


def counts_on(c, at_snapshot):
    """(ok, detail): the count after a restore is at least the one seen
    before the snapshot was taken (not from zero) and it goes on. (How far
    it got since depends on the host's speed: not asserted.)"""
    a = count_of(c)
    time.sleep(1.5)
    b = count_of(c)
    lo, hi = at_snapshot
    ok = lo <= a and b > a
    return ok, "count %d..%d around the snapshot, %d after the restore, then %d" % (lo, hi, a, b)


def snaps(home, name):
    rc, out, err = home("snapshot", "ls", name, "--json")
    if rc != 0:
        raise driver.DriverError("snapshot ls %s --json: exit %d: %s" % (name, rc, err.strip()))
    return {s["tag"]: s for s in json.loads(out)}


def wait_running(home, name, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = home.ls().get(name, {})
        if v.get("state") == "running" and os.path.exists(home.console_sock(name)):
            return True
        time.sleep(0.2)
    return False


def curl(sock, method, path, body=None):
    argv = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "120",
            "--unix-socket", sock, "-X", method, "http://localhost" + path]
    if body is not None:
        argv += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=150)
    return p.stdout.strip()


def named_vm(r, home, tmp):
    """Parts 1 to 3 on one VM; returns nothing, records checks."""
    s = Steps(r)
    soft = Soft(r)
    disk = os.path.join(tmp, "disks", "sv.img")
    os.makedirs(os.path.dirname(disk))
    token = os.urandom(6).hex()
    st = {}

    def create_start():
        with open(disk, "wb") as f:
            f.truncate(32 << 20)
        subprocess.run(["mkfs.ext4", "-q", "-F", disk], check=True, capture_output=True)
        rc, out, err = home("create", "sv", "--memory", "256M", "--disk", disk)
        if rc == 0:
            rc, out, err = home("start", "sv")
        st["c"] = SockConsole(home.console_sock("sv"))
        return rc == 0 and st["c"].boot(), "exit %d %s%s" % (rc, out, err)
    s("create sv (256 MiB, an ext4 disk), start, the console answers", create_start)

    def setup():
        c = st["c"]
        code, out = c.run("mount /dev/vda /mnt && echo %s > /mnt/keep && sync && "
                          "echo %s > /tmp/marker && cat /mnt/keep" % (token, token))
        start_counter(c)
        time.sleep(0.5)
        n = count_of(c)
        return code == 0 and token in out and n > 0, "mounted, file written, counting (%d)" % n
    s("the guest writes a file on its disk, a marker in RAM, and counts", setup)

    def create_s1():
        c = st["c"]
        lo = count_of(c)
        t0 = time.monotonic()
        rc, out, err = home("snapshot", "create", "sv", "s1")
        took = time.monotonic() - t0
        hi = count_of(c)
        st["at_s1"] = (lo, hi)
        return rc == 0 and "s1" in snaps(home, "sv"), "exit %d in %.2f s: %s%s" % (
            rc, took, out.strip(), err.strip())
    s("snapshot create sv s1 (the VM runs on)", create_s1)

    def malware():
        c = st["c"]
        code, out = c.run("rm -rf /mnt/* && sync && umount /mnt && "
                          "dd if=/dev/zero of=/dev/vda bs=1M count=8 2>/dev/null && sync && "
                          "rm -f /tmp/marker && "
                          "dd if=/dev/urandom of=/tmp/scribble bs=1M count=16 2>/dev/null && "
                          "(mount /dev/vda /mnt 2>&1 || echo unmountable)")
        return code == 0 and "unmountable" in out, "file deleted, disk wiped, RAM scribbled (%s)" % (
            out.strip()[-60:])
    s("malware: the guest wipes its disk and scribbles over memory", malware)

    def tree():
        rc, out, err = home("snapshot", "create", "sv", "s2")
        j = snaps(home, "sv")
        rc2, text, _ = home("snapshot", "ls", "sv")
        lines = {l.split()[0]: l for l in text.splitlines()[1:] if l.strip()}
        ok = (rc == 0 and j.get("s2", {}).get("parent") == "s1" and j["s1"]["parent"] is None
              and j["s2"]["current"] and j["s2"]["bytes"] > 0 and "s1" in lines
              and re.match(r"^\s+s2", text.splitlines()[2] if len(text.splitlines()) > 2 else ""))
        return bool(ok), "s2's parent %r; ls:\n%s" % (j.get("s2", {}).get("parent"), text.rstrip())
    s("snapshot create sv s2; ls shows the tree (s2 under s1, s2 current)", tree)

    def rm_s2():
        rc, out, err = home("snapshot", "rm", "sv", "s2")
        j = snaps(home, "sv")
        return rc == 0 and "s2" not in j and "s1" in j, "exit %d %s%s; left %s" % (
            rc, out.strip(), err.strip(), sorted(j))
    s("snapshot rm sv s2 (s1 stays)", rm_s2)

    def restore():
        st["c"].close()
        rc, out, err = home("snapshot", "restore", "sv", "s1")
        ok = rc == 0 and wait_running(home, "sv")
        st["c"] = SockConsole(home.console_sock("sv"))
        return ok, "exit %d %s%s" % (rc, out.strip(), err.strip())
    s("snapshot restore sv s1: the VM runs again", restore)

    def memory_back():
        code, out = st["c"].run("cat /tmp/marker; ls /tmp/scribble 2>&1")
        return token in out and "No such file" in out, out.strip()
    s("restore: the marker is back in RAM, the scribble gone", memory_back)
    s("restore: the count continues from the snapshot's",
      lambda: counts_on(st["c"], st["at_s1"]))

    def disk_back():
        code, out = st["c"].run("cat /mnt/keep")
        return code == 0 and token in out, out.strip()
    s("restore: the file is back on the disk", disk_back)

    def fsck():
        c = st["c"]
        c.run("umount /mnt; sync")
        rc, out, err = home("stop", "sv", "--timeout", "60")
        with open(os.path.join(home.path, "data", "vms", "sv", "vm.json")) as f:
            top = json.load(f)["disks"][0]["path"]
        raw = os.path.join(tmp, "fsck.raw")
        cv = subprocess.run(["qemu-img", "convert", "-O", "raw", top, raw],
                            capture_output=True, text=True)
        fk = subprocess.run(["e2fsck", "-fn", raw], capture_output=True, text=True)
        os.unlink(raw) if os.path.exists(raw) else None
        return (rc == 0 and cv.returncode == 0 and fk.returncode == 0,
                "stop exit %d; top %s; qemu-img %d %s; e2fsck exit %d: %s" % (
                    rc, os.path.basename(top), cv.returncode, cv.stderr.strip(), fk.returncode,
                    (fk.stdout + fk.stderr).strip().splitlines()[-1:]))
    s("after a clean stop the restored disk passes e2fsck -fn", fsck)

    def no_tag():
        rc, out, err = home("snapshot", "restore", "sv", "nope")
        return rc == NO_TAG and len(err.strip().splitlines()) == 1, "exit %d: %s" % (
            rc, err.strip())
    soft("snapshot restore of an unknown tag: exit 15, one line", no_tag)

    # 2. clones
    def clones():
        rc, out, err = home("clone", "sv", "s1", "cl", "--count", "2")
        v = home.ls()
        ok = rc == 0 and all(v.get(n, {}).get("state") == "running" for n in ("cl-1", "cl-2"))
        st["cl"] = [SockConsole(home.console_sock(n)) for n in ("cl-1", "cl-2")]
        return ok, "exit %d %s%s" % (rc, out.strip(), err.strip())
    s("clone sv s1 cl --count 2: cl-1 and cl-2 run", clones)

    def urandom():
        got = []
        for c in st["cl"]:
            code, out = c.run("od -An -N16 -tx1 /dev/urandom")
            got.append(out.split("\n")[-1].strip())
        ok = len(got) == 2 and all(len(g.split()) == 16 for g in got) and got[0] != got[1]
        return ok, " | ".join(got)
    s("the clones read different bytes from /dev/urandom right after resuming", urandom)

    def hostnames():
        names = ["", ""]
        end = time.monotonic() + 30
        while time.monotonic() < end:
            for i, c in enumerate(st["cl"]):
                code, out = c.run("hostname")
                names[i] = out.split("\n")[-1].strip()
            if all(n.startswith("condo-") for n in names):
                break
            time.sleep(0.5)
        ok = all(n.startswith("condo-") for n in names) and names[0] != names[1]
        return ok, "hostnames %s" % names
    s("the clones take new, different hostnames (the guest reacts to vmgenid)", hostnames)
    soft("a clone goes on counting", lambda: counts_on(st["cl"][0], st["at_s1"]))

    def clones_gone():
        for c in st["cl"]:
            c.close()
        codes = [home("stop", "--force", n)[0] for n in ("cl-1", "cl-2")]
        codes += [home("rm", n)[0] for n in ("cl-1", "cl-2")]
        v = home.ls()
        return codes == [0] * 4 and "cl-1" not in v and "cl-2" not in v, "exits %s" % codes
    soft("the clones stop and are removed", clones_gone)

    # 3. the control API
    snapdir = os.path.join(home.path, "data", "vms", "sv", "snapshots")
    apisnap = os.path.join(snapdir, "api.snap")

    def api_create():
        rc, out, err = home("start", "sv")
        c = SockConsole(home.console_sock("sv"))
        st["c"] = c
        c.boot()
        c.run("echo %s > /tmp/marker" % token)
        sock = os.path.join(home.path, "run", "sv", "api.sock")
        codes = [curl(sock, "PATCH", "/vm", {"state": "Paused"}),
                 curl(sock, "PUT", "/snapshot/create",
                      {"snapshot_type": "Full", "snapshot_path": apisnap}),
                 curl(sock, "PATCH", "/vm", {"state": "Resumed"})]
        code, out = c.run("echo alive")
        ok = rc == 0 and codes == ["204"] * 3 and os.path.getsize(apisnap) > 0 and code == 0
        return ok, "start exit %d; HTTP %s; %d bytes" % (
            rc, codes, os.path.getsize(apisnap) if os.path.exists(apisnap) else -1)
    s("API: PATCH /vm Paused, PUT /snapshot/create, PATCH Resumed (curl on the socket)",
      api_create)

    def api_kill():
        sock = os.path.join(home.path, "run", "sv", "api.sock")
        pid = home.ls()["sv"]["pid"]
        before = os.stat(apisnap).st_ino
        curl(sock, "PATCH", "/vm", {"state": "Paused"})
        p = subprocess.Popen(["curl", "-s", "-o", "/dev/null", "--unix-socket", sock, "-X", "PUT",
                              "-H", "Content-Type: application/json", "-d",
                              json.dumps({"snapshot_type": "Full", "snapshot_path": apisnap}),
                              "http://localhost/snapshot/create"])
        time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        p.wait(60)
        st["c"].close()
        time.sleep(0.5)
        tmps = [f for f in os.listdir(snapdir) if f.startswith("api.snap.tmp")]
        replaced = os.stat(apisnap).st_ino != before
        return os.path.getsize(apisnap) > 0, "VMM killed; snapshot %s, %d temporary file(s)" % (
            "replaced by the finished save" if replaced else "the previous one", len(tmps))
    s("API: SIGKILL of the VMM during a second save into the same file", api_kill)

    def api_load():
        sock = os.path.join(tmp, "load.sock")
        vm = driver.VM([home.condo, "run", "--api-sock", sock], env=home.env,
                       log=os.path.join(tmp, "console-load.log"))
        try:
            end = time.monotonic() + 30
            while not os.path.exists(sock) and time.monotonic() < end:
                time.sleep(0.1)
            code = curl(sock, "PUT", "/snapshot/load",
                        {"snapshot_path": apisnap, "resume_vm": True})
            ok = code == "204"
            out = ""
            if ok:
                vm.sendline("")
                st_, out = vm.run("cat /tmp/marker", timeout=60)
                ok = token in out
            return ok, "HTTP %s; marker %s" % (code, "back" if token in out else repr(out[-80:]))
        finally:
            vm.kill()
    s("API: PUT /snapshot/load (resume_vm) into a pre-boot VM: the file survived the kill, "
      "the guest answers", api_load)


def unprivileged(r, condo, tmp):
    s = Steps(r)
    if os.geteuid() != 0:
        wrap = []
        say("NOTE: not root: the suite already runs unprivileged")
    elif not shutil.which("setpriv"):
        r.check("setpriv (util-linux) to run as nobody", False, "not found")
        return
    else:
        wrap = SETPRIV
    base = os.path.join(tmp, "nobody")
    os.makedirs(base)
    os.chmod(tmp, 0o755)
    if wrap:
        os.chown(base, 65534, 65534)
    home = Home(condo, os.path.join(base, "home"), wrap)
    st = {}
    try:
        def create_start():
            rc, out, err = home("create", "nb", "--memory", "128M")
            if rc == 0:
                rc, out, err = home("start", "nb")
            c = SockConsole(home.console_sock("nb"))
            st["c"] = c
            ok = rc == 0 and c.boot()
            start_counter(c)
            return ok, "exit %d %s" % (rc, err.strip())
        s("as nobody: create, start, the console answers, a counting loop", create_start)

        def create_ls():
            c = st["c"]
            lo = count_of(c)
            rc, out, err = home("snapshot", "create", "nb", "t1")
            st["at"] = (lo, count_of(c))
            j = snaps(home, "nb")
            return rc == 0 and "t1" in j, "exit %d %s%s; ls %s" % (
                rc, out.strip(), err.strip(), sorted(j))
        s("as nobody: snapshot create nb t1; ls lists it", create_ls)

        def restore():
            st["c"].close()
            rc, out, err = home("snapshot", "restore", "nb", "t1")
            ok = rc == 0 and wait_running(home, "nb")
            st["c"] = SockConsole(home.console_sock("nb"))
            ok2, detail = counts_on(st["c"], st["at"])
            return ok and ok2, "exit %d %s; %s" % (rc, err.strip(), detail)
        s("as nobody: snapshot restore nb t1: the count continues", restore)

        def clone():
            rc, out, err = home("clone", "nb", "t1", "nc", "--count", "2")
            v = home.ls()
            ok = rc == 0 and all(v.get(n, {}).get("state") == "running" for n in ("nc-1", "nc-2"))
            return ok, "exit %d %s%s" % (rc, out.strip(), err.strip())
        s("as nobody: clone nb t1 nc --count 2: both run", clone)

        def rm():
            rc, out, err = home("snapshot", "rm", "nb", "t1")
            return rc == 0 and "t1" not in snaps(home, "nb"), "exit %d %s%s" % (
                rc, out.strip(), err.strip())
        s("as nobody: snapshot rm nb t1", rm)
    finally:
        if "c" in st:
            st["c"].close()
        home.cleanup()


def body(r, condo, logdir):
    for tool in ("curl", "qemu-img", "e2fsck", "mkfs.ext4"):
        if not shutil.which(tool):
            r.check("%s on the host" % tool, False, "not found")
            return
    tmp = tempfile.mkdtemp(prefix="condo-test-snapvms-")
    home = Home(condo, os.path.join(tmp, "home"))
    try:
        t0 = time.monotonic()
        named_vm(r, home, tmp)
        home.cleanup()
        say("(named VM, clones, API: %.0f s)" % (time.monotonic() - t0))
        t0 = time.monotonic()
        unprivileged(r, condo, tmp)
        say("(unprivileged: %.0f s)" % (time.monotonic() - t0))
    finally:
        home.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    return guestlib.guest_main(__doc__, "test-snapshot-vms", body)


if __name__ == "__main__":
    sys.exit(main())
