#include "userspace/model/op_stats.h"

namespace gridprobe {

OpStats MakeOpStats(const OpIdentity& id, const Histogram& w, double seconds) {
  OpStats s;
  s.name = id.name;
  s.symbol = id.symbol;
  s.module = id.module;
  s.preset = id.preset;
  s.build_id = id.build_id;
  s.impact = id.impact;
  s.calls = w.count();
  s.unwound = w.unwound();
  s.untracked = w.untracked();
  s.calls_per_s = seconds > 0 ? static_cast<double>(w.count()) / seconds : 0;
  s.mean_ns = w.mean();
  s.min_ns = w.min();
  s.max_ns = w.max();
  s.p50_ns = w.Percentile(0.50);
  s.p95_ns = w.Percentile(0.95);
  s.p99_ns = w.Percentile(0.99);
  s.total_ns = w.sum();
  s.histogram = std::make_shared<const Histogram>(w);
  return s;
}

nlohmann::json OpJson(const OpStats& op) {
  return {{"name", op.name},
          {"symbol", op.symbol},
          {"module", op.module},
          {"preset", op.preset},
          {"impact", ImpactName(op.impact)},
          {"calls", op.calls},
          {"calls_per_s", op.calls_per_s},
          {"unwound", op.unwound},
          {"untracked", op.untracked},
          {"mean_ns", op.mean_ns},
          {"min_ns", op.min_ns},
          {"max_ns", op.max_ns},
          {"p50_ns", op.p50_ns},
          {"p95_ns", op.p95_ns},
          {"p99_ns", op.p99_ns},
          {"total_ns", op.total_ns}};
}

}  // namespace gridprobe
