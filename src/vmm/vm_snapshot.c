/* The running VM's side of snapshots: pause the CPUs through the parking
 * protocol, write the snapshot (src/snapshot/), resume; restore into a
 * new machine before its CPUs start; Ctrl-A s. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "condo/snapshot.h"
#include "condo/vm_def.h"
#include "vm_snapshot_internal.h"

struct save_job {
    const char *path, *mem_path, *definition;
    struct snapshot_stats stats;
    uint64_t pause_ns;
    struct error *err;
};

static int save_stopped(struct machine *m, void *arg)
{
    struct save_job *j = arg;
    uint64_t t0 = condo_clock_ns();
    int r = snapshot_save(j->path, j->mem_path, j->definition, m, &j->stats, j->err);
    j->pause_ns = condo_clock_ns() - t0;
    return r;
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

static int snapshot_save_vm(struct vm *vm, const char *path, const char *mem_path,
                            struct snapshot_stats *stats, uint64_t *pause_ns, struct error *err)
{
    char *def = definition_json(vm);
    if (!def)
        return error_set(err, -ENOMEM, "out of memory for the VM definition");
    struct save_job j = { .path = path, .mem_path = mem_path, .definition = def, .err = err };
    int r = vm_with_machine_stopped(vm, save_stopped, &j);
    free(def);
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
