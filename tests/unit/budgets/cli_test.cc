#include "userspace/cli/presets_commands.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace gridprobe::budgets {
namespace {

namespace fs = std::filesystem;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           (std::string("cli_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }

  std::string File(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  std::string Report(uint64_t sort_p95_ns) {
    nlohmann::json j = {
        {"schema", "gridprobe.report/1"},
        {"target", {{"pid", 1}, {"comm", "demo"}, {"exe", "/demo"}}},
        {"window", {{"start", "2025-01-01T12:00:00Z"}, {"end", "2025-01-01T12:01:00Z"}}},
        {"operations",
         {{{"name", "sort"},
           {"impact", "userVisible"},
           {"calls", 500},
           {"p50_ns", 1000000},
           {"p95_ns", sort_p95_ns},
           {"p99_ns", sort_p95_ns},
           {"max_ns", sort_p95_ns}},
          {{"name", "filter"}, {"calls", 3}, {"p95_ns", 900000000}}}},
    };
    return File("report.json", j.dump());
  }

  PresetCatalog catalog_{{GRIDPROBE_TEST_PRESETS_DIR}};
  std::ostringstream out_, err_;
  fs::path dir_;
};

TEST_F(CliTest, PresetsList) {
  EXPECT_EQ(PresetsList(catalog_, out_), 0);
  EXPECT_NE(out_.str().find("  interactive  User-facing operations; respond within 100 ms.\n"),
            std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("  rendering    Per-frame work at 60 Hz"), std::string::npos);
}

TEST_F(CliTest, PresetsShowPrintsTheResolvedPreset) {
  std::string mine = File("mine.yaml", "name: mine\nextends: interactive\ndefault: {p95: 80ms}\n");
  EXPECT_EQ(PresetsShow(mine, catalog_, out_, err_), 0) << err_.str();
  EXPECT_EQ(out_.str(), "# budget preset 'mine' from " + mine +
                            ", with everything it extends resolved\n"
                            "name: \"mine\"\n"
                            "severities:\n  warning: 1\n  error: 1.5\n  critical: 2\n"
                            "default:\n  p50: 50ms\n  p95: 80ms\n  p99: 200ms\n  max: 1s\n");
}

TEST_F(CliTest, PresetsShowUnknown) {
  EXPECT_EQ(PresetsShow("interactiv", catalog_, out_, err_), 8);
  EXPECT_EQ(err_.str(),
            "gridprobe: unknown budget preset 'interactiv'; did you mean 'interactive'? (known: "
            "background, interactive, relaxed, rendering, strict)\n");
}

TEST_F(CliTest, PresetsValidate) {
  std::string good = File("good.yaml", "extends: strict\noperations:\n  sort: {p95: 5ms}\n");
  EXPECT_EQ(PresetsValidate(good, catalog_, out_, err_), 0);
  EXPECT_EQ(out_.str(),
            good + ": ok: budget preset '" + good + "', 1 operation with own budgets\n");
  std::string bad = File("bad.yaml", "extends: strict\ndefault:\n  p95: 5 ms\n");
  EXPECT_EQ(PresetsValidate(bad, catalog_, out_, err_), 8);
  EXPECT_EQ(err_.str(), "gridprobe: " + bad +
                            ":3:8: 'default.p95': expected a duration such as 250ms, 1.5s, 2m "
                            "or 1h, got '5 ms'\n");
  err_.str("");
  EXPECT_EQ(PresetsValidate((dir_ / "none.yaml").string(), catalog_, out_, err_), 3);
}

TEST_F(CliTest, BudgetsCheckPasses) {
  std::string report = Report(50'000'000);
  EXPECT_EQ(BudgetsCheck(report, "interactive", 20, false, catalog_, out_, err_), 0);
  EXPECT_EQ(out_.str(),
            "budgets check: passed: 0 violations (worst: ok) of budget preset 'interactive'; 1 of "
            "2 operations judged (others have no budget or fewer than 20 calls)\n");
}

TEST_F(CliTest, BudgetsCheckFailsOnError) {
  std::string report = Report(150'000'000);
  EXPECT_EQ(BudgetsCheck(report, "interactive", 20, false, catalog_, out_, err_), 1);
  EXPECT_EQ(out_.str(),
            "gridprobe: budget error: sort p95 150 ms over its 100 ms budget (1.50x, error, "
            "userVisible) for 1 window since 2025-01-01T12:00:00.000Z\n"
            "budgets check: FAILED: 1 violation (worst: error) of budget preset 'interactive'; 1 "
            "of 2 operations judged (others have no budget or fewer than 20 calls)\n");
}

TEST_F(CliTest, BudgetsCheckWarningPasses) {
  std::string report = Report(120'000'000);
  EXPECT_EQ(BudgetsCheck(report, "interactive", 20, false, catalog_, out_, err_), 0);
}

TEST_F(CliTest, BudgetsCheckJson) {
  std::string report = Report(250'000'000);
  EXPECT_EQ(BudgetsCheck(report, "interactive", 1, true, catalog_, out_, err_), 1);
  nlohmann::json j = nlohmann::json::parse(out_.str());
  EXPECT_EQ(j["preset"], "interactive");
  // sort's p95 and p99, and with min_calls 1 filter's p95 too.
  ASSERT_EQ(j["violations"].size(), 3u);
  EXPECT_EQ(j["violations"][0]["severity"], "critical");
  EXPECT_EQ(j["violations"][2]["operation"], "filter");
}

TEST_F(CliTest, BudgetsCheckBadInput) {
  EXPECT_EQ(BudgetsCheck((dir_ / "missing.json").string(), "interactive", 20, false, catalog_, out_,
                         err_),
            3);
  std::string broken = File("broken.json", "{\"schema\": \n  nope}");
  err_.str("");
  EXPECT_EQ(BudgetsCheck(broken, "interactive", 20, false, catalog_, out_, err_), 8);
  EXPECT_EQ(err_.str().rfind("gridprobe: " + broken + ":2:4: invalid JSON: ", 0), 0u) << err_.str();
  std::string other = File("other.json", "{\"schema\": \"x\"}");
  err_.str("");
  EXPECT_EQ(BudgetsCheck(other, "interactive", 20, false, catalog_, out_, err_), 8);
  EXPECT_EQ(err_.str(), "gridprobe: " + other +
                            ": schema: expected \"gridprobe.report/1\"; is this a gridprobe "
                            "report?\n");
  err_.str("");
  EXPECT_EQ(BudgetsCheck(Report(1), "nope", 20, false, catalog_, out_, err_), 8);
}

TEST_F(CliTest, CommandsAreRegistered) {
  std::string report = Report(150'000'000);
  ASSERT_EQ(setenv("GRIDPROBE_PRESETS_DIR", GRIDPROBE_TEST_PRESETS_DIR, 1), 0);
  CLI::App app;
  int exit_code = -1;
  AddBudgetCommands(app, &exit_code);
  testing::internal::CaptureStdout();
  app.parse("budgets check " + report + " --budgets interactive", false);
  std::string out = testing::internal::GetCapturedStdout();
  unsetenv("GRIDPROBE_PRESETS_DIR");
  EXPECT_EQ(exit_code, 1);
  EXPECT_NE(out.find("budgets check: FAILED"), std::string::npos) << out;

  CLI::App app2;
  AddBudgetCommands(app2, &exit_code);
  testing::internal::CaptureStdout();
  app2.parse("presets list", false);
  out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(exit_code, 0);
  EXPECT_NE(out.find("strict"), std::string::npos);
}

}  // namespace
}  // namespace gridprobe::budgets
