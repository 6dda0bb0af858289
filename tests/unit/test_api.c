/* The control API (src/vmm/api/) with a fake backend: every route with a
 * valid body reaches the backend as the right typed call; every malformed,
 * hostile or out-of-range request is refused with 400 and a message that
 * names the problem, and never reaches the backend; the backend's errors
 * come out with the status of their class; replies are Firecracker's
 * shapes and always valid JSON. The last part runs the real server on a
 * UNIX socket: file mode, in-use and stale sockets, bodies over the limit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "condo/api.h"
#include "vmm/api/api_internal.h"

/* ---- the fake backend ---- */

static struct api_call last;
static int ncalls;
static int next_code;         /* the backend's answer: 0 or a negative errno */
static const char *next_msg;  /* its message (NULL: none set) */
static void (*fill)(struct api_reply *r);

static int fake_call(void *opaque, const struct api_call *c, struct api_reply *r,
                     struct error *err)
{
    (void)opaque;
    last = *c;
    ncalls++;
    if (fill)
        fill(r);
    if (next_code < 0) {
        if (next_msg)
            return error_set(err, next_code, "%s", next_msg);
        return next_code;
    }
    return 0;
}

static const struct api_backend_ops fake_ops = { .call = fake_call };
static const struct api_server_config cfg = { .vmm_version = "1.2.3-test", .ops = &fake_ops };

static int setup(void **state)
{
    (void)state;
    memset(&last, 0, sizeof(last));
    ncalls = 0;
    next_code = 0;
    next_msg = NULL;
    fill = NULL;
    return 0;
}

/* One request; returns the status, *out the body (caller frees). */
static int reqn(const char *method, const char *path, const char *body, size_t len, char **out)
{
    int status = -1;
    char *b = NULL;
    api_handle(&cfg, method, path, body ? body : "", body ? len : 0, &status, &b);
    if (out)
        *out = b;
    else
        free(b);
    return status;
}

static int req(const char *method, const char *path, const char *body, char **out)
{
    return reqn(method, path, body, body ? strlen(body) : 0, out);
}

/* The body must be {"fault_message": "...contains..."} and nothing else. */
static void check_fault(char *body, const char *contains)
{
    assert_non_null(body);
    json_error_t je;
    json_t *j = json_loads(body, 0, &je);
    assert_non_null(j);
    assert_true(json_is_object(j));
    assert_int_equal(json_object_size(j), 1);
    const char *msg = json_string_value(json_object_get(j, "fault_message"));
    assert_non_null(msg);
    if (!strstr(msg, contains)) {
        print_error("fault_message \"%s\" lacks \"%s\"\n", msg, contains);
        fail();
    }
    json_decref(j);
    free(body);
}

/* A request the module must refuse itself: 400, the message, no call. */
static void refused(const char *method, const char *path, const char *body, const char *why)
{
    char *out;
    int before = ncalls;
    int st = req(method, path, body, &out);
    if (st != 400)
        print_error("%s %s %s: status %d, body %s\n", method, path, body ? body : "", st,
                    out ? out : "(none)");
    assert_int_equal(st, 400);
    check_fault(out, why);
    assert_int_equal(ncalls, before);
}

static void ok204(const char *method, const char *path, const char *body, enum api_op op)
{
    char *out;
    int st = req(method, path, body, &out);
    if (st != 204)
        print_error("%s %s %s: status %d, body %s\n", method, path, body ? body : "", st,
                    out ? out : "(none)");
    assert_int_equal(st, 204);
    assert_null(out);
    assert_int_equal(last.op, op);
}

static json_t *get_json(const char *path)
{
    char *out;
    assert_int_equal(req("GET", path, NULL, &out), 200);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    assert_non_null(j);
    free(out);
    return j;
}

/* ---- routes and typed calls ---- */

static void test_getting_started(void **state)
{
    (void)state;
    /* Firecracker's getting-started guide, call for call. */
    ok204("PUT", "/logger",
          "{\"log_path\": \"./firecracker.log\", \"level\": \"Debug\", \"show_level\": true, "
          "\"show_log_origin\": true}",
          API_OP_PUT_LOGGER);
    assert_true(last.logger.has_log_path);
    assert_string_equal(last.logger.log_path, "./firecracker.log");
    assert_int_equal(last.logger.level, API_LOG_DEBUG);
    assert_true(last.logger.show_level && last.logger.show_log_origin);

    ok204("PUT", "/boot-source",
          "{\"kernel_image_path\": \"./vmlinux-6.1\", \"boot_args\": \"console=ttyS0 reboot=k "
          "panic=1\"}",
          API_OP_PUT_BOOT_SOURCE);
    assert_string_equal(last.boot_source.kernel_image_path, "./vmlinux-6.1");
    assert_true(last.boot_source.has_boot_args);
    assert_string_equal(last.boot_source.boot_args, "console=ttyS0 reboot=k panic=1");
    assert_false(last.boot_source.has_initrd_path);

    ok204("PUT", "/drives/rootfs",
          "{\"drive_id\": \"rootfs\", \"path_on_host\": \"./ubuntu.ext4\", \"is_root_device\": "
          "true, \"is_read_only\": false}",
          API_OP_PUT_DRIVE);
    assert_string_equal(last.drive.drive_id, "rootfs");
    assert_string_equal(last.drive.path_on_host, "./ubuntu.ext4");
    assert_true(last.drive.is_root_device);
    assert_true(last.drive.has_is_read_only);
    assert_false(last.drive.is_read_only);
    assert_false(last.drive.has_rate_limiter);

    ok204("PUT", "/network-interfaces/net1",
          "{\"iface_id\": \"net1\", \"guest_mac\": \"06:00:AC:10:00:02\", \"host_dev_name\": "
          "\"tap0\"}",
          API_OP_PUT_NET);
    assert_string_equal(last.net.iface_id, "net1");
    assert_string_equal(last.net.host_dev_name, "tap0");
    assert_true(last.net.has_guest_mac);
    static const uint8_t mac[6] = { 0x06, 0x00, 0xac, 0x10, 0x00, 0x02 };
    assert_memory_equal(last.net.guest_mac, mac, 6);
    assert_false(last.net.has_spec);

    ok204("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", API_OP_ACTION);
    assert_int_equal(last.action, API_ACTION_INSTANCE_START);
    assert_int_equal(ncalls, 5);
}

