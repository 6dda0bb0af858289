/* Where condo keeps its files: see include/condo/paths.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "condo/paths.h"

static int put(char *out, size_t outsz, struct error *err, const char *a, const char *b)
{
    int n = snprintf(out, outsz, "%s%s", a, b);
    if (n < 0 || (size_t)n >= outsz)
        return error_set(err, -ENAMETOOLONG, "condo's data directory %s%s is too long", a, b);
    return 0;
}

int paths_data_home(char *out, size_t outsz, struct error *err)
{
    const char *v = getenv("CONDO_HOME");
    if (v && *v)
        return put(out, outsz, err, v, "");
    if (geteuid() == 0)
        return put(out, outsz, err, "/var/lib/condo", "");
    /* XDG: a relative XDG_DATA_HOME is invalid and must be ignored. */
    v = getenv("XDG_DATA_HOME");
    if (v && v[0] == '/')
        return put(out, outsz, err, v, "/condo");
    v = getenv("HOME");
    if (v && v[0] == '/')
        return put(out, outsz, err, v, "/.local/share/condo");
    return error_set(err, -ENOENT,
                     "cannot tell where condo's data lives: set CONDO_HOME, XDG_DATA_HOME or "
                     "HOME");
}

int paths_image_store(char *out, size_t outsz, struct error *err)
{
    char home[4096];
    int r = paths_data_home(home, sizeof(home), err);
    if (r < 0)
        return r;
    return put(out, outsz, err, home, "/images");
}
