// Leak suspicion from the trend of one category's live bytes.
//
// Every interval the agent knows how many bytes a category holds (allocated,
// not yet freed). A leak is memory that is never given back, so it shows as a
// *floor* under that series that rises steadily: transient allocations come
// and go above the floor, a cache fills and then stops, a periodic flush drops
// back to where it started. LeakDetector keeps a sliding window of samples and
// judges the floor's trend, not the age or size of the memory.
#ifndef GRIDPROBE_USERSPACE_MEMORY_LEAK_DETECTOR_H_
#define GRIDPROBE_USERSPACE_MEMORY_LEAK_DETECTOR_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

#include "absl/time/time.h"

namespace gridprobe::memory {

// How the window is judged. The defaults are tuned for 1 s samples of a
// program whose transient allocations add a few hundred KiB of noise; the
// method itself works for any sampling interval.
struct LeakOptions {
  // No verdict before this much history (time from the window's first sample
  // to its last) ...
  absl::Duration min_window = absl::Seconds(30);
  // ... and the window slides over at most this much.
  absl::Duration max_window = absl::Minutes(10);
  // No verdict with fewer samples in the window.
  size_t min_samples = 10;
  // A floor rising slower than this is never a leak.
  double min_growth_bytes_per_s = 512;

  // The floor is made of the samples that are the lowest of some
  // `floor_span`-long stretch of the window. It must be longer than the
  // period of the program's own ups and downs (a flush every 10 s) so that
  // they drop out; the price is that a sample's place in the floor is known
  // only `floor_span` after it was taken.
  absl::Duration floor_span = absl::Seconds(15);
  // Fit: r² of the floor about the growth line. Steady growth fits a line;
  // a step or a fill-then-flat curve fits one poorly (a noiseless step
  // cannot exceed 0.75).
  double min_fit = 0.8;
  // The floor must have risen from the window's first third to its last at
  // this fraction of the growth rate or more (the lowest samples of the two
  // thirds are compared). A flush that returns to the same floor does not.
  double min_floor_rise = 0.5;
  // Steadiness: the recent slope (from the middle third's level to the last
  // third's, each the median of its samples) must be at least this fraction
  // of the growth rate ...
  double min_recent_ratio = 0.5;
  // ... with this many standard errors to spare. Until the noise is small
  // enough for that, no leak is reported: a cache that filled just before the
  // last third cannot be told apart from a leak yet.
  double recent_z = 2.33;
  // A last third rising this slowly within itself (Theil-Sen slope, as a
  // fraction of the growth rate) has leveled off, whatever its level says.
  double min_last_third_ratio = 0.5;
  // The rate's standard error must be within this fraction of the rate
  // before a leak is first reported, so that the rate can be trusted.
  double max_growth_error = 0.055;
  // Theil-Sen takes the median over at most this many pairs of samples, so a
  // verdict costs O(max_pairs) whatever the window holds.
  size_t max_pairs = 20000;
};

struct LeakVerdict {
  bool suspected = false;
  // Theil-Sen slope of the floor over the window, also when not suspected
  // (0 with fewer than two samples).
  double growth_bytes_per_s = 0;
  // How strongly the window supports a leak at growth_bytes_per_s, 0..1: the
  // floor's fit (r²) times the probability (normal approximation) that the
  // recent slope is at least min_recent_ratio of the growth rate. Near 1:
  // the floor rises in a straight line right up to now. 0 while collecting
  // history and when the floor does not rise.
  double confidence = 0;
  double window_s = 0;  // span of the samples the verdict used
  int64_t live_bytes_now = 0;
  // live_bytes_now + growth * 3600 when suspected, else live_bytes_now.
  double projected_bytes_1h = 0;
  // When the current suspicion began: the time of the sample that first made
  // it suspected. InfinitePast when not suspected.
  absl::Time since = absl::InfinitePast();
  // One short sentence for people: why (not) a leak.
  std::string reason;
};

// Judges one category's live bytes. Not thread-safe.
class LeakDetector {
 public:
  explicit LeakDetector(LeakOptions options = {});

  // Records a sample and re-judges the window, so that `since` does not
  // depend on how often Verdict() is called. Costs O(n + max_pairs) for the
  // n samples in the window.
  // REQUIRES: t is not earlier than the previous sample's; an earlier sample
  // is dropped.
  void Add(absl::Time t, int64_t live_bytes);

  // The verdict as of the last Add(). O(1) apart from copying the reason.
  LeakVerdict Verdict() const { return verdict_; }

 private:
  struct Sample {
    absl::Time t;
    int64_t bytes;
  };

  LeakOptions options_;
  std::deque<Sample> samples_;  // oldest first, spanning at most max_window
  LeakVerdict verdict_;
};

}  // namespace gridprobe::memory

#endif  // GRIDPROBE_USERSPACE_MEMORY_LEAK_DETECTOR_H_
