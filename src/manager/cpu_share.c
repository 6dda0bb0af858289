/* A VM's share of the host CPU under contention (--cpu-weight W, 1..10000,
 * 100 = an ordinary process), applied by the VMM process to itself just
 * before it execs the VMM (so every thread it makes later inherits it).
 *
 * Mechanisms, the first that works:
 *  1. cgroup v2: a child of our own cgroup with the cpu controller,
 *     cpu.weight = W (cgroup v2's own scale: 100 default, 1..10000). Needs
 *     a delegated (writable) cgroup whose parent enables cpu for children.
 *  2. cgroup v1 cpu controller: a child of our own cpu cgroup with
 *     cpu.shares = W * 1024 / 100 (1024 is v1's default, one ordinary task).
 *     Needs a writable cpu hierarchy (root, usually).
 *  3. nice: the value whose CFS load weight matches W, the same conversion
 *     the kernel uses for cgroup v2's cpu.weight.nice:
 *         nice = round(-log(W / 100) / log(1.25)), clamped to -20..19
 *     (each nice step is a factor of 1.25: W 400 -> nice -6, W 25 -> 6,
 *     W 100 -> 0). Raising priority (nice < current) needs root or
 *     RLIMIT_NICE: without them the lowest allowed nice is taken and the
 *     record says so, so weights above 100 act as 100; use weights below
 *     100 for the VMs that should yield (25 vs 100 is the same ratio as
 *     100 vs 400). With autogroup scheduling the VMM's session group gets
 *     the same nice (it has a session of its own), else nice would not
 *     weigh against other VMs at all.
 * What was used is written to run/NAME/cpu-share.json; `condo inspect`
 * and `condo ls --json` show it. The monitor removes the cgroup when the
 * VMM is gone. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "condo/manager.h"

int cpu_share_nice(unsigned weight)
{
    if (weight == 0)
        weight = 100;
    double n = -log((double)weight / 100.0) / log(1.25);
    long v = lround(n);
    return v < -20 ? -20 : v > 19 ? 19 : (int)v;
}

unsigned cpu_share_v1_shares(unsigned weight)
{
    unsigned long s = (unsigned long)weight * 1024ul / 100ul;
    return s < 2 ? 2 : (unsigned)s; /* the kernel's minimum */
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int r = n == (ssize_t)strlen(text) ? 0 : n < 0 ? -errno : -EIO;
    close(fd);
    return r;
}

static bool file_has_word(const char *path, const char *word)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    char buf[512];
    bool found = false;
    if (fgets(buf, sizeof(buf), f)) {
        char *save = NULL;
        for (char *t = strtok_r(buf, " \n", &save); t && !found; t = strtok_r(NULL, " \n", &save))
            found = !strcmp(t, word);
    }
    fclose(f);
    return found;
}

/* Our cgroup path in the hierarchy whose /proc/self/cgroup line has
 * `controllers` ("" for v2's "0::/path"; "cpu" matches "cpu,cpuacct"). */
static bool own_cgroup(bool v2, char *out, size_t n)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = 0;
        char *ctrl = c1 + 1, *path = c2 + 1;
        path[strcspn(path, "\n")] = 0;
        if (v2) {
            found = !strcmp(line, "0") && !*ctrl;
        } else {
            for (char *t = strtok(ctrl, ","); t && !found; t = strtok(NULL, ","))
                found = !strcmp(t, "cpu");
        }
        if (found && (size_t)snprintf(out, n, "%s", path) >= n)
            found = false;
    }
    fclose(f);
    return found;
}

/* The mount point of the v2 hierarchy, or of the v1 one holding cpu. */
static bool cgroup_mount(bool v2, char *out, size_t n)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return false;
    char line[2048];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        /* ... mountpoint ... - fstype source superoptions */
        char *dash = strstr(line, " - ");
        char mnt[1024], fstype[64], src[256], opts[512];
        if (!dash || sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 ||
            sscanf(dash + 3, "%63s %255s %511s", fstype, src, opts) != 3)
            continue;
        if (v2)
            found = !strcmp(fstype, "cgroup2");
        else if (!strcmp(fstype, "cgroup")) {
            for (char *t = strtok(opts, ","); t && !found; t = strtok(NULL, ","))
                found = !strcmp(t, "cpu");
        }
        if (found && (size_t)snprintf(out, n, "%s", mnt) >= n)
            found = false;
    }
    fclose(f);
    return found;
}

/* Make <mount><own>/condo-NAME-PID in hierarchy v2 or v1, set the weight,
 * move this process in. 0 on success (out->cgroup set). */
