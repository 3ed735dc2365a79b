// What a scheduled report holds beyond the final report's core: the
// windows it covers (per-window operation and memory figures), its
// incidents, and each operation's merged latency histogram. The reports
// sink keeps these itself, from the windows and events it is handed
// (docs/report-format.md, "Scheduled reports").
#ifndef GRIDPROBE_USERSPACE_SINKS_REPORTS_REPORT_BUILDER_H_
#define GRIDPROBE_USERSPACE_SINKS_REPORTS_REPORT_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "userspace/model/event.h"
#include "userspace/model/histogram.h"
#include "userspace/model/op_stats.h"
#include "userspace/model/snapshot.h"

namespace gridprobe::reports {

// One operation over one window (or coalesced windows).
struct OpPoint {
  uint64_t calls = 0;
  uint64_t total_ns = 0;
  uint64_t min_ns = 0;
  uint64_t max_ns = 0;
  uint64_t p50_ns = 0;
  uint64_t p95_ns = 0;
  uint64_t p99_ns = 0;
  uint64_t unwound = 0;
  uint64_t untracked = 0;
};

struct CategoryPoint {
  uint64_t allocs = 0;
  uint64_t alloc_bytes = 0;
  uint64_t live_bytes = 0;
  uint64_t live_allocs = 0;
  double growth_bytes_per_s = 0;
  bool leak_suspected = false;
};

struct WindowPoint {
  int64_t first_index = 0;  // the window's index; coalesced: the first one's
  int64_t last_index = 0;
  absl::Time start;
  absl::Time end;
  std::vector<OpPoint> ops;               // in the report's operation order
  std::vector<CategoryPoint> categories;  // in `Series::categories()` order
};

// The windows of a report, in order, compactly. Past `max_points` windows,
// adjacent pairs are coalesced (calls and times summed, min/max exact,
// percentiles the larger of the two), so a long run stays bounded.
class Series {
 public:
  explicit Series(size_t max_points = SIZE_MAX) : max_points_(max_points) {}
  void Add(const Snapshot& window);
  void Clear();
  bool empty() const { return points_.empty(); }
  const std::vector<WindowPoint>& points() const { return points_; }
  const std::vector<std::string>& ops() const { return ops_; }
  const std::vector<std::string>& categories() const { return categories_; }
  // The report's "windows" list.
  nlohmann::json Json() const;

 private:
  size_t max_points_;
  std::vector<std::string> ops_;
  std::vector<std::string> categories_;
  std::vector<WindowPoint> points_;
};

// "histogram": [[low_ns, high_ns, calls], ...] for the non-empty buckets
// of `op`, high exclusive.
nlohmann::json HistogramJson(const OpStats& op);

// Adds each operation's "histogram" to report["operations"] from `snap`
// (matched by position and name).
void AddHistograms(const Snapshot& snap, nlohmann::json* report);

// Accumulates one period's windows and events and builds its report: the
// same schema as the final report (model OpJson, ReportJson) with the
// period's figures, plus "windows", "events" and histograms.
class PeriodBuilder {
 public:
  void AddWindow(const Snapshot& window);
  void AddEvent(const Event& event);
  bool empty() const { return windows_ == 0; }
  int64_t windows() const { return windows_; }
  absl::Time start() const { return start_; }
  absl::Time end() const { return end_; }
  void Clear();

  // The period as one Snapshot: operations from the merged histograms
  // (exact counts and sums, percentiles within a bucket), memory from the
  // windows (sums of the period, live figures at its end).
  Snapshot Period() const;
  // The period's report (no analyzer sections: the caller adds them).
  nlohmann::json Report() const;
  const std::vector<nlohmann::json>& events() const { return events_; }

 private:
  int64_t windows_ = 0;
  absl::Time start_, end_;
  Snapshot last_;  // the latest window: identities, memory, losses
  std::vector<Histogram> hists_;
  std::vector<uint64_t> cat_allocs_, cat_bytes_;
  std::vector<nlohmann::json> events_;
  Series series_;
};

// The memory summary's JSON, as the final report's "memory" section spells
// it (docs/report-format.md).
nlohmann::json PeriodMemoryJson(const MemorySummary& memory);

// Most events one report lists; the rest are counted in "events_dropped".
inline constexpr size_t kMaxReportEvents = 1000;

}  // namespace gridprobe::reports

#endif  // GRIDPROBE_USERSPACE_SINKS_REPORTS_REPORT_BUILDER_H_
