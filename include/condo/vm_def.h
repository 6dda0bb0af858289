/* A VM's definition as a file: the JSON document a named VM is stored as
 * (vm.json in its state directory), read back by `condo start` and by the
 * VM process itself. The document is the source of truth for a named VM;
 * every field is checked on the way in (a hand-edited or damaged file gets
 * a clear error naming the field, never a crash).
 *
 *   { "name": "web", "arch": "riscv64", "cpus": 1, "memory_mib": 512,
 *     "bios": "/abs/fw_dynamic.bin", "kernel": "/abs/Image",
 *     "initrd": "/abs/initramfs.cpio", "append": "console=ttyS0 panic=-1",
 *     "bare_metal": false,
 *     "disks": [ { "path": "/abs/d.qcow2", "read_only": false,
 *                  "format": "auto|raw|qcow2", "iops": 0, "bps": 0 } ],
 *     "nets": [ "user,hostfwd=tcp::8022-:22" ],
 *     "balloon": { "enabled": true, "free_page_reporting": true,
 *                  "deflate_on_oom": false, "stats_polling_interval_s": 0,
 *                  "amount_mib": 0 },   (absent: no balloon)
 *     "cpu_limit_pct": 0, "cpu_weight": 0, "version": 1 } */
#ifndef CONDO_VM_DEF_H
#define CONDO_VM_DEF_H

#include <jansson.h>

#include "condo/vm.h"

#define VM_NAME_MAX 48
#define VM_DEF_VERSION 1

/* A definition and the strings it owns. */
struct vm_def {
    char name[VM_NAME_MAX + 1];
    struct vm_config cfg;
    char *owned[16 + 2 * VM_MAX_DISKS + VM_MAX_NETS];
    unsigned nowned;
    bool balloon_given; /* --balloon was on the command line */
};

/* A name is 1..VM_NAME_MAX of [A-Za-z0-9_.-], not starting with '.' or '-'
 * (it becomes a directory and socket name: no path characters). */
int vm_name_check(const char *name, struct error *err);

void vm_def_init(struct vm_def *d);
void vm_def_free(struct vm_def *d);
/* Take ownership of malloc'd `s` (freed with the definition); -ENOMEM if
 * there is no room (then `s` is freed). */
int vm_def_adopt(struct vm_def *d, char *s);
/* Copy `s` into storage the definition owns; NULL on allocation failure. */
const char *vm_def_strdup(struct vm_def *d, const char *s);
/* Make every file path absolute (relative to the current directory), so
 * the definition means the same thing from anywhere. */
int vm_def_absolutize(struct vm_def *d, struct error *err);

/* Write atomically (temporary file, fsync, rename) with mode 0600. */
int vm_def_save(const struct vm_def *d, const char *path, struct error *err);
int vm_def_load(struct vm_def *d, const char *path, struct error *err);

/* The definition as a JSON object (new reference), and back. */
json_t *vm_def_to_json(const struct vm_def *d);
int vm_def_from_json(struct vm_def *d, const json_t *j, struct error *err);

#endif
