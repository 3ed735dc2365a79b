#include "userspace/budgets/trend.h"

namespace gridprobe::budgets {

TrendWindow::TrendWindow(int capacity) : capacity_(capacity), points_(2 * capacity) {}

void TrendWindow::Add(double x, double y) {
  double* slot = &points_[2 * next_];
  if (count_ == capacity_) {
    // Drop the oldest point's share of the sums.
    const double ox = slot[0] - origin_;
    const double oy = slot[1] - y_origin_;
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
  slot[0] = x;
  slot[1] = y;
  if (++next_ == capacity_) next_ = 0;
  const double dx = x - origin_;
  const double dy = y - y_origin_;
  sx_ += dx;
  sy_ += dy;
  sxx_ += dx * dx;
  sxy_ += dx * dy;
  syy_ += dy * dy;
  // Subtracting drifts; start afresh once per pass over the buffer.
  if (next_ == 0 && count_ == capacity_) Recompute();
}

void TrendWindow::Recompute() {
  // Called when the buffer is full and next_ is 0: points are oldest first.
  origin_ = points_[0];
  y_origin_ = points_[1];
  sx_ = sy_ = sxx_ = sxy_ = syy_ = 0;
  for (int i = 0; i < count_; ++i) {
    const double dx = points_[2 * i] - origin_;
    const double dy = points_[2 * i + 1] - y_origin_;
    sx_ += dx;
    sy_ += dy;
    sxx_ += dx * dx;
    sxy_ += dx * dy;
    syy_ += dy * dy;
  }
}

bool TrendWindow::Reaches(double y, double x_now, double within, double min_r_squared) const {
  if (count_ < 2) return false;
  // The sums' variances and covariance, each times n, so nothing is divided.
  const double n = count_;
  const double vxx = n * sxx_ - sx_ * sx_;
  const double vxy = n * sxy_ - sx_ * sy_;
  const double vyy = n * syy_ - sy_ * sy_;
  if (!(vxx > 0) || !(vxy > 0) || vxy * vxy < min_r_squared * vxx * vyy) return false;
  // With slope b = vxy / vxx and the line at x_now at height h, the
  // crossing is (y - h) / b past x_now; times n * vxx, and with x and y
  // measured from the origin:
  const double rise = (n * (y - y_origin_) - sy_) * vxx - vxy * (n * (x_now - origin_) - sx_);
  return rise > 0 && rise <= n * vxy * within;
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
