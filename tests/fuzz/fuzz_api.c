/* libFuzzer target: the control API's request handling (route, body
 * checks, backend call, reply encoding) on arbitrary input.
 *
 * Input: "METHOD PATH\n" then the body (any bytes). The fake backend
 * answers from the input's last byte: success with a reply whose strings
 * are taken from the body (not UTF-8, over-long, anything), or an error of
 * some class. Every answer must be a status the API uses and, when there is
 * a body, a JSON object; what the module refuses alone is a 400.
 *
 * Sources under test: src/vmm/api/api_{route,schema,body,reply,handle,proc}.c
 * with src/core/{error,log}.c; links with -ljansson.
 * Build and run: make fuzz-api (FUZZ_API_SECONDS). */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condo/api.h"

static const uint8_t *in_data;
static size_t in_size;
static int calls;

static void copy_str(char *dst, size_t cap, size_t from)
{
    size_t n = 0;
    while (from + n < in_size && n + 1 < cap && in_data[from + n] != 0 && n < 200) {
        dst[n] = (char)in_data[from + n];
        n++;
    }
    dst[n] = 0;
}

static int fake_call(void *opaque, const struct api_call *c, struct api_reply *r,
                     struct error *err)
{
    (void)opaque;
    calls++;
    uint8_t k = in_size ? in_data[in_size - 1] : 0;
    static const int codes[] = { -EINVAL, -EBUSY, -ENOSPC, -EIO, -ENOTRECOVERABLE, -ENOENT };
    if (k % 4 == 3) {
        if (k & 0x10)
            return codes[(k >> 5) % ARRAY_SIZE(codes)]; /* no message */
        char msg[64];
        copy_str(msg, sizeof(msg), in_size / 2);
        return error_set(err, codes[(k >> 5) % ARRAY_SIZE(codes)], "%s", msg);
    }
    switch (c->op) {
    case API_OP_GET_INSTANCE_INFO:
        copy_str(r->instance.id, sizeof(r->instance.id), in_size / 3);
        r->instance.state = (enum api_vm_state)(k % 3);
        break;
    case API_OP_GET_MACHINE_CONFIG:
        r->machine.vcpu_count = k;
        r->machine.huge_pages = (enum api_huge_pages)(k % 3);
        r->machine.cpu_template = (enum api_cpu_template)(k % 7);
        break;
    case API_OP_GET_VM_CONFIG:
        r->vm_config.n_drives = k % (API_MAX_DRIVES + 3); /* the module clamps */
        r->vm_config.n_nets = k % (API_MAX_NETS + 3);
        r->vm_config.has_boot_source = k & 1;
        copy_str(r->vm_config.boot_source.kernel_image_path, API_PATH_MAX, in_size / 4);
        copy_str(r->vm_config.drives[0].path_on_host, API_PATH_MAX, in_size / 5);
        r->vm_config.drives[0].has_path_on_host = true;
        r->vm_config.drives[1].has_rate_limiter = true;
        r->vm_config.drives[1].rate_limiter.has_ops = true;
        r->vm_config.drives[1].rate_limiter.ops.size = UINT64_MAX;
        r->vm_config.nets[0].has_spec = k & 2;
        copy_str(r->vm_config.nets[0].spec, API_NET_SPEC_MAX, in_size / 6);
        break;
    case API_OP_CONDO_STATUS:
        r->status.n_disks = k % (API_MAX_DRIVES + 3);
        r->status.n_nics = k % (API_MAX_NETS + 3);
        copy_str(r->status.disks[0].drive_id, API_ID_MAX, in_size / 7);
        r->status.disks[0].read_bytes = UINT64_MAX;
        break;
    default:
        break;
    }
    return 0;
}

static const struct api_backend_ops ops = { .call = fake_call };
static const struct api_server_config cfg = { .vmm_version = "fuzz", .ops = &ops };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in_data = data;
    in_size = size;
    const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
    if (!nl)
        return 0;
    char line[257];
    size_t ll = (size_t)(nl - data);
    memcpy(line, data, ll);
    line[ll] = 0;
    char *sp = strchr(line, ' ');
    if (!sp)
        return 0;
    *sp = 0;
    const char *method = line, *path = sp + 1;
    const char *body = (const char *)nl + 1;
    size_t len = size - ll - 1;

    int before = calls, status = 0;
    char *out = NULL;
    api_handle(&cfg, method, path, body, len, &status, &out);
    if (status != 200 && status != 204 && status != 400 && status != 409 && status != 500 &&
        status != 507)
        abort();
    if (calls == before && status != 400 && status != 200 && status != 507)
        abort();
    if (status == 204 && out)
        abort();
    if (status != 204) {
        if (!out)
            abort();
        json_error_t je;
        json_t *j = json_loads(out, 0, &je);
        if (!j || !json_is_object(j))
            abort();
        json_decref(j);
    }
    free(out);
    return 0;
}
