#include "userspace/cli/report_command.h"

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/files.h"
#include "base/status.h"
#include "userspace/model/snapshot.h"
#include "userspace/sinks/console_table.h"
#include "userspace/sinks/reports/csv.h"
#include "userspace/sinks/reports/html.h"

namespace gridprobe {
namespace {

using Json = nlohmann::json;

absl::StatusOr<Json> ReadReport(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    const int err = errno;
    return ErrnoError(err, absl::StrCat("read the report ", path),
                      err == ENOENT ? ExitCode::kNotFound : ExitCode::kPermission);
  }
  std::stringstream text;
  text << in.rdbuf();
  Json j = Json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            path, " is not JSON; give a report gridprobe wrote (--report-json or "
                                  "--report-dir)")),
                        ExitCode::kBadInput);
  }
  if (j.value("schema", "") != "gridprobe.report/1") {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            path, " is not a gridprobe report (its schema is '",
                            j.value("schema", ""), "', expected gridprobe.report/1)")),
                        ExitCode::kBadInput);
  }
  return j;
}

template <typename T>
T Get(const Json& j, const char* key, T fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  return j[key].get<T>();
}

// The whole-run snapshot a report was made from, as far as the report
// holds it (no histograms: the figures are the report's own).
Snapshot SnapshotOf(const Json& report) {
  Snapshot s;
  const Json target = report.value("target", Json::object());
  s.target.pid = Get<int>(target, "pid", 0);
  s.target.comm = Get<std::string>(target, "comm", "");
  s.target.exe = Get<std::string>(target, "exe", "");
  const Json window = report.value("window", Json::object());
  absl::Time start, end;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, Get<std::string>(window, "start", ""), &start, &err) &&
      absl::ParseTime(absl::RFC3339_full, Get<std::string>(window, "end", ""), &end, &err)) {
    s.start = start;
    s.end = end;
  }
  for (const Json& o : report.value("operations", Json::array())) {
    OpStats op;
    op.name = Get<std::string>(o, "name", "");
    op.symbol = Get<std::string>(o, "symbol", "");
    op.module = Get<std::string>(o, "module", "");
    op.preset = Get<std::string>(o, "preset", "");
    op.impact = ParseImpact(Get<std::string>(o, "impact", "userVisible"))
                    .value_or(Impact::kUserVisible);
    op.calls = Get<uint64_t>(o, "calls", 0);
    op.calls_per_s = Get<double>(o, "calls_per_s", 0);
    op.unwound = Get<uint64_t>(o, "unwound", 0);
    op.untracked = Get<uint64_t>(o, "untracked", 0);
    op.mean_ns = Get<double>(o, "mean_ns", 0);
    op.min_ns = Get<uint64_t>(o, "min_ns", 0);
    op.max_ns = Get<uint64_t>(o, "max_ns", 0);
    op.p50_ns = Get<uint64_t>(o, "p50_ns", 0);
    op.p95_ns = Get<uint64_t>(o, "p95_ns", 0);
    op.p99_ns = Get<uint64_t>(o, "p99_ns", 0);
    op.total_ns = Get<uint64_t>(o, "total_ns", 0);
    s.ops.push_back(std::move(op));
  }
  if (report.contains("memory") && report["memory"].contains("categories")) {
    const Json& m = report["memory"];
    MemorySummary summary;
    summary.mode = Get<std::string>(m, "mode", "");
    for (const Json& c : m["categories"]) {
      MemoryCategory cat;
      cat.name = Get<std::string>(c, "category", "");
      cat.allocs = Get<uint64_t>(c, "allocs", 0);
      cat.alloc_bytes = Get<uint64_t>(c, "alloc_bytes", 0);
      cat.allocs_per_s = Get<double>(c, "allocs_per_s", 0);
      cat.bytes_per_s = Get<double>(c, "bytes_per_s", 0);
      if (c.contains("bytes_per_call") && !c["bytes_per_call"].is_null()) {
        cat.bytes_per_call = c["bytes_per_call"].get<double>();
      }
      cat.live_bytes = Get<uint64_t>(c, "live_bytes", 0);
      cat.live_allocs = Get<uint64_t>(c, "live_allocs", 0);
      cat.peak_live_bytes = Get<uint64_t>(c, "peak_live_bytes", 0);
      cat.dropped = Get<uint64_t>(c, "dropped_allocs", 0);
      cat.dropped_bytes = Get<uint64_t>(c, "dropped_bytes", 0);
      cat.leak_suspected = Get<bool>(c, "leak_suspected", false);
      cat.growth_bytes_per_s = Get<double>(c, "growth_bytes_per_s", 0);
      cat.leak_confidence = Get<double>(c, "leak_confidence", 0);
      cat.projected_bytes_1h = Get<double>(c, "projected_bytes_1h", 0);
      cat.leak_reason = Get<std::string>(c, "leak_reason", "");
      summary.categories.push_back(std::move(cat));
    }
    s.memory = std::move(summary);
  }
  return s;
}

