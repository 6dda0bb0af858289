/* Named VMs on disk: their definitions and what state they are in, found
 * without asking a daemon. A VM is running while its lock file is locked
 * (the monitor and the VMM share the lock; it drops when both are gone);
 * otherwise exit.json, written by the monitor, tells how it ended. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "condo/manager.h"

const char *vm_state_name(enum vm_state s)
{
    switch (s) {
    case VM_STATE_RUNNING: return "running";
    case VM_STATE_PAUSED: return "paused";
    case VM_STATE_CRASHED: return "crashed";
    case VM_STATE_STOPPED: break;
    }
    return "stopped";
}

/* True while some process holds the VM's lock. */
static bool lock_held(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    close(fd);
    return held;
}

static pid_t read_pid(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    long v = 0;
    if (fscanf(f, "%ld", &v) != 1 || v <= 1)
        v = 0;
    fclose(f);
    return (pid_t)v;
}

static void read_exit(const char *path, struct vm_info *out)
{
    json_error_t je;
    json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        return;
    const char *state = json_string_value(json_object_get(o, "state"));
    const char *reason = json_string_value(json_object_get(o, "reason"));
    if (state && !strcmp(state, "crashed"))
        out->state = VM_STATE_CRASHED;
    if (reason)
        snprintf(out->reason, sizeof(out->reason), "%s", reason);
    json_decref(o);
}

int vm_info_get(const struct condo_paths *p, const char *name, struct vm_info *out,
                struct error *err)
{
    memset(out, 0, sizeof(*out));
    vm_def_init(&out->def);
    struct vm_paths vp;
    int r = vm_paths_get(p, name, &vp, err);
    if (r)
        return r;
    if (access(vp.def, F_OK) < 0)
        return error_set(err, -ENOENT, "no VM named %s (condo ls lists them)", name);
    r = vm_def_load(&out->def, vp.def, err);
    if (r)
        return r;
    if (lock_held(vp.lock)) {
        out->state = VM_STATE_RUNNING; /* the caller asks the VMM whether it is paused */
        out->pid = read_pid(vp.pid);
        struct stat st;
        if (stat(vp.pid, &st) == 0)
            out->started_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ull +
                              (uint64_t)st.st_mtim.tv_nsec;
        return 0;
    }
    out->state = VM_STATE_STOPPED;
    read_exit(vp.exit, out);
    return 0;
}

void vm_info_free(struct vm_info *i)
{
    vm_def_free(&i->def);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int vm_list_names(const struct condo_paths *p, char ***names, size_t *n, struct error *err)
{
    *names = NULL;
    *n = 0;
    char vms[PATH_MAX + 8];
    snprintf(vms, sizeof(vms), "%s/vms", p->data);
    DIR *d = opendir(vms);
    if (!d)
        return errno == ENOENT ? 0 : error_set_errno(err, -errno, "cannot list %s", vms);
    size_t cap = 0;
    struct dirent *e;
    int r = 0;
    while ((e = readdir(d))) {
        if (vm_name_check(e->d_name, NULL) < 0)
            continue;
        char def[PATH_MAX * 2];
        snprintf(def, sizeof(def), "%s/%s/vm.json", vms, e->d_name);
        if (access(def, F_OK) < 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(*names, cap * sizeof(*nn));
            if (!nn) {
                r = error_set(err, -ENOMEM, "out of memory");
                break;
            }
            *names = nn;
        }
        (*names)[*n] = strdup(e->d_name);
        if (!(*names)[*n]) {
            r = error_set(err, -ENOMEM, "out of memory");
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (r) {
        vm_names_free(*names, *n);
        *names = NULL;
        *n = 0;
        return r;
    }
    if (*n)
        qsort(*names, *n, sizeof(**names), cmp_names);
    return 0;
}

void vm_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}
