#include "userspace/sinks/reports/report_builder.h"

#include <algorithm>
#include <memory>

#include "userspace/model/format.h"
#include "userspace/sinks/report_json.h"

namespace gridprobe::reports {
namespace {

OpPoint PointOf(const OpStats& op) {
  return {op.calls, op.total_ns, op.min_ns, op.max_ns, op.p50_ns,
          op.p95_ns, op.p99_ns, op.unwound, op.untracked};
}

void Coalesce(const WindowPoint& b, WindowPoint* a) {
  a->last_index = b.last_index;
  a->end = b.end;
  for (size_t i = 0; i < a->ops.size() && i < b.ops.size(); ++i) {
    OpPoint& x = a->ops[i];
    const OpPoint& y = b.ops[i];
    if (y.calls > 0) {
      x.min_ns = x.calls > 0 ? std::min(x.min_ns, y.min_ns) : y.min_ns;
      x.max_ns = std::max(x.max_ns, y.max_ns);
    }
    x.calls += y.calls;
    x.total_ns += y.total_ns;
    x.p50_ns = std::max(x.p50_ns, y.p50_ns);
    x.p95_ns = std::max(x.p95_ns, y.p95_ns);
    x.p99_ns = std::max(x.p99_ns, y.p99_ns);
    x.unwound += y.unwound;
    x.untracked += y.untracked;
  }
  for (size_t i = 0; i < a->categories.size() && i < b.categories.size(); ++i) {
    CategoryPoint& x = a->categories[i];
    const CategoryPoint& y = b.categories[i];
    x.allocs += y.allocs;
    x.alloc_bytes += y.alloc_bytes;
    x.live_bytes = y.live_bytes;
    x.live_allocs = y.live_allocs;
    x.growth_bytes_per_s = y.growth_bytes_per_s;
    x.leak_suspected = x.leak_suspected || y.leak_suspected;
  }
}

}  // namespace

void Series::Add(const Snapshot& w) {
  if (ops_.empty()) {
    for (const OpStats& op : w.ops) ops_.push_back(op.name);
  }
  if (categories_.empty() && w.memory.has_value()) {
    for (const MemoryCategory& c : w.memory->categories) categories_.push_back(c.name);
  }
  WindowPoint p;
  p.first_index = p.last_index = w.index;
  p.start = w.start;
  p.end = w.end;
  p.ops.resize(ops_.size());
  for (size_t i = 0; i < w.ops.size(); ++i) {
    // Operations keep their position from window to window.
    if (i < ops_.size() && w.ops[i].name == ops_[i]) p.ops[i] = PointOf(w.ops[i]);
  }
  if (w.memory.has_value()) {
    p.categories.resize(categories_.size());
    for (size_t i = 0; i < w.memory->categories.size() && i < categories_.size(); ++i) {
      const MemoryCategory& c = w.memory->categories[i];
      p.categories[i] = {c.allocs, c.alloc_bytes, c.live_bytes, c.live_allocs,
                         c.growth_bytes_per_s, c.leak_suspected};
    }
  }
  points_.push_back(std::move(p));
  if (points_.size() > max_points_ && max_points_ >= 2) {
    std::vector<WindowPoint> halved;
    halved.reserve(points_.size() / 2 + 1);
    for (size_t i = 0; i < points_.size(); i += 2) {
      halved.push_back(std::move(points_[i]));
      if (i + 1 < points_.size()) Coalesce(points_[i + 1], &halved.back());
    }
    points_ = std::move(halved);
  }
}

void Series::Clear() {
  points_.clear();
  ops_.clear();
  categories_.clear();
}

nlohmann::json Series::Json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const WindowPoint& p : points_) {
    const double seconds = absl::ToDoubleSeconds(p.end - p.start);
    nlohmann::json ops = nlohmann::json::array();
    for (size_t i = 0; i < p.ops.size(); ++i) {
      const OpPoint& o = p.ops[i];
      ops.push_back({{"name", ops_[i]},
                     {"calls", o.calls},
                     {"calls_per_s", seconds > 0 ? static_cast<double>(o.calls) / seconds : 0.0},
                     {"unwound", o.unwound},
                     {"untracked", o.untracked},
                     {"mean_ns", o.calls > 0 ? static_cast<double>(o.total_ns) / o.calls : 0.0},
                     {"min_ns", o.min_ns},
                     {"max_ns", o.max_ns},
                     {"p50_ns", o.p50_ns},
                     {"p95_ns", o.p95_ns},
                     {"p99_ns", o.p99_ns},
                     {"total_ns", o.total_ns}});
    }
    nlohmann::json w = {{"index", p.first_index},
                        {"start", Rfc3339(p.start)},
                        {"end", Rfc3339(p.end)},
                        {"seconds", seconds},
                        {"operations", std::move(ops)}};
    if (p.first_index != p.last_index) w["last_index"] = p.last_index;
    if (!p.categories.empty()) {
      nlohmann::json cats = nlohmann::json::array();
      for (size_t i = 0; i < p.categories.size(); ++i) {
        const CategoryPoint& c = p.categories[i];
        cats.push_back({{"category", categories_[i]},
                        {"allocs", c.allocs},
                        {"alloc_bytes", c.alloc_bytes},
                        {"live_bytes", c.live_bytes},
                        {"live_allocs", c.live_allocs},
                        {"growth_bytes_per_s", c.growth_bytes_per_s},
                        {"leak_suspected", c.leak_suspected}});
      }
      w["memory"] = std::move(cats);
    }
    out.push_back(std::move(w));
  }
  return out;
}

