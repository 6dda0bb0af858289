#!/usr/bin/env bash
# tests/api/test_api.sh [API_FAKE]
#   The control API over its UNIX socket, driven with curl exactly as
#   Firecracker's getting-started guide and snapshot guide drive Firecracker
#   (same methods, paths, bodies and curl defaults), against
#   build/tests/api_fake: the real API module in front of a fake VMM that
#   records every call it receives (tests/tools/api_fake.c).
#   Checks the answers (status, JSON shapes, fault messages), the calls the
#   VMM saw, the socket's mode, refusal of a socket in use, removal of a
#   stale one, the clean stop, and (as root) the same as an unprivileged user
#   plus the refusal of another user's connection.
#   Prints one line per check and "N passed, M failed"; exit 1 on a failure.
set -u
FAKE=${1:-build/tests/api_fake}
case $FAKE in /*) ;; *) FAKE=$PWD/$FAKE ;; esac
[ -x "$FAKE" ] || { echo "test_api: $FAKE not built (make build/tests/api_fake)" >&2; exit 1; }
for tool in curl python3; do
    command -v $tool >/dev/null || { echo "test_api: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done

T=$(mktemp -d /tmp/condo-api.XXXXXX)
chmod 711 "$T" # the unprivileged part reaches its own directory inside
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

pass=0
fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

# start_fake SOCKET LOG [WRAPPER...]: starts the fake, waits for "ready"
# (at most 10 s: a hang is a failure, not a wait forever); sets FAKE_PID.
start_fake() {
    local sock=$1 log=$2
    shift 2
    "$@" "$FAKE" "$sock" "$log" >"$T/fake.out" 2>"$T/fake.err" &
    FAKE_PID=$!
    PIDS+=("$FAKE_PID")
    for _ in $(seq 100); do
        grep -q ready "$T/fake.out" 2>/dev/null && return 0
        kill -0 "$FAKE_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# api METHOD PATH [BODY]: one request; CODE = status, RESP = body.
api() {
    local args=(-s -o "$T/resp" -w '%{http_code}' -X "$1" --unix-socket "$API_SOCKET")
    [ $# -ge 3 ] && args+=(--data "$3")
    CODE=$(curl "${args[@]}" "http://localhost$2")
    RESP=$(cat "$T/resp" 2>/dev/null)
}

# expect WHAT CODE: the last request's status.
expect() {
    if [ "$CODE" = "$2" ]; then ok "$1 -> $2"; else bad "$1 -> $CODE, wanted $2: $RESP"; fi
}

# json EXPR: evaluates a Python expression on the last response (as j).
json() {
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
        "$T/resp" "$1" 2>/dev/null
}

# jcheck WHAT EXPR
jcheck() {
    if json "$2"; then ok "$1"; else bad "$1: $2 on $RESP"; fi
}

# fault WHAT CODE TEXT: the status, and a body that is exactly
# {"fault_message": "..."} with TEXT in the message.
fault() {
    if [ "$CODE" = "$2" ] && python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if list(j) == ["fault_message"] and sys.argv[2] in j["fault_message"] else 1)' \
        "$T/resp" "$3" 2>/dev/null; then
        ok "$1 -> $2 \"$3\""
    else
        bad "$1 -> $CODE $RESP, wanted $2 with \"$3\""
    fi
}

# logged WHAT LINE: the fake VMM received this call.
logged() {
    if grep -qxF -- "$2" "$T/calls.log"; then ok "$1"; else bad "$1: no line '$2' in calls.log:
$(cat "$T/calls.log")"; fi
}

API_SOCKET="$T/firecracker.socket"
if start_fake "$API_SOCKET" "$T/calls.log"; then ok "api_fake listens on $API_SOCKET"; else
    bad "api_fake did not start: $(cat "$T/fake.err")"; echo "$pass passed, $fail failed"; exit 1; fi

mode=$(stat -c %a "$API_SOCKET")
[ "$mode" = 600 ] && ok "socket mode 0600" || bad "socket mode $mode, wanted 600"
[ -S "$API_SOCKET" ] && ok "the path is a socket" || bad "the path is not a socket"

# ---- Firecracker's getting-started guide, request for request ----
LOGFILE="./firecracker.log"
CODE=$(curl -s -o "$T/resp" -w '%{http_code}' -X PUT --unix-socket "${API_SOCKET}" \
    --data "{
        \"log_path\": \"${LOGFILE}\",
        \"level\": \"Debug\",
        \"show_level\": true,
        \"show_log_origin\": true
    }" \
    "http://localhost/logger"); RESP=$(cat "$T/resp")
expect "guide: PUT /logger" 204

KERNEL="./vmlinux-6.1.102"
KERNEL_BOOT_ARGS="console=ttyS0 reboot=k panic=1"
CODE=$(curl -s -o "$T/resp" -w '%{http_code}' -X PUT --unix-socket "${API_SOCKET}" \
    --data "{
        \"kernel_image_path\": \"${KERNEL}\",
        \"boot_args\": \"${KERNEL_BOOT_ARGS}\"
    }" \
    "http://localhost/boot-source"); RESP=$(cat "$T/resp")
expect "guide: PUT /boot-source" 204

ROOTFS="./ubuntu-24.04.ext4"
CODE=$(curl -s -o "$T/resp" -w '%{http_code}' -X PUT --unix-socket "${API_SOCKET}" \
    --data "{
        \"drive_id\": \"rootfs\",
        \"path_on_host\": \"${ROOTFS}\",
        \"is_root_device\": true,
        \"is_read_only\": false
    }" \
    "http://localhost/drives/rootfs"); RESP=$(cat "$T/resp")
expect "guide: PUT /drives/rootfs" 204

FC_MAC="06:00:AC:10:00:02"
TAP_DEV="tap0"
CODE=$(curl -s -o "$T/resp" -w '%{http_code}' -X PUT --unix-socket "${API_SOCKET}" \
    --data "{
        \"iface_id\": \"net1\",
        \"guest_mac\": \"$FC_MAC\",
        \"host_dev_name\": \"$TAP_DEV\"
    }" \
    "http://localhost/network-interfaces/net1"); RESP=$(cat "$T/resp")
expect "guide: PUT /network-interfaces/net1" 204

api GET /
expect "GET / before start" 200
jcheck "GET / says Not started, app_name condo" \
    "j['state'] == 'Not started' and j['app_name'] == 'condo' and j['id'] == 'fake-vm' and j['vmm_version'] == '0.0.0-fake'"

CODE=$(curl -s -o "$T/resp" -w '%{http_code}' -X PUT --unix-socket "${API_SOCKET}" \
    --data "{
        \"action_type\": \"InstanceStart\"
    }" \
    "http://localhost/actions"); RESP=$(cat "$T/resp")
expect "guide: PUT /actions InstanceStart" 204

logged "VMM saw PUT /logger" "PUT /logger log_path=./firecracker.log level=3"
logged "VMM saw PUT /boot-source" "PUT /boot-source kernel=./vmlinux-6.1.102 boot_args=console=ttyS0 reboot=k panic=1"
logged "VMM saw PUT /drives/rootfs" "PUT /drives/{id} drive_id=rootfs path_on_host=./ubuntu-24.04.ext4 root=1 ro=0"
logged "VMM saw PUT /network-interfaces/net1" "PUT /network-interfaces/{id} iface_id=net1 host_dev_name=tap0 guest_mac=06:00:ac:10:00:02"
logged "VMM saw InstanceStart" "PUT /actions action_type=InstanceStart"

api GET /
jcheck "GET / says Running" "j['state'] == 'Running'"
api GET /version
jcheck "GET /version" "j == {'firecracker_version': '0.0.0-fake'}"
api GET /machine-config
expect "GET /machine-config" 200
jcheck "machine-config defaults 1 vCPU, 128 MiB" \
    "j['vcpu_count'] == 1 and j['mem_size_mib'] == 128 and j['smt'] is False and j['huge_pages'] == 'None'"
api GET /vm/config
expect "GET /vm/config" 200
jcheck "vm/config has the guide's drive, NIC and boot source" \
    "j['drives'][0]['drive_id'] == 'rootfs' and j['drives'][0]['path_on_host'] == './ubuntu-24.04.ext4' and j['drives'][0]['is_root_device'] is True and j['network-interfaces'][0]['guest_mac'] == '06:00:ac:10:00:02' and j['boot-source']['boot_args'] == 'console=ttyS0 reboot=k panic=1' and j['machine-config']['vcpu_count'] == 1"

# ---- what the VMM refuses after the start: Firecracker's 400, condo's 409 ----
api PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256}'
fault "PUT /machine-config after start" 400 "not supported after starting the microVM"
api PUT /drives/data '{"drive_id": "data", "path_on_host": "/d.img", "is_root_device": false}'
fault "PUT /drives after start" 400 "not supported after starting"
api PUT /condo/net '{"iface_id": "net2", "spec": "user"}'
fault "PUT /condo/net after start" 409 "not supported after starting"

# ---- live changes ----
api PATCH /drives/rootfs '{"drive_id": "rootfs", "rate_limiter": {"bandwidth": {"size": 1048576, "refill_time": 1000}, "ops": {"size": 100, "refill_time": 1000}}}'
expect "PATCH /drives/rootfs rate_limiter (live)" 204
logged "VMM saw the new rate limiter" "PATCH /drives/{id} drive_id=rootfs rate_limiter=bw:1048576/1000ms,ops:100/1000ms"
api PATCH /drives/nope '{"drive_id": "nope", "rate_limiter": {}}'
fault "PATCH an unknown drive" 400 "drive nope does not exist"
api PATCH /network-interfaces/net1 '{"iface_id": "net1", "rx_rate_limiter": {"ops": {"size": 50, "refill_time": 100}}}'
expect "PATCH /network-interfaces/net1 (live)" 204
api PUT /condo/cpu-limit '{"cpu_limit_pct": 25, "cpu_weight": 200}'
expect "PUT /condo/cpu-limit" 204
api PATCH /condo/cpu-limit '{"cpu_limit_pct": 150}'
fault "PATCH /condo/cpu-limit beyond the vCPUs" 400 "more than the VM's 1 vCPUs"
api PATCH /condo/cpu-limit '{"cpu_limit_pct": 50}'
expect "PATCH /condo/cpu-limit" 204

api GET /condo/status
expect "GET /condo/status" 200
jcheck "status: state, pid, figures, per-disk and per-NIC counters" \
    "j['state'] == 'running' and j['pid'] == $FAKE_PID and j['rss_bytes'] > 0 and j['vcpus'] == 1 and j['mem_size_mib'] == 128 and j['cpu_limit_pct'] == 50 and j['cpu_weight'] == 200 and j['disks'][0]['drive_id'] == 'rootfs' and j['disks'][0]['read_bytes'] == 4096 and j['nics'][0]['iface_id'] == 'net1' and 'cpu_user_ms' in j and 'uptime_ms' in j"

# ---- the snapshot guide ----
curl_fc() { # the snapshot guide's form: -i, Accept and Content-Type headers
    CODE=$(curl -s -o "$T/resp" -w '%{http_code}' --unix-socket "$API_SOCKET" -X "$1" "http://localhost$2" \
        -H 'Accept: application/json' -H 'Content-Type: application/json' -d "$3")
    RESP=$(cat "$T/resp")
}
curl_fc PUT /snapshot/create '{
            "snapshot_type": "Full",
            "snapshot_path": "./snapshot_file",
            "mem_file_path": "./mem_file"
    }'
fault "snapshot create while running" 400 "must be paused"
curl_fc PATCH /vm '{
            "state": "Paused"
    }'
expect "guide: PATCH /vm Paused" 204
api GET /
jcheck "GET / says Paused" "j['state'] == 'Paused'"
curl_fc PUT /snapshot/create '{
            "snapshot_type": "Full",
            "snapshot_path": "./snapshot_file",
            "mem_file_path": "./mem_file"
    }'
expect "guide: PUT /snapshot/create" 204
logged "VMM saw the snapshot" "PUT /snapshot/create type=Full snapshot_path=./snapshot_file mem_file_path=./mem_file"
curl_fc PATCH /vm '{
            "state": "Resumed"
    }'
expect "guide: PATCH /vm Resumed" 204
curl_fc PUT /snapshot/load '{
            "snapshot_path": "./snapshot_file",
            "mem_backend": {
                "backend_path": "./mem_file",
                "backend_type": "File"
            },
            "track_dirty_pages": true,
            "resume_vm": false
    }'
fault "snapshot load into a started VM" 400 "not supported after starting"
logged "VMM saw the load with its memory file" "PUT /snapshot/load snapshot_path=./snapshot_file mem_backend=File mem_path=./mem_file resume_vm=0 overrides=0"

# ---- bad requests never reach the VMM ----
lines=$(wc -l <"$T/calls.log")
api PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256, "cpu_count": 1}'
fault "unknown field" 400 "unknown field \`cpu_count\`"
api PUT /machine-config '{"vcpu_count": "two", "mem_size_mib": 256}'
fault "wrong type" 400 "\`vcpu_count\` must be an integer, not a string"
api PUT /machine-config '{"vcpu_count": 64, "mem_size_mib": 256}'
fault "out of range" 400 "from 1 to 32, not 64"
api PUT /actions '{"action_type": "InstanceStart"'
fault "truncated JSON" 400 "not valid JSON"
api PUT /actions "$(python3 -c 'print("["*5000 + "]"*5000)')"
fault "deep nesting" 400 "maximum parsing depth"
api PUT /actions
fault "PUT without a body" 400 "Empty PUT request."
api GET /nowhere
fault "unknown path" 400 "Invalid request method and/or path: GET /nowhere."
api DELETE /drives/rootfs
fault "unknown method" 400 "(allowed: PUT, PATCH)"
api PUT /drives/root-fs '{}'
fault "bad id" 400 "API Resource IDs can only contain alphanumeric characters and underscores."
api PUT /network-interfaces/net1 '{"iface_id": "net9", "host_dev_name": "tap0"}'
fault "id mismatch" 400 "The id from the path [net1] does not match the id from the body [net9]!"
python3 -c 'print("{\"kernel_image_path\": \"" + "k"*60000 + "\"}")' >"$T/big.json"
CODE=$(curl -s -o "$T/resp" -w '%{http_code}' -X PUT --unix-socket "$API_SOCKET" --data @"$T/big.json" http://localhost/boot-source)
RESP=$(cat "$T/resp")
fault "a 60 kB body" 400 "larger than the limit of 51200 bytes"
printf '{"action_type": "Instance\0Start"}' >"$T/nul.json"
CODE=$(curl -s -o "$T/resp" -w '%{http_code}' -X PUT --unix-socket "$API_SOCKET" --data-binary @"$T/nul.json" http://localhost/actions)
RESP=$(cat "$T/resp")
fault "a NUL byte" 400 "not valid JSON"
now=$(wc -l <"$T/calls.log")
[ "$now" = "$lines" ] && ok "none of the bad requests reached the VMM" || bad "bad requests reached the VMM: $(tail -n +$((lines + 1)) "$T/calls.log")"

# ---- the socket: in use, other users ----
"$FAKE" "$API_SOCKET" "$T/other.log" >"$T/second.out" 2>"$T/second.err"
rc=$?
if [ $rc = 2 ] && grep -q "is in use" "$T/second.err"; then ok "a second server on the same socket is refused (exit 2)"; else
    bad "second server: exit $rc, $(cat "$T/second.err")"; fi
api GET /
expect "the first server still answers" 200

if [ "$(id -u)" = 0 ]; then
    if setpriv --reuid=nobody --regid=nogroup --clear-groups curl -s -o /dev/null --unix-socket "$API_SOCKET" http://localhost/ 2>/dev/null; then
        bad "another user could connect to the 0600 socket"
    else
        ok "another user cannot connect to the 0600 socket"
    fi
fi

# ---- PUT /condo/stop: answered, then the process ends and the socket goes ----
api PUT /condo/stop '{"timeout_s": 5}'
expect "PUT /condo/stop" 204
logged "VMM saw the stop" "PUT /condo/stop timeout_s=5 force=0"
rc=0
for _ in $(seq 100); do kill -0 "$FAKE_PID" 2>/dev/null || break; sleep 0.1; done
wait "$FAKE_PID"; rc=$?
[ $rc = 0 ] && ok "the process exits 0 after the stop" || bad "the process exited $rc"
[ ! -e "$API_SOCKET" ] && ok "the socket file is removed" || bad "the socket file is still there"

# ---- a stale socket (its process was killed) is replaced ----
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$API_SOCKET"
if start_fake "$API_SOCKET" "$T/calls2.log"; then
    api GET /
    expect "a stale socket is replaced and answers" 200
    kill -TERM "$FAKE_PID"
    wait "$FAKE_PID"; rc=$?
    [ $rc = 0 ] && [ ! -e "$API_SOCKET" ] && ok "SIGTERM: exit 0, socket removed" || bad "SIGTERM: exit $rc, socket $(ls -l "$API_SOCKET" 2>&1)"
else
    bad "api_fake did not start over a stale socket: $(cat "$T/fake.err")"
fi
echo keep >"$T/plain"
"$FAKE" "$T/plain" "$T/other.log" 2>"$T/plain.err"
rc=$?
if [ $rc = 2 ] && grep -q "not a socket" "$T/plain.err" && [ "$(cat "$T/plain")" = keep ]; then
    ok "a regular file at the path is refused and left alone"
else
    bad "regular file: exit $rc, $(cat "$T/plain.err")"
fi

# ---- the same without root ----
if [ "$(id -u)" = 0 ]; then
    U="$T/nobody"
    mkdir "$U" && chown nobody:nogroup "$U" && chmod 0700 "$U"
    API_SOCKET="$U/api.sock"
    if start_fake "$API_SOCKET" "$U/calls.log" setpriv --reuid=nobody --regid=nogroup --clear-groups; then
        owner=$(stat -c '%U %a' "$API_SOCKET")
        [ "$owner" = "nobody 600" ] && ok "unprivileged: socket nobody's, 0600" || bad "unprivileged: socket $owner"
        code=$(setpriv --reuid=nobody --regid=nogroup --clear-groups curl -s -o /dev/null -w '%{http_code}' \
            -X PUT --unix-socket "$API_SOCKET" --data '{"action_type": "FlushMetrics"}' http://localhost/actions)
        [ "$code" = 204 ] && ok "unprivileged: the owner drives it" || bad "unprivileged: PUT /actions -> $code"
        code=$(setpriv --reuid=nobody --regid=nogroup --clear-groups curl -s -o "$U/resp" -w '%{http_code}' \
            --unix-socket "$API_SOCKET" http://localhost/condo/status)
        cp "$U/resp" "$T/resp"
        CODE=$code; RESP=$(cat "$T/resp")
        jcheck "unprivileged: status names its pid" "j['pid'] == $FAKE_PID"
        code=$(setpriv --reuid=nobody --regid=nogroup --clear-groups curl -s -o /dev/null -w '%{http_code}' \
            -X PUT --unix-socket "$API_SOCKET" http://localhost/condo/stop)
        [ "$code" = 204 ] && ok "unprivileged: PUT /condo/stop" || bad "unprivileged: stop -> $code"
        wait "$FAKE_PID"; rc=$?
        [ $rc = 0 ] && [ ! -e "$API_SOCKET" ] && ok "unprivileged: exit 0, socket removed" || bad "unprivileged: exit $rc"
    else
        bad "unprivileged api_fake did not start: $(cat "$T/fake.err")"
    fi
else
    ok "ran as uid $(id -u): everything above was unprivileged"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
