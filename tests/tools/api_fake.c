/* api_fake: the control API (src/vmm/api/) on a UNIX socket in front of a
 * fake VMM, for tests/api/test_api.sh to drive with curl.
 *
 *     api_fake SOCKET LOG     serve until PUT /condo/stop or SIGTERM/SIGINT
 *
 * The fake is shaped as the real VMM is meant to be: the backend's call()
 * runs on the API thread, posts the call to the main thread (the "VM loop")
 * and waits for its answer. The main thread keeps a little VM state
 * (Not started -> Running <-> Paused), refuses what a VMM would refuse in
 * each state, and appends one line per call to LOG:
 *     PUT /drives/{id} drive_id=rootfs path_on_host=./rootfs.ext4 root=1 ro=0
 * Exit status: 0 after a clean stop, 2 when the server cannot start (the
 * message on stderr). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "condo/api.h"

/* ---- the VM loop's state ---- */

struct fake_vm {
    enum api_vm_state state;
    struct api_machine_config machine;
    bool has_boot_source;
    struct api_boot_source boot_source;
    struct api_drive drives[API_MAX_DRIVES];
    unsigned n_drives;
    struct api_net nets[API_MAX_NETS];
    unsigned n_nets;
    struct api_cpu_limit cpu_limit;
    struct timespec started;
    bool stop;
    FILE *log;
};

/* ---- the mailbox between the API thread and the VM loop ---- */

struct mailbox {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    const struct api_call *call; /* posted, not yet answered */
    struct api_reply *reply;
    struct error *err;
    int result;
    bool done;
    bool closed; /* the VM loop has ended: answer at once */
};

static struct mailbox box = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
static volatile sig_atomic_t got_signal;

static int backend_call(void *opaque, const struct api_call *c, struct api_reply *reply,
                        struct error *err)
{
    (void)opaque;
    pthread_mutex_lock(&box.lock);
    if (box.closed) {
        pthread_mutex_unlock(&box.lock);
        return error_set(err, -ESHUTDOWN, "the VM is shutting down");
    }
    box.call = c;
    box.reply = reply;
    box.err = err;
    box.done = false;
    pthread_cond_broadcast(&box.cond);
    while (!box.done)
        pthread_cond_wait(&box.cond, &box.lock);
    int r = box.result;
    pthread_mutex_unlock(&box.lock);
    return r;
}

static const struct api_backend_ops fake_ops = { .call = backend_call };

/* ---- what the VM loop does with a call ---- */

static void log_limiter(FILE *f, const char *name, bool has, const struct api_rate_limiter *rl)
{
    if (!has)
        return;
    fprintf(f, " %s=", name);
    if (rl->has_bandwidth)
        fprintf(f, "bw:%llu/%llums", (unsigned long long)rl->bandwidth.size,
                (unsigned long long)rl->bandwidth.refill_time);
    if (rl->has_ops)
        fprintf(f, "%sops:%llu/%llums", rl->has_bandwidth ? "," : "",
                (unsigned long long)rl->ops.size, (unsigned long long)rl->ops.refill_time);
    if (!rl->has_bandwidth && !rl->has_ops)
        fprintf(f, "none");
}

