/* The VM process's control API: HTTP/1.1 on a UNIX socket, with the request
 * and response shapes of Firecracker's published API (so tools written for
 * Firecracker can drive condo) plus condo's own routes under /condo/.
 * docs/API.md lists every route, its body and its answers.
 *
 * This module does HTTP, routing and strict JSON validation, and turns each
 * valid request into one typed call, `struct api_call`, on a backend that
 * the VMM implements. It knows nothing about VMs: the backend decides what
 * is allowed in which state and answers with a `struct error`, which the
 * module turns into a status code and {"fault_message": ...}.
 *
 *     static int vmm_api_call(void *opaque, const struct api_call *c,
 *                             struct api_reply *r, struct error *err)
 *     {
 *         // post *c to the VM loop, wait for its answer, return it
 *     }
 *     static const struct api_backend_ops ops = { .call = vmm_api_call };
 *     struct api_server_config cfg = { .socket_path = path, .vmm_version = "0.1.0",
 *                                      .ops = &ops, .opaque = vmm };
 *     struct api_server *srv;
 *     if (api_server_start(&cfg, &srv, &err) < 0) ...
 *     ...
 *     api_server_stop(srv);
 *
 * Threads. api_server_start() starts ONE thread (libmicrohttpd's internal
 * polling thread) which accepts connections, reads requests and calls
 * ops->call() for each valid one, one at a time: calls never overlap, and
 * a call may block as long as it needs (other clients wait, as with
 * Firecracker's single API thread). The thread is started with every
 * signal blocked, so signals keep going to the VMM's own threads. With
 * cfg.external there is no thread: the VMM's I/O thread drives the server
 * from its event loop and the calls run there (the VMM does this, so its
 * process stays single-threaded until the sandbox is up).
 *
 * Ownership. `call` is self-contained (fixed-size strings, no pointers into
 * the request) and valid until ops->call() returns: the backend may copy it
 * by value into a message for its VM loop. `reply` is zeroed by the module
 * and filled by the backend for the GET operations (see enum api_op); its
 * strings are fixed-size arrays too, so nothing has to stay alive after the
 * call returns. Both are large (a call 12 KiB, a reply 91 KiB): keep them
 * off small stacks.
 */
#ifndef CONDO_API_H
#define CONDO_API_H

#include "condo/common.h"
#include "condo/error.h"

/* ---- limits (the module enforces them; each is a 400 when exceeded) ---- */

#define API_ID_MAX 64          /* drive_id, iface_id: 1..63 of [A-Za-z0-9_] */
#define API_PATH_MAX 4096      /* host paths, with the NUL */
#define API_ARGS_MAX 4096      /* boot_args, with the NUL */
#define API_NAME_MAX 128       /* instance id, logger module, partuuid */
#define API_IFNAME_MAX 16      /* host_dev_name (a tap name, IFNAMSIZ) */
#define API_NET_SPEC_MAX 1024  /* a --net spec, with the NUL */
#define API_MAX_DRIVES 16      /* entries in GET /vm/config and /condo/status */
#define API_MAX_NETS 8
#define API_MAX_VCPUS 32       /* Firecracker's range for vcpu_count */
#define API_MAX_MEM_MIB (1ull << 22)     /* 4 TiB */
#define API_MAX_CPU_LIMIT_PCT 102400     /* 1024 cores; the VMM checks its own */
#define API_CPU_WEIGHT_MIN 1
#define API_CPU_WEIGHT_MAX 10000
#define API_CPU_WEIGHT_DEFAULT 100
#define API_STOP_TIMEOUT_DEFAULT 30      /* seconds */
#define API_STOP_TIMEOUT_MAX 86400
#define API_BODY_MAX_DEFAULT 51200       /* bytes; Firecracker's default too */

/* ---- the operations ---- */

/* One per route. "reply" names the member of struct api_reply the backend
 * fills; every other operation answers 204 No Content on success. */
