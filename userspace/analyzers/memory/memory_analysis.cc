#include "userspace/analyzers/memory/memory_analysis.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "userspace/model/format.h"

namespace gridprobe::memory {
namespace {

std::vector<uint64_t> Calls(const Snapshot& snap) {
  std::vector<uint64_t> calls;
  for (const OpStats& op : snap.ops) calls.push_back(op.calls);
  return calls;
}

}  // namespace

void AttachMemoryToOps(Snapshot* snap) {
  if (!snap->memory) return;
  for (OpStats& op : snap->ops) {
    const MemoryCategory* c = snap->memory->Find(op.name);
    if (c == nullptr) continue;
    op.alloc_bytes_per_call = c->bytes_per_call;
    op.live_bytes = c->live_bytes;
    op.leak_growth_bytes_per_s = c->growth_bytes_per_s;
  }
}

MemoryAnalysis::MemoryAnalysis(std::vector<std::string> op_names, MemoryAnalyzerOptions options,
                               LiveSources sources)
    : analyzer_(std::move(op_names), std::move(options)), sources_(std::move(sources)) {
  if (!sources_.symbolize) sources_.symbolize = [](uint64_t a) { return absl::StrFormat("0x%x", a); };
  if (!sources_.stack) sources_.stack = [](int32_t) { return std::vector<uint64_t>(); };
}

nlohmann::json MemoryAnalysis::TopSite(const std::string& category) {
  if (!sources_.live) return nullptr;
  absl::StatusOr<std::vector<LiveAllocation>> live = sources_.live();
  if (!live.ok()) return nullptr;
  nlohmann::json details = analyzer_.LiveDetails(*live, sources_.symbolize, sources_.stack);
  if (!details.contains(category)) return nullptr;
  const nlohmann::json& top = details[category]["top_sites"];
  return top.empty() ? nlohmann::json(nullptr) : top[0];
}

void MemoryAnalysis::OnWindow(Snapshot* window, EventList* events) {
  if (!window->memory_counters) return;
  window->memory =
      analyzer_.Update(window->end, window->seconds(), *window->memory_counters, Calls(*window));
  AttachMemoryToOps(window);
  const std::vector<MemoryCategory>& cats = window->memory->categories;
  suspected_.resize(cats.size(), false);
  for (size_t i = 0; i < cats.size(); ++i) {
    const MemoryCategory& c = cats[i];
    if (c.leak_suspected == suspected_[i]) continue;
    suspected_[i] = c.leak_suspected;
    Event e;
    e.kind = c.leak_suspected ? EventKind::kLeakSuspected : EventKind::kLeakCleared;
    e.severity = c.leak_suspected ? Severity::kWarning : Severity::kInfo;
    e.category = c.name;
    if (const OpStats* op = window->Find(c.name)) e.impact = op->impact;
    e.figures = {{"growth_bytes_per_s", c.growth_bytes_per_s},
                 {"confidence", c.leak_confidence},
                 {"live_bytes", c.live_bytes},
                 {"live_allocs", c.live_allocs},
                 {"projected_bytes_1h", c.projected_bytes_1h},
                 {"reason", c.leak_reason},
                 {"incomplete", c.dropped > 0}};
    if (c.leak_suspected) {
      e.figures["top_site"] = TopSite(c.name);
      e.message = absl::StrFormat(
          "%s live memory growing %s/s (confidence %.2f), %s live now, %s in 1 h at this rate",
          c.name, FormatBytes(c.growth_bytes_per_s), c.leak_confidence,
          FormatBytes(static_cast<double>(c.live_bytes)), FormatBytes(c.projected_bytes_1h));
      if (c.dropped > 0) {
        absl::StrAppend(&e.message, " (incomplete: ", c.dropped,
                        " allocations not tracked, live map full)");
      }
    } else {
      e.message = absl::StrFormat("%s live memory no longer growing (%s live)", c.name,
                                  FormatBytes(static_cast<double>(c.live_bytes)));
    }
    events->push_back(std::move(e));
  }
}

void MemoryAnalysis::OnRunEnd(Snapshot* run, EventList*) {
  if (!run->memory_counters) return;
  run->memory = analyzer_.Totals(run->seconds(), *run->memory_counters, Calls(*run));
  AttachMemoryToOps(run);
  if (sources_.live) {
    absl::StatusOr<std::vector<LiveAllocation>> live = sources_.live();
    if (live.ok()) {
      live_details_ = analyzer_.LiveDetails(*live, sources_.symbolize, sources_.stack);
    }
  }
}

void MemoryAnalysis::AddToReport(const Snapshot& run, nlohmann::json* report) {
  if (!run.memory) return;
  (*report)["memory"] = MemoryJson(*run.memory);
  (*report)["memory"]["live"] = live_details_;
}

}  // namespace gridprobe::memory
