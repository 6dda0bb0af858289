#!/usr/bin/env python3
"""Named VMs as a user types them: condo create/start/ls/console/inspect/
stop/rm, the error statuses, containment of misbehaving guests, and the
same lifecycle as an unprivileged user.

Every check runs against a private CONDO_HOME in a temporary directory;
console round trips are framed by random markers, so neither the echo of
a typed line nor old scrollback can satisfy them.

 1. Lifecycle (root, or whoever runs the suite): create; the errors (no
    such VM 10, wrong state 11, exists 12, a bad name 2) each one line on
    stderr; start returns once the VM runs; ls and ls --json (name, state,
    pid, cpus, memory_mib, a live pid); `condo console` on a terminal
    answers a command, Ctrl-A d detaches and the VM runs on; a late attach
    to the console socket sees the earlier output (scrollback); inspect
    gives the same pid; pause/resume; a graceful stop (exit.json: stopped,
    the guest powered off); start again; stop --force; rm.
 2. Containment: six 128 MiB default guests at once: one panics (sysrq c;
    panic=-1 reboots it), one runs a fork bomb, one a busy loop, one floods
    its console, one VMM gets SIGKILL, one stays quiet with an ext4 disk.
    `ls` shows the killed one `crashed` with the signal as reason and the
    others running; the quiet and the busy neighbours answer commands on
    their consoles (round trips printed, not asserted); after a graceful
    stop the quiet one's disk passes e2fsck and holds the file it wrote.
 3. Unprivileged: create/start/console/user networking (the guest fetches a
    random token from an HTTP server on the host's loopback through
    10.0.2.2)/stop/rm as nobody (setpriv), with a CONDO_HOME nobody owns.

Checks marked (API) need the VMM's control API (graceful stop, pause,
resume); without it they fail.
"""
import functools
import http.server
import json
import os
import pty
import pwd
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import driver  # noqa: E402
import guestlib  # noqa: E402
from guestlib import say  # noqa: E402

NO_VM, WRONG_STATE, EXISTS, USAGE = 10, 11, 12, 2
BOOT = 240.0      # to the guest's ready line; six VMs boot at once on 2 cores
CMD = 90.0        # one console round trip under load
SETPRIV = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


