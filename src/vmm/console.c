/* Serial console backend: stdin/stdout, raw terminal mode, escape keys. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "condo/console.h"

#define ESCAPE_KEY 0x01 /* Ctrl-A */

static struct termios saved_tio;
static bool tio_saved;

static void restore_terminal(void)
{
    if (tio_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
        tio_saved = false;
    }
}

static void set_nonblock(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK));
}

int console_open(struct console *c, int in_fd, int out_fd)
{
    memset(c, 0, sizeof(*c));
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    c->in_watch = c->out_watch = -1;
    c->out = malloc(CONSOLE_OUT_SIZE);
    if (!c->out)
        return -ENOMEM;
    pthread_mutex_init(&c->out_mu, NULL);
    if (isatty(in_fd) && tcgetattr(in_fd, &saved_tio) == 0) {
        struct termios raw = saved_tio;
        cfmakeraw(&raw);
        /* keep output post-processing off too: the guest sends \r\n */
        if (tcsetattr(in_fd, TCSANOW, &raw) == 0) {
            tio_saved = true;
            c->tty = true;
            atexit(restore_terminal);
        }
    }
    set_nonblock(in_fd, true);
    set_nonblock(out_fd, true);
    return 0;
}

void console_close(struct console *c)
{
    if (!c->out)
        return;
    console_drain(c);
    if (c->tty)
        restore_terminal();
    set_nonblock(c->in_fd, false);
    set_nonblock(c->out_fd, false);
    if (c->loop) {
        event_loop_remove(c->loop, c->in_watch);
        event_loop_remove(c->loop, c->out_watch);
    }
    pthread_mutex_destroy(&c->out_mu);
    free(c->out);
    c->out = NULL;
}

/* The UART's output, from whichever thread runs the guest. */
static void console_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct console *c = opaque;
    pthread_mutex_lock(&c->out_mu);
    bool was_empty = c->out_len == 0;
    for (size_t i = 0; i < len; i++) {
        if (c->out_len == CONSOLE_OUT_SIZE) {
            c->dropped += len - i;
            break;
        }
        c->out[(c->out_head + c->out_len) % CONSOLE_OUT_SIZE] = buf[i];
        c->out_len++;
    }
    pthread_mutex_unlock(&c->out_mu);
    if (was_empty && c->loop)
        event_loop_wake(c->loop);
}

struct chardev console_chardev(struct console *c)
{
    return (struct chardev){ console_write, c };
}

/* Write what the fd takes now; true when the buffer is empty after. */
static bool flush_some(struct console *c)
{
    pthread_mutex_lock(&c->out_mu);
    while (c->out_len) {
        size_t chunk = CONSOLE_OUT_SIZE - c->out_head;
        if (chunk > c->out_len)
            chunk = c->out_len;
        const uint8_t *p = c->out + c->out_head;
        pthread_mutex_unlock(&c->out_mu);
        ssize_t w = write(c->out_fd, p, chunk);
        int e = errno;
        pthread_mutex_lock(&c->out_mu);
        if (w < 0) {
            if (e == EINTR)
                continue;
            if (e == EAGAIN)
                break;
            c->out_len = 0; /* stdout is gone: drop output, keep the VM running */
            break;
        }
        c->out_head = (c->out_head + (size_t)w) % CONSOLE_OUT_SIZE;
        c->out_len -= (size_t)w;
    }
    bool empty = c->out_len == 0;
    pthread_mutex_unlock(&c->out_mu);
    return empty;
}

static void help(struct console *c)
{
    static const char text[] = "\r\n"
                               "C-a h    print this help\r\n"
                               "C-a x    quit condo (the VM is stopped)\r\n"
                               "C-a C-a  send C-a to the guest\r\n";
    console_drain(c);
    ssize_t r = write(STDERR_FILENO, text, sizeof(text) - 1);
    (void)r;
}

static void push_byte(struct console *c, uint8_t b)
{
    if (c->in_len < sizeof(c->in)) {
        c->in[(c->in_head + c->in_len) % sizeof(c->in)] = b;
        c->in_len++;
    }
}

static void read_input(struct console *c)
{
    uint8_t buf[512];
    size_t room = sizeof(c->in) - c->in_len;
    if (room == 0 || c->in_eof)
        return;
    if (room > sizeof(buf))
        room = sizeof(buf);
    ssize_t n = read(c->in_fd, buf, room);
    if (n == 0) {
        c->in_eof = true;
        return;
    }
    if (n < 0)
        return;
    for (ssize_t i = 0; i < n; i++) {
        uint8_t b = buf[i];
        if (!c->tty) {
            push_byte(c, b);
            continue;
        }
        if (c->escape) {
            c->escape = false;
            if (b == 'x' || b == 'X')
                c->quit = true;
            else if (b == 'h' || b == 'H' || b == '?')
                help(c);
            else if (b == ESCAPE_KEY)
                push_byte(c, b);
            continue;
        }
        if (b == ESCAPE_KEY) {
            c->escape = true;
            continue;
        }
        push_byte(c, b);
    }
}

static void on_input(void *opaque, short revents)
{
    struct console *c = opaque;
    if (revents & (POLLIN | POLLHUP | POLLERR))
        read_input(c);
}

static void on_output(void *opaque, short revents)
{
    (void)revents;
    flush_some(opaque);
}

int console_attach(struct console *c, struct event_loop *loop)
{
    c->loop = loop;
    c->in_watch = event_loop_add_fd(loop, c->in_fd, POLLIN, on_input, c);
    if (c->in_watch < 0)
        return c->in_watch;
    c->out_watch = event_loop_add_fd(loop, c->out_fd, 0, on_output, c);
    return c->out_watch < 0 ? c->out_watch : 0;
}

void console_service(struct console *c)
{
    bool empty = flush_some(c);
    if (!c->loop)
        return;
    event_loop_set_events(c->loop, c->out_watch, empty ? 0 : POLLOUT);
    bool want_in = !c->in_eof && c->in_len < sizeof(c->in);
    event_loop_set_events(c->loop, c->in_watch, want_in ? POLLIN : 0);
}

void console_drain(struct console *c)
{
    for (int tries = 0; tries < 1000 && !flush_some(c); tries++) {
        struct pollfd p = { .fd = c->out_fd, .events = POLLOUT };
        if (poll(&p, 1, 100) <= 0 || (p.revents & (POLLERR | POLLHUP)))
            break;
    }
}

size_t console_input_pending(const struct console *c)
{
    return c->in_len;
}

size_t console_peek(const struct console *c, uint8_t *buf, size_t max)
{
    size_t n = 0;
    for (; n < max && n < c->in_len; n++)
        buf[n] = c->in[(c->in_head + n) % sizeof(c->in)];
    return n;
}

void console_consume(struct console *c, size_t n)
{
    if (n > c->in_len)
        n = c->in_len;
    c->in_head = (c->in_head + n) % sizeof(c->in);
    c->in_len -= n;
}
