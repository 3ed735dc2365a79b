#!/usr/bin/env bash
# Per-call cost of timing one function, side by side in one run:
# uninstrumented, gridprobe, bpftrace (uprobe+uretprobe with a hist, the
# usual latency script) and bpftrace's bare entry uprobe (the cheapest probe
# a tool can place at function+0). Root. Prints ns per call and ratios.
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
  run_case gridprobe "$gridprobe" attach PID --preset "$root/bench/loop_target.yaml" --quiet
  run_case bpftrace_pair bpftrace -p PID -e "$bt_pair"
  run_case bpftrace_entry bpftrace -p PID -e "$bt_entry"
} | tee "$tmp/results"

awk '
  { ns[$1] = $2 }
  END {
    printf "\nper call (ns), %s calls each\n", "'"$calls"'"
    printf "  uninstrumented           %9.1f\n", ns["none"]
    printf "  gridprobe entry+exit     %9.1f  (%.2fx bpftrace pair)\n", ns["gridprobe"], ns["gridprobe"] / ns["bpftrace_pair"]
    printf "  bpftrace uprobe+uretprobe%9.1f\n", ns["bpftrace_pair"]
    printf "  bpftrace entry only (+0) %9.1f\n", ns["bpftrace_entry"]
  }' "$tmp/results"
