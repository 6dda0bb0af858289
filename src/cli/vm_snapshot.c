/* condo snapshot create|ls|restore|rm and condo clone: snapshots of named
 * VMs. The VM process writes the snapshot (PUT /snapshot/create, paused
 * for it) into its data directory; restores and clones start a VM process
 * with --restore, whose disks get new layers on the images the snapshot
 * froze (docs/SNAPSHOTS.md). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli/vm_common.h"
#include "condo/snapshot.h"

#define SNAP_CREATE_TIMEOUT_MS 300000 /* a large guest's RAM on a slow disk */

static int fail_snap(const struct error *err)
{
    if (err->code == -ENOENT && strstr(err->msg, "no snapshot")) {
        fprintf(stderr, "condo: %s\n", err->msg);
        return CLI_NO_SUCH_SNAPSHOT;
    }
    return cli_vm_fail(err);
}

static void time_tag(char *out, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char s[32];
    strftime(s, sizeof(s), "%Y%m%d-%H%M%S", &tm);
    snprintf(out, n, "%s.%03ld", s, ts.tv_nsec / 1000000);
}

static void human(uint64_t b, char *out, size_t n)
{
    if (b >= (1ull << 30))
        snprintf(out, n, "%.1f GiB", (double)b / (1ull << 30));
    else if (b >= (1ull << 20))
        snprintf(out, n, "%.1f MiB", (double)b / (1ull << 20));
    else
        snprintf(out, n, "%.0f KiB", (double)b / 1024);
}

/* Common to the verbs: the paths, and the VM (must exist). */
static int open_vm(const char *name, struct condo_paths *p, struct vm_paths *vp,
                   struct vm_info *vi)
{
    struct error err = ERROR_INIT;
    if (condo_paths_get(p, true, &err) < 0 || vm_paths_get(p, name, vp, &err) < 0)
        return cli_vm_fail(&err);
    int st = cli_vm_lookup(p, name, vi);
    if (st)
        return st;
    cli_vm_refine_state(vp, vi);
    return 0;
}

static bool live(const struct vm_info *vi)
{
    return vi->state == VM_STATE_RUNNING || vi->state == VM_STATE_PAUSED;
}

/* --- create --- */

static int snap_create(const char *name, const char *tag_arg)
{
    struct condo_paths p;
    struct vm_paths vp;
    struct vm_info vi;
    int st = open_vm(name, &p, &vp, &vi);
    if (st)
        return st;
    bool was_paused = vi.state == VM_STATE_PAUSED;
    bool running = live(&vi);
    vm_info_free(&vi);
    if (!running) {
        fprintf(stderr, "condo: VM %s is not running: a snapshot is taken of a running VM "
                        "(condo start %s)\n", name, name);
        return CLI_WRONG_STATE;
    }
    char tag[SNAP_TAG_MAX + 1];
    struct error err = ERROR_INIT;
    if (tag_arg)
        snprintf(tag, sizeof(tag), "%s", tag_arg);
    else
        time_tag(tag, sizeof(tag));
    struct snap_paths sp;
    if (snap_paths_get(&vp, tag, &sp, &err) < 0 || condo_mkdir(vp.snaps, &err) < 0)
        return cli_vm_fail(&err);
    if (access(sp.state, F_OK) == 0) {
        fprintf(stderr, "condo: VM %s has a snapshot %s already (condo snapshot rm %s %s "
                        "first)\n", name, tag, name, tag);
        return CLI_EXISTS;
    }
    /* on a running VM, without Firecracker's pause around it: the VMM
     * stops the vCPUs only to capture the state and fork its writer
     * (copy-on-write), and the guest runs while the file is written; a
     * paused VM stays paused */
    (void)was_paused;
    uint64_t t0 = condo_clock_ns();
    json_t *body = json_pack("{s:s, s:s, s:s}", "snapshot_type", "Full", "snapshot_path",
                             sp.state, "mem_file_path", sp.mem);
    int r = vmm_call(vp.api, "PUT", "/snapshot/create", body, SNAP_CREATE_TIMEOUT_MS, NULL, &err);
    json_decref(body);
    uint64_t took_ms = (condo_clock_ns() - t0) / 1000000;
    /* the disks were frozen (maybe some of them even on a failure): the
     * definition names their new layers from now on */
    struct error e3 = ERROR_INIT;
    if (vm_sync_disks(&p, name, &e3) < 0)
        fprintf(stderr, "condo: %s (the VM's definition may name a frozen disk layer)\n",
                e3.msg);
    if (r < 0)
        return cli_vm_fail(&err);
    struct snap_info s = { .time = (int64_t)time(NULL), .write_ms = took_ms };
    snprintf(s.tag, sizeof(s.tag), "%s", tag);
    snap_current(&vp, s.parent, sizeof(s.parent));
    if (snap_record(&vp, &s, &err) < 0)
        return cli_vm_fail(&err);
    snap_set_current(&vp, tag);
    struct snap_info got;
    char size[32] = "?";
    if (snap_get(&vp, tag, &got, NULL) == 0)
        human(got.bytes, size, sizeof(size));
    printf("snapshot %s of %s: %s (written in %llu ms; the guest paused only to capture "
           "its state)\n", tag, name, size, (unsigned long long)took_ms);
    return 0;
}

