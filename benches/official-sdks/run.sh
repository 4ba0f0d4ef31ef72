#!/usr/bin/env bash
# This SDK (the Rust facade) against DingTalk's official SDKs, alibabacloud-dingtalk (PyPI) and
# @alicloud/dingtalk (npm), on the same fake DingTalk server, in one run: BENCHMARKS.md,
# "Against the official SDKs".
#
#   benches/official-sdks/run.sh
#
# Needs the Rust toolchain, python3 (3.11) and node (20) with npm; PyPI and npm are reached to
# install the pinned official SDKs (python/requirements.txt, node/package-lock.json) into
# scratch directories under the target directory. python3-venv is installed with apt-get when
# missing (.ci/venv.sh).
#
# For each client, in one process each:
#   (a) sequential: WARMUP calls (not measured), then CALLS queryConferenceInfo calls one after
#       another; the token is fetched once before, through the same SDK's oauth2 client;
#   (b) the process's peak RSS (VmHWM from /proc/self/status, read by each client at its end);
#   (c) burst: BURST_CALLS calls, BURST_CONCURRENCY at a time, against a fake server started
#       with --qps-limit QPS_LIMIT (skipped, with a message, while the fake server lacks the
#       flag). Calls spent and throttled answers come from the fake server's counters.
# The sequential runs are repeated ROUNDS times, the clients taking turns; the table shows the
# median of the rounds.
#
# Environment: CALLS (2000), WARMUP (200), ROUNDS (5), BURST_CALLS (2000),
# BURST_CONCURRENCY (50), QPS_LIMIT (20; `none`: the burst without a rate limit),
# CARGO_TARGET_DIR (target), MOCK_BIN (a fake server binary to use instead of building this
# tree's, e.g. one built from another branch).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
here=benches/official-sdks
# shellcheck source=../../.ci/venv.sh
source .ci/venv.sh

CALLS=${CALLS:-2000}
WARMUP=${WARMUP:-200}
ROUNDS=${ROUNDS:-5}
BURST_CALLS=${BURST_CALLS:-2000}
BURST_CONCURRENCY=${BURST_CONCURRENCY:-50}
QPS_LIMIT=${QPS_LIMIT:-20}
# The seeded conference every client queries (a started one, with members).
CONFERENCE_ID=6323d7568777190142ab9d10

target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target/official-sdks"
scratch=$(cd "$target/official-sdks" && pwd)
work=$(mktemp -d)
mock_pid=
stop_mock() {
    if [[ -n $mock_pid ]]; then
        kill "$mock_pid" 2>/dev/null || true
        wait "$mock_pid" 2>/dev/null || true
        mock_pid=
    fi
}
trap 'stop_mock; rm -rf "$work"' EXIT
# Loopback only: no proxy from the environment may carry these requests (the official SDKs
# read HTTP_PROXY themselves).
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rustc: $(rustc --version); python: $(python3 --version 2>&1); node: $(node --version)"

echo "== installing the official SDKs (pinned) into $scratch"
venv="$scratch/venv"
ensure_venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/python/requirements.txt"
node_dir="$scratch/node"
mkdir -p "$node_dir"
cp "$here/node/package.json" "$here/node/package-lock.json" "$node_dir/"
if ! cmp -s "$here/node/package-lock.json" "$node_dir/node_modules/.package-lock.json.installed" 2>/dev/null; then
    npm ci --prefix "$node_dir" --no-audit --no-fund --loglevel=error >/dev/null
    cp "$here/node/package-lock.json" "$node_dir/node_modules/.package-lock.json.installed"
fi
# bench.js resolves the SDK from the scratch node_modules.
cp "$here/node/bench.js" "$node_dir/bench.js"
echo "python: $("$venv/bin/python" -m pip show alibabacloud-dingtalk | sed -n 's/^Version: /alibabacloud-dingtalk /p')," \
    "tea-openapi $("$venv/bin/python" -m pip show alibabacloud-tea-openapi | sed -n 's/^Version: //p')"
node_version() { node -p "require('$node_dir/node_modules/$1/package.json').version"; }
echo "node: @alicloud/dingtalk $(node_version @alicloud/dingtalk), openapi-client $(node_version @alicloud/openapi-client)"

echo "== building the fake server and the Rust bench client (release)"
if [[ -n ${MOCK_BIN:-} ]]; then
    mock=$MOCK_BIN
    echo "fake server: $mock (MOCK_BIN)"
else
    cargo build --quiet --release -p dingtalk-conference-mock --bin dingtalk-conference-mock
    mock="$target/release/dingtalk-conference-mock"
