#!/usr/bin/env bash
# Installs, builds (warnings are errors) and runs the whole test suite:
# unit, bpf and e2e tiers. bpf and e2e tests need root; with
# GRIDPROBE_REQUIRE_BPF=1 (CI) a skipped one fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${GRIDPROBE_BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" -DGRIDPROBE_WERROR=ON
cd "$build"
ctest --output-on-failure --timeout 600 "$@"
