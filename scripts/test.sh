#!/usr/bin/env bash
# Installs, builds (warnings are errors) and runs the whole test suite:
# unit, bpf and e2e tiers. bpf and e2e tests need root; with
# GRIDPROBE_REQUIRE_BPF=1 (CI) a skipped one fails. Then builds the unit tier
# again with ASan/UBSan into $build-asan and runs it there: any sanitizer
# finding fails. Fails if either run fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${GRIDPROBE_BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" -DGRIDPROBE_WERROR=ON
status=0
(cd "$build" && ctest --output-on-failure --timeout 600 "$@") || status=$?

# Exported before the build: gtest discovery runs the test binaries there too.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:print_stacktrace=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
asan=$build-asan
if ! { cmake -S "$root" -B "$asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DGRIDPROBE_SANITIZE=ON -DGRIDPROBE_WERROR=ON >/dev/null &&
       ninja -C "$asan" -j"$(nproc)" unit_tests &&
       (cd "$asan" && ctest -L unit --output-on-failure --timeout 600); }; then
  echo "test.sh: the unit tier failed under ASan/UBSan ($asan)" >&2
  status=1
fi
exit "$status"
