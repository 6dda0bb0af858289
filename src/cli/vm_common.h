/* Shared by the VM-management verbs. */
#ifndef CONDO_CLI_VM_COMMON_H
#define CONDO_CLI_VM_COMMON_H

#include "cli/cli.h"
#include "condo/manager.h"

/* The exit status for an error from the manager, by its class. */
int cli_vm_fail(const struct error *err);
/* Load NAME's info; on failure print and return the exit status, else 0. */
int cli_vm_lookup(const struct condo_paths *p, const char *name, struct vm_info *vi);
/* Ask a running VM whether it is paused (updates vi->state). */
void cli_vm_refine_state(const struct vm_paths *vp, struct vm_info *vi);
/* Exactly one NAME operand after options; else print usage and return 2. */
int cli_one_name(int argc, char **argv, const char *usage, const char **name);

int cli_vm_create(int argc, char **argv);
int cli_vm_rm(int argc, char **argv);
int cli_vm_inspect(int argc, char **argv);
int cli_vm_start(int argc, char **argv);
int cli_vm_stop(int argc, char **argv);
int cli_vm_pause(int argc, char **argv, bool pause);
int cli_vm_console(int argc, char **argv);
int cli_vm_ls(int argc, char **argv);
int cli_vm_top(int argc, char **argv);
int cli_vm_host(int argc, char **argv);
int cli_vm_snapshot(int argc, char **argv);
int cli_vm_clone(int argc, char **argv);

#endif
