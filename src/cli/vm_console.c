/* condo console NAME: attach to a running VM's serial console. The VMM
 * sends the recent output first (scrollback), then everything live. On a
 * terminal: raw mode, Ctrl-A d detaches (the VM runs on), Ctrl-A h lists
 * the keys, Ctrl-A Ctrl-A sends a Ctrl-A. Without a terminal, bytes pass
 * through; the session ends when the VM stops or on SIGINT/SIGTERM. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cli/vm_common.h"

#define ESCAPE_KEY 0x01

static struct termios saved;
static bool raw_on;
static volatile sig_atomic_t stop_sig;

static void restore(void)
{
    if (raw_on) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        raw_on = false;
    }
}

static void on_sig(int s)
{
    stop_sig = s;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pf = { .fd = fd, .events = POLLOUT };
                poll(&pf, 1, 1000);
                continue;
            }
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

int cli_vm_console(int argc, char **argv)
{
    optind = 1;
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: condo console NAME\n\nAttach to a running VM's console: recent output "
               "first, then live.\nOn a terminal: Ctrl-A d detaches (the VM runs on), Ctrl-A h "
               "lists the keys.\n");
        return 0;
    }
    const char *name;
    int st = cli_one_name(argc, argv, "condo console NAME", &name);
    if (st)
        return st;
    struct condo_paths p;
    struct vm_paths vp;
    struct error err = ERROR_INIT;
    if (condo_paths_get(&p, false, &err) < 0 || vm_paths_get(&p, name, &vp, &err) < 0)
        return cli_vm_fail(&err);
    struct vm_info vi;
    st = cli_vm_lookup(&p, name, &vi);
    if (st)
        return st;
    enum vm_state s = vi.state;
    vm_info_free(&vi);
    if (s != VM_STATE_RUNNING) {
        fprintf(stderr, "condo: VM %s is %s: no console to attach to\n", name,
                vm_state_name(s));
        return CLI_WRONG_STATE;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(vp.console) >= sizeof(sa.sun_path)) { /* vm_paths_get checked it */
        close(fd);
        return CLI_USAGE;
    }
    memcpy(sa.sun_path, vp.console, strlen(vp.console) + 1);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        fprintf(stderr, "condo: cannot attach to %s's console (%s): %s\n", name, vp.console,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return CLI_UNREACHABLE;
    }
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        struct termios raw = saved;
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) {
            raw_on = true;
            atexit(restore);
            fprintf(stderr, "condo: attached to %s: Ctrl-A d detaches, Ctrl-A h lists the "
                            "keys\r\n", name);
        }
    }
    signal(SIGINT, on_sig);
    signal(SIGTERM, on_sig);
    signal(SIGHUP, on_sig);
    signal(SIGPIPE, SIG_IGN);
    bool in_open = true, escape = false, detached = false;
    int status = 0;
    while (!stop_sig && !detached) {
        struct pollfd pf[2] = { { .fd = fd, .events = POLLIN },
                                { .fd = STDIN_FILENO, .events = POLLIN } };
        int n = poll(pf, in_open ? 2 : 1, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pf[0].revents) {
            uint8_t buf[16384];
            ssize_t r = read(fd, buf, sizeof(buf));
            if (r <= 0) {
                if (r < 0 && errno == EINTR)
                    continue;
                restore();
                fprintf(stderr, "\r\ncondo: %s's console closed (the VM stopped)\n", name);
                break;
            }
            if (!write_all(STDOUT_FILENO, buf, (size_t)r))
                break;
        }
        if (in_open && pf[1].revents) {
            uint8_t in[512], out[512];
            ssize_t r = read(STDIN_FILENO, in, sizeof(in));
            if (r <= 0) {
                if (r < 0 && errno == EINTR)
                    continue;
                in_open = false; /* end of input: keep showing output */
                continue;
            }
            size_t k = 0;
            for (ssize_t i = 0; i < r; i++) {
                uint8_t b = in[i];
                if (!tty) {
                    out[k++] = b;
                } else if (escape) {
                    escape = false;
                    if (b == 'd' || b == 'D') {
                        detached = true;
                        break;
                    } else if (b == 'h' || b == 'H' || b == '?') {
                        fprintf(stderr, "\r\nC-a d    detach (the VM runs on)\r\n"
                                        "C-a h    this help\r\n"
                                        "C-a C-a  send C-a to the guest\r\n");
                    } else if (b == ESCAPE_KEY) {
                        out[k++] = b;
                    }
                } else if (b == ESCAPE_KEY) {
                    escape = true;
                } else {
                    out[k++] = b;
                }
            }
            if (k && !write_all(fd, out, k))
                break;
        }
    }
    restore();
    if (detached)
        fprintf(stderr, "\r\ncondo: detached from %s (it runs on)\n", name);
    close(fd);
    return status;
}
