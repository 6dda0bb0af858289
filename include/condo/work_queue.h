/* A FIFO of jobs run one at a time, in the order submitted, on a host
 * thread of the queue's own; finished jobs come back through an eventfd
 * that an event loop can watch (the I/O thread then completes them under
 * the machine lock). Lets a device hand slow work (disk I/O) off the vCPU
 * thread while keeping the order of that work exactly as submitted: a job
 * starts only after every job submitted before it has finished.
 *
 * With an owner lock (work_queue_set_owner), the worker completes jobs
 * itself: after each job it tries that lock and, when it gets it, calls
 * the owner's completion function there and then, so a finished job is
 * answered without waking another thread. When the lock is busy (someone
 * holds it, maybe waiting for this queue) the eventfd is signalled
 * instead, as without an owner: the worker never blocks on the owner's
 * lock, so an owner waiting for the queue under it cannot deadlock.
 *
 * The thread starts with the first submit (a device never used costs
 * nothing). Jobs belong to the caller; the queue only links them. Every
 * function is for the owner's thread(s) under the owner's lock, except
 * that the job's run() is called on the worker thread. */
#ifndef CONDO_WORK_QUEUE_H
#define CONDO_WORK_QUEUE_H

#include <pthread.h>

#include "condo/common.h"

struct work_item {
    struct work_item *next;
    void (*run)(struct work_item *w); /* on the worker thread */
};

struct work_queue {
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* the worker waits here for jobs (or stop) */
    pthread_cond_t idle_cv; /* waiters for "nothing pending or running" */
    struct work_item *head, *tail;           /* submitted, not started */
    struct work_item *done_head, *done_tail; /* finished, not yet taken */
    struct work_item *running;
    pthread_t thread;
    bool started, stop;
    bool completing; /* the worker is in complete() under the owner lock */
    bool polled;     /* a job just ended: look for the next before sleeping */
    bool signalled;  /* done_fd was written and not read since */
    int done_fd; /* eventfd: readable while finished jobs wait */
    pthread_mutex_t *owner_lock; /* see work_queue_set_owner */
    void (*complete)(void *opaque);
    void *opaque;
};

/* 0 or a negative errno (the eventfd cannot be made). */
int work_queue_init(struct work_queue *q);
/* Cancel what has not started, wait for the running job, stop the thread.
 * Jobs still queued or finished are dropped (still the caller's memory);
 * call work_queue_cancel/take_done first to get them back. */
void work_queue_destroy(struct work_queue *q);
/* Let the worker complete jobs itself: when it can take `lock` without
 * waiting, it calls complete(opaque) under it (complete takes the
 * finished jobs with work_queue_take_done). Call before the first
 * submit. The eventfd stays the path when the lock is busy. */
void work_queue_set_owner(struct work_queue *q, pthread_mutex_t *lock,
                          void (*complete)(void *opaque), void *opaque);
/* The fd to watch for POLLIN (finished jobs). */
int work_queue_fd(const struct work_queue *q);
/* Queue w behind everything submitted before. 0, or a negative errno when
 * the worker thread cannot be started (w is not queued: run it yourself). */
int work_queue_submit(struct work_queue *q, struct work_item *w);
/* The finished jobs, oldest first (NULL: none); clears the fd. */
struct work_item *work_queue_take_done(struct work_queue *q);
/* Wait until nothing is queued, running or being completed by the worker
 * (finished jobs stay to take). */
void work_queue_wait_idle(struct work_queue *q);
/* Remove the jobs not yet started and return them, oldest first; then
 * wait for the running one (it joins the finished list). */
struct work_item *work_queue_cancel(struct work_queue *q);

#endif
