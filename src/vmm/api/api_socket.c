/* The API's UNIX socket file. Mode 0600: only the VM's owner may connect
 * (connecting needs write permission on the file). The mode is set
 * between bind() and listen(): until listen() every connect() is refused,
 * so no one can get in through the umask's wider mode meanwhile.
 *
 * A path that already exists is probed: a socket where a listener answers
 * belongs to a running VM (refused); a socket where nothing answers is
 * stale (a VMM that was killed) and is removed; anything that is not a
 * socket is the user's file and is never touched. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/api/api_internal.h"

static int fill_addr(const char *path, struct sockaddr_un *sa, struct error *err)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n == 0)
        return error_set(err, -EINVAL, "the API socket path is empty");
    if (n >= sizeof(sa->sun_path))
        return error_set(err, -ENAMETOOLONG,
                         "API socket path %s is too long (%zu bytes; a UNIX socket path holds "
                         "at most %zu): choose a shorter one",
                         path, n, sizeof(sa->sun_path) - 1);
    memcpy(sa->sun_path, path, n + 1);
    return 0;
}

/* Something exists at path: in use (-EBUSY), not ours to touch (-EEXIST),
 * or stale and now removed (0). */
static int clear_stale(const char *path, const struct sockaddr_un *sa, struct error *err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return error_set_errno(err, -errno, "cannot inspect API socket path %s", path);
    }
    if (!S_ISSOCK(st.st_mode))
        return error_set(err, -EEXIST,
                         "API socket path %s exists and is not a socket: remove it or choose "
                         "another path",
                         path);
    /* Nonblocking: a listener with a full backlog answers EAGAIN at once
     * instead of making us wait; it is alive all the same. */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return error_set_errno(err, -errno, "cannot create a socket to probe %s", path);
    int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    int e = errno;
    close(fd);
    if (r == 0 || e == EAGAIN || e == EINPROGRESS)
        return error_set(err, -EBUSY,
                         "API socket %s is in use: a running process answers there; stop it "
                         "or choose another path",
                         path);
    if (e != ECONNREFUSED)
        return error_set_errno(err, -e, "cannot probe API socket %s", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return error_set_errno(err, -errno, "cannot remove stale API socket %s", path);
    condo_info("removed stale API socket %s", path);
    return 0;
}

int api_socket_listen(const char *path, int *fd_out, dev_t *dev, ino_t *ino, struct error *err)
{
    struct sockaddr_un sa;
    int r = fill_addr(path, &sa, err);
    if (r < 0)
        return r;
    r = clear_stale(path, &sa, err);
    if (r < 0)
        return r;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return error_set_errno(err, -errno, "cannot create the API socket");
    if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
        r = -errno;
        close(fd);
        if (r == -EADDRINUSE)
            return error_set(err, -EBUSY,
                             "API socket %s was just created by another process: choose "
                             "another path",
                             path);
        return error_set_errno(err, r, "cannot create API socket %s", path);
    }
    struct stat st;
    if (chmod(path, 0600) < 0 || lstat(path, &st) < 0) {
        r = -errno;
        unlink(path);
        close(fd);
        return error_set_errno(err, r, "cannot make API socket %s private", path);
    }
    if (listen(fd, 16) < 0) {
        r = -errno;
        unlink(path);
        close(fd);
        return error_set_errno(err, r, "cannot listen on API socket %s", path);
    }
    *fd_out = fd;
    *dev = st.st_dev;
    *ino = st.st_ino;
    return 0;
}

void api_socket_remove(const char *path, dev_t dev, ino_t ino)
{
    struct stat st;
    /* Only our own file: another process may have replaced a file it
     * thought stale (it was not, but that is its mistake, not ours to
     * compound). */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev && st.st_ino == ino)
        unlink(path);
}
