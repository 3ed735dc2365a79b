#include "truth.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace gridkit_demo {
namespace {

TEST(NearestRankTest, Definition) {
  std::vector<uint64_t> v = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
  EXPECT_EQ(NearestRank(v, 0.50), 50u);   // ceil(5) - 1 = 4
  EXPECT_EQ(NearestRank(v, 0.95), 100u);  // ceil(9.5) - 1 = 9
  EXPECT_EQ(NearestRank(v, 0.91), 100u);
  EXPECT_EQ(NearestRank(v, 0.90), 90u);
  EXPECT_EQ(NearestRank(v, 0.01), 10u);
  EXPECT_EQ(NearestRank({7}, 0.99), 7u);
}

TEST(MergeStatsTest, MergesThreadsAndKeepsThrownApart) {
  std::vector<ThreadSamples> threads(2);
  threads[0][Index(Op::kSort)].latencies_ns = {300, 100};
  threads[0][Index(Op::kSort)].thrown = 2;
  threads[0][Index(Op::kSort)].slowed = 1;
  threads[1][Index(Op::kSort)].latencies_ns = {200, 400};
  threads[1][Index(Op::kSort)].thrown = 1;
  threads[1][Index(Op::kSort)].slowed = 2;
  LatencyStats s = MergeStats(threads, Op::kSort);
  EXPECT_EQ(s.calls, 4u);
  EXPECT_EQ(s.thrown, 3u);
  EXPECT_EQ(s.slowed, 3u);
  EXPECT_EQ(s.total_ns, 1000u);
  EXPECT_EQ(s.mean_ns, 250);
  EXPECT_EQ(s.min_ns, 100u);
  EXPECT_EQ(s.max_ns, 400u);
  EXPECT_EQ(s.p50_ns, 200u);
  EXPECT_EQ(s.p95_ns, 400u);
  EXPECT_EQ(s.p99_ns, 400u);

  LatencyStats none = MergeStats(threads, Op::kGroup);
  EXPECT_EQ(none.calls, 0u);
  EXPECT_EQ(none.slowed, 0u);
  EXPECT_EQ(none.p50_ns, 0u);
}

TEST(TruthJsonTest, HasEveryOperationAndTotals) {
  RunFacts facts;
  facts.pid = 42;
  facts.threads = 2;
  facts.rows = 100;
  facts.elapsed_s = 1.5;
  facts.ops[Index(Op::kSort)].calls = 5;
  facts.ops[Index(Op::kSort)].thrown = 2;
  facts.ops[Index(Op::kSort)].slowed = 3;
  facts.ops[Index(Op::kRender)].calls = 7;
  facts.memory[Index(Op::kRender)].leaked_bytes = 4096;
  facts.memory[Index(Op::kRender)].leaked_allocs = 1;
  nlohmann::json j = TruthJson(facts);
  EXPECT_EQ(j["schema"], "gridkit.truth/1");
  EXPECT_EQ(j["pid"], 42);
  EXPECT_EQ(j["ops_total"], 12);
  EXPECT_EQ(j["thrown_total"], 2);
  for (std::string_view op : kOpNames) {
    const nlohmann::json& o = j["operations"][std::string(op)];
    for (const char* key : {"calls", "slowed", "thrown", "mean_ns", "min_ns", "max_ns", "p50_ns",
                            "p95_ns", "p99_ns", "total_ns"}) {
      EXPECT_TRUE(o.contains(key)) << op << "." << key;
    }
    const nlohmann::json& m = j["memory"][std::string(op)];
    for (const char* key :
         {"leaked_bytes", "leaked_allocs", "cache_live_bytes", "cache_live_allocs"}) {
      EXPECT_TRUE(m.contains(key)) << op << "." << key;
    }
  }
  EXPECT_EQ(j["operations"]["sort"]["thrown"], 2);
  EXPECT_EQ(j["operations"]["sort"]["slowed"], 3);
  EXPECT_EQ(j["operations"]["render"]["slowed"], 0);
  EXPECT_EQ(j["memory"]["render"]["leaked_bytes"], 4096);
}

TEST(WriteFileAtomicallyTest, ReplacesWholeFile) {
  std::string path = ::testing::TempDir() + "truth_test_" + std::to_string(getpid()) + ".json";
  ASSERT_TRUE(WriteFileAtomically(path, "first, longer contents\n").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second\n").ok());
  std::ifstream in(path);
  std::stringstream read;
  read << in.rdbuf();
  EXPECT_EQ(read.str(), "second\n");
  std::remove(path.c_str());
  EXPECT_FALSE(WriteFileAtomically("/nonexistent-dir/x.json", "x").ok());
}

}  // namespace
}  // namespace gridkit_demo
