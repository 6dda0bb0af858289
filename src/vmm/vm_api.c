/* The control API's backend: what each call does to this VM.
 *
 * The server is driven from the VM loop (api_server_run() on the I/O
 * thread, outside the machine lock), so every call here runs on the I/O
 * thread, one at a time, and may park the CPUs (pause) or build the whole
 * machine (InstanceStart) without any handshake. No call waits for the
 * guest: a graceful stop only presses the power button and sets the
 * deadline after which the VM loop forces it.
 *
 * Before InstanceStart (condo run --api-sock with no VM options) the PUTs
 * fill vm->pre_cfg, whose strings live in vm->pre; once the machine runs,
 * only what can change live is accepted, and the rest is refused with
 * Firecracker's own message. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "condo/rate_limit.h"
#include "condo/snapshot.h"
#include "condo/vm_def.h"
#include "vm_snapshot_internal.h"
#include "vmm/vm_internal.h"

#define FC_AFTER_START "The requested operation is not supported after starting the microVM."
#define FC_BEFORE_START "The requested operation is not supported before starting the microVM."

static int after_start(struct error *err)
{
    return error_set(err, -EBUSY, FC_AFTER_START);
}

static int before_start(struct error *err)
{
    return error_set(err, -EBUSY, FC_BEFORE_START);
}

static enum api_vm_state state_of(const struct vm *vm)
{
    if (vm->preboot)
        return API_VM_NOT_STARTED;
    return vm->paused ? API_VM_PAUSED : API_VM_RUNNING;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* A file the VMM will open: readable now, or one clear line. */
static int check_file(const char *what, const char *path, struct error *err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return error_set_errno(err, -errno, "%s %s cannot be used", what, path);
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return error_set(err, -EINVAL, "%s %s is not a regular file", what, path);
    if (access(path, R_OK) < 0)
        return error_set_errno(err, -errno, "%s %s is not readable", what, path);
    return 0;
}

static void limiter_of(struct api_rate_limiter *rl, uint64_t bps, uint64_t iops)
{
    memset(rl, 0, sizeof(*rl));
    if (bps) {
        rl->has_bandwidth = true;
        rl->bandwidth.size = bps;
        rl->bandwidth.refill_time = 1000;
    }
    if (iops) {
        rl->has_ops = true;
        rl->ops.size = iops;
        rl->ops.refill_time = 1000;
    }
}

/* --- what the VM is --- */

static void get_machine(const struct vm *vm, struct api_machine_config *mc)
{
    memset(mc, 0, sizeof(*mc));
    mc->has_vcpu_count = mc->has_mem_size_mib = mc->has_smt = true;
    mc->has_track_dirty_pages = mc->has_huge_pages = mc->has_cpu_template = true;
    mc->vcpu_count = vm->cfg->hw.cpus;
    mc->mem_size_mib = vm->cfg->hw.memory >> 20;
    mc->huge_pages = API_HUGE_PAGES_NONE;
    mc->cpu_template = API_CPU_TEMPLATE_NONE;
}

static int get_balloon(struct vm *vm, struct api_balloon *out, struct error *err);

static void get_vm_config(struct vm *vm, struct api_vm_config *vc)
{
    const struct machine_config *hw = &vm->cfg->hw;
    get_machine(vm, &vc->machine);
    if (hw->kernel) {
        vc->has_boot_source = true;
        copy_str(vc->boot_source.kernel_image_path, API_PATH_MAX, hw->kernel);
        vc->boot_source.has_initrd_path = hw->initrd != NULL;
        copy_str(vc->boot_source.initrd_path, API_PATH_MAX, hw->initrd);
        vc->boot_source.has_boot_args = hw->append != NULL;
        copy_str(vc->boot_source.boot_args, API_ARGS_MAX, hw->append);
    }
    for (unsigned i = 0; i < hw->ndisks && i < API_MAX_DRIVES; i++) {
        struct api_drive *d = &vc->drives[vc->n_drives++];
        copy_str(d->drive_id, API_ID_MAX, vm->drive_id[i]);
        d->has_path_on_host = true;
        copy_str(d->path_on_host, API_PATH_MAX, hw->disks[i].path);
        d->is_root_device = i == 0 && vm->pre && vm->pre->root_set;
        d->has_is_read_only = true;
        d->is_read_only = hw->disks[i].read_only;
        if (hw->disks[i].bps || hw->disks[i].iops) {
            d->has_rate_limiter = true;
            limiter_of(&d->rate_limiter, hw->disks[i].bps, hw->disks[i].iops);
        }
    }
    for (unsigned i = 0; i < hw->nnets && i < API_MAX_NETS; i++) {
        struct api_net *n = &vc->nets[vc->n_nets++];
        copy_str(n->iface_id, API_ID_MAX, vm->net_id[i]);
        n->has_spec = true;
        copy_str(n->spec, API_NET_SPEC_MAX, hw->nets[i]);
    }
    vc->cpu_limit.has_cpu_limit_pct = vc->cpu_limit.has_cpu_weight = true;
    vc->cpu_limit.cpu_limit_pct = vm->cpu_limit_pct;
    vc->cpu_limit.cpu_weight = vm->cpu_weight ? vm->cpu_weight : API_CPU_WEIGHT_DEFAULT;
    /* the balloon as GET /balloon shows it (the live target once running);
     * a failure to ask the device leaves the configured figures */
    if (hw->balloon.enabled) {
        struct error ignore = ERROR_INIT;
        vc->has_balloon = true;
        get_balloon(vm, &vc->balloon, &ignore);
    }
}

