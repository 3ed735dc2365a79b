#include "userspace/cli/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/match.h"
#include "base/status.h"

namespace gridprobe::config {
namespace {

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "presets" / "libraries");
    Write("presets/libraries/gridkit.yaml", "name: gridkit\ndescription: the demo library\n");
  }

  void Write(const std::string& name, const std::string& text) {
    fs::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name) << text;
  }

  absl::StatusOr<Config> Parse(const std::string& text) {
    budgets::PresetCatalog catalog({(dir_ / "presets").string(), GRIDPROBE_TEST_PRESETS_DIR});
    EnvLookup env = [](absl::string_view name) -> std::optional<std::string> {
      if (name == "REPORT_DIR") return "/var/reports";
      if (name == "TOKEN") return "tok-123";
      return std::nullopt;
    };
    return ParseConfig(text, (dir_ / "g.yaml").string(), catalog, env);
  }

  // The message without the "<dir>/" prefix of the file name.
  std::string Error(const std::string& text) {
    absl::StatusOr<Config> config = Parse(text);
    if (config.ok()) return "no error";
    EXPECT_EQ(ExitCodeOf(config.status()), ExitCode::kBadInput);
    std::string message(config.status().message());
    std::string prefix = dir_.string() + "/";
    if (message.rfind(prefix, 0) == 0) message = message.substr(prefix.size());
    return message;
  }

  fs::path dir_;
};

