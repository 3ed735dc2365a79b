#include "userspace/analyzers/budgets/budget_set.h"

#include <gtest/gtest.h>

#include "userspace/presets/budget_preset.h"

namespace gridprobe::budgets {
namespace {

constexpr int kP95 = static_cast<int>(Metric::kP95);
constexpr int kP99 = static_cast<int>(Metric::kP99);
constexpr int kMax = static_cast<int>(Metric::kMax);
constexpr int kLive = static_cast<int>(Metric::kLiveBytes);

BudgetSet Sample() {
  BudgetSet set;
  set.name = "sample";
  set.description = "for tests";
  set.defaults[kP95] = 100e6;
  set.defaults[kMax] = 1e9;
  set.operations["sort"].limits[kP95] = 16.7e6;
  set.operations["sort"].limits[kLive] = 65536;
  set.operations["save"].limits[kMax] = kNoLimit;
  set.operations["save"].impact = Impact::kBackground;
  return set;
}

TEST(BudgetSetTest, OperationLimitsOverrideTheDefault) {
  BudgetSet set = Sample();
  EXPECT_EQ(set.LimitFor("sort", Metric::kP95), 16.7e6);
  EXPECT_EQ(set.LimitFor("sort", Metric::kMax), 1e9);           // default
  EXPECT_EQ(set.LimitFor("filter", Metric::kP95), 100e6);       // no entry: default
  EXPECT_EQ(set.LimitFor("save", Metric::kMax), std::nullopt);  // "none"
  EXPECT_EQ(set.LimitFor("filter", Metric::kP99), std::nullopt);
  EXPECT_EQ(set.LimitFor("sort", Metric::kLiveBytes), 65536);
}

TEST(BudgetSetTest, Json) {
  nlohmann::json j = Sample().ToJson();
  EXPECT_EQ(j["name"], "sample");
  EXPECT_EQ(j["default"]["p95_ns"], 100e6);
  EXPECT_FALSE(j["default"].contains("p99_ns"));
  EXPECT_EQ(j["operations"]["sort"]["live_bytes"], 65536);
  EXPECT_TRUE(j["operations"]["save"]["max_ns"].is_null());
  EXPECT_EQ(j["operations"]["save"]["impact"], "background");
  EXPECT_EQ(j["severities"]["error"], 1.5);
}

TEST(BudgetSetTest, YamlReadsBackAsTheSameSet) {
  BudgetSet set = Sample();
  set.severities.error = 1.25;
  set.defaults[static_cast<int>(Metric::kCallsPerS)] = 1234567.5;
  std::string yaml = set.ToYaml();
  absl::StatusOr<BudgetSet> back = ParseBudgetSet(yaml, "back.yaml", PresetCatalog({}));
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << yaml;
  EXPECT_EQ(back->ToJson().dump(), [&] {
    nlohmann::json j = set.ToJson();
    j["source"] = "back.yaml";
    return j.dump();
  }()) << yaml;
}

}  // namespace
}  // namespace gridprobe::budgets
