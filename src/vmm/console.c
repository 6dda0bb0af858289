/* Serial console backend: stdio (raw terminal, escape keys) or a UNIX
 * socket with scrollback for detached VMs. See include/condo/console.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

static int console_init(struct console *c)
{
    memset(c, 0, sizeof(*c));
    c->in_fd = c->out.fd = c->listen_fd = -1;
    c->in_watch = c->out.watch = c->listen_watch = -1;
    for (unsigned i = 0; i < CONSOLE_MAX_CLIENTS; i++)
        c->clients[i] = (struct console_reader){ c, -1, -1, 0 };
    c->out.owner = c;
    c->ring = malloc(CONSOLE_RING_SIZE);
    if (!c->ring)
        return -ENOMEM;
    pthread_mutex_init(&c->out_mu, NULL);
    return 0;
}

int console_open_stdio(struct console *c, int in_fd, int out_fd)
{
    int r = console_init(c);
    if (r)
        return r;
    c->in_fd = in_fd;
    c->out.fd = out_fd;
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

int console_open_socket(struct console *c, const char *path, struct error *err)
{
    int r = console_init(c);
    if (r)
        return error_set(err, r, "out of memory for the console");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path))
        return error_set(err, -ENAMETOOLONG, "console socket path %s is too long", path);
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return error_set_errno(err, -errno, "cannot create the console socket");
    /* A live socket at the path is someone else's console: refuse. */
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        close(fd);
        return error_set(err, -EADDRINUSE, "console socket %s is in use by another VM", path);
    }
    unlink(path);
    mode_t old = umask(077);
    r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r < 0 || listen(fd, 4) < 0) {
        r = -errno;
        close(fd);
        return error_set_errno(err, r, "cannot listen on console socket %s", path);
    }
    c->listen_fd = fd;
    return 0;
}

static void close_reader(struct console *c, struct console_reader *rd)
{
    if (rd->fd < 0)
        return;
    if (c->loop && rd->watch >= 0)
        event_loop_remove(c->loop, rd->watch);
    close(rd->fd);
    rd->fd = -1;
    rd->watch = -1;
}

void console_close(struct console *c)
{
    if (!c->ring)
        return;
    console_drain(c);
    if (c->tty)
        restore_terminal();
    if (c->in_fd >= 0)
        set_nonblock(c->in_fd, false);
    if (c->out.fd >= 0)
        set_nonblock(c->out.fd, false);
    if (c->loop) {
        event_loop_remove(c->loop, c->in_watch);
        event_loop_remove(c->loop, c->out.watch);
        event_loop_remove(c->loop, c->listen_watch);
    }
    for (unsigned i = 0; i < CONSOLE_MAX_CLIENTS; i++)
        close_reader(c, &c->clients[i]);
    if (c->listen_fd >= 0)
        close(c->listen_fd);
    pthread_mutex_destroy(&c->out_mu);
    free(c->ring);
    c->ring = NULL;
}

/* The UART's output, from whichever thread runs the guest. */
static void console_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct console *c = opaque;
    pthread_mutex_lock(&c->out_mu);
    if (len > CONSOLE_RING_SIZE) { /* only the tail can survive */
        buf += len - CONSOLE_RING_SIZE;
        c->total += len - CONSOLE_RING_SIZE;
        len = CONSOLE_RING_SIZE;
    }
    size_t at = (size_t)(c->total % CONSOLE_RING_SIZE);
    size_t first = CONSOLE_RING_SIZE - at < len ? CONSOLE_RING_SIZE - at : len;
    memcpy(c->ring + at, buf, first);
    memcpy(c->ring, buf + first, len - first);
    c->total += len;
    pthread_mutex_unlock(&c->out_mu);
    if (c->loop)
        event_loop_wake(c->loop);
}

struct chardev console_chardev(struct console *c)
{
    return (struct chardev){ console_write, c };
}

/* Send what the reader's fd takes now. Returns 1 when caught up, 0 when
 * the fd is full, -1 when the reader is gone. */
static int send_some(struct console *c, struct console_reader *rd)
{
    if (rd->fd < 0)
        return 1;
    pthread_mutex_lock(&c->out_mu);
    for (;;) {
        uint64_t oldest = c->total > CONSOLE_RING_SIZE ? c->total - CONSOLE_RING_SIZE : 0;
        if (rd->pos < oldest) { /* overwritten before it could be sent */
            c->dropped += oldest - rd->pos;
            rd->pos = oldest;
        }
        if (rd->pos == c->total)
            break;
        size_t at = (size_t)(rd->pos % CONSOLE_RING_SIZE);
        size_t chunk = (size_t)(c->total - rd->pos);
        if (chunk > CONSOLE_RING_SIZE - at)
            chunk = CONSOLE_RING_SIZE - at;
        /* Copy out, then write without the lock: the UART may go on. */
        uint8_t buf[16384];
        if (chunk > sizeof(buf))
            chunk = sizeof(buf);
        memcpy(buf, c->ring + at, chunk);
        pthread_mutex_unlock(&c->out_mu);
        ssize_t w = write(rd->fd, buf, chunk);
        int e = errno;
        pthread_mutex_lock(&c->out_mu);
        if (w < 0) {
            if (e == EINTR)
                continue;
            pthread_mutex_unlock(&c->out_mu);
            return e == EAGAIN ? 0 : -1;
        }
        rd->pos += (uint64_t)w;
    }
    pthread_mutex_unlock(&c->out_mu);
    return 1;
}

