/* VM definitions as JSON files (jansson). Loading checks every field: a
 * definition is a file a person may edit or damage. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "condo/block.h"
#include "condo/vm_def.h"

#define DEF_MAX_BYTES (1 << 20)

int vm_name_check(const char *name, struct error *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > VM_NAME_MAX)
        return error_set(err, -EINVAL, "a VM name has 1 to %d characters, not %zu", VM_NAME_MAX,
                         n);
    if (name[0] == '.' || name[0] == '-')
        return error_set(err, -EINVAL, "VM name '%s' must not start with '.' or '-'", name);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return error_set(err, -EINVAL,
                             "VM name '%s' has '%c': use letters, digits, '_', '-' and '.'",
                             name, c);
    }
    return 0;
}

void vm_def_init(struct vm_def *d)
{
    memset(d, 0, sizeof(*d));
    d->cfg.arch = "riscv64";
    d->cfg.hw.cpus = 1;
    d->cfg.hw.memory = 512ull << 20;
}

void vm_def_free(struct vm_def *d)
{
    for (unsigned i = 0; i < d->nowned; i++)
        free(d->owned[i]);
    d->nowned = 0;
}

int vm_def_adopt(struct vm_def *d, char *s)
{
    if (d->nowned >= ARRAY_SIZE(d->owned)) {
        free(s);
        return -ENOMEM;
    }
    d->owned[d->nowned++] = s;
    return 0;
}

const char *vm_def_strdup(struct vm_def *d, const char *s)
{
    if (!s)
        return NULL;
    if (d->nowned >= ARRAY_SIZE(d->owned))
        return NULL;
    char *c = strdup(s);
    if (c)
        d->owned[d->nowned++] = c;
    return c;
}

static int absolutize_one(struct vm_def *d, const char **path, struct error *err)
{
    if (!*path || (*path)[0] == '/' || !strcmp(*path, "none"))
        return 0;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        return error_set_errno(err, -errno, "cannot find the current directory");
    size_t need = strlen(cwd) + 1 + strlen(*path) + 1;
    char *abs = malloc(need);
    if (!abs)
        return error_set(err, -ENOMEM, "out of memory");
    snprintf(abs, need, "%s/%s", cwd, *path);
    const char *c = vm_def_strdup(d, abs);
    free(abs);
    if (!c)
        return error_set(err, -ENOMEM, "out of memory");
    *path = c;
    return 0;
}

int vm_def_absolutize(struct vm_def *d, struct error *err)
{
    struct machine_config *hw = &d->cfg.hw;
    int r = 0;
    if (!hw->bare_metal)
        r = absolutize_one(d, &hw->bios, err);
    if (!r)
        r = absolutize_one(d, &hw->kernel, err);
    if (!r)
        r = absolutize_one(d, &hw->initrd, err);
    for (unsigned i = 0; !r && i < hw->ndisks; i++) {
        r = absolutize_one(d, &hw->disks[i].path, err);
        if (!r && hw->disks[i].backing)
            r = absolutize_one(d, &hw->disks[i].backing, err);
    }
    return r;
}

static const char *format_name(int f)
{
    return f == BLOCK_FORMAT_RAW ? "raw" : f == BLOCK_FORMAT_QCOW2 ? "qcow2" : "auto";
}

static void set_str(json_t *o, const char *k, const char *v)
{
    json_object_set_new(o, k, v ? json_string(v) : json_null());
}

json_t *vm_def_to_json(const struct vm_def *d)
{
    const struct vm_config *c = &d->cfg;
    const struct machine_config *hw = &c->hw;
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(VM_DEF_VERSION));
    json_object_set_new(o, "name", json_string(d->name));
    set_str(o, "arch", c->arch);
    json_object_set_new(o, "cpus", json_integer(hw->cpus));
    json_object_set_new(o, "memory_mib", json_integer((json_int_t)(hw->memory >> 20)));
    set_str(o, "bios", hw->bare_metal ? "none" : hw->bios);
    set_str(o, "kernel", hw->kernel);
    set_str(o, "initrd", hw->initrd);
    set_str(o, "append", hw->append);
    json_object_set_new(o, "bare_metal", json_boolean(hw->bare_metal));
    json_t *disks = json_array();
    for (unsigned i = 0; i < hw->ndisks; i++) {
        const struct vm_disk_config *dc = &hw->disks[i];
        json_t *dj = json_object();
        set_str(dj, "path", dc->path);
        json_object_set_new(dj, "read_only", json_boolean(dc->read_only));
        json_object_set_new(dj, "format", json_string(format_name(dc->format)));
        json_object_set_new(dj, "iops", json_integer((json_int_t)dc->iops));
        json_object_set_new(dj, "bps", json_integer((json_int_t)dc->bps));
        if (dc->backing)
            set_str(dj, "backing", dc->backing);
        json_array_append_new(disks, dj);
    }
    json_object_set_new(o, "disks", disks);
    json_t *nets = json_array();
    for (unsigned i = 0; i < hw->nnets; i++)
        json_array_append_new(nets, json_string(hw->nets[i]));
    json_object_set_new(o, "nets", nets);
    json_object_set_new(o, "cpu_limit_pct", json_integer(c->cpu_limit_pct));
    json_object_set_new(o, "cpu_weight", json_integer(c->cpu_weight));
    const struct vm_balloon_config *b = &hw->balloon;
    json_t *bj = json_object();
    json_object_set_new(bj, "enabled", json_boolean(b->enabled));
    json_object_set_new(bj, "free_page_reporting", json_boolean(b->reporting));
    json_object_set_new(bj, "deflate_on_oom", json_boolean(b->deflate_on_oom));
    json_object_set_new(bj, "stats_polling_interval_s", json_integer(b->stats_interval_s));
    json_object_set_new(bj, "amount_mib", json_integer((json_int_t)b->amount_mib));
    json_object_set_new(o, "balloon", bj);
    return o;
}

/* --- reading, field by field --- */

