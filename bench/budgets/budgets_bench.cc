// How long judging one window takes: 100 operations under a shipped budget
// preset, with violations tracked and every budgeted metric's trend fitted
// and checked for a forecast. Goal: under 5 µs per window on the project's
// 2-core machine.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "userspace/analyzers/budgets/evaluator.h"
#include "userspace/presets/budget_preset.h"

namespace gridprobe::budgets {
namespace {

constexpr int kOps = 100;
const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

class CountingSink : public FindingSink {
 public:
  void OnFinding(const Finding& event) override { ++events; }
  int64_t events = 0;
};

BudgetSet Preset(const char* name) {
  absl::StatusOr<BudgetSet> set = LoadBudgetSet(name, PresetCatalog({GRIDPROBE_BENCH_PRESETS_DIR}));
  if (!set.ok()) {
    std::fprintf(stderr, "%s\n", std::string(set.status().message()).c_str());
    std::abort();
  }
  return *std::move(set);
}

// Window i: latencies drift up slowly with some wobble, so that trends are
// fitted and tested but rarely forecast; `over` operations break p95.
Snapshot Window(int64_t i, int over, bool memory, double scale) {
  Snapshot s;
  s.start = kT0 + absl::Seconds(10 * i);
  s.end = s.start + absl::Seconds(10);
  for (int op = 0; op < kOps; ++op) {
    OpStats o;
    o.name = absl::StrCat("operation_", op);
    o.calls = 1000;
    o.calls_per_s = 100;
    const uint64_t base = static_cast<uint64_t>(
        scale * static_cast<double>(1'000'000 + 1000 * (i % 50) + 37 * ((i * 7 + op) % 11)));
    o.p50_ns = base;
    o.p95_ns = op < over ? 900'000'000 : 2 * base;
    o.p99_ns = 3 * base;
    o.max_ns = 5 * base;
    o.mean_ns = 1.2 * base;
    if (memory) {
      o.alloc_bytes_per_call = 4096;
      o.live_bytes = 1 << 20;
      o.leak_growth_bytes_per_s = 10;
    }
    s.ops.push_back(std::move(o));
  }
  return s;
}

// `scale` 1: every metric far below its budget, as for most operations most
// of the time; 30: p50 and p95 at 60% of the interactive budgets, so that
// every window checks them for a forecast (the worst case).
void BM_OnWindow100Ops(benchmark::State& state, const char* preset, int over, bool memory,
                       bool forecast, double scale = 1) {
  EvaluatorOptions options;
  if (!forecast) options.prediction_windows = 0;
  Evaluator evaluator(Preset(preset), options);
  // A few distinct windows, so the work is not one window repeated; few
  // enough to stay in cache, as a snapshot the agent has just built does.
  constexpr int kPool = 4;
  std::vector<Snapshot> windows;
  for (int i = 0; i < kPool; ++i) windows.push_back(Window(i, over, memory, scale));
  CountingSink sink;
  int64_t i = 0;
  auto next = [&] {
    Snapshot& window = windows[i % kPool];
    window.start = kT0 + absl::Seconds(10 * i);  // windows move forward in time
    window.end = window.start + absl::Seconds(10);
    ++i;
    return std::ref(window);
  };
  for (int w = 0; w < 64; ++w) evaluator.OnWindow(next(), sink);  // steady state
  for (auto _ : state) evaluator.OnWindow(next(), sink);
  state.counters["events"] = static_cast<double>(sink.events);
  state.SetItemsProcessed(state.iterations() * kOps);
}

// interactive: p50, p95, p99 and max for every operation.
BENCHMARK_CAPTURE(BM_OnWindow100Ops, interactive, "interactive", 0, false, true);
BENCHMARK_CAPTURE(BM_OnWindow100Ops, interactive_no_forecast, "interactive", 0, false, false);
BENCHMARK_CAPTURE(BM_OnWindow100Ops, interactive_near_budget, "interactive", 0, false, true, 30);
BENCHMARK_CAPTURE(BM_OnWindow100Ops, interactive_10_violating, "interactive", 10, false, true);
// strict: those four, allocation per call and leak growth, memory tracked.
BENCHMARK_CAPTURE(BM_OnWindow100Ops, strict_memory, "strict", 0, true, true);
BENCHMARK_CAPTURE(BM_OnWindow100Ops, strict_memory_all_violating, "strict", 100, true, true);

}  // namespace
}  // namespace gridprobe::budgets

BENCHMARK_MAIN();
