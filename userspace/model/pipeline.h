// The two roles every stage after the kernel plays. The agent loop reads
// the maps into a Snapshot per window, hands it to each Analyzer in turn
// (they fill in figures and draw events), then to every Sink with the
// window's events. The loop knows neither kind by name
// (docs/architecture.md).
#ifndef GRIDPROBE_USERSPACE_MODEL_PIPELINE_H_
#define GRIDPROBE_USERSPACE_MODEL_PIPELINE_H_

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "userspace/model/event.h"
#include "userspace/model/snapshot.h"

namespace gridprobe {

// Turns windows into figures and events. Runs on the agent's loop thread,
// in the order analyzers were added (memory before budgets, which read the
// memory figures), so it must not block: no file or network I/O.
class Analyzer {
 public:
  virtual ~Analyzer() = default;
  virtual const char* name() const = 0;

  // One window, in time order. May fill in parts of `window` that are the
  // analyzer's (the memory summary) and append events.
  virtual void OnWindow(Snapshot* window, EventList* events) = 0;

  // The whole run, once, after the last window: may fill in `run` and
  // append final events.
  virtual void OnRunEnd(Snapshot* run, EventList* events) {}

  // Adds the analyzer's section(s) to the report.
  virtual void AddToReport(const Snapshot& run, nlohmann::json* report) {}
};

// Consumes what the analyzers produced.
//
// The blocking rule: the loop never calls a sink. Every sink runs on a
// thread of its own (agent/sink_runner.h), fed through a bounded queue, so
// a sink may block (a slow disk, a receiver that hangs) without delaying
// the measurement or the other sinks. What a full queue cannot take is
// dropped and counted per sink in the report's "agent" section, never
// silently. A sink's calls come in order, one at a time.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual const char* name() const = 0;

  virtual void OnWindow(const Snapshot& window) {}
  virtual void OnEvent(const Event& event) {}

  // After the last window and event: deliver or persist what is pending.
  // Called before AddToReport.
  virtual void Drain() {}
  // Adds the sink's own section to the report (delivery counts, ...).
  virtual void AddToReport(nlohmann::json* report) {}
  // The run is over: the whole-run snapshot and the finished report. An
  // error (the report could not be written) becomes the run's.
  virtual absl::Status OnRunEnd(const Snapshot& run, const nlohmann::json& report) {
    return absl::OkStatus();
  }
};

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_MODEL_PIPELINE_H_
