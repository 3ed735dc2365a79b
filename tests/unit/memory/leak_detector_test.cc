#include "userspace/analyzers/memory/leak_detector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace gridprobe::memory {
namespace {

constexpr double kKB = 1000;   // the "KB"
constexpr double kBase = 5e6;  // live bytes the category holds at the start

absl::Time Second(int i) { return absl::FromUnixSeconds(1'700'000'000) + absl::Seconds(i); }

// Uniform noise in [-amplitude, amplitude] straight from the mt19937_64
// stream (which the standard pins down; its distributions it does not), so
// that every seed gives the same series with any standard library.
class Noise {
 public:
  Noise(uint64_t seed, double amplitude) : rng_(seed), amplitude_(amplitude) {}
  double operator()() { return amplitude_ * (2 * ((rng_() >> 11) * 0x1.0p-53) - 1); }

 private:
  std::mt19937_64 rng_;
  double amplitude_;
};

// Live bytes at second i, beyond kBase.
using Shape = std::function<double(int)>;

// Feeds kBase + shape(i) + noise every second for i = 0..seconds; returns the
// verdict after each sample.
std::vector<LeakVerdict> Feed(const Shape& shape, int seconds, Noise noise,
                              const LeakOptions& options = {}) {
  LeakDetector detector(options);
  std::vector<LeakVerdict> verdicts;
  for (int i = 0; i <= seconds; ++i) {
    detector.Add(Second(i), std::llround(kBase + shape(i) + noise()));
    verdicts.push_back(detector.Verdict());
  }
  return verdicts;
}

std::vector<LeakVerdict> Feed(const Shape& shape, int seconds) {
  return Feed(shape, seconds, Noise(0, 0));
}

// Second of the first suspected verdict; -1 if none.
int FirstSuspected(const std::vector<LeakVerdict>& verdicts) {
  for (size_t i = 0; i < verdicts.size(); ++i) {
    if (verdicts[i].suspected) return static_cast<int>(i);
  }
  return -1;
}

void ExpectNeverSuspected(const std::vector<LeakVerdict>& verdicts) {
  for (size_t i = 0; i < verdicts.size(); ++i) {
    ASSERT_FALSE(verdicts[i].suspected) << "at " << i << " s: " << verdicts[i].reason;
    ASSERT_EQ(verdicts[i].since, absl::InfinitePast()) << "at " << i << " s";
    ASSERT_EQ(verdicts[i].projected_bytes_1h, verdicts[i].live_bytes_now) << "at " << i << " s";
  }
}

Shape Linear(double bytes_per_s) {
  return [=](int i) { return bytes_per_s * i; };
}

// Grows at `bytes_per_s` for `seconds`, then holds.
Shape FillThenFlat(double bytes_per_s, int seconds) {
  return [=](int i) { return bytes_per_s * std::min(i, seconds); };
}

// Grows for `period` seconds, drops back to where it started, again and again.
Shape Sawtooth(double bytes_per_s, int period) {
  return [=](int i) { return bytes_per_s * (i % period); };
}

TEST(LeakDetectorTest, StartsWithNoVerdict) {
  LeakDetector detector;
  LeakVerdict v = detector.Verdict();
  EXPECT_FALSE(v.suspected);
  EXPECT_EQ(v.growth_bytes_per_s, 0);
  EXPECT_EQ(v.since, absl::InfinitePast());
  EXPECT_EQ(v.reason, "collecting history: 0 samples");

  detector.Add(Second(0), 1000);
  v = detector.Verdict();
  EXPECT_EQ(v.live_bytes_now, 1000);
  EXPECT_EQ(v.projected_bytes_1h, 1000);
  EXPECT_EQ(v.window_s, 0);
  EXPECT_EQ(v.reason, "collecting history: 1 sample");
}

// Steady growth without noise: the rate is known from the second sample, but
// a leak is first reported at 1.5 * min_window, when a cache that filled
// within min_window would have been flat for the whole last third.
TEST(LeakDetectorTest, NoiselessLeakIsReportedAtOneAndAHalfMinWindows) {
  const std::vector<LeakVerdict> v = Feed(Linear(27 * kKB), 120);

  EXPECT_NEAR(v[5].growth_bytes_per_s, 27 * kKB, 1e-6);  // reported while collecting history
  EXPECT_EQ(v[29].reason, "collecting history: 29 s of 30 s");
  EXPECT_EQ(v[30].reason,
            "growth of 26.4 KiB/s over 30 s, needs 45 s to tell from a cache filling for 30 s");
  for (int i = 0; i < 45; ++i) EXPECT_FALSE(v[i].suspected) << i;

  EXPECT_EQ(FirstSuspected(v), 45);
  EXPECT_EQ(v[45].reason, "steady growth of 26.4 KiB/s over 45 s (r²=1.00)");
  EXPECT_NEAR(v[45].growth_bytes_per_s, 27 * kKB, 1e-6);
  EXPECT_DOUBLE_EQ(v[45].window_s, 45);
  EXPECT_GT(v[45].confidence, 0.99);
  EXPECT_EQ(v[45].live_bytes_now, kBase + 45 * 27 * kKB);
  EXPECT_DOUBLE_EQ(v[45].projected_bytes_1h, kBase + 45 * 27 * kKB + 27 * kKB * 3600);
  for (int i = 45; i <= 120; ++i) {
    ASSERT_TRUE(v[i].suspected) << i;
    ASSERT_EQ(v[i].since, Second(45)) << i;
    ASSERT_DOUBLE_EQ(v[i].projected_bytes_1h, v[i].live_bytes_now + v[i].growth_bytes_per_s * 3600);
  }
}

// The goal: ≈27 KB/s under ±300 KB of noise per 1 s sample is flagged
// within 60 s with the rate within 10% of the truth, and stays flagged.
TEST(LeakDetectorTest, NoisyLeakIsFlaggedWithin60sAndItsRateWithin10Percent) {
  constexpr double kRate = 27 * kKB;
  const std::vector<LeakVerdict> v = Feed(Linear(kRate), 300, Noise(1, 300 * kKB));

  const int first = FirstSuspected(v);
  RecordProperty("first_flag_s", first);
  RecordProperty("rate_at_first_flag", absl::StrCat(v[first].growth_bytes_per_s));
  RecordProperty("rate_at_60_s", absl::StrCat(v[60].growth_bytes_per_s));
  EXPECT_EQ(v[45].reason, "growth of 28.6 KiB/s ± 6% over 45 s, too noisy to report yet");
  ASSERT_GE(first, 45);
  ASSERT_LE(first, 60);
  // At the first flag the rate is as good as that much noisy history allows;
  // this series happens to run high early on (+14% at 48 s). How often the
  // first flag is within 10% is measured across seeds below.
  EXPECT_NEAR(v[first].growth_bytes_per_s, kRate, 0.15 * kRate);
  for (int i = first; i <= 300; ++i) {
    ASSERT_TRUE(v[i].suspected) << i << ": " << v[i].reason;
    ASSERT_EQ(v[i].since, Second(first));
  }
  for (int i = 60; i <= 300; ++i) ASSERT_NEAR(v[i].growth_bytes_per_s, kRate, 0.10 * kRate) << i;
  EXPECT_GT(v[300].confidence, 0.9);
  EXPECT_NEAR(v[300].growth_bytes_per_s, kRate, 0.02 * kRate);
}

// The same over many series: how often the goal is met is a property of the
// method. Over 500 other seeds: flagged by 60 s 99.4%, flagged at 60 s with
// the rate within 10% 96.0%, within 10% already at the first flag 91.0%. The
// bars sit about three binomial standard deviations below those rates, so
// that a change that makes the method worse fails and luck does not.
TEST(LeakDetectorTest, NoisyLeakAcrossSeeds) {
  constexpr double kRate = 27 * kKB;
  constexpr int kSeeds = 100;
  int flagged_by_60 = 0;
  int goal_met_at_60 = 0;
  int within_10_percent_at_first = 0;
  for (int seed = 100; seed < 100 + kSeeds; ++seed) {
    const std::vector<LeakVerdict> v = Feed(Linear(kRate), 120, Noise(seed, 300 * kKB));
    const int first = FirstSuspected(v);
    ASSERT_GE(first, 45) << "seed " << seed;
    ASSERT_LE(first, 70) << "seed " << seed;
    if (first <= 60) ++flagged_by_60;
    if (v[60].suspected && std::fabs(v[60].growth_bytes_per_s / kRate - 1) <= 0.10) {
      ++goal_met_at_60;
    }
    if (std::fabs(v[first].growth_bytes_per_s / kRate - 1) <= 0.10) ++within_10_percent_at_first;
    for (int i = first; i <= 120; ++i)
      ASSERT_TRUE(v[i].suspected) << "seed " << seed << " at " << i;
    EXPECT_NEAR(v[120].growth_bytes_per_s, kRate, 0.10 * kRate) << "seed " << seed;
  }
  RecordProperty("flagged_by_60_s", flagged_by_60);
  RecordProperty("goal_met_at_60_s", goal_met_at_60);
  RecordProperty("within_10_percent_at_first_flag", within_10_percent_at_first);
  EXPECT_GE(flagged_by_60, 0.97 * kSeeds);
  EXPECT_GE(goal_met_at_60, 0.90 * kSeeds);
  EXPECT_GE(within_10_percent_at_first, 0.82 * kSeeds);
}

// The cache: 20 s of growth at 50 KB/s, then flat under noise. Never a
// leak, neither while it grows nor once it has leveled off.
TEST(LeakDetectorTest, CacheThatFillsThenLevelsOffIsNeverALeak) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    const std::vector<LeakVerdict> v =
        Feed(FillThenFlat(50 * kKB, 20), 600, Noise(seed, 300 * kKB));
    ExpectNeverSuspected(v);
  }
  const std::vector<LeakVerdict> v = Feed(FillThenFlat(50 * kKB, 20), 600);
  ExpectNeverSuspected(v);
  EXPECT_TRUE(absl::StartsWith(v[45].reason, "grew, then leveled off: recent slope 0% of"))
      << v[45].reason;
  EXPECT_LT(v[45].confidence, 0.1);
}

// Caches of any size that fill within min_window, fast or slow.
TEST(LeakDetectorTest, CachesFillingWithinMinWindowAreNeverLeaks) {
  for (int fill_s : {5, 10, 20, 29}) {
    for (double kb_per_s : {25.0, 100.0, 1000.0}) {
      SCOPED_TRACE(absl::StrCat(kb_per_s, " KB/s for ", fill_s, " s"));
      ExpectNeverSuspected(
          Feed(FillThenFlat(kb_per_s * kKB, fill_s), 240, Noise(fill_s, 300 * kKB)));
      ExpectNeverSuspected(Feed(FillThenFlat(kb_per_s * kKB, fill_s), 240));
    }
  }
}

TEST(LeakDetectorTest, NoisyPlateauIsNeverALeak) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    const std::vector<LeakVerdict> v = Feed([](int) { return 0.0; }, 600, Noise(seed, 300 * kKB));
    ExpectNeverSuspected(v);
    for (int i = 30; i <= 600; ++i) ASSERT_LT(v[i].confidence, 0.2) << i;
  }
  const std::vector<LeakVerdict> flat = Feed([](int) { return 0.0; }, 30);
  EXPECT_EQ(flat[30].reason, "no growth: 0 B/s over 30 s is below 512 B/s");
  EXPECT_EQ(flat[30].confidence, 0);
}

