// Judges each window's statistics against the budgets, with hysteresis, and
// forecasts crossings from the recent trend. What it finds goes to a
// FindingSink as a typed Finding, cheap to make on the judging path (under
// 5 us a window, docs/performance.md); BudgetAnalyzer turns each into the
// pipeline's one Event type (model/event.h). Where they end up is not the
// evaluator's business.
#ifndef GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_EVALUATOR_H_
#define GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_EVALUATOR_H_

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "userspace/analyzers/budgets/budget_set.h"
#include "userspace/analyzers/budgets/metric.h"
#include "userspace/analyzers/budgets/trend.h"
#include "userspace/model/snapshot.h"

namespace gridprobe::budgets {

enum class FindingKind : uint8_t {
  kViolationOpened,
  kViolationUpdated,  // an open violation's severity rose
  kViolationResolved,
  kPrediction,
};

struct Finding {
  FindingKind kind = FindingKind::kViolationOpened;
  std::string operation;
  Metric metric = Metric::kP95;
  Impact impact = Impact::kUserVisible;
  double budget = 0;  // the limit, in MetricUnit(metric)
  double actual = 0;  // the metric in the window that caused the event
  double ratio = 0;   // actual / budget
  // Violations: the worst severity reached so far. Predictions: the
  // severity the crossing would bring, kWarning.
  Severity severity = Severity::kNone;
  absl::Time
      since;      // start of the first bad window; for predictions, end of the first window fitted
  absl::Time at;  // end of the window that caused the event
  int64_t windows = 0;  // windows from the first bad (or fitted) one to this one

  // Predictions only.
  double slope_per_s = 0;  // metric units per second
  absl::Duration eta;      // until the fitted line crosses the budget
  double r_squared = 0;    // of the fit
  std::string confidence;  // "high" or "medium"

  std::string message;  // one line for people
};

class FindingSink {
 public:
  virtual ~FindingSink() = default;
  virtual void OnFinding(const Finding& event) = 0;
};

struct EvaluatorOptions {
  // Windows with fewer calls of an operation are not judged for it.
  int64_t min_calls = 20;
  // Consecutive judged windows over budget before a violation opens.
  int open_after = 2;
  // Consecutive judged windows within budget before it resolves.
  int resolve_after = 2;
  // Forecasts further out than this are not reported.
  absl::Duration horizon = absl::Hours(1);
  // Windows a forecast is fitted over; 0 turns forecasting off.
  int prediction_windows = 12;
  // Replaces the preset's severity ratios when set.
  std::optional<Severities> severities;
};

// Fewest points a forecast is fitted over, and the least R² it accepts.
inline constexpr int kMinPredictionPoints = 6;
inline constexpr double kMinPredictionRSquared = 0.8;

// OK, or what is wrong with `options` (InvalidArgument).
absl::Status ValidateOptions(const EvaluatorOptions& options);

// A violation as recorded for the report.
struct Violation {
  std::string operation;
  Metric metric = Metric::kP95;
  Impact impact = Impact::kUserVisible;
  double budget = 0;
  double actual = 0;                    // in the latest bad window
  double peak = 0;                      // worst value while open
  Severity severity = Severity::kNone;  // worst reached
  absl::Time since;
  std::optional<absl::Time> until;  // set once resolved
  int64_t first_window = 0;         // window numbers count from 0
  int64_t last_window = 0;          // the latest bad window
};

// Not thread-safe: call from one thread, or synchronize.
class Evaluator {
 public:
  // REQUIRES: ValidateOptions(options).ok().
  Evaluator(BudgetSet budgets, EvaluatorOptions options);

  // Judges one window. Windows must come in time order.
  void OnWindow(const Snapshot& window, FindingSink& sink);

  // The report's "budgets" section: the preset in force, its resolved
  // budgets, every violation (open or resolved) and every prediction.
  nlohmann::json ReportJson() const;

  const BudgetSet& budgets() const { return budgets_; }
  const std::vector<Violation>& violations() const { return violations_; }
  // The worst severity any violation reached; kNone if there was none.
  Severity WorstSeverity() const;

