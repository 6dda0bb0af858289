/* The guest's serial console on condo's stdin/stdout. On a terminal: raw
 * mode and an escape key (Ctrl-A x quits, Ctrl-A h lists the keys). When
 * stdin is not a terminal, bytes pass through unchanged and end of input
 * only stops reading (the VM keeps running).
 *
 * Threads: the UART writes output from a CPU thread (console_chardev);
 * everything else runs on the VMM's I/O thread, which owns the fds. Output
 * is buffered in between (CONSOLE_OUT_SIZE; a guest that writes faster than
 * the reader takes loses the excess, counted in `dropped`), so a slow or
 * stopped reader never stalls the guest. */
#ifndef CONDO_CONSOLE_H
#define CONDO_CONSOLE_H

#include <pthread.h>

#include "condo/chardev.h"
#include "condo/event_loop.h"

#define CONSOLE_IN_SIZE 4096
#define CONSOLE_OUT_SIZE (1u << 20)

struct console {
    int in_fd, out_fd;
    bool tty;    /* stdin is a terminal in raw mode */
    bool in_eof;
    bool escape; /* Ctrl-A seen */
    bool quit;   /* the user asked to quit */
    uint8_t in[CONSOLE_IN_SIZE];
    size_t in_head, in_len;

    /* output: written by the UART (any thread), drained by the I/O thread */
    pthread_mutex_t out_mu;
    uint8_t *out; /* ring of CONSOLE_OUT_SIZE bytes */
    size_t out_head, out_len;
    uint64_t dropped;
    struct event_loop *loop; /* woken when output arrives */
    int in_watch, out_watch;
};

/* 0 or a negative errno (out of memory). */
int console_open(struct console *c, int in_fd, int out_fd);
/* Watch the fds on `loop` (the I/O thread's). */
int console_attach(struct console *c, struct event_loop *loop);
void console_close(struct console *c);
/* The chardev the UART writes to (any thread). */
struct chardev console_chardev(struct console *c);
/* Bytes of input waiting for the guest. */
size_t console_input_pending(const struct console *c);
/* Copy up to `max` waiting input bytes without taking them. */
size_t console_peek(const struct console *c, uint8_t *buf, size_t max);
/* Drop `n` input bytes the guest took. */
void console_consume(struct console *c, size_t n);
/* Write out what is buffered, as far as the fd takes it without blocking;
 * re-arm the fd watches (I/O thread). */
void console_service(struct console *c);
/* Write everything, waiting if needed (at exit). */
void console_drain(struct console *c);

#endif
