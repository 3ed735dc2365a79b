#include "userspace/analyzers/budgets/evaluator.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "userspace/model/format.h"

namespace gridprobe::budgets {
namespace {

std::string FormatRatio(double ratio) { return absl::StrFormat("%.2fx", ratio); }

// "about 12 min": a forecast is no more precise than that.
std::string About(absl::Duration d) {
  const double s = absl::ToDoubleSeconds(d);
  if (s < 90) return absl::StrFormat("about %.0f s", s);
  if (s < 90 * 60) return absl::StrFormat("about %.0f min", s / 60);
  return absl::StrFormat("about %.1f h", s / 3600);
}

std::string Windows(int64_t n) { return absl::StrCat(n, n == 1 ? " window" : " windows"); }

std::string Subject(const std::string& op, Metric m) {
  return absl::StrCat(op, " ", MetricName(m));
}

}  // namespace

absl::Status ValidateOptions(const EvaluatorOptions& options) {
  if (options.min_calls < 0) return absl::InvalidArgumentError("min_calls must be 0 or more");
  if (options.open_after < 1) return absl::InvalidArgumentError("open_after must be 1 or more");
  if (options.resolve_after < 1) {
    return absl::InvalidArgumentError("resolve_after must be 1 or more");
  }
  if (options.horizon <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("horizon must be longer than 0");
  }
  if (options.prediction_windows != 0 && options.prediction_windows < kMinPredictionPoints) {
    return absl::InvalidArgumentError(
        absl::StrCat("prediction_windows must be 0 (off) or ", kMinPredictionPoints, " or more"));
  }
  if (const auto& s = options.severities;
      s.has_value() && !(s->warning > 0 && s->warning <= s->error && s->error <= s->critical)) {
    return absl::InvalidArgumentError("severities must satisfy 0 < warning <= error <= critical");
  }
  return absl::OkStatus();
}

Evaluator::Evaluator(BudgetSet budgets, EvaluatorOptions options)
    : budgets_(std::move(budgets)),
      options_(std::move(options)),
      horizon_s_(absl::ToDoubleSeconds(options_.horizon)),
      trends_(std::max(2, options_.prediction_windows)) {
  if (options_.severities.has_value()) budgets_.severities = *options_.severities;
}

// std::string's == calls memcmp; operation names are short, and this runs
// for every operation of every window.
bool Evaluator::SameName(const std::string& a, const std::string& b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n < 8) {
    for (size_t i = 0; i < n; ++i) {
      if (p[i] != q[i]) return false;
    }
    return true;
  }
  uint64_t x, y;
  for (size_t i = 0; i + 8 <= n; i += 8) {
    std::memcpy(&x, p + i, 8);
    std::memcpy(&y, q + i, 8);
    if (x != y) return false;
  }
  std::memcpy(&x, p + n - 8, 8);  // the tail, overlapping the last chunk
  std::memcpy(&y, q + n - 8, 8);
  return x == y;
}

size_t Evaluator::StateForNew(const OpStats& op, size_t position) {
  auto [it, inserted] = index_.try_emplace(op.name, ops_.size());
  if (inserted) {
    OpState state;
    state.name = op.name;
    state.first = static_cast<uint32_t>(metrics_.size());
    if (auto budget = budgets_.operations.find(op.name); budget != budgets_.operations.end()) {
      state.impact = budget->second.impact;
    }
    for (Metric m : kAllMetrics) {
      std::optional<double> limit = budgets_.LimitFor(op.name, m);
      if (!limit.has_value()) continue;
      MetricState& metric = metrics_.emplace_back();
      metric.metric = m;
      metric.thresholds = ThresholdsFor(*limit, budgets_.severities);
      details_.emplace_back().budget = *limit;
      warnings_.push_back(metric.thresholds.warning);
      state.metric_bits |= 1u << static_cast<int>(m);
      state.metric_ids |= uint64_t{static_cast<uint8_t>(m)} << (4 * state.count);
      ++state.count;
    }
    if (state.count > 0 && options_.prediction_windows > 0) {
      std::vector<double> targets;
      for (uint32_t k = 0; k < state.count; ++k) {
        targets.push_back(metrics_[state.first + k].thresholds.warning);
      }
      state.trend = trends_.AddGroup(targets);
    }
    ops_.push_back(std::move(state));
  }
  if (position >= by_position_.size()) by_position_.resize(position + 1);
  by_position_[position] = it->second;
  return it->second;
}