TEST_F(ConfigTest, EmptyFileMeansDefaults) {
  absl::StatusOr<Config> config = Parse("# nothing set\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->presets, std::vector<std::string>{"gridkit"});
  EXPECT_EQ(config->budgets, "");
  EXPECT_EQ(config->memory, MemoryMode::kOff);
  EXPECT_FALSE(config->interval.has_value());
  EXPECT_EQ(DefaultInterval(false), absl::Seconds(1));
  EXPECT_EQ(DefaultInterval(true), absl::Seconds(10));
  EXPECT_EQ(config->duration, absl::ZeroDuration());
  EXPECT_EQ(config->budget_options.min_calls, 20);
  EXPECT_TRUE(config->alerts.empty());
}

TEST_F(ConfigTest, ReadsEverySetting) {
  Write("mine.yaml", "extends: interactive\ndefault: {p95: 80ms}\n");
  absl::StatusOr<Config> config = Parse(R"(
presets: [gridkit, ./extra/lib.yaml]
budgets: ./mine.yaml
memory: ops
interval: 250ms
duration: 2m
report:
  json: ${REPORT_DIR}/run.json
budget_options:
  min_calls: 5
  open_after: 3
  resolve_after: 4
  horizon: 30m
  severities: {warning: 1.1, error: 1.3, critical: 1.8}
alerts:
  - type: console
max_threads: 512
debug_dir: debug
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->presets,
            (std::vector<std::string>{"gridkit", (dir_ / "extra/lib.yaml").string()}));
  EXPECT_EQ(config->budgets, (dir_ / "mine.yaml").string());
  EXPECT_EQ(config->memory, MemoryMode::kOps);
  EXPECT_EQ(config->interval, absl::Milliseconds(250));
  EXPECT_EQ(config->duration, absl::Minutes(2));
  EXPECT_EQ(config->report_json, "/var/reports/run.json");
  EXPECT_EQ(config->budget_options.min_calls, 5);
  EXPECT_EQ(config->budget_options.open_after, 3);
  EXPECT_EQ(config->budget_options.resolve_after, 4);
  EXPECT_EQ(config->budget_options.horizon, absl::Minutes(30));
  ASSERT_TRUE(config->budget_options.severities.has_value());
  EXPECT_EQ(config->budget_options.severities->error, 1.3);
  EXPECT_EQ(config->max_threads, 512);
  EXPECT_EQ(config->debug_dir, (dir_ / "debug").string());
}

TEST_F(ConfigTest, BuiltInBudgetPresetByName) {
  absl::StatusOr<Config> config = Parse("budgets: interactive\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->budgets, "interactive");
}

TEST_F(ConfigTest, UnknownKeys) {
  EXPECT_EQ(Error("interval: 1s\nintervall: 2s\n"),
            "g.yaml:2:1: unknown key 'intervall'; did you mean 'interval'?");
  EXPECT_EQ(Error("budget_options:\n  min_call: 3\n"),
            "g.yaml:2:3: unknown key 'min_call' in 'budget_options'; did you mean 'min_calls'?");
  EXPECT_EQ(Error("colour: red\n"),
            "g.yaml:1:1: unknown key 'colour' (expected one of: presets, budgets, memory, "
            "interval, duration, report, budget_options, alerts, max_threads, debug_dir, events_jsonl, "
            "exporters, reports)");
}

TEST_F(ConfigTest, ScheduledReports) {
  absl::StatusOr<Config> c = Parse(
      "reports:\n  dir: out\n  every: 5m\n  formats: [json, html]\n  keep: 48\n"
      "  max_age: 168h\n");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->reports.has_value());
  EXPECT_TRUE(absl::EndsWith(c->reports->dir, "/out")) << "relative to the file: " << c->reports->dir;
  EXPECT_EQ(c->reports->every, absl::Minutes(5));
  EXPECT_EQ(c->reports->formats, "json,html");
  EXPECT_EQ(c->reports->keep, 48);
  EXPECT_EQ(c->reports->max_age, absl::Hours(168));
  absl::StatusOr<Config> comma = Parse("reports:\n  dir: /tmp/r\n  formats: csv,json\n");
  ASSERT_TRUE(comma.ok()) << comma.status();
  EXPECT_EQ(comma->reports->formats, "csv,json");
  EXPECT_FALSE(Parse("interval: 1s\n")->reports.has_value());

  EXPECT_EQ(Error("reports:\n  every: 5m\n"),
            "g.yaml:2:3: 'reports': 'dir' is required (where the reports go)");
  EXPECT_EQ(Error("reports:\n  dir: /tmp/r\n  formats: [json, pdf]\n"),
            "g.yaml:3:12: 'reports.formats': unknown report format 'pdf' (known: json, csv, html)");
  EXPECT_THAT(Error("reports:\n  dir: /tmp/r\n  keep: -1\n"), ::testing::StartsWith("g.yaml:3:9: "));
  EXPECT_EQ(Error("reports:\n  dir: /tmp/r\n  every: 10ms\n"),
            "g.yaml:3:10: 'reports.every': must be at least 100ms");
  EXPECT_EQ(Error("reports:\n  dir: /tmp/r\n  kep: 3\n"),
            "g.yaml:3:3: unknown key 'kep' in 'reports'; did you mean 'keep'?");
}

TEST_F(ConfigTest, WrongTypes) {
  EXPECT_EQ(Error("- interval\n"), "g.yaml:1:1: expected a map of settings, got a list");
  EXPECT_EQ(Error("presets: {gridkit: yes}\n"),
            "g.yaml:1:10: 'presets': expected a library preset name or a list of them, got a map");
  EXPECT_EQ(Error("max_threads: many\n"),
            "g.yaml:1:14: 'max_threads': expected a whole number from 1 to 1048576, got 'many'");
  EXPECT_EQ(Error("budget_options:\n  open_after: 0\n"),
            "g.yaml:2:15: 'budget_options.open_after': expected a whole number from 1 to 1000, "
            "got '0'");
  EXPECT_EQ(Error("memory: some\n"),
            "g.yaml:1:9: 'memory': expected one of off, ops, full, got 'some'");
  EXPECT_EQ(Error("report: out.json\n"), "g.yaml:1:9: 'report': expected a map, got 'out.json'");
  EXPECT_EQ(Error("budgets:\n"), "g.yaml:1:1: 'budgets': expected a string, got nothing");
}

TEST_F(ConfigTest, BadDurations) {
  EXPECT_EQ(Error("interval: 10 parsecs\n"),
            "g.yaml:1:11: 'interval': expected a duration such as 250ms, 1.5s, 2m or 1h, got "
            "'10 parsecs'");
  EXPECT_EQ(Error("duration: 10\n"),
            "g.yaml:1:11: 'duration': expected a duration such as 250ms, 1.5s, 2m or 1h, got '10'");
  EXPECT_EQ(Error("interval: 10ms\n"), "g.yaml:1:11: 'interval': must be at least 100ms");
  EXPECT_EQ(Error("budget_options: {horizon: 0}\n"),
            "g.yaml:1:27: 'budget_options.horizon': must be longer than 0");
}

TEST_F(ConfigTest, BadSeverities) {
  EXPECT_EQ(Error("budget_options:\n  severities: {warning: 1, error: 3, critical: 2}\n"),
            "g.yaml:2:15: 'budget_options.severities': expected warning <= error <= critical, "
            "got warning 1, error 3, critical 2");
  EXPECT_EQ(Error("budget_options:\n  severities: {error: 3}\n"),
            "g.yaml:2:15: 'budget_options.severities': set all of warning, error and critical");
}

TEST_F(ConfigTest, UnknownPresets) {
  EXPECT_EQ(Error("budgets: interactve\n"),
            "g.yaml:1:10: unknown budget preset 'interactve'; did you mean 'interactive'? "
            "(known: background, interactive, relaxed, rendering, strict)");
  EXPECT_EQ(Error("presets: [gridkt]\n"),
            "g.yaml:1:11: unknown library preset 'gridkt'; did you mean 'gridkit'? "
            "(known: glibc-malloc, gridkit, sqlite)");
  EXPECT_EQ(Error("budgets: ./missing.yaml\n"), "g.yaml:1:10: cannot read '" +
                                                    (dir_ / "missing.yaml").string() +
                                                    "': No such file or directory");
}

TEST_F(ConfigTest, ErrorsInsideTheBudgetFileNameThatFile) {
  Write("a.yaml", "extends: ./b.yaml\n");
  Write("b.yaml", "extends:\n  - interactive\n  - ./a.yaml\n");
  EXPECT_EQ(
      Error("budgets: a.yaml\n"),
      "b.yaml:3:5: circular extends: " + (dir_ / "a.yaml").string() + " -> ./b.yaml -> ./a.yaml");
}

TEST_F(ConfigTest, AlertDestinations) {
  EXPECT_EQ(Error("alerts:\n  - type: sentri\n    dsn: ${TOKEN}\n"),
            "g.yaml:2:11: unknown alert destination 'sentri'; did you mean 'sentry'? (known: "
            "console, webhook, alertmanager, exec, pagerduty, slack, sentry, datadog, newrelic)");
  // A bad DSN is named at its value, and its key is never quoted.
  std::string dsn_error = Error("alerts:\n  - type: sentry\n    dsn: ${TOKEN}\n");
  EXPECT_THAT(dsn_error, ::testing::StartsWith("g.yaml:3:10: 'alerts[0].dsn': sentry 'dsn' is "
                                               "not a DSN ("));
  EXPECT_THAT(dsn_error, ::testing::Not(::testing::HasSubstr("tok-123")));
  EXPECT_EQ(Error("alerts:\n  - type: datadog\n    api_key: k\n    site: datadoghq.co\n"),
            "g.yaml:4:11: 'alerts[0].site': datadog 'site' 'datadoghq.co' is not a Datadog site "
            "(known: datadoghq.com (us1), us3.datadoghq.com (us3), us5.datadoghq.com (us5), "
            "datadoghq.eu (eu1), ap1.datadoghq.com (ap1), ap2.datadoghq.com (ap2), "
            "uk1.datadoghq.com (uk1), ddog-gov.com (us1-fed), us2.ddog-gov.com (us2-fed))");
  EXPECT_EQ(Error("alerts:\n  - type: newrelic\n    license_key: k\n"),
            "g.yaml:2:5: 'alerts[0]': newrelic needs 'account_id', the account's number");
  EXPECT_THAT(Error("alerts:\n  - type: console\n    colour: red\n"),
              ::testing::StartsWith("g.yaml:3:5: unknown key 'colour' in 'alerts[0]'"));
  EXPECT_EQ(Error("alerts:\n  - type: webhook\n    url: ftp://x\n"),
            "g.yaml:3:10: 'alerts[0].url': expected an http:// or https:// URL");
  EXPECT_EQ(Error("alerts:\n  - type: webhook\n    secret: x\n"),
            "g.yaml:2:5: 'alerts[0]': webhook needs 'url'");
  EXPECT_EQ(Error("alerts:\n  - type: console\n  - type: console\n"),
            "g.yaml:3:5: 'alerts[1]': a destination named 'console' is already listed; give each "
            "a unique 'name'");
  EXPECT_EQ(Error("alerts:\n  - type: webhook\n    url: http://h/x\n    min_severity: info\n"),
            "g.yaml:4:19: 'alerts[0].min_severity': expected one of warning, error, critical, "
            "got 'info'");
  EXPECT_EQ(Error("alerts:\n  - console\n"),
            "g.yaml:2:5: 'alerts[0]': expected a map with 'type', got 'console'");
  EXPECT_EQ(Error("alerts:\n  - {}\n"), "g.yaml:2:5: 'alerts[0]': missing 'type'");
}

TEST_F(ConfigTest, AlertDestinationKeysAndSecretsFromTheEnvironment) {
  absl::StatusOr<Config> c = Parse(
      "alerts:\n  - type: webhook\n    name: ops-hook\n    url: https://hooks.example.com/g\n"
      "    secret: ${TOKEN}\n    min_severity: error\n    impact: [userVisible]\n"
      "    events: [violation, prediction]\n    repeat_interval: 30m\n    timeout: 2s\n"
      "  - type: alertmanager\n    url: http://127.0.0.1:9093\n");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->alerts.size(), 2u);
  const AlertDestination& w = c->alerts[0];
  EXPECT_EQ(w.name, "ops-hook");
  EXPECT_EQ(w.keys.at("secret"), "tok-123");
  EXPECT_EQ(w.min_severity, "error");
  EXPECT_EQ(w.impact, std::vector<std::string>{"userVisible"});
  EXPECT_EQ(w.events, (std::vector<std::string>{"violation", "prediction"}));
  EXPECT_EQ(w.repeat_interval, absl::Minutes(30));
  EXPECT_EQ(w.timeout, absl::Seconds(2));
  EXPECT_EQ(c->alerts[1].name, "alertmanager");
  // A secret is never quoted back.
  EXPECT_THAT(Error("alerts:\n  - type: pagerduty\n    routing_key: ${TOKEN}\n"),
              ::testing::Not(::testing::HasSubstr("tok-123")));
}

