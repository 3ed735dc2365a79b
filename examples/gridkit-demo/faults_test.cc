#include "faults.h"

#include <time.h>

#include "gtest/gtest.h"

namespace gridkit_demo {
namespace {

// Elapsed time for an injector whose faults have no span: never read.
double NoClock() {
  ADD_FAILURE() << "clock read without a span";
  return 0;
}

TEST(FaultMemoryTest, LeaksAccumulateCacheLevelsOff) {
  FaultMemory memory;
  for (int i = 0; i < 5; ++i) memory.Leak(Op::kRender, 1000);
  for (int i = 0; i < 10; ++i) memory.AddToCache(Op::kSort, 300, 1000);
  MemoryCounts render = memory.Counts(Op::kRender);
  EXPECT_EQ(render.leaked_bytes, 5000u);
  EXPECT_EQ(render.leaked_allocs, 5u);
  EXPECT_EQ(render.cache_live_bytes, 0u);
  MemoryCounts sort = memory.Counts(Op::kSort);
  EXPECT_EQ(sort.cache_live_bytes, 900u);
  EXPECT_EQ(sort.cache_live_allocs, 3u);
  EXPECT_EQ(sort.leaked_bytes, 0u);
}

TEST(FaultInjectorTest, ActsOnStageZeroOnly) {
  std::array<OpFaults, kNumOps> faults{};
  faults[Index(Op::kFilter)].leak_bytes = 64;
  faults[Index(Op::kFilter)].throw_percent = 100;
  FaultMemory memory;
  FaultInjector injector(faults, 1, &memory, NoClock);
  EXPECT_NO_THROW(injector.Checkpoint("filter", 1));
  EXPECT_NO_THROW(injector.Checkpoint("sort", 0));
  EXPECT_EQ(memory.Counts(Op::kFilter).leaked_allocs, 0u);
  // The leak still happens on a call that is then cancelled.
  EXPECT_THROW(injector.Checkpoint("filter", 0), Cancelled);
  EXPECT_EQ(memory.Counts(Op::kFilter).leaked_allocs, 1u);
}

TEST(FaultInjectorTest, ThrowsAtRoughlyTheRequestedRate) {
  std::array<OpFaults, kNumOps> faults{};
  faults[Index(Op::kSort)].throw_percent = 20;
  FaultMemory memory;
  FaultInjector injector(faults, 7, &memory, NoClock);
  int thrown = 0;
  for (int i = 0; i < 10000; ++i) {
    try {
      injector.Checkpoint("sort", 0);
    } catch (const Cancelled&) {
      ++thrown;
    }
  }
  EXPECT_GT(thrown, 1800);
  EXPECT_LT(thrown, 2200);
}

TEST(FaultInjectorTest, FaultsActOnlyInsideTheirSpans) {
  std::array<OpFaults, kNumOps> faults{};
  OpFaults& f = faults[Index(Op::kFilter)];
  f.slow_ms = 0.001;
  f.slow_percent = 100;
  f.slow_span = {0.5, 1.5};
  f.leak_bytes = 64;
  f.leak_span = {1, 2};
  f.cache_bytes = 32;
  f.cache_max_bytes = 1024;
  f.cache_span = {2, 3};
  f.throw_percent = 100;
  f.throw_span = {3, 4};
  FaultMemory memory;
  double now = 0;
  FaultInjector injector(faults, 1, &memory, [&now] { return now; });
  struct Expect {
    double t;
    uint64_t slowed, leaked, cached;
    bool thrown;
  };
  // Cumulative counts after a call at t.
  const Expect expected[] = {
      {0, 0, 0, 0, false},    {0.499, 0, 0, 0, false}, {0.5, 1, 0, 0, false},
      {1, 2, 1, 0, false},    {1.5, 2, 2, 0, false},   {1.999, 2, 3, 0, false},
      {2, 2, 3, 1, false},    {2.999, 2, 3, 2, false}, {3, 2, 3, 2, true},
      {3.999, 2, 3, 2, true}, {4, 2, 3, 2, false},     {1e6, 2, 3, 2, false}};
  for (const Expect& e : expected) {
    now = e.t;
    bool thrown = false;
    try {
      injector.Checkpoint("filter", 0);
    } catch (const Cancelled&) {
      thrown = true;
    }
    injector.Checkpoint("filter", 1);  // Later stages never act, in the span or not.
    MemoryCounts m = memory.Counts(Op::kFilter);
    EXPECT_EQ(injector.slowed(Op::kFilter), e.slowed) << "t=" << e.t;
    EXPECT_EQ(m.leaked_allocs, e.leaked) << "t=" << e.t;
    EXPECT_EQ(m.leaked_bytes, 64 * e.leaked) << "t=" << e.t;
    EXPECT_EQ(m.cache_live_allocs, e.cached) << "t=" << e.t;
    EXPECT_EQ(thrown, e.thrown) << "t=" << e.t;
  }
}

TEST(FaultInjectorTest, ReadsTheClockOnlyForOperationsWithASpan) {
  std::array<OpFaults, kNumOps> faults{};
  faults[Index(Op::kSort)].leak_bytes = 64;  // Whole run.
  faults[Index(Op::kGroup)].leak_bytes = 64;
  faults[Index(Op::kGroup)].leak_span = {5, 6};
  FaultMemory memory;
  int reads = 0;
  FaultInjector injector(faults, 1, &memory, [&reads] {
    ++reads;
    return 0.0;
  });
  injector.Checkpoint("sort", 0);
  injector.Checkpoint("render", 0);
  EXPECT_EQ(reads, 0);
  injector.Checkpoint("group", 0);
  injector.Checkpoint("group", 1);
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(memory.Counts(Op::kSort).leaked_allocs, 1u);
  EXPECT_EQ(memory.Counts(Op::kGroup).leaked_allocs, 0u);
}

TEST(FaultInjectorTest, SpanMasksTheDecisionsOfTheWholeRun) {
  // Same seed with and without a span: inside it, the same calls throw.
  std::array<OpFaults, kNumOps> whole{};
  whole[Index(Op::kSort)].throw_percent = 50;
  std::array<OpFaults, kNumOps> spanned = whole;
  spanned[Index(Op::kSort)].throw_span = {10, 20};
  FaultMemory memory;
  double now = 0;
  FaultInjector a(whole, 3, &memory, NoClock);
  FaultInjector b(spanned, 3, &memory, [&now] { return now; });
  auto throws = [](FaultInjector& injector) {
    try {
      injector.Checkpoint("sort", 0);
    } catch (const Cancelled&) {
      return true;
    }
    return false;
  };
  int in_span_thrown = 0;
  for (int i = 0; i < 300; ++i) {
    now = i * 0.1;
    const bool in_span = now >= 10 && now < 20;
    const bool whole_thrown = throws(a);
    EXPECT_EQ(throws(b), whole_thrown && in_span) << "t=" << now;
    in_span_thrown += whole_thrown && in_span;
  }
  EXPECT_GT(in_span_thrown, 20);  // About 50 of the 100 calls in the span.
}

double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

TEST(BurnCpuTest, SpendsCpuNotSleep) {
  // A loaded machine may preempt the thread for much of each burn, so burn
  // until 15 ms of CPU time are spent; sleeping would never get there in the
  // 150 burns (4.5 s) allowed.
  const double before = ThreadCpuMs();
  int burns = 0;
  while (ThreadCpuMs() - before < 15 && burns < 150) {
    BurnCpu(30);
    ++burns;
  }
  EXPECT_GE(ThreadCpuMs() - before, 15) << "after " << burns << " burns of 30 ms";
}

}  // namespace
}  // namespace gridkit_demo
