#!/usr/bin/env python3
"""Seeds for tests/fuzz/fuzz_api.c: one valid request per route (the
shapes of docs/API.md) and a few broken ones, as "METHOD PATH\\n" + body.

usage: tests/fuzz/api_seeds.py CORPUS_DIR
"""
import os
import sys

RL = '{"bandwidth": {"size": 1048576, "refill_time": 1000, "one_time_burst": 5}, "ops": {"size": 100, "refill_time": 1000}}'
SEEDS = [
    ("GET", "/", ""),
    ("GET", "/version", ""),
    ("GET", "/machine-config", ""),
    ("GET", "/vm/config", ""),
    ("GET", "/condo/status", ""),
    ("PUT", "/machine-config", '{"vcpu_count": 2, "mem_size_mib": 1024, "smt": false, "track_dirty_pages": true, "huge_pages": "None"}'),
    ("PATCH", "/machine-config", '{"mem_size_mib": 256}'),
    ("PUT", "/boot-source", '{"kernel_image_path": "./vmlinux", "initrd_path": "./initrd", "boot_args": "console=ttyS0"}'),
    ("PUT", "/drives/rootfs", '{"drive_id": "rootfs", "path_on_host": "./r.ext4", "is_root_device": true, "is_read_only": false, "cache_type": "Writeback", "rate_limiter": %s}' % RL),
    ("PATCH", "/drives/rootfs", '{"drive_id": "rootfs", "rate_limiter": %s}' % RL),
    ("PUT", "/network-interfaces/net1", '{"iface_id": "net1", "guest_mac": "06:00:AC:10:00:02", "host_dev_name": "tap0", "mtu": 1500, "rx_rate_limiter": %s}' % RL),
    ("PATCH", "/network-interfaces/net1", '{"iface_id": "net1", "tx_rate_limiter": %s}' % RL),
    ("PUT", "/actions", '{"action_type": "InstanceStart"}'),
    ("PATCH", "/vm", '{"state": "Paused"}'),
    ("PUT", "/snapshot/create", '{"snapshot_type": "Full", "snapshot_path": "./s", "mem_file_path": "./m"}'),
    ("PUT", "/snapshot/load", '{"snapshot_path": "./s", "mem_backend": {"backend_path": "./m", "backend_type": "File"}, "resume_vm": true, "network_overrides": [{"iface_id": "net1", "host_dev_name": "tap1"}]}'),
    ("PUT", "/logger", '{"log_path": "./l", "level": "debug", "show_level": true}'),
    ("PUT", "/metrics", '{"metrics_path": "./m"}'),
    ("PUT", "/condo/net/net0", '{"spec": "user,hostfwd=tcp::8080-:80"}'),
    ("PUT", "/condo/cpu-limit", '{"cpu_limit_pct": 25, "cpu_weight": 100}'),
    ("PATCH", "/condo/cpu-limit", '{"cpu_weight": 5}'),
    ("PUT", "/condo/stop", '{"timeout_s": 3, "force": false}'),
    ("PUT", "/actions", '{"action_type": "InstanceStart"'),
    ("PUT", "/drives/x", '{"drive_id": "x", "path_on_host": "\\u00e9\\ud83d\\ude00", "is_root_device": 1.5}'),
    ("PUT", "/actions", "[" * 50 + "]" * 50),
]


def main():
    return write(sys.argv[1])


def write(out):
    os.makedirs(out, exist_ok=True)
    for i, (m, p, b) in enumerate(SEEDS):
        with open(os.path.join(out, "seed-%02d" % i), "wb") as f:
            f.write(("%s %s\n%s" % (m, p, b)).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