/* --- ls --- */

static void print_tree(const struct snap_info *all, size_t n, const char *parent, int depth,
                       const char *cur, unsigned *printed)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(all[i].parent, parent))
            continue;
        char when[32], size[32], indent[64] = "";
        struct tm tm;
        time_t t = (time_t)all[i].time;
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        human(all[i].bytes, size, sizeof(size));
        for (int k = 0; k < depth && k < 20; k++)
            strcat(indent, "  ");
        char label[SNAP_TAG_MAX + 64];
        snprintf(label, sizeof(label), "%s%s%s", indent, all[i].tag,
                 !strcmp(cur, all[i].tag) ? " *" : "");
        printf("%-32s %-24s %-20s %10s\n", label, all[i].parent[0] ? all[i].parent : "-",
               when, size);
        (*printed)++;
        if (depth < 64)
            print_tree(all, n, all[i].tag, depth + 1, cur, printed);
    }
}

static int snap_ls(const char *name, bool as_json)
{
    struct condo_paths p;
    struct vm_paths vp;
    struct vm_info vi;
    int st = open_vm(name, &p, &vp, &vi);
    if (st)
        return st;
    vm_info_free(&vi);
    struct snap_info *all;
    size_t n;
    struct error err = ERROR_INIT;
    if (snap_list(&vp, &all, &n, &err) < 0)
        return cli_vm_fail(&err);
    char cur[SNAP_TAG_MAX + 1] = "";
    snap_current(&vp, cur, sizeof(cur));
    if (as_json) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, json_pack("{s:s, s:s?, s:I, s:I, s:b}", "tag", all[i].tag,
                                               "parent", all[i].parent[0] ? all[i].parent : NULL,
                                               "time", (json_int_t)all[i].time, "bytes",
                                               (json_int_t)all[i].bytes, "current",
                                               !strcmp(cur, all[i].tag)));
        char *text = json_dumps(a, JSON_INDENT(2));
        printf("%s\n", text ? text : "[]");
        free(text);
        json_decref(a);
        free(all);
        return 0;
    }
    printf("%-32s %-24s %-20s %10s\n", "TAG (* current)", "PARENT", "CREATED (UTC)", "SIZE");
    unsigned printed = 0;
    print_tree(all, n, "", 0, cur, &printed);
    /* a parent that is gone (a damaged record): list the rest flat */
    for (size_t i = 0; printed < n && i < n; i++) {
        bool found = !all[i].parent[0];
        for (size_t k = 0; !found && k < n; k++)
            found = !strcmp(all[k].tag, all[i].parent);
        if (!found)
            print_tree(all, n, all[i].parent, 0, cur, &printed);
    }
    free(all);
    return 0;
}

/* --- restore and clone: a VM process resuming the snapshot --- */

/* Stop a VM at once (its state is about to be replaced). */
static int force_stop(const char *name)
{
    char *sargv[] = { "stop", "--force", (char *)name, NULL };
    int st = cli_vm_stop(3, sargv);
    return st;
}

/* Start VM `name` (its vm.json in place) from snapshot file `snap`. */
static int start_from(const struct condo_paths *p, const char *name, const char *snap,
                      pid_t *pid, struct error *err)
{
    char lockpath[PATH_MAX + 32];
    snprintf(lockpath, sizeof(lockpath), "%s/admission.lock", p->data);
    int lk = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lk >= 0)
        flock(lk, LOCK_EX);
    struct vm_info vi;
    int r = vm_info_get(p, name, &vi, err);
    if (r == 0 && (r = host_admit(p, &vi.def, err)) < 0)
        r = error_set(err, -EAGAIN, "%s", err->msg);
    vm_info_free(&vi);
    if (r == 0)
        r = vm_start_process_from(p, name, snap, pid, err);
    if (lk >= 0)
        close(lk);
    if (r == 0)
        r = vm_sync_disks(p, name, err);
    return r;
}

