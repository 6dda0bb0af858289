/* The guest's serial console. Two ways to reach it:
 *  - stdio (`condo run` in the foreground): stdin and stdout; on a terminal
 *    raw mode and an escape key (Ctrl-A x quits, Ctrl-A h lists the keys);
 *    when stdin is not a terminal, bytes pass through unchanged and end of
 *    input only stops reading (the VM keeps running);
 *  - a socket (a detached VM): clients connect to a UNIX socket (`condo
 *    console NAME`), first receive the recent output (scrollback), then
 *    everything live; what they send is the guest's input. Escape keys are
 *    the client's business.
 *
 * Threads: the UART writes output from a CPU thread (console_chardev);
 * everything else runs on the VMM's I/O thread, which owns the fds. Output
 * goes into a ring of the last CONSOLE_RING_SIZE bytes; each reader has its
 * own position in it. A reader that falls a whole ring behind loses the
 * excess (counted in `dropped`): a slow or absent reader never stalls the
 * guest. */
#ifndef CONDO_CONSOLE_H
#define CONDO_CONSOLE_H

#include <pthread.h>

#include "condo/chardev.h"
#include "condo/error.h"
#include "condo/event_loop.h"

#define CONSOLE_IN_SIZE 4096
#define CONSOLE_RING_SIZE (1u << 20)
#define CONSOLE_SCROLLBACK (64u << 10) /* what a newly attached client sees first */
#define CONSOLE_MAX_CLIENTS 8

struct console;

struct console_reader {
    struct console *owner;
    int fd;
    int watch;    /* event-loop watch id */
    uint64_t pos; /* next byte of the output stream to send */
};

struct console {
    int in_fd;   /* stdin, or -1 */
    bool tty;    /* stdin is a terminal in raw mode */
    bool in_eof;
    bool escape; /* Ctrl-A seen */
    bool quit;   /* the user asked to quit */
    bool snapshot; /* the user asked for a snapshot (Ctrl-A s) */
    uint8_t in[CONSOLE_IN_SIZE];
    size_t in_head, in_len;
    int in_watch;

    /* output: the ring and its total (bytes ever written), under out_mu */
    pthread_mutex_t out_mu;
    uint8_t *ring;
    uint64_t total;
    uint64_t dropped;

    struct console_reader out;  /* stdout (fd -1 when detached) */
    int listen_fd, listen_watch; /* the console socket, or -1 */
    struct console_reader clients[CONSOLE_MAX_CLIENTS];
    struct event_loop *loop; /* woken when output arrives */
};

/* The console on stdin/stdout. 0 or a negative errno. */
int console_open_stdio(struct console *c, int in_fd, int out_fd);
/* The console on a listening UNIX socket at `path` (mode 0600; a stale
 * socket file is replaced, a live one refused). */
int console_open_socket(struct console *c, const char *path, struct error *err);
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
/* Send out what is buffered, as far as the fds take it without blocking;
 * re-arm the fd watches (I/O thread). */
void console_service(struct console *c);
/* Write everything to stdout, waiting if needed (at exit). */
void console_drain(struct console *c);

#endif