// A periodic flush: 10 s of growth, then back to the same floor.
TEST(LeakDetectorTest, SawtoothOfAPeriodicFlushIsNotALeak) {
  const std::vector<LeakVerdict> v = Feed(Sawtooth(50 * kKB, 10), 600);
  ExpectNeverSuspected(v);
  EXPECT_EQ(v[45].reason,
            "floor did not rise: 0 B from the first third to the last, 0% of what 1.6 KiB/s "
            "predicts");
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    ExpectNeverSuspected(Feed(Sawtooth(50 * kKB, 10), 600, Noise(seed, 300 * kKB)));
  }
}

// A leak under the flush: the floor the sawtooth drops back to rises.
TEST(LeakDetectorTest, LeakUnderASawtoothIsALeak) {
  constexpr double kRate = 10 * kKB;
  const Shape saw = Sawtooth(50 * kKB, 10);
  const std::vector<LeakVerdict> v =
      Feed([&](int i) { return kRate * i + saw(i); }, 300, Noise(1, 100 * kKB));
  const int first = FirstSuspected(v);
  ASSERT_GE(first, 45);
  ASSERT_LE(first, 120);
  for (int i = first; i <= 300; ++i) ASSERT_TRUE(v[i].suspected) << i << ": " << v[i].reason;
  for (int i = 120; i <= 300; ++i) ASSERT_NEAR(v[i].growth_bytes_per_s, kRate, 0.10 * kRate) << i;
  EXPECT_NEAR(v[300].growth_bytes_per_s, kRate, 0.05 * kRate);
}

