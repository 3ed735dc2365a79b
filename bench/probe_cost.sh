#!/usr/bin/env bash
# Per-call cost of timing one function, side by side in one run:
# uninstrumented, gridprobe in its fast return mode (what auto picks for this
# C function: entry uprobe and uretprobe sharing the push after endbr64) and
# in safe mode (uprobes on the rets), bpftrace (uprobe+uretprobe with a hist,
# the usual latency script, both at +0) and bpftrace's bare entry uprobe.
# Root. Prints ns per call and ratios. Other arrangements of the probes
# (bpftrace 0.17 here cannot probe at an offset) are timed by
# build/bench/return_sites.
#   bench/probe_cost.sh [build-dir] [calls]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${GRIDPROBE_BUILD_DIR:-$root/build}}
calls=${2:-200000}
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

{
  run_case none
  run_case gridprobe_fast "$gridprobe" attach PID --preset "$root/bench/loop_target.yaml" --quiet
  run_case gridprobe_safe "$gridprobe" attach PID --preset "$root/bench/loop_target.yaml" --quiet \
    --return-mode safe
  run_case bpftrace_pair bpftrace -p PID -e "$bt_pair"
  run_case bpftrace_entry bpftrace -p PID -e "$bt_entry"
} | tee "$tmp/results"

awk '
  { ns[$1] = $2 }
  END {
    pair = ns["bpftrace_pair"]
    printf "\nper call (ns), %s calls each\n", "'"$calls"'"
    printf "  uninstrumented                      %9.1f\n", ns["none"]
    printf "  gridprobe fast (entry+uretprobe @+4) %9.1f  (%.2fx bpftrace pair; goal <= 0.2x)\n", ns["gridprobe_fast"], ns["gridprobe_fast"] / pair
    printf "  gridprobe safe (entry @+4, ret)     %9.1f  (%.2fx bpftrace pair; goal <= 1x)\n", ns["gridprobe_safe"], ns["gridprobe_safe"] / pair
    printf "  bpftrace uprobe+uretprobe (+0)      %9.1f\n", pair
    printf "  bpftrace entry only (+0)            %9.1f\n", ns["bpftrace_entry"]
  }' "$tmp/results"
