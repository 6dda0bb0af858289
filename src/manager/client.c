/* Talking to a VM process: HTTP/1.1 over its UNIX control socket, with
 * libcurl. The answers are Firecracker's: 2xx, or 4xx/5xx with
 * {"fault_message": ...}, which becomes the error's message. */
#include <curl/curl.h>
#include <errno.h>
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

int vmm_call(const char *sock, const char *method, const char *path, json_t *body,
             long timeout_ms, json_t **reply, struct error *err)
{
    static bool inited;
    if (!inited) {
        curl_global_init(CURL_GLOBAL_NOTHING);
        inited = true;
    }
    if (reply)
        *reply = NULL;
    CURL *h = curl_easy_init();
    if (!h)
        return error_set(err, -ENOMEM, "out of memory");
    char url[512];
    snprintf(url, sizeof(url), "http://localhost%s", path);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct buf b = { NULL, 0 };
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Accept: application/json");
    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    if (text)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    free(text);
    int r = 0;
    if (rc != CURLE_OK) {
        r = error_set(err, rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED,
                      "the VM process does not answer on %s (%s)", sock, curl_easy_strerror(rc));
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