fi
cargo build --quiet --release -p dingtalk-conference --example bench_calls
clients=(rust python node)
# client_cmd CLIENT: sets cmd to the command that runs CLIENT's bench.
client_cmd() {
    case $1 in
        rust) cmd=("$target/release/examples/bench_calls") ;;
        python) cmd=("$venv/bin/python" "$here/python/bench.py") ;;
        node) cmd=(node "$node_dir/bench.js") ;;
    esac
}

# start_mock ARGS...: starts the fake server, sets base_url; false if it does not start.
start_mock() {
    stop_mock
    # Fresh files for each server: the redirection happens in the child, after this shell may
    # already be reading, and a previous server's address must never be read instead.
    rm -f "$work/mock.out" "$work/mock.err"
    : >"$work/mock.out"
    "$mock" --port 0 "$@" >>"$work/mock.out" 2>"$work/mock.err" &
    mock_pid=$!
    base_url=
    for _ in $(seq 1 100); do
        if grep -q '^listening on ' "$work/mock.out"; then
            base_url=$(sed -n 's/^listening on //p' "$work/mock.out")
            return 0
        fi
        kill -0 "$mock_pid" 2>/dev/null || break
        sleep 0.1
    done
    wait "$mock_pid" 2>/dev/null || true
    mock_pid=
    return 1
}
counters() { curl -fsS --noproxy '*' "$base_url/__mock/counters"; }
# field JSON KEY: a field of a client's report.
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# run_client CLIENT MODE CALLS EXTRA OUT: one client process; its report and the counters' deltas in
# OUT (JSON), checked: each call is one conference request, one token request in all.
run_client() {
    local who=$1 mode=$2 calls=$3 extra=$4 out=$5 before after report cmd
    client_cmd "$who"
    before=$(counters)
    report=$("${cmd[@]}" "$mode" "$base_url" "$CONFERENCE_ID" "$calls" "$extra")
    after=$(counters)
    python3 - "$report" "$before" "$after" >"$out" <<'EOF'
import json, sys
report, before, after = (json.loads(a) for a in sys.argv[1:4])
report["server"] = {k: after[k] - before.get(k, 0) for k in after if isinstance(after[k], int)}
print(json.dumps(report))
EOF
}

echo "== (a, b) sequential: $CALLS calls after $WARMUP warm-up calls, $ROUNDS rounds"
start_mock || { echo "the fake server did not start:"; cat "$work/mock.err"; exit 1; }
for round in $(seq 1 "$ROUNDS"); do
    # Take turns in a rotated order, so that no client always runs first (or last).
    order=("${clients[@]:$(((round - 1) % 3))}" "${clients[@]:0:$(((round - 1) % 3))}")
    for who in "${order[@]}"; do
        out="$work/seq-$who-$round.json"
        run_client "$who" sequential "$CALLS" "$WARMUP" "$out"
        python3 - "$out" "$((CALLS + WARMUP))" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1])); s = r["server"]
print(f"round {r['client']:>6}: {r['calls_per_s']:8.0f} calls/s,"
      f" {r['cpu_seconds'] / r['calls'] * 1e6:5.0f} µs CPU per call, peak RSS {r['peak_rss_kb']/1024:6.1f} MiB,"
      f" ok {r['ok']}, errors {r['throttled'] + r['other_errors']};"
      f" server: {s.get('conference_requests')} conference requests, {s.get('token_requests')} token requests")
if s.get("conference_requests") != int(sys.argv[2]) or s.get("token_requests") != 1 or r["ok"] != r["calls"]:
    sys.exit(f"{r['client']}: expected {sys.argv[2]} conference requests, 1 token request and no error")
EOF
    done
done

# QPS_LIMIT=none runs the burst on a server without a rate limit (a dry run of this step).
limit_args=(--qps-limit "$QPS_LIMIT")
[[ $QPS_LIMIT == none ]] && limit_args=()
echo "== (c) burst: $BURST_CALLS calls, $BURST_CONCURRENCY at a time, fake server with ${limit_args[*]:-no rate limit}"
burst=0
if start_mock "${limit_args[@]}"; then
    burst=1
    for who in "${clients[@]}"; do
        # A fresh server for each client: no client inherits another's rate window.
        start_mock "${limit_args[@]}"
        out="$work/burst-$who.json"
        run_client "$who" burst "$BURST_CALLS" "$BURST_CONCURRENCY" "$out"
        python3 - "$out" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1])); s = r["server"]
print(f"burst {r['client']:>6}: {s.get('conference_requests')} calls spent, ok {r['ok']},"
      f" throttled errors seen by the caller {r['throttled']}, other errors {r['other_errors']},"
      f" {r['seconds']:.2f} s, CPU {r['cpu_seconds']:.2f} s, peak RSS {r['peak_rss_kb']/1024:.1f} MiB; server counters: {s}")
EOF
    done
