// Where the blocking rule of model/pipeline.h is enforced: every sink gets a
// thread and a bounded queue of its own, so that the loop only ever
// enqueues. What a full queue cannot take is counted per sink.
#ifndef GRIDPROBE_USERSPACE_AGENT_SINK_RUNNER_H_
#define GRIDPROBE_USERSPACE_AGENT_SINK_RUNNER_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "userspace/model/event.h"
#include "userspace/model/pipeline.h"
#include "userspace/model/snapshot.h"

namespace gridprobe {

// A sink's delivery figures, for the report's "agent" section.
struct SinkStats {
  std::string name;
  uint64_t windows = 0;          // handed to the sink
  uint64_t events = 0;
  uint64_t dropped_windows = 0;  // the queue was full
  uint64_t dropped_events = 0;
  double busy_ms = 0;            // time spent inside the sink
  size_t max_queued = 0;
};

class SinkRunner {
 public:
  // `queue_limit`: windows and events one sink may have waiting.
  // REQUIRES: the sinks outlive the runner.
  explicit SinkRunner(std::vector<Sink*> sinks, size_t queue_limit = 4096);
  ~SinkRunner();  // stops the threads (Finish() should have run)
  SinkRunner(const SinkRunner&) = delete;
  SinkRunner& operator=(const SinkRunner&) = delete;

  // Never blocks on a sink: copies into each queue, or counts a drop.
  void PostWindow(const Snapshot& window);
  void PostEvent(const Event& event);

  // The sinks' busy time since the last call, summed (for AgentCost).
  double TakeBusyMs();

  // Ends the run: waits until each sink has taken everything queued and
  // drained (Drain), lets each add to `report` (AddToReport, in sink
  // order), then hands every sink the whole run (OnRunEnd) and waits for
  // them. A sink still busy after `deadline` is left behind and named in
  // the returned error. The first sink error is returned.
  absl::Status Finish(const Snapshot& run, nlohmann::json* report,
                      absl::Duration deadline = absl::Seconds(30));

  std::vector<SinkStats> Stats() const;

 private:
  struct Drain {};
  struct RunEnd {
    std::shared_ptr<const Snapshot> run;
    std::shared_ptr<const nlohmann::json> report;
  };
  using Item = std::variant<std::shared_ptr<const Snapshot>, Event, Drain, RunEnd>;

  struct Worker {
    Sink* sink = nullptr;
    std::thread thread;
    mutable std::mutex mu;
    std::condition_variable cv;       // work arrived
    std::condition_variable done_cv;  // an item was handled
    std::deque<Item> queue;
    bool stop = false;
    bool busy = false;  // inside a call of the sink
    int drains_done = 0;
    int ends_done = 0;
    absl::Status end_status;
    SinkStats stats;
    double busy_unreported_ms = 0;
  };

  void Loop(Worker* w);
  bool Push(Worker* w, Item item, bool control);

  std::vector<std::unique_ptr<Worker>> workers_;
  size_t queue_limit_;
};

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_AGENT_SINK_RUNNER_H_