static void test_machine_config(void **state)
{
    (void)state;
    ok204("PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 1024}",
          API_OP_PUT_MACHINE_CONFIG);
    const struct api_machine_config *m = &last.machine;
    assert_int_equal(m->vcpu_count, 2);
    assert_int_equal(m->mem_size_mib, 1024);
    /* a PUT sets everything: absent optional fields are their defaults */
    assert_true(m->has_vcpu_count && m->has_mem_size_mib && m->has_smt &&
                m->has_track_dirty_pages && m->has_huge_pages && m->has_cpu_template);
    assert_false(m->smt);
    assert_int_equal(m->huge_pages, API_HUGE_PAGES_NONE);

    ok204("PUT", "/machine-config",
          "{\"vcpu_count\": 32, \"mem_size_mib\": 1, \"smt\": true, \"track_dirty_pages\": "
          "true, \"huge_pages\": \"2M\", \"cpu_template\": \"T2\"}",
          API_OP_PUT_MACHINE_CONFIG);
    assert_true(last.machine.smt && last.machine.track_dirty_pages);
    assert_int_equal(last.machine.huge_pages, API_HUGE_PAGES_2M);
    assert_int_equal(last.machine.cpu_template, API_CPU_TEMPLATE_T2);

    ok204("PATCH", "/machine-config", "{\"mem_size_mib\": 256}", API_OP_PATCH_MACHINE_CONFIG);
    assert_true(last.machine.has_mem_size_mib);
    assert_int_equal(last.machine.mem_size_mib, 256);
    assert_false(last.machine.has_vcpu_count);
    assert_false(last.machine.has_smt);

    /* null is "absent" for an optional field, as serde's Option reads it */
    ok204("PATCH", "/machine-config", "{\"mem_size_mib\": 64, \"smt\": null}",
          API_OP_PATCH_MACHINE_CONFIG);
    assert_false(last.machine.has_smt);

    refused("PATCH", "/machine-config", "{}", "Empty PATCH request.");
    refused("PATCH", "/machine-config", "{\"smt\": null}", "Empty PATCH request.");
    refused("PUT", "/machine-config", "{\"vcpu_count\": 1}", "missing field `mem_size_mib`");
    refused("PUT", "/machine-config", "{\"vcpu_count\": 0, \"mem_size_mib\": 128}",
            "`vcpu_count` must be an integer from 1 to 32, not 0");
    refused("PUT", "/machine-config", "{\"vcpu_count\": 33, \"mem_size_mib\": 128}",
            "from 1 to 32, not 33");
    refused("PUT", "/machine-config", "{\"vcpu_count\": -1, \"mem_size_mib\": 128}",
            "not -1");
    refused("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 0}",
            "`mem_size_mib` must be an integer from 1");
    refused("PUT", "/machine-config", "{\"vcpu_count\": \"2\", \"mem_size_mib\": 128}",
            "`vcpu_count` must be an integer, not a string");
    refused("PUT", "/machine-config", "{\"vcpu_count\": 2.0, \"mem_size_mib\": 128}",
            "must be an integer, not a real number");
    refused("PUT", "/machine-config", "{\"vcpu_count\": 1e30, \"mem_size_mib\": 128}",
            "must be an integer, not a real number");
    refused("PUT", "/machine-config",
            "{\"vcpu_count\": 99999999999999999999999, \"mem_size_mib\": 128}",
            "not valid JSON");
    refused("PUT", "/machine-config", "{\"vcpu_count\": null, \"mem_size_mib\": 128}",
            "missing field `vcpu_count`");
    refused("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"smt\": 1}",
            "`smt` must be a boolean, not an integer");
    refused("PUT", "/machine-config",
            "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"huge_pages\": \"1G\"}",
            "`huge_pages` must be one of \"None\", \"Transparent\", \"2M\", not \"1G\"");
    refused("PUT", "/machine-config",
            "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"vcpus\": 2}",
            "unknown field `vcpus` (expected vcpu_count, mem_size_mib, smt");
    refused("PUT", "/machine-config",
            "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"vcpu_count\": 2}", "duplicate");
}

static void test_drives(void **state)
{
    (void)state;
    ok204("PUT", "/drives/scratch_2",
          "{\"drive_id\": \"scratch_2\", \"path_on_host\": \"/tmp/d.qcow2\", \"is_root_device\": "
          "false, \"partuuid\": \"abc-1\", \"cache_type\": \"Writeback\", \"io_engine\": "
          "\"Async\", \"rate_limiter\": {\"bandwidth\": {\"size\": 1048576, \"refill_time\": "
          "1000, \"one_time_burst\": 0}, \"ops\": {\"size\": 100, \"refill_time\": 500}}}",
          API_OP_PUT_DRIVE);
    const struct api_drive *d = &last.drive;
    assert_int_equal(d->cache_type, API_CACHE_WRITEBACK);
    assert_int_equal(d->io_engine, API_IO_ENGINE_ASYNC);
    assert_true(d->has_partuuid);
    assert_string_equal(d->partuuid, "abc-1");
    assert_false(d->has_is_read_only);
    assert_true(d->has_rate_limiter && d->rate_limiter.has_bandwidth && d->rate_limiter.has_ops);
    assert_int_equal(d->rate_limiter.bandwidth.size, 1048576);
    assert_int_equal(d->rate_limiter.bandwidth.refill_time, 1000);
    assert_true(d->rate_limiter.bandwidth.has_one_time_burst);
    assert_int_equal(d->rate_limiter.ops.size, 100);
    assert_false(d->rate_limiter.ops.has_one_time_burst);
    assert_int_equal(api_token_bucket_rate(&d->rate_limiter.bandwidth), 1048576);
    assert_int_equal(api_token_bucket_rate(&d->rate_limiter.ops), 200);

    /* PATCH: the rate limiter live, or a new medium */
    ok204("PATCH", "/drives/scratch_2",
          "{\"drive_id\": \"scratch_2\", \"rate_limiter\": {\"ops\": {\"size\": 10, "
          "\"refill_time\": 1000}}}",
          API_OP_PATCH_DRIVE);
    assert_true(last.drive.has_rate_limiter);
    assert_false(last.drive.rate_limiter.has_bandwidth);
    assert_true(last.drive.rate_limiter.has_ops);
    assert_false(last.drive.has_path_on_host);
    ok204("PATCH", "/drives/scratch_2", "{\"drive_id\": \"scratch_2\", \"path_on_host\": \"/x\"}",
          API_OP_PATCH_DRIVE);
    assert_true(last.drive.has_path_on_host);

    refused("PUT", "/drives/rootfs",
            "{\"drive_id\": \"other\", \"path_on_host\": \"a\", \"is_root_device\": true}",
            "The id from the path [rootfs] does not match the id from the body [other]!");
    refused("PUT", "/drives/rootfs", "{\"drive_id\": \"rootfs\", \"path_on_host\": \"a\"}",
            "missing field `is_root_device`");
    refused("PUT", "/drives/rootfs", "{\"drive_id\": \"rootfs\", \"is_root_device\": true}",
            "missing field `path_on_host`");
    refused("PUT", "/drives/rootfs",
            "{\"drive_id\": \"rootfs\", \"path_on_host\": \"\", \"is_root_device\": true}",
            "`path_on_host` must not be empty");
    refused("PUT", "/drives/rootfs",
            "{\"drive_id\": \"rootfs\", \"path_on_host\": \"a\", \"is_root_device\": true, "
            "\"socket\": \"/vhost\"}",
            "unknown field `socket`");
    refused("PUT", "/drives/rootfs",
            "{\"drive_id\": \"rootfs\", \"path_on_host\": \"a\", \"is_root_device\": true, "
            "\"rate_limiter\": {\"bandwidth\": {\"size\": 1}}}",
            "missing field `rate_limiter.bandwidth.refill_time`");
    refused("PUT", "/drives/rootfs",
            "{\"drive_id\": \"rootfs\", \"path_on_host\": \"a\", \"is_root_device\": true, "
            "\"rate_limiter\": {\"bandwidth\": {\"size\": -5, \"refill_time\": 1}}}",
            "`rate_limiter.bandwidth.size` must be an integer from 0");
    refused("PUT", "/drives/rootfs",
            "{\"drive_id\": \"rootfs\", \"path_on_host\": \"a\", \"is_root_device\": true, "
            "\"rate_limiter\": {\"bytes\": {}}}",
            "unknown field `bytes` in `rate_limiter`");
    refused("PUT", "/drives/rootfs",
            "{\"drive_id\": \"rootfs\", \"path_on_host\": \"a\", \"is_root_device\": true, "
            "\"rate_limiter\": [1]}",
            "`rate_limiter` must be an object, not an array");
    refused("PATCH", "/drives/rootfs", "{\"drive_id\": \"rootfs\", \"is_root_device\": true}",
            "unknown field `is_root_device`");
    refused("PATCH", "/drives/a", "{\"drive_id\": \"b\"}", "does not match");
}