static int balloon_info(struct vm *vm, struct machine_balloon_info *bi, struct error *err);

static void get_status(struct vm *vm, struct api_status *st)
{
    copy_str(st->id, API_NAME_MAX, vm->opts->name);
    st->state = state_of(vm);
    st->uptime_ms = vm->start_ns ? (condo_clock_ns() - vm->start_ns) / 1000000 : 0;
    st->vcpus = vm->cfg->hw.cpus;
    st->mem_size_mib = vm->cfg->hw.memory >> 20;
    st->cpu_limit_pct = vm->cpu_limit_pct;
    st->cpu_weight = vm->cpu_weight ? vm->cpu_weight : API_CPU_WEIGHT_DEFAULT;
    if (!vm->m)
        return;
    struct machine_stats ms;
    pthread_mutex_lock(&vm->lock);
    vm->ops->stats(vm->m, &ms);
    pthread_mutex_unlock(&vm->lock);
    for (unsigned i = 0; i < ms.ndisks && i < API_MAX_DRIVES; i++) {
        struct api_disk_stats *d = &st->disks[st->n_disks++];
        copy_str(d->drive_id, API_ID_MAX, vm->drive_id[i]);
        d->read_bytes = ms.disks[i].read_bytes;
        d->write_bytes = ms.disks[i].write_bytes;
        d->read_ops = ms.disks[i].read_ops;
        d->write_ops = ms.disks[i].write_ops;
        d->flush_ops = ms.disks[i].flush_ops;
    }
    for (unsigned i = 0; i < ms.nnics && i < API_MAX_NETS; i++) {
        struct api_nic_stats *n = &st->nics[st->n_nics++];
        copy_str(n->iface_id, API_ID_MAX, vm->net_id[i]);
        n->rx_bytes = ms.nics[i].rx_bytes;
        n->tx_bytes = ms.nics[i].tx_bytes;
        n->rx_packets = ms.nics[i].rx_packets;
        n->tx_packets = ms.nics[i].tx_packets;
        n->rx_dropped = ms.nics[i].rx_dropped;
        n->tx_dropped = ms.nics[i].tx_dropped;
    }
    st->idle_cache_bytes = __atomic_load_n(&vm->idle_cache_bytes, __ATOMIC_RELAXED);
    st->idle_zero_bytes = vm->idle_zero_bytes;
    struct machine_balloon_info bi;
    struct error ignore = ERROR_INIT;
    if (vm->cfg->hw.balloon.enabled && balloon_info(vm, &bi, &ignore) == 0) {
        st->has_balloon = true;
        st->balloon_reported_bytes = bi.reported_bytes;
        st->balloon_inflated_pages = bi.inflated_pages;
        st->balloon_deflated_pages = bi.deflated_pages;
    }
}

/* --- configuring before InstanceStart --- */

static int put_machine(struct vm *vm, const struct api_machine_config *mc, struct error *err)
{
    if (!vm->preboot)
        return after_start(err);
    struct machine_config *hw = &vm->pre_cfg.hw;
    if (mc->has_vcpu_count && (mc->vcpu_count < 1 || mc->vcpu_count > VM_MAX_CPUS))
        return error_set(err, -EINVAL, "vcpu_count %llu: a VM has 1 to %d vCPUs",
                         (unsigned long long)mc->vcpu_count, VM_MAX_CPUS);
    if (mc->has_mem_size_mib && (mc->mem_size_mib < 16 || mc->mem_size_mib > 65536))
        return error_set(err, -EINVAL, "mem_size_mib %llu: condo gives a VM 16 to 65536 MiB",
                         (unsigned long long)mc->mem_size_mib);
    if (mc->has_smt && mc->smt)
        return error_set(err, -EINVAL, "smt: RISC-V harts have no SMT siblings here");
    if (mc->has_huge_pages && mc->huge_pages == API_HUGE_PAGES_2M)
        return error_set(err, -ENOTSUP, "huge_pages 2M is not supported (condo's RAM is "
                                        "advised for transparent huge pages already)");
    if (mc->has_cpu_template && mc->cpu_template != API_CPU_TEMPLATE_NONE)
        return error_set(err, -EINVAL, "cpu_template: CPU templates are for x86-64 and "
                                       "aarch64 guests; a riscv64 VM takes None");
    if (mc->has_vcpu_count)
        hw->cpus = (unsigned)mc->vcpu_count;
    if (mc->has_mem_size_mib)
        hw->memory = mc->mem_size_mib << 20;
    return 0;
}

static int put_boot_source(struct vm *vm, const struct api_boot_source *b, struct error *err)
{
    if (!vm->preboot)
        return after_start(err);
    int r = check_file("kernel_image_path", b->kernel_image_path, err);
    if (r == 0 && b->has_initrd_path)
        r = check_file("initrd_path", b->initrd_path, err);
    if (r < 0)
        return r;
    struct machine_config *hw = &vm->pre_cfg.hw;
    copy_str(vm->pre->kernel, sizeof(vm->pre->kernel), b->kernel_image_path);
    hw->kernel = vm->pre->kernel;
    hw->initrd = NULL;
    if (b->has_initrd_path) {
        copy_str(vm->pre->initrd, sizeof(vm->pre->initrd), b->initrd_path);
        hw->initrd = vm->pre->initrd;
    }
    hw->append = NULL;
    if (b->has_boot_args) {
        copy_str(vm->pre->append, sizeof(vm->pre->append), b->boot_args);
        hw->append = vm->pre->append;
    }
    return 0;
}

