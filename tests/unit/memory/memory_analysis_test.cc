// The memory analyzer as a pipeline stage, fed kernel counters the way the
// agent loop feeds them: the leak events it draws (once per change of
// verdict, with the top live site), what it copies onto operations and its
// report section.
#include "userspace/analyzers/memory/memory_analysis.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace gridprobe::memory {
namespace {

// Op 0 "render" leaks `leak_per_s` bytes a second in 4 KiB blocks while
// `leaking`; op 1 "sort" allocates and frees 64 KiB a call. Everything
// render leaked is freed at once by Free().
class FakeKernel {
 public:
  // The counters and the live allocations after one more second.
  MemoryCounters Tick(bool leaking) {
    ++seconds_;
    if (leaking) {
      for (int i = 0; i < 4; ++i) {
        LiveAllocation a;
        a.address = 0x10000 + 0x1000 * live_.size();
        a.size = 4096;
        a.caller = live_.size() % 8 == 0 ? kColdCaller : kHotCaller;
        a.category = 1;
        live_.push_back(a);
        render_.allocs++;
        render_.alloc_bytes += 4096;
      }
    }
    sort_.allocs += 10;
    sort_.alloc_bytes += 10 * 65536;
    sort_.frees += 10;
    sort_.free_bytes += 10 * 65536;
    return Counters();
  }
  void Free() {
    render_.frees = render_.allocs;
    render_.free_bytes = render_.alloc_bytes;
    live_.clear();
  }
  MemoryCounters Counters() const {
    MemoryCounters c;
    c.categories = {CategoryCounters{}, render_, sort_};
    return c;
  }
  std::vector<LiveAllocation> live() const {
    std::vector<LiveAllocation> out = live_;
    for (LiveAllocation& a : out) a.age_ns = static_cast<uint64_t>(seconds_) * 1000000000;
    return out;
  }

  static constexpr uint64_t kHotCaller = 0x401234;
  static constexpr uint64_t kColdCaller = 0x405678;

 private:
  int seconds_ = 0;
  CategoryCounters render_, sort_;
  std::vector<LiveAllocation> live_;
};

class MemoryAnalysisTest : public ::testing::Test {
 protected:
  MemoryAnalysisTest()
      : analysis_({"render", "sort"}, Options(),
                  LiveSources{[this] { return absl::StatusOr<std::vector<LiveAllocation>>(
                                           kernel_.live()); },
                              nullptr,
                              [](uint64_t a) {
                                return a == FakeKernel::kHotCaller
                                           ? std::string("gridkit::Grid::render()+0x34")
                                           : absl::StrFormat("0x%x", a);
                              }}) {}

  static MemoryAnalyzerOptions Options() {
    MemoryAnalyzerOptions o;
    o.mode = "ops";
    o.allocator = "glibc";
    return o;
  }

  // One window of one second; returns its events.
  EventList Window(bool leaking) {
    Snapshot w;
    w.start = t0_ + absl::Seconds(windows_);
    w.end = w.start + absl::Seconds(1);
    ++windows_;
    OpStats render, sort;
    render.name = "render";
    render.impact = Impact::kUserVisible;
    render.calls = 10;
    sort.name = "sort";
    sort.impact = Impact::kBackground;
    sort.calls = 10;
    w.ops = {render, sort};
    w.memory_counters = kernel_.Tick(leaking);
    EventList events;
    analysis_.OnWindow(&w, &events);
    last_ = w;
    return events;
  }

