#!/usr/bin/env bash
# Per-call cost of timing one function, side by side in one run:
# uninstrumented, gridprobe in its fast return mode (what auto picks for this
# C function: entry uprobe and uretprobe sharing the push after endbr64) and
# in safe mode (uprobes on the rets), fast through perf-event links instead
# of uprobe_multi (--links single), bpftrace (uprobe+uretprobe with a hist,
# the usual latency script, both at +0) and bpftrace's bare entry uprobe.
# Root. Prints ns per call and ratios. Other arrangements of the probes
# (bpftrace 0.17 here cannot probe at an offset) are timed by
# build/bench/return_sites.
# The configurations run in turn, ROUNDS times over; each row is the median,
# because one run swings by tens of percent on a shared machine.
#   bench/probe_cost.sh [build-dir] [calls] [rounds]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${GRIDPROBE_BUILD_DIR:-$root/build}}
calls=${2:-200000}
rounds=${3:-3}
target="$build/bench/loop_target"
gridprobe="$build/userspace/gridprobe"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

target_args=("$calls")
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

bt_pair="uprobe:$target:gp_bench_fn { @s[tid] = nsecs; }
uretprobe:$target:gp_bench_fn /@s[tid]/ { @ns = hist(nsecs - @s[tid]); delete(@s[tid]); }"
bt_entry="uprobe:$target:gp_bench_fn { @n = count(); }"

for ((round = 0; round < rounds; round++)); do
  run_case none
  run_case gridprobe_fast "$gridprobe" attach PID --preset "$root/bench/loop_target.yaml" --quiet
  run_case gridprobe_safe "$gridprobe" attach PID --preset "$root/bench/loop_target.yaml" --quiet \
    --return-mode safe
  run_case gridprobe_fast_perf "$gridprobe" attach PID --preset "$root/bench/loop_target.yaml" \
    --quiet --links single
  run_case bpftrace_pair bpftrace -p PID -e "$bt_pair"
  run_case bpftrace_entry bpftrace -p PID -e "$bt_entry"
done | tee "$tmp/results"

sort -k1,1 -k2,2g "$tmp/results" | awk '
  { v[$1, ++n[$1]] = $2 }
  END {
    for (k in n) ns[k] = v[k, int((n[k] + 1) / 2)]
    pair = ns["bpftrace_pair"]
    printf "\nper call (ns), median of %s rounds of %s calls\n", "'"$rounds"'", "'"$calls"'"
    printf "  uninstrumented                      %9.1f\n", ns["none"]
    printf "  gridprobe fast (uretprobe @+4)      %9.1f  (%.2fx bpftrace pair; goal <= 0.2x)\n", ns["gridprobe_fast"], ns["gridprobe_fast"] / pair
    printf "  gridprobe safe (uprobe on ret)      %9.1f  (%.2fx bpftrace pair; goal <= 1x)\n", ns["gridprobe_safe"], ns["gridprobe_safe"] / pair
    printf "  gridprobe fast, perf-event links    %9.1f  (%.2fx bpftrace pair)\n", ns["gridprobe_fast_perf"], ns["gridprobe_fast_perf"] / pair
    printf "  bpftrace uprobe+uretprobe (+0)      %9.1f\n", pair
    printf "  bpftrace entry only (+0)            %9.1f\n", ns["bpftrace_entry"]
  }' 
