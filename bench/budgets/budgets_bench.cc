// How long judging one window takes: 100 operations, each with a p50, p95,
// p99, max and mean budget (and memory budgets where measured).
// Goal: under 5 µs per window on the project's 2-core machine.
#include <benchmark/benchmark.h>

#include "absl/strings/str_cat.h"
#include "userspace/budgets/evaluator.h"

namespace gridprobe::budgets {
namespace {

constexpr int kOps = 100;
const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

class CountingSink : public EventSink {
 public:
  void OnEvent(const Event& event) override { ++events; }
  int64_t events = 0;
};

BudgetSet Budgets(bool memory) {
  BudgetSet set;
  set.name = "bench";
  set.defaults[static_cast<int>(Metric::kP50)] = 50e6;
  set.defaults[static_cast<int>(Metric::kP95)] = 100e6;
  set.defaults[static_cast<int>(Metric::kP99)] = 200e6;
  set.defaults[static_cast<int>(Metric::kMax)] = 1e9;
  set.defaults[static_cast<int>(Metric::kMean)] = 60e6;
  if (memory) {
    set.defaults[static_cast<int>(Metric::kAllocBytesPerCall)] = 1 << 20;
    set.defaults[static_cast<int>(Metric::kLiveBytes)] = 1 << 30;
    set.defaults[static_cast<int>(Metric::kLeakGrowth)] = 1 << 20;
  }
  for (int i = 0; i < kOps; i += 10) {
    set.operations[absl::StrCat("op_", i)].limits[static_cast<int>(Metric::kP95)] = 20e6;
  }
  return set;
}

// `over` of every 100 operations run over their p95 budget.
Snapshot Window(int64_t i, int over, bool memory) {
  Snapshot s;
  s.start = kT0 + absl::Seconds(10 * i);
  s.end = s.start + absl::Seconds(10);
  for (int op = 0; op < kOps; ++op) {
    OpStats o;
    o.name = absl::StrCat("op_", op);
    o.calls = 1000;
    o.calls_per_s = 100;
    // A slow drift keeps forecasting busy, with a little wobble per window.
    const uint64_t base = 1'000'000 + 1000 * (i % 50) + 37 * ((i * 7 + op) % 11);
    o.p50_ns = base;
    o.p95_ns = op < over ? 300'000'000 : 2 * base;
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

// Arguments: operations over budget, memory budgets on (1) or off (0),
// forecasting on (1) or off (0).
void BM_OnWindow100Ops(benchmark::State& state) {
  const int over = static_cast<int>(state.range(0));
  const bool memory = state.range(1) != 0;
  EvaluatorOptions options;
  if (state.range(2) == 0) options.prediction_windows = 0;
  // A few distinct windows, so the work is not one window repeated; few
  // enough to stay in cache, as a snapshot the agent has just built does.
  constexpr int kPool = 4;
  std::vector<Snapshot> windows;
  for (int i = 0; i < kPool; ++i) windows.push_back(Window(i, over, memory));
  Evaluator evaluator(Budgets(memory), options);
  CountingSink sink;
  int64_t i = 0;
  for (; i < 64; ++i) {  // reach steady state
    Snapshot& window = windows[i % kPool];
    window.start = kT0 + absl::Seconds(10 * i);
    window.end = window.start + absl::Seconds(10);
    evaluator.OnWindow(window, sink);
  }
  for (auto _ : state) {
    Snapshot& window = windows[i % kPool];
    // Windows must move forward in time.
    window.start = kT0 + absl::Seconds(10 * i);
    window.end = window.start + absl::Seconds(10);
    evaluator.OnWindow(window, sink);
    ++i;
  }
  state.counters["events"] = static_cast<double>(sink.events);
  state.SetItemsProcessed(state.iterations() * kOps);
}
BENCHMARK(BM_OnWindow100Ops)
    ->ArgNames({"over", "memory", "forecast"})
    ->Args({0, 0, 0})
    ->Args({0, 0, 1})
    ->Args({0, 1, 1})
    ->Args({10, 0, 1})
    ->Args({100, 1, 1});

}  // namespace
}  // namespace gridprobe::budgets

BENCHMARK_MAIN();
