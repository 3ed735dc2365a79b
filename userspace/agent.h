// The attach loop: every interval, read the maps, turn them into a window
// Snapshot, hand it to observers and print it; at the end, the whole run.
#ifndef GRIDPROBE_USERSPACE_AGENT_H_
#define GRIDPROBE_USERSPACE_AGENT_H_

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "userspace/probe_session.h"
#include "userspace/report.h"
#include "userspace/memory/memory_analyzer.h"
#include "userspace/snapshot.h"
#include "userspace/symbolizer.h"

namespace gridprobe {

// Something that judges windows (budgets, leak growth) and adds its verdicts
// to the report. Observers never see BPF types.
class WindowObserver {
 public:
  virtual ~WindowObserver() = default;
  virtual void OnWindow(const Snapshot& window) = 0;
  // Adds the observer's section to the final report.
  virtual void AddToReport(const Snapshot& whole_run, nlohmann::json* report) = 0;
};

struct AgentOptions {
  absl::Duration interval = absl::Seconds(1);
  absl::Duration duration = absl::ZeroDuration();  // zero: until Ctrl-C or the target exits
  std::string report_json;                          // empty: no file
  bool live = true;                                 // print a table every interval
  std::FILE* out = stdout;
  // Memory accounting; both null when memory tracking is off.
  memory::MemoryAnalyzer* memory = nullptr;
  const Symbolizer* symbolizer = nullptr;
  // When the first probe went in; the report's window starts there.
  absl::Time start = absl::InfinitePast();
  // Called every poll_interval (the library watch); an error ends the run
  // with that error.
  std::function<absl::Status(absl::Time now)> poll;
  absl::Duration poll_interval = absl::Milliseconds(200);
};

// Why the loop ended.
enum class StopReason { kDuration, kSignal, kTargetExited };
const char* StopReasonName(StopReason reason);

// Runs until the duration passes, SIGINT/SIGTERM/SIGHUP arrives or the target
// exits, then prints the final report and writes it if asked.
// REQUIRES: `session` is attached to target.pid with ops in `ops` order.
absl::StatusOr<StopReason> RunAgent(ProbeSession& session, const TargetInfo& target,
                                    const std::vector<OpIdentity>& ops,
                                    const AgentOptions& options,
                                    const std::vector<WindowObserver*>& observers);

// comm and exe of a live process ("" where unreadable).
TargetInfo ReadTargetInfo(int pid);

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_AGENT_H_