enum api_op {
    API_OP_GET_INSTANCE_INFO = 1, /* GET /                 reply: instance */
    API_OP_GET_MACHINE_CONFIG,    /* GET /machine-config   reply: machine */
    API_OP_PUT_MACHINE_CONFIG,    /* PUT /machine-config   call: machine (every has_* set) */
    API_OP_PATCH_MACHINE_CONFIG,  /* PATCH /machine-config call: machine (at least one has_*) */
    API_OP_PUT_BOOT_SOURCE,       /* PUT /boot-source      call: boot_source */
    API_OP_PUT_DRIVE,             /* PUT /drives/{id}      call: drive */
    API_OP_PATCH_DRIVE,           /* PATCH /drives/{id}    call: drive (path_on_host, rate_limiter) */
    API_OP_PUT_NET,               /* PUT /network-interfaces/{id}   call: net (host_dev_name) */
    API_OP_PATCH_NET,             /* PATCH /network-interfaces/{id} call: net (rate limiters) */
    API_OP_ACTION,                /* PUT /actions          call: action */
    API_OP_PATCH_VM,              /* PATCH /vm             call: vm */
    API_OP_GET_VM_CONFIG,         /* GET /vm/config        reply: vm_config */
    API_OP_SNAPSHOT_CREATE,       /* PUT /snapshot/create  call: snapshot_create */
    API_OP_SNAPSHOT_LOAD,         /* PUT /snapshot/load    call: snapshot_load */
    API_OP_PUT_LOGGER,            /* PUT /logger           call: logger */
    API_OP_PUT_METRICS,           /* PUT /metrics          call: metrics */
    /* condo's own */
    API_OP_CONDO_STATUS,          /* GET /condo/status     reply: status */
    API_OP_CONDO_NET,             /* PUT /condo/net[/{id}] call: net (spec) */
    API_OP_CONDO_PUT_CPU_LIMIT,   /* PUT /condo/cpu-limit  call: cpu_limit (both has_* set) */
    API_OP_CONDO_PATCH_CPU_LIMIT, /* PATCH /condo/cpu-limit call: cpu_limit (at least one) */
    API_OP_CONDO_STOP,            /* PUT /condo/stop       call: stop */
    /* the balloon (Firecracker's shapes) */
    API_OP_GET_BALLOON,           /* GET /balloon          reply: balloon */
    API_OP_PUT_BALLOON,           /* PUT /balloon          call: balloon (before start) */
    API_OP_PATCH_BALLOON,         /* PATCH /balloon        call: balloon (amount_mib) */
    API_OP_GET_BALLOON_STATS,     /* GET /balloon/statistics   reply: balloon_stats */
    API_OP_PATCH_BALLOON_STATS,   /* PATCH /balloon/statistics call: balloon
                                     (has_stats_polling_interval_s) */
    API_OP_COUNT_
};

/* "PUT /drives/{id}": for logs and messages. */
const char *api_op_name(enum api_op op);

/* ---- the typed bodies. An optional field `x` comes with `bool has_x`. ---- */

/* Firecracker's TokenBucket: `size` tokens, refilled in `refill_time`
 * milliseconds; size 0 or refill_time 0 means "no limit" (as in
 * Firecracker). */
struct api_token_bucket {
    uint64_t size;
    uint64_t refill_time; /* milliseconds */
    bool has_one_time_burst;
    uint64_t one_time_burst; /* extra tokens available once, at start */
};

/* Tokens per second of a bucket, as condo's rate limiter takes it
 * (struct rate_limit_config: bps from bandwidth, iops from ops); 0 = no
 * limit. Saturates instead of overflowing. */
uint64_t api_token_bucket_rate(const struct api_token_bucket *b);

/* In a PATCH, an absent bucket leaves that bucket as it is. */
struct api_rate_limiter {
    bool has_bandwidth; /* bytes */
    struct api_token_bucket bandwidth;
    bool has_ops;       /* operations */
    struct api_token_bucket ops;
};

enum api_huge_pages { API_HUGE_PAGES_NONE, API_HUGE_PAGES_TRANSPARENT, API_HUGE_PAGES_2M };
/* Firecracker's (x86/arm) static CPU templates: only NONE means anything here. */
enum api_cpu_template {
    API_CPU_TEMPLATE_NONE, API_CPU_TEMPLATE_C3, API_CPU_TEMPLATE_T2, API_CPU_TEMPLATE_T2S,
    API_CPU_TEMPLATE_T2CL, API_CPU_TEMPLATE_T2A, API_CPU_TEMPLATE_V1N1,
};

