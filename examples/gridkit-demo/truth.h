// The demo's own measurement of every operation call: the ground truth a profiler's numbers are
// checked against.

#ifndef GRIDKIT_DEMO_TRUTH_H_
#define GRIDKIT_DEMO_TRUTH_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "faults.h"
#include "nlohmann/json.hpp"
#include "ops.h"

namespace gridkit_demo {

// What one thread saw of one operation.
struct OpSamples {
  std::vector<uint64_t> latencies_ns;  // Calls that returned normally.
  uint64_t slowed = 0;                 // Of those, the calls the --slow fault burned CPU in.
  uint64_t thrown = 0;                 // Calls that ended in an exception.
};

using ThreadSamples = std::array<OpSamples, kNumOps>;

struct LatencyStats {
  uint64_t calls = 0;
  uint64_t slowed = 0;  // Of `calls`.
  uint64_t thrown = 0;
  double mean_ns = 0;
  uint64_t min_ns = 0;
  uint64_t max_ns = 0;
  uint64_t p50_ns = 0;
  uint64_t p95_ns = 0;
  uint64_t p99_ns = 0;
  uint64_t total_ns = 0;
};

// Nearest rank: sorted[ceil(q * n) - 1]. REQUIRES: `sorted` is ascending and non-empty,
// 0 < q <= 1.
uint64_t NearestRank(const std::vector<uint64_t>& sorted, double q);

// Statistics of one operation over all threads. All zero when no call returned.
LatencyStats MergeStats(const std::vector<ThreadSamples>& threads, Op op);

struct RunFacts {
  int64_t pid = 0;
  int threads = 0;
  int64_t rows = 0;
  double rate = 0;
  uint64_t seed = 0;
  double elapsed_s = 0;
  double cpu_s = 0;
  std::array<LatencyStats, kNumOps> ops;
  std::array<MemoryCounts, kNumOps> memory;

  uint64_t CallsTotal() const;
  uint64_t ThrownTotal() const;
};

// The "gridkit.truth/1" document.
nlohmann::json TruthJson(const RunFacts& facts);

// Writes `contents` to a temporary file beside `path`, then renames it over `path`, so that a
// reader sees either no file or the whole file.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents);

}  // namespace gridkit_demo

#endif  // GRIDKIT_DEMO_TRUTH_H_
