/* Parsing of the device options of a VM definition, and the exit status a
 * setup failure means. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condo/block.h"
#include "condo/vm.h"

#define DISK_SYNTAX "FILE[,ro][,format=raw|qcow2][,backing=PATH|none][,iops=N][,bps=N]"

static int parse_u64(const char *spec, const char *opt, const char *v, uint64_t *out,
                     struct error *err)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-')
        return error_set(err, -EINVAL, "--disk %s: %s wants a number, not '%s'", spec, opt, v);
    *out = n;
    return 0;
}

void vm_disk_config_free(struct vm_disk_config *d)
{
    free((char *)d->path);
    free((char *)d->backing);
    d->path = d->backing = NULL;
}

void vm_config_free(struct vm_config *cfg)
{
    for (unsigned i = 0; i < cfg->hw.ndisks; i++)
        vm_disk_config_free(&cfg->hw.disks[i]);
    cfg->hw.ndisks = 0;
}

int vm_parse_disk(const char *spec, struct vm_disk_config *out, struct error *err)
{
    memset(out, 0, sizeof(*out));
    out->format = BLOCK_FORMAT_AUTO;
    /* FILE is everything up to the first comma: paths with commas are not
     * supported (as with QEMU's shorthand). The copy holds the strings the
     * config points to; out->path is its start, which the caller frees. */
    char *copy = strdup(spec);
    if (!copy)
        return error_set(err, -ENOMEM, "out of memory parsing --disk");
    char *save = NULL, *tok = strtok_r(copy, ",", &save);
    int r = 0;
    if (!tok || !*tok || spec[0] == ',') {
        r = error_set(err, -EINVAL, "--disk wants " DISK_SYNTAX);
        goto out;
    }
    out->path = strdup(tok);
    if (!out->path) {
        r = error_set(err, -ENOMEM, "out of memory parsing --disk");
        goto out;
    }
    while (r == 0 && (tok = strtok_r(NULL, ",", &save))) {
        if (!strcmp(tok, "ro"))
            out->read_only = true;
        else if (!strcmp(tok, "format=raw"))
            out->format = BLOCK_FORMAT_RAW;
        else if (!strcmp(tok, "format=qcow2"))
            out->format = BLOCK_FORMAT_QCOW2;
        else if (!strncmp(tok, "backing=", 8)) {
            if (!tok[8] || out->backing) {
                r = error_set(err, -EINVAL,
                              "--disk %s: backing= wants one PATH (the overlay's base) or none",
                              spec);
            } else if (!(out->backing = strdup(tok + 8))) {
                r = error_set(err, -ENOMEM, "out of memory parsing --disk");
            }
        } else if (!strncmp(tok, "iops=", 5))
            r = parse_u64(spec, "iops", tok + 5, &out->iops, err);
        else if (!strncmp(tok, "bps=", 4))
            r = parse_u64(spec, "bps", tok + 4, &out->bps, err);
        else
            r = error_set(err, -EINVAL,
                          "--disk %s: unknown setting '%s' (known: ro, format=raw|qcow2, "
                          "backing=PATH|none, iops=N, bps=N)",
                          spec, tok);
    }
out:
    free(copy);
    if (r < 0)
        vm_disk_config_free(out);
    return r;
}

/* on|off for one --balloon setting */
static int parse_onoff(const char *spec, const char *key, const char *v, bool *out,
                       struct error *err)
{
    if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0"))
        *out = false;
    else
        return error_set(err, -EINVAL, "--balloon %s: %s wants on or off, not '%s'", spec, key, v);
    return 0;
}

static int parse_bounded(const char *spec, const char *key, const char *v, uint64_t max,
                         uint64_t *out, struct error *err)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || n > max)
        return error_set(err, -EINVAL, "--balloon %s: %s wants a number from 0 to %llu, not '%s'",
                         spec, key, (unsigned long long)max, v);
    *out = n;
    return 0;
}

int vm_parse_balloon(const char *spec, struct vm_balloon_config *out, struct error *err)
{
    struct vm_balloon_config b = { .enabled = true, .reporting = true };
    if (!strcmp(spec, "off")) {
        memset(out, 0, sizeof(*out));
        return 0;
    }
    char copy[256];
    if (strlen(spec) >= sizeof(copy))
        return error_set(err, -EINVAL, "--balloon: the settings are too long");
    snprintf(copy, sizeof(copy), "%s", spec);
    char *save = NULL;
    int r = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok && r == 0; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        const char *v = eq ? eq + 1 : "";
        if (eq)
            *eq = 0;
        uint64_t n = 0;
        if (!strcmp(tok, "on") && !eq) {
            continue;
        } else if (!strcmp(tok, "reporting")) {
            r = parse_onoff(spec, tok, v, &b.reporting, err);
        } else if (!strcmp(tok, "deflate_on_oom")) {
            r = parse_onoff(spec, tok, v, &b.deflate_on_oom, err);
        } else if (!strcmp(tok, "stats")) {
            r = parse_bounded(spec, tok, v, VM_BALLOON_STATS_MAX, &n, err);
            b.stats_interval_s = (unsigned)n;
        } else if (!strcmp(tok, "amount")) {
            r = parse_bounded(spec, tok, v, 64 * 1024, &b.amount_mib, err);
        } else {
            r = error_set(err, -EINVAL,
                          "--balloon %s: unknown setting '%s' (known: on, off, reporting=on|off, "
                          "stats=SECONDS, deflate_on_oom=on|off, amount=MIB)",
                          spec, tok);
        }
    }
    if (r == 0)
        *out = b;
    return r;
}

int vm_exit_status_of(const struct error *err)
{
    switch (error_class(err)) {
    case ERROR_CLASS_RESOURCE:
        return VM_EXIT_RESOURCES;
    case ERROR_CLASS_IO:
    case ERROR_CLASS_INTERNAL:
        return VM_EXIT_FAULT;
    default:
        return VM_EXIT_USAGE;
    }
}
