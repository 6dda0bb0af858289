/* Talking to a VM process: HTTP/1.1 over its UNIX control socket, with
 * libcurl. The answers are Firecracker's: 2xx, or 4xx/5xx with
 * {"fault_message": ...}, which becomes the error's message.
 *
 * libcurl is loaded on first use (dlopen), not linked: its dependencies
 * (TLS, Kerberos, LDAP, SSH, ...: about twenty libraries) took ~11 ms of
 * dynamic loading and relocation in every condo process, the VM process
 * that restores a snapshot included, which never talks HTTP as a client. */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "condo/manager.h"

#define REPLY_MAX (1 << 20)

struct buf {
    char *data;
    size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *opaque)
{
    struct buf *b = opaque;
    size_t add = size * n;
    if (b->len + add > REPLY_MAX)
        return 0; /* a VMM does not send that much: stop */
    char *d = realloc(b->data, b->len + add + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, add);
    b->len += add;
    d[b->len] = 0;
    b->data = d;
    return add;
}

/* The libcurl functions used here, from libcurl.so.4 (Debian's libcurl4,
 * the runtime package libcurl4-openssl-dev depends on). */
static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} curl;
static char curl_load_error[256];

static void curl_load(void)
{
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(curl_load_error, sizeof(curl_load_error), "%s", e ? e : "not found");
        return;
    }
    struct {
        void **slot;
        const char *name;
    } syms[] = {
        { (void **)&curl.global_init, "curl_global_init" },
        { (void **)&curl.easy_init, "curl_easy_init" },
        { (void **)&curl.easy_setopt, "curl_easy_setopt" },
        { (void **)&curl.easy_perform, "curl_easy_perform" },
        { (void **)&curl.easy_getinfo, "curl_easy_getinfo" },
        { (void **)&curl.easy_cleanup, "curl_easy_cleanup" },
        { (void **)&curl.easy_strerror, "curl_easy_strerror" },
        { (void **)&curl.slist_append, "curl_slist_append" },
        { (void **)&curl.slist_free_all, "curl_slist_free_all" },
    };
    for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
        *syms[i].slot = dlsym(lib, syms[i].name);
        if (!*syms[i].slot) {
            snprintf(curl_load_error, sizeof(curl_load_error), "libcurl.so.4 lacks %s",
                     syms[i].name);
            curl.easy_init = NULL;
            return;
        }
    }
    curl.global_init(CURL_GLOBAL_NOTHING);
}

int vmm_call(const char *sock, const char *method, const char *path, json_t *body,
             long timeout_ms, json_t **reply, struct error *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_load);
    if (reply)
        *reply = NULL;
    if (!curl.easy_init)
        return error_set(err, -ENOENT, "cannot load libcurl to talk to the VM process on %s "
                         "(%s): install libcurl4 (scripts/install-deps.sh)", sock,
                         curl_load_error);
    CURL *h = curl.easy_init();
    if (!h)
        return error_set(err, -ENOMEM, "out of memory");
    char url[512];
    snprintf(url, sizeof(url), "http://localhost%s", path);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct buf b = { NULL, 0 };
    struct curl_slist *hdr = curl.slist_append(NULL, "Content-Type: application/json");
    hdr = curl.slist_append(hdr, "Accept: application/json");
    curl.easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
    curl.easy_setopt(h, CURLOPT_URL, url);
    curl.easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl.easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 10000L);
    curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl.easy_setopt(h, CURLOPT_WRITEDATA, &b);
    if (text)
        curl.easy_setopt(h, CURLOPT_POSTFIELDS, text);
    CURLcode rc = curl.easy_perform(h);
    long status = 0;
    curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl.slist_free_all(hdr);
    curl.easy_cleanup(h);
    free(text);
    int r = 0;
    if (rc != CURLE_OK) {
        r = error_set(err, rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED,
                      "the VM process does not answer on %s (%s)", sock, curl.easy_strerror(rc));
    } else {
        json_t *j = b.len ? json_loads(b.data, 0, NULL) : NULL;
        if (status >= 200 && status < 300) {
            if (reply)
                *reply = j;
            else
                json_decref(j);
        } else {
            const char *fm = json_string_value(json_object_get(j, "fault_message"));
            r = error_set(err, status == 400 || status == 404 ? -EINVAL
                               : status == 409            ? -EBUSY
                                                          : -EIO,
                          "%s", fm ? fm : "the VM process refused the request");
            json_decref(j);
        }
    }
    free(b.data);
    return r;
}
