/* The building manager: named VMs in a per-user state directory, found and
 * driven without a daemon (as podman and kvmtool do). Each running VM is
 * one `condo run` process of its own (the VMM), watched by a small monitor
 * process that records how it ended; the verbs talk to the VMM through its
 * control socket (the HTTP API) and its console socket.
 *
 * Layout (CONDO_HOME replaces both roots, for tests):
 *   data  $XDG_DATA_HOME/condo (~/.local/share/condo), /var/lib/condo as root
 *         vms/NAME/vm.json       the definition
 *         vms/NAME/vmm.log       the VMM's own messages
 *         vms/NAME/exit.json     how the VMM process last ended (the monitor)
 *         images/                base images (condo image)
 *   run   $XDG_RUNTIME_DIR/condo (or /tmp/condo-UID), /run/condo as root
 *         NAME/api.sock NAME/console.sock   the VMM's sockets
 *         NAME/lock                         held (flock) while the VMM lives
 *         NAME/pid                          the VMM's pid
 * Every directory is created with mode 0700. */
#ifndef CONDO_MANAGER_H
#define CONDO_MANAGER_H

#include <limits.h>
#include <sys/types.h>

#include "condo/vm_def.h"

struct condo_paths {
    char data[PATH_MAX]; /* the data root */
    char run[PATH_MAX];  /* the runtime root */
};

/* Find (and with `create`, make) the roots. */
int condo_paths_get(struct condo_paths *p, bool create, struct error *err);
/* "<data>/images": where base images live (and may be used as backing files). */
int condo_image_store(char *out, size_t size, struct error *err);

/* mkdir -p, new directories with mode 0700. */
int condo_mkdir(const char *path, struct error *err);

/* Paths of one VM's files. */
struct vm_paths {
    char dir[PATH_MAX];     /* data/vms/NAME */
    char def[PATH_MAX];     /* .../vm.json */
    char log[PATH_MAX];     /* .../vmm.log */
    char exit[PATH_MAX];    /* .../exit.json */
    char rundir[PATH_MAX];  /* run/NAME */
    char api[PATH_MAX];     /* run/NAME/api.sock (at most 107 bytes: a socket path) */
    char console[PATH_MAX]; /* run/NAME/console.sock */
    char lock[PATH_MAX];    /* run/NAME/lock */
    char pid[PATH_MAX];     /* run/NAME/pid */
};
int vm_paths_get(const struct condo_paths *p, const char *name, struct vm_paths *out,
                 struct error *err);

enum vm_state { VM_STATE_STOPPED, VM_STATE_RUNNING, VM_STATE_PAUSED, VM_STATE_CRASHED };
const char *vm_state_name(enum vm_state s);

/* What `condo ls` knows about one VM without asking it much. */
struct vm_info {
    struct vm_def def;
    enum vm_state state;
    pid_t pid;            /* the VMM, when running or paused */
    char reason[256];     /* for crashed (and how a stopped VM last ended) */
    uint64_t started_ns;  /* CLOCK_REALTIME of the VMM's start, 0 if unknown */
};

/* Load one VM's definition and state; -ENOENT when there is no such VM. */
int vm_info_get(const struct condo_paths *p, const char *name, struct vm_info *out,
                struct error *err);
void vm_info_free(struct vm_info *i);
/* Every VM's name, sorted (malloc'd array of malloc'd strings). */
int vm_list_names(const struct condo_paths *p, char ***names, size_t *n, struct error *err);
void vm_names_free(char **names, size_t n);

/* The building: see src/manager/host.c for the admission rule. */
#define HOST_DEFAULT_OVERCOMMIT 2.0
#define VMM_OVERHEAD_MIB 48 /* a VMM's own memory besides guest RAM (measured: BENCHMARKS.md) */

struct host_info {
    uint64_t mem_total, mem_available; /* bytes */
    unsigned cpus;
    double overcommit;
    uint64_t vmm_overhead; /* bytes per VM */
    uint64_t capacity;     /* what may be promised: mem_total * overcommit */
    uint64_t allocated;    /* promised to running VMs (guest RAM + overhead) */
    uint64_t rss;          /* what running VMs' processes actually hold */
    unsigned vms, running, vcpus;
};
int host_info_get(const struct condo_paths *p, struct host_info *h, struct error *err);
/* 0 if the host can take VM `d` now; -ENOMEM with the numbers if not. */
int host_admit(const struct condo_paths *p, const struct vm_def *d, struct error *err);
/* A process's resident memory and CPU time (user + system), 0 if gone. */
uint64_t proc_rss_bytes(pid_t pid);
uint64_t proc_cpu_ns(pid_t pid);

/* One API request to a VM process (method, path, JSON body or NULL); on
 * 2xx, *reply (if asked) gets the JSON answer or NULL. A refusal becomes
 * the error, with the VMM's fault_message. */
int vmm_call(const char *sock, const char *method, const char *path, json_t *body,
             long timeout_ms, json_t **reply, struct error *err);

/* Start the VM's VMM process (detached, with its monitor) and return once
 * it runs; the error says why it did not. */
int vm_start_process(const struct condo_paths *p, const char *name, pid_t *pid,
                     struct error *err);

#endif
