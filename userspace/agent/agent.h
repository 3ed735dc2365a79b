// The attach loop: every interval, read the maps into a window Snapshot,
// run the analyzers over it, and hand the window and its events to the
// sinks; at the end, the whole run. It knows analyzers and sinks only by
// their interfaces (model/pipeline.h) and the kernel only as a
// ProbeBackend.
#ifndef GRIDPROBE_USERSPACE_AGENT_AGENT_H_
#define GRIDPROBE_USERSPACE_AGENT_AGENT_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "userspace/agent/sink_runner.h"
#include "userspace/model/event.h"
#include "userspace/model/op_stats.h"
#include "userspace/model/pipeline.h"
#include "userspace/model/snapshot.h"
#include "userspace/probes/backend.h"

namespace gridprobe {

struct AgentOptions {
  absl::Duration interval = absl::Seconds(1);
  absl::Duration duration = absl::ZeroDuration();  // zero: until Ctrl-C or the target exits
  // When the first probe went in; the report's window starts there.
  absl::Time start = absl::InfinitePast();
  // Called every poll_interval (the library watch); an error ends the run
  // with that error.
  std::function<absl::Status(absl::Time now)> poll;
  absl::Duration poll_interval = absl::Milliseconds(200);
  // A window read this much later than planned is reported (agent_lagging).
  absl::Duration lag_threshold = absl::Milliseconds(250);
  // What the final console report prints on stderr as the detach line.
  bool announce_detach = true;
};

// Why the loop ended.
enum class StopReason { kDuration, kSignal, kTargetExited };
const char* StopReasonName(StopReason reason);

// Runs until the duration passes, SIGINT/SIGTERM/SIGHUP arrives or the target
// exits; then detaches, builds the report (analyzers and sinks add their
// sections) and finishes the sinks. An error of a sink at the end (the
// report could not be written) is returned after the probes are gone.
// REQUIRES: `backend` is attached to target.pid with ops in `ops` order.
absl::StatusOr<StopReason> RunAgent(ProbeBackend& backend, const TargetInfo& target,
                                    const std::vector<OpIdentity>& ops,
                                    const AgentOptions& options,
                                    const std::vector<Analyzer*>& analyzers, SinkRunner& sinks);

// Fills in what an analyzer may leave to the agent: the target, the time
// (the window's end) and the key.
void CompleteEvent(Event* event, const TargetInfo& target, absl::Time window_end);

// The report's "agent" object for the whole run.
nlohmann::json AgentCostJson(const AgentCost& total, int64_t windows, int64_t late_windows);

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_AGENT_AGENT_H_
