/* Replies: the typed answers of the backend as Firecracker's JSON shapes
 * (InstanceInfo, MachineConfiguration, FullVmConfiguration) and condo's
 * status, and {"fault_message": ...} for errors. Strings from the backend
 * may carry bytes that are not UTF-8 (a path given on the command line):
 * they are made valid, never dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api/api_internal.h"

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
        return 0;
    if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
        return 0;
    return len;
}

json_t *api_json_string(const char *s)
{
    size_t n = strlen(s);
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, seq;
    while (i < n && (seq = utf8_seq(u + i, n - i)) != 0)
        i += seq;
    if (i == n)
        return json_stringn(s, n);
    /* Each bad byte becomes U+FFFD (3 bytes). */
    char *buf = malloc(n * 3 + 1);
    if (!buf)
        return NULL;
    size_t o = 0;
    for (i = 0; i < n;) {
        seq = utf8_seq(u + i, n - i);
        if (seq) {
            memcpy(buf + o, s + i, seq);
            o += seq;
            i += seq;
        } else {
            memcpy(buf + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    json_t *j = json_stringn(buf, o);
    free(buf);
    return j;
}

/* Building with a sticky failure flag: out of memory anywhere fails the
 * whole reply instead of sending half of it. */
struct jb {
    bool oom;
};

static void put(struct jb *b, json_t *o, const char *key, json_t *v)
{
    if (!o || !v || json_object_set_new(o, key, v) < 0) {
        b->oom = true;
        json_decref(v);
    }
}

static void push(struct jb *b, json_t *a, json_t *v)
{
    if (!a || !v || json_array_append_new(a, v) < 0) {
        b->oom = true;
        json_decref(v);
    }
}

static json_t *u64(uint64_t v)
{
    /* json_int_t is signed 64-bit: saturate rather than wrap negative. */
    return json_integer(v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v);
}

static const char *const huge_pages_names[] = { "None", "Transparent", "2M" };
static const char *const cpu_template_names[] = { "None", "C3", "T2", "T2S", "T2CL", "T2A",
                                                  "V1N1" };
static const char *const cache_type_names[] = { "Unsafe", "Writeback" };
static const char *const io_engine_names[] = { "Sync", "Async" };

static const char *name_of(const char *const *names, size_t n, unsigned v)
{
    return v < n ? names[v] : names[0];
}
#define NAME(tab, v) name_of(tab, ARRAY_SIZE(tab), (unsigned)(v))

static const char *fc_state(enum api_vm_state s)
{
    switch (s) {
    case API_VM_RUNNING: return "Running";
    case API_VM_PAUSED: return "Paused";
    default: return "Not started";
    }
}

static const char *condo_state(enum api_vm_state s)
{
    switch (s) {
    case API_VM_RUNNING: return "running";
    case API_VM_PAUSED: return "paused";
    default: return "not_started";
    }
}

static json_t *machine_json(struct jb *b, const struct api_machine_config *m)
{
    json_t *o = json_object();
    put(b, o, "vcpu_count", u64(m->vcpu_count));
    put(b, o, "mem_size_mib", u64(m->mem_size_mib));
    put(b, o, "smt", json_boolean(m->smt));
    put(b, o, "track_dirty_pages", json_boolean(m->track_dirty_pages));
    put(b, o, "huge_pages", json_string(NAME(huge_pages_names, m->huge_pages)));
    /* Firecracker leaves cpu_template out when there is none. */
    if (m->cpu_template != API_CPU_TEMPLATE_NONE)
        put(b, o, "cpu_template", json_string(NAME(cpu_template_names, m->cpu_template)));
    return o;
}

static json_t *bucket_json(struct jb *b, bool has, const struct api_token_bucket *t)
{
    if (!has)
        return json_null();
    json_t *o = json_object();
    put(b, o, "size", u64(t->size));
    put(b, o, "one_time_burst", t->has_one_time_burst ? u64(t->one_time_burst) : json_null());
    put(b, o, "refill_time", u64(t->refill_time));
    return o;
}

static json_t *limiter_json(struct jb *b, bool has, const struct api_rate_limiter *rl)
{
    if (!has)
        return json_null();
    json_t *o = json_object();
    put(b, o, "bandwidth", bucket_json(b, rl->has_bandwidth, &rl->bandwidth));
    put(b, o, "ops", bucket_json(b, rl->has_ops, &rl->ops));
    return o;
}

static json_t *opt_string(bool has, const char *s)
{
    return has ? api_json_string(s) : json_null();
}

static json_t *mac_json(bool has, const uint8_t *m)
{
    if (!has)
        return json_null();
    char s[18];
    snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return json_string(s);
}

static json_t *drive_json(struct jb *b, const struct api_drive *d)
{
    json_t *o = json_object();
    put(b, o, "drive_id", api_json_string(d->drive_id));
    put(b, o, "partuuid", opt_string(d->has_partuuid, d->partuuid));
    put(b, o, "is_root_device", json_boolean(d->is_root_device));
    put(b, o, "cache_type", json_string(NAME(cache_type_names, d->cache_type)));
    put(b, o, "is_read_only", json_boolean(d->is_read_only));
    put(b, o, "path_on_host", opt_string(d->has_path_on_host, d->path_on_host));
    put(b, o, "rate_limiter", limiter_json(b, d->has_rate_limiter, &d->rate_limiter));
    put(b, o, "io_engine", json_string(NAME(io_engine_names, d->io_engine)));
    put(b, o, "socket", json_null());
    return o;
}

static json_t *net_json(struct jb *b, const struct api_net *n)
{
    json_t *o = json_object();
    put(b, o, "iface_id", api_json_string(n->iface_id));
    if (n->has_spec)
        put(b, o, "spec", api_json_string(n->spec));
    else
        put(b, o, "host_dev_name", api_json_string(n->host_dev_name));
    put(b, o, "guest_mac", mac_json(n->has_guest_mac, n->guest_mac));
    put(b, o, "mtu", n->has_mtu ? u64(n->mtu) : json_null());
    put(b, o, "rx_rate_limiter", limiter_json(b, n->has_rx_rate_limiter, &n->rx_rate_limiter));
    put(b, o, "tx_rate_limiter", limiter_json(b, n->has_tx_rate_limiter, &n->tx_rate_limiter));
    return o;
}

static json_t *balloon_json(struct jb *b, const struct api_balloon *bl);

static json_t *vm_config_json(struct jb *b, const struct api_vm_config *v)
{
    json_t *o = json_object();
    json_t *drives = json_array(), *nets = json_array(), *condo_nets = json_array();
    unsigned nd = v->n_drives < API_MAX_DRIVES ? v->n_drives : API_MAX_DRIVES;
    unsigned nn = v->n_nets < API_MAX_NETS ? v->n_nets : API_MAX_NETS;
    for (unsigned i = 0; i < nd; i++)
        push(b, drives, drive_json(b, &v->drives[i]));
    for (unsigned i = 0; i < nn; i++)
        push(b, v->nets[i].has_spec ? condo_nets : nets, net_json(b, &v->nets[i]));

    json_t *bs = json_object();
    /* Firecracker always has a boot-source object; empty before a PUT. */
    put(b, bs, "kernel_image_path",
        api_json_string(v->has_boot_source ? v->boot_source.kernel_image_path : ""));
    put(b, bs, "initrd_path", opt_string(v->has_boot_source && v->boot_source.has_initrd_path,
                                         v->boot_source.initrd_path));
    put(b, bs, "boot_args", opt_string(v->has_boot_source && v->boot_source.has_boot_args,
                                       v->boot_source.boot_args));

    json_t *condo = json_object();
    put(b, condo, "net", condo_nets);
    put(b, condo, "cpu_limit_pct", u64(v->cpu_limit.cpu_limit_pct));
    put(b, condo, "cpu_weight", u64(v->cpu_limit.cpu_weight));

    put(b, o, "balloon", v->has_balloon ? balloon_json(b, &v->balloon) : json_null());
    put(b, o, "drives", drives);
    put(b, o, "boot-source", bs);
    put(b, o, "cpu-config", json_null());
    put(b, o, "logger", json_null());
    put(b, o, "machine-config", machine_json(b, &v->machine));
    put(b, o, "metrics", json_null());
    put(b, o, "mmds-config", json_null());
    put(b, o, "network-interfaces", nets);
    put(b, o, "vsock", json_null());
    put(b, o, "entropy", json_null());
    put(b, o, "condo", condo);
    return o;
}

static json_t *status_json(struct jb *b, const struct api_status *s)
{
    json_t *o = json_object();
    put(b, o, "id", api_json_string(s->id[0] ? s->id : "anonymous-instance"));
    put(b, o, "state", json_string(condo_state(s->state)));
    put(b, o, "pid", json_integer(s->pid));
    put(b, o, "uptime_ms", u64(s->uptime_ms));
    put(b, o, "vcpus", u64(s->vcpus));
    put(b, o, "mem_size_mib", u64(s->mem_size_mib));
    put(b, o, "cpu_user_ms", u64(s->cpu_user_ms));
    put(b, o, "cpu_system_ms", u64(s->cpu_system_ms));
    put(b, o, "rss_bytes", u64(s->rss_bytes));
    put(b, o, "cpu_limit_pct", u64(s->cpu_limit_pct));
    put(b, o, "cpu_weight", u64(s->cpu_weight));
    json_t *disks = json_array(), *nics = json_array();
    unsigned nd = s->n_disks < API_MAX_DRIVES ? s->n_disks : API_MAX_DRIVES;
    unsigned nn = s->n_nics < API_MAX_NETS ? s->n_nics : API_MAX_NETS;
    for (unsigned i = 0; i < nd; i++) {
        const struct api_disk_stats *d = &s->disks[i];
        json_t *e = json_object();
        put(b, e, "drive_id", api_json_string(d->drive_id));
        put(b, e, "read_bytes", u64(d->read_bytes));
        put(b, e, "write_bytes", u64(d->write_bytes));
        put(b, e, "read_ops", u64(d->read_ops));
        put(b, e, "write_ops", u64(d->write_ops));
        put(b, e, "flush_ops", u64(d->flush_ops));
        push(b, disks, e);
    }
    for (unsigned i = 0; i < nn; i++) {
        const struct api_nic_stats *n = &s->nics[i];
        json_t *e = json_object();
        put(b, e, "iface_id", api_json_string(n->iface_id));
        put(b, e, "rx_bytes", u64(n->rx_bytes));
        put(b, e, "tx_bytes", u64(n->tx_bytes));
        put(b, e, "rx_packets", u64(n->rx_packets));
        put(b, e, "tx_packets", u64(n->tx_packets));
        put(b, e, "rx_dropped", u64(n->rx_dropped));
        put(b, e, "tx_dropped", u64(n->tx_dropped));
        push(b, nics, e);
    }
    put(b, o, "disks", disks);
    put(b, o, "nics", nics);
    json_t *mem = json_object();
    if (s->has_balloon) {
        put(b, mem, "balloon_reported_bytes", u64(s->balloon_reported_bytes));
        put(b, mem, "balloon_inflated_pages", u64(s->balloon_inflated_pages));
        put(b, mem, "balloon_deflated_pages", u64(s->balloon_deflated_pages));
    }
    put(b, mem, "idle_cache_bytes", u64(s->idle_cache_bytes));
    put(b, mem, "idle_zero_bytes", u64(s->idle_zero_bytes));
    put(b, o, "memory_given_back", mem);
    return o;
}

static json_t *balloon_json(struct jb *b, const struct api_balloon *bl)
{
    json_t *o = json_object();
    put(b, o, "amount_mib", u64(bl->amount_mib));
    put(b, o, "deflate_on_oom", json_boolean(bl->deflate_on_oom));
    put(b, o, "stats_polling_interval_s", u64(bl->stats_polling_interval_s));
    put(b, o, "free_page_hinting", json_boolean(bl->free_page_hinting));
    put(b, o, "free_page_reporting", json_boolean(bl->free_page_reporting));
    return o;
}

/* Firecracker's BalloonStats: the four sizes always, each statistic only
 * once the guest sent it. Tags 0..15 in virtio's order. */
static json_t *balloon_stats_json(struct jb *b, const struct api_balloon_stats *st)
{
    static const char *const names[API_BALLOON_STATS] = {
        "swap_in",      "swap_out",          "major_faults",     "minor_faults",
        "free_memory",  "total_memory",      "available_memory", "disk_caches",
        "hugetlb_allocations", "hugetlb_failures", "oom_kill",   "alloc_stall",
        "async_scan",   "direct_scan",       "async_reclaim",    "direct_reclaim",
    };
    json_t *o = json_object();
    put(b, o, "target_pages", u64(st->target_pages));
    put(b, o, "actual_pages", u64(st->actual_pages));
    put(b, o, "target_mib", u64(st->target_mib));
    put(b, o, "actual_mib", u64(st->actual_mib));
    for (unsigned t = 0; t < API_BALLOON_STATS; t++)
        if (st->present & (1u << t))
            put(b, o, names[t], u64(st->stats[t]));
    return o;
}

static char *finish(struct jb *b, json_t *o)
{
    char *s = NULL;
    if (o && !b->oom)
        s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

char *api_reply_encode(enum api_op op, const struct api_reply *r, const char *vmm_version)
{
    struct jb b = { false };
    json_t *o = NULL;
    switch (op) {
    case API_OP_GET_INSTANCE_INFO:
        o = json_object();
        put(&b, o, "id",
            api_json_string(r->instance.id[0] ? r->instance.id : "anonymous-instance"));
        put(&b, o, "state", json_string(fc_state(r->instance.state)));
        put(&b, o, "vmm_version", api_json_string(vmm_version));
        put(&b, o, "app_name", json_string("condo"));
        break;
    case API_OP_GET_MACHINE_CONFIG:
        o = machine_json(&b, &r->machine);
        break;
    case API_OP_GET_VM_CONFIG:
        o = vm_config_json(&b, &r->vm_config);
        break;
    case API_OP_CONDO_STATUS:
        o = status_json(&b, &r->status);
        break;
    case API_OP_GET_BALLOON:
        o = balloon_json(&b, &r->balloon);
        break;
    case API_OP_GET_BALLOON_STATS:
        o = balloon_stats_json(&b, &r->balloon_stats);
        break;
    default:
        return NULL;
    }
    return finish(&b, o);
}

char *api_version_encode(const char *vmm_version)
{
    struct jb b = { false };
    json_t *o = json_object();
    put(&b, o, "firecracker_version", api_json_string(vmm_version));
    return finish(&b, o);
}

char *api_fault_encode(const char *msg)
{
    struct jb b = { false };
    json_t *o = json_object();
    put(&b, o, "fault_message", api_json_string(msg));
    return finish(&b, o);
}
