#!/usr/bin/env bash
# Footprint figures for BENCHMARKS.md: the CLI's peak memory over 1,000 calls, the dependency
# count and clean build time of a hello-world on the facade against one on reqwest + tokio +
# serde_json alone, and the warm time of `cargo xtask codegen --check`.
#
#   benches/footprint/footprint.sh
#
# Clean builds use fresh target directories (but the shared download cache), one at a time.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
here=benches/footprint
work=$(mktemp -d)
trap 'kill "${mock_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

now() { date +%s.%N; }

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(free -h | awk '/Mem:/ {print $2}') RAM"
echo "rustc: $(rustc --version)"

echo "== CLI peak RSS, 1,000 calls against the fake server (release build)"
cargo build --quiet --release -p dingtalk-conference-cli -p dingtalk-conference-mock
target/release/dingtalk-conference-mock --port 0 >"$work/mock.out" 2>/dev/null &
mock_pid=$!
for _ in $(seq 1 100); do grep -q '^listening on ' "$work/mock.out" && break; sleep 0.1; done
base_url=$(sed -n 's/^listening on //p' "$work/mock.out")
/usr/bin/time -v target/release/dingtalk-conference --base-url "$base_url" \
    --app-key mock-app-key --app-secret mock-app-secret \
    info --repeat 1000 6323d7568777190142ab9d10 >/dev/null 2>"$work/time.txt"
grep -E 'Maximum resident set size|Elapsed' "$work/time.txt"
counters=$(curl -fsS --noproxy '*' "$base_url/__mock/counters")
echo "fake server counters: $counters"

echo "== hello-world: dependencies and clean build (dev profile)"
for crate in hello-floor hello-facade; do
    deps=$(cargo tree --quiet --manifest-path "$here/$crate/Cargo.toml" -e normal,build --prefix none \
        | sed 's/ (\*)$//; s/ (proc-macro)$//' | sort -u | wc -l)
    start=$(now)
    CARGO_TARGET_DIR="$work/target-$crate" cargo build --quiet --manifest-path "$here/$crate/Cargo.toml"
    end=$(now)
    seconds=$(echo "$end - $start" | bc)
    echo "$crate: $deps crates (normal + build), clean build ${seconds}s"
    printf '%s %s\n' "$crate" "$seconds" >>"$work/builds"
done
awk '/hello-floor/ {f=$2} /hello-facade/ {c=$2} END {printf "build time ratio facade/floor: %.2f\n", c/f}' "$work/builds"

echo "== cargo xtask codegen --check, warm (10 runs)"
cargo xtask codegen --check >/dev/null 2>&1
start=$(now)
for _ in $(seq 1 10); do cargo xtask codegen --check >/dev/null 2>&1; done
end=$(now)
echo "mean: $(echo "($end - $start) / 10" | bc -l | cut -c1-5)s"
