// Alerts as a sink of the pipeline (docs/alerts.md). OnEvent only decides
// (filters, incident state) and pushes one entry into an inbox (bounded per
// destination by queue_limit); one dispatcher thread builds the JSON and
// the requests and delivers every destination's
// notifications with libcurl's multi interface, retries what may be
// retried, and leaves what cannot be delivered in the on-disk outbox for
// the next run.
#ifndef GRIDPROBE_USERSPACE_SINKS_ALERTS_ALERTS_SINK_H_
#define GRIDPROBE_USERSPACE_SINKS_ALERTS_ALERTS_SINK_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "userspace/model/event.h"
#include "userspace/model/pipeline.h"
#include "userspace/sinks/alerts/destination.h"
#include "userspace/sinks/alerts/incident.h"
#include "userspace/sinks/alerts/options.h"
#include "userspace/sinks/alerts/policy.h"

namespace gridprobe::alerts {

// One destination's delivery figures: the report's "alerts" section.
struct DestinationStats {
  std::string name, type, receiver;  // receiver: ShowUrl(url), never a secret
  uint64_t sent = 0;       // notifications delivered (outboxed ones included)
  uint64_t retried = 0;    // attempts that failed and were tried again
  uint64_t failed = 0;     // rejected (4xx, a command's exit status): not retried
  uint64_t folded = 0;     // repeats folded into an open incident
  uint64_t outboxed = 0;   // left in the outbox for the next run
  uint64_t redelivered = 0;  // of `sent`: taken from a previous run's outbox
  uint64_t refreshed = 0;  // keep-alive posts (Alertmanager)
  uint64_t metrics_sent = 0;  // metric posts of windows (Datadog, New Relic)
  uint64_t exit_nonzero = 0;
  std::map<std::string, uint64_t> dropped;  // by reason
  std::string last_error;  // redacted
};

struct SinkHooks {
  std::function<absl::Time()> now = [] { return absl::Now(); };
  std::function<double()> unit;  // [0, 1) for jitter; empty: a seeded generator
  FILE* console = stderr;        // console destinations
  FILE* log = stderr;            // warnings, rejections
};

class AlertsSink : public Sink {
 public:
  // Checks every destination (one line naming the destination and the
  // key), loads their outboxes and starts the dispatcher.
  static absl::StatusOr<std::unique_ptr<AlertsSink>> Create(
      std::vector<DestinationOptions> destinations, SinkHooks hooks = {});
  ~AlertsSink() override;

  const char* name() const override { return "alerts"; }
  void OnEvent(const Event& event) override;
  // Destinations that take metrics (Datadog series, New Relic metrics) get
  // the window's; formatted here, queued like notifications.
  void OnWindow(const Snapshot& window) override;
  // Delivers for up to the longest drain_timeout, then moves what is left
  // to the outbox and stops the dispatcher.
  void Drain() override;
  void AddToReport(nlohmann::json* report) override;
  absl::Status OnRunEnd(const Snapshot& run, const nlohmann::json& report) override;

  std::vector<DestinationStats> Stats() const;
  // "alerts ops-hook (webhook): 2 sent, 1 retried, ...", one per destination.
  std::vector<std::string> SummaryLines() const;

 private:
  struct Dest;
  AlertsSink(SinkHooks hooks);
  void Run();
  void Stop();

  // What OnEvent hands the dispatcher: one copy of the event and, per
  // destination that takes it, the incident's state. The event's JSON and
  // the requests are built on the dispatcher.
  struct Inbound {
    std::shared_ptr<const Event> event;
    std::vector<std::pair<uint32_t, IncidentInfo>> to;  // (destination index, incident)
  };

  SinkHooks hooks_;
  std::vector<std::unique_ptr<Dest>> dests_;
  void* multi_ = nullptr;  // CURLM*
  // OnEvent's side: a swap buffer under its own short lock, never held by
  // the dispatcher for more than a swap (mu_ is held for stats and outbox
  // files). `sleeping_`: the dispatcher waits in curl_multi_poll and needs
  // a wakeup; otherwise it sees the inbox on its next turn.
  std::mutex inbox_mu_;
  std::vector<Inbound> inbox_;
  std::atomic<size_t> inbox_size_{0};
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> closed_{false};  // stop_, readable without mu_
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  bool draining_ = false, stop_ = false, idle_ = true;
  std::thread dispatcher_;
};

}  // namespace gridprobe::alerts

#endif  // GRIDPROBE_USERSPACE_SINKS_ALERTS_ALERTS_SINK_H_
