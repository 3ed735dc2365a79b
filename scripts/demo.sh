#!/usr/bin/env bash
# The main job, end to end: install, build, start the demo grid program and
# profile it with gridprobe attach: a live table every 2 s, then the final
# report (also written to build/demo-report.json).
#   scripts/demo.sh [seconds]      (default 20)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${GRIDPROBE_BUILD_DIR:-$root/build}
seconds=${1:-20}

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"

demo="$build/examples/gridkit-demo/gridkit-demo"
"$demo" --duration $((seconds + 30)) >"$build/demo-stdout.txt" 2>"$build/demo-stderr.txt" &
demo_pid=$!
trap 'kill $demo_pid 2>/dev/null || true' EXIT
# Wait until the program has loaded its data and started working.
for _ in $(seq 100); do
  grep -q "ready" "$build/demo-stdout.txt" 2>/dev/null && break
  sleep 0.1
done

echo "demo: gridkit-demo running as pid $demo_pid; profiling it for ${seconds}s"
"$build/userspace/gridprobe" attach "$demo_pid" --preset gridkit --interval 2s \
  --duration "${seconds}s" --report-json "$build/demo-report.json"
echo "demo: report written to $build/demo-report.json"
