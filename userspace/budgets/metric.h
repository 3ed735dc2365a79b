// What a budget can limit, and how bad it is to break one.
#ifndef GRIDPROBE_USERSPACE_BUDGETS_METRIC_H_
#define GRIDPROBE_USERSPACE_BUDGETS_METRIC_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "userspace/snapshot.h"

namespace gridprobe::budgets {

// Every metric is an upper limit: larger values are worse.
enum class Metric : uint8_t {
  kP50,
  kP95,
  kP99,
  kMax,
  kMean,
  kCallsPerS,
  kAllocBytesPerCall,
  kLiveBytes,
  kLeakGrowth,
};
inline constexpr int kNumMetrics = 9;
inline constexpr std::array<Metric, kNumMetrics> kAllMetrics = {
    Metric::kP50,
    Metric::kP95,
    Metric::kP99,
    Metric::kMax,
    Metric::kMean,
    Metric::kCallsPerS,
    Metric::kAllocBytesPerCall,
    Metric::kLiveBytes,
    Metric::kLeakGrowth,
};

enum class Unit : uint8_t { kNanoseconds, kCallsPerSecond, kBytes, kBytesPerSecond };

// "p95": how presets, events and messages name the metric.
const char* MetricName(Metric m);
// "p95_ns": the report's field, spelled as in OpStats.
const char* MetricField(Metric m);
Unit MetricUnit(Metric m);
// "ns", "calls/s", "bytes", "bytes/s".
const char* UnitName(Unit u);
std::optional<Metric> ParseMetric(absl::string_view name);

// The metric's value for `op`; nullopt when it was not measured (memory
// metrics while memory tracking is off).
std::optional<double> MetricValue(const OpStats& op, Metric m);

// Every metric of `op` at once, indexed by Metric; for the evaluator's loop.
struct MetricValues {
  std::array<double, kNumMetrics> value{};
  uint32_t measured = 0;  // bit i: metric i was measured

  bool has(int i) const { return (measured >> i) & 1; }
};
MetricValues ReadMetrics(const OpStats& op);

// For people: "150 ms", "12.3 µs", "64 KiB", "1.5 MiB/s", "120 calls/s".
std::string FormatValue(Metric m, double value);

enum class Severity : uint8_t { kNone, kWarning, kError, kCritical };
// "ok", "warning", "error", "critical".
const char* SeverityName(Severity s);

// Ratios of actual value to budget at which each severity starts.
struct Severities {
  double warning = 1.0;
  double error = 1.5;
  double critical = 2.0;
};

// The values at which each severity starts, for one budget.
struct Thresholds {
  double warning;
  double error;
  double critical;
};
Thresholds ThresholdsFor(double budget, const Severities& s);

// kNone while `value` does not exceed the warning threshold; past it, the
// highest severity whose threshold it reaches.
inline Severity Classify(double value, const Thresholds& t) {
  if (!(value > t.warning)) return Severity::kNone;
  if (value >= t.critical) return Severity::kCritical;
  if (value >= t.error) return Severity::kError;
  return Severity::kWarning;
}
// The same for a ratio of value to budget. With the default severities:
// 1.0 is fine, 1.01 a warning, 1.5 an error, 2.0 critical.
Severity Classify(double ratio, const Severities& s);

}  // namespace gridprobe::budgets

#endif  // GRIDPROBE_USERSPACE_BUDGETS_METRIC_H_
