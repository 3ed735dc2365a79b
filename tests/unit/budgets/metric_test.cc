#include "userspace/analyzers/budgets/metric.h"

#include <gtest/gtest.h>

namespace gridprobe::budgets {
namespace {

TEST(MetricTest, NamesRoundTrip) {
  for (Metric m : kAllMetrics) EXPECT_EQ(ParseMetric(MetricName(m)), m);
  EXPECT_EQ(ParseMetric("p90"), std::nullopt);
  EXPECT_STREQ(MetricField(Metric::kP95), "p95_ns");
  EXPECT_STREQ(MetricField(Metric::kLeakGrowth), "leak_growth_bytes_per_s");
  EXPECT_STREQ(UnitName(MetricUnit(Metric::kLiveBytes)), "bytes");
}

TEST(MetricTest, ValuesComeFromTheMatchingField) {
  OpStats op;
  op.p50_ns = 1;
  op.p95_ns = 2;
  op.p99_ns = 3;
  op.max_ns = 4;
  op.mean_ns = 5.5;
  op.calls_per_s = 6;
  EXPECT_EQ(MetricValue(op, Metric::kP50), 1);
  EXPECT_EQ(MetricValue(op, Metric::kP95), 2);
  EXPECT_EQ(MetricValue(op, Metric::kP99), 3);
  EXPECT_EQ(MetricValue(op, Metric::kMax), 4);
  EXPECT_EQ(MetricValue(op, Metric::kMean), 5.5);
  EXPECT_EQ(MetricValue(op, Metric::kCallsPerS), 6);
  // Memory tracking off: nothing to judge.
  EXPECT_EQ(MetricValue(op, Metric::kAllocBytesPerCall), std::nullopt);
  EXPECT_EQ(MetricValue(op, Metric::kLiveBytes), std::nullopt);
  EXPECT_EQ(MetricValue(op, Metric::kLeakGrowth), std::nullopt);
  op.alloc_bytes_per_call = 7;
  op.live_bytes = 8;
  op.leak_growth_bytes_per_s = 9;
  EXPECT_EQ(MetricValue(op, Metric::kAllocBytesPerCall), 7);
  EXPECT_EQ(MetricValue(op, Metric::kLiveBytes), 8);
  EXPECT_EQ(MetricValue(op, Metric::kLeakGrowth), 9);
}

TEST(ClassifyTest, DefaultRatios) {
  Severities s;
  EXPECT_EQ(Classify(0.5, s), Severity::kNone);
  EXPECT_EQ(Classify(1.0, s), Severity::kNone);  // at the budget is within it
  EXPECT_EQ(Classify(1.01, s), Severity::kWarning);
  EXPECT_EQ(Classify(1.49, s), Severity::kWarning);
  EXPECT_EQ(Classify(1.5, s), Severity::kError);
  EXPECT_EQ(Classify(1.99, s), Severity::kError);
  EXPECT_EQ(Classify(2.0, s), Severity::kCritical);
  EXPECT_EQ(Classify(50, s), Severity::kCritical);
}

TEST(ClassifyTest, OverriddenRatios) {
  Severities s{.warning = 0.8, .error = 1.0, .critical = 1.25};
  EXPECT_EQ(Classify(0.8, s), Severity::kNone);
  EXPECT_EQ(Classify(0.9, s), Severity::kWarning);
  EXPECT_EQ(Classify(1.1, s), Severity::kError);
  EXPECT_EQ(Classify(1.25, s), Severity::kCritical);
}

TEST(FormatValueTest, PicksAReadableUnit) {
  EXPECT_EQ(FormatValue(Metric::kP95, 150e6), "150 ms");
  EXPECT_EQ(FormatValue(Metric::kP95, 4.2e6), "4.2 ms");
  EXPECT_EQ(FormatValue(Metric::kP95, 12345), "12.3 \xC2\xB5s");
  EXPECT_EQ(FormatValue(Metric::kMax, 850), "850 ns");
  EXPECT_EQ(FormatValue(Metric::kMax, 1.5e9), "1.5 s");
  EXPECT_EQ(FormatValue(Metric::kCallsPerS, 120), "120 calls/s");
  EXPECT_EQ(FormatValue(Metric::kLiveBytes, 65536), "64 KiB");
  EXPECT_EQ(FormatValue(Metric::kLeakGrowth, 1.5 * 1024 * 1024), "1.5 MiB/s");
}

}  // namespace
}  // namespace gridprobe::budgets