class Home:
    """A private CONDO_HOME and the condo verbs run in it (as wrap, e.g.
    setpriv, when given)."""

    def __init__(self, condo, path, wrap=()):
        self.condo = condo
        self.path = path
        self.wrap = list(wrap)
        self.env = dict(os.environ, CONDO_HOME=path)

    def __call__(self, *args, timeout=180):
        p = subprocess.run(self.wrap + [self.condo] + [str(a) for a in args], env=self.env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def ls(self):
        rc, out, err = self("ls", "--json")
        if rc != 0:
            raise driver.DriverError("condo ls --json: exit %d: %s" % (rc, err.strip()))
        return {v["name"]: v for v in json.loads(out)}

    def exit_json(self, name):
        with open(os.path.join(self.path, "data", "vms", name, "exit.json")) as f:
            return json.load(f)

    def console_sock(self, name):
        return os.path.join(self.path, "run", name, "console.sock")

    def cleanup(self):
        """Force off whatever still runs here (a failed check must not
        leave VMs behind)."""
        try:
            vms = self.ls()
        except Exception:
            vms = {}
        for name, v in vms.items():
            if v.get("state") in ("running", "paused"):
                try:
                    self("stop", "--force", name, timeout=30)
                except subprocess.TimeoutExpired:
                    pass
                if v.get("pid"):
                    try:
                        os.kill(v["pid"], signal.SIGKILL)
                    except OSError:
                        pass


class Console:
    """A console byte stream with driver.VM's expect() and run()."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = ""
        self.tail = ""
        self.eof = False

    def _read(self, timeout):
        if self.eof:
            return False
        r, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not r:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            data = b""
        if not data:
            self.eof = True
            return False
        text = data.decode("utf-8", "replace")
        self.buf = (self.buf + text)[-(1 << 20):]
        self.tail = (self.tail + text)[-2048:]
        return True

    def expect(self, regex, timeout):
        pat = re.compile(regex)
        deadline = time.monotonic() + timeout
        while True:
            m = pat.search(self.buf)
            if m:
                self.before = self.buf[:m.start()]
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise driver.Timeout("timeout after %.0f s waiting for %r; console tail: %r"
                                     % (timeout, pat.pattern, driver.clean(self.tail)[-300:]))
            if not self._read(min(left, 0.5)) and not pat.search(self.buf):
                raise driver.Exited("console closed while waiting for %r" % pat.pattern)

    def drain(self, secs):
        end = time.monotonic() + secs
        while time.monotonic() < end and self._read(end - time.monotonic()):
            pass

    def send(self, s):
        os.write(self.fd, s.encode())

    def run(self, cmd, timeout=CMD):
        """(status, output) of cmd in the guest shell, framed as driver.run."""
        tag = secrets.token_hex(4)
        self.send("echo __B''EGIN_%s__; %s; echo __E''ND_%s_$?__\n" % (tag, cmd, tag))
        self.expect(r"__BEGIN_%s__\r?\n" % tag, timeout)
        m = self.expect(r"__END_%s_(\d+)__" % tag, timeout)
        return int(m.group(1)), driver.clean(self.before).strip("\n")

    def boot(self, timeout=BOOT):
        """Wait for the guest's ready line (live or in the scrollback), then
        one round trip."""
        self.expect(guestlib.READY, timeout)
        st, _ = self.run("true", timeout)
        return st == 0


class SockConsole(Console):
    """The console socket itself (what `condo console` talks to)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        super().__init__(self.sock.fileno())

    def close(self):
        self.sock.close()


class PtyConsole(Console):
    """`condo console NAME` on a terminal (a pty), as a person uses it."""

    def __init__(self, home, name):
        master, slave = pty.openpty()
        self.proc = subprocess.Popen(home.wrap + [home.condo, "console", name], stdin=slave,
                                     stdout=slave, stderr=slave, env=home.env,
                                     start_new_session=True)
        os.close(slave)
        super().__init__(master)

    def detach(self, timeout=20):
        self.send("\x01d")
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.drain(0.3)
        return code

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            os.close(self.fd)
        except OSError:
            pass


class Steps(guestlib.Steps):
    """A driver error (timeout, closed console) stops the later checks;
    any other exception fails only its own check."""
    soft = (Exception,)


class Soft(guestlib.Steps):
    """Independent checks: any exception fails only that check."""
    fatal = ()
    soft = (Exception,)


def one_line_error(res, status):
    rc, out, err = res
    lines = [l for l in err.splitlines() if l.strip()]
    ok = rc == status and len(lines) == 1 and lines[0].startswith("condo: ")
    return ok, "exit %d (want %d), stderr %r" % (rc, status, err.strip())


def proc_cpu_s(pid):
    """A process's user + system CPU seconds (/proc/PID/stat), 0 if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu_share_applied(home, name, pid, weight):
    """(ok, detail, record): the --cpu-weight record `condo inspect` shows
    matches the process: in its cgroup with the weight, or every thread
    at the nice value."""
    rc, out, err = home("inspect", name)
    cs = (json.loads(out) if rc == 0 else {}).get("cpu_share") or {}
    mech = cs.get("mechanism")
    if cs.get("weight") != weight:
        return False, "record %r" % cs, cs
    if mech in ("cgroup-v1", "cgroup-v2"):
        knob, val = cs["setting"].split("=")
        with open(os.path.join(cs["cgroup"], "cgroup.procs")) as f:
            member = str(pid) in f.read().split()
        with open(os.path.join(cs["cgroup"], knob)) as f:
            have = f.read().strip()
        want = str(weight * 1024 // 100) if mech == "cgroup-v1" else str(weight)
        return member and have == val == want, "%s: %s=%s, pid %s in it" % (
            mech, knob, have, "is" if member else "NOT"), cs
    if mech == "nice":
        nices = set()
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                nices.add(int(f.read().rsplit(")", 1)[1].split()[16]))
        ok = nices == {cs["nice"]}
        if "autogroup" in cs["setting"]:  # the session's scheduling group too
            with open("/proc/%d/autogroup" % pid) as f:
                ag = f.read().split()
            ok = ok and ag[-1] == str(cs["nice"])
        return ok, "nice: threads at %s, record %r" % (sorted(nices), cs["setting"]), cs
    return False, "record %r" % cs, cs


def wait_state(home, name, want, timeout=20):
    end = time.monotonic() + timeout
    v = {}
    while time.monotonic() < end:
        v = home.ls().get(name, {})
        if v.get("state") == want:
            return v
        time.sleep(0.2)
    return v


# ---------------------------------------------------------------- 1
def lifecycle(r, home):
    s = Steps(r)
    name = "life-" + secrets.token_hex(2)
    soft = Soft(r)  # checks whose failure does not stop the rest

    def create():
        rc, out, err = home("create", name, "--memory", "128M", "--cpu-weight", "400")
        return rc == 0 and ("created %s" % name) in out, "exit %d %s%s" % (rc, out, err)
    s("create %s --memory 128M --cpu-weight 400" % name, create)

    soft("create: a duplicate name: exit 12, one line",
         lambda: one_line_error(home("create", name), EXISTS))
    soft("create: a bad name (../x): exit 2, one line",
         lambda: one_line_error(home("create", "../x"), USAGE))
    soft("create: a bad name (a/b): exit 2, one line",
         lambda: one_line_error(home("create", "a/b"), USAGE))
    def too_small():
        ok, detail = one_line_error(home("create", "tiny", "--memory", "64M"), USAGE)
        return ok and "too small" in detail and "tiny" not in home.ls(), detail
    soft("create --memory 64M (the guest cannot fit): exit 2, one line", too_small)
    for verb in ("start", "stop", "inspect", "console", "rm", "pause", "resume"):
        soft("%s of a missing VM: exit 10, one line" % verb,
             lambda verb=verb: one_line_error(home(verb, "no-such-vm"), NO_VM))
    for verb in ("stop", "console", "pause", "resume"):
        soft("%s of a stopped VM: exit 11, one line" % verb,
             lambda verb=verb: one_line_error(home(verb, name), WRONG_STATE))

    def ls_stopped():
        v = home.ls().get(name)
        return v is not None and v["state"] == "stopped" and v["pid"] is None, repr(v)
    soft("ls --json: a new VM is stopped, no pid", ls_stopped)

    info = {}

    def start():
        t0 = time.monotonic()
        rc, out, err = home("start", name)
        took = time.monotonic() - t0
        v = home.ls().get(name, {})
        info["pid"] = v.get("pid")
        ok = rc == 0 and v.get("state") == "running" and bool(v.get("pid")) and \
            os.path.exists("/proc/%d" % v["pid"])
        return ok, "exit %d in %.2f s, %s; ls: %r" % (rc, took, (out + err).strip(), v)
    s("start returns with the VM running (ls: running, a live pid)", start)

    soft("start of a running VM: exit 11, one line",
         lambda: one_line_error(home("start", name), WRONG_STATE))
    soft("rm of a running VM: exit 11, one line",
         lambda: one_line_error(home("rm", name), WRONG_STATE))

    def ls_fields():
        v = home.ls()[name]
        ok = (v["name"] == name and v["state"] == "running" and v["pid"] == info["pid"]
              and v["cpus"] == 1 and v["memory_mib"] == 128)
        rc, out, _ = home("ls")
        row = [l for l in out.splitlines() if l.split()[:1] == [name]]
        ok = ok and rc == 0 and len(row) == 1 and row[0].split()[1] == "running" and \
            out.splitlines()[0].split()[:2] == ["NAME", "STATE"]
        return ok, "json %r; table row %r" % (v, row)
    soft("ls --json (name, state, pid, cpus, memory_mib) and the ls table", ls_fields)

    marker = secrets.token_hex(6)
    pc = {}

    def attach():
        c = pc["c"] = PtyConsole(home, name)
        c.boot()
        st, out = c.run("echo %s$((6*7))" % marker)
        return st == 0 and out.endswith(marker + "42"), "status %d, output %r" % (st, out[-80:])
    s("condo console on a terminal: boot, a command answers", attach)

    def detach():
        c = pc["c"]
        code = c.detach()
        v = home.ls()[name]
        ok = code == 0 and "detached" in c.tail and v["state"] == "running" and \
            v["pid"] == info["pid"]
        return ok, "console exit %r, said %r; ls %s pid %s" % (
            code, driver.clean(c.tail)[-60:], v["state"], v["pid"])
    try:
        s("Ctrl-A d detaches; the VM runs on (same pid)", detach)
    finally:
        if "c" in pc:
            pc["c"].close()

    def late_attach():
        c = SockConsole(home.console_sock(name))
        try:
            c.expect(marker + "42", 10)
            st, out = c.run("echo late-$((1+1))")
            return st == 0 and out.endswith("late-2"), "scrollback had the answer; %r" % out
        finally:
            c.close()
    s("a late attach (the console socket) sees the scrollback and answers", late_attach)

    def inspect():
        rc, out, err = home("inspect", name)
        j = json.loads(out) if rc == 0 else {}
        ok = j.get("pid") == info["pid"] and j.get("state") == "running" and \
            j.get("definition", {}).get("memory_mib") == 128
        return ok, "exit %d, pid %r state %r" % (rc, j.get("pid"), j.get("state"))
    soft("inspect: the definition and the same pid", inspect)

    def weight():
        ok, detail, info["cpu_share"] = cpu_share_applied(home, name, info["pid"], 400)
        return ok, detail
    soft("--cpu-weight 400: applied as inspect says (cgroup cpu weight, or nice)", weight)

    def pause_resume():
        rc1, o1, e1 = home("pause", name)
        st1 = home.ls()[name]["state"]
        rc2, o2, e2 = home("resume", name)
        st2 = home.ls()[name]["state"]
        ok = rc1 == 0 and st1 == "paused" and rc2 == 0 and st2 == "running"
        return ok, "pause exit %d -> %s, resume exit %d -> %s %s" % (
            rc1, st1, rc2, st2, (e1 + e2).strip())
    soft("(API) pause: ls says paused; resume: running", pause_resume)

    def graceful_stop():
        rc, out, err = home("stop", name, "--timeout", "60")
        ex = home.exit_json(name)
        v = home.ls()[name]
        ok = rc == 0 and "powered off" in out and ex["state"] == "stopped" and \
            "powered off" in ex["reason"] and v["state"] == "stopped" and \
            not os.path.exists("/proc/%d" % info["pid"])
        return ok, "exit %d %r %r; exit.json %r" % (rc, out.strip(), err.strip(), ex)
    s("(API) stop: the guest powers off; exit.json stopped", graceful_stop)

    def restart():
        rc, out, err = home("start", name)
        v = home.ls()[name]
        if rc != 0 or v["state"] != "running":
            return False, "exit %d %s; ls %r" % (rc, err.strip(), v)
        c = SockConsole(home.console_sock(name))
        try:
            c.boot()
            st, o = c.run("echo again-%s" % marker)
            return st == 0 and o.endswith("again-" + marker), "pid %d, %r" % (v["pid"], o)
        finally:
            c.close()
    s("start again: boots and answers", restart)

    def force_stop():
        pid = home.ls()[name]["pid"]
        rc, out, err = home("stop", "--force", name)
        ex = home.exit_json(name)
        ok = rc == 0 and ex["state"] == "stopped" and home.ls()[name]["state"] == "stopped" \
            and not os.path.exists("/proc/%d" % pid)
        cg = info.get("cpu_share", {}).get("cgroup")
        if cg and os.path.exists(cg):
            ok = False
            ex["cgroup left behind"] = cg
        return ok, "exit %d %r; exit.json %r" % (rc, out.strip(), ex)
    s("stop --force: stopped (and the VM's cgroup, if any, removed)", force_stop)

    def rm():
        rc, out, err = home("rm", name)
        return rc == 0 and name not in home.ls(), "exit %d %s%s" % (rc, out, err)
    s("rm: gone from ls", rm)


# ---------------------------------------------------------------- 2
def containment(r, home, tmp):
    s = Steps(r)
    roles = ["quiet", "busy", "flood", "bomb", "panic", "kill"]
    img = os.path.join(tmp, "quiet.img")
    subprocess.run(["truncate", "-s", "32M", img], check=True)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", img], check=True)
    cons = {}
    try:
        def create_start():
            bad = []
            t0 = time.monotonic()
            for role in roles:
                extra = ["--disk", img] if role == "quiet" else []
                rc, out, err = home("create", role, "--memory", "128M", *extra)
                if rc == 0:
                    rc, out, err = home("start", role)
                if rc != 0:
                    bad.append("%s: exit %d %s" % (role, rc, err.strip()))
            return not bad, "; ".join(bad) or "6 VMs started in %.1f s" % (
                time.monotonic() - t0)
        s("create and start six 128 MiB VMs", create_start)

        def boot_all():
            t0 = time.monotonic()
            for role in roles:
                cons[role] = SockConsole(home.console_sock(role))
            for role in roles:
                if not cons[role].boot():
                    return False, "%s did not answer" % role
            return True, "all six answer %.1f s after the last start" % (time.monotonic() - t0)
        s("all six boot and answer on their consoles", boot_all)

        token = secrets.token_hex(8)

        def mischief():
            q = cons["quiet"]
            st, _ = q.run("mount /dev/vda /mnt && echo %s > /mnt/token && sync" % token)
            if st != 0:
                return False, "quiet: mount/write failed (status %d)" % st
            cons["busy"].send("while :; do :; done &\n")
            cons["flood"].send("while :; do echo FLOOD-flood-flood-flood-flood-flood; done &\n")
            cons["bomb"].send("b(){ b|b& }; b\n")
            cons["panic"].send("echo c > /proc/sysrq-trigger\n")
            pid = home.ls()["kill"]["pid"]
            os.kill(pid, signal.SIGKILL)
            cons["panic"].expect(r"Kernel panic", CMD)
            return True, "busy loop, console flood, fork bomb, panic, SIGKILL of pid %d" % pid
        s("mischief: busy loop, flood, fork bomb, panic, SIGKILL", mischief)

        def crashed():
            v = wait_state(home, "kill", "crashed")
            ok = v.get("state") == "crashed" and "signal 9" in (v.get("reason") or "")
            return ok, "ls: %s (%s)" % (v.get("state"), v.get("reason"))
        s("ls: the SIGKILLed VM is crashed, the reason names signal 9", crashed)

        def mischief_seen():
            # the mischief is real: the flood reaches its console, the busy
            # and fork-bomb VMs burn host CPU (printed, not asserted)
            cons["flood"].expect(r"FLOOD-flood", CMD)
            vms = home.ls()
            pids = {n: vms[n]["pid"] for n in ("busy", "bomb", "flood")}
            t0 = time.monotonic()
            c0 = {n: proc_cpu_s(p) for n, p in pids.items()}
            cons["flood"].drain(5)  # the flood keeps coming while we measure
            dt = time.monotonic() - t0
            use = ", ".join("%s %.0f%%" % (n, 100 * (proc_cpu_s(p) - c0[n]) / dt)
                            for n, p in pids.items())
            return True, "flood on the console; host CPU over %.1f s: %s" % (dt, use)
        s("the mischief runs (flood seen; host CPU of busy, bomb, flood)", mischief_seen)

        def others_running():
            vms = home.ls()
            bad = ["%s %s" % (n, v["state"]) for n, v in vms.items()
                   if n != "kill" and (v["state"] != "running"
                                       or not os.path.exists("/proc/%d" % v["pid"]))]
            return not bad, ", ".join(bad) or "five VMs running"
        s("ls: the five others still run", others_running)

        def neighbours():
            times = []
            for role in ("quiet", "busy", "quiet", "busy"):
                t0 = time.monotonic()
                word = secrets.token_hex(4)
                st, out = cons[role].run("echo %s-$((2+3))" % word)
                times.append("%s %.2f s" % (role, time.monotonic() - t0))
                if st != 0 or not out.endswith(word + "-5"):
                    return False, "%s answered %r" % (role, out[-60:])
            return True, "round trips: " + ", ".join(times)
        s("the quiet and busy neighbours answer their consoles", neighbours)

        def panic_reboots():
            c = cons["panic"]
            c.boot()
            st, out = c.run("echo back")
            return st == 0 and out.endswith("back"), "rebooted after the panic, answers"
        s("the panicked guest reboots (panic=-1) and answers", panic_reboots)

        def quiet_stop():
            cons["quiet"].run("sync")
            rc, out, err = home("stop", "quiet", "--timeout", "60")
            ex = home.exit_json("quiet")
            ok = rc == 0 and "powered off" in out and ex["state"] == "stopped"
            return ok, "exit %d %r %r; exit.json %s" % (rc, out.strip(), err.strip(), ex)
        s("(API) the quiet neighbour stops gracefully", quiet_stop)

        def fsck():
            copy = img + ".copy"
            shutil.copyfile(img, copy)
            # The guest powers off without unmounting: e2fsck -fy replays
            # the journal (exit 0 or 1), then the file system is clean.
            a = subprocess.run(["e2fsck", "-fy", copy], capture_output=True, text=True)
            b = subprocess.run(["e2fsck", "-fn", copy], capture_output=True, text=True)
            d = subprocess.run(["debugfs", "-R", "cat /token", copy], capture_output=True,
                               text=True)
            ok = a.returncode in (0, 1) and b.returncode == 0 and d.stdout.strip() == token
            return ok, "e2fsck -fy %d, then -fn %d, token %s" % (
                a.returncode, b.returncode, "read back" if token in d.stdout else "MISSING")
        s("the quiet neighbour's disk passes e2fsck and holds its file", fsck)

        def all_off():
            bad = []
            for role in roles:
                if role in ("quiet", "kill"):
                    continue
                rc, out, err = home("stop", "--force", role, timeout=60)
                if rc != 0:
                    bad.append("%s: %d %s" % (role, rc, err.strip()))
            vms = home.ls()
            bad += ["%s is %s" % (n, v["state"]) for n, v in vms.items()
                    if v["state"] not in ("stopped", "crashed")]
            for role in roles:
                rc, out, err = home("rm", role)
                if rc != 0:
                    bad.append("rm %s: %d %s" % (role, rc, err.strip()))
            return not bad and home.ls() == {}, "; ".join(bad) or "stopped and removed"
        s("stop --force the rest (fork bomb included), rm all", all_off)
    finally:
        for c in cons.values():
            c.close()


# ---------------------------------------------------------------- 3
class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


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
    gdir = os.environ.get("CONDO_GUEST_DIR") or os.path.join(os.path.dirname(condo), "guest")
    www = os.path.join(tmp, "www")
    os.makedirs(www)
    token = secrets.token_hex(10)
    with open(os.path.join(www, "token"), "w") as f:
        f.write(token + "\n")
    srv = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=www))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    try:
        def readable():
            rc = subprocess.run(wrap + ["test", "-r", os.path.join(gdir, "Image"), "-a", "-x",
                                        condo], env=home.env).returncode
            return rc == 0, "nobody can read %s and run %s" % (gdir, condo)
        s("as nobody: the guest files and condo are usable", readable)

        def create_start():
            rc, out, err = home("create", "nb", "--memory", "128M", "--net", "user",
                                "--cpu-weight", "25")
            if rc == 0:
                rc, out, err = home("start", "nb")
            v = home.ls().get("nb", {})
            uid = None
            if v.get("pid"):
                with open("/proc/%d/status" % v["pid"]) as f:
                    uid = [l.split()[1] for l in f if l.startswith("Uid:")][0]
            ok = rc == 0 and v.get("state") == "running" and (not wrap or uid == "65534")
            st = os.stat(os.path.join(home.path, "data"))
            ok = ok and (st.st_mode & 0o777) == 0o700
            return ok, "exit %d %s; ls %s, VMM uid %s, data dir mode %o" % (
                rc, err.strip(), v.get("state"), uid, st.st_mode & 0o777)
        s("as nobody: create --net user, start (VMM uid 65534, state dir 0700)", create_start)

        def weight():
            ok, detail, cs = cpu_share_applied(home, "nb", home.ls()["nb"]["pid"], 25)
            if cs.get("mechanism") == "nice" and cs.get("nice") != 6:
                ok = False
            return ok, detail
        s("as nobody: --cpu-weight 25 applied (nice 6 without a delegated cgroup)", weight)

        def console_net():
            c = PtyConsole(home, "nb")
            try:
                c.boot()
                end = time.monotonic() + BOOT
                while time.monotonic() < end:  # the guest's init runs udhcpc in the background
                    st, out = c.run("ip -4 addr show eth0")
                    if "inet 10.0.2.15/" in out:
                        break
                    time.sleep(1)
                st, out = c.run("wget -q -O - http://10.0.2.2:%d/token" % port)
                ok = st == 0 and out.strip().endswith(token)
                code = c.detach()
                return ok and code == 0, "wget status %d, token %s; detach exit %r" % (
                    st, "fetched" if token in out else "missing: %r" % out[-80:], code)
            finally:
                c.close()
        s("as nobody: console; the guest fetches a token from the host (user net)",
          console_net)

        def stop_rm():
            rc, out, err = home("stop", "nb", "--timeout", "60")
            ex = home.exit_json("nb")
            rc2, out2, err2 = home("rm", "nb")
            ok = rc == 0 and "powered off" in out and ex["state"] == "stopped" and rc2 == 0 \
                and home.ls() == {}
            return ok, "stop exit %d %r %r; exit.json %s; rm exit %d" % (
                rc, out.strip(), err.strip(), ex, rc2)
        s("(API) as nobody: graceful stop, rm", stop_rm)
    finally:
        srv.shutdown()
        home.cleanup()


def body(r, condo, logdir):
    tmp = tempfile.mkdtemp(prefix="condo-test-vms-")
    homes = []
    try:
        home = Home(condo, os.path.join(tmp, "home"))
        homes.append(home)
        t0 = time.monotonic()
        lifecycle(r, home)
        say("(lifecycle: %.0f s)" % (time.monotonic() - t0))
        t0 = time.monotonic()
        containment(r, home, tmp)
        say("(containment: %.0f s)" % (time.monotonic() - t0))
        home.cleanup()
        t0 = time.monotonic()
        unprivileged(r, condo, tmp)
        say("(unprivileged: %.0f s)" % (time.monotonic() - t0))
    finally:
        for h in homes:
            h.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    return guestlib.guest_main(__doc__, "test-vms", body)


if __name__ == "__main__":
    sys.exit(main())