TEST_F(ConfigTest, PrometheusExporter) {
  absl::StatusOr<Config> off = Parse("interval: 1s\n");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->prometheus.has_value());
  absl::StatusOr<Config> defaults = Parse("exporters:\n  prometheus: {}\n");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  ASSERT_TRUE(defaults->prometheus.has_value());
  EXPECT_EQ(defaults->prometheus->listen, "127.0.0.1:9464");
  EXPECT_FALSE(defaults->prometheus->allow_remote);
  absl::StatusOr<Config> remote =
      Parse("exporters:\n  prometheus:\n    listen: 0.0.0.0:9100\n    allow_remote: true\n");
  ASSERT_TRUE(remote.ok()) << remote.status();
  EXPECT_EQ(remote->prometheus->listen, "0.0.0.0:9100");
  EXPECT_TRUE(remote->prometheus->allow_remote);

  EXPECT_EQ(Error("exporters:\n  prometheus:\n    listen: 127.0.0.1\n"),
            "g.yaml:3:13: exporters.prometheus.listen '127.0.0.1': no port; give HOST:PORT, e.g. "
            "127.0.0.1:9464 or [::1]:9464");
  EXPECT_EQ(Error("exporters:\n  prometheus:\n    allow_remote: yes\n"),
            "g.yaml:3:19: 'exporters.prometheus.allow_remote': expected one of true, false, got "
            "'yes'");
  EXPECT_EQ(Error("exporters:\n  prometheus:\n    listn: 127.0.0.1:1\n"),
            "g.yaml:3:5: unknown key 'listn' in 'exporters.prometheus'; did you mean 'listen'?");
  EXPECT_EQ(Error("exporters:\n  otlp: {}\n"),
            "g.yaml:2:3: unknown key 'otlp' in 'exporters' (expected one of: prometheus)");
}