static int get_str(struct vm_def *d, const json_t *o, const char *k, bool required,
                   const char **out, struct error *err)
{
    const json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) {
        if (required)
            return error_set(err, -EINVAL, "field \"%s\" is missing", k);
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
        json_string_length(v) > PATH_MAX)
        return error_set(err, -EINVAL, "field \"%s\" must be a string (without NUL, at most %d "
                                       "bytes)", k, PATH_MAX);
    *out = vm_def_strdup(d, json_string_value(v));
    return *out ? 0 : error_set(err, -ENOMEM, "out of memory");
}

static int get_uint(const json_t *o, const char *k, uint64_t min, uint64_t max, uint64_t dflt,
                    uint64_t *out, struct error *err)
{
    const json_t *v = json_object_get(o, k);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max)
        return error_set(err, -EINVAL, "field \"%s\" must be an integer from %llu to %llu", k,
                         (unsigned long long)min, (unsigned long long)max);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_bool(const json_t *o, const char *k, bool *out, struct error *err)
{
    const json_t *v = json_object_get(o, k);
    if (!v) {
        *out = false;
        return 0;
    }
    if (!json_is_boolean(v))
        return error_set(err, -EINVAL, "field \"%s\" must be true or false", k);
    *out = json_is_true(v);
    return 0;
}

static int get_disk(struct vm_def *d, const json_t *dj, struct vm_disk_config *dc,
                    struct error *err)
{
    if (!json_is_object(dj))
        return error_set(err, -EINVAL, "a disk must be an object");
    int r = get_str(d, dj, "path", true, &dc->path, err);
    if (!r)
        r = get_bool(dj, "read_only", &dc->read_only, err);
    if (!r)
        r = get_uint(dj, "iops", 0, UINT32_MAX, 0, &dc->iops, err);
    if (!r)
        r = get_uint(dj, "bps", 0, UINT64_MAX >> 1, 0, &dc->bps, err);
    if (!r)
        r = get_str(d, dj, "backing", false, &dc->backing, err);
    const char *f = NULL;
    if (!r)
        r = get_str(d, dj, "format", false, &f, err);
    if (r)
        return r;
    if (!f || !strcmp(f, "auto"))
        dc->format = BLOCK_FORMAT_AUTO;
    else if (!strcmp(f, "raw"))
        dc->format = BLOCK_FORMAT_RAW;
    else if (!strcmp(f, "qcow2"))
        dc->format = BLOCK_FORMAT_QCOW2;
    else
        return error_set(err, -EINVAL, "disk format \"%s\" is not auto, raw or qcow2", f);
    return 0;
}

/* "balloon": absent means none (definitions from before it existed). */
static int get_balloon(const json_t *o, struct machine_config *hw, struct error *err)
{
    struct vm_balloon_config *b = &hw->balloon;
    memset(b, 0, sizeof(*b));
    const json_t *bj = json_object_get(o, "balloon");
    if (!bj || json_is_null(bj))
        return 0;
    if (!json_is_object(bj))
        return error_set(err, -EINVAL, "field \"balloon\" must be an object");
    uint64_t v = 0;
    int r = get_bool(bj, "enabled", &b->enabled, err);
    if (!r)
        r = get_bool(bj, "free_page_reporting", &b->reporting, err);
    if (!r)
        r = get_bool(bj, "deflate_on_oom", &b->deflate_on_oom, err);
    if (!r)
        r = get_uint(bj, "stats_polling_interval_s", 0, VM_BALLOON_STATS_MAX, 0, &v, err);
    b->stats_interval_s = (unsigned)v;
    if (!r)
        r = get_uint(bj, "amount_mib", 0, hw->memory >> 20, 0, &b->amount_mib, err);
    if (r)
        error_prefix(err, "balloon: ");
    return r;
}

