// What one Prometheus scrape costs gridprobe: MetricsState::Render for 6
// operations (the gridkit preset) and 64 (GP_MAX_OPS), each with a
// histogram of 10k calls over three decades, plus memory categories.
// docs/performance.md records the figures.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>

#include "userspace/model/op_stats.h"
#include "userspace/sinks/prometheus/exposition.h"
#include "userspace/sinks/prometheus/http_server.h"

namespace gridprobe::prometheus {
namespace {

MetricsState MakeState(int ops) {
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> latency(std::log(200e3), 1.2);
  Snapshot s;
  s.target = {4242, "gridkit-demo", "/usr/bin/gridkit-demo"};
  MemorySummary memory;
  for (int i = 0; i < ops; ++i) {
    Histogram h;
    for (int n = 0; n < 10000; ++n) h.Record(static_cast<uint64_t>(latency(rng)));
    const std::string name = "operation_" + std::to_string(i);
    s.ops.push_back(
        MakeOpStats({name, name, "/usr/lib/x86_64-linux-gnu/libgridkit.so.1", Impact::kUserVisible,
                     "gridkit", "3f2a9c0d1e4b5a6978877665544332211f0e0d0c"},
                    h, 1));
    MemoryCategory c;
    c.name = name;
    c.live_bytes = 1 << 20;
    memory.categories.push_back(c);
  }
  s.memory = memory;
  s.agent = AgentCost{};
  MetricsState state;
  state.OnWindow(s);
  return state;
}

void BM_Render(benchmark::State& st) {
  MetricsState state = MakeState(static_cast<int>(st.range(0)));
  size_t bytes = 0;
  for (auto _ : st) {
    std::string page = state.Render();
    bytes = page.size();
    benchmark::DoNotOptimize(page);
  }
  st.counters["page_bytes"] = static_cast<double>(bytes);
  st.SetBytesProcessed(static_cast<int64_t>(bytes) * st.iterations());
}
BENCHMARK(BM_Render)->Arg(6)->Arg(64)->Unit(benchmark::kMicrosecond);

// The same page gzipped, as it goes to Prometheus (Accept-Encoding: gzip).
void BM_RenderGzip(benchmark::State& st) {
  MetricsState state = MakeState(static_cast<int>(st.range(0)));
  size_t bytes = 0;
  for (auto _ : st) {
    std::optional<std::string> z = Gzip(state.Render());
    bytes = z->size();
    benchmark::DoNotOptimize(z);
  }
  st.counters["gzip_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderGzip)->Arg(6)->Arg(64)->Unit(benchmark::kMicrosecond);

// Merging one window into the state (the sink thread's work per window).
void BM_OnWindow(benchmark::State& st) {
  MetricsState state = MakeState(static_cast<int>(st.range(0)));
  Snapshot s;
  s.target = {4242, "gridkit-demo", "/usr/bin/gridkit-demo"};
  Histogram h;
  for (int n = 1; n < 1000; ++n) h.Record(static_cast<uint64_t>(n) * 1000);
  for (int i = 0; i < st.range(0); ++i) {
    const std::string name = "operation_" + std::to_string(i);
    s.ops.push_back(
        MakeOpStats({name, name, "/lib/g.so", Impact::kUserVisible, "gridkit", ""}, h, 1));
  }
  for (auto _ : st) state.OnWindow(s);
}
BENCHMARK(BM_OnWindow)->Arg(6)->Arg(64)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace gridprobe::prometheus

BENCHMARK_MAIN();
