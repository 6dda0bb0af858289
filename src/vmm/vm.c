/* The VM loop: one host thread per virtual CPU, and the I/O thread (the
 * process's main thread) for everything else.
 *
 * A CPU thread runs its CPU in slices (run, then cpu_tick: its timers),
 * sleeps while the CPU waits for an interrupt (WFI) until a kick or its
 * next timer deadline, and parks when the VM is paused, stopping, or when
 * the guest asked for something the I/O thread must do (power off, reboot).
 * The I/O thread polls the event loop (console, network and disk backends,
 * later the API), runs device timers (io_tick), feeds console input, and
 * acts on what the guest asked for. The board is reached only through
 * `struct machine_ops`: this file knows no board.
 *
 * Buttons: SIGUSR1 presses the guest's power button and SIGUSR2 sends
 * Ctrl+Alt+Del (machine_ops.power_button / ctrl_alt_del, on the I/O
 * thread). When the guest cannot take them (no driver yet) condo says so
 * on stderr and the VM runs on: a signal is a button, not a stop
 * (SIGTERM stops the VM).
 *
 * Parking protocol: the I/O thread raises a control flag (pause, stop) or
 * a CPU raises `exit`; every CPU thread sees a flag at its next slice
 * boundary (kicks end slices and waits early), counts itself in `parked`
 * and waits on ctl_cv until the flags clear. The I/O thread waits for
 * parked == ncpus before it touches the machine as a whole (reset, and
 * later snapshots). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "condo/boards.h"
#include "condo/console.h"
#include "condo/event_loop.h"
#include "condo/guest_ram.h"
#include "condo/sandbox.h"
#include "condo/vm.h"
#include "condo/vm_def.h"
#include "vm_snapshot_internal.h"
#include "vmm/vm_internal.h"

#define SLICE_INSNS 100000
/* A guest that resets this many times within RESET_WINDOW_NS is stuck. */
#define RESET_LIMIT 3
#define RESET_WINDOW_NS (30ull * 1000000000ull)
/* The longest a thread sleeps without re-checking anything. */
#define MAX_SLEEP_NS 1000000000ull
/* A CPU that used under 1/IDLE_SHARE of a core over a window of
 * IDLE_WINDOW_NS is idle: it gives back its engine caches once, and once
 * every CPU is idle the I/O thread gives back RAM's zero pages. */
#define IDLE_WINDOW_NS (2ull * 1000000000ull)
#define IDLE_SHARE 50
/* The CPU cap is enforced over periods of this length. */
#define CAP_PERIOD_NS 100000000ull

#define CTL_PAUSE VM_CTL_PAUSE
#define CTL_STOP VM_CTL_STOP
#define CTL_EXIT VM_CTL_EXIT

static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t got_power_button, got_ctrl_alt_del;
static struct event_loop *signal_loop;

static void on_signal(int sig)
{
    got_signal = sig;
    if (signal_loop)
        event_loop_wake(signal_loop);
}

static void on_button_signal(int sig)
{
    if (sig == SIGUSR1)
        got_power_button = 1;
    else
        got_ctrl_alt_del = 1;
    if (signal_loop)
        event_loop_wake(signal_loop);
}

static void cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

static struct timespec abs_time(uint64_t mono_ns)
{
    return (struct timespec){ .tv_sec = (time_t)(mono_ns / 1000000000ull),
                              .tv_nsec = (long)(mono_ns % 1000000000ull) };
}

static int ctl_flags(struct vm *vm)
{
    return __atomic_load_n(&vm->ctl, __ATOMIC_ACQUIRE);
}

/* --- what the board calls --- */

/* Wake CPU `cpu`'s thread if it waits (the board's env->kick_cpu). */
static void wake_cpu(void *opaque, unsigned cpu)
{
    struct vm *vm = opaque;
    if (cpu >= vm->ncpus)
        return;
    struct vcpu *v = &vm->vcpu[cpu];
    pthread_mutex_lock(&v->mu);
    v->kicked = true;
    pthread_cond_signal(&v->cv);
    pthread_mutex_unlock(&v->mu);
}

