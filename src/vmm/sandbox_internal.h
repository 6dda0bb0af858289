/* The sandbox's layers (src/vmm/sandbox*.c), one file each; sandbox.c
 * puts them up in order. Each returns 1 when the layer is up, 0 when the
 * kernel lacks it (the reason in the report), or a negative errno with
 * err set. */
#ifndef CONDO_VMM_SANDBOX_INTERNAL_H
#define CONDO_VMM_SANDBOX_INTERNAL_H

#include "condo/sandbox.h"

/* One line of the report (sandbox_report prints them with -v). */
void sandbox_note(struct sandbox *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Root only: private mount/IPC/UTS namespaces and a read-only tmpfs root
 * holding bind mounts of sb->paths (and the working directory), the host's
 * tree detached. */
int sandbox_jail(struct sandbox *sb, struct error *err);

/* Landlock: no filesystem access beyond sb->paths; no TCP bind; no
 * abstract UNIX sockets or signals beyond the process. */
int sandbox_landlock(struct sandbox *sb, struct error *err);

/* The seccomp allow-list, for every thread (TSYNC). */
int sandbox_seccomp(struct sandbox *sb, struct error *err);

/* The libc's thread creation flags the filter accepts for clone(). */
#define SANDBOX_CLONE_THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | \
                                    CLONE_THREAD | CLONE_SYSVSEM)

#endif