absl::Status Write(const std::string& output, const std::string& text) {
  if (output.empty() || output == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return absl::OkStatus();
  }
  GP_RETURN_IF_ERROR(CheckOutputPath(output, "-o"));
  return WriteFileAtomically(output, text, 0644);
}

}  // namespace

absl::Status ShowReport(const ReportFlags& f) {
  GP_ASSIGN_OR_RETURN(Json report, ReadReport(f.input));
  const Snapshot run = SnapshotOf(report);
  std::string text = absl::StrCat("gridprobe: ", f.input, ": pid ", run.target.pid, " (",
                                  run.target.comm, "), ", report["window"].value("start", ""),
                                  " to ", report["window"].value("end", ""), "\n");
  if (report.contains("budgets")) {
    const Json& b = report["budgets"];
    absl::StrAppend(&text, "budgets '", b.value("preset", ""), "': worst ",
                    b.value("worst_severity", "not judged"), ", ",
                    b.value("violations", Json::array()).size(), " violations\n");
    for (const Json& v : b.value("violations", Json::array())) {
      absl::StrAppend(&text, "  ", v.value("severity", ""), " ", v.value("operation", ""), " ",
                      v.value("metric", ""), " ", v.value("state", ""), " since ",
                      v.value("since", ""), "\n");
    }
  }
  absl::StrAppend(&text, RenderFinalReport(run, report));
  return Write("", text);
}

absl::Status ConvertReport(const ReportFlags& f) {
  GP_ASSIGN_OR_RETURN(Json report, ReadReport(f.input));
  std::string text;
  if (f.format == "html") {
    text = reports::RenderHtml(report);
  } else if (f.format == "csv") {
    text = reports::OperationsCsv(report);
  } else if (f.format == "memory-csv") {
    text = reports::MemoryCsv(report);
  } else if (f.format == "json") {
    text = report.dump(2) + "\n";
  } else {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            "--format '", f.format, "': give html, csv, memory-csv or json")),
                        ExitCode::kUsage);
  }
  return Write(f.output, text);
}

void AddReportCommands(CLI::App& app, ReportFlags* flags, absl::Status* status) {
  CLI::App* report = app.add_subcommand("report", "Show or re-render a saved report");
  report->require_subcommand(1);
  CLI::App* show = report->add_subcommand("show", "Print a saved report as the console does");
  show->add_option("report", flags->input, "A gridprobe.report/1 JSON file")->required();
  show->callback([flags, status] { *status = ShowReport(*flags); });
  CLI::App* convert =
      report->add_subcommand("convert", "Re-render a saved report as HTML or CSV");
  convert->add_option("report", flags->input, "A gridprobe.report/1 JSON file")->required();
  convert->add_option("--format", flags->format, "html, csv, memory-csv or json")
      ->capture_default_str();
  convert->add_option("-o,--output", flags->output, "Write here (default: stdout)");
  convert->callback([flags, status] { *status = ConvertReport(*flags); });
}

}  // namespace gridprobe