// Inlined in OnWindow's loops: most operations need only its first lines.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint32_t Evaluator::JudgeOp(OpState& state, const OpStats& op,
                                                                uint32_t over, const double* y,
                                                                const Snapshot& window,
                                                                FindingSink& sink) {
  // Metrics within budget with nothing open and no streak going have
  // nothing to report and may be forecast unless quiet; only the others
  // are judged one by one.
  const uint32_t measured = state.measured_k;
  uint32_t forecastable = measured & ~over & ~state.unsettled;
  if (window_ < state.quiet_until) {
    for (uint32_t bits = forecastable; bits != 0; bits &= bits - 1) {
      const int k = std::countr_zero(bits);
      if (window_ < metrics_[state.first + k].quiet_until) forecastable &= ~(1u << k);
    }
  }
  const uint32_t judge = (over | state.unsettled) & measured;
  if (judge != 0) forecastable |= Judge(op, state, y, judge, window, sink);
  return forecastable;
}

void Evaluator::OnWindow(const Snapshot& window, FindingSink& sink) {
  if (window_ == 0) first_start_ = window.start;
  window_x_ = absl::ToDoubleSeconds(window.end - first_start_);
  const uint64_t min_calls = static_cast<uint64_t>(options_.min_calls);
  if (options_.prediction_windows == 0) {
    for (size_t i = 0; i < window.ops.size(); ++i) {
      const OpStats& op = window.ops[i];
      OpState& state = ops_[StateFor(op, i)];
      if (state.count == 0 || op.calls < min_calls) continue;
      Measure(state, MeasuredMetrics(op));
      double y[kNumMetrics];
      ReadMetricsTo(op, state.metric_bits, y);
      JudgeOp(state, op, Over(state, y), y, window, sink);
    }
    ++window_;
    return;
  }
  // Every judged operation's values go to its trend first; adding them
  // there also tests them against the warning thresholds, all series side
  // by side. Then each operation is judged and its forecasts due reported.
  trends_.BeginWindow(window_x_);
  judged_.clear();
  uint32_t unsettled = 0;  // of all judged operations: bits of any
  for (size_t i = 0; i < window.ops.size(); ++i) {
    const OpStats& op = window.ops[i];
    const size_t index = StateFor(op, i);
    OpState& state = ops_[index];
    if (state.count == 0 || op.calls < min_calls) continue;
    const bool restart = Measure(state, MeasuredMetrics(op));  // memory tracking came or went
    uint32_t over = kFromTrends;
    if (double* const y = trends_.Sample(state.trend, restart); y != nullptr) {
      ReadMetricsTo(op, state.metric_bits, y);
    } else {  // listed twice: judged twice, its trend sampled once
      double own[kNumMetrics];
      ReadMetricsTo(op, state.metric_bits, own);
      over = Over(state, own);
      unsettled |= over;
    }
    unsettled |= state.unsettled;
    judged_.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(index), over});
  }
  // Usually no line is heading for its budget and every metric is within
  // it with nothing open: then there is nothing to judge or report.
  const bool reaching = trends_.EndWindow(horizon_s_, kMinPredictionRSquared);
  if (!reaching && !trends_.any_above() && unsettled == 0) judged_.clear();
  for (const Judged& j : judged_) {
    OpState& state = ops_[j.state];
    const OpStats& op = window.ops[j.position];
    const double* y;
    double own[kNumMetrics];
    uint32_t over;
    if (j.over == kFromTrends) {
      y = trends_.Latest(state.trend);
      over = trends_.Above(state.trend);
    } else {
      ReadMetricsTo(op, state.metric_bits, own);
      y = own;
      over = j.over;
    }
    uint32_t due = JudgeOp(state, op, over, y, window, sink);
    if (!reaching || due == 0 || trends_.size(state.trend) < kMinPredictionPoints) continue;
    due &= trends_.Reaching(state.trend);
    if (due == 0) continue;
    const Impact impact = state.impact.value_or(op.impact);
    for (uint32_t k = 0; due != 0; ++k, due >>= 1) {
      if (due & 1) Forecast(state, k, impact, y[k], window, sink);
    }
  }
  ++window_;
}

bool Evaluator::Measure(OpState& state, uint32_t all_measured) {
  const uint32_t measured = all_measured & state.metric_bits;
  if (measured == state.measured) return false;
  state.measured = measured;
  state.measured_k = 0;
  for (uint32_t k = 0; k < state.count; ++k) {
    state.measured_k |= ((measured >> ((state.metric_ids >> (4 * k)) & 15)) & 1) << k;
  }
  return true;
}

uint32_t Evaluator::Over(const OpState& state, const double* y) const {
  const double* const warnings = &warnings_[state.first];
  uint32_t over = 0;  // bit k: Classify is not kNone
  for (uint32_t k = 0; k < state.count; ++k) {
    over |= static_cast<uint32_t>(y[k] > warnings[k]) << k;
  }
  return over;
}