int vm_def_from_json(struct vm_def *d, const json_t *o, struct error *err)
{
    struct vm_config *c = &d->cfg;
    struct machine_config *hw = &c->hw;
    if (!json_is_object(o))
        return error_set(err, -EINVAL, "a VM definition must be a JSON object");
    uint64_t v = 0, mem = 0;
    int r = get_uint(o, "version", 1, VM_DEF_VERSION, 1, &v, err);
    const char *name = NULL;
    if (!r)
        r = get_str(d, o, "name", true, &name, err);
    if (!r)
        r = vm_name_check(name, err);
    if (r)
        return r;
    snprintf(d->name, sizeof(d->name), "%s", name);
    r = get_str(d, o, "arch", false, &c->arch, err);
    if (!r && !c->arch)
        c->arch = "riscv64";
    if (!r)
        r = get_uint(o, "cpus", 1, VM_MAX_CPUS, 1, &v, err);
    hw->cpus = (unsigned)v;
    if (!r)
        r = get_uint(o, "memory_mib", 16, 64 * 1024, 512, &mem, err);
    hw->memory = mem << 20;
    if (!r)
        r = get_bool(o, "bare_metal", &hw->bare_metal, err);
    if (!r)
        r = get_str(d, o, "bios", false, &hw->bios, err);
    if (!r)
        r = get_str(d, o, "kernel", true, &hw->kernel, err);
    if (!r)
        r = get_str(d, o, "initrd", false, &hw->initrd, err);
    if (!r)
        r = get_str(d, o, "append", false, &hw->append, err);
    if (!r)
        r = get_uint(o, "cpu_limit_pct", 0, 100 * VM_MAX_CPUS, 0, &v, err);
    c->cpu_limit_pct = (unsigned)v;
    if (!r)
        r = get_uint(o, "cpu_weight", 0, 10000, 0, &v, err);
    c->cpu_weight = (unsigned)v;
    if (r)
        return r;
    if (!hw->bare_metal && !hw->bios)
        return error_set(err, -EINVAL, "field \"bios\" is missing");
    r = get_balloon(o, hw, err);
    if (r)
        return r;
    const json_t *disks = json_object_get(o, "disks");
    if (disks && !json_is_array(disks))
        return error_set(err, -EINVAL, "field \"disks\" must be an array");
    if (json_array_size(disks) > VM_MAX_DISKS)
        return error_set(err, -EINVAL, "at most %d disks", VM_MAX_DISKS);
    hw->ndisks = 0;
    for (size_t i = 0; i < json_array_size(disks); i++) {
        r = get_disk(d, json_array_get(disks, i), &hw->disks[i], err);
        if (r) {
            error_prefix(err, "disk %zu: ", i);
            return r;
        }
        hw->ndisks++;
    }
    const json_t *nets = json_object_get(o, "nets");
    if (nets && !json_is_array(nets))
        return error_set(err, -EINVAL, "field \"nets\" must be an array");
    if (json_array_size(nets) > VM_MAX_NETS)
        return error_set(err, -EINVAL, "at most %d network cards", VM_MAX_NETS);
    hw->nnets = 0;
    for (size_t i = 0; i < json_array_size(nets); i++) {
        const json_t *n = json_array_get(nets, i);
        if (!json_is_string(n) || strlen(json_string_value(n)) != json_string_length(n))
            return error_set(err, -EINVAL, "network card %zu must be a string", i);
        hw->nets[i] = vm_def_strdup(d, json_string_value(n));
        if (!hw->nets[i])
            return error_set(err, -ENOMEM, "out of memory");
        hw->nnets++;
    }
    return 0;
}

int vm_def_save(const struct vm_def *d, const char *path, struct error *err)
{
    json_t *o = vm_def_to_json(d);
    char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    if (!text)
        return error_set(err, -ENOMEM, "out of memory");
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        free(text);
        return error_set(err, -ENAMETOOLONG, "path %s is too long", path);
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        free(text);
        return error_set_errno(err, -errno, "cannot write %s", tmp);
    }
    size_t len = strlen(text), off = 0;
    int r = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        off += (size_t)w;
    }
    if (!r && (write(fd, "\n", 1) != 1 || fsync(fd) < 0))
        r = errno ? -errno : -EIO;
    close(fd);
    free(text);
    if (!r && rename(tmp, path) < 0)
        r = -errno;
    if (r) {
        unlink(tmp);
        return error_set_errno(err, r, "cannot write %s", path);
    }
    return 0;
}

int vm_def_load(struct vm_def *d, const char *path, struct error *err)
{
    vm_def_init(d);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0)
        return error_set_errno(err, -errno, "cannot read %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > DEF_MAX_BYTES) {
        close(fd);
        return error_set(err, -EINVAL, "%s is not a regular file of at most %d bytes", path,
                         DEF_MAX_BYTES);
    }
    json_error_t je;
    json_t *o = json_loadfd(fd, JSON_REJECT_DUPLICATES, &je);
    close(fd);
    if (!o)
        return error_set(err, -EINVAL, "%s: not valid JSON (line %d: %s)", path, je.line,
                         je.text);
    int r = vm_def_from_json(d, o, err);
    json_decref(o);
    if (r < 0) {
        error_prefix(err, "%s: ", path);
        vm_def_free(d);
    }
    return r;
}