static void log_call(FILE *f, const struct api_call *c)
{
    fprintf(f, "%s", api_op_name(c->op));
    switch (c->op) {
    case API_OP_PUT_MACHINE_CONFIG:
    case API_OP_PATCH_MACHINE_CONFIG: {
        const struct api_machine_config *m = &c->machine;
        if (m->has_vcpu_count)
            fprintf(f, " vcpu_count=%llu", (unsigned long long)m->vcpu_count);
        if (m->has_mem_size_mib)
            fprintf(f, " mem_size_mib=%llu", (unsigned long long)m->mem_size_mib);
        if (m->has_smt)
            fprintf(f, " smt=%d", m->smt);
        if (m->has_track_dirty_pages)
            fprintf(f, " track_dirty_pages=%d", m->track_dirty_pages);
        break;
    }
    case API_OP_PUT_BOOT_SOURCE:
        fprintf(f, " kernel=%s", c->boot_source.kernel_image_path);
        if (c->boot_source.has_initrd_path)
            fprintf(f, " initrd=%s", c->boot_source.initrd_path);
        if (c->boot_source.has_boot_args)
            fprintf(f, " boot_args=%s", c->boot_source.boot_args);
        break;
    case API_OP_PUT_DRIVE:
    case API_OP_PATCH_DRIVE:
        fprintf(f, " drive_id=%s", c->drive.drive_id);
        if (c->drive.has_path_on_host)
            fprintf(f, " path_on_host=%s", c->drive.path_on_host);
        if (c->op == API_OP_PUT_DRIVE)
            fprintf(f, " root=%d ro=%d", c->drive.is_root_device, c->drive.is_read_only);
        log_limiter(f, "rate_limiter", c->drive.has_rate_limiter, &c->drive.rate_limiter);
        break;
    case API_OP_PUT_NET:
    case API_OP_PATCH_NET:
    case API_OP_CONDO_NET:
        fprintf(f, " iface_id=%s", c->net.iface_id);
        if (c->net.has_host_dev_name)
            fprintf(f, " host_dev_name=%s", c->net.host_dev_name);
        if (c->net.has_spec)
            fprintf(f, " spec=%s", c->net.spec);
        if (c->net.has_guest_mac)
            fprintf(f, " guest_mac=%02x:%02x:%02x:%02x:%02x:%02x", c->net.guest_mac[0],
                    c->net.guest_mac[1], c->net.guest_mac[2], c->net.guest_mac[3],
                    c->net.guest_mac[4], c->net.guest_mac[5]);
        log_limiter(f, "rx", c->net.has_rx_rate_limiter, &c->net.rx_rate_limiter);
        log_limiter(f, "tx", c->net.has_tx_rate_limiter, &c->net.tx_rate_limiter);
        break;
    case API_OP_ACTION: {
        static const char *const names[] = { "InstanceStart", "SendCtrlAltDel", "FlushMetrics" };
        fprintf(f, " action_type=%s", names[c->action]);
        break;
    }
    case API_OP_PATCH_VM:
        fprintf(f, " state=%s", c->vm == API_VM_PAUSE ? "Paused" : "Resumed");
        break;
    case API_OP_SNAPSHOT_CREATE:
        fprintf(f, " type=%s snapshot_path=%s",
                c->snapshot_create.snapshot_type == API_SNAPSHOT_DIFF ? "Diff" : "Full",
                c->snapshot_create.snapshot_path);
        if (c->snapshot_create.has_mem_file_path)
            fprintf(f, " mem_file_path=%s", c->snapshot_create.mem_file_path);
        break;
    case API_OP_SNAPSHOT_LOAD: {
        static const char *const mb[] = { "none", "File", "Uffd" };
        const struct api_snapshot_load *l = &c->snapshot_load;
        fprintf(f, " snapshot_path=%s mem_backend=%s", l->snapshot_path, mb[l->mem_backend]);
        if (l->mem_backend != API_MEM_BACKEND_NONE)
            fprintf(f, " mem_path=%s", l->mem_path);
        fprintf(f, " resume_vm=%d overrides=%u", l->resume_vm, l->n_network_overrides);
        break;
    }
    case API_OP_PUT_LOGGER:
        if (c->logger.has_log_path)
            fprintf(f, " log_path=%s", c->logger.log_path);
        if (c->logger.has_level)
            fprintf(f, " level=%d", (int)c->logger.level);
        break;
    case API_OP_PUT_METRICS:
        fprintf(f, " metrics_path=%s", c->metrics.metrics_path);
        break;
    case API_OP_CONDO_PUT_CPU_LIMIT:
    case API_OP_CONDO_PATCH_CPU_LIMIT:
        if (c->cpu_limit.has_cpu_limit_pct)
            fprintf(f, " cpu_limit_pct=%llu", (unsigned long long)c->cpu_limit.cpu_limit_pct);
        if (c->cpu_limit.has_cpu_weight)
            fprintf(f, " cpu_weight=%llu", (unsigned long long)c->cpu_limit.cpu_weight);
        break;
    case API_OP_CONDO_STOP:
        fprintf(f, " timeout_s=%llu force=%d", (unsigned long long)c->stop.timeout_s,
                c->stop.force);
        break;
    default:
        break;
    }
    fputc('\n', f);
    fflush(f);
}

