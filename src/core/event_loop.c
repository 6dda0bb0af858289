/* poll()-based event loop for the VMM's I/O thread. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "condo/event_loop.h"

int event_loop_init(struct event_loop *l)
{
    l->n = 0;
    l->nsrc = 0;
    l->lock = NULL;
    l->wake_pending = 0;
    for (unsigned i = 0; i < EVENT_LOOP_MAX_FDS; i++)
        l->w[i].fd = -1;
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return l->wake_fd < 0 ? -errno : 0;
}

void event_loop_destroy(struct event_loop *l)
{
    if (l->wake_fd >= 0)
        close(l->wake_fd);
    l->wake_fd = -1;
}

void event_loop_wake(struct event_loop *l)
{
    /* One eventfd write per round at most: the flag is cleared when the
     * loop consumes the wake. */
    if (__atomic_exchange_n(&l->wake_pending, 1, __ATOMIC_ACQ_REL))
        return;
    uint64_t one = 1;
    ssize_t r = write(l->wake_fd, &one, sizeof(one));
    (void)r; /* EAGAIN: the counter is saturated, a wake is pending anyway */
}

static void consume_wake(struct event_loop *l)
{
    uint64_t v;
    __atomic_store_n(&l->wake_pending, 0, __ATOMIC_RELEASE);
    ssize_t r = read(l->wake_fd, &v, sizeof(v));
    (void)r;
}

int event_loop_add_fd(struct event_loop *l, int fd, short events, event_fd_cb cb, void *opaque)
{
    for (unsigned i = 0; i < EVENT_LOOP_MAX_FDS; i++) {
        if (l->w[i].fd < 0) {
            l->w[i] = (struct event_watch){ fd, events, cb, opaque };
            if (i >= l->n)
                l->n = i + 1;
            return (int)i;
        }
    }
    return -ENOSPC;
}

void event_loop_set_events(struct event_loop *l, int id, short events)
{
    if (id >= 0 && (unsigned)id < l->n)
        l->w[id].events = events;
}

void event_loop_remove(struct event_loop *l, int id)
{
    if (id >= 0 && (unsigned)id < l->n)
        l->w[id].fd = -1;
}

int event_loop_add_source(struct event_loop *l, struct event_source src)
{
    for (unsigned s = 0; s < l->nsrc; s++) {
        if (!l->src[s].fill) { /* a removed source's slot */
            l->src[s] = src;
            return 0;
        }
    }
    if (l->nsrc >= EVENT_LOOP_MAX_SOURCES)
        return -ENOSPC;
    l->src[l->nsrc++] = src;
    return 0;
}

void event_loop_remove_source(struct event_loop *l, void *opaque)
{
    /* Leave a hole (fill == NULL) rather than shifting: event_loop_poll may
     * be iterating over the sources when a callback removes one. */
    for (unsigned s = 0; s < l->nsrc; s++) {
        if (l->src[s].fill && l->src[s].opaque == opaque)
            l->src[s] = (struct event_source){ 0 };
    }
}

int event_loop_poll(struct event_loop *l, int timeout_ms)
{
    struct pollfd pfd[1 + EVENT_LOOP_MAX_FDS + EVENT_LOOP_MAX_POLLFDS];
    int map[1 + EVENT_LOOP_MAX_FDS];
    int src_first[EVENT_LOOP_MAX_SOURCES], src_n[EVENT_LOOP_MAX_SOURCES];
    nfds_t n = 0;
    if (l->lock)
        pthread_mutex_lock(l->lock);
    if (l->wake_fd >= 0) {
        pfd[n] = (struct pollfd){ .fd = l->wake_fd, .events = POLLIN };
        map[n++] = -1;
    }
    for (unsigned i = 0; i < l->n; i++) {
        if (l->w[i].fd < 0 || !l->w[i].events)
            continue;
        pfd[n] = (struct pollfd){ .fd = l->w[i].fd, .events = l->w[i].events };
        map[n++] = (int)i;
    }
    nfds_t nwatch = n;
    int room = EVENT_LOOP_MAX_POLLFDS;
    unsigned nsrc = l->nsrc;
    for (unsigned s = 0; s < nsrc; s++) {
        src_first[s] = (int)n;
        src_n[s] = 0;
        if (!l->src[s].fill)
            continue;
        int k = l->src[s].fill(l->src[s].opaque, pfd + n, room, &timeout_ms);
        if (k < 0)
            k = 0;
        if (k > room)
            k = room;
        src_n[s] = k;
        n += (nfds_t)k;
        room -= k;
    }
    if (l->lock)
        pthread_mutex_unlock(l->lock);
    int r = poll(pfd, n, timeout_ms);
    int poll_errno = errno;
    if (l->lock)
        pthread_mutex_lock(l->lock);
    if (r < 0) {
        if (poll_errno != EINTR) {
            if (l->lock)
                pthread_mutex_unlock(l->lock);
            return -poll_errno;
        }
        r = 0;
        for (nfds_t k = 0; k < n; k++)
            pfd[k].revents = 0;
    }
    /* A source added by a callback during this round was not filled: it
     * waits for the next round (hence nsrc, not l->nsrc). */
    for (unsigned s = 0; s < nsrc; s++) {
        if (l->src[s].dispatch)
            l->src[s].dispatch(l->src[s].opaque, pfd + src_first[s], src_n[s]);
    }
    for (nfds_t k = 0; k < nwatch && r > 0; k++) {
        if (!pfd[k].revents)
            continue;
        if (map[k] < 0) {
            consume_wake(l);
            continue;
        }
        struct event_watch *w = &l->w[map[k]];
        /* the callback may remove itself or others: re-check the slot */
        if (w->fd == pfd[k].fd && w->cb)
            w->cb(w->opaque, pfd[k].revents);
    }
    if (l->lock)
        pthread_mutex_unlock(l->lock);
    return r;
}
