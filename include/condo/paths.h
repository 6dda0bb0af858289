/* Where condo keeps its files on the host. One place decides, so the disk
 * layer's backing-file rule, `condo image` and the VM manager agree:
 *
 *   $CONDO_HOME                      when set (tests use it): everything
 *   $XDG_DATA_HOME/condo             otherwise (default ~/.local/share/condo)
 *   /var/lib/condo                   for root
 *
 * The image store (base images VMs are made from) is its `images/`
 * subdirectory. Nothing here creates a directory or touches the disk. */
#ifndef CONDO_PATHS_H
#define CONDO_PATHS_H

#include "condo/common.h"
#include "condo/error.h"

/* condo's data directory. -ENOENT (with a message) when no rule gives one
 * (no CONDO_HOME, no XDG_DATA_HOME and no HOME for a non-root user);
 * -ENAMETOOLONG when it does not fit in out. */
int paths_data_home(char *out, size_t outsz, struct error *err);
/* The image store: paths_data_home() + "/images". */
int paths_image_store(char *out, size_t outsz, struct error *err);

#endif
