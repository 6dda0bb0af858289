/* One virtual machine: configuration, board assembly and the event loop.
 * Exit statuses are part of the command-line contract (see docs/CLI.md). */
#ifndef CONDO_VM_H
#define CONDO_VM_H

#include "condo/error.h"
#include "condo/machine.h"

enum vm_exit_status {
    VM_EXIT_POWEROFF = 0,    /* guest powered off; bare-metal test passed */
    VM_EXIT_GUEST_FAIL = 1,  /* guest reported failure (syscon fail, HTIF code) */
    VM_EXIT_USAGE = 2,       /* bad options or unusable input files */
    VM_EXIT_RESET_LOOP = 3,  /* guest keeps resetting (e.g. kernel panic) */
    VM_EXIT_FAULT = 4,       /* emulator fault */
    VM_EXIT_QUIT = 5,        /* the user quit with the escape key */
    VM_EXIT_RESOURCES = 6,   /* the host ran out of memory, descriptors, space */
};

/* The exit status a setup failure means: 2 for bad input (an option, a
 * file, a value; also a resource busy elsewhere), 6 when the host lacks
 * resources, 4 for a host I/O failure or an internal error. */
int vm_exit_status_of(const struct error *err);

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

/* Parse one --disk value into out (which then owns copies of the strings:
 * vm_disk_config_free). 0, or -EINVAL / -ENOMEM with err set. */
int vm_parse_disk(const char *spec, struct vm_disk_config *out, struct error *err);
void vm_disk_config_free(struct vm_disk_config *d);
/* Frees what vm_parse_disk allocated for each disk. */
void vm_config_free(struct vm_config *cfg);

/* Builds the machine, boots it, runs it to the end; returns the process
 * exit status (enum vm_exit_status, or a guest-chosen failure code). When
 * setting up fails, err says why (the caller prints it; a few backends
 * still print their own setup errors, and then err stays clear). */
int vm_run(const struct vm_config *cfg, struct error *err);

#endif