static void test_paths_and_ids(void **state)
{
    (void)state;
    refused("GET", "/nope", NULL, "Invalid request method and/or path: GET /nope.");
    refused("POST", "/actions", "{}", "Invalid request method and/or path: POST /actions "
                                      "(allowed: PUT)");
    refused("DELETE", "/drives/rootfs", NULL, "(allowed: PUT, PATCH)");
    refused("GET", "/machine-config/extra", NULL, "Invalid request method and/or path");
    refused("GET", "/a/b/c/d/e/f", NULL, "Invalid request method and/or path");
    refused("PUT", "/drives", "{}", "The ID cannot be empty.");
    refused("PUT", "/drives/", "{}", "The ID cannot be empty.");
    refused("PUT", "/drives/bad-id", "{}", "API Resource IDs can only contain alphanumeric");
    refused("PUT", "/drives/a%2Fb", "{}", "API Resource IDs can only contain alphanumeric");
    refused("PUT", "/drives/a.b", "{}", "API Resource IDs can only contain alphanumeric");
    char path[200], body[300];
    memset(path, 0, sizeof(path));
    strcpy(path, "/drives/");
    memset(path + 8, 'x', 64);
    refused("PUT", path, "{}", "too long");
    /* 63 characters is the longest id */
    path[8 + 63] = 0;
    snprintf(body, sizeof(body),
             "{\"drive_id\": \"%s\", \"path_on_host\": \"a\", \"is_root_device\": false}",
             path + 8);
    ok204("PUT", path, body, API_OP_PUT_DRIVE);
    /* a hostile path is clipped in the message */
    char longpath[5000];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = 0;
    char *out;
    assert_int_equal(req("GET", longpath, NULL, &out), 400);
    assert_true(strlen(out) < 300);
    check_fault(out, "...");
    /* empty segments are ignored, as Firecracker trims them */
    json_t *j = get_json("//vm//config/");
    assert_non_null(json_object_get(j, "machine-config"));
    json_decref(j);
    /* a path with bytes that are not UTF-8 still gets a valid JSON fault */
    assert_int_equal(req("GET", "/\xff\xfe", NULL, &out), 400);
    check_fault(out, "Invalid request method and/or path: GET /\xef\xbf\xbd\xef\xbf\xbd.");
    assert_int_equal(ncalls, 2); /* the 63-character id and /vm/config */
}

static void test_body_rules(void **state)
{
    (void)state;
    refused("GET", "/", "{}", "GET request cannot have a body.");
    refused("GET", "/machine-config", "x", "GET request cannot have a body.");
    refused("PUT", "/actions", NULL, "Empty PUT request.");
    refused("PUT", "/actions", "", "Empty PUT request.");
    refused("PUT", "/actions", " \r\n\t", "Empty PUT request.");
    refused("PATCH", "/vm", NULL, "Empty PATCH request.");
    /* whitespace around a GET is not a body */
    char *out;
    assert_int_equal(req("GET", "/", "\r\n", &out), 200);
    free(out);
}