  FakeKernel kernel_;
  MemoryAnalysis analysis_;
  absl::Time t0_ = absl::FromUnixSeconds(1700000000);
  int windows_ = 0;
  Snapshot last_;
};

TEST_F(MemoryAnalysisTest, ALeakIsOneEventWithItsFiguresAndTopSite) {
  std::vector<Event> all;
  int first_at = -1;
  for (int i = 0; i < 90; ++i) {
    for (Event& e : Window(true)) {
      if (first_at < 0) first_at = i;
      all.push_back(std::move(e));
    }
  }
  ASSERT_EQ(all.size(), 1u) << "one leak_suspected, not one per window";
  const Event& e = all[0];
  EXPECT_EQ(e.kind, EventKind::kLeakSuspected);
  EXPECT_EQ(e.category, "render");
  EXPECT_EQ(e.impact, Impact::kUserVisible) << "the operation's impact";
  EXPECT_EQ(e.severity, Severity::kWarning);
  // The default detector wants 1.5 x 30 s of history before a leak.
  EXPECT_GE(first_at, 44);
  EXPECT_NEAR(e.figures["growth_bytes_per_s"].get<double>(), 16384, 16384 * 0.05);
  EXPECT_EQ(e.figures["live_bytes"].get<uint64_t>(), 4096u * 4 * (first_at + 1));
  EXPECT_GT(e.figures["confidence"].get<double>(), 0.5);
  EXPECT_FALSE(e.figures["incomplete"].get<bool>());
  // 7 in 8 blocks come from the hot caller: it holds most live bytes.
  ASSERT_TRUE(e.figures["top_site"].is_object()) << e.figures.dump();
  EXPECT_EQ(e.figures["top_site"]["frames"][0], "gridkit::Grid::render()+0x34");
  EXPECT_NE(e.message.find("render live memory growing"), std::string::npos) << e.message;
  // Nothing for sort, which frees what it allocates.
  for (const Event& x : all) EXPECT_NE(x.category, "sort");
}

TEST_F(MemoryAnalysisTest, AFreedLeakIsClearedOnce) {
  for (int i = 0; i < 60; ++i) Window(true);
  kernel_.Free();
  std::vector<Event> cleared;
  for (int i = 0; i < 120; ++i) {
    for (Event& e : Window(false)) cleared.push_back(std::move(e));
  }
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_EQ(cleared[0].kind, EventKind::kLeakCleared);
  EXPECT_EQ(cleared[0].category, "render");
  EXPECT_EQ(cleared[0].severity, Severity::kInfo);
  EXPECT_EQ(cleared[0].figures["live_bytes"].get<uint64_t>(), 0u);
}

TEST_F(MemoryAnalysisTest, ItsFiguresLandOnTheOperations) {
  for (int i = 0; i < 5; ++i) Window(true);
  ASSERT_TRUE(last_.memory.has_value());
  const OpStats* render = last_.Find("render");
  ASSERT_NE(render, nullptr);
  EXPECT_EQ(render->live_bytes, 4096u * 4 * 5);
  ASSERT_TRUE(render->alloc_bytes_per_call.has_value());
  EXPECT_DOUBLE_EQ(*render->alloc_bytes_per_call, 4096.0 * 4 / 10);
  const OpStats* sort = last_.Find("sort");
  ASSERT_NE(sort, nullptr);
  EXPECT_EQ(sort->live_bytes, 0u);
  EXPECT_DOUBLE_EQ(*sort->alloc_bytes_per_call, 65536.0);
}

TEST_F(MemoryAnalysisTest, AWindowWithoutCountersIsLeftAlone) {
  Snapshot w;
  w.start = t0_;
  w.end = t0_ + absl::Seconds(1);
  EventList events;
  analysis_.OnWindow(&w, &events);
  EXPECT_TRUE(events.empty());
  EXPECT_FALSE(w.memory.has_value());
}

TEST_F(MemoryAnalysisTest, TheReportHasTheRunsTotalsAndLiveSites) {
  for (int i = 0; i < 10; ++i) Window(true);
  Snapshot run;
  run.start = t0_;
  run.end = t0_ + absl::Seconds(10);
  OpStats render, sort;
  render.name = "render";
  render.calls = 100;
  sort.name = "sort";
  sort.calls = 100;
  run.ops = {render, sort};
  run.memory_counters = kernel_.Counters();
  EventList events;
  analysis_.OnRunEnd(&run, &events);
  nlohmann::json report;
  analysis_.AddToReport(run, &report);
  ASSERT_TRUE(report.contains("memory")) << report.dump();
  bool found = false;
  for (const auto& c : report["memory"]["categories"]) {
    if (c["category"] != "render") continue;
    found = true;
    EXPECT_EQ(c["live_bytes"].get<uint64_t>(), 4096u * 40);
    EXPECT_EQ(c["alloc_bytes"].get<uint64_t>(), 4096u * 40);
  }
  EXPECT_TRUE(found) << report["memory"].dump();
  const auto& sites = report["memory"]["live"]["render"]["top_sites"];
  ASSERT_FALSE(sites.empty());
  EXPECT_EQ(sites[0]["frames"][0], "gridkit::Grid::render()+0x34");
  EXPECT_EQ(sites[0]["live_allocs"].get<uint64_t>(), 35u);
}

}  // namespace
}  // namespace gridprobe::memory
