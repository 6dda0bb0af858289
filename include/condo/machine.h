/* The machine interface: what a board offers the VM loop, and what the VM
 * loop offers a board. The loop (src/vmm/vm.c) drives any board through
 * `struct machine_ops` and never includes a board's header; a board never
 * knows how the VMM schedules its CPUs. Lives in core, below both.
 *
 * Threads and locking. Each virtual CPU runs on a host thread of its own
 * (run, cpu_tick and the wait between them). Everything else - the event
 * loop with its backends, the console, the API - runs on the VMM's I/O
 * thread. Device state is shared: the board serialises every device access
 * with `env->lock` (the machine lock), which the CPU threads take around
 * MMIO and the I/O thread holds while event-loop callbacks run. Guest RAM
 * is not under the lock. */
#ifndef CONDO_MACHINE_H
#define CONDO_MACHINE_H

#include <pthread.h>

#include "condo/chardev.h"
#include "condo/error.h"
#include "condo/state.h"

#define VM_MAX_DISKS 8
#define VM_MAX_NETS 4
#define VM_MAX_CPUS 8

/* --disk FILE[,ro][,format=raw|qcow2][,backing=PATH|none][,iops=N][,bps=N] */
struct vm_disk_config {
    const char *path;
    bool read_only;
    int format; /* enum block_format */
    const char *backing; /* NULL: the image's own, under the backing rule */
    uint64_t iops, bps; /* 0 = unlimited */
};

/* --balloon: the virtio-balloon device (docs/BALLOON.md). */
struct vm_balloon_config {
    bool enabled;
    bool reporting;           /* free page reporting */
    bool deflate_on_oom;
    unsigned stats_interval_s; /* 0: no statistics */
    uint64_t amount_mib;      /* the initial target */
};

/* The hardware part of a VM's definition: what the board is built from. */
struct machine_config {
    unsigned cpus;
    uint64_t memory;   /* bytes */
    const char *bios;  /* firmware; unused when bare_metal */
    const char *kernel;
    const char *initrd; /* may be NULL */
    const char *append; /* kernel command line */
    bool bare_metal;    /* kernel is an ELF program started in M-mode */
    struct vm_disk_config disks[VM_MAX_DISKS];
    unsigned ndisks;
    const char *nets[VM_MAX_NETS]; /* --net specs, parsed by the backend */
    unsigned nnets;
    struct vm_balloon_config balloon;
};

struct event_loop;
struct guest_ram;

/* What the VMM gives the board. */
struct machine_env {
    pthread_mutex_t *lock;   /* the machine lock (see above) */
    struct event_loop *loop; /* the I/O thread's loop: backends register here */
    struct chardev console;  /* where the serial console's output goes */
    /* Something for CPU `cpu` changed (an interrupt became pending, a timer
     * moved): wake its thread if it waits (the board itself ends a running
     * slice). Any thread, with or without the machine lock. */
    void (*kick_cpu)(void *opaque, unsigned cpu);
    /* The console input side has room again (the guest read its FIFO). */
    void (*console_room)(void *opaque);
    void *opaque;
    /* A snapshot is restored over the new machine before any CPU runs:
     * the board need not load its boot images (RAM and every CPU's state
     * are about to be replaced); a later reset loads them as usual. */
    bool restoring;
};

/* Why a CPU stopped running. */
enum machine_run {
    MACHINE_RUN_BUDGET = 0, /* its slice is used up */
    MACHINE_RUN_WAIT,       /* it waits for an interrupt (WFI) */
    MACHINE_RUN_EXIT,       /* the machine wants attention: see exit_reason */
};

/* What the guest asked for when a CPU returned MACHINE_RUN_EXIT. */
enum machine_exit_kind {
    MACHINE_EXIT_NONE = 0,
    MACHINE_EXIT_POWEROFF, /* powered off (code 0) */
    MACHINE_EXIT_FAIL,     /* powered off reporting failure `code` */
    MACHINE_EXIT_RESET,    /* reboot */
    MACHINE_EXIT_TEST,     /* bare-metal program finished: `code` 0 = pass */
    MACHINE_EXIT_FAULT,    /* the emulated CPU cannot go on */
};

struct machine_exit {
    enum machine_exit_kind kind;
    int code;
    char detail[128]; /* for faults: where (pc, ...) */
};

/* Live figures for `condo top` and the API. */
struct machine_disk_stats {
    uint64_t read_bytes, write_bytes, read_ops, write_ops, flush_ops;
};
struct machine_nic_stats {
    uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets, rx_dropped, tx_dropped;
};
struct machine_stats {
    uint64_t instret; /* instructions retired, all CPUs */
    unsigned ndisks, nnics; /* in the order of machine_config's disks and nets */
    struct machine_disk_stats disks[VM_MAX_DISKS];
    struct machine_nic_stats nics[VM_MAX_NETS];
};

/* The balloon as the API shows it (GET /balloon, /balloon/statistics).
 * stats[] is indexed by the virtio statistics tag (0..15), valid where
 * the bit in stats_present is set. */
#define MACHINE_BALLOON_STATS 16
struct machine_balloon_info {
    uint32_t target_pages, actual_pages; /* 4 KiB pages */
    unsigned stats_interval_s;
    uint32_t stats_present;
    uint64_t stats[MACHINE_BALLOON_STATS];
    uint64_t inflated_pages, deflated_pages, reported_bytes;
};

struct rate_limit_config;

