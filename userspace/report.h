// Turning measurements into the figures users read: per-operation stats, the
// live table and the JSON report (docs/report-format.md).
#ifndef GRIDPROBE_USERSPACE_REPORT_H_
#define GRIDPROBE_USERSPACE_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "userspace/histogram.h"
#include "userspace/snapshot.h"

namespace gridprobe {

// Per-operation identity that does not change between windows.
struct OpIdentity {
  std::string name;
  std::string symbol;
  std::string module;
  Impact impact = Impact::kUserVisible;
  std::string preset;  // the library preset it is from
};

// Fills an OpStats from one window's histogram.
OpStats MakeOpStats(const OpIdentity& id, const Histogram& window, double seconds);

// Counters of what gridprobe could not measure; reported, never hidden.
struct Losses {
  uint64_t missed_hits = 0;  // probe hits the kernel skipped
  size_t probes = 0;         // probes attached
};

// The table printed every interval and at the end.
std::string RenderTable(const Snapshot& snapshot, const Losses& losses);

// The memory table: per category allocation rate, live bytes, leak verdict.
std::string RenderMemoryTable(const MemorySummary& memory);

// "1.5 MiB", "640 B".
std::string FormatBytes(double bytes);

// The report, schema gridprobe.report/1.
nlohmann::json ReportJson(const Snapshot& snapshot, const Losses& losses);
// One operation as the report's "operations" list holds it.
nlohmann::json OpJson(const OpStats& op);

// Writes `content` to `path` so that a reader sees the old file or the whole
// new one, never a part: a temporary file in the same directory, fsync, rename.
absl::Status WriteFileAtomically(const std::string& path, const std::string& content);

// "1.23 ms", "850 µs", "12.0 s".
std::string FormatNanos(double ns);

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_REPORT_H_
