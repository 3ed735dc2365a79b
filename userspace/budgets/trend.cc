#include "userspace/budgets/trend.h"

namespace gridprobe::budgets {

TrendWindow::TrendWindow(int capacity) : xs_(capacity), ys_(capacity) {}

void TrendWindow::Add(double x, double y) {
  const int capacity = static_cast<int>(xs_.size());
  if (count_ == capacity) {
    // Drop the oldest point's share of the sums.
    const double ox = xs_[next_] - origin_;
    const double oy = ys_[next_] - y_origin_;
    sx_ -= ox;
    sy_ -= oy;
    sxx_ -= ox * ox;
    sxy_ -= ox * oy;
    syy_ -= oy * oy;
  } else {
    if (count_ == 0) {
      origin_ = x;
      y_origin_ = y;
    }
    ++count_;
  }
  xs_[next_] = x;
  ys_[next_] = y;
  next_ = (next_ + 1) % capacity;
  const double dx = x - origin_;
  const double dy = y - y_origin_;
  sx_ += dx;
  sy_ += dy;
  sxx_ += dx * dx;
  sxy_ += dx * dy;
  syy_ += dy * dy;
  // Subtracting drifts; start afresh once per pass over the buffer.
  if (next_ == 0 && count_ == capacity) Recompute();
}

void TrendWindow::Recompute() {
  const int capacity = static_cast<int>(xs_.size());
  origin_ = xs_[next_];  // the oldest point
  y_origin_ = ys_[next_];
  sx_ = sy_ = sxx_ = sxy_ = syy_ = 0;
  for (int i = 0; i < count_; ++i) {
    const int j = (next_ + i) % capacity;
    const double dx = xs_[j] - origin_;
    const double dy = ys_[j] - y_origin_;
    sx_ += dx;
    sy_ += dy;
    sxx_ += dx * dx;
    sxy_ += dx * dy;
    syy_ += dy * dy;
  }
}

std::optional<LineFit> TrendWindow::Fit() const {
  if (count_ < 2) return std::nullopt;
  const double n = count_;
  const double mx = sx_ / n;
  const double my = sy_ / n;
  const double vxx = sxx_ - n * mx * mx;
  const double vxy = sxy_ - n * mx * my;
  const double vyy = syy_ - n * my * my;
  if (!(vxx > 0)) return std::nullopt;
  LineFit fit;
  fit.points = count_;
  fit.slope = vxy / vxx;
  fit.intercept = y_origin_ + my - fit.slope * (mx + origin_);
  if (vyy > 0) {
    fit.r_squared = vxy * vxy / (vxx * vyy);
    if (fit.r_squared > 1) fit.r_squared = 1;
  }
  return fit;
}

}  // namespace gridprobe::budgets
