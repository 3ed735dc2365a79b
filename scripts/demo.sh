#!/usr/bin/env bash
# The main job, end to end: install, build, start the demo grid program with
# something to find, and profile it with gridprobe attach: `sort` turns slow
# from 5 s to 60 s and recovers, `render` leaks 4 KiB a call. The console
# shows the live table every 5 s and the events as they happen (sort's
# violation opened, render's leak suspected, the violation resolved); the
# run ends with the final report, the agent's own cost and the paths of the
# report and the event stream.
#   scripts/demo.sh [seconds]      (default 80)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${GRIDPROBE_BUILD_DIR:-$root/build}
seconds=${1:-80}

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"

demo="$build/examples/gridkit-demo/gridkit-demo"
"$demo" --duration $((seconds + 30)) --slow sort=150@20/5-60 --leak render=4096 \
  >"$build/demo-stdout.txt" 2>"$build/demo-stderr.txt" &
demo_pid=$!
trap 'kill $demo_pid 2>/dev/null || true' EXIT
# Wait until the program has loaded its data and started working.
for _ in $(seq 100); do
  grep -q "ready" "$build/demo-stdout.txt" 2>/dev/null && break
  sleep 0.1
done

echo "demo: gridkit-demo running as pid $demo_pid (sort slow from 5 s to 60 s, render leaking);"
echo "demo: profiling it for ${seconds}s against the 'interactive' budgets with memory tracking"
rm -f "$build/demo-events.jsonl"
"$build/userspace/gridprobe" attach "$demo_pid" --preset gridkit --budgets interactive \
  --memory full --interval 5s --duration "${seconds}s" \
  --report-json "$build/demo-report.json" --events-jsonl "$build/demo-events.jsonl"
echo "demo: report written to $build/demo-report.json"
echo "demo: events (one JSON line each) written to $build/demo-events.jsonl"
