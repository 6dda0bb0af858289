/* Shared between the snapshot file (snapshot_file.c) and its RAM section
 * (snapshot_ram.c). Not a public header. */
#ifndef CONDO_SNAPSHOT_INTERNAL_H
#define CONDO_SNAPSHOT_INTERNAL_H

#include "condo/guest_ram.h"
#include "condo/snapshot.h"
#include "condo/state.h"

#define SNAP_PAGE 4096u
#define SNAP_RAM_VERSION 1
enum { SNAP_RAM_INLINE = 0, SNAP_RAM_MEMFILE = 1 };
#define SNAP_MEM_MAGIC "CONDOMEM"
#define SNAP_MEM_HEADER SNAP_PAGE

/* The RAM section for `ram`, appended to out: inline (zero-page bitmap and
 * zstd frame) or, with mem_path, a reference to a memory file written
 * here. *pages gets the count of pages not all zero, *mem_bytes the
 * memory file's allocated size. *flags gets the encoding. */
int snap_ram_encode(const struct guest_ram *ram, const char *mem_path, struct state_buf *out,
                    uint32_t *flags, uint64_t *pages, uint64_t *mem_bytes, struct error *err);

/* Check a RAM section against ram's size without changing RAM (the
 * memory file is opened and its header checked too). */
int snap_ram_check(const uint8_t *sec, size_t len, uint32_t flags, const struct guest_ram *ram,
                   const char *name, struct error *err);
/* Then fill RAM from it (a failure here leaves RAM part-written). */
int snap_ram_apply(const uint8_t *sec, size_t len, uint32_t flags, struct guest_ram *ram,
                   const char *name, struct error *err);

#endif
