/* Snapshot files: a stopped machine (CPUs, devices, RAM) and the VM's
 * definition in one self-describing file (docs/SNAPSHOTS.md).
 *
 *   header (page 0): magic "CONDOSNP", format version, arch, board, RAM
 *     base and size, the section table, a CRC-32 over all of it
 *   sections, each with a tag, its own version, offset, length, CRC-32:
 *     "definition"  the VM definition (JSON, as vm.json)
 *     "machine"     machine_ops.save's stream (harts, then each device)
 *     "ram"         how RAM is stored: mapped (the default since format 2:
 *                   RAM raw in this file after the last section, page
 *                   aligned, zero pages left as holes, so a restore maps it
 *                   copy-on-write); compressed (a bitmap of the pages that
 *                   are not all zero, then those pages zstd-compressed: for
 *                   export); or a reference to a separate memory file
 *                   (path, size, pairing nonce)
 *   memory file (optional, Firecracker's mem_file_path): a 4 KiB header
 *     (magic "CONDOMEM", size, nonce) then RAM raw and page-aligned, zero
 *     pages left as holes, so a restore maps it copy-on-write.
 *
 * Everything read is untrusted: a truncated, corrupted, foreign or newer
 * file is refused with one line saying what and which file. Writing goes
 * to a temporary name, is fsynced and renamed: a crash during a save never
 * destroys a snapshot already there. This layer knows the machine only
 * through struct machine_ops. */
#ifndef CONDO_SNAPSHOT_H
#define CONDO_SNAPSHOT_H

#include "condo/error.h"
#include "condo/machine.h"

/* Format 2 added mapped RAM; format 1 files still load. */
#define SNAPSHOT_VERSION 2
#define SNAPSHOT_VERSION_MIN 1

/* How long the guest was stopped for, and what was written. */
struct snapshot_stats {
    uint64_t state_bytes;  /* the machine section */
    uint64_t ram_pages;    /* pages that are not all zero */
    uint64_t file_bytes;   /* the snapshot file (its length) */
    uint64_t alloc_bytes;  /* the snapshot file's blocks on disk (holes are free) */
    uint64_t mem_bytes;    /* the memory file (allocated), 0 without one */
};

/* How RAM is written. */
enum snapshot_ram_mode {
    SNAPSHOT_RAM_MAPPED = 0,     /* raw in the file, mappable (default) */
    SNAPSHOT_RAM_COMPRESSED = 1, /* zstd, smallest: export, archives */
};

/* What a save needs from the stopped machine, taken while it is stopped:
 * the machine state and the definition (copied) and RAM (referenced: the
 * writer reads RAM as it is when it runs, so it runs while the machine is
 * still stopped, or in a forked child that sees RAM frozen at the fork). */
struct snapshot_capture;

/* Capture a stopped machine (every CPU parked, the machine lock held). */
int snapshot_capture(struct machine *m, const char *definition, struct snapshot_capture **out,
                     struct error *err);
/* Write a capture to path (RAM to mem_path when not NULL, else by mode):
 * temporary name, fsync, rename. Logs nothing, takes no lock: safe in a
 * child forked from the multi-threaded VMM. stats may be NULL. */
int snapshot_write(const struct snapshot_capture *c, const char *path, const char *mem_path,
                   enum snapshot_ram_mode mode, struct snapshot_stats *stats, struct error *err);
void snapshot_capture_free(struct snapshot_capture *c);

/* Save a stopped machine (every CPU parked, the machine lock held) with
 * its definition (a JSON text) to path: capture, then write, RAM mapped
 * (or to mem_path when it is not NULL). stats may be NULL. 0 or a negative errno with err set. */
int snapshot_save(const char *path, const char *mem_path, const char *definition,
                  struct machine *m, struct snapshot_stats *stats, struct error *err);

/* The definition stored in a snapshot (malloc'd, NUL-terminated), after the
 * header and the definition section were checked. */
int snapshot_read_definition(const char *path, char **definition, struct error *err);

/* Restore a snapshot into a freshly created machine of the same board,
 * arch and RAM size (CPUs not started). Every section is checked (bounds,
 * versions, checksums) before the machine changes; the machine state is
 * loaded (it validates all of it first) before RAM, RAM last. A failure
 * after RAM began to change leaves the machine unusable: the caller
 * discards it (restore targets a new machine only). */
int snapshot_restore(const char *path, struct machine *m, struct error *err);

/* The same from memory (the fuzz target's entry); mem_path references in
 * the data are opened as given. name is used in messages. */
int snapshot_restore_data(const uint8_t *data, size_t len, const char *name, struct machine *m,
                          struct error *err);

#endif
