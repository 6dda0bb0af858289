/* The HTTP side: libmicrohttpd on our own UNIX socket, driven either by
 * one internal polling thread (MHD_USE_POLL_INTERNAL_THREAD) or, with
 * cfg.external, by the caller's event loop (MHD_USE_EPOLL: one descriptor
 * to watch, api_server_run() when it is ready). Either way, for each
 * complete request api_handle() calls the backend; so backend calls are
 * serialised.
 *
 * The socket is untrusted input. Bodies are bounded by body_max: a declared
 * Content-Length above it is refused before any of the body is read; a
 * body that turns out longer (chunked, or a lying length) is counted, not
 * stored, answered 400 when it ends, and the connection is cut if it goes
 * on past a further MiB. Headers are bounded by MHD's per-connection
 * memory; idle connections time out; the number of connections is capped.
 * Nothing in the URL is percent-decoded. */
#include <dlfcn.h>
#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/api/api_internal.h"

/* libmicrohttpd is loaded when the first API server starts (dlopen), not
 * linked: it pulls in GnuTLS and its eight libraries, ~5 ms of dynamic
 * loading in every condo process, a VM restored without --api-sock
 * included. Loaded before any sandbox (api_server_start runs first). */
static struct {
    __typeof__(MHD_create_response_from_buffer_with_free_callback) *create_response_from_buffer_with_free_callback;
    __typeof__(MHD_add_response_header) *add_response_header;
    __typeof__(MHD_queue_response) *queue_response;
    __typeof__(MHD_destroy_response) *destroy_response;
    __typeof__(MHD_lookup_connection_value) *lookup_connection_value;
    __typeof__(MHD_start_daemon) *start_daemon;
    __typeof__(MHD_get_daemon_info) *get_daemon_info;
    __typeof__(MHD_stop_daemon) *stop_daemon;
    __typeof__(MHD_quiesce_daemon) *quiesce_daemon;
    __typeof__(MHD_run) *run;
    __typeof__(MHD_get_timeout) *get_timeout;
} mhd;
static char mhd_load_error[256];

static void mhd_load(void)
{
    void *lib = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(mhd_load_error, sizeof(mhd_load_error), "%s", e ? e : "not found");
        return;
    }
#define MHD_SYM(n) { (void **)&mhd.n, "MHD_" #n }
    struct {
        void **slot;
        const char *name;
    } syms[] = {
        MHD_SYM(create_response_from_buffer_with_free_callback),
        MHD_SYM(add_response_header),
        MHD_SYM(queue_response),
        MHD_SYM(destroy_response),
        MHD_SYM(lookup_connection_value),
        MHD_SYM(start_daemon),
        MHD_SYM(get_daemon_info),
        MHD_SYM(stop_daemon),
        MHD_SYM(quiesce_daemon),
        MHD_SYM(run),
        MHD_SYM(get_timeout),
    };
#undef MHD_SYM
    for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
        *syms[i].slot = dlsym(lib, syms[i].name);
        if (!*syms[i].slot) {
            snprintf(mhd_load_error, sizeof(mhd_load_error), "libmicrohttpd.so.12 lacks %s",
                     syms[i].name);
            mhd.start_daemon = NULL;
            return;
        }
    }
}

#define DISCARD_MAX (1u << 20) /* bytes of an over-long body read before cutting */
#define STOP_GRACE_NS 2000000000ull

struct api_server {
    struct api_server_config cfg;
    char *socket_path;
    char *vmm_version;
    int listen_fd;
    dev_t dev;
    ino_t ino;
    struct MHD_Daemon *mhd;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    unsigned inflight; /* requests begun and not yet completed */
    atomic_bool closing;
    int poll_fd; /* external mode: MHD's epoll descriptor */
};

/* One request's state, from its headers to its completion. */
struct api_req {
    char *buf;
    size_t len, cap;
    size_t discarded;
    bool too_big;
};

static enum MHD_Result queue(struct MHD_Connection *c, int status, char *body)
{
    /* (from_buffer_with_free_callback: not deprecated in libmicrohttpd 1.x) */
    struct MHD_Response *r =
        mhd.create_response_from_buffer_with_free_callback(body ? strlen(body) : 0, body, free);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    if (body)
        mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = mhd.queue_response(c, (unsigned)status, r);
    mhd.destroy_response(r);
    return ret;
}

static enum MHD_Result queue_fault(struct MHD_Connection *c, int status, const char *msg)
{
    char *body = api_fault_encode(msg);
    return queue(c, body ? status : 500, body);
}

