// What gridprobe's Prometheus endpoint serves: the run's state so far, kept
// cumulative (counters and histogram buckets never go down), rendered in the
// text exposition format 0.0.4. No I/O here, so the page is tested without
// a server. Metric names and labels: docs/exporters.md.
#ifndef GRIDPROBE_USERSPACE_SINKS_PROMETHEUS_EXPOSITION_H_
#define GRIDPROBE_USERSPACE_SINKS_PROMETHEUS_EXPOSITION_H_

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "userspace/model/event.h"
#include "userspace/model/histogram.h"
#include "userspace/model/snapshot.h"

namespace gridprobe::prometheus {

inline constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// The classic histogram's bucket bounds, as Histogram bucket indices: le of
// entry j is BucketLow(index j) - 1 ns, so a bucket holds exactly the
// kernel's buckets below that index. Every kernel bound from 1.024 us to
// 17.18 s (64 per power of two), the same for every operation and scrape.
const std::vector<uint32_t>& ExportedBounds();

// `ns` nanoseconds as seconds, exactly, in decimal ("0.000001023").
std::string NanosAsSeconds(uint64_t ns);
// A label value with \\, \" and \n escaped, invalid UTF-8 bytes replaced by U+FFFD.
std::string EscapeLabelValue(absl::string_view value);
// A sample value: integers as such, others shortest-exact, NaN/+Inf/-Inf.
std::string FormatValue(double v);

class MetricsState {
 public:
  // One window, in time order: merges it into the run's totals.
  void OnWindow(const Snapshot& window);
  // Budget and leak state changes, target exit.
  void OnEvent(const Event& event);
  // The run is over: `gridprobe_attached` goes to 0, figures stay.
  void OnRunEnd();

  // The whole page. Families in a fixed order, every family's lines
  // together; identical label sets and bucket sets on every call.
  std::string Render() const;

  size_t operations() const { return ops_.size(); }

 private:
  struct Op {
    std::string name, preset, module, build_id;
    Histogram hist;  // since attach
    uint64_t missed = 0;
  };
  struct Category {
    uint64_t allocs = 0, alloc_bytes = 0, live_bytes = 0, live_allocs = 0;
    bool leak_suspected = false;
  };
  // (operation, metric) -> severity now; Severity::kNone once resolved.
  std::map<std::pair<std::string, std::string>, Severity> budget_state_;
  // (operation, metric, severity) -> violations opened or raised to it.
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> violations_;

  TargetInfo target_;
  bool seen_window_ = false;
  bool attached_ = false;
  bool target_exited_ = false;
  int64_t windows_ = 0;
  std::vector<Op> ops_;  // in op id order, as the windows list them
  bool memory_ = false;
  std::map<std::string, Category> categories_;
  Losses losses_;
  double agent_cpu_s_ = 0;
  uint64_t agent_rss_ = 0;
  uint64_t bpf_run_ns_ = 0;
  uint64_t bpf_runs_ = 0;
  bool bpf_stats_ = false;
  bool agent_seen_ = false;
};

}  // namespace gridprobe::prometheus

#endif  // GRIDPROBE_USERSPACE_SINKS_PROMETHEUS_EXPOSITION_H_
