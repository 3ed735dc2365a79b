// The trend of one metric over recent windows: a least-squares line through
// the last few points, kept up to date in constant time per point.
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

class TrendWindow {
 public:
  // REQUIRES: capacity >= 2.
  explicit TrendWindow(int capacity);

  // Adds a point, dropping the oldest once `capacity` are held.
  // REQUIRES: x is larger than every x added before.
  void Add(double x, double y);
  int size() const { return count_; }
  // x of the oldest point held. REQUIRES: size() > 0.
  double oldest_x() const { return points_[2 * (count_ < capacity_ ? 0 : next_)]; }

  // The line through the points held; nullopt with fewer than two.
  std::optional<LineFit> Fit() const;

  // Whether Fit() rises with R² >= min_r_squared and reaches `y` at an x in
  // (x_now, x_now + within]. Cheaper than Fit(): no division.
  bool Reaches(double y, double x_now, double within, double min_r_squared) const;

 private:
  void Recompute();

  int capacity_;
  std::vector<double> points_;  // x0, y0, x1, y1, ...: one allocation
  int next_ = 0;
  int count_ = 0;
  // Sums over the points held, measured from (origin_, y_origin_) so that
  // they stay small and exact however long the run and large the values.
  double origin_ = 0;
  double y_origin_ = 0;
  double sx_ = 0, sy_ = 0, sxx_ = 0, sxy_ = 0, syy_ = 0;
};

}  // namespace gridprobe::budgets

#endif  // GRIDPROBE_USERSPACE_BUDGETS_TREND_H_