struct api_machine_config {
    bool has_vcpu_count;
    uint64_t vcpu_count;   /* 1..API_MAX_VCPUS */
    bool has_mem_size_mib;
    uint64_t mem_size_mib; /* 1..API_MAX_MEM_MIB */
    bool has_smt;
    bool smt;
    bool has_track_dirty_pages;
    bool track_dirty_pages;
    bool has_huge_pages;
    enum api_huge_pages huge_pages;
    bool has_cpu_template;
    enum api_cpu_template cpu_template;
};

struct api_boot_source {
    char kernel_image_path[API_PATH_MAX]; /* non-empty */
    bool has_initrd_path;
    char initrd_path[API_PATH_MAX];
    bool has_boot_args; /* absent: the VMM's default command line */
    char boot_args[API_ARGS_MAX];
};

enum api_cache_type { API_CACHE_UNSAFE, API_CACHE_WRITEBACK };
enum api_io_engine { API_IO_ENGINE_SYNC, API_IO_ENGINE_ASYNC };

/* PUT /drives/{id}: drive_id, path_on_host and is_root_device are always
 * there. PATCH: drive_id plus has_path_on_host and/or has_rate_limiter. */
struct api_drive {
    char drive_id[API_ID_MAX];
    bool has_path_on_host;
    char path_on_host[API_PATH_MAX];
    bool is_root_device;
    bool has_is_read_only;
    bool is_read_only;
    bool has_partuuid;
    char partuuid[API_NAME_MAX];
    bool has_cache_type;
    enum api_cache_type cache_type;
    bool has_io_engine;
    enum api_io_engine io_engine;
    bool has_rate_limiter;
    struct api_rate_limiter rate_limiter;
};

/* One guest network card. PUT /network-interfaces/{id}: a host tap device
 * (has_host_dev_name). PUT /condo/net: a `condo run --net` spec such as
 * "user,hostfwd=tcp::8080-:80" or "switch,name=lan" (has_spec). PATCH
 * /network-interfaces/{id}: the rate limiters only. */
struct api_net {
    char iface_id[API_ID_MAX];
    bool has_host_dev_name;
    char host_dev_name[API_IFNAME_MAX];
    bool has_spec;
    char spec[API_NET_SPEC_MAX];
    bool has_guest_mac;
    uint8_t guest_mac[6];
    bool has_mtu;
    uint64_t mtu; /* 68..65535 */
    bool has_rx_rate_limiter;
    struct api_rate_limiter rx_rate_limiter;
    bool has_tx_rate_limiter;
    struct api_rate_limiter tx_rate_limiter;
};

enum api_action {
    API_ACTION_INSTANCE_START,
    API_ACTION_SEND_CTRL_ALT_DEL, /* condo: ask the guest to power off */
    API_ACTION_FLUSH_METRICS,
};

enum api_vm_request { API_VM_PAUSE, API_VM_RESUME };

enum api_snapshot_type { API_SNAPSHOT_FULL, API_SNAPSHOT_DIFF };

struct api_snapshot_create {
    enum api_snapshot_type snapshot_type; /* default FULL */
    char snapshot_path[API_PATH_MAX];
    bool has_mem_file_path; /* absent: RAM goes into the snapshot file (condo) */
    char mem_file_path[API_PATH_MAX];
};

enum api_mem_backend {
    API_MEM_BACKEND_NONE, /* RAM is in the snapshot file (condo) */
    API_MEM_BACKEND_FILE, /* mem_backend File, or the deprecated mem_file_path */
    API_MEM_BACKEND_UFFD,
};
enum api_snapshot_huge_pages {
    API_SNAPSHOT_HUGE_PAGES_SNAPSHOT, /* as saved (the default) */
    API_SNAPSHOT_HUGE_PAGES_NONE,
    API_SNAPSHOT_HUGE_PAGES_TRANSPARENT,
    API_SNAPSHOT_HUGE_PAGES_2M,
};

struct api_net_override {
    char iface_id[API_ID_MAX];
    char host_dev_name[API_IFNAME_MAX];
};

struct api_snapshot_load {
    char snapshot_path[API_PATH_MAX];
    enum api_mem_backend mem_backend;
    char mem_path[API_PATH_MAX]; /* for FILE and UFFD */
    bool track_dirty_pages;      /* also set by the deprecated enable_diff_snapshots */
    bool resume_vm;
    bool clock_realtime;
    enum api_snapshot_huge_pages huge_pages;
    unsigned n_network_overrides;
    struct api_net_override network_overrides[API_MAX_NETS];
};