/* Where drive `id` is, or where it would go (ndisks when new). */
static unsigned find_drive(const struct vm *vm, const char *id)
{
    unsigned i;
    for (i = 0; i < vm->cfg->hw.ndisks; i++)
        if (!strcmp(vm->drive_id[i], id))
            break;
    return i;
}

/* Move drive i to the front (the root device is vda). */
static void drive_to_front(struct vm *vm, unsigned i)
{
    struct machine_config *hw = &vm->pre_cfg.hw;
    for (; i > 0; i--) {
        struct vm_disk_config d = hw->disks[i];
        hw->disks[i] = hw->disks[i - 1];
        hw->disks[i - 1] = d;
        char id[API_ID_MAX], path[API_PATH_MAX];
        memcpy(id, vm->drive_id[i], API_ID_MAX);
        memcpy(vm->drive_id[i], vm->drive_id[i - 1], API_ID_MAX);
        memcpy(vm->drive_id[i - 1], id, API_ID_MAX);
        memcpy(path, vm->pre->disk_path[i], API_PATH_MAX);
        memcpy(vm->pre->disk_path[i], vm->pre->disk_path[i - 1], API_PATH_MAX);
        memcpy(vm->pre->disk_path[i - 1], path, API_PATH_MAX);
    }
    for (unsigned k = 0; k < hw->ndisks; k++)
        hw->disks[k].path = vm->pre->disk_path[k];
}

static int put_drive(struct vm *vm, const struct api_drive *d, struct error *err)
{
    if (!vm->preboot)
        return after_start(err);
    struct machine_config *hw = &vm->pre_cfg.hw;
    unsigned i = find_drive(vm, d->drive_id);
    if (i == hw->ndisks && hw->ndisks >= VM_MAX_DISKS)
        return error_set(err, -E2BIG, "drive %s: a VM has at most %d drives", d->drive_id,
                         VM_MAX_DISKS);
    bool was_root = vm->pre->root_set && i == 0 && i < hw->ndisks;
    if (d->is_root_device && vm->pre->root_set && !was_root)
        return error_set(err, -EINVAL, "A root block device already exists!");
    int r = check_file("path_on_host", d->path_on_host, err);
    if (r < 0)
        return error_prefix(err, "drive %s: ", d->drive_id), r;
    if (d->has_rate_limiter && d->rate_limiter.has_bandwidth &&
        d->rate_limiter.bandwidth.has_one_time_burst)
        condo_info("drive %s: one_time_burst is ignored (condo's buckets start full)",
                   d->drive_id);
    struct vm_disk_config *dc = &hw->disks[i];
    memset(dc, 0, sizeof(*dc));
    copy_str(vm->pre->disk_path[i], API_PATH_MAX, d->path_on_host);
    dc->path = vm->pre->disk_path[i];
    dc->read_only = d->has_is_read_only && d->is_read_only;
    dc->format = 0; /* BLOCK_FORMAT_AUTO: probed, under the backing rule */
    if (d->has_rate_limiter) {
        if (d->rate_limiter.has_bandwidth)
            dc->bps = api_token_bucket_rate(&d->rate_limiter.bandwidth);
        if (d->rate_limiter.has_ops)
            dc->iops = api_token_bucket_rate(&d->rate_limiter.ops);
    }
    copy_str(vm->drive_id[i], API_ID_MAX, d->drive_id);
    if (i == hw->ndisks)
        hw->ndisks++;
    if (was_root && !d->is_root_device)
        vm->pre->root_set = false;
    if (d->is_root_device) {
        drive_to_front(vm, i);
        vm->pre->root_set = true;
        copy_str(vm->pre->root_partuuid, API_NAME_MAX, d->has_partuuid ? d->partuuid : "");
        vm->pre->root_ro = hw->disks[0].read_only;
    }
    return 0;
}

static int patch_drive(struct vm *vm, const struct api_drive *d, struct error *err)
{
    if (vm->preboot)
        return before_start(err);
    const struct machine_config *hw = &vm->cfg->hw;
    unsigned i = find_drive(vm, d->drive_id);
    if (i == hw->ndisks)
        return error_set(err, -ENOENT, "drive %s: no such drive (the VM has %u)",
                         d->drive_id, hw->ndisks);
    if (d->has_path_on_host && strcmp(d->path_on_host, hw->disks[i].path))
        return error_set(err, -ENOTSUP,
                         "drive %s: changing the image of a running drive is not supported",
                         d->drive_id);
    if (!d->has_rate_limiter)
        return 0;
    /* absent buckets stay as they are */
    struct vm_disk_config *dc = (struct vm_disk_config *)&hw->disks[i];
    struct rate_limit_config rl = { .bps = dc->bps, .iops = dc->iops };
    if (d->rate_limiter.has_bandwidth)
        rl.bps = api_token_bucket_rate(&d->rate_limiter.bandwidth);
    if (d->rate_limiter.has_ops)
        rl.iops = api_token_bucket_rate(&d->rate_limiter.ops);
    if (!vm->ops->disk_set_limit)
        return error_set(err, -ENOTSUP, "this board cannot change a disk's rate limit");
    pthread_mutex_lock(&vm->lock);
    int r = vm->ops->disk_set_limit(vm->m, i, &rl, err);
    pthread_mutex_unlock(&vm->lock);
    if (r < 0)
        return r;
    /* what GET /vm/config reports from now on */
    dc->bps = rl.bps;
    dc->iops = rl.iops;
    condo_info("drive %s: rate limit now %llu bytes/s, %llu requests/s (0: none)",
               d->drive_id, (unsigned long long)rl.bps, (unsigned long long)rl.iops);
    return 0;
}