/* The head of every board's machine struct. */
struct machine {
    const struct machine_ops *ops;
};

struct machine_ops {
    const char *name; /* "riscv-virt" */
    const char *arch; /* "riscv64" */
    /* Build the machine from cfg: RAM, devices, backends, images; ready to
     * run from reset. All input is checked here (errors name the option
     * and what to do). */
    int (*create)(const struct machine_config *cfg, const struct machine_env *env,
                  struct machine **out, struct error *err);
    void (*destroy)(struct machine *m);
    /* Power-cycle: devices, CPUs, images reloaded (a guest reboot). CPU
     * threads must be stopped. */
    int (*reset)(struct machine *m, struct error *err);
    unsigned (*ncpus)(const struct machine *m);

    /* --- on CPU `cpu`'s own thread --- */
    /* Run at most about `budget` instructions. */
    enum machine_run (*run)(struct machine *m, unsigned cpu, uint64_t budget);
    /* Let this CPU's timers catch up; returns the host monotonic time (ns)
     * of its next timer deadline, UINT64_MAX if none. Takes the lock. */
    uint64_t (*cpu_tick)(struct machine *m, unsigned cpu);
    /* The CPU is idle: give its engine caches' memory back (decoded and
     * compiled code, rebuilt as needed). Returns the bytes they held; 0
     * when nothing was done. May be NULL. */
    size_t (*cpu_trim)(struct machine *m, unsigned cpu);
    /* True when a wait (WFI) should end: an interrupt is pending. */
    bool (*cpu_wakeup)(const struct machine *m, unsigned cpu);
    /* Ask a running CPU to leave run() soon (any thread). */
    void (*cpu_interrupt)(struct machine *m, unsigned cpu);
    /* After MACHINE_RUN_EXIT: what happened (under the lock). */
    void (*exit_reason)(struct machine *m, struct machine_exit *out);

    /* --- on the I/O thread, with the lock held --- */
    /* Device timers (RTC alarm, rate-limited queues): run what is due;
     * returns the host monotonic time (ns) of the next deadline. */
    uint64_t (*io_tick)(struct machine *m);
    /* Serial console input: room in the UART, and bytes into it. */
    size_t (*console_room)(struct machine *m);
    size_t (*console_input)(struct machine *m, const uint8_t *buf, size_t len);
    /* The guest's buttons: press and release the power button (a guest
     * that handles it shuts down cleanly), or Ctrl+Alt+Del (the guest's
     * init decides: condo's default guest powers off). 0 when the guest's
     * driver took the key events; a negative errno, with the reason in
     * err, when they could not be delivered (-ENODEV: no driver has set up
     * the device yet, or the machine has none; -ENOSPC: the driver is not
     * taking events; -EIO: its queue is malformed): the caller may then
     * force the VM off. Delivered does not mean acted on: wait for the
     * power-off with a timeout. */
    int (*power_button)(struct machine *m, struct error *err);
    int (*ctrl_alt_del)(struct machine *m, struct error *err);
    void (*stats)(const struct machine *m, struct machine_stats *out);

    /* --- with every CPU stopped and the lock held --- */
    /* Wait until no device has work in flight on other threads (disk
     * requests), completing it: afterwards the machine's state is all in
     * the machine (pause, before a snapshot). 0 or a negative errno. May be
     * NULL (nothing is ever in flight). */
    int (*drain)(struct machine *m);
    /* Whole machine state (CPUs, devices; not RAM) as one stream, and back.
     * load validates everything before it changes anything. */
    int (*save)(struct machine *m, struct state_buf *s, struct error *err);
    int (*load)(struct machine *m, struct state_buf *s, struct error *err);
    /* Guest RAM, for snapshots (saved and restored whole, CPUs stopped). */
    struct guest_ram *(*ram)(struct machine *m);
    /* A new rate limit for disk `disk` (machine_config order) while the
     * guest runs; NULL: none. Machine lock held. -ENODEV: no such disk. */
    int (*disk_set_limit)(struct machine *m, unsigned disk, const struct rate_limit_config *rl,
                          struct error *err);
    /* Snapshots (CPUs stopped, drained, lock held): the image on top of
     * disk `disk` (its path; "" if none) and whether it is read-only; and
     * freeze it (block_freeze: it becomes read-only, a new qcow2 overlay
     * written into overlay_fd, open read-write at overlay_path, takes the
     * writes). overlay_fd is taken over. May be NULL. */
    const char *(*disk_top)(const struct machine *m, unsigned disk, bool *read_only);
    int (*disk_freeze)(struct machine *m, unsigned disk, int overlay_fd, const char *overlay_path,
                       struct error *err);
    /* After a restore, before the CPUs run: the machine is a new
     * generation of the one saved (a restore, a clone). The VM generation
     * ID device gets a new ID and interrupts; id (16 bytes, may be NULL)
     * gets it. May be NULL (the guest is not told). */
    void (*new_generation)(struct machine *m, uint8_t *id);
    /* The balloon, machine lock held; -ENODEV when the machine has none.
     * A new target in 4 KiB pages (-EINVAL beyond RAM); a new statistics
     * interval (-EINVAL when statistics were not enabled, or 0). */
    int (*balloon_info)(struct machine *m, struct machine_balloon_info *out, struct error *err);
    int (*balloon_set_target)(struct machine *m, uint64_t pages, struct error *err);
    int (*balloon_set_stats_interval)(struct machine *m, unsigned secs, struct error *err);
};

#endif
