// The tables people read on the console: per-operation latency and, with
// memory tracking, per-category allocation figures.
#ifndef GRIDPROBE_USERSPACE_SINKS_CONSOLE_TABLE_H_
#define GRIDPROBE_USERSPACE_SINKS_CONSOLE_TABLE_H_

#include <cstdio>
#include <deque>
#include <string>

#include <nlohmann/json.hpp>

#include "userspace/model/event.h"
#include "userspace/model/op_stats.h"
#include "userspace/model/pipeline.h"
#include "userspace/model/snapshot.h"

namespace gridprobe {

// The table printed every interval and at the end.
std::string RenderTable(const Snapshot& snapshot, const Losses& losses);

// The memory table: per category allocation rate, live bytes, leak verdict.
std::string RenderMemoryTable(const MemorySummary& memory);

// "gridprobe cost: 0.4% of one core, 12.3 MiB resident, ..." from the
// report's "agent" object; "" when it has none.
std::string RenderCostLine(const nlohmann::json& agent);

// The final report as the console shows it: the table, the memory table,
// the recommendations and the cost line, from the whole-run snapshot and
// the finished report (also what `gridprobe report show` prints).
std::string RenderFinalReport(const Snapshot& run, const nlohmann::json& report);

// The live table every window (refreshed in place on a terminal, appended
// when piped, with the latest events under it on a terminal, where a
// refresh would wipe the lines the event sink printed), and the final
// report at the end of the run.
class ConsoleTableSink : public Sink {
 public:
  // `live`: print every window, not only the final report.
  // REQUIRES: `out` outlives the sink.
  ConsoleTableSink(FILE* out, bool live);
  const char* name() const override { return "console-table"; }
  void OnWindow(const Snapshot& window) override;
  void OnEvent(const Event& event) override;
  absl::Status OnRunEnd(const Snapshot& run, const nlohmann::json& report) override;

 private:
  FILE* out_;
  bool live_;
  bool tty_;
  std::deque<std::string> recent_;  // latest event lines, on a terminal
};

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_SINKS_CONSOLE_TABLE_H_
