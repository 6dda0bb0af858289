/* The control API's pieces, private to src/vmm/api/ (and its tests):
 * routes, the table-driven JSON body checker, reply encoding, the socket. */
#ifndef CONDO_VMM_API_INTERNAL_H
#define CONDO_VMM_API_INTERNAL_H

#include <jansson.h>
#include <sys/types.h>

#include "condo/api.h"

/* ---- routes (api_route.c) ---- */

enum api_body_rule {
    API_BODY_NONE,     /* GET: a body is an error */
    API_BODY_REQUIRED, /* PUT/PATCH: no body is "Empty PUT request." */
    API_BODY_OPTIONAL, /* no body reads as {} */
};

struct api_route {
    const char *method;
    const char *path;  /* segments; "{id}" matches one resource id */
    enum api_op op;    /* 0: answered by the module itself (GET /version) */
    enum api_body_rule body;
    bool condo;        /* under /condo/: state errors are 409 */
};

/* Finds the route for METHOD and PATH; copies the {id} segment, if any, to
 * id (API_ID_MAX bytes). NULL with err set (400's message) when nothing
 * matches, or the id is empty or has other characters than [A-Za-z0-9_]. */
const struct api_route *api_route_find(const char *method, const char *path, char *id,
                                       struct error *err);

/* ---- request bodies (api_schema.c, api_body.c) ---- */

enum api_field_type {
    API_F_BOOL,
    API_F_U64,    /* an integer in [min, max] */
    API_F_STRING, /* fits in `cap` bytes with its NUL; `nonempty` */
    API_F_ID,     /* a resource id: 1..API_ID_MAX-1 of [A-Za-z0-9_] */
    API_F_ENUM,   /* one of `names` (index stored as an int-sized enum) */
    API_F_MAC,    /* "xx:xx:xx:xx:xx:xx" into uint8_t[6] */
    API_F_OBJECT, /* `sub` */
    API_F_ARRAY,  /* of `sub` objects, at most `cap` of `elem` bytes;
                     count (unsigned) at has_off */
};

struct api_schema;

struct api_field {
    const char *name;
    enum api_field_type type;
    bool required;
    bool nonempty;
    bool nocase;       /* enum names match case-insensitively */
    bool has;          /* an optional field with a `bool has_x` at has_off */
    size_t off;
    size_t has_off;
    size_t cap;
    size_t elem;
    uint64_t min, max;
    const char *const *names;
    const struct api_schema *sub;
};

struct api_schema {
    const struct api_field *fields;
    unsigned n;
};

/* Checks the JSON object against the schema and fills dst: unknown fields,
 * missing required ones, wrong types, out-of-range values and over-long
 * strings are errors naming the field (`where` + its path). null counts as
 * absent for optional fields, as in Firecracker. */
int api_schema_apply(const json_t *obj, const struct api_schema *sc, void *dst,
                     const char *where, struct error *err);

/* Parses BODY (len > 0) for the route into call (zeroed by the caller, op
 * set); id is the path's {id} or "". 0 or -EINVAL with err set. */
int api_body_parse(const struct api_route *r, const char *id, const char *body, size_t len,
                   struct api_call *call, struct error *err);

/* ---- replies (api_reply.c) ---- */

/* A JSON string from bytes that may not be UTF-8 (a path from the command
 * line, a message quoting one): invalid bytes become U+FFFD. */
json_t *api_json_string(const char *s);
/* The JSON body for a successful GET (op's reply member), or NULL if out of
 * memory. vmm_version for GET / and GET /version. */
char *api_reply_encode(enum api_op op, const struct api_reply *r, const char *vmm_version);
char *api_version_encode(const char *vmm_version);
/* {"fault_message": msg} */
char *api_fault_encode(const char *msg);

/* The process's own figures for /condo/status (api_proc.c): pid, RSS, CPU
 * time. api_proc_open() keeps /proc/self/statm open (the server calls it
 * before any sandbox), so api_proc_fill() needs no open() later; without
 * it each fill opens the file itself. */
void api_proc_open(void);
void api_proc_close(void);
void api_proc_fill(struct api_status *st);

/* ---- the socket (api_socket.c) ---- */

/* A listening AF_UNIX socket at path, mode 0600, nonblocking. Refuses a
 * path where a listener answers (-EBUSY) or that is not a socket
 * (-EEXIST); removes a stale socket. dev and ino identify the file made. */
int api_socket_listen(const char *path, int *fd, dev_t *dev, ino_t *ino, struct error *err);
/* Removes path if it is still the socket file (dev, ino). */
void api_socket_remove(const char *path, dev_t dev, ino_t ino);

#endif
