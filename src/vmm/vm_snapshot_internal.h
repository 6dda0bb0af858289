/* Between the VM loop (vm.c) and its snapshot glue (vm_snapshot.c). Not a
 * public header. */
#ifndef CONDO_VMM_VM_SNAPSHOT_INTERNAL_H
#define CONDO_VMM_VM_SNAPSHOT_INTERNAL_H

#include "condo/vm.h"

/* vm.c: fn runs on the machine with every CPU parked and the lock held;
 * the CPUs go on afterwards. Returns fn's result. I/O thread only. */
int vm_with_machine_stopped(struct vm *vm, int (*fn)(struct machine *m, void *arg), void *arg);
const struct vm_config *vm_config_of(const struct vm *vm);
const struct vm_run_options *vm_options_of(const struct vm *vm);
struct event_loop *vm_loop_of(struct vm *vm);

/* vm_snapshot.c: resume a snapshot into the freshly created machine m
 * (before any CPU runs). */
int vm_snapshot_restore(struct vm *vm, struct machine *m, const char *path, struct error *err);
/* Ctrl-A s: a snapshot named by the time into --snapshot-dir; reports on
 * stderr (the user pressed a key and watches the console). */
void vm_snapshot_key(struct vm *vm);
/* At the VM's end: wait for a Ctrl-A s writer still running (it would die
 * with the VMM otherwise) and report it. */
void vm_snapshot_wait(struct vm *vm);

#endif
