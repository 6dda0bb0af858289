/* The VMM's event loop: run the hart in slices; between slices let timers
 * catch up and service the console; when the hart waits (WFI), sleep in
 * poll() until the next timer deadline or input, so an idle VM costs
 * almost no host CPU. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board/board_riscv_virt.h"
#include "condo/console.h"
#include "condo/event_loop.h"
#include "condo/vm.h"

#define SLICE_INSNS 100000
/* A guest that resets this many times within RESET_WINDOW_NS is stuck. */
#define RESET_LIMIT 3
#define RESET_WINDOW_NS (30ull * 1000000000ull)

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

/* Feed buffered console input to the UART as its FIFO has room. */
static void pump_input(struct riscv_virt *m, struct console *con)
{
    size_t room = uart16550_rx_space(&m->uart);
    if (!room || !con->in_len)
        return;
    uint8_t buf[UART16550_FIFO];
    if (room > sizeof(buf))
        room = sizeof(buf);
    size_t n = console_take(con, buf, room);
    uart16550_receive(&m->uart, buf, n);
}

static void console_ready(void *opaque, short revents)
{
    (void)revents;
    console_read_input(opaque);
}

/* Poll every watched fd (console, backends) for up to timeout_ms. */
static void service_io(struct riscv_virt *m, struct console *con, struct event_loop *loop,
                       int con_watch, int timeout_ms)
{
    event_loop_set_events(loop, con_watch, console_wants_input(con) ? POLLIN : 0);
    console_flush(con);
    event_loop_poll(loop, timeout_ms);
    pump_input(m, con);
}

static int wait_timeout_ms(struct riscv_virt *m, uint64_t deadline)
{
    uint64_t io = riscv_virt_io_deadline_ns(m);
    if (deadline == UINT64_MAX && io == UINT64_MAX)
        return 100; /* nothing armed: wake up now and then anyway */
    uint64_t ns = deadline == UINT64_MAX ? UINT64_MAX : vm_clock_ns_until(&m->clock, deadline);
    if (io != UINT64_MAX) {
        uint64_t now = condo_clock_ns();
        uint64_t io_ns = io > now ? io - now : 0;
        if (io_ns < ns)
            ns = io_ns;
    }
    if (ns == 0)
        return 0;
    uint64_t ms = (ns + 999999) / 1000000;
    return ms > 100 ? 100 : (int)ms;
}

int vm_run(const struct vm_config *vc, struct error *err)
{
    struct console con;
    console_open(&con, STDIN_FILENO, STDOUT_FILENO);
    struct event_loop loop;
    event_loop_init(&loop);
    int con_watch = event_loop_add_fd(&loop, con.in_fd, POLLIN, console_ready, &con);
    bool bare = vc->bios && strcmp(vc->bios, "none") == 0;
    struct riscv_virt_config cfg = {
        .memory = vc->memory,
        .bios = vc->bios,
        .kernel = vc->kernel,
        .initrd = vc->initrd,
        .append = vc->append,
        .bare_metal = bare,
        .console_out = console_chardev(&con),
        .loop = &loop,
        .disks = vc->disks,
        .ndisks = vc->ndisks,
        .nets = vc->nets,
        .nnets = vc->nnets,
    };
    struct riscv_virt *m = calloc(1, sizeof(*m));
    if (!m) {
        console_close(&con);
        error_set(err, -ENOMEM, "out of memory for the machine");
        return VM_EXIT_RESOURCES;
    }
    int status = VM_EXIT_FAULT;
    if (riscv_virt_init(m, &cfg, err) < 0) {
        status = vm_exit_status_of(err);
        goto out;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if (con.tty)
        condo_err("VM started: Ctrl-A h for help, Ctrl-A x to quit");

    uint64_t start_ns = condo_clock_ns();
    uint64_t reset_times[RESET_LIMIT] = { 0 };
    unsigned nresets = 0;
    for (;;) {
        enum riscv_run_result rr = riscv_cpu_run(&m->cpu, SLICE_INSNS);
        if (m->cpu.exit_request)
            rr = RISCV_RUN_EXIT; /* e.g. a store to tohost right before WFI */
        uint64_t deadline = riscv_virt_tick(m);
        if (got_signal) {
            condo_err("stopped by signal %d", (int)got_signal);
            status = 128 + got_signal;
            break;
        }
        if (con.quit) {
            condo_err("quit from the console (Ctrl-A x)");
            status = VM_EXIT_QUIT;
            break;
        }
        if (rr == RISCV_RUN_EXIT) {
            if (m->cpu.exit_request == RISCV_EXIT_HTIF) {
                int code = m->cpu.htif_exit_code;
                if (code)
                    condo_err("bare-metal program reported failure %d", code);
                status = code == 0 ? 0 : (code > 255 || (code & 255) == 0 ? 1 : code & 255);
                break;
            }
            if (m->syscon_fired) {
                if (m->syscon_act == SYSCON_POWEROFF) {
                    status = VM_EXIT_POWEROFF;
                    break;
                }
                if (m->syscon_act == SYSCON_FAIL) {
                    condo_err("guest powered off with failure code %u", m->syscon_code);
                    status = VM_EXIT_GUEST_FAIL;
                    break;
                }
                /* reset: reboot, unless the guest keeps doing it */
                uint64_t now = condo_clock_ns();
                reset_times[nresets % RESET_LIMIT] = now;
                nresets++;
                if (nresets >= RESET_LIMIT &&
                    now - reset_times[nresets % RESET_LIMIT] < RESET_WINDOW_NS) {
                    condo_err("guest reset loop: %d resets within %llu s (kernel panic?); "
                              "stopping",
                              RESET_LIMIT, RESET_WINDOW_NS / 1000000000ull);
                    status = VM_EXIT_RESET_LOOP;
                    break;
                }
                condo_info("guest reset: rebooting");
                struct error rerr = ERROR_INIT;
                if (riscv_virt_reset(m, &cfg, &rerr) < 0) {
                    condo_err("reboot failed: %s", rerr.msg);
                    status = VM_EXIT_FAULT;
                    break;
                }
                continue;
            }
            condo_err("emulator fault: hart stopped at pc 0x%llx",
                      (unsigned long long)m->cpu.pc);
            status = VM_EXIT_FAULT;
            break;
        }
        if (rr == RISCV_RUN_WFI) {
            while (!riscv_cpu_has_wakeup(&m->cpu) && !got_signal && !con.quit) {
                service_io(m, &con, &loop, con_watch, wait_timeout_ms(m, deadline));
                deadline = riscv_virt_tick(m);
            }
            m->cpu.wfi = false;
        } else {
            service_io(m, &con, &loop, con_watch, 0);
        }
    }
    condo_info("%llu instructions retired in %.2f s", (unsigned long long)m->cpu.instret,
               (double)(condo_clock_ns() - start_ns) / 1e9);
out:
    console_close(&con);
    riscv_virt_free(m);
    free(m);
    return status;
}
