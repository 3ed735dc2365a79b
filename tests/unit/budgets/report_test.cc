#include "userspace/analyzers/budgets/report.h"

#include <gtest/gtest.h>

#include "base/status.h"

namespace gridprobe::budgets {
namespace {

nlohmann::json Report() {
  return nlohmann::json::parse(R"({
    "schema": "gridprobe.report/1",
    "target": {"pid": 4242, "comm": "gridkit-demo", "exe": "/usr/bin/gridkit-demo"},
    "window": {"start": "2025-01-01T12:00:00Z", "end": "2025-01-01T12:01:00.5Z", "seconds": 60.5},
    "operations": [
      {"name": "sort", "symbol": "gridkit::Grid::sort*", "module": "/usr/lib/libgridkit.so",
       "impact": "userVisible", "calls": 600, "unwound": 1, "mean_ns": 2.5e7, "min_ns": 1000,
       "max_ns": 160000000, "p50_ns": 3000000, "p95_ns": 150000000, "p99_ns": 155000000,
       "total_ns": 15000000000, "calls_per_s": 9.9},
      {"name": "save", "impact": "background", "calls": 5, "p95_ns": 900000000,
       "live_bytes": 4096, "alloc_bytes_per_call": 10.5, "leak_growth_bytes_per_s": null}
    ]})");
}

class Recorder : public FindingSink {
 public:
  void OnFinding(const Finding& event) override { events.push_back(event); }
  std::vector<Finding> events;
};

TEST(SnapshotFromReportJsonTest, ReadsEveryField) {
  absl::StatusOr<Snapshot> s = SnapshotFromReportJson(Report());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->target.pid, 4242);
  EXPECT_EQ(s->target.comm, "gridkit-demo");
  EXPECT_EQ(s->target.exe, "/usr/bin/gridkit-demo");
  EXPECT_EQ(s->start, absl::FromUnixSeconds(1735732800));
  EXPECT_DOUBLE_EQ(s->seconds(), 60.5);
  ASSERT_EQ(s->ops.size(), 2u);
  const OpStats& sort = s->ops[0];
  EXPECT_EQ(sort.name, "sort");
  EXPECT_EQ(sort.symbol, "gridkit::Grid::sort*");
  EXPECT_EQ(sort.module, "/usr/lib/libgridkit.so");
  EXPECT_EQ(sort.impact, Impact::kUserVisible);
  EXPECT_EQ(sort.calls, 600u);
  EXPECT_EQ(sort.unwound, 1u);
  EXPECT_EQ(sort.mean_ns, 2.5e7);
  EXPECT_EQ(sort.min_ns, 1000u);
  EXPECT_EQ(sort.max_ns, 160000000u);
  EXPECT_EQ(sort.p50_ns, 3000000u);
  EXPECT_EQ(sort.p95_ns, 150000000u);
  EXPECT_EQ(sort.p99_ns, 155000000u);
  EXPECT_EQ(sort.total_ns, 15000000000u);
  EXPECT_EQ(sort.calls_per_s, 9.9);
  EXPECT_EQ(sort.live_bytes, std::nullopt);
  const OpStats& save = s->ops[1];
  EXPECT_EQ(save.impact, Impact::kBackground);
  EXPECT_EQ(save.live_bytes, 4096u);
  EXPECT_EQ(save.alloc_bytes_per_call, 10.5);
  EXPECT_EQ(save.leak_growth_bytes_per_s, std::nullopt);
}

TEST(SnapshotFromReportJsonTest, ErrorsNameTheField) {
  auto error = [](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = Report();
    edit(j);
    absl::Status s = SnapshotFromReportJson(j).status();
    EXPECT_EQ(ExitCodeOf(s), ExitCode::kBadInput);
    return std::string(s.message());
  };
  EXPECT_EQ(error([](nlohmann::json& j) { j["schema"] = "other/2"; }),
            "schema: expected \"gridprobe.report/1\"; is this a gridprobe report?");
  EXPECT_EQ(error([](nlohmann::json& j) { j["window"]["end"] = "yesterday"; }),
            "window.end: expected an RFC 3339 time");
  EXPECT_EQ(error([](nlohmann::json& j) { j["operations"][1]["p95_ns"] = "slow"; }),
            "operations[1].p95_ns: expected a number >= 0");
  EXPECT_EQ(error([](nlohmann::json& j) { j["operations"][0]["calls"] = -3; }),
            "operations[0].calls: expected a number >= 0");
  EXPECT_EQ(error([](nlohmann::json& j) { j["operations"][0].erase("name"); }),
            "operations[0].name: expected the operation's name");
  EXPECT_EQ(error([](nlohmann::json& j) { j["operations"][0]["impact"] = "loud"; }),
            "operations[0].impact: expected \"userVisible\" or \"background\"");
  EXPECT_EQ(error([](nlohmann::json& j) { j["operations"] = 3; }), "operations: expected a list");
  EXPECT_EQ(error([](nlohmann::json& j) { j = nlohmann::json::array(); }),
            "report: expected a JSON object");
}

TEST(CheckReportTest, JudgesTheSingleWindowDirectly) {
  BudgetSet set;
  set.name = "interactive";
  set.defaults[static_cast<int>(Metric::kP95)] = 100e6;
  Recorder sink;
  absl::StatusOr<CheckResult> result = CheckReport(Report(), set, {}, sink);
  ASSERT_TRUE(result.ok()) << result.status();
  // sort: 150 ms against 100 ms, opened at once. save: 5 calls, not judged.
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].operation, "sort");
  EXPECT_EQ(sink.events[0].severity, Severity::kError);
  EXPECT_EQ(result->worst, Severity::kError);
  EXPECT_EQ(result->operations, 2);
  EXPECT_EQ(result->judged, 1);
  EXPECT_EQ(result->budgets["violations"][0]["state"], "open");
  EXPECT_EQ(result->budgets["options"]["open_after"], 1);

  EvaluatorOptions options;
  options.min_calls = 5;
  Recorder all;
  result = CheckReport(Report(), set, options, all);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(all.events.size(), 2u);
  EXPECT_EQ(result->worst, Severity::kCritical);  // save: 900 ms
}

}  // namespace
}  // namespace gridprobe::budgets
