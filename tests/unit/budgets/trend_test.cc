#include "userspace/budgets/trend.h"

#include <gtest/gtest.h>

namespace gridprobe::budgets {
namespace {

TEST(TrendWindowTest, ExactLine) {
  TrendWindow w(8);
  EXPECT_EQ(w.Fit(), std::nullopt);
  w.Add(10, 5);
  EXPECT_EQ(w.Fit(), std::nullopt);  // one point is no line
  for (int i = 1; i < 6; ++i) w.Add(10 + i * 10, 5 + i * 20);
  std::optional<LineFit> fit = w.Fit();
  ASSERT_TRUE(fit.has_value());
  EXPECT_DOUBLE_EQ(fit->slope, 2);
  EXPECT_DOUBLE_EQ(fit->intercept, -15);
  EXPECT_DOUBLE_EQ(fit->r_squared, 1);
  EXPECT_EQ(fit->points, 6);
  EXPECT_EQ(w.oldest_x(), 10);
}

TEST(TrendWindowTest, FlatSeriesHasNoTrend) {
  TrendWindow w(5);
  for (int i = 0; i < 9; ++i) w.Add(i, 42);
  std::optional<LineFit> fit = w.Fit();
  ASSERT_TRUE(fit.has_value());
  EXPECT_EQ(fit->slope, 0);
  EXPECT_EQ(fit->r_squared, 0);
  EXPECT_DOUBLE_EQ(fit->intercept, 42);
}

TEST(TrendWindowTest, KeepsOnlyTheLastPoints) {
  TrendWindow w(4);
  for (int i = 0; i < 10; ++i) w.Add(i, -100.0 * i);  // falling, then forgotten
  for (int i = 10; i < 14; ++i) w.Add(i, 3.0 * i + 1);
  std::optional<LineFit> fit = w.Fit();
  ASSERT_TRUE(fit.has_value());
  EXPECT_NEAR(fit->slope, 3, 1e-9);
  EXPECT_NEAR(fit->intercept, 1, 1e-6);
  EXPECT_EQ(fit->points, 4);
  EXPECT_EQ(w.oldest_x(), 10);
}

TEST(TrendWindowTest, StaysAccurateOverLongRunsAndLargeValues) {
  // A week of 10 s windows, latencies around a second, rising 1 µs per window.
  TrendWindow w(12);
  const int n = 7 * 24 * 360;
  for (int i = 0; i < n; ++i) w.Add(10.0 * i, 1e9 + 1e3 * i + (i % 2 ? 5 : -5));
  std::optional<LineFit> fit = w.Fit();
  ASSERT_TRUE(fit.has_value());
  EXPECT_NEAR(fit->slope, 100, 0.5);  // ns per second
  const double x = 10.0 * (n - 1);
  EXPECT_NEAR(fit->intercept + fit->slope * x, 1e9 + 1e3 * (n - 1), 10);
  EXPECT_GT(fit->r_squared, 0.99);
}

}  // namespace
}  // namespace gridprobe::budgets
