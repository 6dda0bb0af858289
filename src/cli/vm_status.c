/* condo ls, top, host: what runs, what it uses, what the building has. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/vm_common.h"

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fmt_duration(char *out, size_t n, uint64_t secs) /* n >= 24 */
{
    if (secs < 120)
        snprintf(out, n, "%llus", (unsigned long long)secs);
    else if (secs < 7200)
        snprintf(out, n, "%llum", (unsigned long long)(secs / 60));
    else if (secs < 172800)
        snprintf(out, n, "%lluh", (unsigned long long)(secs / 3600));
    else
        snprintf(out, n, "%llud", (unsigned long long)(secs / 86400));
}

struct row {
    char name[VM_NAME_MAX + 1];
    enum vm_state state;
    pid_t pid;
    unsigned cpus;
    uint64_t memory, rss, cpu_ns, uptime_s;
    double cpu_pct; /* since start (ls) or over the interval (top) */
    char reason[256];
    json_t *live;   /* GET /condo/status, when asked */
};

static int collect(const struct condo_paths *p, struct row **rows, size_t *n, bool live,
                   struct error *err)
{
    char **names;
    size_t count;
    int r = vm_list_names(p, &names, &count, err);
    if (r)
        return r;
    *rows = calloc(count ? count : 1, sizeof(**rows));
    if (!*rows) {
        vm_names_free(names, count);
        return error_set(err, -ENOMEM, "out of memory");
    }
    *n = 0;
    uint64_t now = realtime_ns();
    for (size_t i = 0; i < count; i++) {
        struct vm_info vi;
        struct vm_paths vp;
        if (vm_info_get(p, names[i], &vi, NULL) < 0 || vm_paths_get(p, names[i], &vp, NULL) < 0) {
            vm_info_free(&vi);
            continue;
        }
        cli_vm_refine_state(&vp, &vi);
        struct row *w = &(*rows)[(*n)++];
        snprintf(w->name, sizeof(w->name), "%s", names[i]);
        w->state = vi.state;
        w->pid = vi.pid;
        w->cpus = vi.def.cfg.hw.cpus;
        w->memory = vi.def.cfg.hw.memory;
        snprintf(w->reason, sizeof(w->reason), "%s", vi.reason);
        if (vi.pid > 0 && (vi.state == VM_STATE_RUNNING || vi.state == VM_STATE_PAUSED)) {
            w->rss = proc_rss_bytes(vi.pid);
            w->cpu_ns = proc_cpu_ns(vi.pid);
            if (vi.started_ns && now > vi.started_ns) {
                w->uptime_s = (now - vi.started_ns) / 1000000000ull;
                w->cpu_pct = 100.0 * (double)w->cpu_ns / (double)(now - vi.started_ns);
            }
            if (live)
                vmm_call(vp.api, "GET", "/condo/status", NULL, 2000, &w->live, NULL);
        }
        vm_info_free(&vi);
    }
    vm_names_free(names, count);
    return 0;
}

static void free_rows(struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(rows[i].live);
    free(rows);
}

static bool live_state(enum vm_state s)
{
    return s == VM_STATE_RUNNING || s == VM_STATE_PAUSED;
}

