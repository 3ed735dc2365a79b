#include "userspace/sinks/reports/reports_sink.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "base/files.h"
#include "base/status.h"
#include "userspace/sinks/reports/csv.h"
#include "userspace/sinks/reports/html.h"

namespace gridprobe::reports {
namespace {

// The UTC stamp inside a report file name, or nullopt.
std::optional<absl::Time> StampOf(const std::string& name) {
  for (size_t t = 8; t + 7 < name.size(); ++t) {
    if (name[t] != 'T' || name[t + 7] != 'Z') continue;
    bool digits = true;
    for (size_t k = t - 8; k < t + 7 && digits; ++k) {
      if (k != t) digits = name[k] >= '0' && name[k] <= '9';
    }
    if (!digits) continue;
    // absl's %Y reads any number of digits: split the fields by hand.
    auto n = [&name](size_t at, size_t len) { return std::stoi(name.substr(at, len)); };
    const size_t d = t - 8;
    return absl::FromCivil(absl::CivilSecond(n(d, 4), n(d + 4, 2), n(d + 6, 2), n(t + 1, 2),
                                             n(t + 3, 2), n(t + 5, 2)),
                           absl::UTCTimeZone());
  }
  return std::nullopt;
}

// The report a file belongs to in `format`: its name without the extension
// (and, for CSV, without "-memory"); empty when it is no report of ours.
std::string ReportKey(const std::string& name, const std::string& format) {
  if (!absl::StartsWith(name, "gridprobe-")) return "";
  const std::string ext = "." + format;
  if (!absl::EndsWith(name, ext)) return "";
  std::string key = name.substr(0, name.size() - ext.size());
  if (format == "csv" && absl::EndsWith(key, "-memory")) key.resize(key.size() - 7);
  return StampOf(key).has_value() ? key : "";
}

absl::Status Link(const std::string& dir, const std::string& target, const std::string& link) {
  const std::string tmp = absl::StrCat(dir, "/.", link, ".", getpid(), ".tmp");
  unlink(tmp.c_str());
  if (symlink(target.c_str(), tmp.c_str()) != 0) {
    return ErrnoError(errno, absl::StrCat("create the link ", tmp), ExitCode::kOutputFailed);
  }
  const std::string path = absl::StrCat(dir, "/", link);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return ErrnoError(err, absl::StrCat("replace the link ", path), ExitCode::kOutputFailed);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseReportFormats(const std::string& text) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    std::string f(absl::StripAsciiWhitespace(part));
    if (f != "json" && f != "csv" && f != "html") {
      return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                              "unknown report format '", f, "' (known: json, csv, html)")),
                          ExitCode::kUsage);
    }
    if (std::find(out.begin(), out.end(), f) != out.end()) {
      return WithExitCode(
          absl::InvalidArgumentError(absl::StrCat("report format '", f, "' given twice")),
          ExitCode::kUsage);
    }
    out.push_back(f);
  }
  return out;
}

absl::Status CheckReportDir(const std::string& dir) {
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT || mkdir(dir.c_str(), 0755) != 0) {
      return ErrnoError(errno, absl::StrCat("--report-dir ", dir), ExitCode::kOutputFailed);
    }
  } else if (!S_ISDIR(st.st_mode)) {
    return WithExitCode(absl::FailedPreconditionError(absl::StrCat(
                            "--report-dir ", dir, " is not a directory")),
                        ExitCode::kOutputFailed);
  }
  return CheckOutputPath(absl::StrCat(dir, "/latest.json"), "--report-dir");
}

std::string ReportBaseName(const TargetInfo& target, absl::Time t) {
  std::string comm = target.comm.empty() ? "target" : target.comm;
  for (char& c : comm) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_';
    if (!ok) c = '_';
  }
  return absl::StrCat("gridprobe-", comm, "-", target.pid, "-",
                      absl::FormatTime("%Y%m%dT%H%M%SZ", t, absl::UTCTimeZone()));
}

ReportsSink::ReportsSink(ReportsOptions options)
    : options_(std::move(options)), run_series_(kMaxRunPoints) {}

void ReportsSink::OnWindow(const Snapshot& w) {
  target_ = w.target;
  run_series_.Add(w);
  if (options_.every <= absl::ZeroDuration()) return;
  period_.AddWindow(w);
  // A period closes at the window that reaches its length, within half a
  // window (windows end a little late or early).
  if ((period_.end() - period_.start()) + (w.end - w.start) / 2 >= options_.every) WritePeriod();
}

void ReportsSink::OnEvent(const Event& e) {
  if (options_.every > absl::ZeroDuration()) period_.AddEvent(e);
  if (run_events_.size() < kMaxReportEvents) {
    run_events_.push_back(EventJson(e));
  } else {
    ++run_events_dropped_;
  }
}

void ReportsSink::Drain() {
  if (!period_.empty()) WritePeriod();
}

