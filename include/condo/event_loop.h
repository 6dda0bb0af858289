/* The VMM's event loop: file descriptors that backends (console, network,
 * ...) want watched. The VM's main loop polls them between CPU slices
 * (without blocking) and while the hart waits in WFI (blocking until the
 * next timer deadline). The loop belongs to one thread (the VMM's I/O
 * thread); callbacks run there, with the loop's lock held when one is set
 * (the machine lock: then they may touch devices and guest memory
 * directly). Other threads may only call event_loop_wake(). */
#ifndef CONDO_EVENT_LOOP_H
#define CONDO_EVENT_LOOP_H

#include <poll.h>
#include <pthread.h>

#include "condo/common.h"

#define EVENT_LOOP_MAX_FDS 64

typedef void (*event_fd_cb)(void *opaque, short revents);

struct event_watch {
    int fd;
    short events; /* POLLIN / POLLOUT; 0 = temporarily not watched */
    event_fd_cb cb;
    void *opaque;
};

/* A source with a changing set of fds and its own timers (libslirp):
 * before each poll it adds its pollfds (up to max, returning how many) and
 * may lower *timeout_ms; after the poll it sees their revents (also called
 * with n = 0 when the poll times out, so timers can run). */
struct event_source {
    int (*fill)(void *opaque, struct pollfd *pfd, int max, int *timeout_ms);
    void (*dispatch)(void *opaque, struct pollfd *pfd, int n);
    void *opaque;
};

#define EVENT_LOOP_MAX_SOURCES 16
#define EVENT_LOOP_MAX_POLLFDS 256

struct event_loop {
    struct event_watch w[EVENT_LOOP_MAX_FDS];
    unsigned n;
    struct event_source src[EVENT_LOOP_MAX_SOURCES];
    unsigned nsrc;
    int wake_fd;            /* eventfd: event_loop_wake() ends a poll early */
    int wake_pending;       /* a wake was sent and not yet consumed (atomic) */
    pthread_mutex_t *lock;  /* held around fill, dispatch and callbacks; may be NULL */
};

/* 0, or a negative errno when the wake eventfd cannot be made. */
int event_loop_init(struct event_loop *l);
void event_loop_destroy(struct event_loop *l);
/* Make the loop's current or next poll return now (any thread; cheap when
 * a wake is already pending). */
void event_loop_wake(struct event_loop *l);
/* Returns a watch id (>= 0) or -ENOSPC. */
int event_loop_add_fd(struct event_loop *l, int fd, short events, event_fd_cb cb, void *opaque);
void event_loop_set_events(struct event_loop *l, int id, short events);
void event_loop_remove(struct event_loop *l, int id);
int event_loop_add_source(struct event_loop *l, struct event_source src);
/* Remove every source whose opaque is `opaque` (safe from inside a
 * callback: the slot is only reused by a later add). */
void event_loop_remove_source(struct event_loop *l, void *opaque);
/* poll() all watched fds for up to timeout_ms (0 = don't block, -1 =
 * forever; a wake ends it early) and run the callbacks of those that are
 * ready. The lock, if set, is held except while poll() waits. Returns the
 * number of ready fds, or a negative errno (EINTR is not an error: 0). */
int event_loop_poll(struct event_loop *l, int timeout_ms);

#endif