// Inlined in Judge: an open violation that stays as bad, the usual case
// for an operation over budget, only records the window.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void Evaluator::Worse(OpState& state, uint32_t k,
                                                          Impact impact, double value,
                                                          Severity severity,
                                                          const Snapshot& window,
                                                          FindingSink& sink) {
  MetricState& m = metrics_[state.first + k];
  if (m.open < 0) return Open(state, k, impact, value, severity, window, sink);
  // The streak only counts towards opening; a good window resets it
  // before the violation can resolve, so it need not be kept meanwhile.
  if (m.good_streak != 0) m.good_streak = 0;
  Violation& v = violations_[m.open];
  v.actual = value;
  v.peak = std::max(v.peak, value);
  v.last_window = window_;
  v.impact = impact;
  if (severity > v.severity) {
    v.severity = severity;
    sink.OnFinding(ViolationFinding(FindingKind::kViolationUpdated, v, value, window.end));
  }
}

uint32_t Evaluator::Judge(const OpStats& op, OpState& state, const double* y, uint32_t judge,
                          const Snapshot& window, FindingSink& sink) {
  const Impact impact = state.impact.value_or(op.impact);
  uint32_t forecastable = 0;
  MetricState* const metrics = &metrics_[state.first];  // not resized while judging
  for (; judge != 0; judge &= judge - 1) {
    const uint32_t k = static_cast<uint32_t>(std::countr_zero(judge));
    MetricState& m = metrics[k];
    const double value = y[k];
    const Severity severity = Classify(value, m.thresholds);
    if (severity != Severity::kNone) {
      Worse(state, k, impact, value, severity, window, sink);
    } else {
      if (m.bad_streak != 0) m.bad_streak = 0;  // a store only when needed keeps the line clean
      if (m.open >= 0) Better(state, k, value, window, sink);
      forecastable |= static_cast<uint32_t>(m.open < 0 && window_ >= m.quiet_until) << k;
    }
    const uint32_t bit = 1u << k;
    state.unsettled =
        (m.open >= 0 || m.bad_streak != 0) ? state.unsettled | bit : state.unsettled & ~bit;
  }
  return forecastable;
}

void Evaluator::Open(OpState& state, uint32_t k, Impact impact, double value, Severity severity,
                     const Snapshot& window, FindingSink& sink) {
  const uint32_t index = state.first + k;
  MetricState& m = metrics_[index];
  MetricDetail& d = details_[index];
  m.good_streak = 0;
  if (m.bad_streak++ == 0) {
    d.streak_start = window.start;
    d.streak_first_window = window_;
    d.streak_worst = Severity::kNone;
  }
  d.streak_worst = std::max(d.streak_worst, severity);
  if (m.bad_streak >= options_.open_after) {
    m.open = static_cast<int32_t>(violations_.size());
    Violation& v = violations_.emplace_back();
    v.operation = state.name;
    v.metric = m.metric;
    v.impact = impact;
    v.budget = d.budget;
    v.actual = v.peak = value;
    v.severity = d.streak_worst;
    v.since = d.streak_start;
    v.first_window = d.streak_first_window;
    v.last_window = window_;
    sink.OnFinding(ViolationFinding(FindingKind::kViolationOpened, v, value, window.end));
  }
}

void Evaluator::Better(OpState& state, uint32_t k, double value, const Snapshot& window,
                       FindingSink& sink) {
  MetricState& m = metrics_[state.first + k];
  if (++m.good_streak < options_.resolve_after) return;
  Violation& v = violations_[m.open];
  v.until = window.end;
  m.open = -1;
  m.good_streak = 0;
  // A forecast right after recovery would only describe the recovery.
  m.quiet_until = window_ + options_.prediction_windows;
  state.quiet_until = std::max(state.quiet_until, m.quiet_until);
  sink.OnFinding(ViolationFinding(FindingKind::kViolationResolved, v, value, window.end));
}

void Evaluator::Forecast(OpState& state, uint32_t k, Impact impact, double value,
                         const Snapshot& window, FindingSink& sink) {
  MetricState& m = metrics_[state.first + k];
  const double threshold = m.thresholds.warning;
  std::optional<LineFit> fit = trends_.Fit(state.trend, static_cast<int>(k));
  if (!fit.has_value() || !(fit->slope > 0)) return;
  const double eta_s = std::max(0.0, (threshold - fit->intercept) / fit->slope - window_x_);
  const double budget = details_[state.first + k].budget;

  Finding e;
  e.kind = FindingKind::kPrediction;
  e.operation = state.name;
  e.metric = m.metric;
  e.impact = impact;
  e.budget = budget;
  e.actual = value;
  e.ratio = value / budget;
  e.severity = Severity::kWarning;
  e.since = first_start_ + absl::Seconds(trends_.oldest_x(state.trend));
  e.at = window.end;
  e.windows = fit->points;
  e.slope_per_s = fit->slope;
  e.eta = absl::Seconds(eta_s);
  e.r_squared = fit->r_squared;
  e.confidence = fit->r_squared >= 0.95 && fit->points >= 10 ? "high" : "medium";
  e.message = absl::StrCat(
      Subject(state.name, m.metric), " rising ", FormatValue(m.metric, fit->slope * 60),
      "/min, crosses ", FormatValue(m.metric, threshold), " in ", About(e.eta), " (now ",
      FormatValue(m.metric, value), "; confidence ", e.confidence,
      absl::StrFormat(": R\xC2\xB2 %.2f over %d windows)", fit->r_squared, fit->points));
  m.quiet_until = window_ + options_.prediction_windows;
  state.quiet_until = std::max(state.quiet_until, m.quiet_until);
  predictions_.push_back(e);
  sink.OnFinding(e);
}

