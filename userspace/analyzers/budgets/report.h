// Budgets against a saved report ("gridprobe.report/1"), for CI gates.
#ifndef GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_REPORT_H_
#define GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_REPORT_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "userspace/analyzers/budgets/budget_set.h"
#include "userspace/analyzers/budgets/evaluator.h"
#include "userspace/model/snapshot.h"

namespace gridprobe::budgets {

// The report's target, window and operations as one Snapshot. Errors name
// the offending field ("operations[2].p95_ns: expected a number >= 0").
absl::StatusOr<Snapshot> SnapshotFromReportJson(const nlohmann::json& report);

struct CheckResult {
  nlohmann::json budgets;  // the report's "budgets" section for this check
  Severity worst = Severity::kNone;
  int operations = 0;  // in the report
  int judged = 0;      // with at least min_calls calls and a budget
};

// Judges the whole report as one window: a report holds one window, so
// there is no hysteresis (a window over budget is a violation) and no
// forecast. Only options.min_calls and options.severities are used. Events
// go to `sink`.
absl::StatusOr<CheckResult> CheckReport(const nlohmann::json& report, BudgetSet budgets,
                                        const EvaluatorOptions& options, FindingSink& sink);

}  // namespace gridprobe::budgets

#endif  // GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_REPORT_H_