int cli_vm_ls(int argc, char **argv)
{
    static const struct option opts[] = { { "json", no_argument, 0, 'j' },
                                          { "help", no_argument, 0, 'h' },
                                          { 0, 0, 0, 0 } };
    bool as_json = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (c == 'j') {
            as_json = true;
        } else if (c == 'h') {
            printf("usage: condo ls [--json]\n\nEvery named VM: NAME STATE CPUS MEMORY CPU%% "
                   "RSS UPTIME\n(CPU%%: average share of one host core since start).\n");
            return 0;
        } else {
            fprintf(stderr, "usage: condo ls [--json]\n");
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "usage: condo ls [--json]\n");
        return CLI_USAGE;
    }
    struct condo_paths p;
    struct error err = ERROR_INIT;
    struct row *rows = NULL;
    size_t n = 0;
    if (condo_paths_get(&p, false, &err) < 0 || collect(&p, &rows, &n, false, &err) < 0)
        return cli_vm_fail(&err);
    if (as_json) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++) {
            struct row *w = &rows[i];
            bool on = live_state(w->state);
            json_t *o = json_pack("{s:s, s:s, s:i, s:I}", "name", w->name, "state",
                                  vm_state_name(w->state), "cpus", (int)w->cpus, "memory_mib",
                                  (json_int_t)(w->memory >> 20));
            json_object_set_new(o, "pid", on && w->pid ? json_integer(w->pid) : json_null());
            json_object_set_new(o, "cpu_percent", on ? json_real(w->cpu_pct) : json_null());
            json_object_set_new(o, "rss_mib", on ? json_integer((json_int_t)(w->rss >> 20))
                                                 : json_null());
            json_object_set_new(o, "uptime_s", on ? json_integer((json_int_t)w->uptime_s)
                                                  : json_null());
            json_object_set_new(o, "reason", w->reason[0] ? json_string(w->reason) : json_null());
            json_array_append_new(a, o);
        }
        char *t = json_dumps(a, JSON_INDENT(2));
        printf("%s\n", t ? t : "[]");
        free(t);
        json_decref(a);
    } else {
        printf("%-20s %-8s %4s %7s %6s %7s %7s\n", "NAME", "STATE", "CPUS", "MEMORY", "CPU%",
               "RSS", "UPTIME");
        for (size_t i = 0; i < n; i++) {
            struct row *w = &rows[i];
            char mem[24], cpu[24] = "-", rss[24] = "-", up[24] = "-";
            snprintf(mem, sizeof(mem), "%lluM", (unsigned long long)(w->memory >> 20));
            if (live_state(w->state)) {
                snprintf(cpu, sizeof(cpu), "%.1f", w->cpu_pct);
                snprintf(rss, sizeof(rss), "%lluM", (unsigned long long)(w->rss >> 20));
                fmt_duration(up, sizeof(up), w->uptime_s);
            }
            printf("%-20s %-8s %4u %7s %6s %7s %7s", w->name, vm_state_name(w->state), w->cpus,
                   mem, cpu, rss, up);
            if (w->state == VM_STATE_CRASHED && w->reason[0])
                printf("  (%s)", w->reason);
            printf("\n");
        }
    }
    free_rows(rows, n);
    return 0;
}

/* Sum of a counter over the live status's "drives" or "nets" arrays. */
static uint64_t sum_counter(const json_t *live, const char *list, const char *key)
{
    uint64_t s = 0;
    const json_t *a = json_object_get(live, list);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *v = json_object_get(json_array_get(a, i), key);
        if (json_is_integer(v) && json_integer_value(v) > 0)
            s += (uint64_t)json_integer_value(v);
    }
    return s;
}

int cli_vm_top(int argc, char **argv)
{
    static const struct option opts[] = { { "once", no_argument, 0, 'o' },
                                          { "json", no_argument, 0, 'j' },
                                          { "interval", required_argument, 0, 'i' },
                                          { "help", no_argument, 0, 'h' },
                                          { 0, 0, 0, 0 } };
    bool once = false, as_json = false;
    double interval = 1.0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "oji:h", opts, NULL)) != -1) {
        if (c == 'o') {
            once = true;
        } else if (c == 'j') {
            as_json = true;
            once = true;
        } else if (c == 'i') {
            interval = strtod(optarg, NULL);
            if (interval < 0.1 || interval > 3600) {
                fprintf(stderr, "condo: --interval wants 0.1 to 3600 seconds\n");
                return CLI_USAGE;
            }
        } else if (c == 'h') {
            printf("usage: condo top [--once] [--json] [--interval S]\n\nPer running VM, "
                   "measured over the interval (default 1 s): host CPU %%,\nresident memory, "
                   "disk and network rates.\n");
            return 0;
        } else {
            fprintf(stderr, "usage: condo top [--once] [--json] [--interval S]\n");
            return CLI_USAGE;
        }
    }
    struct condo_paths p;
    struct error err = ERROR_INIT;
    if (condo_paths_get(&p, false, &err) < 0)
        return cli_vm_fail(&err);
    for (;;) {
        struct row *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        if (collect(&p, &a, &na, true, &err) < 0)
            return cli_vm_fail(&err);
        uint64_t t0 = condo_clock_ns();
        usleep((useconds_t)(interval * 1e6));
        if (collect(&p, &b, &nb, true, &err) < 0) {
            free_rows(a, na);
            return cli_vm_fail(&err);
        }
        double dt = (double)(condo_clock_ns() - t0) / 1e9;
        json_t *arr = json_array();
        if (!as_json) {
            if (!once)
                printf("\033[H\033[2J");
            printf("%-20s %-8s %6s %7s %10s %10s %10s %10s\n", "NAME", "STATE", "CPU%", "RSS",
                   "DISK-RD/s", "DISK-WR/s", "NET-RX/s", "NET-TX/s");
        }
        for (size_t i = 0; i < nb; i++) {
            struct row *w = &b[i];
            if (!live_state(w->state))
                continue;
            struct row *prev = NULL;
            for (size_t k = 0; k < na; k++)
                if (!strcmp(a[k].name, w->name) && a[k].pid == w->pid)
                    prev = &a[k];
            double cpu = prev ? 100.0 * (double)(w->cpu_ns - prev->cpu_ns) / 1e9 / dt : 0;
            double rates[4] = { 0 };
            static const char *const keys[4][2] = { { "drives", "read_bytes" },
                                                    { "drives", "write_bytes" },
                                                    { "nets", "rx_bytes" },
                                                    { "nets", "tx_bytes" } };
            for (int k = 0; k < 4; k++)
                if (prev && prev->live && w->live)
                    rates[k] = (double)(sum_counter(w->live, keys[k][0], keys[k][1]) -
                                        sum_counter(prev->live, keys[k][0], keys[k][1])) / dt;
            if (as_json) {
                json_array_append_new(
                    arr, json_pack("{s:s, s:s, s:i, s:f, s:I, s:f, s:f, s:f, s:f}", "name",
                                   w->name, "state", vm_state_name(w->state), "pid", (int)w->pid,
                                   "cpu_percent", cpu, "rss_bytes", (json_int_t)w->rss,
                                   "disk_read_bps", rates[0], "disk_write_bps", rates[1],
                                   "net_rx_bps", rates[2], "net_tx_bps", rates[3]));
            } else {
                printf("%-20s %-8s %6.1f %6lluM %10.0f %10.0f %10.0f %10.0f\n", w->name,
                       vm_state_name(w->state), cpu, (unsigned long long)(w->rss >> 20),
                       rates[0], rates[1], rates[2], rates[3]);
            }
        }
        if (as_json) {
            char *t = json_dumps(arr, JSON_INDENT(2));
            printf("%s\n", t ? t : "[]");
            free(t);
        }
        json_decref(arr);
        fflush(stdout);
        free_rows(a, na);
        free_rows(b, nb);
        if (once)
            return 0;
    }
}