enum api_log_level {
    API_LOG_ERROR, API_LOG_WARNING, API_LOG_INFO, API_LOG_DEBUG, API_LOG_TRACE, API_LOG_OFF,
};

struct api_logger {
    bool has_log_path;
    char log_path[API_PATH_MAX];
    bool has_level;
    enum api_log_level level;
    bool has_show_level;
    bool show_level;
    bool has_show_log_origin;
    bool show_log_origin;
    bool has_module;
    char module[API_NAME_MAX];
};

struct api_metrics {
    char metrics_path[API_PATH_MAX];
    bool has_emit_id;
    bool emit_id;
};

/* CPU allocation (condo): cpu_limit_pct caps host CPU (100 = one core,
 * 0 = no cap); cpu_weight is the share under contention. PUT sets both
 * (absent fields take 0 and API_CPU_WEIGHT_DEFAULT); PATCH sets those given. */
struct api_cpu_limit {
    bool has_cpu_limit_pct;
    uint64_t cpu_limit_pct; /* 0..API_MAX_CPU_LIMIT_PCT */
    bool has_cpu_weight;
    uint64_t cpu_weight;    /* API_CPU_WEIGHT_MIN..MAX */
};

/* PUT /condo/stop: ask the guest to power off, wait timeout_s, then force;
 * force = stop at once. An empty body takes the defaults. */
struct api_stop {
    uint64_t timeout_s; /* 0..API_STOP_TIMEOUT_MAX, default 30 */
    bool force;
};

/* Firecracker's Balloon: amount_mib and deflate_on_oom always (PUT);
 * PATCH /balloon carries amount_mib only, PATCH /balloon/statistics the
 * interval only. */
#define API_BALLOON_STATS_INTERVAL_MAX 65535 /* a u16 in Firecracker */
struct api_balloon {
    uint64_t amount_mib;
    bool deflate_on_oom;
    bool has_stats_polling_interval_s;
    uint64_t stats_polling_interval_s;
    bool has_free_page_hinting;
    bool free_page_hinting;
    bool has_free_page_reporting;
    bool free_page_reporting;
};

/* One request, parsed and validated. Only the member named for `op` in
 * enum api_op is meaningful. */
struct api_call {
    enum api_op op;
    union {
        struct api_machine_config machine;
        struct api_boot_source boot_source;
        struct api_drive drive;
        struct api_net net;
        enum api_action action;
        enum api_vm_request vm;
        struct api_snapshot_create snapshot_create;
        struct api_snapshot_load snapshot_load;
        struct api_logger logger;
        struct api_metrics metrics;
        struct api_cpu_limit cpu_limit;
        struct api_stop stop;
        struct api_balloon balloon;
    };
};

/* ---- what the backend answers to GETs ---- */

enum api_vm_state { API_VM_NOT_STARTED, API_VM_RUNNING, API_VM_PAUSED };

struct api_instance_info {
    char id[API_NAME_MAX]; /* the VM's name; empty: "anonymous-instance" */
    enum api_vm_state state;
};

/* GET /vm/config: the configuration as it stands (drives and nets as the
 * PUTs made them; machine with every has_* set). */
struct api_vm_config {
    struct api_machine_config machine;
    bool has_boot_source;
    struct api_boot_source boot_source;
    unsigned n_drives;
    struct api_drive drives[API_MAX_DRIVES];
    unsigned n_nets; /* tap cards (has_host_dev_name) and condo nets (has_spec) */
    struct api_net nets[API_MAX_NETS];
    struct api_cpu_limit cpu_limit;
    bool has_balloon; /* false: "balloon": null */
    struct api_balloon balloon;
};

struct api_disk_stats {
    char drive_id[API_ID_MAX];
    uint64_t read_bytes, write_bytes, read_ops, write_ops, flush_ops;
};

struct api_nic_stats {
    char iface_id[API_ID_MAX];
    uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets, rx_dropped, tx_dropped;
};

/* GET /condo/status. The backend fills the VM's figures; the module adds
 * the process's own (pid, rss_bytes, cpu_user_ms, cpu_system_ms) itself. */