/* Content-Length as declared: true if it is more than max (or not a
 * number MHD would have accepted anyway). */
static bool declared_too_big(const char *cl, size_t max)
{
    uint64_t v = 0;
    if (!*cl)
        return false;
    for (const char *p = cl; *p; p++) {
        if (*p < '0' || *p > '9')
            return true;
        if (v > (UINT64_MAX - 9) / 10)
            return true;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    return v > max;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    struct api_server *s = cls;
    struct api_req *rq = *con_cls;
    char msg[160];
    (void)version;

    if (!rq) { /* the headers are in; no body yet */
        rq = calloc(1, sizeof(*rq));
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        pthread_mutex_lock(&s->lock);
        s->inflight++;
        pthread_mutex_unlock(&s->lock);
        if (atomic_load(&s->closing))
            return queue_fault(c, 503, "condo is shutting down");
        const char *cl =
            mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && declared_too_big(cl, s->cfg.body_max)) {
            snprintf(msg, sizeof(msg),
                     "Request payload with size %.24s is larger than the limit of %zu bytes "
                     "allowed by the server.",
                     cl, s->cfg.body_max);
            return queue_fault(c, 400, msg);
        }
        return MHD_YES;
    }

    if (*upload_size) { /* a piece of the body */
        size_t n = *upload_size;
        *upload_size = 0;
        if (rq->too_big || n > s->cfg.body_max - rq->len) {
            rq->too_big = true;
            rq->discarded += n;
            return rq->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
        }
        if (rq->len + n > rq->cap) {
            size_t cap = rq->cap ? rq->cap : 1024;
            while (cap < rq->len + n)
                cap *= 2;
            if (cap > s->cfg.body_max)
                cap = s->cfg.body_max;
            char *nb = realloc(rq->buf, cap);
            if (!nb)
                return MHD_NO;
            rq->buf = nb;
            rq->cap = cap;
        }
        memcpy(rq->buf + rq->len, upload, n);
        rq->len += n;
        return MHD_YES;
    }

    /* the whole request is in */
    if (rq->too_big) {
        snprintf(msg, sizeof(msg),
                 "Request payload is larger than the limit of %zu bytes allowed by the server.",
                 s->cfg.body_max);
        return queue_fault(c, 400, msg);
    }
    if (atomic_load(&s->closing))
        return queue_fault(c, 503, "condo is shutting down");
    int status;
    char *body;
    api_handle(&s->cfg, method, url, rq->buf ? rq->buf : "", rq->len, &status, &body);
    return queue(c, status, body);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct api_server *s = cls;
    struct api_req *rq = *con_cls;
    (void)c;
    (void)toe;
    if (!rq)
        return;
    free(rq->buf);
    free(rq);
    *con_cls = NULL;
    pthread_mutex_lock(&s->lock);
    s->inflight--;
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
}

