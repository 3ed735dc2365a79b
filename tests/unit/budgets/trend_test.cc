#include "userspace/budgets/trend.h"

#include <gtest/gtest.h>

namespace gridprobe::budgets {
namespace {

// One series.
void Add(TrendGroup& g, double x, double y) { g.Add(x, &y); }

TEST(TrendGroupTest, ExactLine) {
  TrendGroup g({0}, 8);
  EXPECT_EQ(g.Fit(0), std::nullopt);
  Add(g, 10, 5);
  EXPECT_EQ(g.Fit(0), std::nullopt);  // one point is no line
  for (int i = 1; i < 6; ++i) Add(g, 10 + i * 10, 5 + i * 20);
  std::optional<LineFit> fit = g.Fit(0);
  ASSERT_TRUE(fit.has_value());
  EXPECT_DOUBLE_EQ(fit->slope, 2);
  EXPECT_DOUBLE_EQ(fit->intercept, -15);
  EXPECT_DOUBLE_EQ(fit->r_squared, 1);
  EXPECT_EQ(fit->points, 6);
  EXPECT_EQ(g.oldest_x(), 10);
}

TEST(TrendGroupTest, FlatSeriesHasNoTrend) {
  TrendGroup g({0}, 5);
  for (int i = 0; i < 9; ++i) Add(g, i, 42);
  std::optional<LineFit> fit = g.Fit(0);
  ASSERT_TRUE(fit.has_value());
  EXPECT_EQ(fit->slope, 0);
  EXPECT_EQ(fit->r_squared, 0);
  EXPECT_DOUBLE_EQ(fit->intercept, 42);
}

TEST(TrendGroupTest, KeepsOnlyTheLastSamples) {
  TrendGroup g({0}, 4);
  for (int i = 0; i < 10; ++i) Add(g, i, -100.0 * i);  // falling, then forgotten
  for (int i = 10; i < 14; ++i) Add(g, i, 3.0 * i + 1);
  std::optional<LineFit> fit = g.Fit(0);
  ASSERT_TRUE(fit.has_value());
  EXPECT_NEAR(fit->slope, 3, 1e-9);
  EXPECT_NEAR(fit->intercept, 1, 1e-6);
  EXPECT_EQ(fit->points, 4);
  EXPECT_EQ(g.oldest_x(), 10);
}

TEST(TrendGroupTest, SeriesAreIndependent) {
  TrendGroup g({0, 0, 0}, 6);
  for (int i = 0; i < 9; ++i) {
    const double ys[3] = {2.0 * i, 7, 100 - 5.0 * i};
    g.Add(i, ys);
  }
  EXPECT_NEAR(g.Fit(0)->slope, 2, 1e-12);
  EXPECT_EQ(g.Fit(1)->slope, 0);
  EXPECT_NEAR(g.Fit(2)->slope, -5, 1e-12);
  EXPECT_NEAR(g.Fit(2)->intercept, 100, 1e-9);
}

TEST(TrendGroupTest, Clear) {
  TrendGroup g({0}, 4);
  for (int i = 0; i < 6; ++i) Add(g, i, i);
  g.Clear();
  EXPECT_EQ(g.size(), 0);
  Add(g, 100, 7);
  Add(g, 101, 9);
  EXPECT_NEAR(g.Fit(0)->slope, 2, 1e-12);
  EXPECT_EQ(g.oldest_x(), 100);
}

// Whether a series of `points` is found heading for `target`.
bool Reaches(const std::vector<std::pair<double, double>>& points, double target, double within,
             double min_r_squared) {
  TrendGroup g({target}, 12);
  for (const auto& [x, y] : points) Add(g, x, y);
  return g.Reaching(within, min_r_squared) == 1;
}

TEST(TrendGroupTest, ReachingAgreesWithTheFit) {
  std::vector<std::pair<double, double>> rising;
  for (int i = 0; i < 6; ++i) rising.emplace_back(10.0 * (i + 1), 40 + 2.0 * i);  // 0.2 per x
  // At the latest x, 60, the line is at 50; it reaches 100 at x = 310.
  EXPECT_TRUE(Reaches(rising, 100, 250, 0.8));
  EXPECT_FALSE(Reaches(rising, 100, 249.9, 0.8));  // beyond the horizon
  EXPECT_FALSE(Reaches(rising, 45, 1000, 0.8));    // already past it
  std::vector<std::pair<double, double>> falling, noisy;
  for (int i = 0; i < 6; ++i) falling.emplace_back(i, 100 - i);
  EXPECT_FALSE(Reaches(falling, 200, 1e9, 0.8));
  for (int i = 0; i < 12; ++i) noisy.emplace_back(i, i + (i % 2 ? 15 : -15));
  EXPECT_FALSE(Reaches(noisy, 100, 1e9, 0.8));
  EXPECT_TRUE(Reaches(noisy, 100, 1e9, 0.0));  // rising, if noise is fine
  EXPECT_FALSE(Reaches({{1, 1}}, 2, 1e9, 0));  // one point is no line
}

TEST(TrendGroupTest, ReachingIsPerSeries) {
  TrendGroup g({100, 100, 100}, 12);
  for (int i = 0; i < 8; ++i) {
    const double ys[3] = {50.0 + i, 50.0 - i, 97.0 + 0.3 * i};
    g.Add(i, ys);
  }
  EXPECT_EQ(g.Reaching(1000, 0.8), 0b101u);
  EXPECT_EQ(g.Reaching(10, 0.8), 0b100u);  // the first needs 43 more, the third 3
}

TEST(TrendGroupTest, ReachingSurvivesRecomputation) {
  TrendGroup g({1e9}, 4);
  for (int i = 0; i < 100; ++i) Add(g, 1000.0 + 10 * i, 1e6 + 1e3 * i);  // 100 per x
  // Latest: x = 1990, y = 1.099e6; 1e9 is 9,989,010 x later.
  EXPECT_EQ(g.Reaching(9'989'011, 0.8), 1u);
  EXPECT_EQ(g.Reaching(9'989'009, 0.8), 0u);
}

TEST(TrendGroupTest, StaysAccurateOverLongRunsAndLargeValues) {
  // A week of 10 s windows, latencies around a second, rising 1 µs per window.
  TrendGroup g({0}, 12);
  const int n = 7 * 24 * 360;
  for (int i = 0; i < n; ++i) Add(g, 10.0 * i, 1e9 + 1e3 * i + (i % 2 ? 5 : -5));
  std::optional<LineFit> fit = g.Fit(0);
  ASSERT_TRUE(fit.has_value());
  EXPECT_NEAR(fit->slope, 100, 0.5);  // ns per second
  const double x = 10.0 * (n - 1);
  EXPECT_NEAR(fit->intercept + fit->slope * x, 1e9 + 1e3 * (n - 1), 10);
  EXPECT_GT(fit->r_squared, 0.99);
}

}  // namespace
}  // namespace gridprobe::budgets