/* One bucket rate for both directions: condo's network backends take one. */
static int net_rate(const struct api_net *n, uint64_t *bps, struct error *err)
{
    const struct api_rate_limiter *rls[2] = {
        n->has_rx_rate_limiter ? &n->rx_rate_limiter : NULL,
        n->has_tx_rate_limiter ? &n->tx_rate_limiter : NULL,
    };
    *bps = 0;
    for (int k = 0; k < 2; k++) {
        if (!rls[k])
            continue;
        if (rls[k]->has_ops && rls[k]->ops.size && rls[k]->ops.refill_time)
            return error_set(err, -ENOTSUP, "%s: condo limits a network card's bytes, "
                                            "not its packets (give bandwidth only)",
                             n->iface_id);
        uint64_t r = rls[k]->has_bandwidth ? api_token_bucket_rate(&rls[k]->bandwidth) : 0;
        if (*bps && r && r != *bps)
            return error_set(err, -ENOTSUP, "%s: condo limits both directions of a card at "
                                            "one rate (give rx and tx the same bandwidth)",
                             n->iface_id);
        if (r)
            *bps = r;
    }
    return 0;
}

static int put_net(struct vm *vm, const struct api_net *n, struct error *err)
{
    if (!vm->preboot)
        return after_start(err);
    struct machine_config *hw = &vm->pre_cfg.hw;
    unsigned i;
    for (i = 0; i < hw->nnets; i++)
        if (!strcmp(vm->net_id[i], n->iface_id))
            break;
    if (i == hw->nnets && hw->nnets >= VM_MAX_NETS)
        return error_set(err, -E2BIG, "%s: a VM has at most %d network cards", n->iface_id,
                         VM_MAX_NETS);
    uint64_t bps;
    int r = net_rate(n, &bps, err);
    if (r < 0)
        return r;
    char *spec = vm->pre->net_spec[i];
    size_t cap = sizeof(vm->pre->net_spec[i]);
    int len = n->has_host_dev_name ? snprintf(spec, cap, "tap,ifname=%s", n->host_dev_name)
                                   : snprintf(spec, cap, "%s", n->spec);
    if (n->has_guest_mac && len > 0 && (size_t)len < cap) {
        const uint8_t *m = n->guest_mac;
        len += snprintf(spec + len, cap - (size_t)len, ",mac=%02x:%02x:%02x:%02x:%02x:%02x",
                        m[0], m[1], m[2], m[3], m[4], m[5]);
    }
    if (bps && len > 0 && (size_t)len < cap)
        len += snprintf(spec + len, cap - (size_t)len, ",bps=%llu", (unsigned long long)bps);
    if (len < 0 || (size_t)len >= cap)
        return error_set(err, -E2BIG, "%s: the network card's settings are too long",
                         n->iface_id);
    if (n->has_mtu && n->mtu != 1500)
        condo_info("%s: mtu %llu is ignored (condo's cards use 1500)", n->iface_id,
                   (unsigned long long)n->mtu);
    hw->nets[i] = spec;
    copy_str(vm->net_id[i], API_ID_MAX, n->iface_id);
    if (i == hw->nnets)
        hw->nnets++;
    return 0;
}

/* --- actions --- */

/* The command line the kernel gets: boot_args (or the default), plus
 * root= for a root drive unless boot_args chose one, as Firecracker does. */
static int finish_append(struct vm *vm, struct error *err)
{
    struct vm_preboot *p = vm->pre;
    struct machine_config *hw = &vm->pre_cfg.hw;
    if (!hw->append) {
        copy_str(p->append, sizeof(p->append), vm->opts->default_append);
        hw->append = p->append;
    }
    if (!p->root_set || strstr(hw->append, "root="))
        return 0;
    size_t n = strlen(p->append);
    int w = p->root_partuuid[0]
                ? snprintf(p->append + n, sizeof(p->append) - n, " root=PARTUUID=%s %s",
                           p->root_partuuid, p->root_ro ? "ro" : "rw")
                : snprintf(p->append + n, sizeof(p->append) - n, " root=/dev/vda %s",
                           p->root_ro ? "ro" : "rw");
    if (w < 0 || (size_t)w >= sizeof(p->append) - n)
        return error_set(err, -E2BIG, "boot_args are too long to add the root device");
    return 0;
}

