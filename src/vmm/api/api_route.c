/* The route table: method and path to an operation. Paths are matched
 * segment by segment, empty segments ignored ("//vm/config/" is /vm/config,
 * as Firecracker trims them); nothing is percent-decoded, so an id can only
 * be the characters Firecracker allows. Unknown paths and methods are 400
 * "Invalid request method and/or path", as Firecracker answers them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/api/api_internal.h"

static const struct api_route routes[] = {
    { "GET", "", API_OP_GET_INSTANCE_INFO, API_BODY_NONE, false },
    { "GET", "version", 0, API_BODY_NONE, false },
    { "GET", "machine-config", API_OP_GET_MACHINE_CONFIG, API_BODY_NONE, false },
    { "PUT", "machine-config", API_OP_PUT_MACHINE_CONFIG, API_BODY_REQUIRED, false },
    { "PATCH", "machine-config", API_OP_PATCH_MACHINE_CONFIG, API_BODY_REQUIRED, false },
    { "PUT", "boot-source", API_OP_PUT_BOOT_SOURCE, API_BODY_REQUIRED, false },
    { "PUT", "drives/{id}", API_OP_PUT_DRIVE, API_BODY_REQUIRED, false },
    { "PATCH", "drives/{id}", API_OP_PATCH_DRIVE, API_BODY_REQUIRED, false },
    { "PUT", "network-interfaces/{id}", API_OP_PUT_NET, API_BODY_REQUIRED, false },
    { "PATCH", "network-interfaces/{id}", API_OP_PATCH_NET, API_BODY_REQUIRED, false },
    { "PUT", "actions", API_OP_ACTION, API_BODY_REQUIRED, false },
    { "PATCH", "vm", API_OP_PATCH_VM, API_BODY_REQUIRED, false },
    { "GET", "vm/config", API_OP_GET_VM_CONFIG, API_BODY_NONE, false },
    { "PUT", "snapshot/create", API_OP_SNAPSHOT_CREATE, API_BODY_REQUIRED, false },
    { "PUT", "snapshot/load", API_OP_SNAPSHOT_LOAD, API_BODY_REQUIRED, false },
    { "PUT", "logger", API_OP_PUT_LOGGER, API_BODY_REQUIRED, false },
    { "PUT", "metrics", API_OP_PUT_METRICS, API_BODY_REQUIRED, false },
    { "GET", "condo/status", API_OP_CONDO_STATUS, API_BODY_NONE, true },
    { "PUT", "condo/net", API_OP_CONDO_NET, API_BODY_REQUIRED, true },
    { "PUT", "condo/net/{id}", API_OP_CONDO_NET, API_BODY_REQUIRED, true },
    { "PUT", "condo/cpu-limit", API_OP_CONDO_PUT_CPU_LIMIT, API_BODY_REQUIRED, true },
    { "PATCH", "condo/cpu-limit", API_OP_CONDO_PATCH_CPU_LIMIT, API_BODY_REQUIRED, true },
    { "PUT", "condo/stop", API_OP_CONDO_STOP, API_BODY_OPTIONAL, true },
    { "GET", "balloon", API_OP_GET_BALLOON, API_BODY_NONE, false },
    { "PUT", "balloon", API_OP_PUT_BALLOON, API_BODY_REQUIRED, false },
    { "PATCH", "balloon", API_OP_PATCH_BALLOON, API_BODY_REQUIRED, false },
    { "GET", "balloon/statistics", API_OP_GET_BALLOON_STATS, API_BODY_NONE, false },
    { "PATCH", "balloon/statistics", API_OP_PATCH_BALLOON_STATS, API_BODY_REQUIRED, false },
};

const char *api_op_name(enum api_op op)
{
    static const char *const names[API_OP_COUNT_] = {
        [API_OP_GET_INSTANCE_INFO] = "GET /",
        [API_OP_GET_MACHINE_CONFIG] = "GET /machine-config",
        [API_OP_PUT_MACHINE_CONFIG] = "PUT /machine-config",
        [API_OP_PATCH_MACHINE_CONFIG] = "PATCH /machine-config",
        [API_OP_PUT_BOOT_SOURCE] = "PUT /boot-source",
        [API_OP_PUT_DRIVE] = "PUT /drives/{id}",
        [API_OP_PATCH_DRIVE] = "PATCH /drives/{id}",
        [API_OP_PUT_NET] = "PUT /network-interfaces/{id}",
        [API_OP_PATCH_NET] = "PATCH /network-interfaces/{id}",
        [API_OP_ACTION] = "PUT /actions",
        [API_OP_PATCH_VM] = "PATCH /vm",
        [API_OP_GET_VM_CONFIG] = "GET /vm/config",
        [API_OP_SNAPSHOT_CREATE] = "PUT /snapshot/create",
        [API_OP_SNAPSHOT_LOAD] = "PUT /snapshot/load",
        [API_OP_PUT_LOGGER] = "PUT /logger",
        [API_OP_PUT_METRICS] = "PUT /metrics",
        [API_OP_CONDO_STATUS] = "GET /condo/status",
        [API_OP_CONDO_NET] = "PUT /condo/net",
        [API_OP_CONDO_PUT_CPU_LIMIT] = "PUT /condo/cpu-limit",
        [API_OP_CONDO_PATCH_CPU_LIMIT] = "PATCH /condo/cpu-limit",
        [API_OP_CONDO_STOP] = "PUT /condo/stop",
        [API_OP_GET_BALLOON] = "GET /balloon",
        [API_OP_PUT_BALLOON] = "PUT /balloon",
        [API_OP_PATCH_BALLOON] = "PATCH /balloon",
        [API_OP_GET_BALLOON_STATS] = "GET /balloon/statistics",
        [API_OP_PATCH_BALLOON_STATS] = "PATCH /balloon/statistics",
    };
    if ((unsigned)op >= API_OP_COUNT_ || !names[op])
        return "?";
    return names[op];
}

#define MAX_SEGS 4

/* Splits s into at most max non-empty segments (pointers and lengths);
 * returns the count, or max + 1 if there are more. */
