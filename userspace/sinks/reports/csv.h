// A report's windows as CSV (RFC 4180: CRLF rows, fields with a comma,
// quote or line break quoted, quotes doubled). Columns are documented in
// docs/report-format.md, "CSV".
#ifndef GRIDPROBE_USERSPACE_SINKS_REPORTS_CSV_H_
#define GRIDPROBE_USERSPACE_SINKS_REPORTS_CSV_H_

#include <string>

#include <nlohmann/json.hpp>

namespace gridprobe::reports {

// One field, quoted when RFC 4180 requires it.
std::string CsvField(const std::string& text);

// One row per operation per window; a report without "windows" gives one
// row per operation for the report's whole window (index -1).
std::string OperationsCsv(const nlohmann::json& report);

// One row per memory category per window; only the header when the report
// has no memory figures.
std::string MemoryCsv(const nlohmann::json& report);

}  // namespace gridprobe::reports

#endif  // GRIDPROBE_USERSPACE_SINKS_REPORTS_CSV_H_