static int instance_start(struct vm *vm, struct error *err)
{
    if (!vm->preboot)
        return after_start(err);
    struct machine_config *hw = &vm->pre_cfg.hw;
    if (!hw->kernel)
        return error_set(err, -EINVAL, "Cannot start microvm without kernel configuration.");
    if (!vm->opts->default_bios)
        return error_set(err, -EINVAL, "no firmware to boot the kernel with");
    int r = check_file("firmware", vm->opts->default_bios, err);
    if (r < 0)
        return error_prefix(err, "the default guest's "), r;
    hw->bios = vm->opts->default_bios;
    hw->bare_metal = false;
    r = finish_append(vm, err);
    if (r < 0)
        return r;
    bool fatal;
    r = vm_boot(vm, &fatal, err);
    if (r < 0) {
        condo_err("InstanceStart failed: %s", err->msg);
        if (fatal)
            vm_request_exit(vm, vm_exit_status_of(err));
        return r;
    }
    vm->preboot = false;
    return 0;
}

static int action(struct vm *vm, enum api_action a, struct error *err)
{
    switch (a) {
    case API_ACTION_INSTANCE_START:
        return instance_start(vm, err);
    case API_ACTION_SEND_CTRL_ALT_DEL: {
        if (vm->preboot)
            return before_start(err);
        pthread_mutex_lock(&vm->lock);
        int r = vm->ops->ctrl_alt_del(vm->m, err);
        pthread_mutex_unlock(&vm->lock);
        return r;
    }
    case API_ACTION_FLUSH_METRICS:
        return error_set(err, -ENOTSUP,
                         "metrics are not written to a file: GET /condo/status reports them");
    }
    return error_set(err, -EINVAL, "unknown action");
}

/* PUT /condo/stop: ask the guest, give it timeout_s, then the VM loop
 * forces; or force now. Answered at once either way. */
static int stop(struct vm *vm, const struct api_stop *s, struct error *err)
{
    (void)err;
    if (vm->preboot || s->force || s->timeout_s == 0) {
        condo_info("stop requested%s", s->force ? " (forced)" : "");
        vm_request_exit(vm, VM_EXIT_POWEROFF);
        return 0;
    }
    vm_resume(vm); /* a paused guest cannot hear the button */
    struct error e1 = ERROR_INIT, e2 = ERROR_INIT;
    pthread_mutex_lock(&vm->lock);
    int r = vm->ops->power_button(vm->m, &e1);
    if (r < 0)
        r = vm->ops->ctrl_alt_del(vm->m, &e2);
    pthread_mutex_unlock(&vm->lock);
    if (r < 0) {
        condo_err("stop: the guest cannot take a power-off request (%s): stopping it now",
                  e1.msg);
        vm_request_exit(vm, VM_EXIT_POWEROFF);
        return 0;
    }
    uint64_t deadline = condo_clock_ns() + s->timeout_s * 1000000000ull;
    if (!vm->stop_deadline_ns || deadline < vm->stop_deadline_ns)
        vm->stop_deadline_ns = deadline;
    condo_info("stop requested: power button pressed, forcing in %llu s",
               (unsigned long long)s->timeout_s);
    return 0;
}

static int cpu_limit(struct vm *vm, const struct api_cpu_limit *c, bool put, struct error *err)
{
    unsigned ncpus = vm->cfg->hw.cpus ? vm->cfg->hw.cpus : 1;
    uint64_t pct = c->has_cpu_limit_pct ? c->cpu_limit_pct : put ? 0 : vm->cpu_limit_pct;
    uint64_t weight = c->has_cpu_weight ? c->cpu_weight
                      : put             ? API_CPU_WEIGHT_DEFAULT
                                        : (vm->cpu_weight ? vm->cpu_weight
                                                          : API_CPU_WEIGHT_DEFAULT);
    if (pct > 100ull * ncpus)
        return error_set(err, -EINVAL, "cpu_limit_pct %llu: this VM has %u CPU%s, so at most %u",
                         (unsigned long long)pct, ncpus, ncpus > 1 ? "s" : "", 100 * ncpus);
    unsigned cur = vm->cpu_weight ? vm->cpu_weight : API_CPU_WEIGHT_DEFAULT;
    if (!vm->preboot && weight != cur)
        return error_set(err, -ENOTSUP, "cpu_weight is set when the VM process starts "
                                        "(condo create/run --cpu-weight); it stays %u",
                         cur);
    __atomic_store_n(&vm->cpu_limit_pct, (unsigned)pct, __ATOMIC_RELAXED);
    vm->cpu_weight = (unsigned)weight;
    condo_info("CPU limit now %llu%% (0: none)", (unsigned long long)pct);
    return 0;
}

/* --- the balloon --- */

#define NO_BALLOON "No balloon device found."

static int put_balloon(struct vm *vm, const struct api_balloon *b, struct error *err)
{
    if (!vm->preboot)
        return after_start(err);
    if (b->has_free_page_hinting && b->free_page_hinting)
        return error_set(err, -ENOTSUP, "free_page_hinting is not supported (condo's balloon "
                                        "has free_page_reporting)");
    struct machine_config *hw = &vm->pre_cfg.hw;
    if (b->amount_mib > (hw->memory >> 20))
        return error_set(err, -EINVAL, "amount_mib %llu: larger than the VM's %llu MiB",
                         (unsigned long long)b->amount_mib,
                         (unsigned long long)(hw->memory >> 20));
    hw->balloon = (struct vm_balloon_config){
        .enabled = true,
        .reporting = b->has_free_page_reporting && b->free_page_reporting,
        .deflate_on_oom = b->deflate_on_oom,
        .stats_interval_s = b->has_stats_polling_interval_s
                                ? (unsigned)b->stats_polling_interval_s : 0,
        .amount_mib = b->amount_mib,
    };
    return 0;
}

