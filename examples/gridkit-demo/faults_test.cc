#include "faults.h"

#include <time.h>

#include "gtest/gtest.h"

namespace gridkit_demo {
namespace {

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
  FaultInjector injector(faults, 1, &memory);
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
  FaultInjector injector(faults, 7, &memory);
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