// A one-time jump, then flat. Never a leak, however soon after the jump: at
// most half the pairs of samples straddle it, so Theil-Sen hardly sees it, and
// the floor-rise and last-third checks reject what noise lets through.
TEST(LeakDetectorTest, StepIsNotALeak) {
  const std::vector<LeakVerdict> v = Feed([](int i) { return i >= 100 ? 2e6 : 0.0; }, 110);
  EXPECT_EQ(v[110].reason, "no growth: 0 B/s over 110 s is below 512 B/s");
  for (int step_at : {10, 40, 100}) {
    SCOPED_TRACE(absl::StrCat("step at ", step_at, " s"));
    const Shape step = [=](int i) { return i >= step_at ? 2e6 : 0.0; };
    ExpectNeverSuspected(Feed(step, 600));
    ExpectNeverSuspected(Feed(step, 600, Noise(step_at, 300 * kKB)));
  }
}

TEST(LeakDetectorTest, ShrinkingIsNeverALeak) {
  const std::vector<LeakVerdict> v = Feed(Linear(-20 * kKB), 30);
  EXPECT_EQ(v[30].reason, "shrinking by 19.5 KiB/s over 30 s");
  EXPECT_EQ(v[30].confidence, 0);
  const std::vector<LeakVerdict> noisy = Feed(Linear(-20 * kKB), 240, Noise(1, 300 * kKB));
  ExpectNeverSuspected(noisy);
  EXPECT_LT(noisy[240].growth_bytes_per_s, 0);
}