/* The snapshot's definition as VM `name`'s vm.json. */
static int def_from_snapshot(const char *snap, const char *name, const char *path,
                             struct error *err)
{
    char *text = NULL;
    int r = snapshot_read_definition(snap, &text, err);
    if (r < 0)
        return r;
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    free(text);
    if (!j)
        return error_set(err, -EINVAL, "%s: the VM definition in the snapshot is not JSON", snap);
    struct vm_def d;
    vm_def_init(&d);
    r = vm_def_from_json(&d, j, err);
    json_decref(j);
    if (r == 0) {
        snprintf(d.name, sizeof(d.name), "%s", name);
        r = vm_def_save(&d, path, err);
    }
    vm_def_free(&d);
    return r;
}

static int snap_restore(const char *name, const char *tag)
{
    struct condo_paths p;
    struct vm_paths vp;
    struct vm_info vi;
    int st = open_vm(name, &p, &vp, &vi);
    if (st)
        return st;
    bool running = live(&vi);
    vm_info_free(&vi);
    struct error err = ERROR_INIT;
    struct snap_info s;
    struct snap_paths sp;
    if (snap_get(&vp, tag, &s, &err) < 0 || snap_paths_get(&vp, tag, &sp, &err) < 0)
        return fail_snap(&err);
    /* check the file before the running VM goes */
    char *text = NULL;
    if (snapshot_read_definition(sp.state, &text, &err) < 0)
        return cli_fail(&err);
    free(text);
    if (running && (st = force_stop(name)) != 0)
        return st;
    char backup[PATH_MAX + 8];
    snprintf(backup, sizeof(backup), "%s.old", vp.def);
    rename(vp.def, backup);
    if (def_from_snapshot(sp.state, name, vp.def, &err) < 0) {
        rename(backup, vp.def);
        return cli_fail(&err);
    }
    pid_t pid = 0;
    if (start_from(&p, name, sp.state, &pid, &err) < 0) {
        rename(backup, vp.def);
        return cli_vm_fail(&err);
    }
    unlink(backup);
    snap_set_current(&vp, tag);
    printf("restored %s to %s (pid %ld)\n", name, tag, (long)pid);
    return 0;
}

static int snap_rm(const char *name, const char *tag)
{
    struct condo_paths p;
    struct vm_paths vp;
    struct vm_info vi;
    int st = open_vm(name, &p, &vp, &vi);
    if (st)
        return st;
    vm_info_free(&vi);
    struct error err = ERROR_INIT;
    if (snap_remove(&vp, tag, &err) < 0)
        return fail_snap(&err);
    printf("removed snapshot %s of %s\n", tag, name);
    return 0;
}

static int snapshot_usage(FILE *f, int st)
{
    fprintf(f,
            "usage: condo snapshot create NAME [TAG]   snapshot a running VM (tag: the time)\n"
            "       condo snapshot ls NAME [--json]     its snapshots as a tree\n"
            "       condo snapshot restore NAME TAG     run NAME again from TAG: memory,\n"
            "                                           devices and disks\n"
            "       condo snapshot rm NAME TAG          remove TAG (others stay valid)\n"
            "\n"
            "A snapshot pauses the guest briefly. Each writable disk is frozen with it:\n"
            "its image becomes read-only and a new qcow2 layer beside it takes the\n"
            "writes, so a restore brings the disks back as they were.\n");
    return st;
}

