/* The building: what the host has, what running VMs were given, and the
 * admission rule for a new one. Guest RAM is one lazily-touched mapping, so
 * a VM costs its guest memory only as the guest uses it; the rule still
 * counts every VM at its full size plus the VMM's own overhead, against the
 * host's RAM times an overcommit ratio (default 2.0; CONDO_MEM_OVERCOMMIT
 * or "memory_overcommit" in <data>/host.json change it; 1.0 promises never
 * to overcommit). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "condo/manager.h"

static uint64_t meminfo_kib(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "re");
    if (!f)
        return 0;
    char line[256];
    size_t kl = strlen(key);
    uint64_t v = 0;
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtoull(line + kl + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

static double overcommit_ratio(const struct condo_paths *p)
{
    const char *e = getenv("CONDO_MEM_OVERCOMMIT");
    if (e && *e) {
        double v = strtod(e, NULL);
        if (v >= 0.1 && v <= 100)
            return v;
    }
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/host.json", p->data);
    json_t *o = json_load_file(path, 0, NULL);
    double v = HOST_DEFAULT_OVERCOMMIT;
    if (o) {
        json_t *j = json_object_get(o, "memory_overcommit");
        if (json_is_number(j) && json_number_value(j) >= 0.1 && json_number_value(j) <= 100)
            v = json_number_value(j);
        json_decref(o);
    }
    return v;
}

int host_info_get(const struct condo_paths *p, struct host_info *h, struct error *err)
{
    memset(h, 0, sizeof(*h));
    h->mem_total = meminfo_kib("MemTotal") << 10;
    h->mem_available = meminfo_kib("MemAvailable") << 10;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    h->cpus = n > 0 ? (unsigned)n : 1;
    h->overcommit = overcommit_ratio(p);
    h->vmm_overhead = (uint64_t)VMM_OVERHEAD_MIB << 20;
    h->capacity = (uint64_t)((double)h->mem_total * h->overcommit);
    char **names;
    size_t count;
    int r = vm_list_names(p, &names, &count, err);
    if (r)
        return r;
    for (size_t i = 0; i < count; i++) {
        struct vm_info vi;
        if (vm_info_get(p, names[i], &vi, NULL) == 0) {
            h->vms++;
            if (vi.state == VM_STATE_RUNNING || vi.state == VM_STATE_PAUSED) {
                h->running++;
                h->allocated += vi.def.cfg.hw.memory + h->vmm_overhead;
                h->vcpus += vi.def.cfg.hw.cpus;
                h->rss += proc_rss_bytes(vi.pid);
            }
        }
        vm_info_free(&vi);
    }
    vm_names_free(names, count);
    return 0;
}

int host_admit(const struct condo_paths *p, const struct vm_def *d, struct error *err)
{
    struct host_info h;
    int r = host_info_get(p, &h, err);
    if (r)
        return r;
    uint64_t want = d->cfg.hw.memory + h.vmm_overhead;
    if (h.allocated + want > h.capacity)
        return error_set(err, -ENOMEM,
                         "not starting %s: it needs %llu MiB (%llu guest + %llu VMM overhead), "
                         "running VMs hold %llu MiB of the %llu MiB this host allows (%.0f%% of "
                         "%llu MiB RAM; set CONDO_MEM_OVERCOMMIT to change the ratio)",
                         d->name, (unsigned long long)(want >> 20),
                         (unsigned long long)(d->cfg.hw.memory >> 20),
                         (unsigned long long)(h.vmm_overhead >> 20),
                         (unsigned long long)(h.allocated >> 20),
                         (unsigned long long)(h.capacity >> 20), h.overcommit * 100,
                         (unsigned long long)(h.mem_total >> 20));
    return 0;
}

/* --- /proc --- */

uint64_t proc_rss_bytes(pid_t pid)
{
    if (pid <= 0)
        return 0;
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    uint64_t v = 0;
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "VmRSS:", 6)) {
            v = strtoull(line + 6, NULL, 10) << 10;
            break;
        }
    }
    fclose(f);
    return v;
}

uint64_t proc_cpu_ns(pid_t pid)
{
    if (pid <= 0)
        return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    /* fields after the command name, which may hold spaces: from the last ')' */
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    unsigned long long ut = 0, st = 0;
    /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    long hz = sysconf(_SC_CLK_TCK);
    return (ut + st) * (1000000000ull / (uint64_t)(hz > 0 ? hz : 100));
}
