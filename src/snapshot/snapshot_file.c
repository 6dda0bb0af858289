/* The snapshot file: header page with the section table, the sections, and
 * the crash-safe write (temporary name, fsync, rename, fsync of the
 * directory). Reading checks the header, the table and every section's
 * bounds and checksum before anything is used. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "condo/file_ops.h"
#include "snapshot_internal.h"

#define SNAP_MAGIC "CONDOSNP"
#define MAX_SECTIONS 8
#define TAG_LEN 16
#define ENTRY_SIZE 48
#define TABLE_OFF 64
#define HDR_CRC_OFF (TABLE_OFF + MAX_SECTIONS * ENTRY_SIZE)
#define DEF_VERSION 1
#define MACHINE_SECTION_VERSION 1
#define DISKS_VERSION 1
/* A definition is a small JSON document; anything larger is not ours. */
#define DEF_MAX (1u << 20)

struct section {
    char tag[TAG_LEN + 1];
    uint32_t version, flags;
    uint64_t off, len;
    uint32_t crc;
    const uint8_t *data;
};

struct snap_view {
    char arch[17], board[17];
    uint64_t ram_base, ram_size;
    unsigned n;
    struct section sec[MAX_SECTIONS];
};

static uint32_t crc(const uint8_t *p, uint64_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (len) {
        uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
        c = crc32(c, p, chunk);
        p += chunk;
        len -= chunk;
    }
    return (uint32_t)c;
}

/* --- writing --- */

static int write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

struct snapshot_capture {
    char arch[TAG_LEN + 1], board[TAG_LEN + 1];
    const struct guest_ram *ram;
    char *definition;
    size_t def_len;
    struct state_buf mach;
    struct state_buf disks; /* the "disks" section, empty without frozen disks */
};

/* The "disks" section: which disks this snapshot froze, and their frozen
 * images (u32 count; per disk u32 index, u16 length, the path). */
static void put_disks(struct state_buf *s, const struct snapshot_extra *x)
{
    state_put_u32(s, x->ndisks);
    for (unsigned i = 0; i < x->ndisks; i++) {
        size_t n = strlen(x->disks[i].frozen);
        state_put_u32(s, x->disks[i].index);
        state_put_u16(s, (uint16_t)n);
        state_put_bytes(s, x->disks[i].frozen, n);
    }
}

int snapshot_capture(struct machine *m, const char *definition, struct snapshot_capture **out,
                     struct error *err)
{
    return snapshot_capture_ex(m, definition, NULL, out, err);
}

int snapshot_capture_ex(struct machine *m, const char *definition,
                        const struct snapshot_extra *extra, struct snapshot_capture **out,
                        struct error *err)
{
    *out = NULL;
    struct guest_ram *ram = m->ops->ram ? m->ops->ram(m) : NULL;
    if (!ram)
        return error_set(err, -ENOTSUP, "the %s machine cannot be snapshotted", m->ops->name);
    size_t def_len = strlen(definition);
    if (def_len > DEF_MAX)
        return error_set(err, -EINVAL, "the VM definition is too large for a snapshot");
    struct snapshot_capture *c = calloc(1, sizeof(*c));
    if (!c || !(c->definition = strdup(definition))) {
        free(c);
        return error_set(err, -ENOMEM, "out of memory while saving the snapshot");
    }
    snprintf(c->arch, sizeof(c->arch), "%s", m->ops->arch);
    snprintf(c->board, sizeof(c->board), "%s", m->ops->name);
    c->ram = ram;
    c->def_len = def_len;
    state_init_writer(&c->mach);
    state_init_writer(&c->disks);
    if (extra && extra->ndisks)
        put_disks(&c->disks, extra);
    int r = m->ops->save(m, &c->mach, err);
    if (r == 0 && (c->mach.err || c->disks.err))
        r = error_set(err, -ENOMEM, "out of memory while saving the snapshot");
    if (r < 0) {
        snapshot_capture_free(c);
        return r;
    }
    *out = c;
    return 0;
}

void snapshot_capture_free(struct snapshot_capture *c)
{
    if (!c)
        return;
    state_free(&c->mach);
    state_free(&c->disks);
    free(c->definition);
    free(c);
}