nlohmann::json HistogramJson(const OpStats& op) {
  nlohmann::json out = nlohmann::json::array();
  if (op.histogram == nullptr) return out;
  const std::vector<uint64_t>& buckets = op.histogram->buckets();
  for (uint32_t bucket = 0; bucket < buckets.size(); ++bucket) {
    const uint64_t calls = buckets[bucket];
    if (calls == 0) continue;
    uint64_t high = Histogram::BucketHigh(bucket);
    out.push_back({Histogram::BucketLow(bucket),
                   high == UINT64_MAX ? nlohmann::json(nullptr) : nlohmann::json(high), calls});
  }
  return out;
}

void AddHistograms(const Snapshot& snap, nlohmann::json* report) {
  nlohmann::json& ops = (*report)["operations"];
  if (!ops.is_array()) return;
  for (size_t i = 0; i < ops.size() && i < snap.ops.size(); ++i) {
    if (ops[i].value("name", "") == snap.ops[i].name) {
      ops[i]["histogram"] = HistogramJson(snap.ops[i]);
    }
  }
}

void PeriodBuilder::AddWindow(const Snapshot& w) {
  if (windows_ == 0) {
    start_ = w.start;
    hists_.assign(w.ops.size(), Histogram());
    const size_t cats = w.memory.has_value() ? w.memory->categories.size() : 0;
    cat_allocs_.assign(cats, 0);
    cat_bytes_.assign(cats, 0);
  }
  ++windows_;
  end_ = w.end;
  for (size_t i = 0; i < w.ops.size() && i < hists_.size(); ++i) {
    const OpStats& op = w.ops[i];
    if (op.histogram != nullptr) hists_[i].Merge(*op.histogram);
  }
  if (w.memory.has_value()) {
    for (size_t i = 0; i < w.memory->categories.size() && i < cat_allocs_.size(); ++i) {
      cat_allocs_[i] += w.memory->categories[i].allocs;
      cat_bytes_[i] += w.memory->categories[i].alloc_bytes;
    }
  }
  last_ = w;
  series_.Add(w);
}

void PeriodBuilder::AddEvent(const Event& e) {
  if (events_.size() < kMaxReportEvents + 1) events_.push_back(EventJson(e));
}

void PeriodBuilder::Clear() {
  windows_ = 0;
  hists_.clear();
  events_.clear();
  series_.Clear();
  last_ = Snapshot();
}

