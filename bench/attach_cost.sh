#!/usr/bin/env bash
# How long attaching and detaching 100 probes takes (the issue's goal: under
# a second each), side by side in one run: gridprobe with uprobe_multi links
# (--links multi, what auto picks on Linux 6.6+) and with one perf-event link
# per probe (--links single, as on older kernels and as libbpf's and
# bpftrace's uprobes are made), in both return modes; and bpftrace's whole
# run (start, attach the same 100 probes, BEGIN { exit() }, detach), which
# it does not time in parts. Target: bench/many_functions, 50 functions
# called every millisecond. gridprobe prints its own attach and detach
# times; each row is the median of ROUNDS runs. Root.
#   bench/attach_cost.sh [build-dir] [rounds]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${GRIDPROBE_BUILD_DIR:-$root/build}}
rounds=${2:-3}
target="$build/bench/many_functions"
gridprobe="$build/userspace/gridprobe"
tmp=$(mktemp -d)

"$target" >"$tmp/target.out" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
until grep -q ready "$tmp/target.out" 2>/dev/null; do sleep 0.05; done

ms() { date +%s%3N; }

for ((round = 0; round < rounds; round++)); do
  for links in multi single; do
    for mode in fast safe; do
      "$gridprobe" attach "$pid" --preset "$root/bench/many_functions.yaml" --links "$links" \
        --return-mode "$mode" --duration 1s --quiet >/dev/null 2>"$tmp/gp.err"
      probes=$(sed -n 's/.*attached \([0-9]*\) probes.*/\1/p' "$tmp/gp.err")
      attach=$(sed -n 's/.*attached .*; \([0-9]*\) ms)$/\1/p' "$tmp/gp.err")
      detach=$(sed -n 's/.*detached [0-9]* probes (\([0-9]*\) ms)$/\1/p' "$tmp/gp.err")
      echo "gridprobe_${links}_${mode} $probes $attach $detach"
    done
  done
  t0=$(ms)
  bpftrace -p "$pid" -e "uprobe:$target:mf_* { @n = count(); }
uretprobe:$target:mf_* { @r = count(); }
BEGIN { exit(); }" >"$tmp/bt.out" 2>&1
  t1=$(ms)
  probes=$(sed -n 's/^Attaching \([0-9]*\) probes.*/\1/p' "$tmp/bt.out")
  # BEGIN is one of bpftrace's probes.
  echo "bpftrace_whole_run $((probes - 1)) - $((t1 - t0))"
done | tee "$tmp/results"

echo
echo "median of $rounds rounds: probes, attach ms, detach ms"
awk '{ n[$1]++; p[$1]=$2; a[$1, n[$1]]=$3; d[$1, n[$1]]=$4; order[$1]=NR }
  function median(arr, k, c,   i, j, v, t) {
    for (i = 1; i <= c; i++) v[i] = arr[k, i];
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
    return v[int((c + 1) / 2)]
  }
  END {
    for (k in n) printf "%-24s %4d %8s %8s\n", k, p[k], median(a, k, n[k]), median(d, k, n[k])
  }' "$tmp/results" | sort
echo "(bpftrace_whole_run: its whole run in the detach column)"
