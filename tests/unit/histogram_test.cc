#include "userspace/model/histogram.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace gridprobe {
namespace {

uint64_t ExactPercentile(std::vector<uint64_t> v, double q) {
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

TEST(HistogramBuckets, SmallValuesAreExact) {
  for (uint64_t v = 0; v < HIST_SUB_BUCKETS; ++v) {
    EXPECT_EQ(Histogram::BucketOf(v), v);
    EXPECT_EQ(Histogram::BucketLow(static_cast<uint32_t>(v)), v);
  }
}

TEST(HistogramBuckets, EveryValueFallsInsideItsBucket) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200000; ++i) {
    uint64_t v = rng() >> (rng() % 64);
    uint32_t b = Histogram::BucketOf(v);
    ASSERT_LT(b, Histogram::kBuckets);
    if (v < (uint64_t{1} << HIST_MAX_EXP)) {
      ASSERT_LE(Histogram::BucketLow(b), v) << v;
      ASSERT_GT(Histogram::BucketHigh(b), v) << v;
    } else {
      ASSERT_EQ(b, Histogram::kBuckets - 1);
    }
  }
}

TEST(HistogramBuckets, BoundariesAreContiguousAndNarrow) {
  for (uint32_t b = 0; b + 1 < Histogram::kBuckets; ++b) {
    ASSERT_EQ(Histogram::BucketHigh(b), Histogram::BucketLow(b + 1));
    ASSERT_EQ(Histogram::BucketOf(Histogram::BucketLow(b)), b);
    ASSERT_EQ(Histogram::BucketOf(Histogram::BucketHigh(b) - 1), b);
    uint64_t width = Histogram::BucketHigh(b) - Histogram::BucketLow(b);
    // No bucket is wider than 1/64 of the smallest value it holds.
    ASSERT_LE(width * HIST_SUB_BUCKETS, std::max<uint64_t>(Histogram::BucketLow(b), 64));
  }
}

TEST(HistogramBuckets, Log2MatchesTheCompiler) {
  for (uint32_t e = 0; e < 64; ++e) {
    uint64_t v = uint64_t{1} << e;
    EXPECT_EQ(hist_log2(v), e);
    EXPECT_EQ(hist_log2(v | (v >> 1)), e);
    if (e > 0) {
      EXPECT_EQ(hist_log2(v - 1), static_cast<uint32_t>(63 - __builtin_clzll(v - 1)));
    }
  }
}

// Percentiles within 2% (the bound) and in fact within one half
// bucket, on the distributions latencies take.
class PercentileError : public ::testing::TestWithParam<const char*> {};

std::vector<uint64_t> Sample(const std::string& kind, std::mt19937_64& rng, size_t n) {
  std::vector<uint64_t> v;
  v.reserve(n);
  std::uniform_real_distribution<double> uni(1e3, 5e7);
  std::exponential_distribution<double> expo(1.0 / 2e6);
  std::normal_distribution<double> fast(2e5, 2e4), slow(1.5e8, 1e7);
  std::bernoulli_distribution slow_share(0.2);
  std::lognormal_distribution<double> logn(13.0, 2.0);
  for (size_t i = 0; i < n; ++i) {
    double x = 0;
    if (kind == "uniform") x = uni(rng);
    if (kind == "exponential") x = expo(rng) + 100;
    if (kind == "bimodal") x = slow_share(rng) ? slow(rng) : fast(rng);
    if (kind == "heavy_tailed") x = logn(rng);
    v.push_back(static_cast<uint64_t>(std::max(1.0, x)));
  }
  return v;
}

TEST_P(PercentileError, WithinTwoPercentOfExact) {
  std::mt19937_64 rng(42);
  for (size_t n : {10, 101, 1000, 100000}) {
    std::vector<uint64_t> v = Sample(GetParam(), rng, n);
    Histogram h;
    for (uint64_t x : v) h.Record(x);
    for (double q : {0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
      double exact = static_cast<double>(ExactPercentile(v, q));
      double got = static_cast<double>(h.Percentile(q));
      EXPECT_LE(std::abs(got - exact), 0.008 * exact + 0.5)
          << GetParam() << " n=" << n << " q=" << q << " exact=" << exact << " got=" << got;
    }
    EXPECT_EQ(h.min(), *std::min_element(v.begin(), v.end()));
    EXPECT_EQ(h.max(), *std::max_element(v.begin(), v.end()));
  }
}

INSTANTIATE_TEST_SUITE_P(Distributions, PercentileError,
                         ::testing::Values("uniform", "exponential", "bimodal", "heavy_tailed"));

TEST(Histogram, MergeAcrossCpusEqualsOneHistogram) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> v = Sample("bimodal", rng, 50000);
  Histogram all;
  std::vector<op_hist> cpus(4);
  for (op_hist& c : cpus) c = op_hist{};
  for (size_t i = 0; i < v.size(); ++i) {
    all.Record(v[i]);
    op_hist& c = cpus[i % cpus.size()];
    if (c.count == 0 || v[i] < c.min_ns) c.min_ns = v[i];
    c.max_ns = std::max<uint64_t>(c.max_ns, v[i]);
    c.count++;
    c.sum_ns += v[i];
    c.buckets[hist_bucket(v[i])]++;
  }
  cpus[2].unwound = 3;
  Histogram merged;
  for (const op_hist& c : cpus) merged.Add(c);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.sum(), all.sum());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_EQ(merged.unwound(), 3u);
  EXPECT_EQ(merged.buckets(), all.buckets());
  EXPECT_EQ(merged.Percentile(0.99), all.Percentile(0.99));
}

TEST(Histogram, CpuWithNoCallsDoesNotZeroTheMinimum) {
  op_hist idle{};
  op_hist busy{};
  busy.count = 1;
  busy.min_ns = busy.max_ns = busy.sum_ns = 5000;
  busy.buckets[hist_bucket(5000)] = 1;
  Histogram h;
  h.Add(idle);
  h.Add(busy);
  EXPECT_EQ(h.min(), 5000u);
}

TEST(Histogram, WindowIsTheDifferenceOfTwoStates) {
  Histogram before;
  for (uint64_t x : {1000, 2000, 3000}) before.Record(x);
  Histogram after = before;
  for (uint64_t x : {500000, 600000}) after.Record(x);
  Histogram w = after.Since(before);
  EXPECT_EQ(w.count(), 2u);
  EXPECT_EQ(w.sum(), 1100000u);
  EXPECT_EQ(w.max(), 600000u);  // a new maximum is exact
  EXPECT_GE(w.min(), 500000u * 99 / 100);
  EXPECT_LE(w.min(), 500000u);
  EXPECT_NEAR(static_cast<double>(w.Percentile(0.5)), 500000.0, 500000 * 0.008);
}

TEST(Histogram, EmptyHistogramReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.Percentile(0.5), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

}  // namespace
}  // namespace gridprobe
