#include "userspace/analyzers/budgets/budget_analyzer.h"

#include "userspace/model/format.h"

namespace gridprobe::budgets {
namespace {

::gridprobe::EventKind KindOf(FindingKind k) {
  switch (k) {
    case FindingKind::kViolationOpened: return ::gridprobe::EventKind::kViolationOpened;
    case FindingKind::kViolationUpdated: return ::gridprobe::EventKind::kViolationUpdated;
    case FindingKind::kViolationResolved: return ::gridprobe::EventKind::kViolationResolved;
    case FindingKind::kPrediction: return ::gridprobe::EventKind::kPrediction;
  }
  return ::gridprobe::EventKind::kViolationOpened;
}

::gridprobe::Severity SeverityOf(Severity s) {
  switch (s) {
    case Severity::kNone: return ::gridprobe::Severity::kInfo;
    case Severity::kWarning: return ::gridprobe::Severity::kWarning;
    case Severity::kError: return ::gridprobe::Severity::kError;
    case Severity::kCritical: return ::gridprobe::Severity::kCritical;
  }
  return ::gridprobe::Severity::kInfo;
}

// Collects the evaluator's findings of one window as Events.
class Collector : public FindingSink {
 public:
  Collector(const TargetInfo& target, EventList* out) : target_(target), out_(out) {}
  void OnFinding(const Finding& finding) override { out_->push_back(ToEvent(finding, target_)); }

 private:
  const TargetInfo& target_;
  EventList* out_;
};

}  // namespace

::gridprobe::Event ToEvent(const Finding& f, const TargetInfo& target) {
  ::gridprobe::Event e;
  e.kind = KindOf(f.kind);
  e.time = f.at;
  // A resolution closes the incident: it carries the worst severity it
  // reached, so that receivers can match it to what they opened.
  e.severity = SeverityOf(f.severity);
  e.impact = f.impact;
  e.target = target;
  e.operation = f.operation;
  e.metric = MetricName(f.metric);
  e.key = MakeEventKey(target, e.kind, f.operation, e.metric);
  e.figures = {{"budget", f.budget},
               {"actual", f.actual},
               {"ratio", f.ratio},
               {"unit", UnitName(MetricUnit(f.metric))},
               {"since", Rfc3339(f.since)},
               {"windows", f.windows}};
  if (f.kind == FindingKind::kPrediction) {
    e.figures["slope_per_s"] = f.slope_per_s;
    e.figures["eta_s"] = absl::ToDoubleSeconds(f.eta);
    e.figures["crosses_at"] = Rfc3339(f.at + f.eta);
    e.figures["r_squared"] = f.r_squared;
    e.figures["confidence"] = f.confidence;
  }
  e.message = f.message;
  return e;
}

void BudgetAnalyzer::OnWindow(Snapshot* window, EventList* events) {
  Collector collector(window->target, events);
  evaluator_.OnWindow(*window, collector);
}

void BudgetAnalyzer::AddToReport(const Snapshot&, nlohmann::json* report) {
  (*report)["budgets"] = evaluator_.ReportJson();
}

}  // namespace gridprobe::budgets