else
    echo "SKIPPED: the fake server refuses --qps-limit (it has no rate limit yet):"
    sed 's/^/  /' "$work/mock.err" | head -3
fi
stop_mock

echo "== results"
python3 - "$work" "$ROUNDS" "$burst" "$CALLS" "$WARMUP" "$BURST_CALLS" "$BURST_CONCURRENCY" "$QPS_LIMIT" <<'EOF'
import json, os, statistics, sys
work, rounds, burst = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
calls, warmup, burst_calls, conc, qps = sys.argv[4:9]
names = {"rust": "Rust facade (this SDK)", "python": "Python alibabacloud-dingtalk",
         "node": "Node @alicloud/dingtalk"}
THROTTLE_WORDS = ("throttl", "limited", "rejected")
median = statistics.median
seq = {who: [json.load(open(f"{work}/seq-{who}-{r}.json")) for r in range(1, rounds + 1)]
       for who in names}
rows = {}
for who in names:
    row = {
        "rate": median(r["calls_per_s"] for r in seq[who]),
        "cpu_us": median(r["cpu_seconds"] / r["calls"] * 1e6 for r in seq[who]),
        "rss": median(r["peak_rss_kb"] for r in seq[who]) / 1024,
    }
    path = f"{work}/burst-{who}.json"
    if burst and os.path.exists(path):
        b = json.load(open(path))
        s = b["server"]
        spent = s.get("conference_requests")
        # Throttled answers the client received: the server's own count when it keeps one
        # (qps_throttled);
        # otherwise every request answered that did not become a success (each request gets
        # one answer and no call of this run times out), with the other errors left at 0.
        named = [k for k in ("qps_throttled",) if k in s] or \
            [k for k in s if any(w in k for w in THROTTLE_WORDS)]
        if named:
            throttled, how = s[named[0]], f"the server's counter {named[0]}"
        else:
            throttled, how = spent - b["ok"] - b["other_errors"], "calls spent - successes - other errors"
        row.update(spent=spent, throttled=throttled, how=how, ok=b["ok"], seen=b["throttled"],
                   other=b["other_errors"], wall=b["seconds"], burst_cpu=b["cpu_seconds"],
                   burst_rss=b["peak_rss_kb"] / 1024)
    rows[who] = row

print(f"sequential: {calls} calls after {warmup} warm-up calls, median of {rounds} rounds;"
      f" burst: {burst_calls} calls, {conc} at a time, --qps-limit {qps}")
print("| client | sequential calls/s | client CPU per call | peak RSS |"
      " burst: calls spent | burst: throttled answers | burst: calls that succeeded | burst: wall time |")
print("|---|---|---|---|---|---|---|---|")
for who, name in names.items():
    r = rows[who]
    if "spent" in r:
        b = f"{r['spent']:,} | {r['throttled']:,} | {r['ok']:,} of {int(burst_calls):,} | {r['wall']:.2f} s"
    else:
        b = " | ".join(["awaits --qps-limit"] * 4)
    print(f"| {name} | {r['rate']:,.0f} | {r['cpu_us']:.0f} µs | {r['rss']:.1f} MiB | {b} |")
print()
print("calls/s in each round: " + "; ".join(
    f"{who} " + ", ".join(f"{r['calls_per_s']:,.0f}" for r in seq[who]) for who in names))
if burst:
    for who in names:
        r = rows[who]
        if "spent" in r:
            print(f"burst {who}: throttled answers from {r['how']}; throttled errors returned to the"
                  f" caller {r['seen']}, other errors {r['other']}; client CPU {r['burst_cpu']:.2f} s,"
                  f" peak RSS {r['burst_rss']:.1f} MiB")
print()
rust = rows["rust"]
ratio = lambda a, b: "n/a (0)" if not b else f"{a / b:.2f}"
for who in ("python", "node"):
    o = rows[who]
    # The same ratio within each round, where both clients met the same machine load.
    per_round = sorted(a["calls_per_s"] / b["calls_per_s"] for a, b in zip(seq["rust"], seq[who]))
    line = (f"Rust / {names[who]}: calls/s {ratio(rust['rate'], o['rate'])}"
            f" (round by round {per_round[0]:.2f}-{per_round[-1]:.2f}),"
            f" client CPU per call {ratio(rust['cpu_us'], o['cpu_us'])},"
            f" peak RSS {ratio(rust['rss'], o['rss'])}")
    if "spent" in rust and "spent" in o:
        line += (f"; burst: calls spent {ratio(rust['spent'], o['spent'])},"
                 f" throttled answers {ratio(rust['throttled'], o['throttled'])},"
                 f" successes {ratio(rust['ok'], o['ok'])}, wall time {ratio(rust['wall'], o['wall'])}")
    else:
        line += "; burst: awaits the fake server's --qps-limit"
    print(line)
EOF
