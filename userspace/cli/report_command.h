// `gridprobe report show REPORT.json` and `gridprobe report convert
// REPORT.json --format html|csv|memory-csv [-o FILE]`: a saved report
// printed as the console's final report, or re-rendered in another format
// (docs/report-format.md).
#ifndef GRIDPROBE_USERSPACE_CLI_REPORT_COMMAND_H_
#define GRIDPROBE_USERSPACE_CLI_REPORT_COMMAND_H_

#include <string>

#include "absl/status/status.h"
#include <CLI/CLI.hpp>

namespace gridprobe {

struct ReportFlags {
  std::string input;
  std::string format = "html";
  std::string output;  // empty: stdout
};

absl::Status ShowReport(const ReportFlags& f);
absl::Status ConvertReport(const ReportFlags& f);

// Adds `report show` and `report convert` to `app`; their status goes to
// *status.
void AddReportCommands(CLI::App& app, ReportFlags* flags, absl::Status* status);

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_CLI_REPORT_COMMAND_H_