static int balloon_info(struct vm *vm, struct machine_balloon_info *bi, struct error *err)
{
    if (!vm->ops->balloon_info)
        return error_set(err, -ENODEV, NO_BALLOON);
    pthread_mutex_lock(&vm->lock);
    int r = vm->ops->balloon_info(vm->m, bi, err);
    pthread_mutex_unlock(&vm->lock);
    return r;
}

static int get_balloon(struct vm *vm, struct api_balloon *out, struct error *err)
{
    const struct vm_balloon_config *c = &vm->cfg->hw.balloon;
    if (!c->enabled)
        return error_set(err, -ENODEV, NO_BALLOON);
    out->amount_mib = c->amount_mib;
    out->deflate_on_oom = c->deflate_on_oom;
    out->stats_polling_interval_s = c->stats_interval_s;
    out->free_page_reporting = c->reporting;
    if (vm->preboot)
        return 0;
    struct machine_balloon_info bi;
    int r = balloon_info(vm, &bi, err);
    if (r < 0)
        return r;
    out->amount_mib = bi.target_pages >> 8; /* 256 pages of 4 KiB per MiB */
    out->stats_polling_interval_s = bi.stats_interval_s;
    return 0;
}

static int get_balloon_stats(struct vm *vm, struct api_balloon_stats *out, struct error *err)
{
    const struct vm_balloon_config *c = &vm->cfg->hw.balloon;
    if (!c->enabled)
        return error_set(err, -ENODEV, NO_BALLOON);
    if (vm->preboot)
        return before_start(err);
    struct machine_balloon_info bi;
    int r = balloon_info(vm, &bi, err);
    if (r < 0)
        return r;
    if (!bi.stats_interval_s)
        return error_set(err, -EINVAL, "Statistics for the balloon device are not enabled");
    out->target_pages = bi.target_pages;
    out->actual_pages = bi.actual_pages;
    out->target_mib = bi.target_pages >> 8;
    out->actual_mib = bi.actual_pages >> 8;
    out->present = bi.stats_present;
    _Static_assert(API_BALLOON_STATS == MACHINE_BALLOON_STATS, "one stats table");
    memcpy(out->stats, bi.stats, sizeof(out->stats));
    return 0;
}

static int patch_balloon(struct vm *vm, const struct api_balloon *b, bool stats,
                         struct error *err)
{
    struct machine_config *hw = vm->preboot ? &vm->pre_cfg.hw : NULL;
    if (!vm->cfg->hw.balloon.enabled)
        return error_set(err, -ENODEV, NO_BALLOON);
    if (hw) { /* before start: the definition changes */
        if (stats) {
            if (!hw->balloon.stats_interval_s || !b->stats_polling_interval_s)
                return error_set(err, -EINVAL, "Statistics for the balloon device cannot be "
                                 "turned on or off with PATCH (PUT /balloon sets them)");
            hw->balloon.stats_interval_s = (unsigned)b->stats_polling_interval_s;
        } else if (b->amount_mib > (hw->memory >> 20)) {
            return error_set(err, -EINVAL, "amount_mib %llu: larger than the VM's %llu MiB",
                             (unsigned long long)b->amount_mib,
                             (unsigned long long)(hw->memory >> 20));
        } else {
            hw->balloon.amount_mib = b->amount_mib;
        }
        return 0;
    }
    if (!vm->ops->balloon_set_target || !vm->ops->balloon_set_stats_interval)
        return error_set(err, -ENODEV, NO_BALLOON);
    pthread_mutex_lock(&vm->lock);
    int r = stats ? vm->ops->balloon_set_stats_interval(
                        vm->m, (unsigned)b->stats_polling_interval_s, err)
                  : vm->ops->balloon_set_target(vm->m, b->amount_mib << 8, err);
    pthread_mutex_unlock(&vm->lock);
    if (r == 0 && !stats)
        condo_info("balloon target now %llu MiB", (unsigned long long)b->amount_mib);
    return r;
}

static int put_logger(struct vm *vm, const struct api_logger *l, struct error *err)
{
    if (!vm->preboot)
        return after_start(err);
    if (l->has_log_path) {
        int fd = open(l->log_path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC |
                                       O_NOCTTY, 0600);
        if (fd < 0)
            return error_set_errno(err, -errno, "cannot open log_path %s", l->log_path);
        struct stat st;
        if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
            close(fd);
            return error_set(err, -EINVAL, "log_path %s is not a file or a FIFO", l->log_path);
        }
        fflush(stderr);
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    if (l->has_level) {
        static const int verbosity[] = {
            [API_LOG_ERROR] = 0, [API_LOG_WARNING] = 0, [API_LOG_INFO] = 1,
            [API_LOG_DEBUG] = 2, [API_LOG_TRACE] = 2,   [API_LOG_OFF] = 0,
        };
        condo_verbosity = verbosity[l->level];
    }
    return 0;
}