static unsigned split(const char *s, const char **seg, size_t *len, unsigned max)
{
    unsigned n = 0;
    while (*s) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        const char *e = strchr(s, '/');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if (n == max)
            return max + 1;
        seg[n] = s;
        len[n] = l;
        n++;
        s += l;
    }
    return n;
}

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Does the path match the route's pattern? *id_seg gets the {id} segment. */
static bool match(const char *pattern, const char **seg, const size_t *len, unsigned n,
                  const char **id_seg, size_t *id_len)
{
    const char *pseg[MAX_SEGS];
    size_t plen[MAX_SEGS];
    unsigned pn = split(pattern, pseg, plen, MAX_SEGS);
    if (pn != n)
        return false;
    for (unsigned i = 0; i < n; i++) {
        if (plen[i] == 4 && !memcmp(pseg[i], "{id}", 4)) {
            *id_seg = seg[i];
            *id_len = len[i];
            continue;
        }
        if (plen[i] != len[i] || memcmp(pseg[i], seg[i], len[i]) != 0)
            return false;
    }
    return true;
}

/* The path for a message: at most 120 bytes, so a hostile path cannot
 * fill the fault message. */
static void clip(char *out, size_t size, const char *path)
{
    size_t n = strnlen(path, 121);
    if (n > 120)
        snprintf(out, size, "%.117s...", path);
    else
        snprintf(out, size, "%s", path);
}

const struct api_route *api_route_find(const char *method, const char *path, char *id,
                                       struct error *err)
{
    const char *seg[MAX_SEGS];
    size_t len[MAX_SEGS];
    char shown[128], meth[16];
    clip(shown, sizeof(shown), path);
    snprintf(meth, sizeof(meth), "%.15s", method);
    id[0] = 0;
    unsigned n = split(path, seg, len, MAX_SEGS);
    const struct api_route *by_path = NULL;
    char allowed[64] = "";
    for (unsigned i = 0; n <= MAX_SEGS && i < ARRAY_SIZE(routes); i++) {
        const char *id_seg = NULL;
        size_t id_len = 0;
        if (!match(routes[i].path, seg, len, n, &id_seg, &id_len))
            continue;
        if (strcmp(routes[i].method, method) != 0) {
            if (!strstr(allowed, routes[i].method)) {
                size_t l = strlen(allowed);
                snprintf(allowed + l, sizeof(allowed) - l, "%s%s", l ? ", " : "",
                         routes[i].method);
            }
            continue;
        }
        by_path = &routes[i];
        if (id_seg) {
            /* Firecracker's checked_id(): never empty (split() drops empty
             * segments), only alphanumerics and '_'. */
            if (id_len >= API_ID_MAX) {
                error_set(err, -EINVAL, "The ID in %s is too long (%zu bytes; at most %d).",
                          shown, id_len, API_ID_MAX - 1);
                return NULL;
            }
            for (size_t k = 0; k < id_len; k++)
                if (!id_char(id_seg[k])) {
                    error_set(err, -EINVAL,
                              "API Resource IDs can only contain alphanumeric characters "
                              "and underscores.");
                    return NULL;
                }
            memcpy(id, id_seg, id_len);
            id[id_len] = 0;
        }
        return by_path;
    }
    /* A collection without its id: Firecracker says "The ID cannot be empty." */
    if (n == 1 && !allowed[0]) {
        static const char *const collections[] = { "drives", "network-interfaces" };
        for (unsigned i = 0; i < ARRAY_SIZE(collections); i++)
            if (len[0] == strlen(collections[i]) && !memcmp(seg[0], collections[i], len[0]) &&
                (!strcmp(method, "PUT") || !strcmp(method, "PATCH"))) {
                error_set(err, -EINVAL, "The ID cannot be empty.");
                return NULL;
            }
    }
    if (allowed[0])
        error_set(err, -EINVAL, "Invalid request method and/or path: %s %s (allowed: %s).",
                  meth, shown, allowed);
    else
        error_set(err, -EINVAL, "Invalid request method and/or path: %s %s.", meth, shown);
    return NULL;
}
