/* Serial console backend: stdin/stdout, raw terminal mode, escape keys. */
#include <errno.h>
#include <fcntl.h>
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

int console_open(struct console *c, int in_fd, int out_fd)
{
    memset(c, 0, sizeof(*c));
    c->in_fd = in_fd;
    c->out_fd = out_fd;
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
    int fl = fcntl(in_fd, F_GETFL);
    if (fl >= 0)
        fcntl(in_fd, F_SETFL, fl | O_NONBLOCK);
    return 0;
}

void console_close(struct console *c)
{
    console_flush(c);
    if (c->tty)
        restore_terminal();
    int fl = fcntl(c->in_fd, F_GETFL);
    if (fl >= 0)
        fcntl(c->in_fd, F_SETFL, fl & ~O_NONBLOCK);
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                usleep(1000);
                continue;
            }
            return; /* stdout gone: drop output, keep the VM running */
        }
        p += w;
        n -= (size_t)w;
    }
}

void console_flush(struct console *c)
{
    if (c->out_len) {
        write_all(c->out_fd, c->out, c->out_len);
        c->out_len = 0;
    }
}

static void console_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct console *c = opaque;
    if (c->out_len + len > sizeof(c->out))
        console_flush(c);
    if (len > sizeof(c->out)) {
        write_all(c->out_fd, buf, len);
        return;
    }
    memcpy(c->out + c->out_len, buf, len);
    c->out_len += len;
    /* A line end is a good moment to show output: interactive users see
     * it at once and it costs one write per line. */
    if (memchr(buf, '\n', len) || c->tty)
        console_flush(c);
}

struct chardev console_chardev(struct console *c)
{
    return (struct chardev){ console_write, c };
}

bool console_wants_input(const struct console *c)
{
    return !c->in_eof && c->in_len < sizeof(c->in);
}

static void push_byte(struct console *c, uint8_t b)
{
    if (c->in_len < sizeof(c->in)) {
        c->in[(c->in_head + c->in_len) % sizeof(c->in)] = b;
        c->in_len++;
    }
}

static void help(struct console *c)
{
    static const char text[] = "\r\n"
                               "C-a h    print this help\r\n"
                               "C-a x    quit condo (the VM is stopped)\r\n"
                               "C-a C-a  send C-a to the guest\r\n";
    console_flush(c);
    write_all(STDERR_FILENO, (const uint8_t *)text, sizeof(text) - 1);
}

void console_read_input(struct console *c)
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

size_t console_take(struct console *c, uint8_t *buf, size_t max)
{
    size_t n = 0;
    while (n < max && c->in_len) {
        buf[n++] = c->in[c->in_head];
        c->in_head = (c->in_head + 1) % sizeof(c->in);
        c->in_len--;
    }
    return n;
}