static void test_hostile_bodies(void **state)
{
    (void)state;
    refused("PUT", "/actions", "{\"action_type\": \"InstanceStart\"", "not valid JSON");
    refused("PUT", "/actions", "{\"action_type\": \"Instance", "not valid JSON");
    refused("PUT", "/actions", "{\"action_type\": \"InstanceStart\"} x", "not valid JSON");
    refused("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}{}", "not valid JSON");
    refused("PUT", "/actions", "[\"InstanceStart\"]", "the body must be a JSON object, not an array");
    refused("PUT", "/actions", "\"InstanceStart\"", "not valid JSON");
    refused("PUT", "/actions", "{\"action_type\": \"Reboot\"}",
            "`action_type` must be one of \"InstanceStart\", \"SendCtrlAltDel\", "
            "\"FlushMetrics\", not \"Reboot\"");
    refused("PUT", "/actions", "{\"action_type\": \"instancestart\"}", "must be one of");
    refused("PUT", "/actions", "{\"action_type\": 1}", "must be a string, not an integer");
    refused("PUT", "/actions", "{\"action_type\": \"InstanceStart\", \"now\": true}",
            "unknown field `now`");
    /* NUL: raw, escaped, in a key */
    static const char raw_nul[] = "{\"action_type\": \"Instance\0Start\"}";
    char *out;
    assert_int_equal(reqn("PUT", "/actions", raw_nul, sizeof(raw_nul) - 1, &out), 400);
    check_fault(out, "not valid JSON");
    refused("PUT", "/actions", "{\"action_type\": \"Instance\\u0000Start\"}", "not valid JSON");
    refused("PUT", "/actions", "{\"act\\u0000ion_type\": \"InstanceStart\"}", "not valid JSON");
    /* not UTF-8 */
    refused("PUT", "/actions", "{\"action_type\": \"\xc3\x28\"}", "not valid JSON");
    /* deep nesting: refused, not a stack overflow */
    size_t depth = 40000;
    char *deep = malloc(depth * 2 + 40);
    strcpy(deep, "{\"action_type\": ");
    size_t n = strlen(deep);
    memset(deep + n, '[', depth);
    memset(deep + n + depth, ']', depth);
    strcpy(deep + n + 2 * depth, "}");
    refused("PUT", "/actions", deep, "not valid JSON");
    /* nesting the schema does not expect */
    memset(deep + n, '[', 100);
    memset(deep + n + 100, ']', 100);
    strcpy(deep + n + 200, "}");
    refused("PUT", "/actions", deep, "`action_type` must be a string, not an array");
    free(deep);
    /* an over-long string */
    char *big = malloc(API_PATH_MAX + 100);
    strcpy(big, "{\"kernel_image_path\": \"");
    n = strlen(big);
    memset(big + n, 'k', API_PATH_MAX);
    strcpy(big + n + API_PATH_MAX, "\"}");
    refused("PUT", "/boot-source", big, "`kernel_image_path` is too long (4096 bytes; at most 4095)");
    free(big);
    /* an unknown key is clipped in the message */
    char keyed[400];
    snprintf(keyed, sizeof(keyed), "{\"%0300d\": 1}", 7);
    assert_int_equal(req("PUT", "/actions", keyed, &out), 400);
    assert_true(strlen(out) < 300);
    check_fault(out, "unknown field `000");
}

static void test_net(void **state)
{
    (void)state;
    ok204("PUT", "/network-interfaces/eth0",
          "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap7\", \"mtu\": 9000, "
          "\"rx_rate_limiter\": {\"bandwidth\": {\"size\": 1000, \"refill_time\": 100}}, "
          "\"tx_rate_limiter\": {}}",
          API_OP_PUT_NET);
    assert_true(last.net.has_mtu);
    assert_int_equal(last.net.mtu, 9000);
    assert_true(last.net.has_rx_rate_limiter && last.net.rx_rate_limiter.has_bandwidth);
    assert_true(last.net.has_tx_rate_limiter);
    assert_false(last.net.tx_rate_limiter.has_bandwidth || last.net.tx_rate_limiter.has_ops);
    assert_false(last.net.has_guest_mac);
    ok204("PATCH", "/network-interfaces/eth0",
          "{\"iface_id\": \"eth0\", \"tx_rate_limiter\": {\"ops\": {\"size\": 5, "
          "\"refill_time\": 1000}}}",
          API_OP_PATCH_NET);
    assert_true(last.net.has_tx_rate_limiter && last.net.tx_rate_limiter.has_ops);
    assert_false(last.net.has_rx_rate_limiter);

    refused("PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\"}",
            "missing field `host_dev_name`");
    refused("PUT", "/network-interfaces/eth0",
            "{\"iface_id\": \"eth0\", \"host_dev_name\": \"a-very-long-tap-name\"}",
            "`host_dev_name` is too long (20 bytes; at most 15)");
    refused("PUT", "/network-interfaces/eth0",
            "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": \"06:00:AC:10:00\"}",
            "`guest_mac` must be a MAC address");
    refused("PUT", "/network-interfaces/eth0",
            "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": "
            "\"06-00-AC-10-00-02\"}",
            "must be a MAC address");
    refused("PUT", "/network-interfaces/eth0",
            "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": "
            "\"0g:00:AC:10:00:02\"}",
            "must be a MAC address");
    refused("PUT", "/network-interfaces/eth0",
            "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"mtu\": 67}",
            "`mtu` must be an integer from 68 to 65535, not 67");
    refused("PUT", "/network-interfaces/eth0",
            "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap0\"}",
            "The id from the path [eth0] does not match the id from the body [eth1]!");
    refused("PATCH", "/network-interfaces/eth0",
            "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}", "unknown field `host_dev_name`");

    /* condo's own: a --net spec, id in the body or the path */
    ok204("PUT", "/condo/net", "{\"iface_id\": \"net0\", \"spec\": \"user,hostfwd=tcp::8080-:80\"}",
          API_OP_CONDO_NET);
    assert_string_equal(last.net.iface_id, "net0");
    assert_true(last.net.has_spec);
    assert_string_equal(last.net.spec, "user,hostfwd=tcp::8080-:80");
    assert_false(last.net.has_host_dev_name);
    ok204("PUT", "/condo/net/lan", "{\"spec\": \"switch,name=lan\", \"guest_mac\": "
                                    "\"52:54:00:12:34:56\"}",
          API_OP_CONDO_NET);
    assert_string_equal(last.net.iface_id, "lan");
    assert_true(last.net.has_guest_mac);
    ok204("PUT", "/condo/net/lan", "{\"iface_id\": \"lan\", \"spec\": \"tap,ifname=tap3\"}",
          API_OP_CONDO_NET);
    refused("PUT", "/condo/net", "{\"spec\": \"user\"}", "missing field `iface_id`");
    refused("PUT", "/condo/net/a", "{\"iface_id\": \"b\", \"spec\": \"user\"}", "does not match");
    refused("PUT", "/condo/net/a", "{\"spec\": \"\"}", "`spec` must not be empty");
    refused("PUT", "/condo/net/a", "{}", "missing field `spec`");
    refused("PUT", "/condo/net", "{\"iface_id\": \"x y\", \"spec\": \"user\"}",
            "`iface_id` must be 1 to 63 letters, digits or underscores, not \"x y\"");
}

static void test_vm_and_actions(void **state)
{
    (void)state;
    ok204("PATCH", "/vm", "{\"state\": \"Paused\"}", API_OP_PATCH_VM);
    assert_int_equal(last.vm, API_VM_PAUSE);
    ok204("PATCH", "/vm", "{\"state\": \"Resumed\"}", API_OP_PATCH_VM);
    assert_int_equal(last.vm, API_VM_RESUME);
    refused("PATCH", "/vm", "{\"state\": \"Running\"}", "must be one of \"Paused\", \"Resumed\"");
    refused("PUT", "/vm", "{\"state\": \"Paused\"}", "(allowed: PATCH)");
    ok204("PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", API_OP_ACTION);
    assert_int_equal(last.action, API_ACTION_SEND_CTRL_ALT_DEL);
    ok204("PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}", API_OP_ACTION);
    assert_int_equal(last.action, API_ACTION_FLUSH_METRICS);
    ok204("PUT", "/metrics", "{\"metrics_path\": \"/tmp/m.fifo\"}", API_OP_PUT_METRICS);
    assert_string_equal(last.metrics.metrics_path, "/tmp/m.fifo");
    refused("PUT", "/metrics", "{}", "missing field `metrics_path`");
    /* the logger's level is case-insensitive, as Firecracker's */
    ok204("PUT", "/logger", "{\"level\": \"warning\"}", API_OP_PUT_LOGGER);
    assert_int_equal(last.logger.level, API_LOG_WARNING);
    refused("PUT", "/logger", "{\"level\": \"Loud\"}", "`level` must be one of");
}