static int pre_boot(const struct fake_vm *vm, struct error *err)
{
    if (vm->state != API_VM_NOT_STARTED)
        return error_set(err, -EBUSY,
                         "The requested operation is not supported after starting the "
                         "microVM.");
    return 0;
}

static int post_boot(const struct fake_vm *vm, struct error *err)
{
    if (vm->state == API_VM_NOT_STARTED)
        return error_set(err, -EBUSY,
                         "The requested operation is not supported before starting the "
                         "microVM.");
    return 0;
}

static struct api_drive *find_drive(struct fake_vm *vm, const char *id)
{
    for (unsigned i = 0; i < vm->n_drives; i++)
        if (!strcmp(vm->drives[i].drive_id, id))
            return &vm->drives[i];
    return NULL;
}

static struct api_net *find_net(struct fake_vm *vm, const char *id)
{
    for (unsigned i = 0; i < vm->n_nets; i++)
        if (!strcmp(vm->nets[i].iface_id, id))
            return &vm->nets[i];
    return NULL;
}

static void patch_limiter(struct api_rate_limiter *to, bool *to_has,
                          const struct api_rate_limiter *from, bool from_has)
{
    if (!from_has)
        return;
    *to_has = true;
    if (from->has_bandwidth) {
        to->has_bandwidth = true;
        to->bandwidth = from->bandwidth;
    }
    if (from->has_ops) {
        to->has_ops = true;
        to->ops = from->ops;
    }
}

static uint64_t uptime_ms(const struct fake_vm *vm)
{
    if (vm->state == API_VM_NOT_STARTED)
        return 0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)(now.tv_sec - vm->started.tv_sec) * 1000 +
           (uint64_t)((now.tv_nsec - vm->started.tv_nsec) / 1000000);
}

