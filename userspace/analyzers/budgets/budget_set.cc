#include "userspace/analyzers/budgets/budget_set.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "base/units.h"

namespace gridprobe::budgets {
namespace {

bool AnySet(const Limits& limits) {
  for (const std::optional<double>& limit : limits) {
    if (limit.has_value()) return true;
  }
  return false;
}

nlohmann::json LimitsJson(const Limits& limits) {
  nlohmann::json out = nlohmann::json::object();
  for (Metric m : kAllMetrics) {
    const std::optional<double>& limit = limits[static_cast<int>(m)];
    if (!limit.has_value()) continue;
    out[MetricField(m)] = *limit == kNoLimit ? nlohmann::json(nullptr) : nlohmann::json(*limit);
  }
  return out;
}

// Shortest text that reads back as the same double.
std::string Number(double v) {
  std::string s = absl::StrFormat("%g", v);
  double back = 0;
  if (absl::SimpleAtod(s, &back) && back == v) return s;
  return absl::StrFormat("%.17g", v);
}

// The value as a preset file writes it.
std::string YamlValue(Metric m, double value) {
  if (value == kNoLimit) return "none";
  switch (MetricUnit(m)) {
    case Unit::kNanoseconds:
      return config::FormatConfigDuration(
          absl::Nanoseconds(static_cast<int64_t>(std::llround(value))));
    case Unit::kBytes:
    case Unit::kBytesPerSecond:
      return config::FormatConfigSize(static_cast<uint64_t>(std::llround(value)));
    case Unit::kCallsPerSecond:
      return Number(value);
  }
  return "";
}

void AppendLimits(const Limits& limits, absl::string_view indent, std::string* out) {
  for (Metric m : kAllMetrics) {
    const std::optional<double>& limit = limits[static_cast<int>(m)];
    if (limit.has_value()) {
      absl::StrAppend(out, indent, MetricName(m), ": ", YamlValue(m, *limit), "\n");
    }
  }
}

// Names and descriptions are free text; quoting keeps them plain strings.
std::string Quoted(absl::string_view s) {
  nlohmann::json j = std::string(s);
  // A JSON string is a valid double-quoted YAML scalar.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::optional<double> BudgetSet::LimitFor(absl::string_view op, Metric m) const {
  const int i = static_cast<int>(m);
  std::optional<double> limit = defaults[i];
  auto it = operations.find(op);
  if (it != operations.end() && it->second.limits[i].has_value()) limit = it->second.limits[i];
  if (limit == kNoLimit) return std::nullopt;
  return limit;
}

nlohmann::json BudgetSet::ToJson() const {
  nlohmann::json out = {
      {"name", name},
      {"source", source},
      {"description", description},
      {"severities",
       {{"warning", severities.warning},
        {"error", severities.error},
        {"critical", severities.critical}}},
      {"default", LimitsJson(defaults)},
      {"operations", nlohmann::json::object()},
  };
  for (const auto& [op, budget] : operations) {
    nlohmann::json entry = LimitsJson(budget.limits);
    if (budget.impact.has_value()) entry["impact"] = ImpactName(*budget.impact);
    out["operations"][op] = std::move(entry);
  }
  return out;
}

std::string BudgetSet::ToYaml() const {
  std::string out;
  absl::StrAppend(&out, "name: ", Quoted(name), "\n");
  if (!description.empty()) absl::StrAppend(&out, "description: ", Quoted(description), "\n");
  absl::StrAppend(&out, "severities:\n", "  warning: ", Number(severities.warning), "\n",
                  "  error: ", Number(severities.error), "\n",
                  "  critical: ", Number(severities.critical), "\n");
  if (AnySet(defaults)) {
    absl::StrAppend(&out, "default:\n");
    AppendLimits(defaults, "  ", &out);
  }
  if (!operations.empty()) {
    absl::StrAppend(&out, "operations:\n");
    for (const auto& [op, budget] : operations) {
      absl::StrAppend(&out, "  ", Quoted(op), ":");
      if (!AnySet(budget.limits) && !budget.impact.has_value()) {
        absl::StrAppend(&out, " {}\n");
        continue;
      }
      absl::StrAppend(&out, "\n");
      AppendLimits(budget.limits, "    ", &out);
      if (budget.impact.has_value()) {
        absl::StrAppend(&out, "    impact: ", ImpactName(*budget.impact), "\n");
      }
    }
  }
  return out;
}

}  // namespace gridprobe::budgets
