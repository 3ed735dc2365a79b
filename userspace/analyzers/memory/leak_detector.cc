#include "userspace/analyzers/memory/leak_detector.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "userspace/model/format.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gridprobe::memory {
namespace {

// Seconds since the window's first sample, and bytes (exact in a double up to
// 2^53).
struct Point {
  double t;
  double y;
};

struct Line {
  double slope = 0;
  double intercept = 0;
  double At(double t) const { return intercept + slope * t; }
};

// REQUIRES: !v.empty(). Reorders v.
double Median(std::vector<double>& v) {
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  return (*std::max_element(v.begin(), v.begin() + mid) + upper) / 2;
}

// Theil-Sen: the median of the slopes between pairs of points, and the median
// intercept for that slope. With more than max_pairs pairs it takes every
// pair at each of max_pairs / n lags spread evenly over 1..n-1: like the full
// set, that weights lag d by the n - d pairs that have it.
// REQUIRES: p sorted by t.
Line TheilSen(const std::vector<Point>& p, size_t max_pairs) {
  const size_t n = p.size();
  if (n < 2) return Line{};
  std::vector<double> slopes;
  auto add_lag = [&](size_t lag) {
    for (size_t i = 0; i + lag < n; ++i) {
      const double dt = p[i + lag].t - p[i].t;
      if (dt > 0) slopes.push_back((p[i + lag].y - p[i].y) / dt);
    }
  };
  if (n * (n - 1) / 2 <= max_pairs) {
    slopes.reserve(n * (n - 1) / 2);
    for (size_t lag = 1; lag < n; ++lag) add_lag(lag);
  } else {
    const size_t lags = std::max<size_t>(2, max_pairs / n);
    slopes.reserve(lags * n);
    size_t previous = 0;
    for (size_t k = 0; k < lags; ++k) {
      const size_t lag = 1 + (k * (n - 2) + (lags - 1) / 2) / (lags - 1);
      if (lag != previous) add_lag(lag);
      previous = lag;
    }
  }
  Line line;
  if (slopes.empty()) return line;  // all samples at one instant
  line.slope = Median(slopes);
  std::vector<double> intercepts;
  intercepts.reserve(n);
  for (const Point& q : p) intercepts.push_back(q.y - line.slope * q.t);
  line.intercept = Median(intercepts);
  return line;
}

// Standard error of a slope fitted to p when samples scatter by sigma, as for
// least squares; Theil-Sen is within a few percent of it under uniform or
// normal noise.
double SlopeError(const std::vector<Point>& p, double sigma) {
  double mean = 0;
  for (const Point& q : p) mean += q.t;
  mean /= p.size();
  double sxx = 0;
  for (const Point& q : p) sxx += (q.t - mean) * (q.t - mean);
  return sxx > 0 ? sigma / std::sqrt(sxx) : HUGE_VAL;
}

// How samples scatter about a line: the standard deviation of the residuals,
// and a robust one (1.4826 MAD, which equals it for normal noise).
struct Scatter {
  double sd = 0;
  double robust = 0;
};

// REQUIRES: p.size() >= 3.
Scatter ScatterAbout(const std::vector<Point>& p, const Line& line) {
  std::vector<double> r;
  r.reserve(p.size());
  double mean = 0;
  for (const Point& q : p) {
    r.push_back(q.y - line.At(q.t));
    mean += r.back();
  }
  mean /= r.size();
  Scatter scatter;
  for (double x : r) scatter.sd += (x - mean) * (x - mean);
  scatter.sd = std::sqrt(scatter.sd / (r.size() - 2));
  const double center = Median(r);
  for (double& x : r) x = std::fabs(x - center);
  scatter.robust = 1.4826 * Median(r);
  return scatter;
}

// The samples that are the lowest of some `span`-long stretch [t - span, t]
// lying wholly in the window. Transients, and a sawtooth whose period is
// shorter than span, stay out; memory that stays makes it in.
std::vector<Point> Floor(const std::vector<Point>& p, double span) {
  std::vector<char> in_floor(p.size(), 0);
  std::deque<size_t> lowest;  // the stretch's indices by rising y; front is its minimum
  for (size_t i = 0; i < p.size(); ++i) {
    while (!lowest.empty() && p[lowest.back()].y > p[i].y) lowest.pop_back();
    lowest.push_back(i);
    while (p[lowest.front()].t < p[i].t - span) lowest.pop_front();
    if (p[i].t >= span) in_floor[lowest.front()] = 1;
  }
  std::vector<Point> floor;
  for (size_t i = 0; i < p.size(); ++i) {
    if (in_floor[i]) floor.push_back(p[i]);
  }
  return floor;
}

// r² of p about a line: the share of p's variance about its mean that the
// line explains. Negative when the line is worse than the mean; 0 for flat p.
double RSquared(const std::vector<Point>& p, const Line& line) {
  double mean = 0;
  for (const Point& q : p) mean += q.y;
  mean /= p.size();
  double total = 0;
  double residual = 0;
  for (const Point& q : p) {
    total += (q.y - mean) * (q.y - mean);
    residual += (q.y - line.At(q.t)) * (q.y - line.At(q.t));
  }
  return total > 0 ? 1 - residual / total : 0;
}

double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// One third of the window.
struct Third {
  std::vector<Point> points;  // in time order
  double center = 0;          // mean time
  double level = 0;           // median bytes
  double floor = 0;           // lowest decile of bytes: one glitch cannot move it
};

// The samples with from <= t < to.
Third MakeThird(const std::vector<Point>& p, double from, double to) {
  Third third;
  std::vector<double> ys;
  for (const Point& q : p) {
    if (q.t < from || q.t >= to) continue;
    third.points.push_back(q);
    third.center += q.t;
    ys.push_back(q.y);
  }
  if (ys.empty()) return third;
  third.center /= ys.size();
  const size_t decile = ys.size() / 10;
  std::nth_element(ys.begin(), ys.begin() + decile, ys.end());
  third.floor = ys[decile];
  third.level = Median(ys);
  return third;
}


std::string Rate(double bytes_per_s) { return absl::StrCat(FormatBytes(bytes_per_s), "/s"); }

std::string Span(double seconds) {
  if (seconds < 120) return absl::StrFormat("%.0f s", seconds);
  return absl::StrFormat("%.1f min", seconds / 60);
}

std::string Percent(double ratio) { return absl::StrFormat("%.0f%%", 100 * ratio); }

// The verdict on a window of samples, but for `since`. `suspected`: whether
// the previous verdict was. Starting a suspicion takes evidence for a leak;
// ending one takes significant evidence against it.
LeakVerdict Judge(const std::vector<Point>& p, const LeakOptions& o, bool suspected) {
  LeakVerdict v;
  v.live_bytes_now = p.empty() ? 0 : static_cast<int64_t>(p.back().y);
  v.projected_bytes_1h = v.live_bytes_now;
  if (p.size() < 2 || p.back().t <= 0) {
    v.reason = absl::StrCat("collecting history: ", p.size(), " sample", p.size() == 1 ? "" : "s");
    return v;
  }
  const double window = p.back().t;
  v.window_s = window;
  const Line growth = TheilSen(p, o.max_pairs);
  const double s = growth.slope;
  v.growth_bytes_per_s = s;

  const double min_window = absl::ToDoubleSeconds(o.min_window);
  if (window < min_window) {
    v.reason = absl::StrCat("collecting history: ", Span(window), " of ", Span(min_window));
    return v;
  }
  if (p.size() < o.min_samples) {
    v.reason = absl::StrCat("collecting history: ", p.size(), " of ", o.min_samples, " samples");
    return v;
  }
  const std::vector<Point> floor = Floor(p, absl::ToDoubleSeconds(o.floor_span));
  const Third first = MakeThird(p, 0, window / 3);
  const Third middle = MakeThird(p, window / 3, 2 * window / 3);
  const Third last = MakeThird(p, 2 * window / 3, HUGE_VAL);
  if (floor.size() < 3 || first.points.size() < 2 || middle.points.empty() ||
      last.points.size() < 2) {
    v.reason = "collecting history: too few samples in a third of the window";
    return v;
  }
  if (s <= 0 || s < o.min_growth_bytes_per_s) {
    v.reason = s < 0 ? absl::StrCat("shrinking by ", Rate(-s), " over ", Span(window))
                     : absl::StrCat("no growth: ", Rate(s), " over ", Span(window), " is below ",
                                    Rate(o.min_growth_bytes_per_s));
    return v;
  }

  // From here on, everything is relative to the rate s > 0.
  // Fit: the floor about the growth line moved down onto it.
  Line floor_line{s, 0};
  {
    std::vector<double> offsets;
    offsets.reserve(floor.size());
    for (const Point& q : floor) offsets.push_back(q.y - s * q.t);
    floor_line.intercept = Median(offsets);
  }
  const double fit = RSquared(floor, floor_line);
  const double rise = (last.floor - first.floor) / (last.center - first.center) / s;
  // The rate's standard error uses the plain standard deviation: an outlier
  // only delays a report. A third's level is a median, whose scatter (about
  // 1.25 sigma / sqrt(k) for k samples) follows the robust scale.
  const Scatter scatter = ScatterAbout(p, growth);
  const double growth_error = SlopeError(p, scatter.sd) / s;
  const double recent = (last.level - middle.level) / (last.center - middle.center) / s;
  const double recent_error = 1.2533 * scatter.robust *
                              std::sqrt(1.0 / middle.points.size() + 1.0 / last.points.size()) /
                              (last.center - middle.center) / s;
  const double in_last = TheilSen(last.points, o.max_pairs).slope / s;
  const double in_last_error = SlopeError(last.points, scatter.sd) / s;
  const double continuing = recent_error > 0
                                ? NormalCdf((recent - o.min_recent_ratio) / recent_error)
                                : (recent >= o.min_recent_ratio ? 1.0 : 0.0);
  v.confidence = std::max(fit, 0.0) * continuing *
                 std::min(1.0, o.max_growth_error / std::max(growth_error, 1e-12));

  const bool leveled = suspected ? recent + o.end_z * recent_error < o.min_recent_ratio ||
                                       in_last + o.end_z * in_last_error < o.min_recent_ratio
                                 : recent < o.min_recent_ratio || in_last < o.min_recent_ratio;
  // A leak is first reported only once the last third lies wholly after
  // min_window (see the header).
  const double first_report = std::min(1.5 * min_window, absl::ToDoubleSeconds(o.max_window));
  if (rise < o.min_floor_rise) {
    v.reason = absl::StrCat("floor did not rise: ", FormatBytes(last.floor - first.floor),
                            " from the first third to the last, ", Percent(rise), " of what ",
                            Rate(s), " predicts");
  } else if (leveled) {
    v.reason = absl::StrCat("grew, then leveled off: recent slope ",
                            Percent(std::min(recent, in_last)), " of the window's ", Rate(s));
  } else if (fit < o.min_fit) {
    v.reason = absl::StrFormat("floor does not rise steadily: r²=%.2f for %s", fit, Rate(s));
  } else if (!suspected && window < first_report) {
    v.reason =
        absl::StrCat("growth of ", Rate(s), " over ", Span(window), ", needs ", Span(first_report),
                     " to tell from a cache filling for ", Span(min_window));
  } else if (!suspected && growth_error > o.max_growth_error) {
    v.reason = absl::StrCat("growth of ", Rate(s), " ± ", Percent(growth_error), " over ",
                            Span(window), ", too noisy to report yet");
  } else {
    v.suspected = true;
    v.projected_bytes_1h = v.live_bytes_now + s * 3600;
    v.reason = absl::StrFormat("steady growth of %s over %s (r²=%.2f)", Rate(s), Span(window), fit);
  }
  return v;
}

}  // namespace

LeakDetector::LeakDetector(LeakOptions options) : options_(options) {
  verdict_.reason = "collecting history: 0 samples";
}

void LeakDetector::Add(absl::Time t, int64_t live_bytes) {
  if (!samples_.empty() && t < samples_.back().t) return;
  samples_.push_back({t, live_bytes});
  while (samples_.front().t < t - options_.max_window) samples_.pop_front();

  std::vector<Point> points;
  points.reserve(samples_.size());
  const absl::Time origin = samples_.front().t;
  for (const Sample& s : samples_) {
    points.push_back({absl::ToDoubleSeconds(s.t - origin), static_cast<double>(s.bytes)});
  }
  const bool was_suspected = verdict_.suspected;
  const absl::Time since = verdict_.since;
  verdict_ = Judge(points, options_, was_suspected);
  if (verdict_.suspected) verdict_.since = was_suspected ? since : t;
}

}  // namespace gridprobe::memory
