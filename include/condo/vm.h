/* One virtual machine process: its definition and the VM loop that runs it.
 * Exit statuses are part of the command-line contract (README). */
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
    VM_EXIT_RESOURCES = 6,   /* the host lacks memory, descriptors, ... */
};

/* A VM's definition: the hardware, and how the VMM runs it. */
struct vm_config {
    const char *arch;
    struct machine_config hw;
    unsigned cpu_limit_pct; /* host CPU cap, 100 = one core; 0 = none */
    unsigned cpu_weight;    /* share under contention, 1..10000; 0 = default */
};

/* Parse one --disk value into `out` (strings point into one copy that
 * starts at out->path: the caller frees out->path when done; NULL after a
 * failure). 0 or -EINVAL with the reason in err. */
int vm_parse_disk(const char *spec, struct vm_disk_config *out, struct error *err);

/* The exit status for a setup error (its class decides: bad input is 2,
 * the host's lack of resources 6, anything else 4). */
int vm_exit_status_for(const struct error *err);

/* Builds the machine, boots it, runs it to the end; returns the process
 * exit status (enum vm_exit_status, or a guest-chosen failure code). */
int vm_run(const struct vm_config *cfg);

#endif