static int vm_do(struct fake_vm *vm, const struct api_call *c, struct api_reply *rep,
                 struct error *err)
{
    int r = 0;
    log_call(vm->log, c);
    switch (c->op) {
    case API_OP_GET_INSTANCE_INFO:
        snprintf(rep->instance.id, sizeof(rep->instance.id), "fake-vm");
        rep->instance.state = vm->state;
        return 0;
    case API_OP_GET_MACHINE_CONFIG:
        rep->machine = vm->machine;
        return 0;
    case API_OP_PUT_MACHINE_CONFIG:
    case API_OP_PATCH_MACHINE_CONFIG: {
        if ((r = pre_boot(vm, err)) < 0)
            return r;
        const struct api_machine_config *m = &c->machine;
        if (m->has_smt && m->smt)
            return error_set(err, -EINVAL, "Enabling simultaneous multithreading is not "
                                           "supported on riscv64.");
        if (m->has_cpu_template && m->cpu_template != API_CPU_TEMPLATE_NONE)
            return error_set(err, -EINVAL, "CPU templates are not supported on riscv64.");
        if (m->has_vcpu_count)
            vm->machine.vcpu_count = m->vcpu_count;
        if (m->has_mem_size_mib)
            vm->machine.mem_size_mib = m->mem_size_mib;
        if (m->has_track_dirty_pages)
            vm->machine.track_dirty_pages = m->track_dirty_pages;
        if (m->has_huge_pages)
            vm->machine.huge_pages = m->huge_pages;
        return 0;
    }
    case API_OP_PUT_BOOT_SOURCE:
        if ((r = pre_boot(vm, err)) < 0)
            return r;
        vm->boot_source = c->boot_source;
        vm->has_boot_source = true;
        return 0;
    case API_OP_PUT_DRIVE: {
        if ((r = pre_boot(vm, err)) < 0)
            return r;
        struct api_drive *d = find_drive(vm, c->drive.drive_id);
        if (!d) {
            if (vm->n_drives == API_MAX_DRIVES)
                return error_set(err, -ENOSPC, "no room for another drive");
            d = &vm->drives[vm->n_drives++];
        }
        *d = c->drive;
        return 0;
    }
    case API_OP_PATCH_DRIVE: {
        if ((r = post_boot(vm, err)) < 0)
            return r;
        struct api_drive *d = find_drive(vm, c->drive.drive_id);
        if (!d)
            return error_set(err, -ENOENT, "drive %s does not exist", c->drive.drive_id);
        if (c->drive.has_path_on_host)
            memcpy(d->path_on_host, c->drive.path_on_host, sizeof(d->path_on_host));
        patch_limiter(&d->rate_limiter, &d->has_rate_limiter, &c->drive.rate_limiter,
                      c->drive.has_rate_limiter);
        return 0;
    }
    case API_OP_PUT_NET:
    case API_OP_CONDO_NET: {
        if ((r = pre_boot(vm, err)) < 0)
            return r;
        struct api_net *n = find_net(vm, c->net.iface_id);
        if (!n) {
            if (vm->n_nets == API_MAX_NETS)
                return error_set(err, -ENOSPC, "no room for another network interface");
            n = &vm->nets[vm->n_nets++];
        }
        *n = c->net;
        return 0;
    }
    case API_OP_PATCH_NET: {
        if ((r = post_boot(vm, err)) < 0)
            return r;
        struct api_net *n = find_net(vm, c->net.iface_id);
        if (!n)
            return error_set(err, -ENOENT, "network interface %s does not exist",
                             c->net.iface_id);
        patch_limiter(&n->rx_rate_limiter, &n->has_rx_rate_limiter, &c->net.rx_rate_limiter,
                      c->net.has_rx_rate_limiter);
        patch_limiter(&n->tx_rate_limiter, &n->has_tx_rate_limiter, &c->net.tx_rate_limiter,
                      c->net.has_tx_rate_limiter);
        return 0;
    }
    case API_OP_ACTION:
        if (c->action == API_ACTION_INSTANCE_START) {
            if ((r = pre_boot(vm, err)) < 0)
                return r;
            if (!vm->has_boot_source)
                return error_set(err, -EINVAL,
                                 "Cannot start microvm without kernel configuration: PUT "
                                 "/boot-source first.");
            vm->state = API_VM_RUNNING;
            clock_gettime(CLOCK_MONOTONIC, &vm->started);
            return 0;
        }
        if (c->action == API_ACTION_SEND_CTRL_ALT_DEL)
            return post_boot(vm, err);
        return 0;
    case API_OP_PATCH_VM:
        if ((r = post_boot(vm, err)) < 0)
            return r;
        vm->state = c->vm == API_VM_PAUSE ? API_VM_PAUSED : API_VM_RUNNING;
        return 0;
    case API_OP_GET_VM_CONFIG: {
        struct api_vm_config *v = &rep->vm_config;
        v->machine = vm->machine;
        v->has_boot_source = vm->has_boot_source;
        v->boot_source = vm->boot_source;
        v->n_drives = vm->n_drives;
        memcpy(v->drives, vm->drives, sizeof(v->drives));
        v->n_nets = vm->n_nets;
        memcpy(v->nets, vm->nets, sizeof(v->nets));
        v->cpu_limit = vm->cpu_limit;
        return 0;
    }
    case API_OP_SNAPSHOT_CREATE:
        if (vm->state != API_VM_PAUSED)
            return error_set(err, -EBUSY, "Create snapshot: the microVM must be paused.");
        return 0;
    case API_OP_SNAPSHOT_LOAD:
        if ((r = pre_boot(vm, err)) < 0)
            return r;
        if (access(c->snapshot_load.snapshot_path, R_OK) < 0)
            return error_set_errno(err, -errno, "cannot read snapshot %s",
                                   c->snapshot_load.snapshot_path);
        vm->state = c->snapshot_load.resume_vm ? API_VM_RUNNING : API_VM_PAUSED;
        clock_gettime(CLOCK_MONOTONIC, &vm->started);
        return 0;
    case API_OP_PUT_LOGGER:
    case API_OP_PUT_METRICS:
        return 0;
    case API_OP_CONDO_STATUS: {
        struct api_status *s = &rep->status;
        snprintf(s->id, sizeof(s->id), "fake-vm");
        s->state = vm->state;
        s->uptime_ms = uptime_ms(vm);
        s->vcpus = vm->machine.vcpu_count;
        s->mem_size_mib = vm->machine.mem_size_mib;
        s->cpu_limit_pct = vm->cpu_limit.cpu_limit_pct;
        s->cpu_weight = vm->cpu_limit.cpu_weight;
        s->n_disks = vm->n_drives;
        for (unsigned i = 0; i < vm->n_drives; i++) {
            snprintf(s->disks[i].drive_id, sizeof(s->disks[i].drive_id), "%s",
                     vm->drives[i].drive_id);
            s->disks[i].read_bytes = 4096 * (i + 1);
            s->disks[i].read_ops = i + 1;
        }
        s->n_nics = vm->n_nets;
        for (unsigned i = 0; i < vm->n_nets; i++)
            snprintf(s->nics[i].iface_id, sizeof(s->nics[i].iface_id), "%s",
                     vm->nets[i].iface_id);
        return 0;
    }
    case API_OP_CONDO_PUT_CPU_LIMIT:
    case API_OP_CONDO_PATCH_CPU_LIMIT:
        if (c->cpu_limit.has_cpu_limit_pct) {
            if (c->cpu_limit.cpu_limit_pct > 100 * vm->machine.vcpu_count)
                return error_set(err, -EINVAL,
                                 "cpu_limit_pct %llu is more than the VM's %llu vCPUs can use "
                                 "(at most %llu)",
                                 (unsigned long long)c->cpu_limit.cpu_limit_pct,
                                 (unsigned long long)vm->machine.vcpu_count,
                                 (unsigned long long)(100 * vm->machine.vcpu_count));
            vm->cpu_limit.cpu_limit_pct = c->cpu_limit.cpu_limit_pct;
        }
        if (c->cpu_limit.has_cpu_weight)
            vm->cpu_limit.cpu_weight = c->cpu_limit.cpu_weight;
        return 0;
    case API_OP_CONDO_STOP:
        vm->stop = true;
        return 0;
    default:
        return error_set(err, -ENOSYS, "%s is not implemented by the fake", api_op_name(c->op));
    }
}

