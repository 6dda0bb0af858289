/* One virtual machine process: its definition and the VM loop that runs it.
 * Exit statuses are part of the command-line contract (README). */
#ifndef CONDO_VM_H
#define CONDO_VM_H

#include "condo/error.h"
#include "condo/machine.h"
#include "condo/sandbox.h"

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

/* A VM's definition: the hardware, and how the VMM runs it. */
struct vm_config {
    const char *arch;
    struct machine_config hw;
    unsigned cpu_limit_pct; /* host CPU cap, 100 = one core; 0 = none */
    unsigned cpu_weight;    /* share under contention, 1..10000; 0 = default */
    struct sandbox_config sandbox; /* how the VM process confines itself */
};

/* Parse one --disk value into out (which then owns copies of the strings:
 * vm_disk_config_free). 0, or -EINVAL / -ENOMEM with err set. */
int vm_parse_disk(const char *spec, struct vm_disk_config *out, struct error *err);
void vm_disk_config_free(struct vm_disk_config *d);
/* Parse a --balloon value: "on", "off", or settings separated by commas
 * (reporting=on|off, stats=SECONDS, deflate_on_oom=on|off, amount=MIB);
 * any but "off" enables the device, with free page reporting on unless
 * it says reporting=off. 0, or -EINVAL with err set. */
#define VM_BALLOON_STATS_MAX 65535
int vm_parse_balloon(const char *spec, struct vm_balloon_config *out, struct error *err);
/* Frees what vm_parse_disk allocated for each disk. */
void vm_config_free(struct vm_config *cfg);

/* How the VM process is reached. */
struct vm_run_options {
    const char *name;         /* the VM's name (messages, process title); may be NULL */
    const char *api_sock;     /* serve the control API on this socket; NULL: none */
    const char *console_sock; /* detached: the console is this socket, not stdio */
    int ready_fd;             /* >= 0: write "OK\n" once the CPUs run, or
                               * "E <errno> <message>\n" if setup fails; then close */
    const char *restore;      /* resume this snapshot instead of booting; NULL: boot */
    const char *snapshot_dir; /* Ctrl-A s writes snapshots here; NULL: not offered */
    /* Wait for the definition over the API (Firecracker's way): the
     * machine is built at PUT /actions InstanceStart. With it: */
    bool preboot;
    const char *default_bios;   /* firmware when the API names none */
    const char *default_append; /* command line when boot_args is absent */
};

/* Builds the machine, boots it, runs it to the end; returns the process
 * exit status (enum vm_exit_status, or a guest-chosen failure code). */
int vm_run(const struct vm_config *cfg, const struct vm_run_options *opts);

struct vm;
/* Snapshot the running VM (src/vmm/vm_snapshot.c): pause every CPU (the
 * parking protocol), save machine state, RAM (to mem_path when given) and
 * the definition to path, resume. On the I/O thread. 0 or a negative
 * errno with err set; the VM runs on either way. */
int vm_snapshot_save(struct vm *vm, const char *path, const char *mem_path, struct error *err);

#endif