/* MHD's own diagnostics (a malformed request line, a dropped client) are
 * debug output: a client must not be able to fill the VMM's log. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
    char buf[256];
    (void)cls;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '\n')
        buf[--n] = 0;
    condo_debug("api: http: %s", buf);
}

/* No percent-decoding: ids are [A-Za-z0-9_] and no route needs an escape;
 * decoding would let "%00" or "%2F" reshape the path. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

int api_server_start(const struct api_server_config *cfg, struct api_server **out,
                     struct error *err)
{
    *out = NULL;
    if (!cfg || !cfg->socket_path || !cfg->ops || !cfg->ops->call)
        return error_set(err, -EINVAL, "API server: no socket path or backend given");
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, mhd_load);
    if (!mhd.start_daemon)
        return error_set(err, -ENOENT, "cannot start the API server on %s: cannot load "
                         "libmicrohttpd (%s): install libmicrohttpd12 (scripts/install-deps.sh)",
                         cfg->socket_path, mhd_load_error);
    struct api_server *s = calloc(1, sizeof(*s));
    if (!s)
        return error_set(err, -ENOMEM, "API server: out of memory");
    s->cfg = *cfg;
    s->listen_fd = -1;
    s->socket_path = strdup(cfg->socket_path);
    s->vmm_version = strdup(cfg->vmm_version ? cfg->vmm_version : "unknown");
    if (!s->socket_path || !s->vmm_version) {
        free(s->socket_path);
        free(s->vmm_version);
        free(s);
        return error_set(err, -ENOMEM, "API server: out of memory");
    }
    s->cfg.socket_path = s->socket_path;
    s->cfg.vmm_version = s->vmm_version;
    if (!s->cfg.body_max)
        s->cfg.body_max = API_BODY_MAX_DEFAULT;
    if (!s->cfg.max_connections)
        s->cfg.max_connections = 16;
    if (!s->cfg.idle_timeout_s)
        s->cfg.idle_timeout_s = 60;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->idle, &ca);
    pthread_condattr_destroy(&ca);

    int r = api_socket_listen(s->socket_path, &s->listen_fd, &s->dev, &s->ino, err);
    if (r < 0)
        goto fail;

    /* Before any sandbox: jansson seeds its hash from /dev/urandom on first
     * use, the status figures read /proc/self/statm, and the C library
     * reads /etc/localtime once for MHD's Date header. */
    json_object_seed(0);
    api_proc_open();
    tzset();

    /* The thread MHD starts inherits our signal mask: block everything so
     * signals keep going to the VMM's threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    unsigned flags = s->cfg.external ? MHD_USE_EPOLL | MHD_USE_ERROR_LOG
                                     : MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC |
                                           MHD_USE_ERROR_LOG;
    s->mhd = mhd.start_daemon(
        flags, 0, NULL, NULL,
        on_request, s, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_EXTERNAL_LOGGER, on_log, s,
        MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, s, MHD_OPTION_CONNECTION_LIMIT,
        s->cfg.max_connections, MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.idle_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024), MHD_OPTION_STRICT_FOR_CLIENT,
        1, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!s->mhd) {
        r = error_set(err, -ENOMEM, "cannot start the API server on %s (libmicrohttpd failed)",
                      s->socket_path);
        goto unlisten;
    }
    if (s->cfg.external) {
        const union MHD_DaemonInfo *di = mhd.get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
        if (!di || di->epoll_fd < 0) {
            mhd.stop_daemon(s->mhd);
            r = error_set(err, -ENOSYS, "cannot start the API server on %s (no epoll)",
                          s->socket_path);
            goto unlisten;
        }
        s->poll_fd = di->epoll_fd;
    }
    condo_info("API listening on %s", s->socket_path);
    *out = s;
    return 0;
unlisten:
    api_proc_close();
    api_socket_remove(s->socket_path, s->dev, s->ino);
    close(s->listen_fd);
fail:
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
    free(s->socket_path);
    free(s->vmm_version);
    free(s);
    return r;
}

void api_server_stop(struct api_server *s)
{
    if (!s)
        return;
    atomic_store(&s->closing, true);
    /* No new connections, and no new clients find the socket. */
    MHD_socket lfd = mhd.quiesce_daemon(s->mhd);
    api_socket_remove(s->socket_path, s->dev, s->ino);
    /* Let a request in progress (say, the PUT /condo/stop that led here)
     * get its answer out; a client that stalls mid-request gets cut. */
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    uint64_t ns = (uint64_t)dl.tv_nsec + STOP_GRACE_NS;
    dl.tv_sec += (time_t)(ns / 1000000000ull);
    dl.tv_nsec = (long)(ns % 1000000000ull);
    if (s->cfg.external) {
        /* nobody else drives MHD now: do it here until the answers are out */
        uint64_t end = (uint64_t)dl.tv_sec * 1000000000ull + (uint64_t)dl.tv_nsec;
        while (s->inflight > 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            uint64_t t = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
            if (t >= end)
                break;
            struct pollfd p = { .fd = s->poll_fd, .events = POLLIN };
            poll(&p, 1, 50);
            mhd.run(s->mhd);
        }
    } else {
        pthread_mutex_lock(&s->lock);
        while (s->inflight > 0)
            if (pthread_cond_timedwait(&s->idle, &s->lock, &dl) == ETIMEDOUT)
                break;
        pthread_mutex_unlock(&s->lock);
    }
    mhd.stop_daemon(s->mhd);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    api_proc_close();
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
    free(s->socket_path);
    free(s->vmm_version);
    free(s);
}

int api_server_poll_fd(const struct api_server *s)
{
    return s && s->cfg.external ? s->poll_fd : -1;
}

void api_server_run(struct api_server *s)
{
    if (s && s->cfg.external)
        mhd.run(s->mhd);
}

int api_server_timeout_ms(struct api_server *s)
{
    MHD_UNSIGNED_LONG_LONG ms;
    if (!s || !s->cfg.external || mhd.get_timeout(s->mhd, &ms) != MHD_YES)
        return -1;
    return ms > 1000 ? 1000 : (int)ms;
}
