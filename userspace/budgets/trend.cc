#include "userspace/budgets/trend.h"

namespace gridprobe::budgets {

TrendGroup::TrendGroup(std::vector<double> targets, int capacity)
    : series_(static_cast<int>(targets.size())),
      capacity_(capacity),
      xs_(capacity),
      ys_(static_cast<size_t>(capacity) * targets.size()),
      target_(std::move(targets)),
      y_origin_(series_),
      sy_(series_),
      sxy_(series_),
      syy_(series_) {}

void TrendGroup::Add(double x, const double* ys) {
  const int n = series_;
  double* __restrict row = &ys_[static_cast<size_t>(next_) * n];
  double* __restrict yo = y_origin_.data();
  double* __restrict sy = sy_.data();
  double* __restrict sxy = sxy_.data();
  double* __restrict syy = syy_.data();
  if (count_ == 0) {
    x_origin_ = x;
    for (int s = 0; s < n; ++s) yo[s] = ys[s];
  }
  const double dx = x - x_origin_;
  latest_dx_ = dx;
  if (count_ == capacity_) {
    // Replace the oldest sample's share of the sums with the new one's.
    const double ox = xs_[next_] - x_origin_;
    sx_ += dx - ox;
    sxx_ += dx * dx - ox * ox;
    for (int s = 0; s < n; ++s) {
      const double dy = ys[s] - yo[s];
      const double oy = row[s] - yo[s];
      sy[s] += dy - oy;
      sxy[s] += dx * dy - ox * oy;
      syy[s] += dy * dy - oy * oy;
      row[s] = ys[s];
    }
  } else {
    ++count_;
    sx_ += dx;
    sxx_ += dx * dx;
    for (int s = 0; s < n; ++s) {
      const double dy = ys[s] - yo[s];
      sy[s] += dy;
      sxy[s] += dx * dy;
      syy[s] += dy * dy;
      row[s] = ys[s];
    }
  }
  xs_[next_] = x;
  if (++next_ == capacity_) {
    next_ = 0;
    // Subtracting drifts; start afresh now and then.
    if (count_ == capacity_ && ++passes_ % kPassesPerRecompute == 0) Recompute();
  }
}

void TrendGroup::Clear() {
  next_ = count_ = 0;
  sx_ = sxx_ = latest_dx_ = 0;
  for (int s = 0; s < series_; ++s) sy_[s] = sxy_[s] = syy_[s] = 0;
}

void TrendGroup::Recompute() {
  // Called when the buffer is full and next_ is 0: samples are oldest first.
  const double shift = xs_[0] - x_origin_;
  x_origin_ = xs_[0];
  latest_dx_ -= shift;
  sx_ = sxx_ = 0;
  for (int s = 0; s < series_; ++s) {
    y_origin_[s] = ys_[s];
    sy_[s] = sxy_[s] = syy_[s] = 0;
  }
  for (int i = 0; i < count_; ++i) {
    const double dx = xs_[i] - x_origin_;
    sx_ += dx;
    sxx_ += dx * dx;
    const double* row = &ys_[static_cast<size_t>(i) * series_];
    for (int s = 0; s < series_; ++s) {
      const double dy = row[s] - y_origin_[s];
      sy_[s] += dy;
      sxy_[s] += dx * dy;
      syy_[s] += dy * dy;
    }
  }
}

uint32_t TrendGroup::Reaching(double within, double min_r_squared) const {
  if (count_ < 2) return 0;
  // vxx, vxy, vyy: the variances and covariance times n. With slope
  // b = vxy / vxx and the line at height h at the latest x, the crossing is
  // (target - h) / b later; `rise` is that times n * vxx.
  const double n = count_;
  const double vxx = n * sxx_ - sx_ * sx_;
  if (!(vxx > 0)) return 0;
  const double latest = n * latest_dx_ - sx_;
  const double r2vxx = min_r_squared * vxx;
  const double nw = n * within;
  uint32_t mask = 0;
  for (int s = 0; s < series_; ++s) {
    const double vxy = n * sxy_[s] - sx_ * sy_[s];
    const double vyy = n * syy_[s] - sy_[s] * sy_[s];
    const double rise = (n * (target_[s] - y_origin_[s]) - sy_[s]) * vxx - vxy * latest;
    // `&`, not `&&`: noisy data makes each test a coin toss for the branch
    // predictor, while the answer is nearly always no.
    const bool reaching = (vxy > 0) & (vxy * vxy >= r2vxx * vyy) & (rise > 0) & (rise <= nw * vxy);
    mask |= static_cast<uint32_t>(reaching) << s;
  }
  return mask;
}

std::optional<LineFit> TrendGroup::Fit(int s) const {
  if (count_ < 2) return std::nullopt;
  const double n = count_;
  const double mx = sx_ / n;
  const double my = sy_[s] / n;
  const double vxx = sxx_ - n * mx * mx;
  const double vxy = sxy_[s] - n * mx * my;
  const double vyy = syy_[s] - n * my * my;
  if (!(vxx > 0)) return std::nullopt;
  LineFit fit;
  fit.points = count_;
  fit.slope = vxy / vxx;
  fit.intercept = y_origin_[s] + my - fit.slope * (mx + x_origin_);
  if (vyy > 0) {
    fit.r_squared = vxy * vxy / (vxx * vyy);
    if (fit.r_squared > 1) fit.r_squared = 1;
  }
  return fit;
}

}  // namespace gridprobe::budgets
