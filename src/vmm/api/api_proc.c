/* The VMM process's own figures for GET /condo/status: pid, resident
 * memory and host CPU time. /proc/self/statm is opened once when the server
 * starts and read with pread(), so the figures still come after the
 * sandbox forbids opening files. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "vmm/api/api_internal.h"

static atomic_int statm_fd = -1;

void api_proc_open(void)
{
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    int old = atomic_exchange(&statm_fd, fd);
    if (old >= 0)
        close(old);
}

void api_proc_close(void)
{
    int old = atomic_exchange(&statm_fd, -1);
    if (old >= 0)
        close(old);
}

static uint64_t ms(struct timeval tv)
{
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

void api_proc_fill(struct api_status *st)
{
    st->pid = getpid();
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        st->cpu_user_ms = ms(ru.ru_utime);
        st->cpu_system_ms = ms(ru.ru_stime);
    }
    st->rss_bytes = 0;
    int fd = atomic_load(&statm_fd);
    bool own = fd < 0;
    if (own)
        fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[128];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (own)
        close(fd);
    if (n <= 0)
        return;
    buf[n] = 0;
    unsigned long long size, resident;
    long page = sysconf(_SC_PAGESIZE);
    if (sscanf(buf, "%llu %llu", &size, &resident) == 2 && page > 0)
        st->rss_bytes = (uint64_t)resident * (uint64_t)page;
}
