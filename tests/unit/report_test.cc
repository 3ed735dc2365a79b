#include "userspace/sinks/report_json.h"

#include "base/files.h"
#include "userspace/sinks/console_table.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "base/status.h"

namespace gridprobe {
namespace {

Snapshot Sample() {
  Histogram h;
  for (uint64_t v : {1000000, 2000000, 3000000, 4000000}) h.Record(v);
  Snapshot s;
  s.target = {42, "demo", "/usr/bin/demo"};
  s.start = absl::FromUnixSeconds(1000);
  s.end = absl::FromUnixSeconds(1002);
  s.ops.push_back(MakeOpStats(
      {"sort", "grid::sort", "/lib/libgrid.so", Impact::kUserVisible, "grid", ""}, h, s.seconds()));
  return s;
}

TEST(MakeOpStats, FromAWindowHistogram) {
  const Snapshot s = Sample();
  const OpStats& op = s.ops[0];
  EXPECT_EQ(op.calls, 4u);
  EXPECT_DOUBLE_EQ(op.calls_per_s, 2.0);
  EXPECT_DOUBLE_EQ(op.mean_ns, 2500000.0);
  EXPECT_EQ(op.min_ns, 1000000u);
  EXPECT_EQ(op.max_ns, 4000000u);
  EXPECT_NEAR(static_cast<double>(op.p50_ns), 2000000.0, 2000000 * 0.008);
  EXPECT_EQ(op.total_ns, 10000000u);
}

TEST(ReportJson, HasTheDocumentedSchema) {
  nlohmann::json r = ReportJson(Sample(), {3, 12});
  EXPECT_EQ(r["schema"], "gridprobe.report/1");
  EXPECT_EQ(r["target"]["pid"], 42);
  EXPECT_EQ(r["target"]["comm"], "demo");
  EXPECT_EQ(r["window"]["start"], "1970-01-01T00:16:40.000Z");
  EXPECT_EQ(r["window"]["seconds"], 2.0);
  EXPECT_EQ(r["probes"]["missed_hits"], 3);
  const auto& op = r["operations"][0];
  for (const char* key : {"name", "symbol", "module", "calls", "mean_ns", "min_ns", "max_ns",
                          "p50_ns", "p95_ns", "p99_ns", "total_ns"}) {
    EXPECT_TRUE(op.contains(key)) << key;
  }
  EXPECT_EQ(op["impact"], "userVisible");
  EXPECT_EQ(op["module"], "/lib/libgrid.so");
  EXPECT_EQ(op["preset"], "grid");
}

TEST(RenderTable, OneRowPerOperationAndLossesWhenAny) {
  std::string t = RenderTable(Sample(), {0, 12});
  EXPECT_NE(t.find("sort                     4       2.0    2.50 ms"), std::string::npos) << t;
  EXPECT_EQ(t.find("missed"), std::string::npos);
  t = RenderTable(Sample(), {5, 12});
  EXPECT_NE(t.find("missed probe hits: 5"), std::string::npos) << t;
}

}  // namespace
}  // namespace gridprobe
