#!/usr/bin/env bash
# A fleet on one Redis: BENCHMARKS.md, "A fleet on one Redis".
#
#   benches/fleet/run.sh
#
# PROCESSES worker processes (crates/dingtalk-conference/examples/fleet_worker.rs) each make
# CALLS queryConferenceInfo calls, CONCURRENCY at a time, across 20 conference ids (the fake
# server's 9 seeded conferences and 11 unknown ids, answered "not found"), against one fake
# DingTalk server enforcing QPS_LIMIT calls/s per app per API with tokens living LIFETIME s.
# Three runs: the fleet on one Redis; the same with Redis killed halfway; per-process caches
# and limiters (no Redis). Token fetches and throttled answers come from the fake server's
# counters. Needs redis-server (Debian: apt-get install redis-server) and curl.
#
# Two more runs, not in the default RUNS, for a third-party app (the fake server's suite, for
# its organisation) against a fake server started with --invalidate-previous-corp-token (each
# new corp token invalidates the earlier ones): "third-party", the fleet on one Redis, and
# "third-party-per-process", per-process caches, each process limited to its share of the
# budget (QPS_LIMIT / PROCESSES calls/s, at least 1) so that both runs last about as long.
# They print the tokens refused (400 InvalidAuthentication) and the corp token fetches:
#
#   RUNS="third-party third-party-per-process" benches/fleet/run.sh
#
# Two more, on a Redis Cluster of 6 nodes on loopback (3 masters, 3 replicas, formed with
# redis-cli --cluster create, cluster-node-timeout 500 ms): "cluster", the fleet through it;
# "cluster-killed", the same with the master serving the app's slot killed halfway (its replica
# takes over). Each run prints the calls per master before the end (INFO commandstats):
#
#   RUNS="fleet killed cluster cluster-killed" benches/fleet/run.sh
#
# Environment: PROCESSES (8), CALLS (250), CONCURRENCY (4), LIFETIME (10), MARGIN (0.2, the
# refresh margin in seconds), QPS_LIMIT (20), RUNS (which runs: "fleet killed per-process" by
# default; also "third-party third-party-per-process cluster cluster-killed"), FLEET_RATE_ALONE (unset: each process
# keeps the whole 20/s while Redis is away; N: N calls/s each), CARGO_TARGET_DIR (target).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

PROCESSES=${PROCESSES:-8}
CALLS=${CALLS:-250}
CONCURRENCY=${CONCURRENCY:-4}
LIFETIME=${LIFETIME:-10}
MARGIN=${MARGIN:-0.2}
QPS_LIMIT=${QPS_LIMIT:-20}
ids=(6323d7568777190142ab9d10 65c6f2a1e4b0c7d93a1f0e27 67d3a9c2f1e84b05d6a2c913
    66e1b4d7a9c3f20857e4b6a0 64f0c8e3b2a7d61945c0d8f1 68a2e5f0c7b9d43186f1a5c2
    6331a0b9e2d4c87f105b3e6d 6597c3e0b8d1a24f6c0e9b72 6579a1c4e6f2b03d8a5c7e14)
for i in $(seq 1 11); do ids+=("$(printf 'ffffffffffffffffffff%04d' "$i")"); done

command -v redis-server >/dev/null || { echo "needs redis-server (apt-get install redis-server)" >&2; exit 1; }
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY

release="${CARGO_TARGET_DIR:-target}/release"
cargo build --quiet --release -p dingtalk-conference-mock --bin dingtalk-conference-mock
cargo build --quiet --release -p dingtalk-conference --features redis --example fleet_worker

work=$(mktemp -d)
mock_pid= redis_pid= cluster_pids=() cluster_ports=()
stop() {
    for pid in $mock_pid $redis_pid "${cluster_pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    mock_pid= redis_pid= cluster_pids=() cluster_ports=()
}

free_port() {
    # A loopback port that is free, and (for a cluster node) whose bus port, +10000, is too.
    python3 -c 'import socket, random
while True:
    p = random.randint(20000, 45000); ok = True
    for q in (p, p + 10000):
        s = socket.socket()
        try: s.bind(("127.0.0.1", q))
        except OSError: ok = False
        s.close()
    if ok: print(p); break'
}

