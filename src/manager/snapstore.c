/* A named VM's snapshots, on disk: data/vms/NAME/snapshots/TAG.snap (the
 * state), TAG.mem (its RAM, mapped copy-on-write by restores and clones),
 * TAG.json (tag, parent, time), and `current` (the tag the VM last took
 * or was restored from: the next snapshot's parent). The disk layers the
 * snapshots froze live beside the VM's disk images (docs/SNAPSHOTS.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "condo/manager.h"

int snap_tag_check(const char *tag, struct error *err)
{
    size_t n = tag ? strlen(tag) : 0;
    if (n == 0 || n > SNAP_TAG_MAX)
        return error_set(err, -EINVAL, "a snapshot tag has 1 to %d characters, not %zu",
                         SNAP_TAG_MAX, n);
    if (tag[0] == '.' || tag[0] == '-')
        return error_set(err, -EINVAL, "snapshot tag '%s' must not start with '.' or '-'", tag);
    for (size_t i = 0; i < n; i++) {
        char c = tag[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return error_set(err, -EINVAL,
                             "snapshot tag '%s' has '%c': use letters, digits, '_', '-' and '.'",
                             tag, c);
    }
    return 0;
}

int snap_paths_get(const struct vm_paths *vp, const char *tag, struct snap_paths *o,
                   struct error *err)
{
    int r = snap_tag_check(tag, err);
    if (r)
        return r;
    if ((size_t)snprintf(o->state, sizeof(o->state), "%s/%s.snap", vp->snaps, tag) >=
            sizeof(o->state) ||
        (size_t)snprintf(o->mem, sizeof(o->mem), "%s/%s.mem", vp->snaps, tag) >=
            sizeof(o->mem) ||
        (size_t)snprintf(o->meta, sizeof(o->meta), "%s/%s.json", vp->snaps, tag) >=
            sizeof(o->meta))
        return error_set(err, -ENAMETOOLONG, "snapshot %s: the path is too long", tag);
    return 0;
}

static uint64_t allocated(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

static int write_json(const char *path, json_t *o, struct error *err)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (json_dump_file(o, tmp, JSON_INDENT(2)) < 0)
        return error_set(err, -EIO, "cannot write %s", tmp);
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return error_set_errno(err, -e, "cannot write %s", path);
    }
    return 0;
}

int snap_record(const struct vm_paths *vp, const struct snap_info *s, struct error *err)
{
    struct snap_paths sp;
    int r = snap_paths_get(vp, s->tag, &sp, err);
    if (r)
        return r;
    json_t *o = json_pack("{s:s, s:s?, s:I, s:I}", "tag", s->tag, "parent",
                          s->parent[0] ? s->parent : NULL, "time", (json_int_t)s->time,
                          "write_ms", (json_int_t)s->write_ms);
    if (!o)
        return error_set(err, -ENOMEM, "out of memory");
    r = write_json(sp.meta, o, err);
    json_decref(o);
    return r;
}

static int read_one(const struct vm_paths *vp, const char *tag, struct snap_info *s)
{
    struct snap_paths sp;
    if (snap_paths_get(vp, tag, &sp, NULL))
        return -EINVAL;
    memset(s, 0, sizeof(*s));
    snprintf(s->tag, sizeof(s->tag), "%s", tag);
    json_t *o = json_load_file(sp.meta, JSON_REJECT_DUPLICATES, NULL);
    if (o) {
        const char *parent = json_string_value(json_object_get(o, "parent"));
        if (parent && snap_tag_check(parent, NULL) == 0)
            snprintf(s->parent, sizeof(s->parent), "%s", parent);
        s->time = (int64_t)json_integer_value(json_object_get(o, "time"));
        s->write_ms = (uint64_t)json_integer_value(json_object_get(o, "write_ms"));
        json_decref(o);
    }
    struct stat st;
    if (stat(sp.state, &st) < 0)
        return -ENOENT;
    if (!s->time)
        s->time = (int64_t)st.st_mtim.tv_sec;
    s->bytes = allocated(sp.state) + allocated(sp.mem);
    return 0;
}

int snap_get(const struct vm_paths *vp, const char *tag, struct snap_info *s,
             struct error *err)
{
    int r = snap_tag_check(tag, err);
    if (r)
        return r;
    if (read_one(vp, tag, s) < 0)
        return error_set(err, -ENOENT, "VM %s has no snapshot %s (condo snapshot ls %s)",
                         vp->name, tag, vp->name);
    return 0;
}

static int cmp_time(const void *a, const void *b)
{
    const struct snap_info *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return strcmp(x->tag, y->tag);
}

int snap_list(const struct vm_paths *vp, struct snap_info **out, size_t *n, struct error *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(vp->snaps);
    if (!d)
        return errno == ENOENT ? 0 : error_set_errno(err, -errno, "cannot list %s", vp->snaps);
    size_t cap = 0;
    struct dirent *e;
    int r = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".snap"))
            continue;
        char tag[SNAP_TAG_MAX + 1];
        if (l - 5 > SNAP_TAG_MAX)
            continue;
        snprintf(tag, sizeof(tag), "%.*s", (int)(l - 5), e->d_name);
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            struct snap_info *nn = realloc(*out, cap * sizeof(*nn));
            if (!nn) {
                r = error_set(err, -ENOMEM, "out of memory");
                break;
            }
            *out = nn;
        }
        if (read_one(vp, tag, &(*out)[*n]) == 0)
            (*n)++;
    }
    closedir(d);
    if (r) {
        free(*out);
        *out = NULL;
        *n = 0;
        return r;
    }
    if (*n)
        qsort(*out, *n, sizeof(**out), cmp_time);
    return 0;
}

int snap_current(const struct vm_paths *vp, char *tag, size_t n)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/current", vp->snaps);
    tag[0] = 0;
    FILE *f = fopen(path, "re");
    if (!f)
        return -ENOENT;
    char buf[SNAP_TAG_MAX + 2] = "";
    if (!fgets(buf, sizeof(buf), f))
        buf[0] = 0;
    fclose(f);
    buf[strcspn(buf, "\n")] = 0;
    if (snap_tag_check(buf, NULL) < 0)
        return -EINVAL;
    snprintf(tag, n, "%s", buf);
    return 0;
}

int snap_set_current(const struct vm_paths *vp, const char *tag)
{
    char path[PATH_MAX + 16], tmp[PATH_MAX + 24];
    snprintf(path, sizeof(path), "%s/current", vp->snaps);
    if (!tag || !tag[0])
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "we");
    if (!f)
        return -errno;
    fprintf(f, "%s\n", tag);
    if (fclose(f) != 0 || rename(tmp, path) < 0) {
        unlink(tmp);
        return -EIO;
    }
    return 0;
}

int snap_remove(const struct vm_paths *vp, const char *tag, struct error *err)
{
    struct snap_info s;
    int r = snap_get(vp, tag, &s, err);
    if (r)
        return r;
    /* the children of the removed snapshot hang from its parent now */
    struct snap_info *all;
    size_t n;
    r = snap_list(vp, &all, &n, err);
    if (r)
        return r;
    for (size_t i = 0; i < n && !r; i++) {
        if (strcmp(all[i].parent, tag))
            continue;
        snprintf(all[i].parent, sizeof(all[i].parent), "%s", s.parent);
        r = snap_record(vp, &all[i], err);
    }
    free(all);
    if (r)
        return r;
    char cur[SNAP_TAG_MAX + 1];
    if (snap_current(vp, cur, sizeof(cur)) == 0 && !strcmp(cur, tag))
        snap_set_current(vp, s.parent);
    struct snap_paths sp;
    snap_paths_get(vp, tag, &sp, NULL);
    /* the state first: without it the tag is gone, whatever else stays */
    if (unlink(sp.state) < 0 && errno != ENOENT)
        return error_set_errno(err, -errno, "cannot remove %s", sp.state);
    unlink(sp.mem);
    unlink(sp.meta);
    return 0;
}