static void on_signal(int sig)
{
    got_signal = sig;
    /* wake the loop: it waits on the mailbox with a timeout */
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: api_fake SOCKET LOG\n");
        return 2;
    }
    struct fake_vm vm = { .state = API_VM_NOT_STARTED };
    vm.machine = (struct api_machine_config){ .has_vcpu_count = true, .vcpu_count = 1,
                                              .has_mem_size_mib = true, .mem_size_mib = 128,
                                              .has_smt = true, .has_track_dirty_pages = true,
                                              .has_huge_pages = true, .has_cpu_template = true };
    vm.cpu_limit = (struct api_cpu_limit){ .has_cpu_limit_pct = true, .has_cpu_weight = true,
                                           .cpu_weight = API_CPU_WEIGHT_DEFAULT };
    vm.log = fopen(argv[2], "a");
    if (!vm.log) {
        fprintf(stderr, "api_fake: cannot open %s: %s\n", argv[2], strerror(errno));
        return 2;
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    struct api_server_config cfg = { .socket_path = argv[1], .vmm_version = "0.0.0-fake",
                                     .ops = &fake_ops, .opaque = &vm };
    struct api_server *srv;
    struct error err = ERROR_INIT;
    if (api_server_start(&cfg, &srv, &err) < 0) {
        fprintf(stderr, "api_fake: %s\n", err.msg);
        return 2;
    }
    printf("ready\n");
    fflush(stdout);

    /* The "VM loop": answer calls until asked to stop. */
    pthread_mutex_lock(&box.lock);
    while (!vm.stop && !got_signal) {
        if (box.call && !box.done) {
            error_clear(box.err);
            box.result = vm_do(&vm, box.call, box.reply, box.err);
            box.call = NULL;
            box.done = true;
            pthread_cond_broadcast(&box.cond);
            continue;
        }
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += 100 * 1000 * 1000;
        if (dl.tv_nsec >= 1000000000) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&box.cond, &box.lock, &dl);
    }
    /* From here every call is answered "shutting down" without us. */
    box.closed = true;
    if (box.call && !box.done) {
        box.result = error_set(box.err, -ESHUTDOWN, "the VM is shutting down");
        box.done = true;
        pthread_cond_broadcast(&box.cond);
    }
    pthread_mutex_unlock(&box.lock);
    api_server_stop(srv);
    fclose(vm.log);
    printf("stopped\n");
    return 0;
}