void ReportsSink::WritePeriod() {
  nlohmann::json report = period_.Report();
  report["report"] = {{"kind", "period"},
                      {"period_index", period_index_},
                      {"every_s", absl::ToDoubleSeconds(options_.every)},
                      {"windows", period_.windows()}};
  if (!options_.budgets.is_null()) {
    report["budgets"] = {{"preset", options_.budgets_preset}, {"resolved", options_.budgets}};
  }
  if (options_.add_sections) options_.add_sections(period_.Period(), &report);
  Fail(WriteAll(ReportBaseName(target_, period_.start()), report));
  ++period_index_;
  period_.Clear();
}

void ReportsSink::Fail(const absl::Status& status) {
  if (status.ok()) return;
  ++failed_;
  last_error_ = std::string(status.message());
}

absl::Status ReportsSink::WriteAll(const std::string& base, const nlohmann::json& report) {
  absl::Status first;
  auto write = [&](const std::string& name, const std::string& text) {
    absl::Status s = WriteFileAtomically(absl::StrCat(options_.dir, "/", name), text, 0644);
    if (s.ok()) {
      ++written_;
    } else if (first.ok()) {
      first = s;
    }
    return s.ok();
  };
  for (const std::string& format : options_.formats) {
    bool ok = true;
    std::string main;
    if (format == "json") {
      main = base + ".json";
      ok = write(main, report.dump(1) + "\n");
    } else if (format == "csv") {
      main = base + ".csv";
      ok = write(main, OperationsCsv(report)) && write(base + "-memory.csv", MemoryCsv(report));
      if (ok) {
        absl::Status l = Link(options_.dir, base + "-memory.csv", "latest-memory.csv");
        if (!l.ok() && first.ok()) first = l;
      }
    } else {
      main = base + ".html";
      ok = write(main, RenderHtml(report));
    }
    if (!ok) continue;
    absl::Status l = Link(options_.dir, main, "latest." + format);
    if (!l.ok() && first.ok()) first = l;
    ApplyRetention(format, base);
  }
  return first;
}

void ReportsSink::ApplyRetention(const std::string& format, const std::string& just_written) {
  if (options_.keep <= 0 && options_.max_age <= absl::ZeroDuration()) return;
  DIR* d = opendir(options_.dir.c_str());
  if (d == nullptr) return;
  // key -> files of that report in this format
  std::map<std::string, std::vector<std::string>> reports;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    const std::string key = ReportKey(name, format);
    if (!key.empty()) reports[key].push_back(name);
  }
  closedir(d);
  std::vector<std::pair<absl::Time, std::string>> by_time;
  for (const auto& [key, files] : reports) by_time.emplace_back(*StampOf(key), key);
  // Newest first; the same second sorts the run report (its "-run") after
  // the period.
  std::sort(by_time.begin(), by_time.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second > b.second;
  });
  const absl::Time now = options_.now();
  for (size_t i = 0; i < by_time.size(); ++i) {
    const std::string& key = by_time[i].second;
    if (key == just_written) continue;
    const bool too_many = options_.keep > 0 && static_cast<int>(i) >= options_.keep;
    const bool too_old =
        options_.max_age > absl::ZeroDuration() && now - by_time[i].first > options_.max_age;
    if (!too_many && !too_old) continue;
    for (const std::string& name : reports[key]) {
      const std::string path = absl::StrCat(options_.dir, "/", name);
      struct stat st {};
      // Only regular files: never a link or anything planted under the name.
      if (lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && unlink(path.c_str()) == 0) {
        ++removed_;
      }
    }
  }
}

void ReportsSink::AddToReport(nlohmann::json* report) {
  (*report)["reports"] = {
      {"dir", options_.dir},
      {"every_s", absl::ToDoubleSeconds(options_.every)},
      {"formats", options_.formats},
      {"periods", period_index_},
      {"written", written_},
      {"removed", removed_},
      {"failed", failed_},
      {"last_error", last_error_.empty() ? nlohmann::json(nullptr) : nlohmann::json(last_error_)}};
}

absl::Status ReportsSink::OnRunEnd(const Snapshot& run, const nlohmann::json& final_report) {
  if (target_.pid == 0 && target_.comm.empty()) target_ = run.target;
  nlohmann::json report = final_report;
  report["report"] = {{"kind", "run"},
                      {"periods", period_index_},
                      {"every_s", absl::ToDoubleSeconds(options_.every)}};
  AddHistograms(run, &report);
  report["windows"] = run_series_.Json();
  report["events"] = run_events_;
  report["events_dropped"] = run_events_dropped_;
  absl::Status s = WriteAll(ReportBaseName(target_, run.end) + "-run", report);
  Fail(s);
  if (failed_ == 0) return absl::OkStatus();
  return WithExitCode(absl::DataLossError(absl::StrCat(failed_, " scheduled report(s) in ",
                                                       options_.dir, " could not be written (",
                                                       last_error_, ")")),
                      ExitCode::kOutputFailed);
}

}  // namespace gridprobe::reports