/* Header and sections; with map_off, RAM raw at map_off after them. */
static int write_file(const char *path, struct section *sec, unsigned n,
                      const struct snapshot_capture *c, uint64_t map_off,
                      struct snapshot_stats *st, struct error *err)
{
    const struct guest_ram *ram = c->ram;
    uint8_t hdr[SNAP_PAGE] = { 0 };
    memcpy(hdr, SNAP_MAGIC, 8);
    le32_store(hdr + 8, SNAPSHOT_VERSION);
    le32_store(hdr + 12, n);
    memcpy(hdr + 16, c->arch, strlen(c->arch)); /* NUL-padded by the zeroed page */
    memcpy(hdr + 32, c->board, strlen(c->board));
    le64_store(hdr + 48, ram->base);
    le64_store(hdr + 56, ram->size);
    uint64_t off = SNAP_PAGE;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = hdr + TABLE_OFF + i * ENTRY_SIZE;
        strncpy((char *)e, sec[i].tag, TAG_LEN);
        le32_store(e + 16, sec[i].version);
        le32_store(e + 20, sec[i].flags);
        le64_store(e + 24, off);
        le64_store(e + 32, sec[i].len);
        le32_store(e + 40, crc(sec[i].data, sec[i].len));
        off += sec[i].len;
    }
    le32_store(hdr + HDR_CRC_OFF, crc(hdr, HDR_CRC_OFF));

    char tmp[4200];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return error_set(err, -ENAMETOOLONG, "snapshot %s: the path is too long", path);
    /* through the VM's file broker when it is sandboxed */
    int fd = file_create(tmp, O_WRONLY | O_TRUNC, 0600);
    if (fd < 0)
        return error_set_errno(err, fd, "cannot create the snapshot %s", tmp);
    int r = write_all(fd, hdr, sizeof(hdr));
    for (unsigned i = 0; r == 0 && i < n; i++)
        r = write_all(fd, sec[i].data, sec[i].len);
    if (r == 0 && map_off) {
        r = snap_ram_write_mapped(ram, fd, map_off, &st->ram_pages);
        off = map_off + ram->size;
    }
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    struct stat sb;
    if (r == 0 && fstat(fd, &sb) == 0)
        st->alloc_bytes = (uint64_t)sb.st_blocks * 512;
    close(fd);
    if (r == 0)
        r = file_rename(tmp, path); /* and fsyncs the directory */
    if (r < 0) {
        file_unlink(tmp);
        return error_set_errno(err, r, "cannot write the snapshot %s", path);
    }
    st->file_bytes = off;
    return 0;
}

int snapshot_write(const struct snapshot_capture *c, const char *path, const char *mem_path,
                   enum snapshot_ram_mode mode, struct snapshot_stats *stats, struct error *err)
{
    struct snapshot_stats st = { .state_bytes = c->mach.len };
    struct state_buf rs;
    state_init_writer(&rs);
    /* Mapped RAM starts at the first SNAP_MAP_ALIGN boundary after the
     * sections (the gap is a hole: it costs no disk);
     * the RAM descriptor's size is fixed (version, size, offset), so the
     * offset is known before it is written. */
    uint64_t map_off = 0;
    if (!mem_path && mode == SNAPSHOT_RAM_MAPPED) {
        uint64_t end = SNAP_PAGE + c->def_len + c->mach.len + SNAP_RAM_MAPPED_LEN + c->disks.len;
        map_off = (end + SNAP_MAP_ALIGN - 1) / SNAP_MAP_ALIGN * SNAP_MAP_ALIGN;
    }
    uint32_t ram_flags = 0;
    int r = snap_ram_encode(c->ram, mem_path, map_off, &rs, &ram_flags, &st.ram_pages,
                            &st.mem_bytes, err);
    if (r == 0 && rs.err)
        r = error_set(err, -ENOMEM, "out of memory while saving the snapshot");
    if (r == 0 && map_off && rs.len != SNAP_RAM_MAPPED_LEN)
        r = error_set(err, -EINVAL, "internal error: RAM descriptor of %zu bytes", rs.len);
    if (r == 0) {
        struct section sec[4] = {
            { .tag = "definition", .version = DEF_VERSION, .data = (const uint8_t *)c->definition,
              .len = c->def_len },
            { .tag = "machine", .version = MACHINE_SECTION_VERSION, .data = c->mach.data,
              .len = c->mach.len },
            { .tag = "ram", .version = SNAP_RAM_VERSION, .flags = ram_flags, .data = rs.data,
              .len = rs.len },
        };
        unsigned n = 3;
        if (c->disks.len) /* additive: older readers skip a tag they do not know */
            sec[n++] = (struct section){ .tag = "disks", .version = DISKS_VERSION,
                                         .data = c->disks.data, .len = c->disks.len };
        r = write_file(path, sec, n, c, map_off, &st, err);
    }
    state_free(&rs);
    if (r == 0 && stats)
        *stats = st;
    return r;
}

