// The JSON report, schema gridprobe.report/1 (docs/report-format.md).
#ifndef GRIDPROBE_USERSPACE_SINKS_REPORT_JSON_H_
#define GRIDPROBE_USERSPACE_SINKS_REPORT_JSON_H_

#include <nlohmann/json.hpp>

#include "userspace/model/op_stats.h"
#include "userspace/model/snapshot.h"

namespace gridprobe {

// The report's core: target, window, probes and operations. Analyzers and
// sinks add their sections to it.
nlohmann::json ReportJson(const Snapshot& snapshot, const Losses& losses);

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_SINKS_REPORT_JSON_H_
