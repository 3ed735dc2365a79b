#include "userspace/analyzers/budgets/report.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace gridprobe::budgets {
namespace {

constexpr char kSchema[] = "gridprobe.report/1";

absl::Status Bad(absl::string_view field, absl::string_view what) {
  return WithExitCode(absl::InvalidArgumentError(absl::StrCat(field, ": ", what)),
                      ExitCode::kBadInput);
}

// Reads an optional non-negative number; absent or null leaves `out` alone.
template <typename T>
absl::Status Number(const nlohmann::json& obj, const char* key, const std::string& where, T* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_number() || !(it->template get<double>() >= 0) ||
      !std::isfinite(it->template get<double>())) {
    return Bad(absl::StrCat(where, ".", key), "expected a number >= 0");
  }
  if constexpr (std::is_integral_v<T>) {
    *out = it->is_number_unsigned() ? it->template get<uint64_t>()
                                    : static_cast<T>(std::llround(it->template get<double>()));
  } else {
    *out = it->template get<double>();
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status Optional(const nlohmann::json& obj, const char* key, const std::string& where,
                      std::optional<T>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  T value{};
  absl::Status status = Number(obj, key, where, &value);
  if (status.ok()) *out = value;
  return status;
}

absl::StatusOr<absl::Time> Time(const nlohmann::json& window, const char* key) {
  auto it = window.find(key);
  std::string error;
  absl::Time t;
  if (it == window.end() || !it->is_string() ||
      !absl::ParseTime(absl::RFC3339_full, it->get<std::string>(), &t, &error)) {
    return Bad(absl::StrCat("window.", key), "expected an RFC 3339 time");
  }
  return t;
}

absl::StatusOr<OpStats> ReadOp(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) return Bad(where, "expected an object");
  OpStats op;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get<std::string>().empty()) {
    return Bad(absl::StrCat(where, ".name"), "expected the operation's name");
  }
  op.name = name->get<std::string>();
  for (const char* key : {"symbol", "module"}) {
    auto it = j.find(key);
    if (it != j.end() && it->is_string()) (key[0] == 's' ? op.symbol : op.module) = *it;
  }
  if (auto it = j.find("impact"); it != j.end()) {
    std::optional<Impact> impact =
        it->is_string() ? ParseImpact(it->get<std::string>()) : std::nullopt;
    if (!impact.has_value()) {
      return Bad(absl::StrCat(where, ".impact"), "expected \"userVisible\" or \"background\"");
    }
    op.impact = *impact;
  }
  if (j.find("calls") == j.end()) return Bad(absl::StrCat(where, ".calls"), "missing");
  for (absl::Status s : {
           Number(j, "calls", where, &op.calls),
           Number(j, "unwound", where, &op.unwound),
           Number(j, "untracked", where, &op.untracked),
           Number(j, "calls_per_s", where, &op.calls_per_s),
           Number(j, "mean_ns", where, &op.mean_ns),
           Number(j, "min_ns", where, &op.min_ns),
           Number(j, "max_ns", where, &op.max_ns),
           Number(j, "p50_ns", where, &op.p50_ns),
           Number(j, "p95_ns", where, &op.p95_ns),
           Number(j, "p99_ns", where, &op.p99_ns),
           Number(j, "total_ns", where, &op.total_ns),
           Optional(j, "alloc_bytes_per_call", where, &op.alloc_bytes_per_call),
           Optional(j, "live_bytes", where, &op.live_bytes),
           Optional(j, "leak_growth_bytes_per_s", where, &op.leak_growth_bytes_per_s),
       }) {
    if (!s.ok()) return s;
  }
  return op;
}

}  // namespace

absl::StatusOr<Snapshot> SnapshotFromReportJson(const nlohmann::json& report) {
  if (!report.is_object()) return Bad("report", "expected a JSON object");
  auto schema = report.find("schema");
  if (schema == report.end() || !schema->is_string() || schema->get<std::string>() != kSchema) {
    return Bad("schema", absl::StrCat("expected \"", kSchema, "\"; is this a gridprobe report?"));
  }
  Snapshot snapshot;
  if (auto target = report.find("target"); target != report.end() && target->is_object()) {
    if (auto pid = target->find("pid"); pid != target->end() && pid->is_number_integer()) {
      snapshot.target.pid = pid->get<int>();
    }
    for (const char* key : {"comm", "exe"}) {
      auto it = target->find(key);
      if (it != target->end() && it->is_string()) {
        (key[0] == 'c' ? snapshot.target.comm : snapshot.target.exe) = *it;
      }
    }
  }
  auto window = report.find("window");
  if (window == report.end() || !window->is_object()) return Bad("window", "missing");
  absl::StatusOr<absl::Time> start = Time(*window, "start");
  if (!start.ok()) return start.status();
  absl::StatusOr<absl::Time> end = Time(*window, "end");
  if (!end.ok()) return end.status();
  snapshot.start = *start;
  snapshot.end = *end;

  auto ops = report.find("operations");
  if (ops == report.end() || !ops->is_array()) return Bad("operations", "expected a list");
  for (size_t i = 0; i < ops->size(); ++i) {
    absl::StatusOr<OpStats> op = ReadOp((*ops)[i], absl::StrCat("operations[", i, "]"));
    if (!op.ok()) return op.status();
    snapshot.ops.push_back(*std::move(op));
  }
  return snapshot;
}

absl::StatusOr<CheckResult> CheckReport(const nlohmann::json& report, BudgetSet budgets,
                                        const EvaluatorOptions& options, FindingSink& sink) {
  absl::StatusOr<Snapshot> snapshot = SnapshotFromReportJson(report);
  if (!snapshot.ok()) return snapshot.status();
  EvaluatorOptions offline;
  offline.min_calls = options.min_calls;
  offline.severities = options.severities;
  offline.open_after = 1;
  offline.resolve_after = 1;
  offline.prediction_windows = 0;

  CheckResult result;
  for (const OpStats& op : snapshot->ops) {
    ++result.operations;
    bool budgeted = false;
    for (Metric m : kAllMetrics) budgeted = budgeted || budgets.LimitFor(op.name, m).has_value();
    if (budgeted && op.calls >= static_cast<uint64_t>(offline.min_calls)) ++result.judged;
  }
  Evaluator evaluator(std::move(budgets), offline);
  evaluator.OnWindow(*snapshot, sink);
  result.budgets = evaluator.ReportJson();
  result.worst = evaluator.WorstSeverity();
  return result;
}

}  // namespace gridprobe::budgets