int snapshot_save(const char *path, const char *mem_path, const char *definition,
                  struct machine *m, struct snapshot_stats *stats, struct error *err)
{
    struct snapshot_capture *c;
    int r = snapshot_capture(m, definition, &c, err);
    if (r < 0)
        return r;
    r = snapshot_write(c, path, mem_path, SNAPSHOT_RAM_MAPPED, stats, err);
    snapshot_capture_free(c);
    return r;
}

/* --- reading --- */

static int parse(const uint8_t *d, size_t len, const char *name, struct snap_view *v,
                 struct error *err)
{
    memset(v, 0, sizeof(*v));
    if (len < SNAP_PAGE || memcmp(d, SNAP_MAGIC, 8) != 0)
        return error_set(err, -EINVAL, "%s is not a condo snapshot (no CONDOSNP header)", name);
    uint32_t version = le32_load(d + 8);
    if (version < SNAPSHOT_VERSION_MIN || version > SNAPSHOT_VERSION)
        return error_set(err, -EINVAL,
                         "%s is a snapshot of format version %u; this condo reads versions %u "
                         "to %u%s",
                         name, version, SNAPSHOT_VERSION_MIN, SNAPSHOT_VERSION,
                         version > SNAPSHOT_VERSION ? ": use a newer condo" : "");
    if (le32_load(d + HDR_CRC_OFF) != crc(d, HDR_CRC_OFF))
        return error_set(err, -EINVAL, "%s: the snapshot header is corrupt (checksum mismatch)",
                         name);
    v->n = le32_load(d + 12);
    if (v->n == 0 || v->n > MAX_SECTIONS)
        return error_set(err, -EINVAL, "%s: %u sections (1..%u allowed)", name, v->n,
                         MAX_SECTIONS);
    memcpy(v->arch, d + 16, 16);
    memcpy(v->board, d + 32, 16);
    v->ram_base = le64_load(d + 48);
    v->ram_size = le64_load(d + 56);
    for (unsigned i = 0; i < v->n; i++) {
        const uint8_t *e = d + TABLE_OFF + i * ENTRY_SIZE;
        struct section *s = &v->sec[i];
        memcpy(s->tag, e, TAG_LEN);
        s->version = le32_load(e + 16);
        s->flags = le32_load(e + 20);
        s->off = le64_load(e + 24);
        s->len = le64_load(e + 32);
        s->crc = le32_load(e + 40);
        if (s->off < SNAP_PAGE || s->off > len || s->len > len - s->off)
            return error_set(err, -EINVAL,
                             "%s: section '%s' lies beyond the end of the file (truncated?)",
                             name, s->tag);
        s->data = d + s->off;
        if (crc(s->data, s->len) != s->crc)
            return error_set(err, -EINVAL, "%s: section '%s' is corrupt (checksum mismatch)",
                             name, s->tag);
    }
    return 0;
}

static const struct section *find(const struct snap_view *v, const char *tag, uint32_t min,
                                  uint32_t version, const char *name, struct error *err)
{
    for (unsigned i = 0; i < v->n; i++) {
        if (strcmp(v->sec[i].tag, tag) != 0)
            continue;
        if (v->sec[i].version < min || v->sec[i].version > version) {
            error_set(err, -EINVAL, "%s: section '%s' has version %u, this condo reads %u to %u",
                      name, tag, v->sec[i].version, min, version);
            return NULL;
        }
        return &v->sec[i];
    }
    error_set(err, -EINVAL, "%s: the snapshot has no '%s' section", name, tag);
    return NULL;
}

