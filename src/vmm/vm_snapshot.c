/* The running VM's side of snapshots: pause the CPUs through the parking
 * protocol, write the snapshot (src/snapshot/), resume; restore into a
 * new machine before its CPUs start; Ctrl-A s. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "condo/event_loop.h"
#include "condo/snapshot.h"
#include "condo/vm_def.h"
#include "vm_snapshot_internal.h"

/* A save in two steps. While the machine is stopped: the machine state is
 * captured (small) and the VMM forks; the guest's RAM is a private
 * mapping, so the child sees it frozen at the fork while the parent's CPUs
 * go on (copy-on-write: a page the guest writes is copied for the parent,
 * the child keeps the old one). The child writes the file (temporary
 * name, fsync, rename), sends its result through a pipe and exits; it
 * dies with the VMM (PR_SET_PDEATHSIG), leaving any older snapshot of
 * the same name intact. Where fork is refused (it should not be: the
 * sandbox allows exactly this fork) the file is written while the guest
 * waits, as before. */

/* What the child reports. */
struct save_result {
    int32_t code; /* 0 or a negative errno */
    struct snapshot_stats stats;
    char msg[ERROR_MSG_MAX];
};

struct save_job {
    const char *path, *mem_path, *definition;
    struct snapshot_stats stats;
    uint64_t pause_ns;
    struct error *err;
    pid_t pid;    /* the writer, 0 when written in place */
    int rd;       /* its result pipe */
    int watch;    /* event loop watch (Ctrl-A s) */
    uint64_t t0, t_stopped, t_captured, t_forked; /* the pause, in steps (-vv) */
};

/* One save at a time per VM process (a VMM runs one VM). */
static struct save_job *busy;

static void child_write(const struct save_job *j, const struct snapshot_capture *c, int wr,
                        pid_t parent)
{
    /* the VMM's handlers poke the parent's event loop (a shared eventfd):
     * in the writer, a SIGINT or SIGTERM to the process group just ends
     * it, as it ends the VMM */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1); /* the VMM is already gone */
    struct save_result res = { 0 };
    struct error err = ERROR_INIT;
    res.code = snapshot_write(c, j->path, j->mem_path, SNAPSHOT_RAM_MAPPED, &res.stats, &err);
    memcpy(res.msg, err.msg, sizeof(res.msg));
    ssize_t n = write(wr, &res, sizeof(res));
    _exit(n == (ssize_t)sizeof(res) && res.code == 0 ? 0 : 1);
}

static int save_stopped(struct machine *m, void *arg)
{
    struct save_job *j = arg;
    struct snapshot_capture *c;
    j->t_stopped = condo_clock_ns();
    int r = snapshot_capture(m, j->definition, &c, j->err);
    if (r < 0)
        return r;
    j->t_captured = condo_clock_ns();
    int p[2], e = 0;
    pid_t pid = -1, parent = getpid();
    if (pipe2(p, O_CLOEXEC) == 0) {
        pid = fork();
        e = errno;
        if (pid == 0)
            child_write(j, c, p[1], parent);
        close(p[1]);
        if (pid < 0)
            close(p[0]);
    } else {
        e = errno;
    }
    j->t_forked = condo_clock_ns();
    if (pid > 0) {
        j->pid = pid;
        j->rd = p[0];
        r = 0;
    } else {
        condo_info("snapshot: cannot fork a writer (%s): writing with the guest paused",
                   strerror(e));
        r = snapshot_write(c, j->path, j->mem_path, SNAPSHOT_RAM_MAPPED, &j->stats, j->err);
    }
    snapshot_capture_free(c); /* the child has its own copy */
    return r;
}