int vm_sync_disks(const struct condo_paths *p, const char *name, struct error *err)
{
    struct vm_paths vp;
    int r = vm_paths_get(p, name, &vp, err);
    if (r)
        return r;
    json_t *cfg = NULL;
    r = vmm_call(vp.api, "GET", "/vm/config", NULL, 5000, &cfg, err);
    if (r)
        return r;
    struct vm_def d;
    r = vm_def_load(&d, vp.def, err);
    const json_t *drives = json_object_get(cfg, "drives");
    for (unsigned i = 0; !r && i < d.cfg.hw.ndisks && i < json_array_size(drives); i++) {
        const char *path =
            json_string_value(json_object_get(json_array_get(drives, i), "path_on_host"));
        if (!path || !strcmp(path, d.cfg.hw.disks[i].path))
            continue;
        const char *c = vm_def_strdup(&d, path);
        if (!c) {
            r = error_set(err, -ENOMEM, "out of memory");
            break;
        }
        d.cfg.hw.disks[i].path = c;
        d.cfg.hw.disks[i].format = 0; /* a qcow2 layer, probed */
        d.cfg.hw.disks[i].backing = NULL;
    }
    if (!r)
        r = vm_def_save(&d, vp.def, err);
    vm_def_free(&d);
    json_decref(cfg);
    return r;
}