int cli_vm_host(int argc, char **argv)
{
    bool as_json = argc > 1 && !strcmp(argv[1], "--json");
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: condo host [--json]\n\nThe building: host capacity, what running VMs "
               "were given, what is free,\nand the memory overcommit policy.\n");
        return 0;
    }
    if (argc > 2 || (argc == 2 && !as_json)) {
        fprintf(stderr, "usage: condo host [--json]\n");
        return CLI_USAGE;
    }
    struct condo_paths p;
    struct host_info h;
    struct error err = ERROR_INIT;
    if (condo_paths_get(&p, false, &err) < 0 || host_info_get(&p, &h, &err) < 0)
        return cli_vm_fail(&err);
    uint64_t free_b = h.capacity > h.allocated ? h.capacity - h.allocated : 0;
    if (as_json) {
        json_t *o = json_pack(
            "{s:I, s:I, s:i, s:f, s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:i}", "memory_total_mib",
            (json_int_t)(h.mem_total >> 20), "memory_available_mib",
            (json_int_t)(h.mem_available >> 20), "cpus", (int)h.cpus, "memory_overcommit",
            h.overcommit, "capacity_mib", (json_int_t)(h.capacity >> 20), "allocated_mib",
            (json_int_t)(h.allocated >> 20), "free_mib", (json_int_t)(free_b >> 20),
            "vmm_overhead_mib", (json_int_t)(h.vmm_overhead >> 20), "rss_mib",
            (json_int_t)(h.rss >> 20), "vms", (int)h.vms, "running", (int)h.running,
            "vcpus_allocated", (int)h.vcpus);
        char *t = json_dumps(o, JSON_INDENT(2));
        printf("%s\n", t ? t : "{}");
        free(t);
        json_decref(o);
        return 0;
    }
    printf("host memory      %llu MiB (%llu MiB available now)\n",
           (unsigned long long)(h.mem_total >> 20), (unsigned long long)(h.mem_available >> 20));
    printf("host CPUs        %u\n", h.cpus);
    printf("overcommit       %.2fx: up to %llu MiB may be promised to VMs\n", h.overcommit,
           (unsigned long long)(h.capacity >> 20));
    printf("VMM overhead     %llu MiB per running VM (counted with its memory)\n",
           (unsigned long long)(h.vmm_overhead >> 20));
    printf("VMs              %u defined, %u running with %u vCPUs\n", h.vms, h.running, h.vcpus);
    printf("allocated        %llu MiB (their processes hold %llu MiB now)\n",
           (unsigned long long)(h.allocated >> 20), (unsigned long long)(h.rss >> 20));
    printf("free             %llu MiB\n", (unsigned long long)(free_b >> 20));
    return 0;
}