Finding Evaluator::ViolationFinding(FindingKind kind, const Violation& v, double value,
                                absl::Time at) const {
  const double ratio = value / v.budget;
  Finding e;
  e.kind = kind;
  e.operation = v.operation;
  e.metric = v.metric;
  e.impact = v.impact;
  e.budget = v.budget;
  e.actual = value;
  e.ratio = ratio;
  e.severity = v.severity;
  e.since = v.since;
  e.at = at;
  e.windows = window_ - v.first_window + 1;
  const std::string subject = Subject(v.operation, v.metric);
  const std::string budget = FormatValue(v.metric, v.budget);
  const std::string actual = FormatValue(v.metric, value);
  switch (kind) {
    case FindingKind::kViolationOpened:
      e.message =
          absl::StrCat(subject, " ", actual, " over its ", budget, " budget (", FormatRatio(ratio),
                       ", ", SeverityName(v.severity), ", ", ImpactName(v.impact), ") for ",
                       Windows(e.windows), " since ", Rfc3339(v.since));
      break;
    case FindingKind::kViolationUpdated:
      e.message = absl::StrCat(subject, " now ", SeverityName(v.severity), ": ", actual,
                               " against its ", budget, " budget (", FormatRatio(ratio), ", ",
                               ImpactName(v.impact), "), over budget since ", Rfc3339(v.since));
      break;
    case FindingKind::kViolationResolved:
      e.message = absl::StrCat(subject, " back within its ", budget, " budget (now ", actual,
                               ") after ", Windows(e.windows), "; worst ",
                               FormatValue(v.metric, v.peak), " (", SeverityName(v.severity), ")");
      break;
    case FindingKind::kPrediction:
      break;
  }
  return e;
}

Severity Evaluator::WorstSeverity() const {
  Severity worst = Severity::kNone;
  for (const Violation& v : violations_) worst = std::max(worst, v.severity);
  return worst;
}

nlohmann::json Evaluator::ReportJson() const {
  nlohmann::json violations = nlohmann::json::array();
  for (const Violation& v : violations_) {
    violations.push_back(nlohmann::json{
        {"operation", v.operation},
        {"metric", MetricName(v.metric)},
        {"unit", UnitName(MetricUnit(v.metric))},
        {"budget", v.budget},
        {"actual", v.actual},
        {"peak", v.peak},
        {"ratio", v.peak / v.budget},
        {"severity", SeverityName(v.severity)},
        {"impact", ImpactName(v.impact)},
        {"state", v.until.has_value() ? "resolved" : "open"},
        {"since", Rfc3339(v.since)},
        {"until", v.until.has_value() ? nlohmann::json(Rfc3339(*v.until)) : nullptr},
        {"first_window", v.first_window},
        {"last_window", v.last_window},
        {"windows", v.last_window - v.first_window + 1},
    });
  }
  nlohmann::json predictions = nlohmann::json::array();
  for (const Finding& p : predictions_) {
    predictions.push_back(nlohmann::json{
        {"operation", p.operation},
        {"metric", MetricName(p.metric)},
        {"unit", UnitName(MetricUnit(p.metric))},
        {"budget", p.budget},
        {"actual", p.actual},
        {"slope_per_s", p.slope_per_s},
        {"eta_s", absl::ToDoubleSeconds(p.eta)},
        {"crosses_at", Rfc3339(p.at + p.eta)},
        {"confidence", p.confidence},
        {"r_squared", p.r_squared},
        {"windows", p.windows},
        {"at", Rfc3339(p.at)},
        {"message", p.message},
    });
  }
  return {
      {"preset", budgets_.name},
      {"source", budgets_.source},
      {"options",
       {{"min_calls", options_.min_calls},
        {"open_after", options_.open_after},
        {"resolve_after", options_.resolve_after},
        {"horizon_s", absl::ToDoubleSeconds(options_.horizon)},
        {"prediction_windows", options_.prediction_windows}}},
      {"resolved", budgets_.ToJson()},
      {"windows", window_},
      {"worst_severity", SeverityName(WorstSeverity())},
      {"violations", std::move(violations)},
      {"predictions", std::move(predictions)},
  };
}

}  // namespace gridprobe::budgets
