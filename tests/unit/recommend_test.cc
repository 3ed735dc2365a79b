// Each recommendation kind on constructed snapshots, the clean case too:
// what triggers it, the numbers it carries, and what does not trigger it.
#include "userspace/analyzers/recommendations/recommend.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/time/time.h"
#include "userspace/model/op_stats.h"

namespace gridprobe::recommendations {
namespace {

using Json = nlohmann::json;

// `fast` calls of `fast_ns` and `slow` of `slow_ns`.
OpStats Op(const std::string& name, int fast, uint64_t fast_ns, int slow = 0,
           uint64_t slow_ns = 0) {
  Histogram h;
  for (int i = 0; i < fast; ++i) h.Record(fast_ns);
  for (int i = 0; i < slow; ++i) h.Record(slow_ns);
  return MakeOpStats({name, name, "/lib/libgridkit.so.1", Impact::kUserVisible, "gridkit", ""}, h,
                     10);
}

Snapshot Period(std::vector<OpStats> ops) {
  Snapshot s;
  s.start = absl::FromUnixSeconds(1700000000);
  s.end = s.start + absl::Seconds(10);
  s.ops = std::move(ops);
  return s;
}

Json Budgets(double p95_ms) {
  return {{"resolved",
           {{"default", {{"p95_ns", p95_ms * 1e6}}},
            {"operations", Json::object()},
            {"severities", {{"warning", 1.0}, {"error", 1.5}, {"critical", 2.0}}}}}};
}

std::vector<Json> OfKind(const Json& recs, const std::string& kind) {
  std::vector<Json> out;
  for (const Json& r : recs) {
    if (r["kind"] == kind) out.push_back(r);
  }
  return out;
}

TEST(Recommend, ACleanRunSaysSo) {
  Snapshot s = Period({Op("filter", 200, 1'000'000), Op("sort", 200, 2'000'000)});
  Json recs = Recommend(s, {{"budgets", Budgets(100)}}, nullptr);
  ASSERT_EQ(recs.size(), 1u) << recs.dump(1);
  EXPECT_EQ(recs[0]["kind"], "clean");
  EXPECT_EQ(recs[0]["severity"], "info");
  EXPECT_EQ(recs[0]["evidence"]["calls"], 400);
  EXPECT_EQ(recs[0]["evidence"]["budgets_judged"], true);
  EXPECT_NE(recs[0]["title"].get<std::string>().find("all within budget"), std::string::npos);
}

TEST(Recommend, OverBudgetInTheTailNamesTheShareOfSlowCalls) {
  // 80 calls of 10 ms and 20 of 150 ms: p95 150 ms against 100 ms.
  Snapshot s = Period({Op("sort", 80, 10'000'000, 20, 150'000'000)});
  Json recs = Recommend(s, {{"budgets", Budgets(100)}}, nullptr);
  auto over = OfKind(recs, "over_budget");
  ASSERT_EQ(over.size(), 1u) << recs.dump(1);
  const Json& r = over[0];
  EXPECT_EQ(r["severity"], "warning") << "1.5x is error; ~1.5x minus bucket width is warning";
  EXPECT_EQ(r["evidence"]["metric"], "p95");
  EXPECT_EQ(r["evidence"]["calls_over_budget"], 20);
  EXPECT_EQ(r["evidence"]["calls"], 100);
  EXPECT_NEAR(r["evidence"]["actual"].get<double>(), 150e6, 150e6 * 0.02);
  EXPECT_NE(r["title"].get<std::string>().find("20% of its 100 calls"), std::string::npos)
      << r["title"];
  EXPECT_NE(r["look_at"].get<std::string>().find("slowest 20%"), std::string::npos) << r["look_at"];
}

TEST(Recommend, OverBudgetAtTheMedianSaysTheCommonPathIsSlow) {
  Snapshot s = Period({Op("render", 100, 250'000'000)});
  Json recs = Recommend(s, {{"budgets", Budgets(100)}}, nullptr);
  auto over = OfKind(recs, "over_budget");
  ASSERT_EQ(over.size(), 1u);
  EXPECT_EQ(over[0]["severity"], "critical");
  EXPECT_NE(over[0]["look_at"].get<std::string>().find("median call"), std::string::npos);
}

TEST(Recommend, TheRunsViolationsAreUsedWhenTheReportHasThem) {
  Snapshot s = Period({Op("sort", 100, 10'000'000)});  // healthy now
  Json budgets = Budgets(100);
  budgets["violations"] = Json::array(
      {{{"operation", "sort"}, {"metric", "p95"}, {"unit", "ns"}, {"budget", 1e8},
        {"peak", 1.6e8}, {"severity", "error"}, {"windows", 4}, {"state", "resolved"}},
       {{"operation", "sort"}, {"metric", "p95"}, {"unit", "ns"}, {"budget", 1e8},
        {"peak", 1.2e8}, {"severity", "warning"}, {"windows", 2}, {"state", "resolved"}}});
  Json recs = Recommend(s, {{"budgets", budgets}}, nullptr);
  auto over = OfKind(recs, "over_budget");
  ASSERT_EQ(over.size(), 1u) << "one per operation and metric";
  EXPECT_EQ(over[0]["severity"], "error");
  EXPECT_EQ(over[0]["evidence"]["windows_over"], 6);
  EXPECT_DOUBLE_EQ(over[0]["evidence"]["actual"].get<double>(), 1.6e8);
}

TEST(Recommend, ARunOverBudgetThatNoWindowJudgedIsStillSaid) {
  // Too few calls per window to judge: no violation, but the run's p95 is over.
  Snapshot s = Period({Op("sort", 80, 10'000'000, 20, 150'000'000)});
  Json budgets = Budgets(100);
  budgets["violations"] = Json::array();
  auto over = OfKind(Recommend(s, {{"budgets", budgets}}, nullptr), "over_budget");
  ASSERT_EQ(over.size(), 1u);
  EXPECT_EQ(over[0]["evidence"]["state"], "over in the run's figures, no window judged over");
}

TEST(Recommend, ALongTailCountsItsCalls) {
  // 990 calls of 1 ms, 10 of 40 ms: p99/p50 = 40.
  Snapshot s = Period({Op("filter", 985, 1'000'000, 15, 40'000'000)});
  Json recs = Recommend(s, Json::object(), nullptr);
  auto tail = OfKind(recs, "long_tail");
  ASSERT_EQ(tail.size(), 1u) << recs.dump(1);
  EXPECT_EQ(tail[0]["evidence"]["calls_in_tail"], 15);
  EXPECT_GT(tail[0]["evidence"]["p99_over_p50"].get<double>(), 30);
  // A tight distribution, or too few calls to say, is no tail.
  EXPECT_TRUE(OfKind(Recommend(Period({Op("filter", 1000, 1'000'000, 10, 3'000'000)}),
                               Json::object(), nullptr),
                     "long_tail")
                  .empty());
  EXPECT_TRUE(OfKind(Recommend(Period({Op("filter", 50, 1'000'000, 5, 40'000'000)}),
                               Json::object(), nullptr),
                     "long_tail")
                  .empty());
}

Snapshot WithMemory(MemoryCategory c, OpStats op) {
  Snapshot s = Period({std::move(op)});
  MemorySummary m;
  m.categories = {std::move(c)};
  s.memory = m;
  return s;
}

TEST(Recommend, ALeakNamesItsSiteAndProjection) {
  MemoryCategory c;
  c.name = "render";
  c.leak_suspected = true;
  c.growth_bytes_per_s = 4096;
  c.live_bytes = 1 << 20;
  c.projected_bytes_1h = (1 << 20) + 4096.0 * 3600;
  c.leak_confidence = 0.93;
  Json report = {{"memory",
                  {{"live",
                    {{"render",
                      {{"top_sites",
                        Json::array({{{"live_bytes", 1 << 20},
                                      {"frames", Json::array({"operator new(unsigned long)+0x1c (libstdc++.so.6)",
                                                           "gridkit::Grid::render()+0x3a"})}}})}}}}}}}};
  Json recs = Recommend(WithMemory(c, Op("render", 100, 1'000'000)), report, nullptr);
  auto leak = OfKind(recs, "leak");
  ASSERT_EQ(leak.size(), 1u) << recs.dump(1);
  EXPECT_EQ(leak[0]["evidence"]["top_site"], "gridkit::Grid::render()+0x3a");
  EXPECT_DOUBLE_EQ(leak[0]["evidence"]["growth_bytes_per_s"].get<double>(), 4096);
  EXPECT_NE(leak[0]["look_at"].get<std::string>().find("gridkit::Grid::render()+0x3a"),
            std::string::npos);
  c.leak_suspected = false;
  EXPECT_TRUE(OfKind(Recommend(WithMemory(c, Op("render", 100, 1'000'000)), report, nullptr),
                     "leak")
                  .empty());
}

TEST(Recommend, AllocationHeavyOperationsGiveBytesAndAllocationsPerCall) {
  MemoryCategory c;
  c.name = "rowModelBuild";
  c.allocs = 100 * 150;
  c.alloc_bytes = 100ull * 6 * 1024 * 1024;
  c.bytes_per_s = c.alloc_bytes / 10.0;
  Json recs = Recommend(WithMemory(c, Op("rowModelBuild", 100, 10'000'000)), Json::object(),
                        nullptr);
  auto heavy = OfKind(recs, "allocation_heavy");
  ASSERT_EQ(heavy.size(), 1u) << recs.dump(1);
  EXPECT_DOUBLE_EQ(heavy[0]["evidence"]["allocs_per_call"].get<double>(), 150);
  EXPECT_DOUBLE_EQ(heavy[0]["evidence"]["bytes_per_call"].get<double>(), 6 * 1024 * 1024);
  c.allocs = 100 * 3;
  c.alloc_bytes = 100 * 4096;
  EXPECT_TRUE(OfKind(Recommend(WithMemory(c, Op("rowModelBuild", 100, 10'000'000)),
                               Json::object(), nullptr),
                     "allocation_heavy")
                  .empty());
}

TEST(Recommend, ARisingTrendCarriesItsForecast) {
  Json budgets = Budgets(100);
  budgets["predictions"] = Json::array(
      {{{"operation", "sort"}, {"metric", "p95"}, {"unit", "ns"}, {"budget", 1e8},
        {"actual", 7e7}, {"slope_per_s", 1e5}, {"eta_s", 300.0},
        {"crosses_at", "2026-12-04T10:05:00.000Z"}, {"r_squared", 0.97}, {"confidence", "high"}}});
  Json recs = Recommend(Period({Op("sort", 100, 70'000'000)}), {{"budgets", budgets}}, nullptr);
  auto trend = OfKind(recs, "rising_trend");
  ASSERT_EQ(trend.size(), 1u) << recs.dump(1);
  EXPECT_DOUBLE_EQ(trend[0]["evidence"]["eta_s"].get<double>(), 300);
  EXPECT_NE(trend[0]["title"].get<std::string>().find("2026-12-04T10:05:00.000Z"),
            std::string::npos);
}

TEST(Recommend, AProbeDearForItsOperationSuggestsTheCheaperMode) {
  Snapshot s = Period({Op("paginate", 1000, 8'000), Op("sort", 1000, 5'000'000)});
  ProbeCost cost = [](const std::string&) { return std::optional<double>(2'000); };
  Json recs = Recommend(s, Json::object(), cost);
  auto probe = OfKind(recs, "expensive_probe");
  ASSERT_EQ(probe.size(), 1u) << "only where the probe is a real share: " << recs.dump(1);
  EXPECT_EQ(probe[0]["evidence"]["probe_ns_per_call"], 2000.0);
  EXPECT_EQ(probe[0]["severity"], "warning");  // 25% of the mean
  EXPECT_NE(probe[0]["look_at"].get<std::string>().find("--return-mode"), std::string::npos);
  ProbeCost unknown = [](const std::string&) { return std::optional<double>(); };
  EXPECT_TRUE(OfKind(Recommend(s, Json::object(), unknown), "expensive_probe").empty());
}

TEST(Recommend, MostSevereFirst) {
  MemoryCategory c;
  c.name = "render";
  c.allocs = 100 * 500;
  c.alloc_bytes = 100 * 4096;
  Snapshot s = WithMemory(c, Op("render", 100, 250'000'000));
  Json recs = Recommend(s, {{"budgets", Budgets(100)}}, nullptr);
  ASSERT_GE(recs.size(), 2u);
  EXPECT_EQ(recs[0]["kind"], "over_budget");
  EXPECT_EQ(recs.back()["kind"], "allocation_heavy");
}

TEST(Recommend, TheAnalyzerAddsTheSectionFromTheOtherSections) {
  RecommendationsAnalyzer a(nullptr);
  Json report = {{"budgets", Budgets(100)}};
  a.AddToReport(Period({Op("sort", 100, 250'000'000)}), &report);
  ASSERT_TRUE(report["recommendations"].is_array());
  EXPECT_EQ(report["recommendations"][0]["kind"], "over_budget");
}

}  // namespace
}  // namespace gridprobe::recommendations
