// The budgets as a pipeline stage: judges every window with an Evaluator
// and turns what it finds into Events; adds the report's "budgets" section.
#ifndef GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_BUDGET_ANALYZER_H_
#define GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_BUDGET_ANALYZER_H_

#include "userspace/analyzers/budgets/evaluator.h"
#include "userspace/model/event.h"
#include "userspace/model/pipeline.h"

namespace gridprobe::budgets {

// The pipeline's Event for one of the evaluator's findings; `target` names whose.
// Figures: budget, actual, ratio, unit, since, windows; predictions add
// slope_per_s, eta_s, crosses_at, r_squared and confidence.
::gridprobe::Event ToEvent(const Finding& finding, const TargetInfo& target);

class BudgetAnalyzer : public Analyzer {
 public:
  // REQUIRES: ValidateOptions(options).ok().
  BudgetAnalyzer(BudgetSet set, const EvaluatorOptions& options)
      : evaluator_(std::move(set), options) {}
  const char* name() const override { return "budgets"; }
  void OnWindow(Snapshot* window, EventList* events) override;
  void AddToReport(const Snapshot& run, nlohmann::json* report) override;

  const Evaluator& evaluator() const { return evaluator_; }

 private:
  Evaluator evaluator_;
};

}  // namespace gridprobe::budgets

#endif  // GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_BUDGET_ANALYZER_H_
