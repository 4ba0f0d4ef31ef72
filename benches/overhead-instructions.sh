#!/usr/bin/env bash
# Instructions per call on each side of the overhead bench, counted by callgrind: the figures
# BENCHMARKS.md §1 rests on, because they do not move with the machine's load.
#
#   benches/overhead-instructions.sh [RUNS]      (default 3 runs; needs valgrind)
#
# For each side (floor, generated, facade, default), each run counts:
#   - sequential: 2,000 calls minus 50 (BENCH_QUICK), over 1,950: the whole process, and the
#     client's threads alone (all but the fake server's runtime thread);
#   - 256 in flight: 4,096 calls minus 1,024, over 3,072: the client runtime's thread, which is
#     saturated there and sets the throughput, and the whole process.
# Prints one line per side and run, then the medians as a Markdown table.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=${1:-3}
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
bench=$(cargo bench -p dingtalk-conference --bench overhead --no-run 2>&1 |
    grep -o 'target/release/deps/overhead-[a-z0-9]*' | head -n1)
[[ -x $bench ]] || { echo "could not build the overhead bench" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

count() { # side label env...
    local side=$1 label=$2
    shift 2
    env BENCH_PROFILE="$side" "$@" valgrind --tool=callgrind --separate-threads=yes \
        --callgrind-out-file="$out/$side.$label" "$bench" >/dev/null 2>&1
}

for run in $(seq "$runs"); do
    for side in floor generated facade default; do
        count "$side" full
        count "$side" quick BENCH_QUICK=1
        count "$side" n1024 BENCH_PROFILE_IN_FLIGHT=256 BENCH_PROFILE_CALLS=1024
        count "$side" n4096 BENCH_PROFILE_IN_FLIGHT=256 BENCH_PROFILE_CALLS=4096
        python3 - "$out" "$side" "$run" <<'PY'
import glob, os, sys
out, side, run = sys.argv[1:]
def totals(label):
    found = {}
    for path in glob.glob(os.path.join(out, f"{side}.{label}-*")):
        thread = path.rsplit("-", 1)[1]
        for line in open(path):
            if line.startswith("totals:"):
                found[thread] = int(line.split()[1])
    return found
def per_call(small, large, calls):
    a, b = totals(small), totals(large)
    return {t: (b.get(t, 0) - a.get(t, 0)) / calls for t in set(a) | set(b)}
# Thread 01 is main (block_on), 02 the fake server's runtime, 03 the client's runtime.
seq = per_call("quick", "full", 1950)
par = per_call("n1024", "n4096", 3072)
print(f"{side} {run} seq_total={sum(seq.values()):.0f} "
      f"seq_client={sum(v for t, v in seq.items() if t != '02'):.0f} "
      f"par_total={sum(par.values()):.0f} par_client={par.get('03', 0):.0f}")
PY
        rm -f "$out"/*
    done
done | tee /dev/stderr | python3 -c '
import statistics, sys
rows = {}
for line in sys.stdin:
    side, _, *fields = line.split()
    for field in fields:
        name, value = field.split("=")
        rows.setdefault(side, {}).setdefault(name, []).append(float(value))
names = ["seq_total", "seq_client", "par_total", "par_client"]
print("\n| side | sequential, whole process | sequential, client | 256 in flight, whole process | 256 in flight, client thread |")
print("|---|---|---|---|---|")
for side, values in rows.items():
    cells = [f"{statistics.median(values[n]) / 1000:.1f} k" for n in names]
    print(f"| {side} | " + " | ".join(cells) + " |")
'
