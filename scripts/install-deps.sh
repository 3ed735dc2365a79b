#!/usr/bin/env bash
# Installs the Debian 12 packages gridprobe builds and tests with (as root).
# Safe to run again: it only calls apt-get when something is missing.
set -euo pipefail

packages=(
  # build
  cmake ninja-build pkg-config g++ clang llvm
  libbpf-dev bpftool libelf-dev zlib1g-dev libcapstone-dev
  libabsl-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # alert delivery: libcurl (multi interface, OpenSSL TLS), OpenSSL for HMAC signatures
  libcurl4-openssl-dev libssl-dev
  # tests: a real Alertmanager for the alertmanager destination
  prometheus-alertmanager
  # tests and benchmarks: the peer gridprobe is compared against
  bpftrace
  # tests: a library nobody here wrote, for the sqlite preset's tests
  libsqlite3-dev
  # the Prometheus exporter: gzip of pages; its tests scrape with a real server and promtool
  zlib1g-dev prometheus
  # tests: the HTML report rendered in a real browser, headless
  chromium
  # memory tests: replacement allocators the target preloads (runtime only)
  libjemalloc2 libtcmalloc-minimal4
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: run as root to install: ${missing[*]}" >&2
    exit 4
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