struct api_status {
    char id[API_NAME_MAX];
    enum api_vm_state state;
    uint64_t uptime_ms; /* since InstanceStart (0 before) */
    uint64_t vcpus;
    uint64_t mem_size_mib;
    uint64_t cpu_limit_pct, cpu_weight;
    unsigned n_disks;
    struct api_disk_stats disks[API_MAX_DRIVES];
    unsigned n_nics;
    struct api_nic_stats nics[API_MAX_NETS];
    /* memory given back to the host: by the balloon (has_balloon), by
     * idle vCPUs (their engine caches) and by idle scans (zero pages) */
    bool has_balloon;
    uint64_t balloon_reported_bytes, balloon_inflated_pages, balloon_deflated_pages;
    uint64_t idle_cache_bytes, idle_zero_bytes;
    /* filled by the module */
    int64_t pid;
    uint64_t rss_bytes;
    uint64_t cpu_user_ms, cpu_system_ms;
};

/* GET /balloon/statistics: stats[t] for the virtio statistics tag t
 * (0 swap_in ... 15 direct_reclaim), present where bit t is set. */
#define API_BALLOON_STATS 16
struct api_balloon_stats {
    uint64_t target_pages, actual_pages, target_mib, actual_mib;
    uint32_t present;
    uint64_t stats[API_BALLOON_STATS];
};

struct api_reply {
    union {
        struct api_balloon balloon;
        struct api_balloon_stats balloon_stats;
        struct api_instance_info instance;
        struct api_machine_config machine;
        struct api_vm_config vm_config;
        struct api_status status;
    };
};

/* ---- the backend the VMM implements ---- */

struct api_backend_ops {
    /* Carry out one call; may block until it is done (runs on the API
     * thread, never two at once). Returns 0, or a negative errno with `err`
     * set: the message becomes the fault_message, the class of the code
     * (error_class_of) the status: input 400; state 400 on Firecracker's
     * routes and 409 on /condo/ ones; resource 507; I/O and internal 500.
     * Must return even while the VMM shuts down (answer -ESHUTDOWN). */
    int (*call)(void *opaque, const struct api_call *call, struct api_reply *reply,
                struct error *err);
};

struct api_server_config {
    const char *socket_path;  /* created 0600; must not be in use */
    const char *vmm_version;  /* GET / and GET /version; NULL: "unknown" */
    const struct api_backend_ops *ops;
    void *opaque;
    size_t body_max;          /* 0: API_BODY_MAX_DEFAULT */
    unsigned max_connections; /* 0: 16 */
    unsigned idle_timeout_s;  /* idle connections closed after; 0: 60 */
    /* No thread: the caller's event loop watches api_server_poll_fd() and
     * calls api_server_run() when it is readable (and at least every
     * api_server_timeout_ms()); backend calls then run on the caller's
     * thread, inside api_server_run(). */
    bool external;
};

struct api_server;

/* Creates the socket (refusing a path where something answers, replacing a
 * stale socket, never replacing any other file), starts the API thread.
 * 0, or a negative errno with `err` set. */
int api_server_start(const struct api_server_config *cfg, struct api_server **out,
                     struct error *err);

/* Stops accepting, lets requests in progress finish (briefly), answers any
 * that arrive meanwhile with 503, joins the thread and removes the socket
 * file (if it is still ours). The backend must let a call in progress
 * return (see ops->call), or this waits for it. NULL is a no-op. */
void api_server_stop(struct api_server *s);

/* External mode (cfg.external): the descriptor to poll for POLLIN (-1 in
 * thread mode), the work to do when it is ready (accepting, reading,
 * calling the backend, answering), and how soon api_server_run() must run
 * again even if nothing is ready (idle timeouts; -1: no need, at most
 * 1000). */
int api_server_poll_fd(const struct api_server *s);
void api_server_run(struct api_server *s);
int api_server_timeout_ms(struct api_server *s);

/* The request handler without the HTTP: routes METHOD and PATH, validates
 * BODY (len bytes, need not be NUL-terminated; len 0 = no body), calls the
 * backend and sets *status and *body (malloc'd JSON, or NULL for 204).
 * Used by the server, the unit tests and the fuzz target. */
void api_handle(const struct api_server_config *cfg, const char *method, const char *path,
                const char *body, size_t len, int *status, char **resp_body);

#endif
