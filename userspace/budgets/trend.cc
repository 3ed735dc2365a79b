#include "userspace/budgets/trend.h"

namespace gridprobe::budgets {

TrendGroup::TrendGroup(int series, int capacity)
    : series_(series),
      capacity_(capacity),
      xs_(capacity),
      ys_(static_cast<size_t>(capacity) * series),
      sums_(series) {}

void TrendGroup::Clear() {
  next_ = count_ = 0;
  sx_ = sxx_ = 0;
  for (Series& t : sums_) t = Series();
}

void TrendGroup::Recompute() {
  // Called when the buffer is full and next_ is 0: samples are oldest first.
  x_origin_ = xs_[0];
  sx_ = sxx_ = 0;
  for (int s = 0; s < series_; ++s) {
    sums_[s] = Series();
    sums_[s].y_origin = ys_[s];
  }
  for (int i = 0; i < count_; ++i) {
    const double dx = xs_[i] - x_origin_;
    sx_ += dx;
    sxx_ += dx * dx;
    const double* row = &ys_[static_cast<size_t>(i) * series_];
    for (int s = 0; s < series_; ++s) {
      Series& t = sums_[s];
      const double dy = row[s] - t.y_origin;
      t.sy += dy;
      t.sxy += dx * dy;
      t.syy += dy * dy;
    }
  }
}

std::optional<LineFit> TrendGroup::Fit(int s) const {
  if (count_ < 2) return std::nullopt;
  const Series& t = sums_[s];
  const double n = count_;
  const double mx = sx_ / n;
  const double my = t.sy / n;
  const double vxx = sxx_ - n * mx * mx;
  const double vxy = t.sxy - n * mx * my;
  const double vyy = t.syy - n * my * my;
  if (!(vxx > 0)) return std::nullopt;
  LineFit fit;
  fit.points = count_;
  fit.slope = vxy / vxx;
  fit.intercept = t.y_origin + my - fit.slope * (mx + x_origin_);
  if (vyy > 0) {
    fit.r_squared = vxy * vxy / (vxx * vyy);
    if (fit.r_squared > 1) fit.r_squared = 1;
  }
  return fit;
}

}  // namespace gridprobe::budgets
