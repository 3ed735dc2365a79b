// A resolved budget preset: limits per metric, as a default and per
// operation, and the ratios at which breaking one becomes an error.
#ifndef GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_BUDGET_SET_H_
#define GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_BUDGET_SET_H_

#include <array>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "userspace/analyzers/budgets/metric.h"
#include "userspace/model/snapshot.h"

namespace gridprobe::budgets {

// A limit written as "none": no limit, even where a default or a preset
// this one extends sets one.
inline constexpr double kNoLimit = std::numeric_limits<double>::infinity();

// Limits in the metric's unit (MetricUnit), indexed by Metric. nullopt: not
// set here, so the default (or the extended preset) applies.
using Limits = std::array<std::optional<double>, kNumMetrics>;

struct OperationBudget {
  Limits limits;
  std::optional<Impact> impact;  // overrides the library preset's
};

struct BudgetSet {
  std::string name;    // preset name ("interactive")
  std::string source;  // file it was read from
  std::string description;
  Severities severities;
  Limits defaults;
  std::map<std::string, OperationBudget, std::less<>> operations;

  // The limit on `m` for operation `op`: its own, else the default. nullopt
  // when there is none.
  std::optional<double> LimitFor(absl::string_view op, Metric m) const;

  // {"name","source","description","severities":{...},"default":{"p95_ns":...},
  //  "operations":{"sort":{"p95_ns":...,"impact":"background"}}}; a limit
  // written as "none" is null.
  nlohmann::json ToJson() const;
  // A preset file that resolves to this set, with no `extends`.
  std::string ToYaml() const;
};

}  // namespace gridprobe::budgets

#endif  // GRIDPROBE_USERSPACE_ANALYZERS_BUDGETS_BUDGET_SET_H_