/* The file, mapped read-only; *fdp (when not NULL) gets the open file. */
static int map_file(const char *path, const uint8_t **data, size_t *len, int *fdp,
                    struct error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return error_set_errno(err, -errno, "cannot open the snapshot %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return error_set(err, -EINVAL, "%s is not a regular file", path);
    }
    if (st.st_size < (off_t)SNAP_PAGE) {
        close(fd);
        return error_set(err, -EINVAL, "%s is not a condo snapshot (%lld bytes: too short)",
                         path, (long long)st.st_size);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    if (fdp && p != MAP_FAILED)
        *fdp = fd;
    else
        close(fd);
    if (p == MAP_FAILED)
        return error_set_errno(err, -e, "cannot map the snapshot %s", path);
    *data = p;
    *len = (size_t)st.st_size;
    return 0;
}

/* A snapshot file mapped and parsed, for the readers that look at one
 * section of it (definition, memory file reference, disks). */
struct snap_mapped {
    const uint8_t *d;
    size_t len;
    struct snap_view *v;
};

static void snap_unmap_view(struct snap_mapped *m)
{
    free(m->v);
    munmap((void *)m->d, m->len);
}

static int snap_map_view(const char *path, struct snap_mapped *m, struct error *err)
{
    int r = map_file(path, &m->d, &m->len, NULL, err);
    if (r < 0)
        return r;
    m->v = malloc(sizeof(*m->v));
    r = m->v ? parse(m->d, m->len, path, m->v, err) : error_set(err, -ENOMEM, "out of memory");
    if (r < 0)
        snap_unmap_view(m);
    return r;
}

int snapshot_read_definition(const char *path, char **definition, struct error *err)
{
    struct snap_mapped m;
    int r = snap_map_view(path, &m, err);
    if (r < 0)
        return r;
    struct snap_view *v = m.v;
    const struct section *s = r == 0 ? find(v, "definition", DEF_VERSION, DEF_VERSION, path, err) : NULL;
    if (r == 0 && !s)
        r = -EINVAL;
    if (r == 0 && (s->len > DEF_MAX || memchr(s->data, 0, s->len)))
        r = error_set(err, -EINVAL, "%s: the VM definition section is malformed", path);
    if (r == 0) {
        *definition = malloc(s->len + 1);
        if (!*definition) {
            r = error_set(err, -ENOMEM, "out of memory");
        } else {
            memcpy(*definition, s->data, s->len);
            (*definition)[s->len] = 0;
        }
    }
    snap_unmap_view(&m);
    return r;
}

int snapshot_mem_file(const char *path, char *out, size_t outlen, struct error *err)
{
    out[0] = 0;
    struct snap_mapped m;
    int r = snap_map_view(path, &m, err);
    if (r < 0)
        return r;
    struct snap_view *v = m.v;
    const struct section *s = r == 0 ? find(v, "ram", SNAP_RAM_VERSION_MIN, SNAP_RAM_VERSION, path, err) : NULL;
    if (r == 0 && !s)
        r = -EINVAL;
    /* a reference: u8 version, u64 size, u64 nonce, u16 length, the path */
    if (r == 0 && s->flags == SNAP_RAM_MEMFILE) {
        struct state_buf b;
        state_init_reader(&b, s->data, s->len);
        state_get_u8(&b);
        state_get_u64(&b);
        state_get_u64(&b);
        uint16_t n = state_get_u16(&b);
        if (b.err || n == 0 || n >= outlen || n != b.len - b.pos)
            r = error_set(err, -EINVAL, "%s: the RAM section's memory file reference is "
                                        "malformed", path);
        else {
            state_get_bytes(&b, out, n);
            out[n] = 0;
        }
    }
    snap_unmap_view(&m);
    return r;
}

int snapshot_read_disks(const char *path, struct snapshot_disk *out, unsigned max, unsigned *n,
                        struct error *err)
{
    *n = 0;
    struct snap_mapped m;
    int r = snap_map_view(path, &m, err);
    if (r < 0)
        return r;
    struct snap_view *v = m.v;
    const struct section *s = NULL;
    for (unsigned i = 0; r == 0 && i < v->n; i++)
        if (!strcmp(v->sec[i].tag, "disks"))
            s = &v->sec[i];
    if (r == 0 && s && s->version != DISKS_VERSION)
        r = error_set(err, -EINVAL, "%s: section 'disks' has version %u, this condo reads %u",
                      path, s->version, DISKS_VERSION);
    if (r == 0 && s) {
        struct state_buf b;
        state_init_reader(&b, s->data, s->len);
        uint32_t count = state_get_u32(&b);
        if (b.err || count > max)
            r = error_set(err, -EINVAL, "%s: the disks section is malformed", path);
        for (uint32_t i = 0; r == 0 && i < count; i++) {
            out[i].index = state_get_u32(&b);
            uint16_t l = state_get_u16(&b);
            if (b.err || l == 0 || l >= sizeof(out[i].frozen) || l > b.len - b.pos ||
                out[i].index >= max) {
                r = error_set(err, -EINVAL, "%s: the disks section is malformed", path);
                break;
            }
            state_get_bytes(&b, out[i].frozen, l);
            out[i].frozen[l] = 0;
            if (memchr(out[i].frozen, 0, l) || out[i].frozen[0] != '/')
                r = error_set(err, -EINVAL, "%s: the disks section names a bad path", path);
        }
        if (r == 0 && b.pos != b.len)
            r = error_set(err, -EINVAL, "%s: the disks section is malformed", path);
        if (r == 0)
            *n = count;
    }
    snap_unmap_view(&m);
    return r;
}

static int restore(const uint8_t *d, size_t len, int fd, const char *name, struct machine *m,
                   struct error *err)
{
    struct guest_ram *ram = m->ops->ram ? m->ops->ram(m) : NULL;
    if (!ram)
        return error_set(err, -ENOTSUP, "the %s machine cannot restore snapshots", m->ops->name);
    struct snap_view *v = malloc(sizeof(*v));
    if (!v)
        return error_set(err, -ENOMEM, "out of memory");
    int r = parse(d, len, name, v, err);
    if (r == 0 && (strncmp(v->arch, m->ops->arch, TAG_LEN) != 0 ||
                   strncmp(v->board, m->ops->name, TAG_LEN) != 0))
        r = error_set(err, -EINVAL, "%s is a snapshot of a %s %s machine, not %s %s", name,
                      v->arch, v->board, m->ops->arch, m->ops->name);
    if (r == 0 && (v->ram_base != ram->base || v->ram_size != ram->size))
        r = error_set(err, -EINVAL,
                      "%s: RAM of %llu MiB at 0x%llx, this machine has %llu MiB at 0x%llx", name,
                      (unsigned long long)(v->ram_size >> 20), (unsigned long long)v->ram_base,
                      (unsigned long long)(ram->size >> 20), (unsigned long long)ram->base);
    const struct section *ms = NULL, *rs = NULL;
    if (r == 0 && (!(ms = find(v, "machine", MACHINE_SECTION_VERSION, MACHINE_SECTION_VERSION, name, err)) ||
                   !(rs = find(v, "ram", SNAP_RAM_VERSION_MIN, SNAP_RAM_VERSION, name, err))))
        r = -EINVAL;
    /* Everything checked before anything changes: the RAM section (and its
     * memory file), then the machine state, which the board loads all or
     * nothing. RAM goes last. */
    if (r == 0)
        r = snap_ram_check(rs->data, rs->len, rs->flags, ram, len, name, err);
    if (r == 0) {
        struct state_buf s;
        state_init_reader(&s, ms->data, ms->len);
        r = m->ops->load(m, &s, err);
        if (r == 0 && s.pos != s.len)
            r = error_set(err, -EINVAL, "%s: %zu bytes after the machine state", name,
                          s.len - s.pos);
        if (r < 0)
            error_prefix(err, "%s: ", name);
    }
    if (r == 0)
        r = snap_ram_apply(rs->data, rs->len, rs->flags, ram, d, len, fd, name, err);
    free(v);
    return r;
}

int snapshot_restore_data(const uint8_t *d, size_t len, const char *name, struct machine *m,
                          struct error *err)
{
    return restore(d, len, -1, name, m, err);
}

int snapshot_restore(const char *path, struct machine *m, struct error *err)
{
    const uint8_t *d;
    size_t len;
    int fd;
    int r = map_file(path, &d, &len, &fd, err);
    if (r < 0)
        return r;
    r = restore(d, len, fd, path, m, err);
    munmap((void *)d, len);
    close(fd);
    return r;
}