 private:
  // What judging a window touches for one budgeted metric of an operation;
  // kept small so that all of them stay in cache from window to window.
  struct MetricState {
    Thresholds thresholds;
    Metric metric = Metric::kP95;
    int32_t open = -1;  // index into violations_
    int32_t bad_streak = 0;
    int32_t good_streak = 0;
    int64_t quiet_until = 0;  // no new forecast before this window
  };
  // What only a bad window or an event needs.
  struct MetricDetail {
    double budget = 0;
    absl::Time streak_start;
    int64_t streak_first_window = 0;
    Severity streak_worst = Severity::kNone;
  };
  struct OpState {
    std::string name;
    std::optional<Impact> impact;  // the preset's override
    // Its budgeted metrics are metrics_[first, first + count) (and the same
    // in details_ and warnings_): one array for all operations, in the
    // order they first came, so that a window walks memory front to back.
    uint32_t first = 0;
    uint32_t count = 0;
    uint32_t metric_bits = 0;  // bit m: metric m is budgeted
    uint64_t metric_ids = 0;   // bits 4k to 4k + 3: metrics_[first + k].metric
    // Its group in trends_ (-1 with forecasts off): series k is
    // metrics_[first + k]. A sample is added in each judged window; when
    // the set of measured metrics changes, it starts afresh.
    int32_t trend = -1;
    uint32_t measured = 0;    // in the latest judged window, bit m: metric m
    uint32_t measured_k = 0;  // the same, bit k: metrics_[first + k]
    // Bit k: metrics_[first + k] has a violation open or a bad streak
    // going. Other metrics within budget leave judging nothing to do.
    uint32_t unsettled = 0;
    int64_t quiet_until = 0;  // the latest of its metrics'
  };

  // Index into ops_. The agent lists operations in the same order every
  // window, so the state at each position is remembered: comparing names
  // is cheaper than hashing them.
  size_t StateFor(const OpStats& op, size_t position) {
    if (position < by_position_.size()) {
      const size_t cached = by_position_[position];
      if (SameName(ops_[cached].name, op.name)) return cached;
    }
    return StateForNew(op, position);
  }
  // StateFor for an operation new at this position, or new altogether.
  size_t StateForNew(const OpStats& op, size_t position);
  static bool SameName(const std::string& a, const std::string& b);
  // Bit k set when y[k] is over metric k's warning threshold.
  uint32_t Over(const OpState& state, const double* y) const;
  // Judges state's metrics with values y (y[k]: metrics_[first + k], as
  // ReadMetricsTo writes them), `over`
  // those over their warning threshold, and reports the violation events
  // they bring about. Returns bit k set when metric k may be forecast:
  // within budget, nothing open, not quiet.
  uint32_t JudgeOp(OpState& state, const OpStats& op, uint32_t over, const double* y,
                   const Snapshot& window, FindingSink& sink);
  // Notes which of state's metrics are measured (`all_measured`: bit i,
  // Metric i); returns whether that changed.
  static bool Measure(OpState& state, uint32_t all_measured);
  // JudgeOp's work for the metrics in `judge` (bit k: metrics_[first + k]),
  // one by one: those over their threshold or with a violation open or a
  // streak going. Returns their bits of JudgeOp's result.
  uint32_t Judge(const OpStats& op, OpState& state, const double* y, uint32_t judge,
                 const Snapshot& window, FindingSink& sink);
  void Worse(OpState& state, uint32_t k, Impact impact, double value, Severity severity,
             const Snapshot& window, FindingSink& sink);
  // Worse for a metric with no violation open: the streak grows, and at
  // open_after windows a violation opens.
  void Open(OpState& state, uint32_t k, Impact impact, double value, Severity severity,
            const Snapshot& window, FindingSink& sink);
  void Better(OpState& state, uint32_t k, double value, const Snapshot& window, FindingSink& sink);
  // Reports the forecast for metric k of `state`, found due.
  void Forecast(OpState& state, uint32_t k, Impact impact, double value, const Snapshot& window,
                FindingSink& sink);
  // `value`: the metric in the window that caused the event.
  Finding ViolationFinding(FindingKind kind, const Violation& v, double value, absl::Time at) const;

  BudgetSet budgets_;
  EvaluatorOptions options_;
  int64_t window_ = 0;  // number of the window being judged
  absl::Time first_start_ = absl::InfinitePast();
  double window_x_ = 0;  // seconds from first_start_ to the end of this window
  double horizon_s_;

  std::vector<OpState> ops_;
  std::vector<MetricState> metrics_;
  Trends trends_;
  // This window's operations that are judged, in order; kept to save
  // allocating. With forecasts on, their samples are added to the trends
  // first, which also tests them against the warning thresholds (`over`
  // is kFromTrends), and they are judged once the trends are up to date.
  static constexpr uint32_t kFromTrends = ~0u;
  struct Judged {
    uint32_t position;  // in the snapshot
    uint32_t state;     // in ops_
    uint32_t over;      // bit k: metrics_[first + k] over its warning threshold
  };
  std::vector<Judged> judged_;
  std::vector<MetricDetail> details_;
  // metrics_[i].thresholds.warning, apart: all that judging reads of a
  // settled operation's metrics.
  std::vector<double> warnings_;
  absl::flat_hash_map<std::string, size_t> index_;
  std::vector<size_t> by_position_;  // see StateFor

  std::vector<Violation> violations_;
  std::vector<Finding> predictions_;
};

}  // namespace gridprobe::budgets

#endif  // GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_EVALUATOR_H_
