/* One virtual machine: configuration, board assembly and the event loop.
 * Exit statuses are part of the command-line contract (see docs/CLI.md). */
#ifndef CONDO_VM_H
#define CONDO_VM_H

#include "condo/machine.h"

enum vm_exit_status {
    VM_EXIT_POWEROFF = 0,    /* guest powered off; bare-metal test passed */
    VM_EXIT_GUEST_FAIL = 1,  /* guest reported failure (syscon fail, HTIF code) */
    VM_EXIT_USAGE = 2,       /* bad options or unusable input files */
    VM_EXIT_RESET_LOOP = 3,  /* guest keeps resetting (e.g. kernel panic) */
    VM_EXIT_FAULT = 4,       /* emulator fault */
    VM_EXIT_QUIT = 5,        /* the user quit with the escape key */
};

struct vm_config {
    const char *arch;
    unsigned cpus;
    uint64_t memory;   /* bytes */
    const char *bios;  /* path, or "none" */
    const char *kernel;
    const char *initrd;
    const char *append;
    struct vm_disk_config disks[VM_MAX_DISKS];
    unsigned ndisks;
    const char *nets[VM_MAX_NETS]; /* --net specs, parsed by the backend */
    unsigned nnets;
};

/* Parse one --disk value; errors are printed. 0 or -EINVAL. */
int vm_parse_disk(const char *spec, struct vm_disk_config *out);

/* Builds the machine, boots it, runs it to the end; returns the process
 * exit status (enum vm_exit_status, or a guest-chosen failure code). */
int vm_run(const struct vm_config *cfg);

#endif
