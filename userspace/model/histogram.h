// User-space view of the kernel's log-linear latency histograms.
#ifndef GRIDPROBE_USERSPACE_MODEL_HISTOGRAM_H_
#define GRIDPROBE_USERSPACE_MODEL_HISTOGRAM_H_

#include <cstdint>
#include <vector>

#include "bpf/gridprobe.h"

namespace gridprobe {

class Histogram {
 public:
  static constexpr uint32_t kBuckets = HIST_BUCKETS;

  Histogram() : buckets_(kBuckets, 0) {}

  // Smallest and one past the largest value bucket `i` holds.
  static uint64_t BucketLow(uint32_t i);
  static uint64_t BucketHigh(uint32_t i);
  static uint32_t BucketOf(uint64_t value) { return hist_bucket(value); }

  // Adds one sample (the kernel does the same in BPF; this is for tests and
  // offline use).
  void Record(uint64_t value);
  // Adds one CPU's kernel record.
  void Add(const op_hist& per_cpu);
  void Merge(const Histogram& other);
  // This minus an earlier state of the same counters: one window's samples.
  // min/max of the window are estimated from its buckets, clamped to the
  // cumulative min/max.
  Histogram Since(const Histogram& earlier) const;

  // Nearest-rank percentile, q in (0, 1]: the bucket that holds the
  // ceil(q*n)-th smallest sample, as its midpoint clamped to [min, max]. Error
  // is at most half a bucket: under 0.8% of the value. 0 when empty.
  uint64_t Percentile(double q) const;

  uint64_t count() const { return count_; }
  uint64_t sum() const { return sum_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  uint64_t unwound() const { return unwound_; }
  uint64_t untracked() const { return untracked_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0; }
  const std::vector<uint64_t>& buckets() const { return buckets_; }

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  uint64_t unwound_ = 0;
  uint64_t untracked_ = 0;
};

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_MODEL_HISTOGRAM_H_
