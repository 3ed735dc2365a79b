// Recommendations drawn from a report's figures: which operation to look at,
// why, and the numbers behind each sentence (docs/report-format.md,
// "recommendations"). No advice without numbers: every recommendation
// carries the evidence that triggered it, and a run with nothing to say
// says so.
#ifndef GRIDPROBE_USERSPACE_ANALYZERS_RECOMMENDATIONS_RECOMMEND_H_
#define GRIDPROBE_USERSPACE_ANALYZERS_RECOMMENDATIONS_RECOMMEND_H_

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "userspace/model/pipeline.h"
#include "userspace/model/snapshot.h"

namespace gridprobe::recommendations {

struct Thresholds {
  // long_tail: p99 at least this many times p50, with p99 of at least
  // min_tail_ns and at least min_calls calls.
  double tail_ratio = 10;
  double min_tail_ns = 1e6;
  uint64_t min_calls = 100;
  // allocation_heavy: bytes or allocations per call at least these.
  double heavy_bytes_per_call = 1 << 20;
  double heavy_allocs_per_call = 100;
  // expensive_probe: probe time per call at least this share of the
  // operation's mean (warning from 4 times as much).
  double probe_share = 0.05;
};

// What it costs to time one call of an operation (entry trap plus return),
// in ns, from the calibration and the probe sites; nullopt when unknown.
using ProbeCost = std::function<std::optional<double>(const std::string& operation)>;

// The recommendations for `period` (a window, a report period or the whole
// run) whose report, so far, is `report`: its "budgets" (violations,
// predictions) and "memory" (live sites) sections are read when present.
// Most severe first; one "clean" entry when there is nothing to say.
nlohmann::json Recommend(const Snapshot& period, const nlohmann::json& report,
                         const ProbeCost& probe_cost, const Thresholds& t = {});

// The pipeline stage: adds "recommendations" to the whole-run report. Runs
// after the analyzers whose sections it reads.
class RecommendationsAnalyzer : public Analyzer {
 public:
  explicit RecommendationsAnalyzer(ProbeCost probe_cost, Thresholds t = {})
      : probe_cost_(std::move(probe_cost)), thresholds_(t) {}
  const char* name() const override { return "recommendations"; }
  void OnWindow(Snapshot*, EventList*) override {}
  void AddToReport(const Snapshot& run, nlohmann::json* report) override;

 private:
  ProbeCost probe_cost_;
  Thresholds thresholds_;
};

}  // namespace gridprobe::recommendations

#endif  // GRIDPROBE_USERSPACE_ANALYZERS_RECOMMENDATIONS_RECOMMEND_H_
