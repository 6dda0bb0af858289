/* Shared between the snapshot file (snapshot_file.c) and its RAM section
 * (snapshot_ram.c). Not a public header. */
#ifndef CONDO_SNAPSHOT_INTERNAL_H
#define CONDO_SNAPSHOT_INTERNAL_H

#include "condo/guest_ram.h"
#include "condo/snapshot.h"
#include "condo/state.h"

#define SNAP_PAGE 4096u
/* RAM section versions: 1 (inline, memory file), 2 adds mapped. */
#define SNAP_RAM_VERSION 2
#define SNAP_RAM_VERSION_MIN 1
enum { SNAP_RAM_INLINE = 0, SNAP_RAM_MEMFILE = 1, SNAP_RAM_MAPPED = 2 };
/* The mapped encoding's descriptor: version (u8), size, offset (u64) */
#define SNAP_RAM_MAPPED_LEN 17u
#define SNAP_MEM_MAGIC "CONDOMEM"
#define SNAP_MEM_HEADER SNAP_PAGE

/* The RAM section for `ram`, appended to out: inline (zero-page bitmap and
 * zstd frame), or with mem_path a reference to a memory file written
 * here, or (mapped, map_off != 0) a descriptor of RAM stored raw in the
 * snapshot file itself at map_off, which snap_ram_write_mapped() writes.
 * *pages gets the count of pages not all zero (inline, memory file), *mem_bytes the
 * memory file's allocated size. *flags gets the encoding. */
int snap_ram_encode(const struct guest_ram *ram, const char *mem_path, uint64_t map_off,
                    struct state_buf *out, uint32_t *flags, uint64_t *pages, uint64_t *mem_bytes,
                    struct error *err);
/* Mapped RAM: every page that is not all zero at off + its offset in RAM
 * (zero pages stay holes), then the file is extended to off + RAM size. */
int snap_ram_write_mapped(const struct guest_ram *ram, int fd, uint64_t off, uint64_t *pages);

/* Check a RAM section against ram's size without changing RAM (the
 * memory file is opened and its header checked too). file_len is the
 * snapshot file's length (mapped RAM must lie inside it). */
int snap_ram_check(const uint8_t *sec, size_t len, uint32_t flags, const struct guest_ram *ram,
                   uint64_t file_len, const char *name, struct error *err);
/* Then fill RAM from it (a failure here leaves RAM part-written). Mapped
 * RAM is mapped copy-on-write from fd, or copied from file (the whole
 * snapshot in memory) when fd < 0. */
int snap_ram_apply(const uint8_t *sec, size_t len, uint32_t flags, struct guest_ram *ram,
                   const uint8_t *file, uint64_t file_len, int fd, const char *name,
                   struct error *err);

#endif