static void test_snapshots(void **state)
{
    (void)state;
    ok204("PUT", "/snapshot/create",
          "{\"snapshot_type\": \"Full\", \"snapshot_path\": \"./snapshot_file\", "
          "\"mem_file_path\": \"./mem_file\"}",
          API_OP_SNAPSHOT_CREATE);
    assert_int_equal(last.snapshot_create.snapshot_type, API_SNAPSHOT_FULL);
    assert_string_equal(last.snapshot_create.snapshot_path, "./snapshot_file");
    assert_true(last.snapshot_create.has_mem_file_path);
    ok204("PUT", "/snapshot/create", "{\"snapshot_path\": \"s\", \"snapshot_type\": \"Diff\"}",
          API_OP_SNAPSHOT_CREATE);
    assert_int_equal(last.snapshot_create.snapshot_type, API_SNAPSHOT_DIFF);
    assert_false(last.snapshot_create.has_mem_file_path);
    ok204("PUT", "/snapshot/create", "{\"snapshot_path\": \"s\"}", API_OP_SNAPSHOT_CREATE);
    assert_int_equal(last.snapshot_create.snapshot_type, API_SNAPSHOT_FULL);
    refused("PUT", "/snapshot/create", "{\"mem_file_path\": \"m\"}", "missing field `snapshot_path`");
    refused("PUT", "/snapshot/create", "{\"snapshot_path\": \"s\", \"snapshot_type\": \"Half\"}",
            "must be one of \"Full\", \"Diff\"");
    refused("PUT", "/snapshot/delete", "{\"snapshot_path\": \"s\"}",
            "Invalid request method and/or path");

    ok204("PUT", "/snapshot/load",
          "{\"snapshot_path\": \"./snapshot_file\", \"mem_backend\": {\"backend_path\": "
          "\"./mem_file\", \"backend_type\": \"File\"}, \"enable_diff_snapshots\": true, "
          "\"resume_vm\": true}",
          API_OP_SNAPSHOT_LOAD);
    const struct api_snapshot_load *l = &last.snapshot_load;
    assert_string_equal(l->snapshot_path, "./snapshot_file");
    assert_int_equal(l->mem_backend, API_MEM_BACKEND_FILE);
    assert_string_equal(l->mem_path, "./mem_file");
    assert_true(l->resume_vm);
    assert_true(l->track_dirty_pages); /* the deprecated flag folds in */
    assert_int_equal(l->huge_pages, API_SNAPSHOT_HUGE_PAGES_SNAPSHOT);

    ok204("PUT", "/snapshot/load",
          "{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", \"huge_pages\": \"None\", "
          "\"network_overrides\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap9\"}, "
          "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap10\"}]}",
          API_OP_SNAPSHOT_LOAD);
    assert_int_equal(l->mem_backend, API_MEM_BACKEND_FILE);
    assert_string_equal(l->mem_path, "m");
    assert_false(l->resume_vm);
    assert_int_equal(l->huge_pages, API_SNAPSHOT_HUGE_PAGES_NONE);
    assert_int_equal(l->n_network_overrides, 2);
    assert_string_equal(l->network_overrides[1].iface_id, "eth1");
    assert_string_equal(l->network_overrides[1].host_dev_name, "tap10");

    ok204("PUT", "/snapshot/load",
          "{\"snapshot_path\": \"s\", \"mem_backend\": {\"backend_path\": \"/uffd.sock\", "
          "\"backend_type\": \"Uffd\"}}",
          API_OP_SNAPSHOT_LOAD);
    assert_int_equal(l->mem_backend, API_MEM_BACKEND_UFFD);
    /* condo: RAM inside the snapshot file */
    ok204("PUT", "/snapshot/load", "{\"snapshot_path\": \"s\"}", API_OP_SNAPSHOT_LOAD);
    assert_int_equal(l->mem_backend, API_MEM_BACKEND_NONE);

    refused("PUT", "/snapshot/load",
            "{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", \"mem_backend\": "
            "{\"backend_path\": \"m\", \"backend_type\": \"File\"}}",
            "too many fields: either `mem_backend` or `mem_file_path` exclusively");
    refused("PUT", "/snapshot/load",
            "{\"snapshot_path\": \"s\", \"mem_backend\": {\"backend_path\": \"m\"}}",
            "missing field `mem_backend.backend_type`");
    refused("PUT", "/snapshot/load",
            "{\"snapshot_path\": \"s\", \"vsock_override\": {\"uds_path\": \"/v\"}}",
            "no vsock device");
    refused("PUT", "/snapshot/load",
            "{\"snapshot_path\": \"s\", \"network_overrides\": {\"iface_id\": \"a\"}}",
            "`network_overrides` must be an array, not an object");
    refused("PUT", "/snapshot/load",
            "{\"snapshot_path\": \"s\", \"network_overrides\": [{\"iface_id\": \"a\"}]}",
            "missing field `network_overrides[0].host_dev_name`");
    refused("PUT", "/snapshot/load",
            "{\"snapshot_path\": \"s\", \"network_overrides\": [1]}",
            "`network_overrides[0]` must be an object, not an integer");
    char many[2048] = "{\"snapshot_path\": \"s\", \"network_overrides\": [";
    for (int i = 0; i <= API_MAX_NETS; i++) {
        size_t n = strlen(many);
        snprintf(many + n, sizeof(many) - n, "%s{\"iface_id\": \"e%d\", \"host_dev_name\": \"t\"}",
                 i ? ", " : "", i);
    }
    strcat(many, "]}");
    refused("PUT", "/snapshot/load", many, "`network_overrides` has 9 entries; at most 8");
}

