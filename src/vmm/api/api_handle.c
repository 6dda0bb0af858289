/* One request, start to answer, without the HTTP: route, check the body,
 * call the backend, encode the reply or the fault. The HTTP server, the
 * unit tests and the fuzz target all come through here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/api/api_internal.h"

/* The status for a backend's error, by its class (include/condo/error.h).
 * Firecracker answers every refused request 400; condo's own routes say
 * 409 for "not in this state", where Firecracker has no opinion. */
static int status_for(const struct error *e, bool condo_route)
{
    switch (error_class(e)) {
    case ERROR_CLASS_INPUT: return 400;
    case ERROR_CLASS_STATE: return condo_route ? 409 : 400;
    case ERROR_CLASS_RESOURCE: return 507;
    default: return 500;
    }
}

static void answer_fault(int code, const char *msg, int *status, char **body)
{
    *status = code;
    *body = api_fault_encode(msg);
    if (!*body)
        *status = 500; /* out of memory: the status alone says it */
}

/* An empty body, or one of whitespace only, is no body (curl -X PUT
 * without --data sends Content-Length: 0). */
static bool blank(const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n')
            return false;
    return true;
}

void api_handle(const struct api_server_config *cfg, const char *method, const char *path,
                const char *body, size_t len, int *status, char **resp_body)
{
    struct error err = ERROR_INIT;
    char id[API_ID_MAX];
    const char *version = cfg->vmm_version ? cfg->vmm_version : "unknown";
    *resp_body = NULL;

    const struct api_route *rt = api_route_find(method, path, id, &err);
    if (!rt) {
        answer_fault(400, err.msg, status, resp_body);
        return;
    }
    bool has_body = len > 0 && !blank(body, len);
    if (rt->body == API_BODY_NONE && has_body) {
        answer_fault(400, "GET request cannot have a body.", status, resp_body);
        return;
    }
    if (rt->body == API_BODY_REQUIRED && !has_body) {
        answer_fault(400, strcmp(method, "PATCH") ? "Empty PUT request." : "Empty PATCH request.",
                     status, resp_body);
        return;
    }
    if (rt->op == 0) { /* GET /version: the module knows it */
        *status = 200;
        *resp_body = api_version_encode(version);
        if (!*resp_body)
            *status = 500;
        return;
    }

    struct api_call *call = calloc(1, sizeof(*call));
    struct api_reply *reply = calloc(1, sizeof(*reply));
    if (!call || !reply) {
        answer_fault(507, "out of memory for the request", status, resp_body);
        goto out;
    }
    call->op = rt->op;
    if (rt->body != API_BODY_NONE) {
        int r = has_body ? api_body_parse(rt, id, body, len, call, &err)
                         : api_body_parse(rt, id, "{}", 2, call, &err);
        if (r < 0) {
            answer_fault(r == -ENOMEM ? 507 : 400, err.msg, status, resp_body);
            goto out;
        }
    }

    int r = cfg->ops->call(cfg->opaque, call, reply, &err);
    if (r < 0 || error_is_set(&err)) {
        if (!error_is_set(&err))
            error_set_errno(&err, r, "%s failed", api_op_name(rt->op));
        else if (!err.msg[0])
            snprintf(err.msg, sizeof(err.msg), "%s failed: %s", api_op_name(rt->op),
                     strerror(-err.code));
        condo_debug("api: %s %s -> %s", method, path, err.msg);
        answer_fault(status_for(&err, rt->condo), err.msg, status, resp_body);
        goto out;
    }
    switch (rt->op) {
    case API_OP_GET_INSTANCE_INFO:
    case API_OP_GET_MACHINE_CONFIG:
    case API_OP_GET_VM_CONFIG:
    case API_OP_CONDO_STATUS:
    case API_OP_GET_BALLOON:
    case API_OP_GET_BALLOON_STATS:
        if (rt->op == API_OP_CONDO_STATUS)
            api_proc_fill(&reply->status);
        *resp_body = api_reply_encode(rt->op, reply, version);
        *status = *resp_body ? 200 : 500;
        break;
    default:
        *status = 204;
        break;
    }
    condo_debug("api: %s %s -> %d", method, path, *status);
out:
    free(call);
    free(reply);
}