start_cluster() {
    local dir
    for i in 1 2 3 4 5 6; do
        local port
        port=$(free_port)
        dir="$work/cluster/$port"; mkdir -p "$dir"
        redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \
            --cluster-node-timeout 500 --cluster-require-full-coverage no \
            --repl-diskless-sync yes --repl-diskless-sync-delay 0 \
            --save '' --appendonly no --dir "$dir" >"$dir/out" 2>&1 &
        cluster_pids+=($!) cluster_ports+=("$port")
    done
    for port in "${cluster_ports[@]}"; do
        for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
    done
    local nodes=()
    for port in "${cluster_ports[@]}"; do nodes+=("127.0.0.1:$port"); done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$work/cluster/create.out"
    for _ in $(seq 1 200); do
        local ok=1
        for port in "${cluster_ports[@]}"; do
            redis-cli -p "$port" cluster info | grep -q 'cluster_state:ok' || ok=0
            redis-cli -p "$port" info replication | grep -qE 'role:master|master_link_status:up' || ok=0
        done
        ((ok)) && redis-cli --cluster check "${nodes[0]}" | grep -q 'All nodes agree' && break
        sleep 0.1
    done
    redis_url="cluster:$(printf 'redis://127.0.0.1:%s,' "${cluster_ports[@]}")"
    redis_url=${redis_url%,}
}

# The node (index into cluster_ports) serving the internal app's keys as master.
app_master() {
    local tag="{dingtalk:${base_url#http://}:mock-app-key}" slot i
    slot=$(redis-cli -p "${cluster_ports[0]}" cluster keyslot "$tag")
    for i in "${!cluster_ports[@]}"; do
        redis-cli -p "${cluster_ports[$i]}" cluster nodes | awk -v s="$slot" '
            $3 ~ /myself/ && $3 ~ /master/ { for (f = 9; f <= NF; f++) { split($f, r, "-"); if (r[2] == "") r[2] = r[1]; if (s >= r[1] && s <= r[2]) found = 1 } }
            END { exit !found }' && { echo "$i"; return; }
    done
}

# Calls served per master: EVALSHA and EVAL counts from INFO commandstats.
cluster_load() {
    local port
    for port in "${cluster_ports[@]}"; do
        redis-cli -p "$port" info replication 2>/dev/null | grep -q role:master || continue
        printf '  node %s: %s\n' "$port" "$(redis-cli -p "$port" info commandstats | grep -E '^cmdstat_(evalsha|eval):' | tr -d '\r' | tr '\n' ' ')"
    done
}
trap 'stop; rm -rf "$work"' EXIT

start_servers() {
    "$release"/dingtalk-conference-mock --port 0 --token-lifetime "$LIFETIME" --qps-limit "$QPS_LIMIT" \
        "$@" >"$work/mock.out" 2>"$work/mock.err" &
    mock_pid=$!
    redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
        >"$work/redis.out" 2>&1 &
    redis_pid=$!
    for _ in $(seq 1 100); do
        grep -q '^listening on ' "$work/mock.out" && redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    base_url=$(sed -n 's/^listening on //p' "$work/mock.out")
}

