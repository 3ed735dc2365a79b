#!/usr/bin/env bash
# gridprobe's overhead on the demo program, all runs in one invocation:
# the demo alone, under gridprobe attach (latency only) and under gridprobe
# attach --memory full (every allocation traced), at the default rate
# (40 calls/s) and unpaced (--rate 0, the throughput ceiling). Prints calls/s,
# CPU seconds and the ratios, and the probes' trap time that the demo's own
# timing includes. GP_EXTRA adds gridprobe flags to every traced run. Root.
#   bench/demo_overhead.sh [build-dir] [seconds]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${GRIDPROBE_BUILD_DIR:-$root/build}}
seconds=${2:-20}
GP_EXTRA=${GP_EXTRA:-}
demo="$build/examples/gridkit-demo/gridkit-demo"
gridprobe="$build/userspace/gridprobe"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run NAME RATE TRACED(0|1|memory): prints "NAME calls_per_s cpu_s"
run() {
  local name=$1 rate=$2 traced=$3 extra=()
  if [[ $traced == memory ]]; then extra=(--memory full); fi
  "$demo" --wait-start --rate "$rate" --duration "$seconds" --truth "$tmp/$name.json" \
    >"$tmp/$name.out" 2>/dev/null &
  local pid=$! gp=""
  until grep -q ready "$tmp/$name.out" 2>/dev/null; do sleep 0.05; done
  if [[ $traced != 0 ]]; then
    "$gridprobe" attach "$pid" --quiet $GP_EXTRA "${extra[@]}" --report-json "$tmp/$name.report.json" \
      >/dev/null 2>"$tmp/$name.gp" &
    gp=$!
    until grep -q attached "$tmp/$name.gp" 2>/dev/null; do sleep 0.05; done
  fi
  kill -USR1 "$pid"
  wait "$pid"
  if [[ -n $gp ]]; then wait "$gp"; fi
  python3 - "$tmp/$name.json" "$name" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
print(sys.argv[2], round(t["ops_total"] / t["elapsed_s"], 2), round(t["cpu_s"], 3))
PY
  if [[ $traced == 1 ]]; then
    # The demo times each call from outside; gridprobe from its entry probe to
    # its return probe. The difference is the probes' own trap time.
    python3 - "$tmp/$name.json" "$tmp/$name.report.json" >&2 <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))
diffs = []
for op in r["operations"]:
    tt = t["operations"][op["name"]]
    if op["calls"] == tt["calls"] and op["calls"] > 0:
        diffs.append(tt["mean_ns"] - op["mean_ns"])
        print("  trap time %-14s truth mean %10.0f ns, gridprobe mean %10.0f ns, difference %7.0f ns"
              % (op["name"], tt["mean_ns"], op["mean_ns"], tt["mean_ns"] - op["mean_ns"]))
if diffs:
    diffs.sort()
    print("  trap time inside the program's own timing: median %.0f ns per call" % diffs[len(diffs) // 2])
PY
  fi
}

{
  run default_plain 40 0
  run default_traced 40 1
  run default_memory 40 memory
  run unpaced_plain 0 0
  run unpaced_traced 0 1
  run unpaced_memory 0 memory
} | tee "$tmp/results"

awk '
  { rate[$1] = $2; cpu[$1] = $3 }
  END {
    printf "\ndemo throughput under gridprobe (same run)\n"
    printf "  default rate: %.2f vs %.2f calls/s = %.1f%%; CPU %.2fs vs %.2fs\n", rate["default_traced"], rate["default_plain"], 100 * rate["default_traced"] / rate["default_plain"], cpu["default_traced"], cpu["default_plain"]
    printf "  unpaced:      %.2f vs %.2f calls/s = %.1f%%\n", rate["unpaced_traced"], rate["unpaced_plain"], 100 * rate["unpaced_traced"] / rate["unpaced_plain"]
    printf "\ndemo throughput under gridprobe --memory full (same run)\n"
    printf "  default rate: %.2f vs %.2f calls/s = %.1f%%; CPU %.2fs vs %.2fs\n", rate["default_memory"], rate["default_plain"], 100 * rate["default_memory"] / rate["default_plain"], cpu["default_memory"], cpu["default_plain"]
    printf "  unpaced:      %.2f vs %.2f calls/s = %.1f%%\n", rate["unpaced_memory"], rate["unpaced_plain"], 100 * rate["unpaced_memory"] / rate["unpaced_plain"]
  }' "$tmp/results"
