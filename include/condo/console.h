/* The guest's serial console on condo's stdin/stdout. On a terminal: raw
 * mode and an escape key (Ctrl-A x quits, Ctrl-A h lists the keys). When
 * stdin is not a terminal, bytes pass through unchanged and end of input
 * only stops reading (the VM keeps running). */
#ifndef CONDO_CONSOLE_H
#define CONDO_CONSOLE_H

#include "condo/chardev.h"

#define CONSOLE_IN_SIZE 4096
#define CONSOLE_OUT_SIZE 8192

struct console {
    int in_fd, out_fd;
    bool tty;          /* stdin is a terminal in raw mode */
    bool in_eof;
    bool escape;       /* Ctrl-A seen */
    bool quit;         /* the user asked to quit */
    uint8_t in[CONSOLE_IN_SIZE];
    size_t in_head, in_len;
    uint8_t out[CONSOLE_OUT_SIZE];
    size_t out_len;
};

int console_open(struct console *c, int in_fd, int out_fd);
void console_close(struct console *c);
/* The chardev the UART writes to. */
struct chardev console_chardev(struct console *c);
/* Whether stdin should be polled now (not at EOF, buffer not full). */
bool console_wants_input(const struct console *c);
/* Read what is available on in_fd (non-blocking). */
void console_read_input(struct console *c);
/* Take up to `max` buffered input bytes. */
size_t console_take(struct console *c, uint8_t *buf, size_t max);
void console_flush(struct console *c);

#endif
