// Command line of gridkit-demo.

#ifndef GRIDKIT_DEMO_OPTIONS_H_
#define GRIDKIT_DEMO_OPTIONS_H_

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ops.h"

namespace gridkit_demo {

// When a fault is active: [from_s, to_s) in seconds after the workers' start. The default
// span is the whole run.
struct TimeSpan {
  double from_s = 0;
  double to_s = std::numeric_limits<double>::infinity();

  bool Contains(double t) const { return t >= from_s && t < to_s; }
  bool WholeRun() const { return from_s <= 0 && to_s == std::numeric_limits<double>::infinity(); }
};

// What the checkpoint does on the calls of one operation. Zero means off; each fault acts only
// on calls whose checkpoint runs inside its span.
struct OpFaults {
  double slow_ms = 0;       // Burn this much CPU ...
  double slow_percent = 0;  // ... in this percentage of calls ...
  TimeSpan slow_span;       // ... in this span.

  uint64_t leak_bytes = 0;  // Allocate and never free, every call ...
  TimeSpan leak_span;       // ... in this span.

  uint64_t cache_bytes = 0;      // Insert into a FIFO cache, every call ...
  uint64_t cache_max_bytes = 0;  // ... evicting the oldest entries above this total ...
  TimeSpan cache_span;           // ... in this span.

  double throw_percent = 0;  // Throw Cancelled in this percentage of calls ...
  TimeSpan throw_span;       // ... in this span.

  // True if some span is narrower than the whole run, i.e. the checkpoint needs the time.
  bool Timed() const {
    return !slow_span.WholeRun() || !leak_span.WholeRun() || !cache_span.WholeRun() ||
           !throw_span.WholeRun();
  }
};

struct Options {
  int64_t rows = 20000;
  int threads = 2;
  double rate = 40;        // Calls per second over all threads; 0 = unpaced.
  double duration_s = 30;  // 0 = until SIGINT/SIGTERM.
  uint64_t seed = 1;
  bool wait_start = false;
  std::string truth_path;  // Empty = no truth file.
  std::array<OpFaults, kNumOps> faults;
  bool help = false;
};

// Parses argv[1..]. Accepts "--flag value" and "--flag=value". Byte counts take an optional
// K, M or G suffix (powers of 1024). Fault flags take an optional "/FROM-TO" span suffix.
absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args);

std::string Usage();

}  // namespace gridkit_demo

#endif  // GRIDKIT_DEMO_OPTIONS_H_