static int try_cgroup(bool v2, const char *name, unsigned weight, struct cpu_share *out)
{
    char mnt[1024], own[1024], dir[PATH_MAX], f[PATH_MAX + 32], val[32];
    if (!cgroup_mount(v2, mnt, sizeof(mnt)) || !own_cgroup(v2, own, sizeof(own)))
        return -ENOENT;
    if ((size_t)snprintf(dir, sizeof(dir), "%s%s%scondo-%s-%ld", mnt, own,
                         own[strlen(own) - 1] == '/' ? "" : "/", name,
                         (long)getpid()) >= sizeof(dir))
        return -ENAMETOOLONG;
    if (v2) {
        /* cpu must be enabled for our cgroup's children */
        char parent_sub[PATH_MAX];
        snprintf(parent_sub, sizeof(parent_sub), "%s%s/cgroup.subtree_control", mnt, own);
        if (!file_has_word(parent_sub, "cpu") && write_file(parent_sub, "+cpu") < 0)
            return -EACCES;
    }
    if (mkdir(dir, 0755) < 0)
        return -errno;
    int r;
    if (v2) {
        snprintf(val, sizeof(val), "%u", weight);
        snprintf(f, sizeof(f), "%s/cpu.weight", dir);
    } else {
        snprintf(val, sizeof(val), "%u", cpu_share_v1_shares(weight));
        snprintf(f, sizeof(f), "%s/cpu.shares", dir);
    }
    r = write_file(f, val);
    if (!r) {
        char pid[32];
        snprintf(pid, sizeof(pid), "%ld", (long)getpid());
        snprintf(f, sizeof(f), "%s/cgroup.procs", dir);
        r = write_file(f, pid);
    }
    if (r) {
        rmdir(dir);
        return r;
    }
    snprintf(out->mechanism, sizeof(out->mechanism), "%s", v2 ? "cgroup-v2" : "cgroup-v1");
    snprintf(out->cgroup, sizeof(out->cgroup), "%s", dir);
    snprintf(out->setting, sizeof(out->setting), "%s=%s", v2 ? "cpu.weight" : "cpu.shares",
             val);
    return 0;
}

int cpu_share_apply(const char *name, unsigned weight, struct cpu_share *out)
{
    memset(out, 0, sizeof(*out));
    out->weight = weight;
    if (weight == 0) {
        snprintf(out->mechanism, sizeof(out->mechanism), "none");
        snprintf(out->setting, sizeof(out->setting), "default share (no --cpu-weight)");
        return 0;
    }
    if (try_cgroup(true, name, weight, out) == 0 || try_cgroup(false, name, weight, out) == 0)
        return 0;
    int want = cpu_share_nice(weight);
    errno = 0;
    int cur = getpriority(PRIO_PROCESS, 0);
    if (errno)
        cur = 0;
    int got = want;
    if (setpriority(PRIO_PROCESS, 0, want) < 0) {
        /* not allowed to raise priority that far: the most we may */
        struct rlimit rl;
        int floor = cur;
        if (getrlimit(RLIMIT_NICE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            20 - (int)rl.rlim_cur < floor)
            floor = 20 - (int)rl.rlim_cur;
        got = want < floor ? floor : want;
        if (setpriority(PRIO_PROCESS, 0, got) < 0)
            got = cur;
    }
    out->nice = got;
    /* With autogroup scheduling (sched_autogroup_enabled, Debian's
     * default) the scheduler first shares the CPU between sessions' groups
     * and nice counts only inside one: the launcher gave the VMM a session
     * of its own, so its group's nice is what weighs against other VMs. */
    char ag[16];
    snprintf(ag, sizeof(ag), "%d", got);
    bool autogroup = write_file("/proc/self/autogroup", ag) == 0;
    snprintf(out->mechanism, sizeof(out->mechanism), "nice");
    if (got == want)
        snprintf(out->setting, sizeof(out->setting), "nice %d%s", got,
                 autogroup ? " (process and autogroup)" : "");
    else
        snprintf(out->setting, sizeof(out->setting),
                 "nice %d%s (weight %u wants %d: raising priority needs root or RLIMIT_NICE)",
                 got, autogroup ? " (process and autogroup)" : "", weight, want);
    return 0;
}

int cpu_share_save(const struct cpu_share *s, const char *path)
{
    json_t *o = json_pack("{s:i, s:s, s:s}", "weight", (int)s->weight, "mechanism",
                          s->mechanism, "setting", s->setting);
    if (!o)
        return -ENOMEM;
    if (s->cgroup[0])
        json_object_set_new(o, "cgroup", json_string(s->cgroup));
    if (!strcmp(s->mechanism, "nice"))
        json_object_set_new(o, "nice", json_integer(s->nice));
    int r = json_dump_file(o, path, JSON_INDENT(2)) == 0 ? 0 : -EIO;
    json_decref(o);
    return r;
}

json_t *cpu_share_load(const char *path)
{
    return json_load_file(path, 0, NULL);
}

void cpu_share_release(const char *path)
{
    json_t *o = json_load_file(path, 0, NULL);
    const char *cg = json_string_value(json_object_get(o, "cgroup"));
    /* only a directory we made: condo-NAME-PID below a cgroup mount */
    if (cg && strstr(cg, "/condo-") && !strncmp(cg, "/sys/fs/cgroup/", 15))
        rmdir(cg);
    json_decref(o);
    unlink(path);
}