static void test_condo_routes(void **state)
{
    (void)state;
    ok204("PUT", "/condo/cpu-limit", "{\"cpu_limit_pct\": 25}", API_OP_CONDO_PUT_CPU_LIMIT);
    assert_true(last.cpu_limit.has_cpu_limit_pct && last.cpu_limit.has_cpu_weight);
    assert_int_equal(last.cpu_limit.cpu_limit_pct, 25);
    assert_int_equal(last.cpu_limit.cpu_weight, API_CPU_WEIGHT_DEFAULT);
    ok204("PATCH", "/condo/cpu-limit", "{\"cpu_weight\": 500}", API_OP_CONDO_PATCH_CPU_LIMIT);
    assert_false(last.cpu_limit.has_cpu_limit_pct);
    assert_int_equal(last.cpu_limit.cpu_weight, 500);
    refused("PATCH", "/condo/cpu-limit", "{}", "Empty PATCH request.");
    refused("PUT", "/condo/cpu-limit", "{\"cpu_weight\": 0}",
            "`cpu_weight` must be an integer from 1 to 10000, not 0");
    refused("PUT", "/condo/cpu-limit", "{\"cpu_limit_pct\": 102401}", "from 0 to 102400");

    /* stop: an empty body takes the defaults */
    ok204("PUT", "/condo/stop", NULL, API_OP_CONDO_STOP);
    assert_int_equal(last.stop.timeout_s, API_STOP_TIMEOUT_DEFAULT);
    assert_false(last.stop.force);
    ok204("PUT", "/condo/stop", "{\"timeout_s\": 5, \"force\": true}", API_OP_CONDO_STOP);
    assert_int_equal(last.stop.timeout_s, 5);
    assert_true(last.stop.force);
    ok204("PUT", "/condo/stop", "{}", API_OP_CONDO_STOP);
    assert_int_equal(last.stop.timeout_s, API_STOP_TIMEOUT_DEFAULT);
    refused("PUT", "/condo/stop", "{\"timeout_s\": 86401}", "from 0 to 86400");
    refused("PUT", "/condo/stop", "{\"force\": \"yes\"}", "`force` must be a boolean");
    refused("PUT", "/condo/console", "{}", "Invalid request method and/or path");
}

/* ---- the backend's answers ---- */

static void backend_fails(const char *method, const char *path, const char *body, int code,
                          const char *msg, int status)
{
    next_code = code;
    next_msg = msg;
    char *out;
    assert_int_equal(req(method, path, body, &out), status);
    check_fault(out, msg ? msg : "failed");
    next_code = 0;
    next_msg = NULL;
}

static void test_backend_errors(void **state)
{
    (void)state;
    const char *start = "{\"action_type\": \"InstanceStart\"}";
    backend_fails("PUT", "/actions", start, -EINVAL, "Cannot start microvm without kernel", 400);
    /* Firecracker's routes answer 400 for a state error, condo's 409 */
    backend_fails("PUT", "/actions", start, -EBUSY, "not supported after starting", 400);
    backend_fails("PUT", "/condo/cpu-limit", "{\"cpu_weight\": 3}", -EBUSY, "VM is stopping",
                  409);
    backend_fails("PUT", "/condo/stop", NULL, -ESRCH, "not running", 409);
    backend_fails("PUT", "/snapshot/create", "{\"snapshot_path\": \"s\"}", -ENOSPC,
                  "no space left for s", 507);
    backend_fails("PUT", "/snapshot/create", "{\"snapshot_path\": \"s\"}", -EIO,
                  "write failed", 500);
    backend_fails("GET", "/condo/status", NULL, -ENOTRECOVERABLE, "internal", 500);
    backend_fails("GET", "/", NULL, -ESHUTDOWN, "shutting down", 500);
    /* an error without a message still says something */
    backend_fails("PATCH", "/vm", "{\"state\": \"Paused\"}", -EBUSY, NULL, 400);
    char *out;
    next_code = -EBUSY;
    assert_int_equal(req("PATCH", "/vm", "{\"state\": \"Paused\"}", &out), 400);
    check_fault(out, "PATCH /vm failed: Device or resource busy");
    next_code = 0;
    /* a message that is not UTF-8 (a host path) still makes valid JSON */
    next_code = -ENOENT;
    next_msg = "cannot open /x/\xff\xfe";
    assert_int_equal(req("PUT", "/boot-source", "{\"kernel_image_path\": \"k\"}", &out), 400);
    check_fault(out, "cannot open /x/\xef\xbf\xbd\xef\xbf\xbd");
}

/* ---- replies ---- */

static void fill_info(struct api_reply *r)
{
    snprintf(r->instance.id, sizeof(r->instance.id), "vm-7");
    r->instance.state = API_VM_PAUSED;
}

static void fill_machine(struct api_reply *r)
{
    r->machine = (struct api_machine_config){ .vcpu_count = 2, .mem_size_mib = 256,
                                              .track_dirty_pages = true,
                                              .huge_pages = API_HUGE_PAGES_TRANSPARENT };
}

static void fill_vm_config(struct api_reply *r);

/* the same VM with a balloon: /vm/config shows it as GET /balloon does */
static void fill_vm_config_balloon(struct api_reply *r)
{
    fill_vm_config(r);
    r->vm_config.has_balloon = true;
    r->vm_config.balloon = (struct api_balloon){ .amount_mib = 16, .stats_polling_interval_s = 2,
                                                 .free_page_reporting = true };
}

static void fill_vm_config(struct api_reply *r)
{
    struct api_vm_config *v = &r->vm_config;
    v->machine.vcpu_count = 1;
    v->machine.mem_size_mib = 128;
    v->has_boot_source = true;
    strcpy(v->boot_source.kernel_image_path, "/k/Image");
    v->boot_source.has_initrd_path = true;
    strcpy(v->boot_source.initrd_path, "/k/\xff.cpio"); /* not UTF-8 */
    v->n_drives = 2;
    strcpy(v->drives[0].drive_id, "rootfs");
    v->drives[0].has_path_on_host = true;
    strcpy(v->drives[0].path_on_host, "/img/root.ext4");
    v->drives[0].is_root_device = true;
    strcpy(v->drives[1].drive_id, "data");
    v->drives[1].has_path_on_host = true;
    strcpy(v->drives[1].path_on_host, "/img/data.qcow2");
    v->drives[1].is_read_only = true;
    v->drives[1].has_rate_limiter = true;
    v->drives[1].rate_limiter.has_ops = true;
    v->drives[1].rate_limiter.ops = (struct api_token_bucket){ .size = 100, .refill_time = 1000 };
    v->n_nets = 2;
    strcpy(v->nets[0].iface_id, "eth0");
    v->nets[0].has_host_dev_name = true;
    strcpy(v->nets[0].host_dev_name, "tap0");
    v->nets[0].has_guest_mac = true;
    memcpy(v->nets[0].guest_mac, "\x06\x00\xac\x10\x00\x02", 6);
    strcpy(v->nets[1].iface_id, "net1");
    v->nets[1].has_spec = true;
    strcpy(v->nets[1].spec, "user");
    v->cpu_limit.cpu_limit_pct = 50;
    v->cpu_limit.cpu_weight = 100;
}