TEST(LeakDetectorTest, NoVerdictBeforeMinSamples) {
  // A sample every 5 s: 30 s of history holds only 7 samples.
  LeakDetector detector;
  for (int i = 0; i <= 30; i += 5) detector.Add(Second(i), kBase + 27 * kKB * i);
  EXPECT_FALSE(detector.Verdict().suspected);
  EXPECT_EQ(detector.Verdict().reason, "collecting history: 7 of 10 samples");
  for (int i = 35; i <= 45; i += 5) detector.Add(Second(i), kBase + 27 * kKB * i);
  EXPECT_TRUE(detector.Verdict().suspected) << detector.Verdict().reason;
  EXPECT_EQ(detector.Verdict().since, Second(45));
}

TEST(LeakDetectorTest, MinWindowIsAnOption) {
  LeakOptions options;
  options.min_window = absl::Seconds(10);
  options.floor_span = absl::Seconds(3);
  const std::vector<LeakVerdict> v = Feed(Linear(27 * kKB), 30, Noise(0, 0), options);
  EXPECT_EQ(v[9].reason, "collecting history: 9 s of 10 s");
  EXPECT_EQ(v[10].reason,
            "growth of 26.4 KiB/s over 10 s, needs 15 s to tell from a cache filling for 10 s");
  EXPECT_EQ(FirstSuspected(v), 15);
}

TEST(LeakDetectorTest, MinSamplesIsAnOption) {
  LeakOptions options;
  options.min_samples = 50;
  const std::vector<LeakVerdict> v = Feed(Linear(27 * kKB), 60, Noise(0, 0), options);
  EXPECT_EQ(v[45].reason, "collecting history: 46 of 50 samples");
  EXPECT_EQ(FirstSuspected(v), 49);
}