TEST_F(ConfigTest, EnvironmentReferences) {
  EXPECT_EQ(Error("report:\n  json: ${NOPE}/r.json\n"),
            "g.yaml:2:9: 'report.json': environment variable 'NOPE' is not set");
}

TEST_F(ConfigTest, InvalidYaml) {
  EXPECT_EQ(Error("presets: [gridkit\n"),
            "g.yaml:2:1: invalid YAML: end of sequence flow not found");
}

TEST_F(ConfigTest, ShippedExampleIsValid) {
  const std::string path = std::string(GRIDPROBE_TEST_PRESETS_DIR) + "/gridprobe.example.yaml";
  absl::StatusOr<std::string> text = ReadDocument(path);
  ASSERT_TRUE(text.ok()) << text.status();
  budgets::PresetCatalog catalog({(dir_ / "presets").string(), GRIDPROBE_TEST_PRESETS_DIR});
  absl::StatusOr<Config> config = ParseConfig(*text, path, catalog, ProcessEnv());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->budgets, "interactive");
  // It spells out the defaults, so it must agree with them.
  EXPECT_EQ(config->interval, DefaultInterval(/*judging_budgets=*/true));
  Config defaults;
  EXPECT_EQ(config->memory, defaults.memory);
  EXPECT_EQ(config->duration, defaults.duration);
  EXPECT_EQ(config->max_threads, defaults.max_threads);
  EXPECT_EQ(config->budget_options.min_calls, defaults.budget_options.min_calls);
  EXPECT_EQ(config->budget_options.open_after, defaults.budget_options.open_after);
  EXPECT_EQ(config->budget_options.resolve_after, defaults.budget_options.resolve_after);
  EXPECT_EQ(config->budget_options.horizon, defaults.budget_options.horizon);
}

TEST(LoadConfigTest, MissingFile) {
  absl::Status s = LoadConfig("/nonexistent/gridprobe.yaml").status();
  EXPECT_EQ(ExitCodeOf(s), ExitCode::kNotFound);
}

}  // namespace
}  // namespace gridprobe::config
