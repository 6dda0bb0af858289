/* The request bodies: one schema per shape, written after Firecracker's
 * swagger definitions (src/firecracker/swagger/firecracker.yaml), and the
 * checks across fields that a schema cannot say (ids in path and body,
 * exactly one memory backend, PATCH not empty). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api/api_internal.h"

/* Field builders. An optional member `m` has a `bool has_m` beside it. */
#define REQ(st, m, t, ...) { .name = #m, .type = t, .required = true, .off = offsetof(st, m), __VA_ARGS__ }
#define OPT(st, m, t, ...)                                                              \
    { .name = #m, .type = t, .has = true, .off = offsetof(st, m),                       \
      .has_off = offsetof(st, has_##m), __VA_ARGS__ }
/* Optional without a has flag: absent leaves the default the parser set. */
#define DEF(st, m, t, ...) { .name = #m, .type = t, .off = offsetof(st, m), __VA_ARGS__ }
#define SCHEMA(fields) { fields, ARRAY_SIZE(fields) }
#define PATH_CAP .cap = API_PATH_MAX, .nonempty = true

static const struct api_field token_bucket_fields[] = {
    REQ(struct api_token_bucket, size, API_F_U64, .max = INT64_MAX),
    REQ(struct api_token_bucket, refill_time, API_F_U64, .max = INT64_MAX),
    OPT(struct api_token_bucket, one_time_burst, API_F_U64, .max = INT64_MAX),
};
static const struct api_schema token_bucket = SCHEMA(token_bucket_fields);

static const struct api_field rate_limiter_fields[] = {
    OPT(struct api_rate_limiter, bandwidth, API_F_OBJECT, .sub = &token_bucket),
    OPT(struct api_rate_limiter, ops, API_F_OBJECT, .sub = &token_bucket),
};
static const struct api_schema rate_limiter = SCHEMA(rate_limiter_fields);

static const char *const huge_pages_names[] = { "None", "Transparent", "2M", NULL };
static const char *const cpu_template_names[] = { "None", "C3", "T2", "T2S", "T2CL",
                                                  "T2A", "V1N1", NULL };
static const char *const cache_type_names[] = { "Unsafe", "Writeback", NULL };
static const char *const io_engine_names[] = { "Sync", "Async", NULL };
static const char *const action_names[] = { "InstanceStart", "SendCtrlAltDel", "FlushMetrics",
                                            NULL };
static const char *const vm_state_names[] = { "Paused", "Resumed", NULL };
static const char *const snapshot_type_names[] = { "Full", "Diff", NULL };
static const char *const mem_backend_names[] = { "File", "Uffd", NULL };
static const char *const load_huge_pages_names[] = { "Snapshot", "None", "Transparent", "2M",
                                                     NULL };
static const char *const log_level_names[] = { "Error", "Warning", "Info", "Debug", "Trace",
                                               "Off", NULL };

#define MC struct api_machine_config
static const struct api_field machine_put_fields[] = {
    REQ(MC, vcpu_count, API_F_U64, .min = 1, .max = API_MAX_VCPUS),
    REQ(MC, mem_size_mib, API_F_U64, .min = 1, .max = API_MAX_MEM_MIB),
    OPT(MC, smt, API_F_BOOL),
    OPT(MC, track_dirty_pages, API_F_BOOL),
    OPT(MC, huge_pages, API_F_ENUM, .names = huge_pages_names),
    OPT(MC, cpu_template, API_F_ENUM, .names = cpu_template_names),
};
static const struct api_field machine_patch_fields[] = {
    OPT(MC, vcpu_count, API_F_U64, .min = 1, .max = API_MAX_VCPUS),
    OPT(MC, mem_size_mib, API_F_U64, .min = 1, .max = API_MAX_MEM_MIB),
    OPT(MC, smt, API_F_BOOL),
    OPT(MC, track_dirty_pages, API_F_BOOL),
    OPT(MC, huge_pages, API_F_ENUM, .names = huge_pages_names),
    OPT(MC, cpu_template, API_F_ENUM, .names = cpu_template_names),
};
#undef MC

#define BS struct api_boot_source
static const struct api_field boot_source_fields[] = {
    REQ(BS, kernel_image_path, API_F_STRING, PATH_CAP),
    OPT(BS, initrd_path, API_F_STRING, PATH_CAP),
    OPT(BS, boot_args, API_F_STRING, .cap = API_ARGS_MAX),
};
#undef BS

#define DR struct api_drive
static const struct api_field drive_put_fields[] = {
    REQ(DR, drive_id, API_F_ID),
    /* Firecracker makes it optional for vhost-user drives; condo has none. */
    OPT(DR, path_on_host, API_F_STRING, PATH_CAP, .required = true),
    REQ(DR, is_root_device, API_F_BOOL),
    OPT(DR, is_read_only, API_F_BOOL),
    OPT(DR, partuuid, API_F_STRING, .cap = API_NAME_MAX, .nonempty = true),
    OPT(DR, cache_type, API_F_ENUM, .names = cache_type_names),
    OPT(DR, io_engine, API_F_ENUM, .names = io_engine_names),
    OPT(DR, rate_limiter, API_F_OBJECT, .sub = &rate_limiter),
};
static const struct api_field drive_patch_fields[] = {
    REQ(DR, drive_id, API_F_ID),
    OPT(DR, path_on_host, API_F_STRING, PATH_CAP),
    OPT(DR, rate_limiter, API_F_OBJECT, .sub = &rate_limiter),
};
#undef DR

#define NI struct api_net
static const struct api_field net_put_fields[] = {
    REQ(NI, iface_id, API_F_ID),
    OPT(NI, host_dev_name, API_F_STRING, .cap = API_IFNAME_MAX, .nonempty = true,
        .required = true),
    OPT(NI, guest_mac, API_F_MAC),
    OPT(NI, mtu, API_F_U64, .min = 68, .max = 65535),
    OPT(NI, rx_rate_limiter, API_F_OBJECT, .sub = &rate_limiter),
    OPT(NI, tx_rate_limiter, API_F_OBJECT, .sub = &rate_limiter),
};
static const struct api_field net_patch_fields[] = {
    REQ(NI, iface_id, API_F_ID),
    OPT(NI, rx_rate_limiter, API_F_OBJECT, .sub = &rate_limiter),
    OPT(NI, tx_rate_limiter, API_F_OBJECT, .sub = &rate_limiter),
};
/* PUT /condo/net: iface_id may come from the path instead. */
static const struct api_field condo_net_fields[] = {
    DEF(NI, iface_id, API_F_ID),
    OPT(NI, spec, API_F_STRING, .cap = API_NET_SPEC_MAX, .nonempty = true, .required = true),
    OPT(NI, guest_mac, API_F_MAC),
    OPT(NI, mtu, API_F_U64, .min = 68, .max = 65535),
    OPT(NI, rx_rate_limiter, API_F_OBJECT, .sub = &rate_limiter),
    OPT(NI, tx_rate_limiter, API_F_OBJECT, .sub = &rate_limiter),
};
#undef NI

struct action_body {
    enum api_action action_type;
};
static const struct api_field action_fields[] = {
    REQ(struct action_body, action_type, API_F_ENUM, .names = action_names),
};

struct vm_body {
    enum api_vm_request state;
};
static const struct api_field vm_fields[] = {
    REQ(struct vm_body, state, API_F_ENUM, .names = vm_state_names),
};

#define SC struct api_snapshot_create
static const struct api_field snapshot_create_fields[] = {
    DEF(SC, snapshot_type, API_F_ENUM, .names = snapshot_type_names),
    REQ(SC, snapshot_path, API_F_STRING, PATH_CAP),
    /* Required by Firecracker; condo can keep RAM inside the snapshot file. */
    OPT(SC, mem_file_path, API_F_STRING, PATH_CAP),
};
#undef SC

/* PUT /snapshot/load as it comes on the wire, folded into api_snapshot_load. */
struct mem_backend_body {
    enum api_mem_backend backend_type; /* parsed as 0 File, 1 Uffd */
    char backend_path[API_PATH_MAX];
};
static const struct api_field mem_backend_fields[] = {
    REQ(struct mem_backend_body, backend_type, API_F_ENUM, .names = mem_backend_names),
    REQ(struct mem_backend_body, backend_path, API_F_STRING, PATH_CAP),
};
static const struct api_schema mem_backend = SCHEMA(mem_backend_fields);

static const struct api_field net_override_fields[] = {
    REQ(struct api_net_override, iface_id, API_F_ID),
    REQ(struct api_net_override, host_dev_name, API_F_STRING, .cap = API_IFNAME_MAX,
        .nonempty = true),
};
static const struct api_schema net_override = SCHEMA(net_override_fields);

struct vsock_override_body {
    char uds_path[API_PATH_MAX];
};
static const struct api_field vsock_override_fields[] = {
    REQ(struct vsock_override_body, uds_path, API_F_STRING, PATH_CAP),
};
static const struct api_schema vsock_override = SCHEMA(vsock_override_fields);

struct load_body {
    char snapshot_path[API_PATH_MAX];
    bool has_mem_file_path;
    char mem_file_path[API_PATH_MAX];
    bool has_mem_backend;
    struct mem_backend_body mem_backend;
    bool enable_diff_snapshots, track_dirty_pages, resume_vm, clock_realtime;
    enum api_snapshot_huge_pages huge_pages;
    unsigned n_network_overrides;
    struct api_net_override network_overrides[API_MAX_NETS];
    bool has_vsock_override;
    struct vsock_override_body vsock_override;
};
#define LB struct load_body
static const struct api_field load_fields[] = {
    REQ(LB, snapshot_path, API_F_STRING, PATH_CAP),
    OPT(LB, mem_file_path, API_F_STRING, PATH_CAP),
    OPT(LB, mem_backend, API_F_OBJECT, .sub = &mem_backend),
    DEF(LB, enable_diff_snapshots, API_F_BOOL),
    DEF(LB, track_dirty_pages, API_F_BOOL),
    DEF(LB, resume_vm, API_F_BOOL),
    DEF(LB, clock_realtime, API_F_BOOL),
    DEF(LB, huge_pages, API_F_ENUM, .names = load_huge_pages_names),
    { .name = "network_overrides", .type = API_F_ARRAY, .off = offsetof(LB, network_overrides),
      .has_off = offsetof(LB, n_network_overrides), .cap = API_MAX_NETS,
      .elem = sizeof(struct api_net_override), .sub = &net_override },
    OPT(LB, vsock_override, API_F_OBJECT, .sub = &vsock_override),
};
#undef LB

#define LG struct api_logger
static const struct api_field logger_fields[] = {
    OPT(LG, log_path, API_F_STRING, PATH_CAP),
    OPT(LG, level, API_F_ENUM, .names = log_level_names, .nocase = true),
    OPT(LG, show_level, API_F_BOOL),
    OPT(LG, show_log_origin, API_F_BOOL),
    OPT(LG, module, API_F_STRING, .cap = API_NAME_MAX),
};
#undef LG

static const struct api_field metrics_fields[] = {
    REQ(struct api_metrics, metrics_path, API_F_STRING, PATH_CAP),
    OPT(struct api_metrics, emit_id, API_F_BOOL),
};

#define CL struct api_cpu_limit
static const struct api_field cpu_limit_fields[] = {
    OPT(CL, cpu_limit_pct, API_F_U64, .max = API_MAX_CPU_LIMIT_PCT),
    OPT(CL, cpu_weight, API_F_U64, .min = API_CPU_WEIGHT_MIN, .max = API_CPU_WEIGHT_MAX),
};
#undef CL

static const struct api_field stop_fields[] = {
    DEF(struct api_stop, timeout_s, API_F_U64, .max = API_STOP_TIMEOUT_MAX),
    DEF(struct api_stop, force, API_F_BOOL),
};

#define BL struct api_balloon
static const struct api_field balloon_put_fields[] = {
    REQ(BL, amount_mib, API_F_U64, .max = UINT32_MAX),
    REQ(BL, deflate_on_oom, API_F_BOOL),
    OPT(BL, stats_polling_interval_s, API_F_U64, .max = API_BALLOON_STATS_INTERVAL_MAX),
    OPT(BL, free_page_hinting, API_F_BOOL),
    OPT(BL, free_page_reporting, API_F_BOOL),
};
static const struct api_field balloon_patch_fields[] = {
    REQ(BL, amount_mib, API_F_U64, .max = UINT32_MAX),
};
static const struct api_field balloon_stats_fields[] = {
    OPT(BL, stats_polling_interval_s, API_F_U64, .max = API_BALLOON_STATS_INTERVAL_MAX,
        .required = true),
};
#undef BL

static const struct api_schema s_machine_put = SCHEMA(machine_put_fields);
static const struct api_schema s_machine_patch = SCHEMA(machine_patch_fields);
static const struct api_schema s_boot_source = SCHEMA(boot_source_fields);
static const struct api_schema s_drive_put = SCHEMA(drive_put_fields);
static const struct api_schema s_drive_patch = SCHEMA(drive_patch_fields);
static const struct api_schema s_net_put = SCHEMA(net_put_fields);
static const struct api_schema s_net_patch = SCHEMA(net_patch_fields);
static const struct api_schema s_condo_net = SCHEMA(condo_net_fields);
static const struct api_schema s_action = SCHEMA(action_fields);
static const struct api_schema s_vm = SCHEMA(vm_fields);
static const struct api_schema s_snapshot_create = SCHEMA(snapshot_create_fields);
static const struct api_schema s_load = SCHEMA(load_fields);
static const struct api_schema s_logger = SCHEMA(logger_fields);
static const struct api_schema s_metrics = SCHEMA(metrics_fields);
static const struct api_schema s_cpu_limit = SCHEMA(cpu_limit_fields);
static const struct api_schema s_stop = SCHEMA(stop_fields);
static const struct api_schema s_balloon_put = SCHEMA(balloon_put_fields);
static const struct api_schema s_balloon_patch = SCHEMA(balloon_patch_fields);
static const struct api_schema s_balloon_stats = SCHEMA(balloon_stats_fields);

/* Firecracker's check that the id in the path is the id in the body. */
static int same_id(const char *path_id, const char *body_id, struct error *err)
{
    if (strcmp(path_id, body_id) != 0)
        return error_set(err, -EINVAL,
                         "The id from the path [%s] does not match the id from the body [%s]!",
                         path_id, body_id);
    return 0;
}

/* Folds the wire shape (two ways to name the memory file, a deprecated
 * flag) into the one the backend sees. */
static int load_fold(const struct load_body *b, const char *where,
                     struct api_snapshot_load *out, struct error *err)
{
    if (b->has_mem_backend && b->has_mem_file_path)
        return error_set(err, -EINVAL,
                         "%s: too many fields: either `mem_backend` or `mem_file_path` "
                         "exclusively is required.",
                         where);
    if (b->has_vsock_override)
        return error_set(err, -EINVAL,
                         "%s: `vsock_override`: condo has no vsock device to override.", where);
    memcpy(out->snapshot_path, b->snapshot_path, sizeof(out->snapshot_path));
    if (b->has_mem_backend) {
        out->mem_backend = b->mem_backend.backend_type == 0 ? API_MEM_BACKEND_FILE
                                                            : API_MEM_BACKEND_UFFD;
        memcpy(out->mem_path, b->mem_backend.backend_path, sizeof(out->mem_path));
    } else if (b->has_mem_file_path) {
        out->mem_backend = API_MEM_BACKEND_FILE;
        memcpy(out->mem_path, b->mem_file_path, sizeof(out->mem_path));
    } else {
        out->mem_backend = API_MEM_BACKEND_NONE; /* condo: RAM in the snapshot file */
    }
    out->track_dirty_pages = b->track_dirty_pages || b->enable_diff_snapshots;
    out->resume_vm = b->resume_vm;
    out->clock_realtime = b->clock_realtime;
    out->huge_pages = b->huge_pages;
    out->n_network_overrides = b->n_network_overrides;
    memcpy(out->network_overrides, b->network_overrides, sizeof(out->network_overrides));
    return 0;
}

static int parse_load(const json_t *root, const char *where, struct api_snapshot_load *out,
                      struct error *err)
{
    struct load_body *b = calloc(1, sizeof(*b)); /* 8 KiB: not on the stack */
    if (!b)
        return error_set(err, -ENOMEM, "%s: out of memory.", where);
    int r = api_schema_apply(root, &s_load, b, where, err);
    if (r == 0)
        r = load_fold(b, where, out, err);
    free(b);
    return r;
}

int api_body_parse(const struct api_route *rt, const char *id, const char *body, size_t len,
                   struct api_call *c, struct error *err)
{
    char where[160];
    if (id[0]) {
        char shown[96];
        snprintf(shown, sizeof(shown), "%s", api_op_name(rt->op));
        char *brace = strstr(shown, "{id}");
        if (brace)
            *brace = 0;
        snprintf(where, sizeof(where), "%s%s", shown, id);
    } else {
        snprintf(where, sizeof(where), "%s", api_op_name(rt->op));
    }

    json_error_t jerr;
    /* No JSON_DECODE_ANY: the top level must be an object or array; no
     * JSON_ALLOW_NUL: no NUL in any string; duplicates are refused (which
     * one would win is a guess). jansson limits nesting to 2048 levels. */
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return error_set(err, -EINVAL, "%s: the body is not valid JSON: %s (line %d, column %d).",
                         where, jerr.text, jerr.line, jerr.column);

    int r;
    switch (rt->op) {
    case API_OP_PUT_MACHINE_CONFIG:
        r = api_schema_apply(root, &s_machine_put, &c->machine, where, err);
        /* Absent optional fields take their defaults: a PUT sets everything. */
        c->machine.has_vcpu_count = c->machine.has_mem_size_mib = true;
        c->machine.has_smt = c->machine.has_track_dirty_pages = true;
        c->machine.has_huge_pages = c->machine.has_cpu_template = true;
        break;
    case API_OP_PATCH_MACHINE_CONFIG: {
        r = api_schema_apply(root, &s_machine_patch, &c->machine, where, err);
        const struct api_machine_config *m = &c->machine;
        if (r == 0 && !m->has_vcpu_count && !m->has_mem_size_mib && !m->has_smt &&
            !m->has_track_dirty_pages && !m->has_huge_pages && !m->has_cpu_template)
            r = error_set(err, -EINVAL, "Empty PATCH request.");
        break;
    }
    case API_OP_PUT_BOOT_SOURCE:
        r = api_schema_apply(root, &s_boot_source, &c->boot_source, where, err);
        break;
    case API_OP_PUT_DRIVE:
        r = api_schema_apply(root, &s_drive_put, &c->drive, where, err);
        if (r == 0)
            r = same_id(id, c->drive.drive_id, err);
        break;
    case API_OP_PATCH_DRIVE:
        r = api_schema_apply(root, &s_drive_patch, &c->drive, where, err);
        if (r == 0)
            r = same_id(id, c->drive.drive_id, err);
        break;
    case API_OP_PUT_NET:
        r = api_schema_apply(root, &s_net_put, &c->net, where, err);
        if (r == 0)
            r = same_id(id, c->net.iface_id, err);
        break;
    case API_OP_PATCH_NET:
        r = api_schema_apply(root, &s_net_patch, &c->net, where, err);
        if (r == 0)
            r = same_id(id, c->net.iface_id, err);
        break;
    case API_OP_CONDO_NET:
        r = api_schema_apply(root, &s_condo_net, &c->net, where, err);
        if (r == 0 && id[0]) {
            if (c->net.iface_id[0])
                r = same_id(id, c->net.iface_id, err);
            else
                snprintf(c->net.iface_id, sizeof(c->net.iface_id), "%s", id);
        } else if (r == 0 && !c->net.iface_id[0]) {
            r = error_set(err, -EINVAL, "%s: missing field `iface_id`.", where);
        }
        break;
    case API_OP_ACTION: {
        struct action_body a = { 0 };
        r = api_schema_apply(root, &s_action, &a, where, err);
        c->action = a.action_type;
        break;
    }
    case API_OP_PATCH_VM: {
        struct vm_body v = { 0 };
        r = api_schema_apply(root, &s_vm, &v, where, err);
        c->vm = v.state;
        break;
    }
    case API_OP_SNAPSHOT_CREATE:
        r = api_schema_apply(root, &s_snapshot_create, &c->snapshot_create, where, err);
        break;
    case API_OP_SNAPSHOT_LOAD:
        r = parse_load(root, where, &c->snapshot_load, err);
        break;
    case API_OP_PUT_LOGGER:
        r = api_schema_apply(root, &s_logger, &c->logger, where, err);
        break;
    case API_OP_PUT_METRICS:
        r = api_schema_apply(root, &s_metrics, &c->metrics, where, err);
        break;
    case API_OP_CONDO_PUT_CPU_LIMIT:
        c->cpu_limit.cpu_weight = API_CPU_WEIGHT_DEFAULT;
        r = api_schema_apply(root, &s_cpu_limit, &c->cpu_limit, where, err);
        c->cpu_limit.has_cpu_limit_pct = c->cpu_limit.has_cpu_weight = true;
        break;
    case API_OP_CONDO_PATCH_CPU_LIMIT:
        r = api_schema_apply(root, &s_cpu_limit, &c->cpu_limit, where, err);
        if (r == 0 && !c->cpu_limit.has_cpu_limit_pct && !c->cpu_limit.has_cpu_weight)
            r = error_set(err, -EINVAL, "Empty PATCH request.");
        break;
    case API_OP_CONDO_STOP:
        c->stop.timeout_s = API_STOP_TIMEOUT_DEFAULT;
        r = api_schema_apply(root, &s_stop, &c->stop, where, err);
        break;
    case API_OP_PUT_BALLOON:
        r = api_schema_apply(root, &s_balloon_put, &c->balloon, where, err);
        break;
    case API_OP_PATCH_BALLOON:
        r = api_schema_apply(root, &s_balloon_patch, &c->balloon, where, err);
        break;
    case API_OP_PATCH_BALLOON_STATS:
        r = api_schema_apply(root, &s_balloon_stats, &c->balloon, where, err);
        break;
    default:
        r = error_set(err, -EINVAL, "%s takes no body.", where);
        break;
    }
    json_decref(root);
    return r;
}

uint64_t api_token_bucket_rate(const struct api_token_bucket *b)
{
    if (!b || b->size == 0 || b->refill_time == 0)
        return 0;
    /* size tokens per refill_time ms: size * 1000 / ms, without overflow */
    unsigned __int128 r = (unsigned __int128)b->size * 1000u / b->refill_time;
    if (r == 0)
        return 1; /* slower than one per second still limits */
    return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}
