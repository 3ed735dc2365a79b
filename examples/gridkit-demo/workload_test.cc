#include "workload.h"

#include <chrono>
#include <thread>

#include "gtest/gtest.h"

namespace gridkit_demo {
namespace {

TEST(GenerateRowsTest, DeterministicAndFitsSchema) {
  std::vector<gridkit::Row> a = GenerateRows(500, 3);
  EXPECT_EQ(a.size(), 500u);
  EXPECT_EQ(GenerateRows(500, 3), a);
  EXPECT_NE(GenerateRows(500, 4), a);
  gridkit::Grid grid(DemoSchema());
  grid.setData(a);  // Throws if a value does not fit its column.
  EXPECT_EQ(grid.row_count(), 500u);
}

TEST(StopSignalTest, StopWakesSleeper) {
  StopSignal stop;
  std::thread stopper([&stop] { stop.Stop(); });
  EXPECT_FALSE(stop.SleepUntil(std::chrono::steady_clock::now() + std::chrono::hours(1)));
  stopper.join();
  EXPECT_TRUE(stop.stopped());
}

TEST(PacerTest, UnpacedNeverWaitsAndStopEnds) {
  StopSignal stop;
  Pacer pacer(std::chrono::steady_clock::now(), 0, 0, 1);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(pacer.Next(stop));
  stop.Stop();
  EXPECT_FALSE(pacer.Next(stop));
}

using std::chrono::milliseconds;
using Time = std::chrono::steady_clock::time_point;

int64_t MsAfter(Time start, Time t) {
  return std::chrono::duration_cast<milliseconds>(t - start).count();
}

TEST(PacerTest, WorkersInterleaveOnAbsoluteSlots) {
  Time start{std::chrono::hours(1)};
  // 40 calls/s over 2 workers: worker 0 at 0, 50, 100 ms; worker 1 at 25, 75, 125 ms.
  Pacer w0(start, 40, 0, 2);
  Pacer w1(start, 40, 1, 2);
  EXPECT_EQ(MsAfter(start, w0.Advance(start)), 0);
  EXPECT_EQ(MsAfter(start, w1.Advance(start)), 25);
  // A late call does not push later slots back: no drift.
  EXPECT_EQ(MsAfter(start, w0.Advance(start + milliseconds(70))), 50);
  EXPECT_EQ(MsAfter(start, w0.Advance(start + milliseconds(71))), 100);
  EXPECT_EQ(MsAfter(start, w1.Advance(start + milliseconds(30))), 75);
}

TEST(PacerTest, SkipsSlotsWhenMoreThanASecondBehind) {
  Time start{std::chrono::hours(1)};
  Pacer pacer(start, 10, 0, 1);  // Slots every 100 ms.
  EXPECT_EQ(MsAfter(start, pacer.Advance(start)), 0);
  // 0.9 s behind slot 1: catch up slot by slot.
  EXPECT_EQ(MsAfter(start, pacer.Advance(start + milliseconds(1000))), 100);
  // 2.75 s behind slot 2: resume at the first slot not yet past.
  EXPECT_EQ(MsAfter(start, pacer.Advance(start + milliseconds(2950))), 3000);
  EXPECT_EQ(MsAfter(start, pacer.Advance(start + milliseconds(2950))), 3100);
}

TEST(WorkerTest, RunsTheCycleInOrder) {
  Options options;
  options.rows = 2000;
  options.threads = 1;
  options.rate = 0;
  options.faults[Index(Op::kGroup)].throw_percent = 100;
  FaultMemory memory;
  gridkit::Grid grid(DemoSchema());
  grid.setData(GenerateRows(options.rows, 1));
  Worker worker(0, options, std::move(grid), &memory);
  StopSignal stop;
  std::thread stopper([&stop] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop.Stop();
  });
  worker.Run(std::chrono::steady_clock::now(), stop);
  stopper.join();
  EXPECT_EQ(worker.error(), "");
  const ThreadSamples& s = worker.samples();
  uint64_t builds = s[Index(Op::kRowModelBuild)].latencies_ns.size();
  ASSERT_GT(builds, 0u);
  // Stopping between two calls leaves later ops of the last cycle one short at most.
  for (size_t op = 1; op < kNumOps; ++op) {
    uint64_t calls = s[op].latencies_ns.size() + s[op].thrown;
    EXPECT_LE(calls, builds) << kOpNames[op];
    EXPECT_GE(calls + 1, builds) << kOpNames[op];
  }
  EXPECT_EQ(s[Index(Op::kGroup)].latencies_ns.size(), 0u);
  EXPECT_GT(s[Index(Op::kGroup)].thrown, 0u);
}

TEST(WorkerTest, FaultsFollowTheirSpansInRunTime) {
  Options options;
  options.rows = 2000;
  options.threads = 1;
  options.rate = 0;
  const TimeSpan whole_run{0, 1000};  // Bounded, so the real elapsed time is read.
  const TimeSpan never{1000, 2000};
  OpFaults& build = options.faults[Index(Op::kRowModelBuild)];
  build.leak_bytes = 64;
  build.leak_span = whole_run;
  OpFaults& sort = options.faults[Index(Op::kSort)];
  sort.slow_ms = 0.001;
  sort.slow_percent = 100;
  OpFaults& group = options.faults[Index(Op::kGroup)];  // Slowed, then thrown.
  group.slow_ms = 0.001;
  group.slow_percent = 100;
  group.throw_percent = 100;
  OpFaults& paginate = options.faults[Index(Op::kPaginate)];
  paginate.slow_ms = 0.001;
  paginate.slow_percent = 100;
  paginate.slow_span = never;
  OpFaults& render = options.faults[Index(Op::kRender)];
  render.leak_bytes = 64;
  render.leak_span = never;
  FaultMemory memory;
  gridkit::Grid grid(DemoSchema());
  grid.setData(GenerateRows(options.rows, 1));
  Worker worker(0, options, std::move(grid), &memory);
  StopSignal stop;
  std::thread stopper([&stop] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop.Stop();
  });
  worker.Run(std::chrono::steady_clock::now(), stop);
  stopper.join();
  ASSERT_EQ(worker.error(), "");
  const ThreadSamples& s = worker.samples();
  ASSERT_GT(s[Index(Op::kRender)].latencies_ns.size(), 0u);
  EXPECT_EQ(memory.Counts(Op::kRowModelBuild).leaked_allocs,
            s[Index(Op::kRowModelBuild)].latencies_ns.size());
  EXPECT_EQ(s[Index(Op::kSort)].slowed, s[Index(Op::kSort)].latencies_ns.size());
  // Thrown calls feed no statistics, slowed included.
  EXPECT_GT(s[Index(Op::kGroup)].thrown, 0u);
  EXPECT_EQ(s[Index(Op::kGroup)].slowed, 0u);
  EXPECT_EQ(s[Index(Op::kPaginate)].slowed, 0u);
  EXPECT_EQ(memory.Counts(Op::kRender).leaked_allocs, 0u);
  EXPECT_EQ(s[Index(Op::kFilter)].slowed, 0u);
}

}  // namespace
}  // namespace gridkit_demo
