// The agent loop against a fake kernel side: no root, no BPF.
#include "userspace/agent/agent.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "tests/support/fake_backend.h"
#include "userspace/agent/sink_runner.h"

namespace gridprobe {
namespace {

using test_support::FakeBackend;

// Emits one event per window for the first operation.
class CountingAnalyzer : public Analyzer {
 public:
  const char* name() const override { return "counting"; }
  void OnWindow(Snapshot* window, EventList* events) override {
    Event e;
    e.kind = EventKind::kPrediction;
    e.operation = window->ops[0].name;
    e.metric = "p95";
    e.message = "window " + std::to_string(window->index);
    events->push_back(e);
    ++windows;
  }
  void AddToReport(const Snapshot&, nlohmann::json* report) override {
    (*report)["counting"] = windows;
  }
  int windows = 0;
};

class RecordingSink : public Sink {
 public:
  const char* name() const override { return "recording"; }
  void OnWindow(const Snapshot& w) override {
    std::lock_guard<std::mutex> l(mu);
    window_calls.push_back(w.ops[0].calls);
  }
  void OnEvent(const Event& e) override {
    std::lock_guard<std::mutex> l(mu);
    events.push_back(e);
  }
  void AddToReport(nlohmann::json* report) override { (*report)["recording"] = true; }
  absl::Status OnRunEnd(const Snapshot& run, const nlohmann::json& r) override {
    std::lock_guard<std::mutex> l(mu);
    run_calls = run.ops[0].calls;
    report = r;
    return absl::OkStatus();
  }
  std::mutex mu;
  std::vector<uint64_t> window_calls;
  std::vector<Event> events;
  uint64_t run_calls = 0;
  nlohmann::json report;
};

TEST(AgentTest, WindowsEventsAndTheRunReachEverySinkAndAddUp) {
  FakeBackend backend(2);
  TargetInfo target{getpid(), "agent_test", "/proc/self/exe"};
  std::vector<OpIdentity> ops = {{"sort", "sort", "lib.so", Impact::kUserVisible, "p", ""},
                                 {"filter", "filter", "lib.so", Impact::kBackground, "p", ""}};
  AgentOptions options;
  options.interval = absl::Milliseconds(100);
  options.duration = absl::Milliseconds(450);
  options.announce_detach = false;
  CountingAnalyzer analyzer;
  RecordingSink a, b;
  SinkRunner sinks({&a, &b});
  absl::StatusOr<StopReason> reason =
      RunAgent(backend, target, ops, options, {&analyzer}, sinks);
  ASSERT_TRUE(reason.ok()) << reason.status();
  EXPECT_EQ(*reason, StopReason::kDuration);
  EXPECT_TRUE(backend.detached_);
  for (RecordingSink* s : {&a, &b}) {
    // Every window, the last partial one included, and their calls add up
    // to the whole run's.
    EXPECT_GE(s->window_calls.size(), 3u);
    EXPECT_EQ(s->window_calls.size(), static_cast<size_t>(analyzer.windows));
    uint64_t sum = 0;
    for (uint64_t c : s->window_calls) sum += c;
    EXPECT_EQ(sum, s->run_calls);
    ASSERT_EQ(s->events.size(), s->window_calls.size());
    // The agent completed what the analyzer left out.
    EXPECT_EQ(s->events[0].key, "agent_test[" + std::to_string(getpid()) + "]/prediction/sort/p95");
    EXPECT_EQ(s->events[0].target.comm, "agent_test");
    EXPECT_EQ(s->events[0].message, "window 0");
    // Analyzers' and sinks' sections, the agent's own cost.
    EXPECT_EQ(s->report["counting"], analyzer.windows);
    EXPECT_EQ(s->report["recording"], true);
    EXPECT_EQ(s->report["stop_reason"], "duration reached");
    EXPECT_EQ(s->report["agent"]["windows"], analyzer.windows);
    EXPECT_EQ(s->report["agent"]["sinks"].size(), 2u);
    EXPECT_TRUE(s->report["agent"]["bpf"].is_object());
  }
}

TEST(AgentTest, MissedHitsBecomeAnEvent) {
  FakeBackend backend(1);
  backend.missed_ = 0;
  TargetInfo target{getpid(), "agent_test", ""};
  AgentOptions options;
  options.interval = absl::Milliseconds(100);
  options.duration = absl::Milliseconds(250);
  options.announce_detach = false;
  RecordingSink sink;
  SinkRunner sinks({&sink});
  // Missed hits rise after the loop started: the first window reports them.
  backend.missed_ = 7;
  ASSERT_TRUE(RunAgent(backend, target, {{"op", "op", "m", Impact::kUserVisible, "p", ""}}, options,
                       {}, sinks)
                  .ok());
  EXPECT_TRUE(sink.events.empty()) << "counted before the first window is not new";
}

// A sink that never returns must not hold up the loop or the others.
class StuckSink : public Sink {
 public:
  const char* name() const override { return "stuck"; }
  void OnWindow(const Snapshot&) override {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [this] { return release; });
  }
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
};

TEST(SinkRunnerTest, AFullQueueDropsAndCountsWithoutBlocking) {
  StuckSink stuck;
  RecordingSink ok;
  {
    SinkRunner runner({&stuck, &ok}, 4);
    Snapshot w;
    w.ops.push_back(OpStats{});
    const absl::Time t0 = absl::Now();
    for (int i = 0; i < 100; ++i) runner.PostWindow(w);
    EXPECT_LT(absl::Now() - t0, absl::Seconds(5));
    std::vector<SinkStats> stats = runner.Stats();
    ASSERT_EQ(stats.size(), 2u);
    EXPECT_EQ(stats[0].name, "stuck");
    // One taken by the stuck thread, four queued, the rest dropped.
    EXPECT_GE(stats[0].dropped_windows, 95u);
    nlohmann::json report;
    absl::Status st = runner.Finish(w, &report, absl::Milliseconds(200));
    EXPECT_FALSE(st.ok());
    EXPECT_NE(std::string(st.message()).find("sink stuck did not finish within"), std::string::npos)
        << st.message();
    {
      std::lock_guard<std::mutex> l(stuck.mu);
      stuck.release = true;
    }
    stuck.cv.notify_all();
  }
  EXPECT_GE(ok.window_calls.size(), 4u);
}

}  // namespace
}  // namespace gridprobe
