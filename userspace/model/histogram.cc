#include "userspace/model/histogram.h"

#include <algorithm>
#include <cmath>

namespace gridprobe {

uint64_t Histogram::BucketLow(uint32_t i) {
  if (i < HIST_SUB_BUCKETS) return i;
  uint32_t k = i - HIST_SUB_BUCKETS;
  uint32_t e = k / HIST_SUB_BUCKETS + HIST_SUB_BITS;
  uint64_t sub = k % HIST_SUB_BUCKETS;
  return (uint64_t{1} << e) + (sub << (e - HIST_SUB_BITS));
}

uint64_t Histogram::BucketHigh(uint32_t i) {
  if (i + 1 >= kBuckets) return UINT64_MAX;
  return BucketLow(i + 1);
}

void Histogram::Record(uint64_t value) {
  ++buckets_[BucketOf(value)];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::Add(const op_hist& h) {
  for (uint32_t i = 0; i < kBuckets; ++i) buckets_[i] += h.buckets[i];
  if (h.count > 0) {
    min_ = std::min(min_, static_cast<uint64_t>(h.min_ns));
    max_ = std::max(max_, static_cast<uint64_t>(h.max_ns));
  }
  count_ += h.count;
  sum_ += h.sum_ns;
  unwound_ += h.unwound;
  untracked_ += h.untracked;
}

void Histogram::Merge(const Histogram& o) {
  for (uint32_t i = 0; i < kBuckets; ++i) buckets_[i] += o.buckets_[i];
  count_ += o.count_;
  sum_ += o.sum_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
  unwound_ += o.unwound_;
  untracked_ += o.untracked_;
}

Histogram Histogram::Since(const Histogram& earlier) const {
  Histogram w;
  uint32_t lo = kBuckets, hi = 0;
  for (uint32_t i = 0; i < kBuckets; ++i) {
    w.buckets_[i] = buckets_[i] - earlier.buckets_[i];
    if (w.buckets_[i] != 0) {
      lo = std::min(lo, i);
      hi = i;
    }
  }
  w.count_ = count_ - earlier.count_;
  w.sum_ = sum_ - earlier.sum_;
  w.unwound_ = unwound_ - earlier.unwound_;
  w.untracked_ = untracked_ - earlier.untracked_;
  if (w.count_ > 0) {
    // A new extreme in this window is exact; otherwise the bucket bound is
    // the best there is.
    w.min_ = min_ < earlier.min() || earlier.count_ == 0 ? min_ : std::max(min_, BucketLow(lo));
    w.max_ = max_ > earlier.max_ ? max_ : std::min(max_, BucketHigh(hi) - 1);
  }
  return w;
}

uint64_t Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (uint32_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      uint64_t lo = BucketLow(i);
      uint64_t hi = i + 1 >= kBuckets ? max_ + 1 : BucketHigh(i);
      uint64_t mid = lo + (hi - 1 - lo) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

}  // namespace gridprobe