run() {
    local name=$1 redis_url=$2 kill_after=${3:-}
    local mock_args=() app=internal rate=
    if [[ $name == third-party* ]]; then
        mock_args=(--invalidate-previous-corp-token) app=third-party
        [[ $redis_url == none ]] && rate=$(( QPS_LIMIT / PROCESSES > 0 ? QPS_LIMIT / PROCESSES : 1 ))
    fi
    start_servers "${mock_args[@]}"
    [[ $redis_url == redis ]] && redis_url="redis://127.0.0.1:$redis_port"
    if [[ $redis_url == cluster ]]; then
        kill "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=
        start_cluster
    fi
    local started pids=()
    started=$(date +%s.%N)
    for p in $(seq 1 "$PROCESSES"); do
        FLEET_APP=$app FLEET_RATE=$rate \
        "$release"/examples/fleet_worker "$base_url" "$redis_url" "$CALLS" "$CONCURRENCY" "$MARGIN" "${ids[@]}" \
            >"$work/$name.$p.json" 2>"$work/$name.$p.err" &
        pids+=($!)
    done
    if [[ -n $kill_after && ${#cluster_ports[@]} -gt 0 ]]; then
        sleep "$kill_after"
        local victim
        victim=$(app_master)
        kill -9 "${cluster_pids[$victim]}"; wait "${cluster_pids[$victim]}" 2>/dev/null || true
        echo "($name: the app's master, 127.0.0.1:${cluster_ports[$victim]}, killed after ${kill_after}s)"
        unset 'cluster_pids[victim]' 'cluster_ports[victim]'
        cluster_pids=("${cluster_pids[@]}") cluster_ports=("${cluster_ports[@]}")
    elif [[ -n $kill_after ]]; then
        sleep "$kill_after"
        kill -9 "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=
        echo "($name: redis-server killed after ${kill_after}s)"
    fi
    local failed=0
    for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
    local elapsed
    elapsed=$(python3 -c "import time; print(round(time.time() - $started, 2))")
    curl -fsS "$base_url/__mock/counters" >"$work/$name.counters.json"
    ((${#cluster_ports[@]})) && { echo "($name: scripts run per master)"; cluster_load; }
    python3 - "$name" "$elapsed" "$failed" "$LIFETIME" "$work" "$PROCESSES" <<'PY'
import json, sys
name, elapsed, failed, lifetime, work, processes = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], int(sys.argv[6])
runs = [json.load(open(f"{work}/{name}.{p}.json")) for p in range(1, processes + 1)]
c = json.load(open(f"{work}/{name}.counters.json"))
answered = sum(r["answered"] for r in runs)
calls = sum(r["calls"] for r in runs)
print(f"{name}: {calls} calls, {answered} answered, {sum(r['throttled'] for r in runs)} failed throttled, "
      f"{sum(r['timed_out'] for r in runs)} timed out, {sum(r['other_errors'] for r in runs)} other errors, "
      f"{failed} processes failed; slowest call {max(r['slowest_call_ms'] for r in runs)} ms")
fetches = c['corp_token_requests'] if name.startswith('third-party') else c['token_requests']
print(f"  fake server: {c['conference_requests']} conference requests, {c['qps_throttled']} throttled answers, "
      f"{fetches} token fetches (bound: elapsed/lifetime + 1 = {elapsed / lifetime + 1:.1f})")
if name.startswith('third-party'):
    failed_calls = calls - answered
    print(f"  third-party, corp tokens invalidating each other: {c.get('rejected_tokens', 0)} rejected-token answers "
          f"(400 InvalidAuthentication) for {c['corp_token_requests']} corp token fetches; "
          f"{answered} calls answered, {failed_calls} failed")
print(f"  elapsed {elapsed:.2f} s; achieved {answered / elapsed:.2f} answered calls/s "
      f"({answered / elapsed / 20 * 100:.0f} % of 20/s)")
PY
    stop
}

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$PROCESSES processes x $CALLS calls, $CONCURRENCY at a time each; token lifetime ${LIFETIME}s, margin ${MARGIN}s; --qps-limit $QPS_LIMIT"
RUNS=${RUNS:-fleet killed per-process}
echo "FLEET_RATE_ALONE=${FLEET_RATE_ALONE:-unset}"
[[ " $RUNS " == *" fleet "* ]] && run fleet redis
expected=$(python3 -c "print(round($PROCESSES * $CALLS / ($QPS_LIMIT * 0.95) / 2, 1))")
[[ " $RUNS " == *" killed "* ]] && run fleet-redis-killed redis "$expected"
[[ " $RUNS " == *" per-process "* ]] && run per-process none
[[ " $RUNS " == *" third-party "* ]] && run third-party redis
[[ " $RUNS " == *" third-party-per-process "* ]] && run third-party-per-process none
[[ " $RUNS " == *" cluster "* ]] && run cluster cluster
[[ " $RUNS " == *" cluster-killed "* ]] && run cluster-killed cluster "$expected"
true
