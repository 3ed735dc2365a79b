#!/usr/bin/env bash
# Cost of tracing one malloc(64)+free pair, side by side in one run:
# uninstrumented, gridprobe --memory full (entry probes moved to emulated
# instructions, uretprobe on the allocation), and a bpftrace script doing
# memleak-style tracking with probes at each function's first instruction,
# and the floor: empty BPF programs on exactly gridprobe's sites (alloc_floor),
# which is what the traps alone cost (through uprobe_multi links, as gridprobe
# makes them here, and through one perf-event link per probe, with gridprobe
# --links single beside it). Root. Prints ns per pair and ratios.
# Each configuration runs `rounds` times, interleaved, and the median is
# printed: the machines are shared, and one busy second skews one run.
#   bench/alloc_cost.sh [build-dir] [pairs] [rounds]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${GRIDPROBE_BUILD_DIR:-$root/build}}
pairs=${2:-200000}
rounds=${3:-3}
target="$build/bench/loop_target"
gridprobe="$build/userspace/gridprobe"
floor="$build/bench/alloc_floor"
libc=$(ldconfig -p | awk '/libc.so.6 .*x86-64/ {print $NF; exit}')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

target_args=("$pairs" alloc)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

bt="uprobe:$libc:malloc { @size[tid] = arg0; }
uretprobe:$libc:malloc /@size[tid]/ { @live[retval] = @size[tid]; @bytes = sum(@size[tid]); delete(@size[tid]); }
uprobe:$libc:free /@live[arg0]/ { delete(@live[arg0]); }"

for ((round = 0; round < rounds; round++)); do
  run_case none
  run_case gridprobe_full "$gridprobe" attach PID --preset "$root/bench/loop_target.yaml" --memory full --quiet
  run_case gridprobe_full_nostacks "$gridprobe" attach PID --preset "$root/bench/loop_target.yaml" --memory full --no-alloc-stacks --quiet
  run_case gridprobe_ops "$gridprobe" attach PID --preset "$root/bench/loop_target.yaml" --memory ops --quiet
  run_case floor "$floor" PID multi
  run_case floor_perf "$floor" PID single
  run_case gridprobe_full_perf "$gridprobe" attach PID --preset "$root/bench/loop_target.yaml" --memory full --quiet --links single
  run_case bpftrace_memleak bpftrace -p PID -e "$bt"
done | tee "$tmp/results"

sort -k1,1 -k2,2g "$tmp/results" | awk '
  { all[$1, ++n[$1]] = $2 }
  END {
    for (k in n) ns[k] = all[k, int((n[k] + 1) / 2)]  # median: the input is sorted
    printf "\nper malloc(64)+free pair (ns), %s pairs each, median of %s runs\n", "'"$pairs"'", "'"$rounds"'"
    f = ns["floor"]; b = ns["bpftrace_memleak"]
    printf "  uninstrumented                    %9.1f\n", ns["none"]
    printf "  floor: empty programs, same sites %9.1f  (1.00x floor)\n", f
    printf "  gridprobe --memory full           %9.1f  (%.2fx floor, %.2fx bpftrace)\n", ns["gridprobe_full"], ns["gridprobe_full"] / f, ns["gridprobe_full"] / b
    printf "  gridprobe --memory full, no stacks%9.1f  (%.2fx floor, %.2fx bpftrace)\n", ns["gridprobe_full_nostacks"], ns["gridprobe_full_nostacks"] / f, ns["gridprobe_full_nostacks"] / b
    printf "  gridprobe --memory ops (outside)  %9.1f  (%.2fx floor)\n", ns["gridprobe_ops"], ns["gridprobe_ops"] / f
    printf "  floor, perf-event links           %9.1f  (%.2fx floor)\n", ns["floor_perf"], ns["floor_perf"] / f
    printf "  gridprobe full, perf-event links  %9.1f  (%.2fx floor, %.2fx perf floor)\n", ns["gridprobe_full_perf"], ns["gridprobe_full_perf"] / f, ns["gridprobe_full_perf"] / ns["floor_perf"]
    printf "  bpftrace memleak-style (+0)       %9.1f  (%.2fx floor)\n", b, b / f
    printf "  gridprobe over the floor, full    %9.1f ns of BPF work per pair\n", ns["gridprobe_full"] - f
  }'