/* Get CPU `cpu`'s thread to look at the control flags soon. */
static void kick_cpu(struct vm *vm, unsigned cpu)
{
    vm->ops->cpu_interrupt(vm->m, cpu);
    wake_cpu(vm, cpu);
}

static void console_room(void *opaque)
{
    struct vm *vm = opaque;
    if (console_input_pending(&vm->con))
        event_loop_wake(&vm->loop);
}

/* --- the CPU threads --- */

/* Wait until the control flags clear; true when the thread must end. */
static bool park(struct vcpu *v)
{
    struct vm *vm = v->vm;
    pthread_mutex_lock(&vm->ctl_mu);
    vm->parked++;
    pthread_cond_broadcast(&vm->ctl_cv);
    while (vm->ctl && !(vm->ctl & CTL_STOP))
        pthread_cond_wait(&vm->ctl_cv, &vm->ctl_mu);
    vm->parked--;
    bool stop = vm->ctl & CTL_STOP;
    pthread_mutex_unlock(&vm->ctl_mu);
    return stop;
}

/* The guest asked for something (power off, reboot, a finished test, a
 * fault): record the first such request for the I/O thread. */
static void post_exit(struct vcpu *v)
{
    struct vm *vm = v->vm;
    struct machine_exit ex;
    pthread_mutex_lock(&vm->lock);
    vm->ops->exit_reason(vm->m, &ex);
    pthread_mutex_unlock(&vm->lock);
    pthread_mutex_lock(&vm->ctl_mu);
    if (!(vm->ctl & CTL_EXIT)) {
        vm->exit = ex;
        __atomic_fetch_or(&vm->ctl, CTL_EXIT, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&vm->ctl_mu);
    event_loop_wake(&vm->loop);
}

/* Sleep while the CPU waits for an interrupt: until a kick, a pending
 * interrupt, a control flag, or its next timer deadline. */
static void wait_for_interrupt(struct vcpu *v, uint64_t deadline)
{
    struct vm *vm = v->vm;
    uint64_t cap = condo_clock_ns() + MAX_SLEEP_NS;
    if (deadline > cap)
        deadline = cap;
    pthread_mutex_lock(&v->mu);
    while (!v->kicked && !ctl_flags(vm) && !vm->ops->cpu_wakeup(vm->m, v->index)) {
        if (condo_clock_ns() >= deadline)
            break;
        struct timespec ts = abs_time(deadline);
        pthread_cond_timedwait(&v->cv, &v->mu, &ts);
    }
    v->kicked = false;
    pthread_mutex_unlock(&v->mu);
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --cpu-limit: each CPU thread may use its share of the cap in every
 * period; past it, it sleeps out the period (control flags still wake it).
 * Enforced here, by the VMM itself, so it holds without root or cgroups. */
static void throttle(struct vcpu *v)
{
    struct vm *vm = v->vm;
    unsigned pct = __atomic_load_n(&vm->cpu_limit_pct, __ATOMIC_RELAXED);
    if (!pct)
        return;
    uint64_t now = condo_clock_ns();
    uint64_t cpu = thread_cpu_ns();
    if (now - v->period_start_ns >= CAP_PERIOD_NS) {
        v->period_start_ns = now;
        v->period_cpu_ns = cpu;
        return;
    }
    uint64_t quota = CAP_PERIOD_NS * pct / 100 / vm->ncpus;
    if (cpu - v->period_cpu_ns < quota)
        return;
    uint64_t end = v->period_start_ns + CAP_PERIOD_NS;
    pthread_mutex_lock(&v->mu);
    while (!ctl_flags(vm) && condo_clock_ns() < end) {
        struct timespec ts = abs_time(end);
        pthread_cond_timedwait(&v->cv, &v->mu, &ts);
    }
    pthread_mutex_unlock(&v->mu);
}

/* Is this CPU idle? Measured over windows of IDLE_WINDOW_NS of its own
 * thread's CPU time. On entering idleness, at a wait (between blocks, off
 * the compiled code), its engine caches are trimmed: an idle VM otherwise
 * keeps the code of its whole boot (tens of MiB) for good. A busy period
 * re-arms it. */
static void idle_check(struct vcpu *v, bool waiting)
{
    struct vm *vm = v->vm;
    uint64_t now = condo_clock_ns();
    if (now - v->idle_start_ns < IDLE_WINDOW_NS)
        return;
    uint64_t cpu = thread_cpu_ns();
    bool busy = cpu - v->idle_cpu_ns > (now - v->idle_start_ns) / IDLE_SHARE;
    if (busy) {
        __atomic_store_n(&v->idle, false, __ATOMIC_RELEASE);
    } else if (!__atomic_load_n(&v->idle, __ATOMIC_ACQUIRE)) {
        if (!waiting)
            return; /* trimmed at its next wait */
        size_t held = vm->ops->cpu_trim ? vm->ops->cpu_trim(vm->m, v->index) : 0;
        if (held) {
            __atomic_fetch_add(&vm->idle_cache_bytes, (uint64_t)held, __ATOMIC_RELAXED);
            condo_debug("CPU %u idle: its engine caches (%zu KiB) given back", v->index,
                        held >> 10);
        }
        __atomic_fetch_add(&v->idle_gen, 1, __ATOMIC_RELEASE);
        __atomic_store_n(&v->idle, true, __ATOMIC_RELEASE);
        event_loop_wake(&vm->loop);
    }
    v->idle_start_ns = now;
    v->idle_cpu_ns = cpu;
}

static void *vcpu_main(void *arg)
{
    struct vcpu *v = arg;
    struct vm *vm = v->vm;
    const struct machine_ops *ops = vm->ops;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals go to the I/O thread */
    v->period_start_ns = condo_clock_ns();
    v->period_cpu_ns = thread_cpu_ns();
    v->idle_start_ns = v->period_start_ns;
    v->idle_cpu_ns = v->period_cpu_ns;
    if (v->index == 0 && vm->opts->restore) /* bench/snapshot.py reads this (-v) */
        condo_info("restore: first guest instruction %.3f ms after condo started "
                   "(monotonic %llu ns)",
                   (double)(v->period_start_ns - condo_start_ns) / 1e6,
                   (unsigned long long)v->period_start_ns);
    for (;;) {
        if (ctl_flags(vm)) {
            if (park(v))
                break;
            continue;
        }
        enum machine_run r = ops->run(vm->m, v->index, SLICE_INSNS);
        uint64_t deadline = ops->cpu_tick(vm->m, v->index);
        if (r == MACHINE_RUN_EXIT) {
            post_exit(v);
            continue;
        }
        throttle(v);
        idle_check(v, r == MACHINE_RUN_WAIT);
        if (r == MACHINE_RUN_WAIT)
            wait_for_interrupt(v, deadline);
    }
    return NULL;
}

/* --- the I/O thread's control of the CPU threads --- */

static void set_ctl(struct vm *vm, int set, int clear)
{
    pthread_mutex_lock(&vm->ctl_mu);
    __atomic_store_n(&vm->ctl, (vm->ctl | set) & ~clear, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&vm->ctl_cv);
    pthread_mutex_unlock(&vm->ctl_mu);
}

/* Raise `flag` and wait until every CPU thread is parked. */
static void stop_cpus(struct vm *vm, int flag)
{
    set_ctl(vm, flag, 0);
    for (unsigned i = 0; i < vm->ncpus; i++)
        kick_cpu(vm, i);
    pthread_mutex_lock(&vm->ctl_mu);
    while (vm->parked < vm->ncpus)
        pthread_cond_wait(&vm->ctl_cv, &vm->ctl_mu);
    pthread_mutex_unlock(&vm->ctl_mu);
}

/* For vm_snapshot.c (vm_snapshot_internal.h): run fn on the machine with
 * every CPU parked and the machine lock held, then let the CPUs go on. */
int vm_with_machine_stopped(struct vm *vm, int (*fn)(struct machine *m, void *arg), void *arg)
{
    stop_cpus(vm, CTL_PAUSE);
    pthread_mutex_lock(&vm->lock);
    int r = fn(vm->m, arg);
    pthread_mutex_unlock(&vm->lock);
    set_ctl(vm, 0, CTL_PAUSE);
    return r;
}

const struct vm_config *vm_config_of(const struct vm *vm)
{
    return vm->cfg;
}

const struct vm_run_options *vm_options_of(const struct vm *vm)
{
    return vm->opts;
}

struct event_loop *vm_loop_of(struct vm *vm)
{
    return &vm->loop;
}

static int start_cpus(struct vm *vm, struct error *err)
{
    for (unsigned i = 0; i < vm->ncpus; i++) {
        struct vcpu *v = &vm->vcpu[i];
        int r = pthread_create(&v->thread, NULL, vcpu_main, v);
        if (r)
            return error_set_errno(err, -r, "cannot start the thread of CPU %u", i);
        v->started = true;
    }
    return 0;
}

static void join_cpus(struct vm *vm)
{
    set_ctl(vm, CTL_STOP, 0);
    for (unsigned i = 0; i < vm->ncpus; i++)
        if (vm->vcpu[i].started)
            kick_cpu(vm, i);
    for (unsigned i = 0; i < vm->ncpus; i++) {
        if (vm->vcpu[i].started)
            pthread_join(vm->vcpu[i].thread, NULL);
        vm->vcpu[i].started = false;
    }
}

/* --- the I/O thread --- */

static int discard_zero_stopped(struct machine *m, void *arg)
{
    struct vm *vm = arg;
    if (vm->ops->drain)
        vm->ops->drain(m); /* no disk read lands in a page being looked at */
    int64_t freed = guest_ram_discard_zero(vm->ops->ram(m));
    return freed < 0 ? (int)freed : (int)(freed >> 12); /* pages: RAM < 8 TiB */
}

/* Once every CPU is idle (and again after each busy period), give back
 * the RAM pages the guest left zeroed: CPUs parked for the scan, a few
 * ms for a small guest's resident RAM. */
static void zero_scan(struct vm *vm)
{
    unsigned gen = 0;
    for (unsigned i = 0; i < vm->ncpus; i++) {
        if (!__atomic_load_n(&vm->vcpu[i].idle, __ATOMIC_ACQUIRE))
            return;
        gen += __atomic_load_n(&vm->vcpu[i].idle_gen, __ATOMIC_ACQUIRE);
    }
    if (gen == vm->zero_scan_gen || vm->paused || !vm->ops->ram)
        return;
    vm->zero_scan_gen = gen;
    uint64_t t0 = condo_clock_ns();
    int pages = vm_with_machine_stopped(vm, discard_zero_stopped, vm);
    if (pages > 0)
        vm->idle_zero_bytes += (uint64_t)pages << 12;
    if (pages >= 0)
        condo_debug("idle: %d zero pages of RAM (%d KiB) given back, CPUs parked %.2f ms",
                    pages, pages * 4, (double)(condo_clock_ns() - t0) / 1e6);
}

static void pump_console_input(struct vm *vm)
{
    if (!console_input_pending(&vm->con))
        return;
    uint8_t buf[64];
    size_t room = vm->ops->console_room(vm->m);
    if (room > sizeof(buf))
        room = sizeof(buf);
    size_t n = console_peek(&vm->con, buf, room);
    if (n)
        console_consume(&vm->con, vm->ops->console_input(vm->m, buf, n));
}

/* Milliseconds until `deadline` (host monotonic ns), capped. */
static int timeout_ms(uint64_t deadline)
{
    uint64_t now = condo_clock_ns();
    if (deadline <= now)
        return 0;
    uint64_t ns = deadline - now;
    if (ns > MAX_SLEEP_NS)
        ns = MAX_SLEEP_NS;
    return (int)((ns + 999999) / 1000000);
}

struct reset_history {
    uint64_t times[RESET_LIMIT];
    unsigned n;
};

/* Act on what the guest asked for. Returns -1 to go on running, or the
 * process exit status. CPUs are parked on entry. */
static int handle_exit(struct vm *vm, const struct machine_exit *ex, struct reset_history *h)
{
    switch (ex->kind) {
    case MACHINE_EXIT_POWEROFF:
        return VM_EXIT_POWEROFF;
    case MACHINE_EXIT_FAIL:
        condo_err("guest powered off with failure code %d", ex->code);
        return VM_EXIT_GUEST_FAIL;
    case MACHINE_EXIT_TEST: {
        int code = ex->code;
        if (code)
            condo_err("bare-metal program reported failure %d", code);
        return code == 0 ? 0 : (code > 255 || (code & 255) == 0 ? 1 : code & 255);
    }
    case MACHINE_EXIT_RESET: {
        uint64_t now = condo_clock_ns();
        h->times[h->n % RESET_LIMIT] = now;
        h->n++;
        if (h->n >= RESET_LIMIT && now - h->times[h->n % RESET_LIMIT] < RESET_WINDOW_NS) {
            condo_err("guest reset loop: %d resets within %llu s (kernel panic?); stopping",
                      RESET_LIMIT, RESET_WINDOW_NS / 1000000000ull);
            return VM_EXIT_RESET_LOOP;
        }
        condo_info("guest reset: rebooting");
        struct error err = ERROR_INIT;
        pthread_mutex_lock(&vm->lock);
        int r = vm->ops->reset(vm->m, &err);
        pthread_mutex_unlock(&vm->lock);
        if (r < 0) {
            condo_err("reboot failed: %s", err.msg);
            return VM_EXIT_FAULT;
        }
        return -1;
    }
    case MACHINE_EXIT_FAULT:
    case MACHINE_EXIT_NONE:
        break;
    }
    condo_err("emulator fault: %s", ex->detail[0] ? ex->detail : "the CPU stopped");
    return VM_EXIT_FAULT;
}

/* A button signal came: press it (flag cleared first, so a signal that
 * arrives meanwhile is seen on the next turn). */
static void press_buttons(struct vm *vm)
{
    static const struct {
        volatile sig_atomic_t *flag;
        const char *what;
        bool ctrl_alt_del;
    } buttons[] = {
        { &got_power_button, "power button (SIGUSR1)", false },
        { &got_ctrl_alt_del, "Ctrl+Alt+Del (SIGUSR2)", true },
    };
    for (size_t i = 0; i < ARRAY_SIZE(buttons); i++) {
        if (!*buttons[i].flag)
            continue;
        *buttons[i].flag = 0;
        struct error err = ERROR_INIT;
        pthread_mutex_lock(&vm->lock);
        int r = buttons[i].ctrl_alt_del ? vm->ops->ctrl_alt_del(vm->m, &err)
                                        : vm->ops->power_button(vm->m, &err);
        pthread_mutex_unlock(&vm->lock);
        if (r < 0)
            condo_err("%s not delivered: %s; the VM runs on (SIGTERM stops it)", buttons[i].what,
                      err.msg);
        else
            condo_err("%s pressed", buttons[i].what);
    }
}

/* A graceful stop (PUT /condo/stop) whose time is up. */
static bool stop_overdue(struct vm *vm)
{
    if (!vm->stop_deadline_ns || condo_clock_ns() < vm->stop_deadline_ns)
        return false;
    condo_err("the guest did not power off in time: stopping it");
    return true;
}

static int io_loop(struct vm *vm)
{
    struct reset_history resets = { { 0 }, 0 };
    for (;;) {
        uint64_t deadline = condo_clock_ns() + MAX_SLEEP_NS;
        if (vm->m) {
            pthread_mutex_lock(&vm->lock);
            deadline = vm->ops->io_tick(vm->m);
            pump_console_input(vm);
            pthread_mutex_unlock(&vm->lock);
        }
        console_service(&vm->con);
        if (vm->m && vm->start_ns)
            zero_scan(vm);

        if (got_signal) {
            condo_err("stopped by signal %d", (int)got_signal);
            return 128 + got_signal;
        }
        if (vm->m)
            press_buttons(vm);
        if (vm->con.snapshot) {
            vm->con.snapshot = false;
            vm_snapshot_key(vm);
        }
        if (vm->con.quit) {
            condo_err("quit from the console (Ctrl-A x)");
            return VM_EXIT_QUIT;
        }
        if (vm->exit_status >= 0)
            return vm->exit_status;
        if (stop_overdue(vm))
            return VM_EXIT_POWEROFF;
        if (ctl_flags(vm) & CTL_EXIT) {
            stop_cpus(vm, CTL_PAUSE);
            struct machine_exit ex = vm->exit;
            int status = handle_exit(vm, &ex, &resets);
            if (status >= 0)
                return status;
            set_ctl(vm, 0, CTL_EXIT | (vm->paused ? 0 : CTL_PAUSE));
            continue;
        }
        int t = timeout_ms(deadline);
        if (vm->stop_deadline_ns) {
            int ts = timeout_ms(vm->stop_deadline_ns);
            t = ts < t ? ts : t;
        }
        if (vm->api) {
            int ta = api_server_timeout_ms(vm->api);
            if (ta >= 0 && ta < t)
                t = ta;
        }
        event_loop_poll(&vm->loop, t);
        /* outside the machine lock: a call may park the CPUs */
        if (vm->api)
            api_server_run(vm->api);
    }
}

/* Tell whoever started us (condo start) how setup went. */
static void report_ready(const struct vm_run_options *o, const struct error *err)
{
    if (!o || o->ready_fd < 0)
        return;
    /* snprintf and write: dprintf may lseek, which the sandbox forbids */
    char line[ERROR_MSG_MAX + 32];
    if (err && err->code)
        snprintf(line, sizeof(line), "E %d %s\n", -err->code,
                 err->msg[0] ? err->msg : "see the log");
    else
        snprintf(line, sizeof(line), "OK\n");
    ssize_t n = write(o->ready_fd, line, strlen(line));
    (void)n; /* the launcher sees EOF either way */
    close(o->ready_fd);
}

static int setup_failed(const struct vm_run_options *o, const struct error *err)
{
    if (err->msg[0])
        condo_err("%s", err->msg);
    report_ready(o, err);
    return vm_exit_status_of(err);
}

void vm_pause(struct vm *vm)
{
    if (vm->paused || !vm->m)
        return;
    stop_cpus(vm, CTL_PAUSE);
    if (vm->ops->drain) { /* disk requests in flight complete now */
        pthread_mutex_lock(&vm->lock);
        vm->ops->drain(vm->m);
        pthread_mutex_unlock(&vm->lock);
    }
    vm->paused = true;
    condo_info("VM paused");
}

void vm_resume(struct vm *vm)
{
    if (!vm->paused)
        return;
    vm->paused = false;
    set_ctl(vm, 0, CTL_PAUSE);
    condo_info("VM resumed");
}

void vm_request_exit(struct vm *vm, int status)
{
    vm->exit_status = status;
    event_loop_wake(&vm->loop);
}

int vm_boot(struct vm *vm, bool *fatal, struct error *err)
{
    const struct vm_config *cfg = vm->cfg;
    const struct machine_ops *ops = vm->ops;
    *fatal = false;
    if (cfg->hw.cpus < 1 || cfg->hw.cpus > VM_MAX_CPUS)
        return error_set(err, -EINVAL, "%u CPUs: condo runs 1 to %d", cfg->hw.cpus,
                         VM_MAX_CPUS);
    vm->ncpus = cfg->hw.cpus;
    /* before the machine: a root VM's switch directories are made
     * shareable with the uid it drops to */
    int r = sandbox_prepare(&vm->sandbox, &cfg->sandbox, &cfg->hw, err);
    if (r < 0)
        return r;
    struct machine_env env = {
        .lock = &vm->lock,
        .loop = &vm->loop,
        .console = console_chardev(&vm->con),
        .kick_cpu = wake_cpu,
        .console_room = console_room,
        .opaque = vm,
        .restoring = vm->opts->restore != NULL,
    };
    /* The sandboxed VMM cannot create files: a broker, forked now (one
     * thread only), creates snapshot files and disk layers for it in the
     * snapshot directory and the writable disks' directories. */
    if (cfg->sandbox.mode != SANDBOX_OFF) {
        const char *dirs[VM_MAX_DISKS + 1];
        char dbuf[VM_MAX_DISKS][4096];
        unsigned nd = 0;
        dirs[nd++] = vm->opts->snapshot_dir;
        for (unsigned i = 0; i < cfg->hw.ndisks; i++) {
            if (cfg->hw.disks[i].read_only)
                continue;
            snprintf(dbuf[i], sizeof(dbuf[i]), "%s", cfg->hw.disks[i].path);
            char *slash = strrchr(dbuf[i], '/');
            if (slash == dbuf[i])
                slash[1] = 0;
            else if (slash)
                *slash = 0;
            else
                snprintf(dbuf[i], sizeof(dbuf[i]), ".");
            dirs[nd++] = dbuf[i];
        }
        r = vm_files_start(&vm->files, dirs, nd, err);
        if (r < 0)
            return r;
    }
    const char *restore = vm->restore_path[0] ? vm->restore_path : vm->opts->restore;
    r = ops->create(&cfg->hw, &env, &vm->m, err);
    if (r == 0 && restore)
        r = vm_snapshot_restore(vm, vm->m, restore, err);
    if (r < 0) {
        if (vm->m)
            ops->destroy(vm->m);
        vm->m = NULL;
        return r;
    }
    /* the sockets we serve are removed at exit, from inside the sandbox */
    const char *socks[] = { vm->opts->api_sock, vm->opts->console_sock };
    for (size_t i = 0; i < ARRAY_SIZE(socks); i++) {
        if (!socks[i])
            continue;
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", socks[i]);
        char *slash = strrchr(dir, '/');
        if (slash == dir)
            slash[1] = 0;
        else if (slash)
            *slash = 0;
        else
            snprintf(dir, sizeof(dir), ".");
        r = sandbox_allow_path(&vm->sandbox, dir, SANDBOX_REMOVE_FILES, err);
        if (r < 0)
            return r;
    }

    /* Everything is open and bound: confine the process before any CPU
     * thread exists (they inherit it all). */
    *fatal = true;
    const char *selftest = vm->sandbox.cfg.selftest;
    if (selftest && !strcmp(selftest, "try"))
        sandbox_selftest_children(&vm->sandbox);
    r = sandbox_apply(&vm->sandbox, err);
    if (r < 0)
        return r;
    sandbox_report(&vm->sandbox);
    if (selftest && !strcmp(selftest, "try"))
        sandbox_selftest_inside(&vm->sandbox);

    if (vm->con.tty)
        condo_err("VM started: Ctrl-A h for help, Ctrl-A x to quit");
    vm->start_ns = condo_clock_ns();
    if (vm->start_paused) { /* a loaded snapshot waits for PATCH /vm Resumed */
        set_ctl(vm, CTL_PAUSE, 0);
        vm->paused = true;
    }
    r = start_cpus(vm, err);
    if (r < 0)
        return r;
    *fatal = false;
    if (selftest && !strcmp(selftest, "die"))
        sandbox_selftest_die();
    if (vm->opts->name)
        condo_info("VM %s running (pid %ld)", vm->opts->name, (long)getpid());
    return 0;
}

int vm_run(const struct vm_config *cfg, const struct vm_run_options *opts)
{
    static const struct vm_run_options no_opts = { .ready_fd = -1 };
    if (!opts)
        opts = &no_opts;
    struct error err = ERROR_INIT;
    /* The buttons first: a press during set-up must not kill condo (the
     * default action); it is answered once the loop runs (not delivered:
     * the guest has no driver that early). */
    signal(SIGUSR1, on_button_signal);
    signal(SIGUSR2, on_button_signal);
    const struct machine_ops *ops = board_for_arch(cfg->arch);
    if (!ops) {
        error_set(&err, -EINVAL, "--arch %s is not supported: this condo emulates %s",
                  cfg->arch, board_arches());
        return setup_failed(opts, &err);
    }
    struct vm *vm = calloc(1, sizeof(*vm));
    if (!vm) {
        error_set(&err, -ENOMEM, "out of memory");
        return setup_failed(opts, &err);
    }
    vm->cfg = cfg;
    vm->opts = opts;
    vm->ops = ops;
    vm->exit_status = -1;
    vm->api_watch = -1;
    vm->files.sock = -1;
    vm->cpu_limit_pct = cfg->cpu_limit_pct;
    vm->cpu_weight = cfg->cpu_weight;
    pthread_mutex_init(&vm->lock, NULL);
    pthread_mutex_init(&vm->ctl_mu, NULL);
    pthread_cond_init(&vm->ctl_cv, NULL);
    for (unsigned i = 0; i < VM_MAX_CPUS; i++) {
        vm->vcpu[i].vm = vm;
        vm->vcpu[i].index = i;
        pthread_mutex_init(&vm->vcpu[i].mu, NULL);
        cond_init_monotonic(&vm->vcpu[i].cv);
    }
    if (opts->preboot) {
        /* the definition comes over the API: start from the options given */
        vm->pre = calloc(1, sizeof(*vm->pre));
        if (!vm->pre) {
            error_set(&err, -ENOMEM, "out of memory");
            free(vm);
            return setup_failed(opts, &err);
        }
        vm->preboot = true;
        vm->pre_cfg = *cfg;
        vm->pre_cfg.hw.kernel = vm->pre_cfg.hw.initrd = NULL;
        vm->pre_cfg.hw.ndisks = vm->pre_cfg.hw.nnets = 0;
        vm->cfg = &vm->pre_cfg;
    }
    for (unsigned i = 0; i < VM_MAX_DISKS; i++)
        snprintf(vm->drive_id[i], API_ID_MAX, "vd%c", 'a' + i);
    for (unsigned i = 0; i < VM_MAX_NETS; i++)
        snprintf(vm->net_id[i], API_ID_MAX, "eth%u", i);

    int status = VM_EXIT_FAULT;
    int r = event_loop_init(&vm->loop);
    if (r < 0) {
        error_set_errno(&err, r, "cannot create the event loop");
        free(vm->pre);
        free(vm);
        return setup_failed(opts, &err);
    }
    vm->loop.lock = &vm->lock;
    if (opts->console_sock)
        r = console_open_socket(&vm->con, opts->console_sock, &err);
    else if ((r = console_open_stdio(&vm->con, STDIN_FILENO, STDOUT_FILENO)) < 0)
        error_set_errno(&err, r, "cannot set up the console");
    if (r == 0 && (r = console_attach(&vm->con, &vm->loop)) < 0)
        error_set_errno(&err, r, "cannot watch the console");
    if (r == 0 && opts->api_sock)
        r = vm_api_start(vm, opts->api_sock, &err);
    if (r < 0) {
        status = setup_failed(opts, &err);
        goto out;
    }

    signal_loop = &vm->loop;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    signal(SIGPIPE, SIG_IGN);

    if (vm->preboot) {
        condo_err("waiting to be configured on %s (PUT /boot-source, /drives, "
                  "/machine-config, then PUT /actions InstanceStart)", opts->api_sock);
        report_ready(opts, NULL);
    } else {
        bool fatal;
        r = vm_boot(vm, &fatal, &err);
        if (r < 0) {
            status = setup_failed(opts, &err);
            goto stop;
        }
        report_ready(opts, NULL);
    }
    status = io_loop(vm);
stop:
    join_cpus(vm);
    vm_snapshot_wait(vm); /* a Ctrl-A s still being written completes */
    if (vm->m && vm->start_ns) {
        struct machine_stats st;
        ops->stats(vm->m, &st);
        condo_info("%llu instructions retired in %.2f s", (unsigned long long)st.instret,
                   (double)(condo_clock_ns() - vm->start_ns) / 1e9);
    }
    if (vm->con.dropped)
        condo_info("%llu bytes of console output dropped (the reader was too slow)",
                   (unsigned long long)vm->con.dropped);
out:
    signal_loop = NULL;
    vm_api_stop(vm);
    vm_files_stop(&vm->files);
    console_close(&vm->con);
    if (vm->m)
        ops->destroy(vm->m);
    event_loop_destroy(&vm->loop);
    for (unsigned i = 0; i < VM_MAX_CPUS; i++) {
        pthread_mutex_destroy(&vm->vcpu[i].mu);
        pthread_cond_destroy(&vm->vcpu[i].cv);
    }
    free(vm->pre);
    if (vm->loaded) {
        vm_def_free(vm->loaded);
        free(vm->loaded);
    }
    free(vm);
    return status;
}