/* --- snapshots (Firecracker's shapes) --- */

/* A sandboxed VM writes only where its file broker may create files: the
 * snapshot directory (and, for disk layers, its disks' directories). */
static int check_writable(struct vm *vm, const char *what, const char *path, struct error *err)
{
    if (path[0] != '/')
        return error_set(err, -EINVAL, "%s %s: give an absolute path", what, path);
    if (vm->cfg->sandbox.mode == SANDBOX_OFF || vm_files_covers(&vm->files, path))
        return 0;
    const char *dir = vm->opts->snapshot_dir;
    if (!dir)
        return error_set(err, -EPERM,
                         "%s %s: this VM is sandboxed and has no snapshot directory: start it "
                         "with --snapshot-dir DIR and write into DIR (or --sandbox off)",
                         what, path);
    return error_set(err, -EPERM,
                     "%s %s: a sandboxed VM writes snapshots only into its snapshot "
                     "directory %s",
                     what, path, dir);
}

static int snapshot_create(struct vm *vm, const struct api_snapshot_create *c, struct error *err)
{
    if (vm->preboot)
        return before_start(err);
    /* Firecracker wants the VM Paused; condo also takes a running one:
     * the vCPUs stop only while the state is captured and the writer
     * forks (copy-on-write), the guest runs while the file is written,
     * and the call returns when the file is complete. */
    if (c->snapshot_type != API_SNAPSHOT_FULL)
        return error_set(err, -ENOTSUP, "Diff snapshots are not supported: use snapshot_type "
                                        "Full (RAM pages that are all zero are left out)");
    int r = check_writable(vm, "snapshot_path", c->snapshot_path, err);
    if (r == 0 && c->has_mem_file_path)
        r = check_writable(vm, "mem_file_path", c->mem_file_path, err);
    if (r < 0)
        return r;
    return vm_snapshot_save(vm, c->snapshot_path, c->has_mem_file_path ? c->mem_file_path : NULL,
                            err);
}

/* Before InstanceStart: the machine is rebuilt from the snapshot's own
 * definition (as condo run --restore does), its disks get new layers on
 * the images the snapshot froze, and it starts paused unless resume_vm. */
static int snapshot_load(struct vm *vm, const struct api_snapshot_load *l, struct error *err)
{
    if (!vm->preboot)
        return after_start(err);
    if (l->mem_backend == API_MEM_BACKEND_UFFD)
        return error_set(err, -ENOTSUP, "mem_backend Uffd is not supported: use File (condo "
                                        "maps the memory file copy-on-write)");
    int r = check_file("snapshot_path", l->snapshot_path, err);
    if (r < 0)
        return r;
    if (l->mem_backend == API_MEM_BACKEND_FILE) {
        char mem[API_PATH_MAX];
        r = snapshot_mem_file(l->snapshot_path, mem, sizeof(mem), err);
        if (r < 0)
            return r;
        struct stat a, b;
        if (!mem[0])
            return error_set(err, -EINVAL, "%s holds its RAM itself: give no mem_backend",
                             l->snapshot_path);
        if (stat(l->mem_path, &a) < 0 || stat(mem, &b) < 0 || a.st_dev != b.st_dev ||
            a.st_ino != b.st_ino)
            return error_set(err, -EINVAL,
                             "mem_backend %s: the snapshot %s was written with its RAM in %s; "
                             "give that file", l->mem_path, l->snapshot_path, mem);
    }
    if (l->n_network_overrides)
        return error_set(err, -ENOTSUP, "network_overrides are not supported");
    char *text = NULL;
    r = snapshot_read_definition(l->snapshot_path, &text, err);
    json_error_t je;
    json_t *j = r == 0 ? json_loads(text, 0, &je) : NULL;
    free(text);
    if (r == 0 && !j)
        r = error_set(err, -EINVAL, "%s: the VM definition in the snapshot is not JSON",
                      l->snapshot_path);
    struct vm_def *d = r == 0 ? calloc(1, sizeof(*d)) : NULL;
    if (r == 0 && !d)
        r = error_set(err, -ENOMEM, "out of memory");
    if (r == 0) {
        vm_def_init(d);
        r = vm_def_from_json(d, j, err);
        if (r < 0)
            error_prefix(err, "%s: ", l->snapshot_path);
    }
    json_decref(j);
    unsigned nd = r == 0 ? d->cfg.hw.ndisks : 0;
    if (r == 0 && nd) {
        char (*paths)[4096] = calloc(nd, sizeof(*paths));
        r = paths ? snapshot_restore_disks(l->snapshot_path, paths, nd, err)
                  : error_set(err, -ENOMEM, "out of memory");
        for (unsigned i = 0; r >= 0 && i < nd; i++) {
            if (!paths[i][0])
                continue;
            d->cfg.hw.disks[i].path = vm_def_strdup(d, paths[i]);
            d->cfg.hw.disks[i].format = 0;
            d->cfg.hw.disks[i].backing = NULL;
            if (!d->cfg.hw.disks[i].path)
                r = error_set(err, -ENOMEM, "out of memory");
        }
        free(paths);
        r = r < 0 ? r : 0;
    }
    if (r < 0) {
        if (d)
            vm_def_free(d);
        free(d);
        return r;
    }
    struct sandbox_config sb = vm->pre_cfg.sandbox;
    vm->pre_cfg = d->cfg;
    vm->pre_cfg.sandbox = sb;
    vm->cpu_limit_pct = d->cfg.cpu_limit_pct;
    vm->loaded = d; /* owns the strings pre_cfg points to */
    copy_str(vm->restore_path, sizeof(vm->restore_path), l->snapshot_path);
    vm->start_paused = !l->resume_vm;
    bool fatal;
    r = vm_boot(vm, &fatal, err);
    if (r < 0) {
        condo_err("snapshot load failed: %s", err->msg);
        if (fatal)
            vm_request_exit(vm, vm_exit_status_of(err));
        return r;
    }
    vm->preboot = false;
    return 0;
}

