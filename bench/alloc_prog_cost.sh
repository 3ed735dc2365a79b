#!/usr/bin/env bash
# What each memory program itself costs per run, inside the trap: the
# kernel's own BPF run-time statistics (kernel.bpf_stats_enabled, switched on
# for the measurement and restored after) for gridprobe's malloc_enter,
# alloc_exit and free_enter while loop_target runs malloc(64)+free, per
# configuration. The trap's price is not in these figures (alloc_cost.sh has
# it). Root.
#   bench/alloc_prog_cost.sh [build-dir] [gridprobe-binary]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${GRIDPROBE_BUILD_DIR:-$root/build}}
gridprobe=${2:-$build/userspace/gridprobe}
tmp=$(mktemp -d)
old_stats=$(cat /proc/sys/kernel/bpf_stats_enabled)
trap 'echo "$old_stats" >/proc/sys/kernel/bpf_stats_enabled; rm -rf "$tmp"' EXIT
echo 1 >/proc/sys/kernel/bpf_stats_enabled

# measure NAME GRIDPROBE-FLAGS...: prints "NAME program ns_per_run" lines
measure() {
  local name=$1; shift
  "$build/bench/loop_target" 100000000 alloc >"$tmp/out" &
  local pid=$!
  until grep -q ready "$tmp/out" 2>/dev/null; do sleep 0.05; done
  "$gridprobe" attach "$pid" --preset "$root/bench/loop_target.yaml" --quiet "$@" \
    >"$tmp/gp" 2>&1 &
  local gp=$!
  until grep -q attached "$tmp/gp" 2>/dev/null; do sleep 0.05; done
  kill -USR1 "$pid"
  sleep 3
  # Only this gridprobe's programs (its fds' prog_id): others may be loaded.
  local ids
  ids=$(cat /proc/"$gp"/fdinfo/* 2>/dev/null | awk '/^prog_id:/ {print $2}' | sort -u | tr '\n' ' ')
  bpftool prog show -j | python3 -c '
import json, sys
name, ids = sys.argv[1], set(int(i) for i in sys.argv[2].split())
for p in json.load(sys.stdin):
    if p.get("name") in ("malloc_enter", "alloc_exit", "free_enter") and p.get("run_cnt", 0) > 0 \
            and p["id"] in ids:
        print(name, p["name"], round(p["run_time_ns"] / p["run_cnt"]), p["run_cnt"])' "$name" "$ids"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  wait "$gp" 2>/dev/null || true
}

{
  measure full --memory full
  measure full_nostacks --memory full --no-alloc-stacks
  measure ops_outside --memory ops
} | tee "$tmp/results"
awk '
  { ns[$1 " " $2] = $3 }
  END {
    printf "\nBPF run time per program run (ns), excluding the trap\n"
    printf "  %-24s %12s %10s %10s %10s\n", "", "malloc_enter", "alloc_exit", "free_enter", "per pair"
    n = split("full full_nostacks ops_outside", cfg, " ")
    for (i = 1; i <= n; i++) {
      c = cfg[i]; e = ns[c " malloc_enter"]; x = ns[c " alloc_exit"]; f = ns[c " free_enter"]
      printf "  %-24s %12d %10d %10d %10d\n", c, e, x, f, e + x + f
    }
  }' "$tmp/results"
