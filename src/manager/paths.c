/* Where condo keeps its state: see include/condo/manager.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "condo/manager.h"

/* mkdir -p with mode 0700 for the parts we create; an existing directory
 * is tightened to 0700 only if we own it and it is the leaf. */
static int mkdir_p(const char *path, struct error *err)
{
    char buf[PATH_MAX];
    if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
        return error_set(err, -ENAMETOOLONG, "path %s is too long", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            return error_set_errno(err, -errno, "cannot create directory %s", buf);
        *p = '/';
    }
    if (mkdir(buf, 0700) < 0 && errno != EEXIST)
        return error_set_errno(err, -errno, "cannot create directory %s", buf);
    struct stat st;
    if (stat(buf, &st) < 0)
        return error_set_errno(err, -errno, "cannot use directory %s", buf);
    if (!S_ISDIR(st.st_mode))
        return error_set(err, -ENOTDIR, "%s is not a directory", buf);
    if (st.st_uid == geteuid() && (st.st_mode & 077))
        chmod(buf, 0700);
    return 0;
}

static int join(char *out, size_t size, const char *a, const char *b, struct error *err)
{
    if ((size_t)snprintf(out, size, "%s/%s", a, b) >= size)
        return error_set(err, -ENAMETOOLONG, "path %s/%s is too long", a, b);
    return 0;
}

int condo_paths_get(struct condo_paths *p, bool create, struct error *err)
{
    const char *home = getenv("CONDO_HOME");
    int r;
    if (home && *home) {
        if (home[0] != '/')
            return error_set(err, -EINVAL, "CONDO_HOME must be an absolute path, not %s", home);
        r = join(p->data, sizeof(p->data), home, "data", err);
        if (!r)
            r = join(p->run, sizeof(p->run), home, "run", err);
    } else if (geteuid() == 0) {
        snprintf(p->data, sizeof(p->data), "/var/lib/condo");
        snprintf(p->run, sizeof(p->run), "/run/condo");
        r = 0;
    } else {
        const char *xd = getenv("XDG_DATA_HOME"), *hm = getenv("HOME");
        const char *xr = getenv("XDG_RUNTIME_DIR");
        if (xd && xd[0] == '/')
            r = join(p->data, sizeof(p->data), xd, "condo", err);
        else if (hm && hm[0] == '/')
            r = join(p->data, sizeof(p->data), hm, ".local/share/condo", err);
        else
            return error_set(err, -EINVAL, "neither XDG_DATA_HOME nor HOME is set: set "
                                           "CONDO_HOME to a directory for condo's state");
        if (!r && xr && xr[0] == '/' && access(xr, W_OK) == 0)
            r = join(p->run, sizeof(p->run), xr, "condo", err);
        else if (!r)
            snprintf(p->run, sizeof(p->run), "/tmp/condo-%u", (unsigned)geteuid());
    }
    if (r)
        return r;
    if (create) {
        r = mkdir_p(p->data, err);
        if (!r)
            r = mkdir_p(p->run, err);
    }
    return r;
}

int condo_image_store(char *out, size_t size, struct error *err)
{
    struct condo_paths p;
    int r = condo_paths_get(&p, false, err);
    return r ? r : join(out, size, p.data, "images", err);
}

int vm_paths_get(const struct condo_paths *p, const char *name, struct vm_paths *o,
                 struct error *err)
{
    int r = vm_name_check(name, err);
    if (r)
        return r;
    char vms[PATH_MAX];
    r = join(vms, sizeof(vms), p->data, "vms", err);
    if (!r)
        r = join(o->dir, sizeof(o->dir), vms, name, err);
    if (!r)
        r = join(o->def, sizeof(o->def), o->dir, "vm.json", err);
    if (!r)
        r = join(o->log, sizeof(o->log), o->dir, "vmm.log", err);
    if (!r)
        r = join(o->exit, sizeof(o->exit), o->dir, "exit.json", err);
    if (!r)
        r = join(o->rundir, sizeof(o->rundir), p->run, name, err);
    if (!r)
        r = join(o->api, sizeof(o->api), o->rundir, "api.sock", err);
    if (!r)
        r = join(o->console, sizeof(o->console), o->rundir, "console.sock", err);
    if (!r)
        r = join(o->lock, sizeof(o->lock), o->rundir, "lock", err);
    if (!r)
        r = join(o->pid, sizeof(o->pid), o->rundir, "pid", err);
    if (!r)
        r = join(o->cpu_share, sizeof(o->cpu_share), o->rundir, "cpu-share.json", err);
    if (!r)
        r = join(o->snaps, sizeof(o->snaps), o->dir, "snapshots", err);
    snprintf(o->name, sizeof(o->name), "%s", name);
    if (r)
        return r;
    /* sun_path holds 108 bytes with the NUL */
    if (strlen(o->api) > 107 || strlen(o->console) > 107)
        return error_set(err, -ENAMETOOLONG,
                         "the socket path %s is longer than a UNIX socket allows (107 bytes): "
                         "use a shorter CONDO_HOME or XDG_RUNTIME_DIR",
                         o->console);
    return 0;
}

int condo_mkdir(const char *path, struct error *err)
{
    return mkdir_p(path, err);
}
