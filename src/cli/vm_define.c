/* condo create, rm, inspect: a named VM's definition. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/vm_common.h"

static void create_usage(FILE *f)
{
    fprintf(f,
            "usage: condo create NAME [OPTIONS]\n"
            "\n"
            "Define a named VM (it starts stopped: condo start NAME). The options are\n"
            "condo run's:\n"
            "\n%s",
            cli_vm_options_help);
}

/* Disks named in a definition must exist when it is made, and be writable
 * unless read-only. */
static int check_disks(const struct vm_def *d, struct error *err)
{
    for (unsigned i = 0; i < d->cfg.hw.ndisks; i++) {
        const struct vm_disk_config *dc = &d->cfg.hw.disks[i];
        if (access(dc->path, dc->read_only ? R_OK : R_OK | W_OK) < 0)
            return error_set_errno(err, -errno, "--disk %s cannot be %s", dc->path,
                                   dc->read_only ? "read" : "read and written");
    }
    return 0;
}

int cli_vm_create(int argc, char **argv)
{
    static const struct option opts[] = {
        { "arch", required_argument, 0, 0 },      { "cpus", required_argument, 0, 0 },
        { "memory", required_argument, 0, 0 },    { "bios", required_argument, 0, 0 },
        { "kernel", required_argument, 0, 0 },    { "initrd", required_argument, 0, 0 },
        { "append", required_argument, 0, 0 },    { "disk", required_argument, 0, 0 },
        { "net", required_argument, 0, 0 },       { "cpu-limit", required_argument, 0, 0 },
        { "cpu-weight", required_argument, 0, 0 },
        { "balloon", required_argument, 0, 0 },   { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    struct vm_def d;
    vm_def_init(&d);
    struct error err = ERROR_INIT;
    int c, idx;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, &idx)) != -1) {
        switch (c) {
        case 0:
            if (cli_vm_option(&d, opts[idx].name, optarg, &err) < 0)
                return cli_fail(&err);
            break;
        case 'h': create_usage(stdout); return 0;
        case ':':
            fprintf(stderr, "condo: option '%s' needs a value (try 'condo create --help')\n",
                    argv[optind - 1]);
            return CLI_USAGE;
        default:
            fprintf(stderr, "condo: unknown option '%s' (try 'condo create --help')\n",
                    argv[optind - 1]);
            return CLI_USAGE;
        }
    }
    const char *name;
    int st = cli_one_name(argc, argv, "condo create NAME [OPTIONS]", &name);
    if (st)
        return st;
    snprintf(d.name, sizeof(d.name), "%s", name);
    struct condo_paths p;
    struct vm_paths vp;
    if (cli_vm_finish(&d, &err) < 0 || vm_def_absolutize(&d, &err) < 0 ||
        check_disks(&d, &err) < 0 || condo_paths_get(&p, true, &err) < 0 ||
        vm_paths_get(&p, name, &vp, &err) < 0)
        return cli_fail(&err);
    if (access(vp.def, F_OK) == 0) {
        fprintf(stderr, "condo: a VM named %s exists already (condo rm %s first)\n", name,
                name);
        return CLI_EXISTS;
    }
    if (condo_mkdir(vp.dir, &err) < 0 || vm_def_save(&d, vp.def, &err) < 0)
        return cli_vm_fail(&err);
    printf("created %s\n", name);
    vm_def_free(&d);
    return 0;
}

/* Remove a VM's directory: its definition, logs and what condo made in it. */
static int remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    if (!dir)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *e;
    int r = 0;
    while ((e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char sub[PATH_MAX * 2];
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(sub, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode))
            r = remove_tree(sub);
        else if (unlink(sub) < 0)
            r = -errno;
        if (r)
            break;
    }
    closedir(dir);
    if (!r && rmdir(path) < 0 && errno != ENOENT)
        r = -errno;
    return r;
}

int cli_vm_rm(int argc, char **argv)
{
    static const struct option opts[] = { { "force", no_argument, 0, 'f' },
                                          { "help", no_argument, 0, 'h' },
                                          { 0, 0, 0, 0 } };
    bool force = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        if (c == 'f') {
            force = true;
        } else if (c == 'h') {
            printf("usage: condo rm NAME [--force]\n\nDelete a stopped VM's definition and "
                   "logs (--force: stop it first).\nDisks you gave it stay where they are.\n");
            return 0;
        } else {
            fprintf(stderr, "usage: condo rm NAME [--force]\n");
            return CLI_USAGE;
        }
    }
    const char *name;
    int st = cli_one_name(argc, argv, "condo rm NAME [--force]", &name);
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
    bool live = vi.state == VM_STATE_RUNNING || vi.state == VM_STATE_PAUSED;
    pid_t pid = vi.pid;
    vm_info_free(&vi);
    if (live && !force) {
        fprintf(stderr, "condo: VM %s is running: stop it first, or condo rm --force %s\n",
                name, name);
        return CLI_WRONG_STATE;
    }
    if (live) {
        char *sargv[] = { "stop", "--force", (char *)name, NULL };
        st = cli_vm_stop(3, sargv);
        if (st) {
            fprintf(stderr, "condo: could not stop %s (pid %ld): not removed\n", name,
                    (long)pid);
            return st;
        }
    }
    int r = remove_tree(vp.dir);
    remove_tree(vp.rundir);
    if (r < 0) {
        fprintf(stderr, "condo: cannot remove %s: %s\n", vp.dir, strerror(-r));
        return 4;
    }
    printf("removed %s\n", name);
    return 0;
}

int cli_vm_inspect(int argc, char **argv)
{
    optind = 1;
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: condo inspect NAME\n\nThe VM's definition and live state as JSON.\n");
        return 0;
    }
    const char *name;
    int st = cli_one_name(argc, argv, "condo inspect NAME", &name);
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
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "definition", vm_def_to_json(&vi.def));
    json_object_set_new(o, "state", json_string(vm_state_name(vi.state)));
    json_object_set_new(o, "pid", vi.pid ? json_integer(vi.pid) : json_null());
    json_object_set_new(o, "reason", vi.reason[0] ? json_string(vi.reason) : json_null());
    json_object_set_new(o, "api_socket", json_string(vp.api));
    json_object_set_new(o, "console_socket", json_string(vp.console));
    json_object_set_new(o, "log", json_string(vp.log));
    if (vi.state == VM_STATE_RUNNING || vi.state == VM_STATE_PAUSED) {
        json_t *live = NULL;
        if (vmm_call(vp.api, "GET", "/condo/status", NULL, 2000, &live, NULL) == 0 && live)
            json_object_set_new(o, "live", live);
        json_object_set_new(o, "rss_bytes", json_integer((json_int_t)proc_rss_bytes(vi.pid)));
        json_object_set_new(o, "cpu_ns", json_integer((json_int_t)proc_cpu_ns(vi.pid)));
        json_t *cs = cpu_share_load(vp.cpu_share); /* how --cpu-weight was applied */
        json_object_set_new(o, "cpu_share", cs ? cs : json_null());
    }
    char *text = json_dumps(o, JSON_INDENT(2));
    printf("%s\n", text ? text : "{}");
    free(text);
    json_decref(o);
    vm_info_free(&vi);
    return 0;
}