static int vm_api_call(void *opaque, const struct api_call *c, struct api_reply *rep,
                       struct error *err)
{
    struct vm *vm = opaque;
    switch (c->op) {
    case API_OP_GET_INSTANCE_INFO:
        copy_str(rep->instance.id, API_NAME_MAX, vm->opts->name);
        rep->instance.state = state_of(vm);
        return 0;
    case API_OP_GET_MACHINE_CONFIG:
        get_machine(vm, &rep->machine);
        return 0;
    case API_OP_PUT_MACHINE_CONFIG:
    case API_OP_PATCH_MACHINE_CONFIG:
        return put_machine(vm, &c->machine, err);
    case API_OP_PUT_BOOT_SOURCE:
        return put_boot_source(vm, &c->boot_source, err);
    case API_OP_PUT_DRIVE:
        return put_drive(vm, &c->drive, err);
    case API_OP_PATCH_DRIVE:
        return patch_drive(vm, &c->drive, err);
    case API_OP_PUT_NET:
    case API_OP_CONDO_NET:
        return put_net(vm, &c->net, err);
    case API_OP_PATCH_NET:
        if (vm->preboot)
            return before_start(err);
        return error_set(err, -ENOTSUP, "%s: a running network card's rate limit cannot be "
                                        "changed yet (give bps= in its definition)",
                         c->net.iface_id);
    case API_OP_ACTION:
        return action(vm, c->action, err);
    case API_OP_PATCH_VM:
        if (vm->preboot)
            return before_start(err);
        if (c->vm == API_VM_PAUSE)
            vm_pause(vm);
        else
            vm_resume(vm);
        return 0;
    case API_OP_GET_VM_CONFIG:
        get_vm_config(vm, &rep->vm_config);
        return 0;
    case API_OP_SNAPSHOT_CREATE:
        return snapshot_create(vm, &c->snapshot_create, err);
    case API_OP_SNAPSHOT_LOAD:
        return snapshot_load(vm, &c->snapshot_load, err);
    case API_OP_PUT_LOGGER:
        return put_logger(vm, &c->logger, err);
    case API_OP_PUT_METRICS:
        return error_set(err, -ENOTSUP,
                         "metrics are not written to a file: GET /condo/status reports them");
    case API_OP_CONDO_STATUS:
        get_status(vm, &rep->status);
        return 0;
    case API_OP_CONDO_PUT_CPU_LIMIT:
        return cpu_limit(vm, &c->cpu_limit, true, err);
    case API_OP_CONDO_PATCH_CPU_LIMIT:
        return cpu_limit(vm, &c->cpu_limit, false, err);
    case API_OP_CONDO_STOP:
        return stop(vm, &c->stop, err);
    case API_OP_GET_BALLOON:
        return get_balloon(vm, &rep->balloon, err);
    case API_OP_PUT_BALLOON:
        return put_balloon(vm, &c->balloon, err);
    case API_OP_PATCH_BALLOON:
        return patch_balloon(vm, &c->balloon, false, err);
    case API_OP_GET_BALLOON_STATS:
        return get_balloon_stats(vm, &rep->balloon_stats, err);
    case API_OP_PATCH_BALLOON_STATS:
        return patch_balloon(vm, &c->balloon, true, err);
    case API_OP_COUNT_:
        break;
    }
    return error_set(err, -EINVAL, "unknown operation");
}

static void api_ready(void *opaque, short revents)
{
    /* nothing here: the VM loop runs the server after every poll, outside
     * the machine lock this callback holds */
    (void)opaque;
    (void)revents;
}

int vm_api_start(struct vm *vm, const char *path, struct error *err)
{
    static const struct api_backend_ops ops = { .call = vm_api_call };
    struct api_server_config cfg = {
        .socket_path = path,
        .vmm_version = CONDO_VERSION,
        .ops = &ops,
        .opaque = vm,
        .external = true,
    };
    int r = api_server_start(&cfg, &vm->api, err);
    if (r < 0)
        return r;
    r = event_loop_add_fd(&vm->loop, api_server_poll_fd(vm->api), POLLIN, api_ready, vm);
    if (r < 0) {
        api_server_stop(vm->api);
        vm->api = NULL;
        return error_set_errno(err, r, "cannot watch the API socket");
    }
    vm->api_watch = r;
    return 0;
}

void vm_api_stop(struct vm *vm)
{
    if (!vm->api)
        return;
    if (vm->api_watch >= 0)
        event_loop_remove(&vm->loop, vm->api_watch);
    vm->api_watch = -1;
    api_server_stop(vm->api);
    vm->api = NULL;
}
