// What a budget can limit, and how bad it is to break one.
#ifndef GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_METRIC_H_
#define GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_METRIC_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "userspace/model/snapshot.h"

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

// The metrics measured whether or not memory is tracked.
inline constexpr uint32_t kLatencyMetrics = (1u << static_cast<int>(Metric::kP50)) |
                                            (1u << static_cast<int>(Metric::kP95)) |
                                            (1u << static_cast<int>(Metric::kP99)) |
                                            (1u << static_cast<int>(Metric::kMax)) |
                                            (1u << static_cast<int>(Metric::kMean)) |
                                            (1u << static_cast<int>(Metric::kCallsPerS));

// The metrics `op` has values for (bit i: Metric i).
inline uint32_t MeasuredMetrics(const OpStats& op) {
  return kLatencyMetrics |
         uint32_t{op.alloc_bytes_per_call.has_value()}
             << static_cast<int>(Metric::kAllocBytesPerCall) |
         uint32_t{op.live_bytes.has_value()} << static_cast<int>(Metric::kLiveBytes) |
         uint32_t{op.leak_growth_bytes_per_s.has_value()} << static_cast<int>(Metric::kLeakGrowth);
}

// Writes the metrics with bit i set in `metrics` (bit i: Metric i), in
// Metric order, to y[0], y[1], ... (0 when not measured). The evaluator
// does this for every operation every window, straight into its trends.
inline void ReadMetricsTo(const OpStats& op, uint32_t metrics, double* y) {
  auto put = [&](Metric m, double value) {
    if (metrics >> static_cast<int>(m) & 1) *y++ = value;
  };
  put(Metric::kP50, static_cast<double>(op.p50_ns));
  put(Metric::kP95, static_cast<double>(op.p95_ns));
  put(Metric::kP99, static_cast<double>(op.p99_ns));
  put(Metric::kMax, static_cast<double>(op.max_ns));
  put(Metric::kMean, op.mean_ns);
  put(Metric::kCallsPerS, op.calls_per_s);
  put(Metric::kAllocBytesPerCall, op.alloc_bytes_per_call.value_or(0));
  put(Metric::kLiveBytes, static_cast<double>(op.live_bytes.value_or(0)));
  put(Metric::kLeakGrowth, op.leak_growth_bytes_per_s.value_or(0));
}

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

#endif  // GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_METRIC_H_
