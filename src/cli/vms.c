/* The VM-management verbs: dispatch and what they share. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/vm_common.h"

static const char *const verbs[] = { "create", "start",   "stop", "pause", "resume", "ls",
                                     "console", "inspect", "rm",   "top",   "host",
                                     "snapshot", "clone" };

bool cli_is_vm_verb(const char *verb)
{
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
        if (!strcmp(verb, verbs[i]))
            return true;
    return false;
}

int cli_vms(const char *verb, int argc, char **argv)
{
    if (!strcmp(verb, "create"))
        return cli_vm_create(argc, argv);
    if (!strcmp(verb, "start"))
        return cli_vm_start(argc, argv);
    if (!strcmp(verb, "stop"))
        return cli_vm_stop(argc, argv);
    if (!strcmp(verb, "pause"))
        return cli_vm_pause(argc, argv, true);
    if (!strcmp(verb, "resume"))
        return cli_vm_pause(argc, argv, false);
    if (!strcmp(verb, "ls"))
        return cli_vm_ls(argc, argv);
    if (!strcmp(verb, "console"))
        return cli_vm_console(argc, argv);
    if (!strcmp(verb, "inspect"))
        return cli_vm_inspect(argc, argv);
    if (!strcmp(verb, "rm"))
        return cli_vm_rm(argc, argv);
    if (!strcmp(verb, "top"))
        return cli_vm_top(argc, argv);
    if (!strcmp(verb, "host"))
        return cli_vm_host(argc, argv);
    if (!strcmp(verb, "snapshot"))
        return cli_vm_snapshot(argc, argv);
    if (!strcmp(verb, "clone"))
        return cli_vm_clone(argc, argv);
    fprintf(stderr, "condo: unknown command '%s'\n", verb);
    return CLI_USAGE;
}

int cli_vm_fail(const struct error *err)
{
    if (err->msg[0])
        fprintf(stderr, "condo: %s\n", err->msg);
    if (err->code == -ENOENT)
        return CLI_NO_SUCH_VM;
    if (err->code == -ECONNREFUSED || err->code == -ETIMEDOUT)
        return CLI_UNREACHABLE;
    switch (error_class(err)) {
    case ERROR_CLASS_INPUT: return CLI_USAGE;
    case ERROR_CLASS_STATE: return CLI_WRONG_STATE;
    case ERROR_CLASS_RESOURCE: return 6;
    default: return 4;
    }
}

int cli_vm_lookup(const struct condo_paths *p, const char *name, struct vm_info *vi)
{
    struct error err = ERROR_INIT;
    if (vm_info_get(p, name, vi, &err) < 0) {
        vm_info_free(vi);
        return cli_vm_fail(&err);
    }
    return 0;
}

void cli_vm_refine_state(const struct vm_paths *vp, struct vm_info *vi)
{
    if (vi->state != VM_STATE_RUNNING)
        return;
    json_t *j = NULL;
    if (vmm_call(vp->api, "GET", "/", NULL, 2000, &j, NULL) == 0) {
        const char *st = json_string_value(json_object_get(j, "state"));
        if (st && !strcmp(st, "Paused"))
            vi->state = VM_STATE_PAUSED;
    }
    json_decref(j);
}

int cli_one_name(int argc, char **argv, const char *usage, const char **name)
{
    if (optind != argc - 1) {
        fprintf(stderr, "usage: %s\n", usage);
        return CLI_USAGE;
    }
    *name = argv[optind];
    struct error err = ERROR_INIT;
    if (vm_name_check(*name, &err) < 0)
        return cli_vm_fail(&err);
    return 0;
}