TEST(LeakDetectorTest, SlowGrowthIsNotALeak) {
  const std::vector<LeakVerdict> v = Feed(Linear(400), 120);
  ExpectNeverSuspected(v);
  EXPECT_EQ(v[120].reason, "no growth: 400 B/s over 2.0 min is below 512 B/s");
  EXPECT_NEAR(v[120].growth_bytes_per_s, 400, 1e-9);
}

// `since` is the time of the sample that started the current suspicion; it
// goes back to InfinitePast when the suspicion ends, and a new suspicion gets
// a new one.
TEST(LeakDetectorTest, SinceMarksTheStartOfTheCurrentSuspicion) {
  LeakOptions options;
  options.max_window = absl::Minutes(2);
  // Leaks for 100 s, holds for 200 s, leaks again.
  const Shape shape = [](int i) {
    if (i < 100) return 27 * kKB * i;
    if (i < 300) return 27 * kKB * 100;
    return 27 * kKB * (100 + i - 300);
  };
  const std::vector<LeakVerdict> v = Feed(shape, 500, Noise(3, 100 * kKB), options);

  std::vector<std::pair<int, int>> streaks;  // [first, last] suspected second
  for (int i = 0; i <= 500; ++i) {
    if (!v[i].suspected) {
      ASSERT_EQ(v[i].since, absl::InfinitePast()) << i;
      continue;
    }
    if (i == 0 || !v[i - 1].suspected) streaks.emplace_back(i, i);
    streaks.back().second = i;
    ASSERT_EQ(v[i].since, Second(streaks.back().first)) << i;
  }
  ASSERT_EQ(streaks.size(), 2u);
  EXPECT_LE(streaks[0].first, 60);
  EXPECT_GT(streaks[0].second, 100);  // it takes evidence to end a suspicion ...
  EXPECT_LT(streaks[0].second, 160);  // ... but not much once growth stops
  EXPECT_GT(streaks[1].first, 300);
  EXPECT_LE(streaks[1].first, 370);
  EXPECT_EQ(streaks[1].second, 500);
}

TEST(LeakDetectorTest, WindowSlidesOverMaxWindow) {
  // Leaked for a minute long ago, flat since: once the leak has slid out of
  // the window, nothing is left of it.
  const std::vector<LeakVerdict> v = Feed(FillThenFlat(27 * kKB, 60), 700, Noise(4, 300 * kKB));
  EXPECT_DOUBLE_EQ(v[700].window_s, 600);
  EXPECT_FALSE(v[700].suspected);
  EXPECT_LT(std::fabs(v[700].growth_bytes_per_s), 512) << v[700].reason;
}

TEST(LeakDetectorTest, SampleEarlierThanTheLastIsIgnored) {
  LeakDetector detector;
  detector.Add(Second(20), 2000);
  detector.Add(Second(10), 1000);
  EXPECT_EQ(detector.Verdict().live_bytes_now, 2000);
  detector.Add(Second(20), 3000);  // same time is fine
  EXPECT_EQ(detector.Verdict().live_bytes_now, 3000);
}

// With fewer pairs than a 600-sample window holds, Theil-Sen samples them and
// still finds the rate.
TEST(LeakDetectorTest, SampledPairsFindTheSameRate) {
  LeakOptions few;
  few.max_pairs = 2000;
  const std::vector<LeakVerdict> all = Feed(Linear(27 * kKB), 600, Noise(5, 300 * kKB));
  const std::vector<LeakVerdict> sampled = Feed(Linear(27 * kKB), 600, Noise(5, 300 * kKB), few);
  EXPECT_NEAR(sampled[600].growth_bytes_per_s, 27 * kKB, 0.01 * 27 * kKB);
  EXPECT_NEAR(sampled[600].growth_bytes_per_s, all[600].growth_bytes_per_s, 0.005 * 27 * kKB);
  EXPECT_TRUE(sampled[600].suspected);
}

}  // namespace
}  // namespace gridprobe::memory
