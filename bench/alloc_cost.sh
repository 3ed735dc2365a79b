#!/usr/bin/env bash
# Cost of tracing one malloc(64)+free pair, side by side in one run:
# uninstrumented, gridprobe --memory full (entry probes moved to emulated
# instructions, uretprobe on the allocation), and a bpftrace script doing
# memleak-style tracking with probes at each function's first instruction.
# Root. Prints ns per pair and ratios.
#   bench/alloc_cost.sh [build-dir] [pairs]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${GRIDPROBE_BUILD_DIR:-$root/build}}
pairs=${2:-200000}
target="$build/bench/loop_target"
gridprobe="$build/userspace/gridprobe"
libc=$(ldconfig -p | awk '/libc.so.6 .*x86-64/ {print $NF; exit}')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

target_args=("$pairs" alloc)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

bt="uprobe:$libc:malloc { @size[tid] = arg0; }
uretprobe:$libc:malloc /@size[tid]/ { @live[retval] = @size[tid]; @bytes = sum(@size[tid]); delete(@size[tid]); }
uprobe:$libc:free /@live[arg0]/ { delete(@live[arg0]); }"

{
  run_case none
  run_case gridprobe_full "$gridprobe" attach PID --preset "$root/bench/loop_target.yaml" --memory full --quiet
  run_case gridprobe_full_nostacks "$gridprobe" attach PID --preset "$root/bench/loop_target.yaml" --memory full --no-alloc-stacks --quiet
  run_case gridprobe_ops "$gridprobe" attach PID --preset "$root/bench/loop_target.yaml" --memory ops --quiet
  run_case bpftrace_memleak bpftrace -p PID -e "$bt"
} | tee "$tmp/results"

awk '
  { ns[$1] = $2 }
  END {
    printf "\nper malloc(64)+free pair (ns), %s pairs each\n", "'"$pairs"'"
    printf "  uninstrumented                    %9.1f\n", ns["none"]
    printf "  gridprobe --memory full           %9.1f  (%.2fx bpftrace)\n", ns["gridprobe_full"], ns["gridprobe_full"] / ns["bpftrace_memleak"]
    printf "  gridprobe --memory full, no stacks%9.1f  (%.2fx bpftrace)\n", ns["gridprobe_full_nostacks"], ns["gridprobe_full_nostacks"] / ns["bpftrace_memleak"]
    printf "  gridprobe --memory ops (outside)  %9.1f\n", ns["gridprobe_ops"]
    printf "  bpftrace memleak-style (+0)       %9.1f\n", ns["bpftrace_memleak"]
  }' "$tmp/results"
