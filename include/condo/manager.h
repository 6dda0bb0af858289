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
 *         NAME/cpu-share.json               how --cpu-weight was applied
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
    char name[VM_NAME_MAX + 1];
    char dir[PATH_MAX];     /* data/vms/NAME */
    char def[PATH_MAX];     /* .../vm.json */
    char log[PATH_MAX];     /* .../vmm.log */
    char exit[PATH_MAX];    /* .../exit.json */
    char rundir[PATH_MAX];  /* run/NAME */
    char api[PATH_MAX];     /* run/NAME/api.sock (at most 107 bytes: a socket path) */
    char console[PATH_MAX]; /* run/NAME/console.sock */
    char lock[PATH_MAX];    /* run/NAME/lock */
    char pid[PATH_MAX];     /* run/NAME/pid */
    char cpu_share[PATH_MAX]; /* run/NAME/cpu-share.json */
    char snaps[PATH_MAX];   /* data/vms/NAME/snapshots */
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
/* The same, resuming the snapshot file `restore` instead of booting. */
int vm_start_process_from(const struct condo_paths *p, const char *name, const char *restore,
                          pid_t *pid, struct error *err);

/* --- snapshots of named VMs (src/manager/snapstore.c) --- */
#define SNAP_TAG_MAX 48
struct snap_paths {
    char state[PATH_MAX]; /* snapshots/TAG.snap */
    char mem[PATH_MAX];   /* snapshots/TAG.mem: RAM, mapped copy-on-write */
    char meta[PATH_MAX];  /* snapshots/TAG.json */
};
struct snap_info {
    char tag[SNAP_TAG_MAX + 1];
    char parent[SNAP_TAG_MAX + 1]; /* "" for a root */
    int64_t time;                  /* seconds since the epoch */
    uint64_t write_ms;             /* how long the create took (the guest ran meanwhile) */
    uint64_t bytes;                /* state and RAM files, allocated */
};
/* Like a VM name: 1..SNAP_TAG_MAX of [A-Za-z0-9_.-], not starting with
 * '.' or '-'. */
int snap_tag_check(const char *tag, struct error *err);
int snap_paths_get(const struct vm_paths *vp, const char *tag, struct snap_paths *out,
                   struct error *err);
int snap_record(const struct vm_paths *vp, const struct snap_info *s, struct error *err);
/* -ENOENT (with a message) when there is no such snapshot. */
int snap_get(const struct vm_paths *vp, const char *tag, struct snap_info *s,
             struct error *err);
/* Every snapshot, oldest first (malloc'd). */
int snap_list(const struct vm_paths *vp, struct snap_info **out, size_t *n, struct error *err);
/* The tag the VM last took or was restored from; -ENOENT if none. */
int snap_current(const struct vm_paths *vp, char *tag, size_t n);
int snap_set_current(const struct vm_paths *vp, const char *tag);
/* Remove a snapshot's state, RAM and record; its children hang from its
 * parent from then on. Disk layers are kept: later layers and the VM's
 * own disk are built on them. */
int snap_remove(const struct vm_paths *vp, const char *tag, struct error *err);
/* A running VM's disks as it uses them now (GET /vm/config) into its
 * vm.json: after a snapshot froze them, or a restore layered them. */
int vm_sync_disks(const struct condo_paths *p, const char *name, struct error *err);

/* --cpu-weight (see src/manager/cpu_share.c for the mechanisms and the
 * mapping). */
struct cpu_share {
    unsigned weight;     /* 0: not set, nothing applied */
    char mechanism[16];  /* "cgroup-v2", "cgroup-v1", "nice" or "none" */
    char setting[160];   /* in words: "cpu.shares=4096", "nice -6", ... */
    char cgroup[PATH_MAX]; /* the cgroup made for the VMM, if any */
    int nice;            /* the nice value set (mechanism "nice") */
};
/* The nice value whose CFS weight matches `weight` (100 -> 0, 400 -> -6). */
int cpu_share_nice(unsigned weight);
/* cgroup v1 cpu.shares for `weight` (100 -> 1024). */
unsigned cpu_share_v1_shares(unsigned weight);
/* Apply `weight` to the calling process (before it execs the VMM);
 * never fails: the record says what was used. */
int cpu_share_apply(const char *name, unsigned weight, struct cpu_share *out);
int cpu_share_save(const struct cpu_share *s, const char *path);
/* The saved record as JSON (NULL if none). */
json_t *cpu_share_load(const char *path);
/* Remove the VMM's cgroup (it is gone) and the record. */
void cpu_share_release(const char *path);

#endif
