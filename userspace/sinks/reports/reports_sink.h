// --report-every / --report-dir / --report-format: one report per period
// covering that period, and a whole-run report at exit, in each format
// (json, csv, html), written atomically into one directory with retention
// by count and age and a latest.<format> link to the newest of each
// (docs/report-format.md, "Scheduled reports").
#ifndef GRIDPROBE_USERSPACE_SINKS_REPORTS_REPORTS_SINK_H_
#define GRIDPROBE_USERSPACE_SINKS_REPORTS_REPORTS_SINK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "userspace/model/pipeline.h"
#include "userspace/sinks/reports/report_builder.h"

namespace gridprobe::reports {

struct ReportsOptions {
  std::string dir;
  absl::Duration every = absl::ZeroDuration();  // zero: the whole-run report only
  std::vector<std::string> formats = {"json"};  // of "json", "csv", "html"
  int keep = 0;                                 // reports kept per format; 0: all
  absl::Duration max_age = absl::ZeroDuration();  // older ones removed; zero: none
  // The run's resolved budgets (the budgets section's "resolved"), copied
  // into every period report; null without budgets.
  nlohmann::json budgets;
  std::string budgets_preset;
  // Adds analyzer-made sections (recommendations) to a period's report.
  std::function<void(const Snapshot& period, nlohmann::json* report)> add_sections;
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

// "json,csv" -> {"json", "csv"}; an unknown or repeated format is an error
// (ExitCode::kUsage) naming it.
absl::StatusOr<std::vector<std::string>> ParseReportFormats(const std::string& text);

// Before the first probe: the directory exists (it is created, mode 0755,
// when its parent does), and a report can be written into it. Errors carry
// ExitCode::kOutputFailed.
absl::Status CheckReportDir(const std::string& dir);

// "gridprobe-<comm>-<pid>-20261204T101500Z": comm with anything but
// [A-Za-z0-9._] as "_", the time in UTC to the second.
std::string ReportBaseName(const TargetInfo& target, absl::Time t);

class ReportsSink : public Sink {
 public:
  explicit ReportsSink(ReportsOptions options);
  const char* name() const override { return "reports"; }
  void OnWindow(const Snapshot& window) override;
  void OnEvent(const Event& event) override;
  // Writes the last, partial period.
  void Drain() override;
  // Adds "reports": {"dir", "every_s", "formats", "written", "removed",
  // "failed", "last_error"}.
  void AddToReport(nlohmann::json* report) override;
  // Writes the whole-run report; a write that failed during the run fails
  // the run.
  absl::Status OnRunEnd(const Snapshot& run, const nlohmann::json& report) override;

 private:
  void WritePeriod();
  // Writes `report` as `base`.<format> for every format, then the links and
  // the retention.
  absl::Status WriteAll(const std::string& base, const nlohmann::json& report);
  void ApplyRetention(const std::string& format, const std::string& just_written);
  void Fail(const absl::Status& status);

  ReportsOptions options_;
  PeriodBuilder period_;
  int64_t period_index_ = 0;
  Series run_series_;
  std::vector<nlohmann::json> run_events_;
  uint64_t run_events_dropped_ = 0;
  TargetInfo target_;
  uint64_t written_ = 0;
  uint64_t removed_ = 0;
  uint64_t failed_ = 0;
  std::string last_error_;
};

// The whole-run series keeps at most this many points (then coalesces).
inline constexpr size_t kMaxRunPoints = 1440;

}  // namespace gridprobe::reports

#endif  // GRIDPROBE_USERSPACE_SINKS_REPORTS_REPORTS_SINK_H_
