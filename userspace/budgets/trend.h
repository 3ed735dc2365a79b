// The trend of an operation's metrics over recent windows: a least-squares
// line through the last few points of each, kept up to date in constant time
// per point.
#ifndef GRIDPROBE_USERSPACE_BUDGETS_TREND_H_
#define GRIDPROBE_USERSPACE_BUDGETS_TREND_H_

#include <optional>
#include <vector>

namespace gridprobe::budgets {

struct LineFit {
  double slope = 0;      // y units per x unit
  double intercept = 0;  // y at x = 0
  double r_squared = 0;  // share of the variance the line explains; 0 for a flat series
  int points = 0;
};

// Several series sampled at the same x (one operation's metrics, window by
// window), over the last `capacity` samples. The evaluator adds a sample for
// every operation in every window, so the x sums are shared, and a sample is
// written series by series through a Sample that holds what they share in
// registers:
//   TrendGroup::Sample sample = group.Begin(x);
//   sample.Set(0, y0); sample.Set(1, y1); ...
//   group.End();
class TrendGroup {
 private:
  // Sums over the samples held, measured from the origins so that they stay
  // small and exact however long the run and large the values.
  struct Series {
    double y_origin = 0;
    double sy = 0;
    double sxy = 0;
    double syy = 0;
  };

 public:
  class Sample {
   public:
    // REQUIRES: called once for each series before End.
    void Set(int s, double y) {
      Series& t = sums_[s];
      if (first_) t.y_origin = y;
      const double dy = y - t.y_origin;
      const double oy = replacing_ ? row_[s] - t.y_origin : 0;
      t.sy += dy - oy;
      t.sxy += dx_ * dy - ox_ * oy;
      t.syy += dy * dy - oy * oy;
      row_[s] = y;
    }

    // Whether the line through series `s` (once Set) rises with R² >=
    // min_r_squared and reaches `y` within `within` (in x units) after this
    // sample's x. Cheaper than Fit(): nothing is divided.
    bool Reaches(int s, double y, double within, double min_r_squared) const {
      const Series& t = sums_[s];
      // vxx, vxy, vyy: the variances and covariance times n. With slope
      // b = vxy / vxx and the line at height h at this x, the crossing is
      // (y - h) / b later; `rise` is that times n * vxx.
      const double vxy = n_ * t.sxy - sx_ * t.sy;
      const double vyy = n_ * t.syy - t.sy * t.sy;
      const double rise = (n_ * (y - t.y_origin) - t.sy) * vxx_ - vxy * latest_;
      // `&`, not `&&`: noisy data makes each test a coin toss for the
      // branch predictor, while the answer as a whole is nearly always no.
      return (n_ >= 2) & (vxx_ > 0) & (vxy > 0) & (vxy * vxy >= min_r_squared * vxx_ * vyy) &
             (rise > 0) & (rise <= n_ * vxy * within);
    }

   private:
    friend class TrendGroup;
    Series* sums_;
    double* row_;
    double dx_, ox_;  // the new and the dropped x, from the origin
    double n_, sx_, vxx_;
    double latest_;  // n times the distance of this x from the mean x
    bool replacing_, first_;
  };

  // REQUIRES: series >= 1, capacity >= 2.
  TrendGroup(int series, int capacity);

  int series() const { return series_; }
  // Samples held, counting one begun.
  int size() const { return count_; }
  // x of the oldest sample held. REQUIRES: size() > 0.
  double oldest_x() const { return xs_[count_ < capacity_ ? 0 : next_]; }

  // Starts adding a sample at x, dropping the oldest once `capacity` are
  // held. REQUIRES: x is larger than any before; End before the next Begin.
  Sample Begin(double x) {
    Sample sample;
    sample.first_ = count_ == 0;
    if (sample.first_) x_origin_ = x;
    sample.replacing_ = count_ == capacity_;
    sample.dx_ = x - x_origin_;
    sample.ox_ = sample.replacing_ ? xs_[next_] - x_origin_ : 0;
    if (!sample.replacing_) ++count_;
    sx_ += sample.dx_ - sample.ox_;
    sxx_ += sample.dx_ * sample.dx_ - sample.ox_ * sample.ox_;
    xs_[next_] = x;
    sample.sums_ = sums_.data();
    sample.row_ = &ys_[static_cast<size_t>(next_) * series_];
    sample.n_ = count_;
    sample.sx_ = sx_;
    sample.vxx_ = sample.n_ * sxx_ - sx_ * sx_;
    sample.latest_ = sample.n_ * sample.dx_ - sx_;
    return sample;
  }
  void End() {
    if (++next_ == capacity_) {
      next_ = 0;
      // Subtracting drifts; start afresh now and then.
      if (count_ == capacity_ && ++passes_ % kPassesPerRecompute == 0) Recompute();
    }
  }
  // Adds a sample at once. REQUIRES: ys holds series() values.
  void Add(double x, const double* ys) {
    Sample sample = Begin(x);
    for (int s = 0; s < series_; ++s) sample.Set(s, ys[s]);
    End();
  }

  // Forgets every sample.
  void Clear();

  // The line through series `s`; nullopt with fewer than two samples.
  std::optional<LineFit> Fit(int s) const;

 private:
  static constexpr int kPassesPerRecompute = 4;

  void Recompute();

  int series_;
  int capacity_;
  int next_ = 0;
  int count_ = 0;
  int passes_ = 0;
  std::vector<double> xs_;  // capacity_
  std::vector<double> ys_;  // capacity_ rows of series_ values
  std::vector<Series> sums_;
  double x_origin_ = 0;
  double sx_ = 0;
  double sxx_ = 0;
};

}  // namespace gridprobe::budgets

#endif  // GRIDPROBE_USERSPACE_BUDGETS_TREND_H_
