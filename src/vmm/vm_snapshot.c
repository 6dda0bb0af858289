/* The running VM's side of snapshots: pause the CPUs through the parking
 * protocol, freeze the disks (each writable disk's top image becomes the
 * snapshot's, a new qcow2 overlay takes the writes), write the snapshot
 * (src/snapshot/), resume; restore into a new machine before its CPUs
 * start; Ctrl-A s. Files are created through file_ops: the file broker
 * when the VM is sandboxed (vm_files.c). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "condo/file_ops.h"
#include "condo/snapshot.h"
#include "condo/vm_def.h"
#include "vm_snapshot_internal.h"
#include "vmm/vm_internal.h"

struct save_job {
    struct vm *vm;
    const char *path, *mem_path;
    struct snapshot_stats stats;
    uint64_t pause_ns;
    struct error *err;
};

/* The definition stored with the snapshot: what `condo run --restore`
 * rebuilds the machine from. Its disks are the images frozen for it. */
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

/* The VM's configuration now names disk i's new top (what GET /vm/config
 * reports and the next snapshot's definition holds). */
static void set_disk_path(struct vm *vm, unsigned i, const char *path)
{
    snprintf(vm->disk_path[i], sizeof(vm->disk_path[i]), "%s", path);
    struct vm_disk_config *dc = (struct vm_disk_config *)&vm->cfg->hw.disks[i];
    dc->path = vm->disk_path[i];
    dc->format = 0;      /* BLOCK_FORMAT_AUTO: a qcow2 overlay */
    dc->backing = NULL;  /* its header names its base */
}

/* Freeze every writable disk; x gets the frozen images. On a failure the
 * disks frozen so far stay on their new overlays (a consistent chain: the
 * guest sees no difference) and no snapshot is written. */
static int freeze_disks(struct vm *vm, struct machine *m, struct snapshot_disk *fz,
                        struct snapshot_extra *x, struct error *err)
{
    const struct machine_config *hw = &vm->cfg->hw;
    x->disks = fz;
    x->ndisks = 0;
    if (!m->ops->disk_top || !m->ops->disk_freeze)
        return hw->ndisks ? error_set(err, -ENOTSUP, "this board's disks cannot follow "
                                                     "snapshots") : 0;
    for (unsigned i = 0; i < hw->ndisks && i < SNAPSHOT_MAX_DISKS; i++) {
        bool ro = false;
        const char *top = m->ops->disk_top(m, i, &ro);
        if (!top[0] || ro)
            continue; /* a read-only disk is the same in every snapshot */
        char overlay[4096];
        int r = snapshot_layer_name(top, overlay, sizeof(overlay), err);
        if (r < 0)
            return r;
        int fd = file_create(overlay, O_RDWR | O_EXCL, 0600);
        if (fd < 0)
            return error_set_errno(err, fd, "snapshot: cannot create the disk layer %s",
                                   overlay);
        snprintf(fz[x->ndisks].frozen, sizeof(fz[0].frozen), "%s", top);
        fz[x->ndisks].index = i;
        r = m->ops->disk_freeze(m, i, fd, overlay, err);
        if (r < 0) {
            file_unlink(overlay);
            return error_prefix(err, "snapshot: "), r;
        }
        x->ndisks++;
        condo_info("disk %s frozen for the snapshot; writes go to %s", top, overlay);
    }
    return 0;
}

static int save_stopped(struct machine *m, void *arg)
{
    struct save_job *j = arg;
    struct vm *vm = j->vm;
    uint64_t t0 = condo_clock_ns();
    /* disk requests in flight complete first: their data belongs to the
     * image being frozen, their answers to the saved state */
    if (m->ops->drain)
        m->ops->drain(m);
    struct snapshot_disk *fz = calloc(SNAPSHOT_MAX_DISKS, sizeof(*fz));
    if (!fz)
        return error_set(j->err, -ENOMEM, "out of memory");
    struct snapshot_extra x;
    /* the definition names the images as they are before the freeze: the
     * frozen ones, which the snapshot keeps */
    char *def = definition_json(vm);
    int r = def ? 0 : error_set(j->err, -ENOMEM, "out of memory for the VM definition");
    if (r == 0)
        r = freeze_disks(vm, m, fz, &x, j->err);
    if (r == 0)
        r = snapshot_save_ex(j->path, j->mem_path, def, &x, m, &j->stats, j->err);
    /* the disks that were frozen are now their new overlays, whatever
     * else happened */
    for (unsigned k = 0; def && k < x.ndisks; k++) {
        bool ro;
        set_disk_path(vm, fz[k].index, m->ops->disk_top(m, fz[k].index, &ro));
    }
    free(def);
    free(fz);
    j->pause_ns = condo_clock_ns() - t0;
    return r;
}

static int snapshot_save_vm(struct vm *vm, const char *path, const char *mem_path,
                            struct snapshot_stats *stats, uint64_t *pause_ns, struct error *err)
{
    struct save_job j = { .vm = vm, .path = path, .mem_path = mem_path, .err = err };
    int r = vm_with_machine_stopped(vm, save_stopped, &j);
    if (stats)
        *stats = j.stats;
    if (pause_ns)
        *pause_ns = j.pause_ns;
    return r;
}

int vm_snapshot_save(struct vm *vm, const char *path, const char *mem_path, struct error *err)
{
    struct snapshot_stats st = { 0 };
    uint64_t pause_ns = 0;
    int r = snapshot_save_vm(vm, path, mem_path, &st, &pause_ns, err);
    if (r == 0)
        condo_info("snapshot %s written (guest paused %.1f ms, %llu non-zero pages, %llu bytes)",
                   path, (double)pause_ns / 1e6, (unsigned long long)st.ram_pages,
                   (unsigned long long)st.file_bytes);
    return r;
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

void vm_snapshot_key(struct vm *vm)
{
    const struct vm_run_options *o = vm_options_of(vm);
    if (!o || !o->snapshot_dir) {
        condo_err("Ctrl-A s: no snapshot directory (run with --snapshot-dir DIR)");
        return;
    }
    /* tag = the time, UTC, to the millisecond */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char tag[64], path[4200];
    strftime(tag, sizeof(tag), "%Y%m%d-%H%M%S", &tm);
    snprintf(path, sizeof(path), "%s/%s.%03ld.snap", o->snapshot_dir, tag,
             ts.tv_nsec / 1000000);
    struct error err = ERROR_INIT;
    struct snapshot_stats st = { 0 };
    uint64_t pause_ns = 0;
    if (snapshot_save_vm(vm, path, NULL, &st, &pause_ns, &err) < 0) {
        condo_err("snapshot failed: %s", err.msg);
        return;
    }
    condo_err("snapshot %s written (guest paused %.1f ms, %llu non-zero pages, %llu bytes)",
              path, (double)pause_ns / 1e6, (unsigned long long)st.ram_pages,
              (unsigned long long)st.file_bytes);
}
