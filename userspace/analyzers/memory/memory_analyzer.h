// Memory accounting per category: window rates, live bytes, peaks, leak
// verdicts from the live-bytes trend, and the details of what is still live.
#ifndef GRIDPROBE_USERSPACE_ANALYZERS_MEMORY_MEMORY_ANALYZER_H_
#define GRIDPROBE_USERSPACE_ANALYZERS_MEMORY_MEMORY_ANALYZER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "userspace/analyzers/memory/leak_detector.h"
#include "userspace/model/snapshot.h"

namespace gridprobe::memory {

struct MemoryAnalyzerOptions {
  LeakOptions leak;
  std::string mode;              // "ops" | "full"
  std::string allocator;         // "glibc", ...
  std::string allocator_module;  // path probed
  std::string allocator_cxx;     // how C++ operator new/delete are seen
};

class MemoryAnalyzer {
 public:
  // Category 0 is "unattributed", category i + 1 is op_names[i].
  MemoryAnalyzer(std::vector<std::string> op_names, MemoryAnalyzerOptions options);

  // Takes the cumulative counters at `now`, at the end of a window of
  // `window_s` seconds in which operation i was called op_calls[i] times;
  // returns the window's figures and current leak verdicts.
  MemorySummary Update(absl::Time now, double window_s, const MemoryCounters& total,
                       const std::vector<uint64_t>& op_calls);

  // Figures over the whole run (rates over `run_s`, bytes per call over all
  // calls) with the latest verdicts.
  MemorySummary Totals(double run_s, const MemoryCounters& total,
                       const std::vector<uint64_t>& op_calls) const;

  // Per category: age distribution, oldest allocations and top allocation
  // sites by live bytes, as the report's "live" object keyed by category.
  nlohmann::json LiveDetails(const std::vector<LiveAllocation>& live,
                             const std::function<std::string(uint64_t)>& symbolize,
                             const std::function<std::vector<uint64_t>(int32_t)>& stack) const;

 private:
  MemorySummary Summarize(double seconds, const MemoryCounters& now, const MemoryCounters& before,
                          const std::vector<uint64_t>& op_calls) const;

  std::vector<std::string> names_;  // by category
  MemoryAnalyzerOptions options_;
  std::vector<LeakDetector> detectors_;
  std::vector<LeakVerdict> verdicts_;
  std::vector<uint64_t> peaks_;
  std::vector<std::optional<double>> first_suspected_s_;
  absl::Time start_ = absl::Now();
  MemoryCounters previous_;
};

// The report's "memory" object for a summary.
nlohmann::json MemoryJson(const MemorySummary& summary);

}  // namespace gridprobe::memory

#endif  // GRIDPROBE_USERSPACE_ANALYZERS_MEMORY_MEMORY_ANALYZER_H_
