/* The VM process's file broker: a small process forked before the sandbox
 * goes up, holding descriptors of the few directories the VM may write
 * in (its snapshot directory, the directories of its writable disks). The
 * sandboxed VMM cannot create files; through file_ops (include/condo/
 * file_ops.h) it asks the broker, which creates a file (a single name,
 * O_EXCL or O_TRUNC, never following a symbolic link) inside one of those
 * directories and passes the descriptor back, renames within one, or
 * removes a file there. Nothing else: a VMM taken over by its guest gains
 * no more than writing files into those directories. Not a public header. */
#ifndef CONDO_VMM_VM_FILES_H
#define CONDO_VMM_VM_FILES_H

#include <sys/types.h>

#include "condo/error.h"

#define VM_FILES_MAX_DIRS 10

struct vm_files {
    int sock;   /* our end; -1 without a broker */
    pid_t pid;
    unsigned ndirs;
    char dir[VM_FILES_MAX_DIRS][4096]; /* as given */
    char real[VM_FILES_MAX_DIRS][4096]; /* resolved */
};

/* Fork the broker for these directories (duplicates and missing ones are
 * skipped) and route file_ops through it. Call while the process has one
 * thread. 0 or -errno. */
int vm_files_start(struct vm_files *f, const char *const *dirs, unsigned n, struct error *err);
/* Stop routing and let the broker go (it ends when our end closes). */
void vm_files_stop(struct vm_files *f);
/* True when path lies directly in one of the broker's directories. */
bool vm_files_covers(const struct vm_files *f, const char *path);

#endif
