#!/usr/bin/env bash
# gridprobe's overhead on the demo program, both runs in one invocation:
# the demo alone, then the demo under gridprobe attach, at the default rate
# (40 calls/s) and unpaced (--rate 0, the throughput ceiling). Prints calls/s,
# CPU seconds and the ratios. Root.
#   bench/demo_overhead.sh [build-dir] [seconds]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${GRIDPROBE_BUILD_DIR:-$root/build}}
seconds=${2:-20}
demo="$build/examples/gridkit-demo/gridkit-demo"
gridprobe="$build/userspace/gridprobe"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run NAME RATE TRACED(0|1): prints "NAME calls_per_s cpu_s"
run() {
  local name=$1 rate=$2 traced=$3
  "$demo" --wait-start --rate "$rate" --duration "$seconds" --truth "$tmp/$name.json" \
    >"$tmp/$name.out" 2>/dev/null &
  local pid=$! gp=""
  until grep -q ready "$tmp/$name.out" 2>/dev/null; do sleep 0.05; done
  if [[ $traced == 1 ]]; then
    "$gridprobe" attach "$pid" --quiet >/dev/null 2>"$tmp/$name.gp" &
    gp=$!
    until grep -q attached "$tmp/$name.gp" 2>/dev/null; do sleep 0.05; done
  fi
  kill -USR1 "$pid"
  wait "$pid"
  [[ -n $gp ]] && wait "$gp"
  python3 - "$tmp/$name.json" "$name" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
print(sys.argv[2], round(t["ops_total"] / t["elapsed_s"], 2), round(t["cpu_s"], 3))
PY
}

{
  run default_plain 40 0
  run default_traced 40 1
  run unpaced_plain 0 0
  run unpaced_traced 0 1
} | tee "$tmp/results"

awk '
  { rate[$1] = $2; cpu[$1] = $3 }
  END {
    printf "\ndemo throughput under gridprobe (same run)\n"
    printf "  default rate: %.2f vs %.2f calls/s = %.1f%%; CPU %.2fs vs %.2fs\n", rate["default_traced"], rate["default_plain"], 100 * rate["default_traced"] / rate["default_plain"], cpu["default_traced"], cpu["default_plain"]
    printf "  unpaced:      %.2f vs %.2f calls/s = %.1f%%\n", rate["unpaced_traced"], rate["unpaced_plain"], 100 * rate["unpaced_traced"] / rate["unpaced_plain"]
  }' "$tmp/results"