int cli_vm_snapshot(int argc, char **argv)
{
    if (argc < 2)
        return snapshot_usage(stderr, CLI_USAGE);
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help"))
        return snapshot_usage(stdout, 0);
    bool as_json = false;
    const char *ops[3];
    int nops = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json") && !strcmp(sub, "ls"))
            as_json = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return snapshot_usage(stdout, 0);
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "condo: unknown option '%s' (try condo snapshot --help)\n", argv[i]);
            return CLI_USAGE;
        } else if (nops < 3)
            ops[nops++] = argv[i];
        else
            nops = 4;
    }
    struct error err = ERROR_INIT;
    if (nops >= 1 && nops <= 3 && vm_name_check(ops[0], &err) < 0)
        return cli_vm_fail(&err);
    if (nops >= 2 && nops <= 3 && snap_tag_check(ops[1], &err) < 0)
        return cli_vm_fail(&err);
    if (!strcmp(sub, "create") && (nops == 1 || nops == 2))
        return snap_create(ops[0], nops == 2 ? ops[1] : NULL);
    if (!strcmp(sub, "ls") && nops == 1)
        return snap_ls(ops[0], as_json);
    if (!strcmp(sub, "restore") && nops == 2)
        return snap_restore(ops[0], ops[1]);
    if (!strcmp(sub, "rm") && nops == 2)
        return snap_rm(ops[0], ops[1]);
    return snapshot_usage(stderr, CLI_USAGE);
}

/* --- clone --- */

int cli_vm_clone(int argc, char **argv)
{
    static const struct option opts[] = { { "count", required_argument, 0, 'n' },
                                          { "help", no_argument, 0, 'h' },
                                          { 0, 0, 0, 0 } };
    static const char usage[] = "condo clone NAME TAG NEWNAME [--count N]";
    long count = 0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'n':
            count = strtol(optarg, &end, 10);
            if (*end || end == optarg || count < 1 || count > 100) {
                fprintf(stderr, "condo: --count wants 1 to 100, not '%s'\n", optarg);
                return CLI_USAGE;
            }
            break;
        case 'h':
            printf("usage: %s\n\nStart new VMs running from snapshot TAG of NAME: NEWNAME, or\n"
                   "with --count N, NEWNAME-1 .. NEWNAME-N. Each clone's disks are new\n"
                   "layers on the snapshot's frozen images; its RAM maps the snapshot's\n"
                   "memory file copy-on-write, so clones share the pages they do not\n"
                   "change.\n", usage);
            return 0;
        default: fprintf(stderr, "usage: %s\n", usage); return CLI_USAGE;
        }
    }
    if (argc - optind != 3) {
        fprintf(stderr, "usage: %s\n", usage);
        return CLI_USAGE;
    }
    const char *name = argv[optind], *tag = argv[optind + 1], *newname = argv[optind + 2];
    struct error err = ERROR_INIT;
    if (vm_name_check(name, &err) < 0 || snap_tag_check(tag, &err) < 0 ||
        vm_name_check(newname, &err) < 0)
        return cli_vm_fail(&err);
    struct condo_paths p;
    struct vm_paths vp;
    struct vm_info vi;
    int st = open_vm(name, &p, &vp, &vi);
    if (st)
        return st;
    vm_info_free(&vi);
    struct snap_info s;
    struct snap_paths sp;
    if (snap_get(&vp, tag, &s, &err) < 0 || snap_paths_get(&vp, tag, &sp, &err) < 0)
        return fail_snap(&err);
    long n = count ? count : 1;
    char names[100][VM_NAME_MAX + 1];
    for (long k = 0; k < n; k++) {
        int w = count ? snprintf(names[k], sizeof(names[k]), "%s-%ld", newname, k + 1)
                      : snprintf(names[k], sizeof(names[k]), "%s", newname);
        if (w < 0 || (size_t)w >= sizeof(names[k]) || vm_name_check(names[k], &err) < 0) {
            fprintf(stderr, "condo: clone name %s-%ld is too long\n", newname, k + 1);
            return CLI_USAGE;
        }
        struct vm_paths np;
        if (vm_paths_get(&p, names[k], &np, &err) < 0)
            return cli_vm_fail(&err);
        if (access(np.def, F_OK) == 0) {
            fprintf(stderr, "condo: a VM named %s exists already\n", names[k]);
            return CLI_EXISTS;
        }
    }
    for (long k = 0; k < n; k++) {
        struct vm_paths np;
        vm_paths_get(&p, names[k], &np, &err);
        pid_t pid = 0;
        if (condo_mkdir(np.dir, &err) < 0 || def_from_snapshot(sp.state, names[k], np.def, &err) < 0)
            return cli_fail(&err);
        if (start_from(&p, names[k], sp.state, &pid, &err) < 0) {
            st = cli_vm_fail(&err);
            /* a clone that never ran leaves nothing behind */
            unlink(np.def);
            rmdir(np.snaps);
            unlink(np.log);
            rmdir(np.dir);
            return st;
        }
        printf("started %s (pid %ld) from %s of %s\n", names[k], (long)pid, tag, name);
    }
    return 0;
}
