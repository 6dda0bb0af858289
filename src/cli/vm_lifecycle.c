/* condo start, stop, pause, resume. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli/vm_common.h"

int cli_vm_start(int argc, char **argv)
{
    optind = 1;
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: condo start NAME\n\nStart a defined VM in the background; returns once "
               "it runs.\nIts console: condo console NAME.\n");
        return 0;
    }
    const char *name;
    int st = cli_one_name(argc, argv, "condo start NAME", &name);
    if (st)
        return st;
    struct condo_paths p;
    struct error err = ERROR_INIT;
    if (condo_paths_get(&p, true, &err) < 0)
        return cli_vm_fail(&err);
    /* One start at a time decides admission: two racing starts must not
     * both fit into the last free space. */
    char lockpath[PATH_MAX + 32];
    snprintf(lockpath, sizeof(lockpath), "%s/admission.lock", p.data);
    int lk = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lk >= 0)
        flock(lk, LOCK_EX);
    struct vm_info vi;
    st = cli_vm_lookup(&p, name, &vi);
    if (st)
        goto out;
    if (vi.state == VM_STATE_RUNNING || vi.state == VM_STATE_PAUSED) {
        fprintf(stderr, "condo: VM %s is already running (pid %ld)\n", name, (long)vi.pid);
        st = CLI_WRONG_STATE;
    } else if (host_admit(&p, &vi.def, &err) < 0) {
        fprintf(stderr, "condo: %s\n", err.msg);
        st = CLI_REFUSED;
    } else {
        pid_t pid = 0;
        if (vm_start_process(&p, name, &pid, &err) < 0)
            st = cli_vm_fail(&err);
        else
            printf("started %s (pid %ld)\n", name, (long)pid);
    }
    vm_info_free(&vi);
out:
    if (lk >= 0)
        close(lk);
    return st;
}

/* Wait until the VM's lock is free (its processes are gone). */
static bool wait_gone(const char *lock, uint64_t timeout_ns)
{
    uint64_t until = condo_clock_ns() + timeout_ns;
    for (;;) {
        int fd = open(lock, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return true;
        bool free = flock(fd, LOCK_SH | LOCK_NB) == 0;
        close(fd);
        if (free)
            return true;
        if (condo_clock_ns() >= until)
            return false;
        usleep(20000);
    }
}

int cli_vm_stop(int argc, char **argv)
{
    static const struct option opts[] = { { "force", no_argument, 0, 'f' },
                                          { "timeout", required_argument, 0, 't' },
                                          { "help", no_argument, 0, 'h' },
                                          { 0, 0, 0, 0 } };
    static const char usage[] = "condo stop NAME [--force] [--timeout SECONDS]";
    bool force = false;
    long timeout = 30;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ft:h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'f': force = true; break;
        case 't':
            timeout = strtol(optarg, &end, 10);
            if (*end || end == optarg || timeout < 0 || timeout > 86400) {
                fprintf(stderr, "condo: --timeout wants seconds (0-86400), not '%s'\n", optarg);
                return CLI_USAGE;
            }
            break;
        case 'h':
            printf("usage: %s\n\nAsk the guest to power off (the power button), wait up to "
                   "--timeout\nseconds (default 30), then force it off. --force: at once.\n",
                   usage);
            return 0;
        default: fprintf(stderr, "usage: %s\n", usage); return CLI_USAGE;
        }
    }
    const char *name;
    int st = cli_one_name(argc, argv, usage, &name);
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
    pid_t pid = vi.pid;
    bool live = vi.state == VM_STATE_RUNNING || vi.state == VM_STATE_PAUSED;
    vm_info_free(&vi);
    if (!live) {
        fprintf(stderr, "condo: VM %s is not running\n", name);
        return CLI_WRONG_STATE;
    }
    char marker[PATH_MAX + 32];
    snprintf(marker, sizeof(marker), "%s/stop-requested", vp.rundir);
    int mf = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (mf >= 0)
        close(mf);
    const char *how = "powered off";
    if (!force) {
        json_t *body = json_pack("{s:i}", "timeout_s", (int)timeout);
        int r = vmm_call(vp.api, "PUT", "/condo/stop", body, 5000, NULL, &err);
        json_decref(body);
        if (r < 0) {
            fprintf(stderr, "condo: %s: forcing it off\n", err.msg);
            force = true;
        } else if (!wait_gone(vp.lock, (uint64_t)timeout * 1000000000ull)) {
            fprintf(stderr, "condo: %s did not power off within %ld s: forcing it off\n", name,
                    timeout);
            force = true;
        }
    }
    if (force) {
        how = "forced off";
        if (pid > 0)
            kill(pid, SIGTERM);
        if (!wait_gone(vp.lock, 3000000000ull) && pid > 0) {
            kill(pid, SIGKILL);
            if (!wait_gone(vp.lock, 5000000000ull)) {
                fprintf(stderr, "condo: VM %s (pid %ld) does not go away\n", name, (long)pid);
                return 4;
            }
        }
    }
    printf("stopped %s (%s)\n", name, how);
    return 0;
}

int cli_vm_pause(int argc, char **argv, bool pause)
{
    const char *verb = pause ? "pause" : "resume";
    optind = 1;
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: condo %s NAME\n\n%s\n", verb,
               pause ? "Freeze the VM's CPUs (its memory stays; condo resume goes on)."
                     : "Let a paused VM's CPUs run again.");
        return 0;
    }
    char usage[64];
    snprintf(usage, sizeof(usage), "condo %s NAME", verb);
    const char *name;
    int st = cli_one_name(argc, argv, usage, &name);
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
    cli_vm_refine_state(&vp, &vi);
    enum vm_state s = vi.state;
    vm_info_free(&vi);
    if (s != VM_STATE_RUNNING && s != VM_STATE_PAUSED) {
        fprintf(stderr, "condo: VM %s is %s, not running\n", name, vm_state_name(s));
        return CLI_WRONG_STATE;
    }
    if (pause && s == VM_STATE_PAUSED) {
        fprintf(stderr, "condo: VM %s is already paused\n", name);
        return CLI_WRONG_STATE;
    }
    if (!pause && s == VM_STATE_RUNNING) {
        fprintf(stderr, "condo: VM %s is not paused\n", name);
        return CLI_WRONG_STATE;
    }
    json_t *body = json_pack("{s:s}", "state", pause ? "Paused" : "Resumed");
    int r = vmm_call(vp.api, "PATCH", "/vm", body, 10000, NULL, &err);
    json_decref(body);
    if (r < 0)
        return cli_vm_fail(&err);
    printf("%s %s\n", pause ? "paused" : "resumed", name);
    return 0;
}