static void fill_status(struct api_reply *r)
{
    struct api_status *s = &r->status;
    strcpy(s->id, "vm-7");
    s->state = API_VM_RUNNING;
    s->uptime_ms = 1234;
    s->vcpus = 1;
    s->mem_size_mib = 128;
    s->n_disks = 1;
    strcpy(s->disks[0].drive_id, "rootfs");
    s->disks[0].read_bytes = UINT64_MAX; /* beyond JSON's int64: saturates */
    s->disks[0].write_ops = 7;
    s->n_nics = 1;
    strcpy(s->nics[0].iface_id, "eth0");
    s->nics[0].rx_packets = 3;
    s->pid = -5; /* the module's figures replace whatever the backend put */
    s->has_balloon = true;
    s->balloon_reported_bytes = 3 << 20;
    s->idle_zero_bytes = 40 << 20;
}

static int64_t iget(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static const char *sget(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void test_replies(void **state)
{
    (void)state;
    fill = fill_info;
    json_t *j = get_json("/");
    assert_string_equal(sget(j, "id"), "vm-7");
    assert_string_equal(sget(j, "state"), "Paused");
    assert_string_equal(sget(j, "vmm_version"), "1.2.3-test");
    assert_string_equal(sget(j, "app_name"), "condo");
    assert_int_equal(json_object_size(j), 4);
    json_decref(j);
    fill = NULL;
    j = get_json("/");
    assert_string_equal(sget(j, "id"), "anonymous-instance");
    assert_string_equal(sget(j, "state"), "Not started");
    json_decref(j);

    int before = ncalls;
    j = get_json("/version");
    assert_string_equal(sget(j, "firecracker_version"), "1.2.3-test");
    json_decref(j);
    assert_int_equal(ncalls, before); /* the module answers it alone */

    fill = fill_machine;
    j = get_json("/machine-config");
    assert_int_equal(iget(j, "vcpu_count"), 2);
    assert_int_equal(iget(j, "mem_size_mib"), 256);
    assert_true(json_is_false(json_object_get(j, "smt")));
    assert_true(json_is_true(json_object_get(j, "track_dirty_pages")));
    assert_string_equal(sget(j, "huge_pages"), "Transparent");
    assert_null(json_object_get(j, "cpu_template"));
    json_decref(j);

    fill = fill_vm_config;
    j = get_json("/vm/config");
    json_t *bs = json_object_get(j, "boot-source");
    assert_string_equal(sget(bs, "kernel_image_path"), "/k/Image");
    assert_string_equal(sget(bs, "initrd_path"), "/k/\xef\xbf\xbd.cpio");
    assert_true(json_is_null(json_object_get(bs, "boot_args")));
    json_t *drives = json_object_get(j, "drives");
    assert_int_equal(json_array_size(drives), 2);
    json_t *d1 = json_array_get(drives, 1);
    assert_string_equal(sget(d1, "drive_id"), "data");
    assert_true(json_is_true(json_object_get(d1, "is_read_only")));
    json_t *rl = json_object_get(d1, "rate_limiter");
    assert_true(json_is_null(json_object_get(rl, "bandwidth")));
    assert_int_equal(iget(json_object_get(rl, "ops"), "size"), 100);
    assert_int_equal(iget(json_object_get(rl, "ops"), "refill_time"), 1000);
    assert_true(json_is_null(json_object_get(json_array_get(drives, 0), "rate_limiter")));
    json_t *nets = json_object_get(j, "network-interfaces");
    assert_int_equal(json_array_size(nets), 1);
    assert_string_equal(sget(json_array_get(nets, 0), "host_dev_name"), "tap0");
    assert_string_equal(sget(json_array_get(nets, 0), "guest_mac"), "06:00:ac:10:00:02");
    json_t *condo = json_object_get(j, "condo");
    assert_int_equal(json_array_size(json_object_get(condo, "net")), 1);
    assert_string_equal(sget(json_array_get(json_object_get(condo, "net"), 0), "spec"), "user");
    assert_int_equal(iget(condo, "cpu_limit_pct"), 50);
    assert_int_equal(iget(json_object_get(j, "machine-config"), "mem_size_mib"), 128);
    assert_true(json_is_null(json_object_get(j, "balloon")));
    json_decref(j);
    fill = fill_vm_config_balloon;
    j = get_json("/vm/config");
    json_t *bl = json_object_get(j, "balloon");
    assert_int_equal(iget(bl, "amount_mib"), 16);
    assert_int_equal(iget(bl, "stats_polling_interval_s"), 2);
    assert_true(json_is_true(json_object_get(bl, "free_page_reporting")));
    assert_true(json_is_false(json_object_get(bl, "deflate_on_oom")));
    json_decref(j);

    fill = fill_status;
    j = get_json("/condo/status");
    assert_string_equal(sget(j, "state"), "running");
    assert_int_equal(iget(j, "pid"), getpid());
    assert_true(iget(j, "rss_bytes") > 0);
    assert_int_equal(iget(j, "uptime_ms"), 1234);
    json_t *given = json_object_get(j, "memory_given_back");
    assert_int_equal(iget(given, "balloon_reported_bytes"), 3 << 20);
    assert_int_equal(iget(given, "balloon_inflated_pages"), 0);
    assert_int_equal(iget(given, "idle_zero_bytes"), 40 << 20);
    assert_int_equal(iget(given, "idle_cache_bytes"), 0);
    json_t *d = json_array_get(json_object_get(j, "disks"), 0);
    assert_int_equal(iget(d, "read_bytes"), INT64_MAX);
    assert_int_equal(iget(d, "write_ops"), 7);
    assert_int_equal(iget(json_array_get(json_object_get(j, "nics"), 0), "rx_packets"), 3);
    json_decref(j);
}

static void test_token_bucket_rate(void **state)
{
    (void)state;
    struct api_token_bucket b = { .size = 0, .refill_time = 100 };
    assert_int_equal(api_token_bucket_rate(&b), 0);
    b = (struct api_token_bucket){ .size = 100, .refill_time = 0 };
    assert_int_equal(api_token_bucket_rate(&b), 0);
    b = (struct api_token_bucket){ .size = 1, .refill_time = 10000 };
    assert_int_equal(api_token_bucket_rate(&b), 1);
    b = (struct api_token_bucket){ .size = INT64_MAX, .refill_time = 1 };
    assert_int_equal(api_token_bucket_rate(&b), UINT64_MAX);
    assert_int_equal(api_token_bucket_rate(NULL), 0);
}

/* ---- the server on a real socket ---- */

static char dir[64];

static int sock_setup(void **state)
{
    setup(state);
    strcpy(dir, "/tmp/condo-api-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int sock_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int connect_to(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends a raw request, reads until the server closes; returns the reply. */
static char *exchange(const char *path, const char *req_text, size_t len)
{
    int fd = connect_to(path);
    assert_true(fd >= 0);
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(fd, req_text + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may answer and close before reading it all */
        off += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    size_t cap = 65536, got = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        ssize_t n = recv(fd, buf + got, cap - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == cap)
            break;
    }
    buf[got] = 0;
    close(fd);
    return buf;
}

static void test_server_socket(void **state)
{
    (void)state;
    char path[100];
    snprintf(path, sizeof(path), "%.60s/api.sock", dir);
    struct api_server_config c = cfg;
    c.socket_path = path;
    c.body_max = 1000;
    struct api_server *s;
    struct error err = ERROR_INIT;
    assert_int_equal(api_server_start(&c, &s, &err), 0);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);

    /* a second server on the same path: refused, the first keeps it */
    struct api_server *s2;
    assert_int_equal(api_server_start(&c, &s2, &err), -EBUSY);
    assert_non_null(strstr(err.msg, "in use"));
    error_clear(&err);

    /* a request that works, with keep-alive then close */
    const char *r1 = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    char *resp = exchange(path, r1, strlen(r1));
    assert_non_null(strstr(resp, "HTTP/1.1 200"));
    assert_non_null(strstr(resp, "\"app_name\":\"condo\""));
    free(resp);

    /* a declared length over the limit: 400 before any body is read */
    const char *r2 = "PUT /actions HTTP/1.1\r\nHost: l\r\nContent-Length: 1000000000000\r\n\r\n";
    resp = exchange(path, r2, strlen(r2));
    assert_non_null(strstr(resp, "HTTP/1.1 400"));
    assert_non_null(strstr(resp, "larger than the limit of 1000 bytes"));
    free(resp);

    /* a chunked body over the limit: counted, not stored, 400 */
    char chunked[4096];
    int n = snprintf(chunked, sizeof(chunked),
                     "PUT /actions HTTP/1.1\r\nHost: l\r\nTransfer-Encoding: chunked\r\n"
                     "Connection: close\r\n\r\n");
    for (int i = 0; i < 3; i++) {
        n += snprintf(chunked + n, sizeof(chunked) - (size_t)n, "200\r\n");
        memset(chunked + n, ' ', 0x200);
        n += 0x200;
        n += snprintf(chunked + n, sizeof(chunked) - (size_t)n, "\r\n");
    }
    n += snprintf(chunked + n, sizeof(chunked) - (size_t)n, "0\r\n\r\n");
    resp = exchange(path, chunked, (size_t)n);
    assert_non_null(strstr(resp, "HTTP/1.1 400"));
    assert_non_null(strstr(resp, "larger than the limit"));
    free(resp);

    /* a chunked body within the limit works */
    const char *r3 = "PUT /actions HTTP/1.1\r\nHost: l\r\nTransfer-Encoding: chunked\r\n"
                     "Connection: close\r\n\r\n"
                     "10\r\n{\"action_type\": \r\n10\r\n\"FlushMetrics\"} \r\n0\r\n\r\n";
    int before = ncalls;
    resp = exchange(path, r3, strlen(r3));
    assert_non_null(strstr(resp, "HTTP/1.1 204"));
    free(resp);
    assert_int_equal(ncalls, before + 1);
    assert_int_equal(last.action, API_ACTION_FLUSH_METRICS);

    /* a client that sends half a request and stays does not stop the stop */
    int idle = connect_to(path);
    assert_true(idle >= 0);
    const char *half = "PUT /actions HTTP/1.1\r\nHost: l\r\nContent-Length: 100\r\n\r\n{";
    assert_true(send(idle, half, strlen(half), MSG_NOSIGNAL) > 0);
    /* another client's full exchange: by its answer the server has most
     * likely read the half request too (stop must not wait for it long) */
    resp = exchange(path, r1, strlen(r1));
    assert_non_null(strstr(resp, "HTTP/1.1 200"));
    free(resp);

    api_server_stop(s);
    assert_int_equal(lstat(path, &st), -1); /* removed */
    assert_int_equal(errno, ENOENT);
    close(idle);

    /* a stale socket (its server died) is replaced */
    int stale = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    assert_int_equal(bind(stale, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(stale);
    assert_int_equal(api_server_start(&c, &s, &err), 0);
    resp = exchange(path, r1, strlen(r1));
    assert_non_null(strstr(resp, "HTTP/1.1 200"));
    free(resp);
    api_server_stop(s);
    api_server_stop(NULL);

    /* anything else at the path is the user's: never touched */
    FILE *f = fopen(path, "w");
    fputs("keep me", f);
    fclose(f);
    assert_int_equal(api_server_start(&c, &s, &err), -EEXIST);
    assert_non_null(strstr(err.msg, "is not a socket"));
    error_clear(&err);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    unlink(path);

    /* a path longer than sun_path */
    char longp[200];
    memset(longp, 'p', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = 0;
    c.socket_path = longp;
    assert_int_equal(api_server_start(&c, &s, &err), -ENAMETOOLONG);
    assert_non_null(strstr(err.msg, "too long"));
    error_clear(&err);
    /* no backend */
    c.socket_path = path;
    c.ops = NULL;
    assert_int_equal(api_server_start(&c, &s, &err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_getting_started, setup),
        cmocka_unit_test_setup(test_machine_config, setup),
        cmocka_unit_test_setup(test_drives, setup),
        cmocka_unit_test_setup(test_paths_and_ids, setup),
        cmocka_unit_test_setup(test_body_rules, setup),
        cmocka_unit_test_setup(test_hostile_bodies, setup),
        cmocka_unit_test_setup(test_net, setup),
        cmocka_unit_test_setup(test_vm_and_actions, setup),
        cmocka_unit_test_setup(test_snapshots, setup),
        cmocka_unit_test_setup(test_condo_routes, setup),
        cmocka_unit_test_setup(test_backend_errors, setup),
        cmocka_unit_test_setup(test_replies, setup),
        cmocka_unit_test_setup(test_token_bucket_rate, setup),
        cmocka_unit_test_setup_teardown(test_server_socket, sock_setup, sock_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
