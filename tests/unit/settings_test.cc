#include "userspace/cli/settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/status.h"

namespace gridprobe {
namespace {

namespace fs = std::filesystem;

const std::string kPresetsDir = GRIDPROBE_TEST_PRESETS_DIR;
const std::string kTargetsDir = std::string(GRIDPROBE_TESTS_DIR) + "/targets";

class SettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           (std::string("settings_") +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }

  std::string File(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  // Parses `gridprobe attach ARGS...` and resolves its settings.
  absl::StatusOr<Settings> Attach(std::vector<std::string> args) {
    CLI::App app;
    CLI::App* attach = app.add_subcommand("attach");
    attach->add_option("pid", pid_);
    AddProfileFlags(attach, &flags_);
    args.insert(args.begin(), "attach");
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    app.parse(args);
    return ResolveSettings(flags_);
  }

  // The presets' names as loaded, in op-id order.
  std::vector<std::string> Loaded(const Settings& s) {
    absl::StatusOr<std::vector<symbols::LibraryPreset>> presets =
        LoadLibraryPresets(s, {kPresetsDir});
    EXPECT_TRUE(presets.ok()) << presets.status();
    std::vector<std::string> names;
    if (presets.ok()) {
      for (const symbols::LibraryPreset& p : *presets) names.push_back(p.name);
    }
    return names;
  }

  fs::path dir_;
  ProfileFlags flags_;
  std::string pid_;
};

TEST_F(SettingsTest, WithoutFileOrFlagTheDefaultPresetIsGridkit) {
  absl::StatusOr<Settings> s = Attach({"42"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->presets, std::vector<std::string>{"gridkit"});
}

TEST_F(SettingsTest, PrometheusFlagOverridesTheFileAndAllowRemoteFromEither) {
  absl::StatusOr<Settings> none = Attach({"42"});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->prometheus_listen, "");
  const std::string file =
      File("g.yaml", "exporters:\n  prometheus:\n    listen: 0.0.0.0:9100\n    allow_remote: true\n");
  absl::StatusOr<Settings> from_file = Attach({"42", "--config", file});
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->prometheus_listen, "0.0.0.0:9100");
  EXPECT_TRUE(from_file->prometheus_allow_remote);
  EXPECT_EQ(from_file->prometheus_setting, "exporters.prometheus.listen (" + file + ")");
  flags_ = ProfileFlags();
  absl::StatusOr<Settings> flag = Attach({"42", "--prometheus", "127.0.0.1:9999"});
  ASSERT_TRUE(flag.ok()) << flag.status();
  EXPECT_EQ(flag->prometheus_listen, "127.0.0.1:9999");
  EXPECT_FALSE(flag->prometheus_allow_remote);
  EXPECT_EQ(flag->prometheus_setting, "--prometheus");
}

TEST_F(SettingsTest, ScheduledReportsFromTheFileEachFlagOverridingItsKey) {
  const std::string file = File(
      "g.yaml", "reports:\n  dir: /tmp/gp-reports\n  every: 5m\n  formats: [json, csv]\n"
                "  keep: 48\n  max_age: 7d\n");
  absl::StatusOr<Settings> s = Attach({"42", "--config", file});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->report_dir, "/tmp/gp-reports");
  EXPECT_EQ(s->report_every, absl::Minutes(5));
  EXPECT_EQ(s->report_format, "json,csv");
  EXPECT_EQ(s->report_keep, 48);
  EXPECT_EQ(s->report_max_age, absl::Hours(7 * 24));
  flags_ = ProfileFlags();
  s = Attach({"42", "--config", file, "--report-keep", "3", "--report-every", "10s"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->report_keep, 3);
  EXPECT_EQ(s->report_every, absl::Seconds(10));
  EXPECT_EQ(s->report_max_age, absl::Hours(7 * 24)) << "the file's, not given on the line";

  flags_ = ProfileFlags();
  s = Attach({"42", "--report-dir", "/tmp/x", "--report-keep", "many"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "--report-keep 'many' is not a count of reports (0 or more; 0 keeps all)");
  EXPECT_EQ(ExitCodeOf(s.status()), ExitCode::kUsage);
  flags_ = ProfileFlags();
  s = Attach({"42", "--report-every", "5m"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("need --report-dir"), std::string::npos) << s.status();
}

TEST_F(SettingsTest, EveryPresetOfTheFilesListIsProfiled) {
  const std::string config = File("g.yaml", "presets: [sqlite, glibc-malloc]\n");
  absl::StatusOr<Settings> s = Attach({"42", "--config", config});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->presets, (std::vector<std::string>{"sqlite", "glibc-malloc"}));
  EXPECT_EQ(Loaded(*s), (std::vector<std::string>{"sqlite", "glibc-malloc"}));
}

TEST_F(SettingsTest, RepeatedPresetFlagsReplaceTheFilesListAsAWhole) {
  const std::string config = File("g.yaml", "presets: [gridkit, sqlite]\n");
  // Each --preset takes one value: the pid after it stays the pid.
  absl::StatusOr<Settings> s =
      Attach({"--config", config, "--preset", "glibc-malloc", "--preset", "sqlite", "42"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(pid_, "42");
  EXPECT_EQ(s->presets, (std::vector<std::string>{"glibc-malloc", "sqlite"}));
  EXPECT_EQ(Loaded(*s), (std::vector<std::string>{"glibc-malloc", "sqlite"}));

  s = Attach({"--config", config, "--preset", "glibc-malloc", "42"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->presets, std::vector<std::string>{"glibc-malloc"});
}

TEST_F(SettingsTest, AnOperationNameInTwoPresetsIsRefusedNamingBoth) {
  // Both test presets call their operation "work".
  const std::string c_target = kTargetsDir + "/c_target.yaml";
  const std::string dlopen_target = kTargetsDir + "/dlopen_target.yaml";
  absl::StatusOr<Settings> s = Attach({"42", "--preset", c_target, "--preset", dlopen_target});
  ASSERT_TRUE(s.ok()) << s.status();
  absl::StatusOr<std::vector<symbols::LibraryPreset>> presets =
      LoadLibraryPresets(*s, {kPresetsDir});
  ASSERT_FALSE(presets.ok());
  EXPECT_EQ(ExitCodeOf(presets.status()), ExitCode::kBadInput);
  EXPECT_EQ(presets.status().message(),
            "operation 'work' is in both library presets 'c_target' (" + c_target +
                ") and 'dlopen_target' (" + dlopen_target +
                "); the report, budgets and alerts name operations, so the presets of one run "
                "must not share a name: rename it in a copy of one preset and give that file");
}

TEST_F(SettingsTest, MoreOperationsThanTheKernelSideHoldsAreRefused) {
  // 5 (sqlite) + 60 operations: one over ProbeSession::kMaxOperations.
  std::string yaml = "name: wide\nlibrary: {match: libwide.so}\noperations:\n";
  for (int i = 0; i < 60; ++i) {
    yaml += "  - {name: op" + std::to_string(i) + ", symbols: f" + std::to_string(i) + "}\n";
  }
  const std::string wide = File("wide.yaml", yaml);
  const std::string config = File("g.yaml", "presets: [sqlite, ./wide.yaml]\n");
  absl::StatusOr<Settings> s = Attach({"42", "--config", config});
  ASSERT_TRUE(s.ok()) << s.status();
  absl::StatusOr<std::vector<symbols::LibraryPreset>> presets =
      LoadLibraryPresets(*s, {kPresetsDir});
  ASSERT_FALSE(presets.ok());
  EXPECT_EQ(ExitCodeOf(presets.status()), ExitCode::kBadInput);
  EXPECT_EQ(presets.status().message(),
            "the library presets name 65 operations (sqlite 5, wide 60); gridprobe times at "
            "most 64 per run: profile fewer presets at once, or fewer operations in a copy of "
            "one");
}

TEST(AlertFlag, SentryTakesTheDsnAsItsUrl) {
  absl::StatusOr<alerts::DestinationOptions> d =
      ParseAlertFlag("sentry=https://abc123key@o42.ingest.us.sentry.io/4500000000000001");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->keys.at("dsn"), "https://abc123key@o42.ingest.us.sentry.io/4500000000000001");
  EXPECT_TRUE(d->url.empty());
  absl::StatusOr<alerts::DestinationOptions> bad =
      ParseAlertFlag("sentry=https://abc123key@o42.ingest.us.sentry.io/");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("no project id"));
  EXPECT_THAT(std::string(bad.status().message()), ::testing::Not(::testing::HasSubstr("abc123key")));
  EXPECT_FALSE(ParseAlertFlag("datadog=https://api.datadoghq.com").ok());  // needs the file's keys
}

}  // namespace
}  // namespace gridprobe