static void help(struct console *c)
{
    static const char text[] = "\r\n"
                               "C-a h    print this help\r\n"
                               "C-a x    quit condo (the VM is stopped)\r\n"
                               "C-a s    snapshot the VM now (run with --snapshot-dir)\r\n"
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

/* Bytes from stdin: escape keys on a terminal, else passed through. */
static void take_stdin(struct console *c, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = buf[i];
        if (!c->tty) {
            push_byte(c, b);
            continue;
        }
        if (c->escape) {
            c->escape = false;
            if (b == 'x' || b == 'X')
                c->quit = true;
            else if (b == 's' || b == 'S')
                c->snapshot = true;
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

static size_t input_room(const struct console *c)
{
    return sizeof(c->in) - c->in_len;
}

static void on_stdin(void *opaque, short revents)
{
    struct console *c = opaque;
    uint8_t buf[512];
    size_t room = input_room(c);
    if (room == 0 || c->in_eof || !(revents & (POLLIN | POLLHUP | POLLERR)))
        return;
    ssize_t n = read(c->in_fd, buf, room < sizeof(buf) ? room : sizeof(buf));
    if (n == 0)
        c->in_eof = true;
    else if (n > 0)
        take_stdin(c, buf, (size_t)n);
}

static void on_stdout(void *opaque, short revents)
{
    struct console *c = opaque;
    (void)revents;
    send_some(c, &c->out);
}

static void client_ready(void *opaque, short revents)
{
    struct console_reader *rd = opaque;
    struct console *c = rd->owner;
    if (revents & POLLIN) {
        uint8_t buf[512];
        size_t room = input_room(c);
        if (room) {
            ssize_t n = read(rd->fd, buf, room < sizeof(buf) ? room : sizeof(buf));
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                close_reader(c, rd);
                return;
            }
            for (ssize_t k = 0; k < n; k++)
                push_byte(c, buf[k]);
        }
    }
    if (revents & (POLLHUP | POLLERR)) {
        close_reader(c, rd);
        return;
    }
    if (send_some(c, rd) < 0)
        close_reader(c, rd);
}

static void on_accept(void *opaque, short revents)
{
    struct console *c = opaque;
    (void)revents;
    int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    for (unsigned i = 0; i < CONSOLE_MAX_CLIENTS; i++) {
        struct console_reader *rd = &c->clients[i];
        if (rd->fd >= 0)
            continue;
        pthread_mutex_lock(&c->out_mu);
        uint64_t back = c->total < CONSOLE_SCROLLBACK ? c->total : CONSOLE_SCROLLBACK;
        rd->pos = c->total - back;
        pthread_mutex_unlock(&c->out_mu);
        rd->fd = fd;
        rd->watch = event_loop_add_fd(c->loop, fd, POLLIN, client_ready, rd);
        if (rd->watch < 0) {
            close(fd);
            rd->fd = -1;
        }
        return;
    }
    static const char busy[] = "condo: too many console clients\r\n";
    ssize_t w = write(fd, busy, sizeof(busy) - 1);
    (void)w;
    close(fd);
}

int console_attach(struct console *c, struct event_loop *loop)
{
    c->loop = loop;
    if (c->in_fd >= 0) {
        c->in_watch = event_loop_add_fd(loop, c->in_fd, POLLIN, on_stdin, c);
        if (c->in_watch < 0)
            return c->in_watch;
    }
    if (c->out.fd >= 0) {
        c->out.watch = event_loop_add_fd(loop, c->out.fd, 0, on_stdout, c);
        if (c->out.watch < 0)
            return c->out.watch;
    }
    if (c->listen_fd >= 0) {
        c->listen_watch = event_loop_add_fd(loop, c->listen_fd, POLLIN, on_accept, c);
        if (c->listen_watch < 0)
            return c->listen_watch;
    }
    return 0;
}

void console_service(struct console *c)
{
    bool room = input_room(c) > 0;
    if (c->out.fd >= 0) {
        int s = send_some(c, &c->out);
        if (s < 0) { /* stdout is gone: drop output, keep the VM running */
            c->out.fd = -1;
            if (c->loop)
                event_loop_remove(c->loop, c->out.watch);
        } else if (c->loop) {
            event_loop_set_events(c->loop, c->out.watch, s ? 0 : POLLOUT);
        }
    }
    if (c->in_fd >= 0 && c->loop)
        event_loop_set_events(c->loop, c->in_watch, !c->in_eof && room ? POLLIN : 0);
    for (unsigned i = 0; i < CONSOLE_MAX_CLIENTS; i++) {
        struct console_reader *rd = &c->clients[i];
        if (rd->fd < 0)
            continue;
        int s = send_some(c, rd);
        if (s < 0) {
            close_reader(c, rd);
            continue;
        }
        event_loop_set_events(c->loop, rd->watch, (room ? POLLIN : 0) | (s ? 0 : POLLOUT));
    }
}

void console_drain(struct console *c)
{
    if (c->out.fd < 0)
        return;
    for (int tries = 0; tries < 1000; tries++) {
        int s = send_some(c, &c->out);
        if (s != 0)
            break;
        struct pollfd p = { .fd = c->out.fd, .events = POLLOUT };
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
