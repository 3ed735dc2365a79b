#include "userspace/analyzers/budgets/metric.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "userspace/model/format.h"

namespace gridprobe::budgets {
namespace {

struct MetricInfo {
  const char* name;
  const char* field;
  Unit unit;
};

constexpr MetricInfo kInfo[kNumMetrics] = {
    {"p50", "p50_ns", Unit::kNanoseconds},
    {"p95", "p95_ns", Unit::kNanoseconds},
    {"p99", "p99_ns", Unit::kNanoseconds},
    {"max", "max_ns", Unit::kNanoseconds},
    {"mean", "mean_ns", Unit::kNanoseconds},
    {"calls_per_s", "calls_per_s", Unit::kCallsPerSecond},
    {"alloc_bytes_per_call", "alloc_bytes_per_call", Unit::kBytes},
    {"live_bytes", "live_bytes", Unit::kBytes},
    {"leak_growth_per_s", "leak_growth_bytes_per_s", Unit::kBytesPerSecond},
};

// Three significant digits at most, no trailing zeros: "150", "4.2", "12.3".
std::string Short(double v) {
  const int decimals = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  std::string s = absl::StrFormat("%.*f", decimals, v);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string Scaled(double v, const double* scales, const char* const* names, int n) {
  int i = 0;
  while (i + 1 < n && std::fabs(v) >= scales[i + 1]) ++i;
  return absl::StrCat(Short(v / scales[i]), " ", names[i]);
}


}  // namespace

const char* MetricName(Metric m) { return kInfo[static_cast<int>(m)].name; }
const char* MetricField(Metric m) { return kInfo[static_cast<int>(m)].field; }
Unit MetricUnit(Metric m) { return kInfo[static_cast<int>(m)].unit; }

const char* UnitName(Unit u) {
  switch (u) {
    case Unit::kNanoseconds:
      return "ns";
    case Unit::kCallsPerSecond:
      return "calls/s";
    case Unit::kBytes:
      return "bytes";
    case Unit::kBytesPerSecond:
      return "bytes/s";
  }
  return "";
}

std::optional<Metric> ParseMetric(absl::string_view name) {
  for (Metric m : kAllMetrics) {
    if (name == MetricName(m)) return m;
  }
  return std::nullopt;
}

std::optional<double> MetricValue(const OpStats& op, Metric m) {
  const uint32_t bit = 1u << static_cast<int>(m);
  if ((MeasuredMetrics(op) & bit) == 0) return std::nullopt;
  double value;
  ReadMetricsTo(op, bit, &value);
  return value;
}

std::string FormatValue(Metric m, double value) {
  switch (MetricUnit(m)) {
    case Unit::kNanoseconds: {
      constexpr double kScales[] = {1, 1e3, 1e6, 1e9};
      constexpr const char* kNames[] = {"ns", "\xC2\xB5s", "ms", "s"};
      return Scaled(value, kScales, kNames, 4);
    }
    case Unit::kCallsPerSecond:
      return absl::StrCat(Short(value), " calls/s");
    case Unit::kBytes:
      return FormatBytes(value);
    case Unit::kBytesPerSecond:
      return absl::StrCat(FormatBytes(value), "/s");
  }
  return "";
}

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kNone:
      return "ok";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
    case Severity::kCritical:
      return "critical";
  }
  return "";
}

Thresholds ThresholdsFor(double budget, const Severities& s) {
  return {budget * s.warning, budget * s.error, budget * s.critical};
}

Severity Classify(double ratio, const Severities& s) {
  return Classify(ratio, ThresholdsFor(1, s));
}

}  // namespace gridprobe::budgets
