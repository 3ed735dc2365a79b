#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "userspace/model/histogram.h"
#include "userspace/sinks/reports/csv.h"
#include "userspace/sinks/reports/html.h"
#include "userspace/sinks/reports/reports_sink.h"

namespace gridprobe::reports {
namespace {

Snapshot Window(int64_t index, uint64_t base_ns, int calls) {
  Histogram h;
  for (int i = 0; i < calls; ++i) h.Record(base_ns + static_cast<uint64_t>(i) * 1000);
  Snapshot s;
  s.target = {42, "demo, \"x\"", "/bin/demo"};
  s.start = absl::FromUnixSeconds(1'800'000'000 + index);
  s.end = s.start + absl::Seconds(1);
  s.index = index;
  s.ops.push_back(MakeOpStats({"sort", "Grid::sort", "/lib/g.so", Impact::kUserVisible, "g", ""}, h, 1));
  return s;
}

TEST(CsvTest, QuotesPerRfc4180) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
}

TEST(PeriodBuilderTest, MergesWindowsExactly) {
  PeriodBuilder p;
  p.AddWindow(Window(0, 1'000'000, 10));
  p.AddWindow(Window(1, 5'000'000, 30));
  Snapshot period = p.Period();
  ASSERT_EQ(period.ops.size(), 1u);
  EXPECT_EQ(period.ops[0].calls, 40u);
  EXPECT_EQ(period.ops[0].min_ns, 1'000'000u);
  nlohmann::json r = p.Report();
  EXPECT_EQ(r["schema"], "gridprobe.report/1");
  ASSERT_EQ(r["windows"].size(), 2u);
  EXPECT_EQ(r["windows"][1]["operations"][0]["calls"], 30);
  EXPECT_FALSE(r["operations"][0]["histogram"].empty());
  std::string csv = OperationsCsv(r);
  EXPECT_NE(csv.find("\r\n1,"), std::string::npos) << csv;
}

TEST(HtmlTest, SelfContainedWithCharts) {
  PeriodBuilder p;
  for (int i = 0; i < 5; ++i) p.AddWindow(Window(i, 1'000'000, 20));
  std::string html = RenderHtml(p.Report());
  EXPECT_NE(html.find("<svg class=\"chart latency\""), std::string::npos);
  EXPECT_NE(html.find("<svg class=\"chart histogram\""), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);
}

TEST(ReportsSinkTest, WritesPeriodsRunAndKeepsLatest) {
  std::string dir = ::testing::TempDir() + "/reports_sink_test";
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(CheckReportDir(dir).ok());
  ReportsOptions o;
  o.dir = dir;
  o.every = absl::Seconds(2);
  o.formats = {"json", "csv", "html"};
  o.keep = 2;
  ReportsSink sink(o);
  for (int i = 0; i < 7; ++i) sink.OnWindow(Window(i, 1'000'000, 5));
  sink.Drain();
  Snapshot run = Window(0, 1'000'000, 35);
  run.end = run.start + absl::Seconds(7);
  ASSERT_TRUE(sink.OnRunEnd(run, nlohmann::json{{"schema", "gridprobe.report/1"}}).ok());
  int json = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".json" && !e.is_symlink()) ++json;
  }
  EXPECT_EQ(json, 2);  // keep: 2 of 4 periods + the run
  std::error_code ec;
  EXPECT_TRUE(std::filesystem::is_symlink(dir + "/latest.html", ec));
  EXPECT_NE(std::filesystem::read_symlink(dir + "/latest.json").string().find("-run.json"),
            std::string::npos);
}

}  // namespace
}  // namespace gridprobe::reports
