#include "userspace/analyzers/budgets/trend.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <deque>
#include <optional>
#include <random>
#include <utility>
#include <vector>

namespace gridprobe::budgets {
namespace {

// One window in which every group in `ys` has a sample.
void Window(Trends& t, double x, const std::vector<std::pair<int, std::vector<double>>>& ys,
            double within = 1e9, double min_r_squared = 0.8) {
  t.BeginWindow(x);
  for (const auto& [g, values] : ys) {
    double* y = t.Sample(g, false);
    std::copy(values.begin(), values.end(), y);
  }
  t.EndWindow(within, min_r_squared);
}

// One group of one series.
void Add(Trends& t, double x, double y) { Window(t, x, {{0, {y}}}); }

TEST(TrendsTest, ExactLine) {
  Trends t(8);
  t.AddGroup({0});
  EXPECT_EQ(t.Fit(0, 0), std::nullopt);
  Add(t, 10, 5);
  EXPECT_EQ(t.Fit(0, 0), std::nullopt);  // one point is no line
  for (int i = 1; i < 6; ++i) Add(t, 10 + i * 10, 5 + i * 20);
  std::optional<LineFit> fit = t.Fit(0, 0);
  ASSERT_TRUE(fit.has_value());
  EXPECT_DOUBLE_EQ(fit->slope, 2);
  EXPECT_DOUBLE_EQ(fit->intercept, -15);
  EXPECT_DOUBLE_EQ(fit->r_squared, 1);
  EXPECT_EQ(fit->points, 6);
  EXPECT_EQ(t.size(0), 6);
  EXPECT_EQ(t.oldest_x(0), 10);
}

TEST(TrendsTest, FlatSeriesHasNoTrend) {
  Trends t(5);
  t.AddGroup({0});
  for (int i = 0; i < 9; ++i) Add(t, i, 42);
  std::optional<LineFit> fit = t.Fit(0, 0);
  ASSERT_TRUE(fit.has_value());
  EXPECT_EQ(fit->slope, 0);
  EXPECT_EQ(fit->r_squared, 0);
  EXPECT_DOUBLE_EQ(fit->intercept, 42);
}

TEST(TrendsTest, KeepsOnlyTheLastSamples) {
  Trends t(4);
  t.AddGroup({0});
  for (int i = 0; i < 10; ++i) Add(t, i, -100.0 * i);  // falling, then forgotten
  for (int i = 10; i < 14; ++i) Add(t, i, 3.0 * i + 1);
  std::optional<LineFit> fit = t.Fit(0, 0);
  ASSERT_TRUE(fit.has_value());
  EXPECT_NEAR(fit->slope, 3, 1e-9);
  EXPECT_NEAR(fit->intercept, 1, 1e-6);
  EXPECT_EQ(fit->points, 4);
  EXPECT_EQ(t.oldest_x(0), 10);
}

TEST(TrendsTest, SeriesAreIndependent) {
  Trends t(6);
  t.AddGroup({0, 0, 0});
  for (int i = 0; i < 9; ++i) Window(t, i, {{0, {2.0 * i, 7, 100 - 5.0 * i}}});
  EXPECT_NEAR(t.Fit(0, 0)->slope, 2, 1e-12);
  EXPECT_EQ(t.Fit(0, 1)->slope, 0);
  EXPECT_NEAR(t.Fit(0, 2)->slope, -5, 1e-12);
  EXPECT_NEAR(t.Fit(0, 2)->intercept, 100, 1e-9);
}

TEST(TrendsTest, RestartForgetsTheSamples) {
  Trends t(4);
  t.AddGroup({0});
  for (int i = 0; i < 6; ++i) Add(t, i, i);
  t.BeginWindow(100);
  *t.Sample(0, /*restart=*/true) = 7;
  t.EndWindow(1e9, 0.8);
  EXPECT_EQ(t.size(0), 1);
  Add(t, 101, 9);
  EXPECT_NEAR(t.Fit(0, 0)->slope, 2, 1e-12);
  EXPECT_EQ(t.oldest_x(0), 100);
}

// Whether a series of `points` is found heading for `target`.
bool Reaches(const std::vector<std::pair<double, double>>& points, double target, double within,
             double min_r_squared) {
  Trends t(12);
  t.AddGroup({target});
  for (const auto& [x, y] : points) Window(t, x, {{0, {y}}}, within, min_r_squared);
  return t.Reaching(0) == 1;
}

TEST(TrendsTest, ReachingAgreesWithTheFit) {
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

TEST(TrendsTest, ReachingIsPerSeries) {
  Trends t(12);
  t.AddGroup({100, 100, 100});
  for (int i = 0; i < 8; ++i) Window(t, i, {{0, {50.0 + i, 50.0 - i, 97.0 + 0.3 * i}}}, 1000);
  EXPECT_EQ(t.Reaching(0), 0b101u);
  Window(t, 8, {{0, {58, 42, 99.4}}}, 10);
  EXPECT_EQ(t.Reaching(0), 0b100u);  // the first needs 42 more, the third 2
}

TEST(TrendsTest, ReachingOnlyForGroupsSampledInTheWindow) {
  Trends t(12);
  t.AddGroup({100});
  t.AddGroup({100});
  for (int i = 0; i < 8; ++i) Window(t, i, {{0, {50.0 + i}}, {1, {50.0 + i}}});
  EXPECT_EQ(t.Reaching(0), 1u);
  EXPECT_EQ(t.Reaching(1), 1u);
  Window(t, 8, {{0, {58}}});
  EXPECT_EQ(t.Reaching(0), 1u);
  EXPECT_EQ(t.Reaching(1), 0u);
  EXPECT_EQ(t.size(1), 8);
}

TEST(TrendsTest, ReachingSurvivesRecomputation) {
  Trends t(4);
  t.AddGroup({1e9});
  // Latest: x = 1990, y = 1.099e6, rising 100 per x; 1e9 is 9,989,010 x later.
  for (int i = 0; i < 99; ++i) Add(t, 1000.0 + 10 * i, 1e6 + 1e3 * i);
  Window(t, 1990, {{0, {1.099e6}}}, 9'989'011);
  EXPECT_EQ(t.Reaching(0), 1u);
  Trends u(4);
  u.AddGroup({1e9});
  for (int i = 0; i < 99; ++i) Add(u, 1000.0 + 10 * i, 1e6 + 1e3 * i);
  Window(u, 1990, {{0, {1.099e6}}}, 9'989'009);
  EXPECT_EQ(u.Reaching(0), 0u);
}

TEST(TrendsTest, StaysAccurateOverLongRunsAndLargeValues) {
  // A week of 10 s windows, latencies around a second, rising 1 µs per window.
  Trends t(12);
  t.AddGroup({0});
  const int n = 7 * 24 * 360;
  for (int i = 0; i < n; ++i) Add(t, 10.0 * i, 1e9 + 1e3 * i + (i % 2 ? 5 : -5));
  std::optional<LineFit> fit = t.Fit(0, 0);
  ASSERT_TRUE(fit.has_value());
  EXPECT_NEAR(fit->slope, 100, 0.5);  // ns per second
  const double x = 10.0 * (n - 1);
  EXPECT_NEAR(fit->intercept + fit->slope * x, 1e9 + 1e3 * (n - 1), 10);
  EXPECT_GT(fit->r_squared, 0.99);
}

// The line through `points`, fitted directly from their means, and whether
// it reaches `target` within `within` of the last x with R² >= min_r_squared;
// `margin` says how far the answer is from flipping (relative).
struct Direct {
  LineFit fit;
  bool reaching = false;
  double margin = 0;
};
Direct DirectFit(const std::deque<std::pair<double, double>>& points, double target, double within,
                 double min_r_squared) {
  const double n = static_cast<double>(points.size());
  double mx = 0, my = 0;
  for (const auto& [x, y] : points) {
    mx += x / n;
    my += y / n;
  }
  double vxx = 0, vxy = 0, vyy = 0;
  for (const auto& [x, y] : points) {
    vxx += (x - mx) * (x - mx);
    vxy += (x - mx) * (y - my);
    vyy += (y - my) * (y - my);
  }
  Direct d;
  d.fit.points = static_cast<int>(points.size());
  d.fit.slope = vxy / vxx;
  d.fit.intercept = my - d.fit.slope * mx;
  d.fit.r_squared = vyy > 0 ? std::min(1.0, vxy * vxy / (vxx * vyy)) : 0;
  const double latest = d.fit.intercept + d.fit.slope * points.back().first;
  const double eta = (target - latest) / d.fit.slope;
  d.reaching =
      d.fit.slope > 0 && d.fit.r_squared >= min_r_squared && latest < target && eta <= within;
  d.margin = std::min({std::abs(d.fit.r_squared - min_r_squared),
                       std::abs(target - latest) / std::abs(target),
                       std::abs(eta - within) / within, std::abs(d.fit.slope)});
  return d;
}

// Groups of 1 to 6 series sampled at random: some skip windows (so their x
// differ from the others'), some restart; every line and every Reaching bit
// must be the direct fit of the group's own last samples, and every Above
// bit the comparison of the latest sample with the target. Run with and
// without AVX2 (where the CPU has it; see AvxAndSse2Agree).
class TrendsRandomTest : public testing::TestWithParam<bool> {};

TEST_P(TrendsRandomTest, MatchesDirectFitsWhateverTheWindowsEachGroupHad) {
  constexpr int kCapacity = 7;
  constexpr double kWithin = 400, kMinR2 = 0.5;
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u(0, 1);
  Trends t(kCapacity, /*allow_avx2=*/GetParam());
  struct Model {
    std::vector<double> targets, level, slope;
    std::vector<std::deque<std::pair<double, double>>> points;  // per series
  };
  std::vector<Model> models;
  auto add_group = [&] {
    Model m;
    const int series = 1 + static_cast<int>(u(rng) * 6);
    for (int s = 0; s < series; ++s) {
      m.targets.push_back(1000 + 1000 * u(rng));
      m.level.push_back(500 * u(rng));
      m.slope.push_back((u(rng) - 0.3) * 5);
    }
    m.points.resize(series);
    EXPECT_EQ(t.AddGroup(m.targets), static_cast<int>(models.size()));
    models.push_back(std::move(m));
  };
  for (int g = 0; g < 12; ++g) add_group();
  int checked = 0, reaching = 0, aboves = 0;
  double x = 1e6;  // far from 0, as seconds since attach become
  for (int w = 0; w < 400; ++w) {
    x += 5 + 10 * u(rng);
    if (w == 150) add_group();  // a newcomer among the others
    t.BeginWindow(x);
    std::vector<bool> sampled(models.size());
    for (size_t g = 0; g < models.size(); ++g) {
      Model& m = models[g];
      if (g % 4 == 3 && u(rng) < 0.3) continue;  // not judged this window
      const bool restart = g % 5 == 1 && u(rng) < 0.02;
      double* y = t.Sample(static_cast<int>(g), restart);
      sampled[g] = true;
      for (size_t s = 0; s < m.points.size(); ++s) {
        if (restart) m.points[s].clear();
        if (u(rng) < 0.01) m.slope[s] = (u(rng) - 0.3) * 5;
        m.level[s] += m.slope[s] * 10 + (u(rng) - 0.5) * 20 * (s % 3);
        y[s] = m.level[s];
        m.points[s].emplace_back(x, m.level[s]);
        if (m.points[s].size() > kCapacity) m.points[s].pop_front();
      }
    }
    t.EndWindow(kWithin, kMinR2);
    bool any_above = false;
    for (size_t g = 0; g < models.size(); ++g) {
      const Model& m = models[g];
      const int id = static_cast<int>(g);
      ASSERT_EQ(t.size(id), static_cast<int>(m.points[0].size())) << "window " << w;
      if (m.points[0].empty()) continue;
      EXPECT_EQ(t.oldest_x(id), m.points[0].front().first);
      uint32_t expected = 0, known = 0;
      for (size_t s = 0; s < m.points.size(); ++s) {
        std::optional<LineFit> fit = t.Fit(id, static_cast<int>(s));
        if (m.points[s].size() < 2) {
          EXPECT_EQ(fit, std::nullopt);
          continue;
        }
        ASSERT_TRUE(fit.has_value());
        const Direct d = DirectFit(m.points[s], m.targets[s], kWithin, kMinR2);
        EXPECT_NEAR(fit->slope, d.fit.slope, 1e-9 * (1 + std::abs(d.fit.slope)));
        EXPECT_NEAR(fit->intercept, d.fit.intercept, 1e-6 * (1 + std::abs(d.fit.intercept)));
        EXPECT_NEAR(fit->r_squared, d.fit.r_squared, 1e-9);
        EXPECT_EQ(fit->points, d.fit.points);
        if (d.margin > 1e-6) {  // not on the edge, where rounding may decide
          known |= 1u << s;
          expected |= static_cast<uint32_t>(d.reaching) << s;
        }
      }
      if (!sampled[g]) expected = known = 0;  // only this window's groups are tested
      EXPECT_EQ(t.Reaching(id) & known, expected) << "window " << w << " group " << g;
      uint32_t above = 0;
      for (size_t s = 0; sampled[g] && s < m.points.size(); ++s) {
        above |= static_cast<uint32_t>(m.points[s].back().second > m.targets[s]) << s;
      }
      EXPECT_EQ(t.Above(id), above) << "window " << w << " group " << g;
      aboves += std::popcount(above);
      any_above |= above != 0;
      checked += std::popcount(known);
      reaching += std::popcount(expected);
    }
    EXPECT_EQ(t.any_above(), any_above) << "window " << w;
  }
  EXPECT_GT(checked, 10000);
  EXPECT_GT(reaching, 100);  // both answers are exercised
  EXPECT_GT(aboves, 100);
}

INSTANTIATE_TEST_SUITE_P(Simd, TrendsRandomTest, testing::Values(true, false),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "Avx2WhereAvailable" : "Sse2";
                         });

// The AVX2 loop must give the same sums as the SSE2 one, bit for bit: the
// same series through both, many groups side by side (runs of pairs of
// every parity), compared exactly.
TEST(TrendsTest, AvxAndSse2Agree) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  Trends wide(12, true), narrow(12, false);
  std::vector<int> sizes;
  for (int g = 0; g < 40; ++g) {
    const int series = 1 + g % 7;
    std::vector<double> targets;
    for (int s = 0; s < series; ++s) targets.push_back(1e6 * (1 + u(rng)));
    wide.AddGroup(targets);
    narrow.AddGroup(targets);
    sizes.push_back(series);
  }
  std::vector<double> level(40 * 7);
  for (double& l : level) l = 1e6 * u(rng);
  int reaching = 0;
  for (int w = 0; w < 500; ++w) {
    const double x = 1e5 + 10.0 * w + u(rng);
    wide.BeginWindow(x);
    narrow.BeginWindow(x);
    for (int g = 0; g < 40; ++g) {
      if (g % 9 == 4 && u(rng) < 0.2) continue;
      double* a = wide.Sample(g, false);
      double* b = narrow.Sample(g, false);
      for (int s = 0; s < sizes[g]; ++s) {
        double& l = level[7 * g + s];
        l += (u(rng) - 0.3) * 1e3 * (s + 1);
        a[s] = b[s] = l;
      }
    }
    EXPECT_EQ(wide.EndWindow(3600, 0.8), narrow.EndWindow(3600, 0.8));
    EXPECT_EQ(wide.any_above(), narrow.any_above());
    for (int g = 0; g < 40; ++g) {
      ASSERT_EQ(wide.Reaching(g), narrow.Reaching(g)) << "window " << w << " group " << g;
      ASSERT_EQ(wide.Above(g), narrow.Above(g)) << "window " << w << " group " << g;
      reaching += std::popcount(wide.Reaching(g));
      for (int s = 0; s < sizes[g]; ++s) {
        std::optional<LineFit> a = wide.Fit(g, s), b = narrow.Fit(g, s);
        ASSERT_EQ(a.has_value(), b.has_value());
        if (!a.has_value()) continue;
        // Exact: both loops do the same operations in the same order.
        ASSERT_EQ(a->slope, b->slope) << "window " << w << " group " << g << " series " << s;
        ASSERT_EQ(a->intercept, b->intercept);
        ASSERT_EQ(a->r_squared, b->r_squared);
      }
    }
  }
  EXPECT_GT(reaching, 100);
}

}  // namespace
}  // namespace gridprobe::budgets
