/* One worker thread running jobs in submission order (see work_queue.h).
 * One mutex guards the lists; the eventfd is written when the finished
 * list goes from empty to non-empty (or, with an owner lock, when the
 * worker could not complete them itself) and read when it is taken, both
 * under the mutex, so a wake is never lost and never left pending for
 * nothing for long (a stale wake finds an empty list: harmless). */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "condo/clock.h"
#include "condo/work_queue.h"

/* After a job, the worker looks for the next one this long before it
 * sleeps: a guest doing one request at a time sends the next within tens
 * of microseconds of the answer, and finding it without a futex wake (on
 * either side) is most of the difference between a hand-off and doing the
 * I/O on the vCPU (as QEMU's iothreads poll, poll-max-ns). */
#define WORK_QUEUE_POLL_NS 50000ull

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

int work_queue_init(struct work_queue *q)
{
    *q = (struct work_queue){ 0 };
    q->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->done_fd < 0)
        return -errno;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work_cv, NULL);
    pthread_cond_init(&q->idle_cv, NULL);
    return 0;
}

/* Wake the event loop: finished jobs wait (q->mu held). */
static void work_queue_signal(struct work_queue *q)
{
    q->signalled = true;
    uint64_t one = 1;
    ssize_t r = write(q->done_fd, &one, sizeof(one));
    (void)r; /* EAGAIN: the counter is full, the fd is readable anyway */
}

static void *work_queue_main(void *arg)
{
    struct work_queue *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        if (!q->head && !q->stop && q->polled) {
            /* poll for the next job a little, outside the lock */
            uint64_t until = condo_clock_ns() + WORK_QUEUE_POLL_NS;
            pthread_mutex_unlock(&q->mu);
            while (!__atomic_load_n(&q->head, __ATOMIC_ACQUIRE) &&
                   !__atomic_load_n(&q->stop, __ATOMIC_ACQUIRE) && condo_clock_ns() < until)
                cpu_relax();
            pthread_mutex_lock(&q->mu);
        }
        q->polled = false;
        while (!q->head && !q->stop)
            pthread_cond_wait(&q->work_cv, &q->mu);
        if (!q->head)
            break; /* stop, and nothing left */
        struct work_item *w = q->head;
        q->head = w->next;
        if (!q->head)
            q->tail = NULL;
        w->next = NULL;
        q->running = w;
        pthread_mutex_unlock(&q->mu);
        w->run(w);
        pthread_mutex_lock(&q->mu);
        q->running = NULL;
        q->polled = true;
        bool was_empty = !q->done_head;
        if (q->done_tail)
            q->done_tail->next = w;
        else
            q->done_head = w;
        q->done_tail = w;
        if (q->owner_lock && !q->stop) {
            /* Complete it here if the owner's lock is free: no thread to
             * wake. `completing` keeps waiters (wait_idle, cancel) from
             * returning while complete() runs; a waiter that holds the
             * owner lock makes the trylock fail, so it never waits for us
             * in vain. */
            q->completing = true;
            pthread_mutex_unlock(&q->mu);
            bool done = pthread_mutex_trylock(q->owner_lock) == 0;
            if (done) {
                q->complete(q->opaque);
                pthread_mutex_unlock(q->owner_lock);
            }
            pthread_mutex_lock(&q->mu);
            q->completing = false;
            pthread_cond_broadcast(&q->idle_cv); /* set_owner, cancel */
            if (!done && q->done_head)
                work_queue_signal(q);
        } else if (was_empty) {
            work_queue_signal(q);
        }
        if (!q->head)
            pthread_cond_broadcast(&q->idle_cv);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

void work_queue_set_owner(struct work_queue *q, pthread_mutex_t *lock,
                          void (*complete)(void *opaque), void *opaque)
{
    pthread_mutex_lock(&q->mu);
    /* taking the completion away: wait until the worker is out of it */
    while (!complete && q->completing)
        pthread_cond_wait(&q->idle_cv, &q->mu);
    q->owner_lock = complete ? lock : NULL;
    q->complete = complete;
    q->opaque = opaque;
    pthread_mutex_unlock(&q->mu);
}

int work_queue_fd(const struct work_queue *q)
{
    return q->done_fd;
}

int work_queue_submit(struct work_queue *q, struct work_item *w)
{
    pthread_mutex_lock(&q->mu);
    if (!q->started) {
        int r = pthread_create(&q->thread, NULL, work_queue_main, q);
        if (r) {
            pthread_mutex_unlock(&q->mu);
            return -r;
        }
        q->started = true;
    }
    w->next = NULL;
    if (q->tail)
        q->tail->next = w;
    else
        __atomic_store_n(&q->head, w, __ATOMIC_RELEASE); /* the polling worker reads it */
    q->tail = w;
    pthread_cond_signal(&q->work_cv);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

struct work_item *work_queue_take_done(struct work_queue *q)
{
    pthread_mutex_lock(&q->mu);
    struct work_item *w = q->done_head;
    q->done_head = q->done_tail = NULL;
    if (q->signalled) { /* else the worker completed them: no syscall */
        uint64_t v;
        ssize_t r = read(q->done_fd, &v, sizeof(v));
        (void)r; /* EAGAIN: taken already */
        q->signalled = false;
    }
    pthread_mutex_unlock(&q->mu);
    return w;
}

void work_queue_wait_idle(struct work_queue *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->head || q->running || q->completing)
        pthread_cond_wait(&q->idle_cv, &q->mu);
    pthread_mutex_unlock(&q->mu);
}

struct work_item *work_queue_cancel(struct work_queue *q)
{
    pthread_mutex_lock(&q->mu);
    struct work_item *w = q->head;
    __atomic_store_n(&q->head, NULL, __ATOMIC_RELEASE); /* the polling worker reads it */
    q->tail = NULL;
    while (q->running || q->completing)
        pthread_cond_wait(&q->idle_cv, &q->mu);
    pthread_mutex_unlock(&q->mu);
    return w;
}

void work_queue_destroy(struct work_queue *q)
{
    if (q->done_fd < 0)
        return;
    work_queue_cancel(q);
    pthread_mutex_lock(&q->mu);
    __atomic_store_n(&q->stop, true, __ATOMIC_RELEASE);
    pthread_cond_signal(&q->work_cv);
    pthread_mutex_unlock(&q->mu);
    if (q->started)
        pthread_join(q->thread, NULL);
    q->started = false;
    close(q->done_fd);
    q->done_fd = -1;
    pthread_cond_destroy(&q->idle_cv);
    pthread_cond_destroy(&q->work_cv);
    pthread_mutex_destroy(&q->mu);
}