Snapshot PeriodBuilder::Period() const {
  Snapshot p;
  p.target = last_.target;
  p.start = start_;
  p.end = end_;
  p.index = last_.index;
  p.losses = last_.losses;
  const double seconds = absl::ToDoubleSeconds(end_ - start_);
  for (size_t i = 0; i < last_.ops.size() && i < hists_.size(); ++i) {
    const OpStats& op = last_.ops[i];
    p.ops.push_back(MakeOpStats(
        {op.name, op.symbol, op.module, op.impact, op.preset, op.build_id}, hists_[i], seconds));
  }
  if (last_.memory.has_value()) {
    MemorySummary m = *last_.memory;
    for (size_t i = 0; i < m.categories.size() && i < cat_allocs_.size(); ++i) {
      MemoryCategory& c = m.categories[i];
      c.allocs = cat_allocs_[i];
      c.alloc_bytes = cat_bytes_[i];
      c.allocs_per_s = seconds > 0 ? static_cast<double>(c.allocs) / seconds : 0;
      c.bytes_per_s = seconds > 0 ? static_cast<double>(c.alloc_bytes) / seconds : 0;
      c.bytes_per_call.reset();
      const OpStats* op = p.Find(c.name);
      if (op != nullptr && op->calls > 0) {
        c.bytes_per_call = static_cast<double>(c.alloc_bytes) / static_cast<double>(op->calls);
      }
    }
    for (OpStats& op : p.ops) {
      const MemoryCategory* c = m.Find(op.name);
      if (c == nullptr) continue;
      op.alloc_bytes_per_call = c->bytes_per_call;
      op.live_bytes = c->live_bytes;
      op.leak_growth_bytes_per_s = c->growth_bytes_per_s;
    }
    p.memory = std::move(m);
  }
  return p;
}

nlohmann::json PeriodBuilder::Report() const {
  const Snapshot period = Period();
  nlohmann::json report = ReportJson(period, period.losses);
  AddHistograms(period, &report);
  if (period.memory.has_value()) report["memory"] = PeriodMemoryJson(*period.memory);
  report["windows"] = series_.Json();
  const size_t kept = std::min(events_.size(), kMaxReportEvents);
  report["events"] = nlohmann::json(std::vector<nlohmann::json>(events_.begin(),
                                                                events_.begin() + kept));
  report["events_dropped"] = events_.size() - kept;
  return report;
}

nlohmann::json PeriodMemoryJson(const MemorySummary& s) {
  nlohmann::json cats = nlohmann::json::array();
  for (const MemoryCategory& c : s.categories) {
    cats.push_back({{"category", c.name},
                    {"allocs", c.allocs},
                    {"alloc_bytes", c.alloc_bytes},
                    {"allocs_per_s", c.allocs_per_s},
                    {"bytes_per_s", c.bytes_per_s},
                    {"bytes_per_call", c.bytes_per_call.has_value()
                                           ? nlohmann::json(*c.bytes_per_call)
                                           : nlohmann::json(nullptr)},
                    {"live_bytes", c.live_bytes},
                    {"live_allocs", c.live_allocs},
                    {"peak_live_bytes", c.peak_live_bytes},
                    {"dropped_allocs", c.dropped},
                    {"dropped_bytes", c.dropped_bytes},
                    {"leak_suspected", c.leak_suspected},
                    {"growth_bytes_per_s", c.growth_bytes_per_s},
                    {"leak_confidence", c.leak_confidence},
                    {"projected_bytes_1h", c.projected_bytes_1h},
                    {"leak_reason", c.leak_reason}});
  }
  return {{"mode", s.mode},
          {"allocator",
           {{"family", s.allocator}, {"module", s.allocator_module}, {"cxx", s.allocator_cxx}}},
          {"unknown_frees", s.unknown_frees},
          {"nested_calls", s.nested_calls},
          {"failed_allocs", s.failed},
          {"reused_addresses", s.reused},
          {"categories", cats}};
}

}  // namespace gridprobe::reports