/* The writer's result (blocks until it is done), and the child reaped. */
static int save_finish(struct save_job *j)
{
    struct save_result res = { 0 };
    size_t got = 0;
    while (got < sizeof(res)) {
        ssize_t n = read(j->rd, (char *)&res + got, sizeof(res) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(j->rd);
    j->rd = -1;
    int status = 0;
    while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (got != sizeof(res))
        return error_set(j->err, -EIO,
                         "snapshot %s: the writer (pid %ld) died before it finished%s; any "
                         "older snapshot of that name is intact",
                         j->path, (long)j->pid,
                         WIFSIGNALED(status) ? " (killed by a signal)" : "");
    if (res.code < 0) {
        res.msg[sizeof(res.msg) - 1] = 0;
        return error_set(j->err, res.code, "%s", res.msg);
    }
    j->stats = res.stats;
    return 0;
}

/* The definition stored with the snapshot: what `condo run --restore`
 * rebuilds the machine from. */
static char *definition_json(const struct vm *vm)
{
    const struct vm_run_options *o = vm_options_of(vm);
    struct vm_def d;
    vm_def_init(&d);
    d.cfg = *vm_config_of(vm); /* borrowed strings: d owns nothing */
    snprintf(d.name, sizeof(d.name), "%s", o && o->name ? o->name : "vm");
    json_t *j = vm_def_to_json(&d);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

/* Stop, capture, fork, go on. The pause is measured from the stop
 * request to the CPUs released. */
static int save_start(struct vm *vm, struct save_job *j, struct error *err)
{
    if (busy)
        return error_set(err, -EBUSY, "snapshot %s: the snapshot %s is still being written",
                         j->path, busy->path);
    char *def = definition_json(vm);
    if (!def)
        return error_set(err, -ENOMEM, "out of memory for the VM definition");
    j->definition = def;
    j->err = err;
    j->rd = -1;
    j->watch = -1;
    j->t0 = condo_clock_ns();
    int r = vm_with_machine_stopped(vm, save_stopped, j);
    j->pause_ns = condo_clock_ns() - j->t0;
    if (r == 0)
        condo_debug("snapshot pause %.2f ms: vCPUs parked after %.2f, state captured in %.2f, "
                    "fork %.2f, vCPUs released %.2f",
                    (double)j->pause_ns / 1e6, (double)(j->t_stopped - j->t0) / 1e6,
                    (double)(j->t_captured - j->t_stopped) / 1e6,
                    (double)(j->t_forked - j->t_captured) / 1e6,
                    (double)(j->t0 + j->pause_ns - j->t_forked) / 1e6);
    free(def);
    j->definition = NULL;
    return r;
}

static int snapshot_save_vm(struct vm *vm, const char *path, const char *mem_path,
                            struct snapshot_stats *stats, uint64_t *pause_ns, struct error *err)
{
    struct save_job j = { .path = path, .mem_path = mem_path };
    int r = save_start(vm, &j, err);
    /* the guest runs again; this caller wants the file complete */
    if (r == 0 && j.pid > 0)
        r = save_finish(&j);
    if (stats)
        *stats = j.stats;
    if (pause_ns)
        *pause_ns = j.pause_ns;
    return r;
}

int vm_snapshot_save(struct vm *vm, const char *path, const char *mem_path, struct error *err)
{
    return snapshot_save_vm(vm, path, mem_path, NULL, NULL, err);
}

int vm_snapshot_restore(struct vm *vm, struct machine *m, const char *path, struct error *err)
{
    (void)vm;
    uint64_t t0 = condo_clock_ns();
    int r = snapshot_restore(path, m, err);
    if (r == 0)
        condo_info("snapshot %s restored in %.2f ms", path,
                   (double)(condo_clock_ns() - t0) / 1e6);
    return r;
}

static void key_report(struct save_job *j, int r, const struct error *err)
{
    if (r < 0)
        condo_err("snapshot failed: %s", err->msg);
    else
        condo_err("snapshot %s written (guest paused %.1f ms, %llu non-zero pages, %llu bytes; "
                  "%.1f ms in all)",
                  j->path, (double)j->pause_ns / 1e6, (unsigned long long)j->stats.ram_pages,
                  (unsigned long long)j->stats.file_bytes,
                  (double)(condo_clock_ns() - j->t0) / 1e6);
}

struct key_job {
    struct save_job j;
    struct vm *vm;
    struct error err;
    char path[4200];
};

/* The writer of a Ctrl-A s finished (its pipe became readable). */
static void key_done(void *opaque, short revents)
{
    (void)revents;
    struct key_job *k = opaque;
    if (k->j.watch >= 0)
        event_loop_remove(vm_loop_of(k->vm), k->j.watch);
    int r = save_finish(&k->j);
    key_report(&k->j, r, &k->err);
    busy = NULL;
    free(k);
}

void vm_snapshot_wait(struct vm *vm)
{
    (void)vm;
    if (busy) /* key_done blocks in save_finish until the writer is done */
        key_done((struct key_job *)busy, 0); /* j is its first member */
}

void vm_snapshot_key(struct vm *vm)
{
    const struct vm_run_options *o = vm_options_of(vm);
    if (!o || !o->snapshot_dir) {
        condo_err("Ctrl-A s: no snapshot directory (run with --snapshot-dir DIR)");
        return;
    }
    struct key_job *k = calloc(1, sizeof(*k));
    if (!k) {
        condo_err("snapshot failed: out of memory");
        return;
    }
    k->vm = vm;
    k->err = (struct error)ERROR_INIT;
    /* tag = the time, UTC, to the millisecond */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char tag[64];
    strftime(tag, sizeof(tag), "%Y%m%d-%H%M%S", &tm);
    snprintf(k->path, sizeof(k->path), "%s/%s.%03ld.snap", o->snapshot_dir, tag,
             ts.tv_nsec / 1000000);
    k->j.path = k->path;
    int r = save_start(vm, &k->j, &k->err);
    if (r == 0 && k->j.pid > 0) {
        /* the writer runs on; the console stays live, the report comes
         * when it is done */
        k->j.watch = event_loop_add_fd(vm_loop_of(vm), k->j.rd, POLLIN, key_done, k);
        if (k->j.watch >= 0) {
            busy = &k->j;
            return;
        }
        r = save_finish(&k->j); /* no room to watch: wait here */
    }
    key_report(&k->j, r, &k->err);
    free(k);
}
