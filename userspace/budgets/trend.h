// The trend of an operation's metrics over recent windows: a least-squares
// line through the last few points of each, kept up to date in constant time
// per point, and the question forecasts ask of it.
#ifndef GRIDPROBE_USERSPACE_BUDGETS_TREND_H_
#define GRIDPROBE_USERSPACE_BUDGETS_TREND_H_

#include <cstdint>
#include <optional>
#include <vector>

namespace gridprobe::budgets {

struct LineFit {
  double slope = 0;      // y units per x unit
  double intercept = 0;  // y at x = 0
  double r_squared = 0;  // share of the variance the line explains; 0 for a flat series
  int points = 0;
};

// Series sampled at the same x (one operation's metrics, window by window),
// over the last `capacity` samples, each with a target it may be heading
// for (its budget). The evaluator adds a sample for every operation in
// every window, so the x sums are shared and each series' sums sit in
// arrays that a loop runs through.
class TrendGroup {
 public:
  static constexpr int kMaxSeries = 32;

  // REQUIRES: 1 <= targets.size() <= kMaxSeries, capacity >= 2.
  TrendGroup(std::vector<double> targets, int capacity);

  int series() const { return series_; }
  int size() const { return count_; }
  // x of the oldest sample held. REQUIRES: size() > 0.
  double oldest_x() const { return xs_[count_ < capacity_ ? 0 : next_]; }

  // Adds a sample, dropping the oldest once `capacity` are held.
  // REQUIRES: ys holds series() values; x is larger than any before.
  void Add(double x, const double* ys);
  // Forgets every sample.
  void Clear();

  // The line through series `s`; nullopt with fewer than two samples.
  std::optional<LineFit> Fit(int s) const;

  // Bit s is set when series s's line rises with R² >= min_r_squared and
  // reaches the series' target within `within` (in x units) after the
  // latest sample. Nothing is divided: this runs for every operation in
  // every window.
  uint32_t Reaching(double within, double min_r_squared) const;

 private:
  static constexpr int kPassesPerRecompute = 4;

  void Recompute();

  int series_;
  int capacity_;
  int next_ = 0;
  int count_ = 0;
  int passes_ = 0;
  std::vector<double> xs_;      // capacity_
  std::vector<double> ys_;      // capacity_ rows of series_ values
  std::vector<double> target_;  // per series
  // Sums over the samples held, measured from the origins so that they stay
  // small and exact however long the run and large the values.
  double x_origin_ = 0;
  double sx_ = 0;
  double sxx_ = 0;
  double latest_dx_ = 0;                           // the latest x, from the origin
  std::vector<double> y_origin_, sy_, sxy_, syy_;  // per series
};

}  // namespace gridprobe::budgets

#endif  // GRIDPROBE_USERSPACE_BUDGETS_TREND_H_
