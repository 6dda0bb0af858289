/* Parsing of the device options of a VM definition. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condo/block.h"
#include "condo/vm.h"

static int parse_u64(const char *opt, const char *v, uint64_t *out, struct error *err)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-')
        return error_set(err, -EINVAL, "--disk %s wants a number, not '%s'", opt, v);
    *out = n;
    return 0;
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
        return error_set(err, -ENOMEM, "out of memory");
    char *save = NULL, *tok = strtok_r(copy, ",", &save);
    if (!tok || !*tok || spec[0] == ',') {
        free(copy);
        return error_set(err, -EINVAL,
                         "--disk wants FILE[,ro][,format=raw|qcow2][,iops=N][,bps=N]");
    }
    out->path = tok;
    int r = 0;
    while (r == 0 && (tok = strtok_r(NULL, ",", &save))) {
        if (!strcmp(tok, "ro"))
            out->read_only = true;
        else if (!strcmp(tok, "format=raw"))
            out->format = BLOCK_FORMAT_RAW;
        else if (!strcmp(tok, "format=qcow2"))
            out->format = BLOCK_FORMAT_QCOW2;
        else if (!strncmp(tok, "iops=", 5))
            r = parse_u64("iops", tok + 5, &out->iops, err);
        else if (!strncmp(tok, "bps=", 4))
            r = parse_u64("bps", tok + 4, &out->bps, err);
        else
            r = error_set(err, -EINVAL,
                          "--disk %s: unknown setting '%s' (known: ro, format=raw|qcow2, "
                          "iops=N, bps=N)",
                          spec, tok);
    }
    if (r < 0) {
        free(copy);
        out->path = NULL;
    }
    return r;
}
