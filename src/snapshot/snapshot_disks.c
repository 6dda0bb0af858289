/* Disk layers for snapshots: where a new layer goes, and the fresh overlay
 * a restore puts on a frozen image (docs/SNAPSHOTS.md, "Disks"). */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "condo/block.h"
#include "condo/snapshot.h"

/* ".YYYYmmdd-HHMMSS.mmm" or that with "-N": a suffix this file made. */
static size_t time_suffix_len(const char *s, size_t n)
{
    for (size_t len = 20; len <= 24 && len <= n; len++) {
        const char *p = s + n - len;
        bool ok = p[0] == '.' && p[9] == '-' && p[16] == '.';
        for (int i = 1; ok && i < 20; i++)
            if (i != 9 && i != 16)
                ok = p[i] >= '0' && p[i] <= '9';
        for (size_t i = 20; ok && i < len; i++)
            ok = i == 20 ? p[i] == '-' : (p[i] >= '0' && p[i] <= '9');
        if (ok && (len == 20 || len > 21))
            return len;
    }
    return 0;
}

int snapshot_layer_name(const char *top, char *out, size_t outlen, struct error *err)
{
    const char *slash = strrchr(top, '/');
    const char *base = slash ? slash + 1 : top;
    size_t dirlen = slash ? (size_t)(slash - top) : 0;
    size_t n = strlen(base);
    static const char *const exts[] = { ".qcow2", ".img", ".raw" };
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t e = strlen(exts[i]);
        if (n > e && !strcmp(base + n - e, exts[i])) {
            n -= e;
            break;
        }
    }
    n -= time_suffix_len(base, n);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
    for (unsigned k = 0; k < 100; k++) {
        char seq[8] = "";
        if (k)
            snprintf(seq, sizeof(seq), "-%u", k);
        int w = snprintf(out, outlen, "%.*s%s%.*s.%s.%03ld%s.qcow2", (int)dirlen, top,
                         slash ? "/" : "", (int)n, base, stamp, ts.tv_nsec / 1000000, seq);
        if (w < 0 || (size_t)w >= outlen)
            return error_set(err, -ENAMETOOLONG, "disk %s: the path is too long", top);
        struct stat st;
        if (lstat(out, &st) < 0 && errno == ENOENT)
            return 0;
    }
    return error_set(err, -EEXIST, "disk %s: no free name for a new layer", top);
}

int snapshot_disk_overlay(const char *frozen, char *out, size_t outlen, struct error *err)
{
    int r = snapshot_layer_name(frozen, out, outlen, err);
    if (r < 0)
        return r;
    const char *base = strrchr(frozen, '/') ? strrchr(frozen, '/') + 1 : frozen;
    r = block_create(out, BLOCK_FORMAT_QCOW2, 0, base, err);
    if (r < 0)
        error_prefix(err, "a new layer on the snapshot's disk %s: ", frozen);
    return r;
}

int snapshot_restore_disks(const char *snap, char (*paths)[4096], unsigned ndisks,
                           struct error *err)
{
    struct snapshot_disk *fz = calloc(SNAPSHOT_MAX_DISKS, sizeof(*fz));
    if (!fz)
        return error_set(err, -ENOMEM, "out of memory");
    unsigned n = 0;
    int r = snapshot_read_disks(snap, fz, SNAPSHOT_MAX_DISKS, &n, err);
    for (unsigned k = 0; r == 0 && k < n; k++) {
        if (fz[k].index >= ndisks) {
            r = error_set(err, -EINVAL, "%s: the disks section names disk %u of %u", snap,
                          fz[k].index, ndisks);
            break;
        }
        r = snapshot_disk_overlay(fz[k].frozen, paths[fz[k].index], sizeof(paths[0]), err);
    }
    free(fz);
    return r < 0 ? r : (int)n;
}
