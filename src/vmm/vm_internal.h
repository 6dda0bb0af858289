/* The VM process's state, shared by the VM loop (vm.c) and its control API
 * backend (vm_api.c). Everything here belongs to the I/O thread unless a
 * field says otherwise. */
#ifndef CONDO_VMM_VM_INTERNAL_H
#define CONDO_VMM_VM_INTERNAL_H

#include <pthread.h>

#include "condo/api.h"
#include "condo/console.h"
#include "condo/event_loop.h"
#include "condo/sandbox.h"
#include "condo/vm.h"
#include "vmm/vm_files.h"

struct vm;

struct vcpu {
    struct vm *vm;
    unsigned index;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* guards kicked; the wait sleeps on cv */
    pthread_cond_t cv;
    bool kicked;
    /* the CPU cap's current period */
    uint64_t period_start_ns, period_cpu_ns;
    /* idleness (vm.c: idle_check): the current window, and whether the
     * CPU was idle through the last one (then its caches were trimmed);
     * idle_gen counts its idle periods (the I/O thread reads both) */
    uint64_t idle_start_ns, idle_cpu_ns;
    bool idle;
    unsigned idle_gen;
};

/* What `condo run --api-sock` with no VM options collects over the API
 * before InstanceStart: the strings the definition points to. */
struct vm_preboot {
    char kernel[API_PATH_MAX];
    char initrd[API_PATH_MAX];
    char append[API_ARGS_MAX + 64];
    char disk_path[VM_MAX_DISKS][API_PATH_MAX];
    char net_spec[VM_MAX_NETS][API_NET_SPEC_MAX];
    bool root_set;  /* a drive is the root device (it is vda) */
    bool root_ro;
    char root_partuuid[API_NAME_MAX];
};

struct vm {
    const struct vm_config *cfg;
    const struct vm_run_options *opts;
    const struct machine_ops *ops;
    struct machine *m;    /* NULL until the machine is built (InstanceStart) */
    pthread_mutex_t lock; /* the machine lock */
    struct event_loop loop;
    struct console con;
    struct vcpu vcpu[VM_MAX_CPUS];
    unsigned ncpus;

    pthread_mutex_t ctl_mu;
    pthread_cond_t ctl_cv;
    int ctl;         /* CTL_* flags; written under ctl_mu, read atomically */
    unsigned parked; /* CPU threads waiting in park() */
    struct machine_exit exit; /* valid while CTL_EXIT is set */
    struct sandbox sandbox;

    /* live settings (the API changes them; CPU threads read them atomically) */
    unsigned cpu_limit_pct;
    unsigned cpu_weight;

    unsigned zero_scan_gen; /* the CPUs' idle_gen sum at the last zero-page scan */
    uint64_t idle_cache_bytes; /* engine caches idle CPUs gave back (atomic) */
    uint64_t idle_zero_bytes;  /* zero pages idle scans gave back (I/O thread) */
    bool paused;           /* PATCH /vm Paused */
    uint64_t start_ns;     /* when the CPUs started; 0 before */
    int exit_status;       /* >= 0: the I/O loop ends with it (a stop) */
    uint64_t stop_deadline_ns; /* a graceful stop forces after this; 0: none */

    /* the control API (NULL without --api-sock) */
    struct api_server *api;
    int api_watch;
    /* pre-boot configuration (condo run --api-sock with no VM options) */
    bool preboot;
    struct vm_config pre_cfg;
    struct vm_preboot *pre;
    /* ids of the drives and network cards, in machine_config order */
    char drive_id[VM_MAX_DISKS][API_ID_MAX];
    char net_id[VM_MAX_NETS][API_ID_MAX];

    /* snapshots */
    struct vm_files files;  /* the file broker (sandboxed VMs) */
    char disk_path[VM_MAX_DISKS][4096]; /* disk tops after a freeze */
    char restore_path[API_PATH_MAX];    /* PUT /snapshot/load; "" none */
    bool start_paused;      /* PUT /snapshot/load without resume_vm */
    struct vm_def *loaded;  /* the definition PUT /snapshot/load read */
};

/* The CPU control flags (vm.ctl). */
enum { VM_CTL_PAUSE = 1, VM_CTL_STOP = 2, VM_CTL_EXIT = 4 };

/* Build the machine from vm->cfg, put the sandbox up and start the CPU
 * threads. 0, or a negative errno with err set (the VM is then not
 * started, and the process must not try again after a sandbox failure:
 * *fatal tells). */
int vm_boot(struct vm *vm, bool *fatal, struct error *err);
/* PATCH /vm: park every CPU thread / let them run again. */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
/* End the VM loop with `status` at its next turn. */
void vm_request_exit(struct vm *vm, int status);

/* The API backend (vm_api.c): start the server for opts->api_sock on the
 * I/O thread's loop, and stop it. */
int vm_api_start(struct vm *vm, const char *path, struct error *err);
void vm_api_stop(struct vm *vm);

#endif
