#include "userspace/analyzers/budgets/evaluator.h"

#include <gtest/gtest.h>

#include "userspace/presets/budget_preset.h"

namespace gridprobe::budgets {
namespace {

constexpr double kMs = 1e6;
constexpr int kP95 = static_cast<int>(Metric::kP95);
const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);  // 2023-11-14T22:13:20Z
constexpr absl::Duration kInterval = absl::Seconds(10);

class Recorder : public FindingSink {
 public:
  void OnFinding(const Finding& event) override { events.push_back(event); }
  std::vector<Finding> events;
};

OpStats Op(const std::string& name, double p95_ms, uint64_t calls = 100) {
  OpStats op;
  op.name = name;
  op.calls = calls;
  op.calls_per_s = calls / 10.0;
  op.p50_ns = op.p95_ns = op.p99_ns = op.max_ns = static_cast<uint64_t>(p95_ms * kMs);
  op.mean_ns = p95_ms * kMs;
  return op;
}

Snapshot Window(int i, std::vector<OpStats> ops) {
  Snapshot s;
  s.start = kT0 + i * kInterval;
  s.end = s.start + kInterval;
  s.ops = std::move(ops);
  return s;
}

BudgetSet P95Budget(double ms) {
  BudgetSet set;
  set.name = "test";
  set.defaults[kP95] = ms * kMs;
  return set;
}

EvaluatorOptions NoForecast() {
  EvaluatorOptions options;
  options.prediction_windows = 0;
  return options;
}

// Feeds one window per value: "sort" with that p95 (ms), 100 calls.
std::vector<Finding> Feed(Evaluator& evaluator, const std::vector<double>& p95s, int first = 0) {
  Recorder sink;
  for (size_t i = 0; i < p95s.size(); ++i) {
    evaluator.OnWindow(Window(first + static_cast<int>(i), {Op("sort", p95s[i])}), sink);
  }
  return sink.events;
}

std::vector<FindingKind> Kinds(const std::vector<Finding>& events) {
  std::vector<FindingKind> kinds;
  for (const Finding& e : events) kinds.push_back(e.kind);
  return kinds;
}

TEST(EvaluatorTest, WithinBudgetIsQuiet) {
  Evaluator evaluator(P95Budget(100), NoForecast());
  EXPECT_TRUE(Feed(evaluator, {10, 50, 99, 100, 80}).empty());
  EXPECT_TRUE(evaluator.violations().empty());
  EXPECT_EQ(evaluator.WorstSeverity(), Severity::kNone);
}

TEST(EvaluatorTest, FewCallsAreNotJudged) {
  Evaluator evaluator(P95Budget(100), NoForecast());
  Recorder sink;
  for (int i = 0; i < 5; ++i) evaluator.OnWindow(Window(i, {Op("sort", 900, 19)}), sink);
  EXPECT_TRUE(sink.events.empty());
  for (int i = 5; i < 7; ++i) evaluator.OnWindow(Window(i, {Op("sort", 900, 20)}), sink);
  EXPECT_EQ(Kinds(sink.events), std::vector<FindingKind>{FindingKind::kViolationOpened});
}

TEST(EvaluatorTest, MinCallsIsConfigurable) {
  EvaluatorOptions options = NoForecast();
  options.min_calls = 3;
  Evaluator evaluator(P95Budget(100), options);
  Recorder sink;
  for (int i = 0; i < 2; ++i) evaluator.OnWindow(Window(i, {Op("sort", 900, 3)}), sink);
  EXPECT_EQ(sink.events.size(), 1u);
}

TEST(EvaluatorTest, OpensAfterConsecutiveBadWindows) {
  Evaluator evaluator(P95Budget(100), NoForecast());
  EXPECT_TRUE(Feed(evaluator, {150, 80, 150, 80, 150}).empty());  // never two in a row
  std::vector<Finding> events = Feed(evaluator, {150}, 5);
  ASSERT_EQ(events.size(), 1u);
  const Finding& e = events[0];
  EXPECT_EQ(e.kind, FindingKind::kViolationOpened);
  EXPECT_EQ(e.operation, "sort");
  EXPECT_EQ(e.metric, Metric::kP95);
  EXPECT_EQ(e.budget, 100 * kMs);
  EXPECT_EQ(e.actual, 150 * kMs);
  EXPECT_DOUBLE_EQ(e.ratio, 1.5);
  EXPECT_EQ(e.severity, Severity::kError);
  EXPECT_EQ(e.impact, Impact::kUserVisible);
  EXPECT_EQ(e.since, kT0 + 4 * kInterval);  // the first window of the streak
  EXPECT_EQ(e.at, kT0 + 6 * kInterval);
  EXPECT_EQ(e.windows, 2);
  EXPECT_EQ(e.message,
            "sort p95 150 ms over its 100 ms budget (1.50x, error, userVisible) for 2 windows "
            "since 2023-11-14T22:14:00.000Z");
}

TEST(EvaluatorTest, ResolvesAfterConsecutiveGoodWindows) {
  Evaluator evaluator(P95Budget(100), NoForecast());
  std::vector<Finding> events = Feed(evaluator, {150, 150, 80, 150, 80, 80, 80});
  ASSERT_EQ(Kinds(events),
            (std::vector<FindingKind>{FindingKind::kViolationOpened, FindingKind::kViolationResolved}));
  const Finding& resolved = events[1];
  EXPECT_EQ(resolved.at, kT0 + 6 * kInterval);  // end of window 5, the second good one in a row
  EXPECT_EQ(resolved.windows, 6);
  EXPECT_EQ(resolved.actual, 80 * kMs);
  EXPECT_EQ(resolved.message,
            "sort p95 back within its 100 ms budget (now 80 ms) after 6 windows; worst 150 ms "
            "(error)");
  ASSERT_EQ(evaluator.violations().size(), 1u);
  const Violation& v = evaluator.violations()[0];
  EXPECT_EQ(v.first_window, 0);
  EXPECT_EQ(v.last_window, 3);
  EXPECT_EQ(v.until, kT0 + 6 * kInterval);
}

TEST(EvaluatorTest, HysteresisIsConfigurable) {
  EvaluatorOptions options = NoForecast();
  options.open_after = 3;
  options.resolve_after = 1;
  Evaluator evaluator(P95Budget(100), options);
  EXPECT_TRUE(Feed(evaluator, {150, 150, 80}).empty());
  EXPECT_EQ(Kinds(Feed(evaluator, {150, 150, 150, 80}, 3)),
            (std::vector<FindingKind>{FindingKind::kViolationOpened, FindingKind::kViolationResolved}));
}

TEST(EvaluatorTest, UnjudgedWindowsNeitherBreakNorExtendAStreak) {
  Evaluator evaluator(P95Budget(100), NoForecast());
  Recorder sink;
  evaluator.OnWindow(Window(0, {Op("sort", 150)}), sink);
  evaluator.OnWindow(Window(1, {Op("sort", 10, 2)}), sink);  // quiet minute
  EXPECT_TRUE(sink.events.empty());
  evaluator.OnWindow(Window(2, {Op("sort", 150)}), sink);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].since, kT0);
  EXPECT_EQ(sink.events[0].windows, 3);
}

// While a violation is open, the opening streak is not kept; the next one
// starts from scratch, with its own start and worst severity.
TEST(EvaluatorTest, StreakAfterAResolvedViolationStartsAfresh) {
  Evaluator evaluator(P95Budget(100), NoForecast());
  // Critical while open, resolved in window 4; then a warning-only streak.
  std::vector<Finding> events = Feed(evaluator, {150, 150, 300, 300, 80, 80, 120, 80, 110, 120});
  ASSERT_EQ(Kinds(events),
            (std::vector<FindingKind>{FindingKind::kViolationOpened, FindingKind::kViolationUpdated,
                                    FindingKind::kViolationResolved, FindingKind::kViolationOpened}));
  const Finding& again = events[3];
  EXPECT_EQ(again.severity, Severity::kWarning);
  EXPECT_EQ(again.since, kT0 + 8 * kInterval);  // window 6's streak was broken by window 7
  EXPECT_EQ(again.windows, 2);
  ASSERT_EQ(evaluator.violations().size(), 2u);
  EXPECT_EQ(evaluator.violations()[0].last_window, 3);
  EXPECT_EQ(evaluator.violations()[0].peak, 300 * kMs);
  EXPECT_EQ(evaluator.violations()[1].first_window, 8);
}

// A violation of a metric that stops being measured stays open, untouched,
// and is judged again when the metric comes back, next to metrics that were
// within budget all along.
TEST(EvaluatorTest, OpenViolationWaitsWhileItsMetricIsNotMeasured) {
  BudgetSet set = P95Budget(100);
  set.defaults[static_cast<int>(Metric::kLiveBytes)] = 1024;
  Evaluator evaluator(set, NoForecast());
  Recorder sink;
  auto window = [&](int i, std::optional<uint64_t> live) {
    OpStats op = Op("sort", 50);
    op.live_bytes = live;
    evaluator.OnWindow(Window(i, {op}), sink);
  };
  window(0, 4096);
  window(1, 4096);
  ASSERT_EQ(Kinds(sink.events), (std::vector<FindingKind>{FindingKind::kViolationOpened}));
  for (int i = 2; i < 6; ++i) window(i, std::nullopt);  // memory tracking off
  EXPECT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(evaluator.violations()[0].last_window, 1);
  window(6, 8192);  // worse than before
  window(7, 512);
  window(8, 512);
  ASSERT_EQ(Kinds(sink.events),
            (std::vector<FindingKind>{FindingKind::kViolationOpened, FindingKind::kViolationResolved}));
  EXPECT_EQ(sink.events[1].metric, Metric::kLiveBytes);
  EXPECT_EQ(sink.events[1].windows, 9);
  EXPECT_EQ(evaluator.violations()[0].last_window, 6);
  EXPECT_EQ(evaluator.violations()[0].peak, 8192);
}

TEST(EvaluatorTest, SeverityFollowsTheRatio) {
  struct Case {
    double p95;
    Severity severity;
  };
  for (const Case& c : {Case{101, Severity::kWarning}, Case{149, Severity::kWarning},
                        Case{150, Severity::kError}, Case{199, Severity::kError},
                        Case{200, Severity::kCritical}, Case{900, Severity::kCritical}}) {
    Evaluator evaluator(P95Budget(100), NoForecast());
    std::vector<Finding> events = Feed(evaluator, {c.p95, c.p95});
    ASSERT_EQ(events.size(), 1u) << c.p95;
    EXPECT_EQ(events[0].severity, c.severity) << c.p95;
  }
}

TEST(EvaluatorTest, SeveritiesFromThePresetOrTheOptions) {
  BudgetSet set = P95Budget(100);
  set.severities = {.warning = 1.0, .error = 1.1, .critical = 1.2};
  Evaluator from_preset(set, NoForecast());
  EXPECT_EQ(Feed(from_preset, {115, 115})[0].severity, Severity::kError);

  EvaluatorOptions options = NoForecast();
  options.severities = Severities{.warning = 1.0, .error = 3.0, .critical = 4.0};
  Evaluator from_options(set, options);
  EXPECT_EQ(Feed(from_options, {250, 250})[0].severity, Severity::kWarning);
}

TEST(EvaluatorTest, SeverityRisesButDoesNotFlap) {
  Evaluator evaluator(P95Budget(100), NoForecast());
  std::vector<Finding> events = Feed(evaluator, {120, 120, 250, 120, 260, 170});
  ASSERT_EQ(Kinds(events),
            (std::vector<FindingKind>{FindingKind::kViolationOpened, FindingKind::kViolationUpdated}));
  EXPECT_EQ(events[0].severity, Severity::kWarning);
  EXPECT_EQ(events[1].severity, Severity::kCritical);
  EXPECT_EQ(events[1].actual, 250 * kMs);
  EXPECT_EQ(events[1].since, kT0);
  EXPECT_EQ(evaluator.violations()[0].peak, 260 * kMs);
  EXPECT_EQ(evaluator.violations()[0].actual, 170 * kMs);
  EXPECT_EQ(evaluator.WorstSeverity(), Severity::kCritical);
}

TEST(EvaluatorTest, OpensWithTheWorstSeverityOfTheStreak) {
  Evaluator evaluator(P95Budget(100), NoForecast());
  std::vector<Finding> events = Feed(evaluator, {250, 120});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].severity, Severity::kCritical);
}

TEST(EvaluatorTest, ImpactFromTheLibraryPresetOrTheBudget) {
  BudgetSet set = P95Budget(100);
  set.operations["save"].impact = Impact::kUserVisible;
  Evaluator evaluator(set, NoForecast());
  Recorder sink;
  for (int i = 0; i < 2; ++i) {
    OpStats sort = Op("sort", 150);
    sort.impact = Impact::kBackground;
    OpStats save = Op("save", 150);
    save.impact = Impact::kBackground;
    evaluator.OnWindow(Window(i, {sort, save}), sink);
  }
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].operation, "sort");
  EXPECT_EQ(sink.events[0].impact, Impact::kBackground);
  EXPECT_EQ(sink.events[1].operation, "save");
  EXPECT_EQ(sink.events[1].impact, Impact::kUserVisible);
}

TEST(EvaluatorTest, OperationBudgetsAndOrderChanges) {
  BudgetSet set = P95Budget(100);
  set.operations["sort"].limits[kP95] = 20 * kMs;
  Evaluator evaluator(set, NoForecast());
  Recorder sink;
  evaluator.OnWindow(Window(0, {Op("sort", 30), Op("filter", 30)}), sink);
  evaluator.OnWindow(Window(1, {Op("filter", 30), Op("sort", 30)}), sink);  // reordered
  evaluator.OnWindow(Window(2, {Op("sort", 30)}), sink);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].operation, "sort");
  EXPECT_EQ(sink.events[0].budget, 20 * kMs);
  EXPECT_EQ(sink.events[0].since, kT0);
}

TEST(EvaluatorTest, MemoryMetricsOnlyWhenMeasured) {
  BudgetSet set;
  set.defaults[static_cast<int>(Metric::kLiveBytes)] = 1024;
  set.defaults[static_cast<int>(Metric::kLeakGrowth)] = 100;
  Evaluator evaluator(set, NoForecast());
  Recorder sink;
  for (int i = 0; i < 2; ++i) evaluator.OnWindow(Window(i, {Op("sort", 1)}), sink);
  EXPECT_TRUE(sink.events.empty());  // memory tracking off
  for (int i = 2; i < 4; ++i) {
    OpStats op = Op("sort", 1);
    op.live_bytes = 4096;
    op.leak_growth_bytes_per_s = 50;
    evaluator.OnWindow(Window(i, {op}), sink);
  }
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].metric, Metric::kLiveBytes);
  EXPECT_EQ(sink.events[0].severity, Severity::kCritical);
  EXPECT_EQ(sink.events[0].message,
            "sort live_bytes 4 KiB over its 1 KiB budget (4.00x, critical, userVisible) for 2 "
            "windows since 2023-11-14T22:13:40.000Z");
}

TEST(EvaluatorTest, ReportJson) {
  BudgetSet set = P95Budget(100);
  set.name = "interactive";
  Evaluator evaluator(set, NoForecast());
  Recorder sink;
  const double sort_ms[] = {150, 150, 50, 50};
  for (int i = 0; i < 4; ++i) {
    const double filter_ms = sort_ms[i] == 50 ? 300 : 10;
    evaluator.OnWindow(Window(i, {Op("sort", sort_ms[i]), Op("filter", filter_ms)}), sink);
  }
  nlohmann::json j = evaluator.ReportJson();
  EXPECT_EQ(j["preset"], "interactive");
  EXPECT_EQ(j["windows"], 4);
  EXPECT_EQ(j["resolved"]["default"]["p95_ns"], 100e6);
  EXPECT_EQ(j["options"]["min_calls"], 20);
  EXPECT_EQ(j["worst_severity"], "critical");
  ASSERT_EQ(j["violations"].size(), 2u);
  const nlohmann::json& sort = j["violations"][0];
  EXPECT_EQ(sort["operation"], "sort");
  EXPECT_EQ(sort["metric"], "p95");
  EXPECT_EQ(sort["unit"], "ns");
  EXPECT_EQ(sort["budget"], 100e6);
  EXPECT_EQ(sort["actual"], 150e6);
  EXPECT_EQ(sort["ratio"], 1.5);
  EXPECT_EQ(sort["severity"], "error");
  EXPECT_EQ(sort["impact"], "userVisible");
  EXPECT_EQ(sort["state"], "resolved");
  EXPECT_EQ(sort["since"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(sort["until"], "2023-11-14T22:14:00.000Z");
  EXPECT_EQ(sort["windows"], 2);
  const nlohmann::json& filter = j["violations"][1];
  EXPECT_EQ(filter["state"], "open");
  EXPECT_TRUE(filter["until"].is_null());
  EXPECT_TRUE(j["predictions"].empty());
}

// Prediction on synthetic series: one window every 10 s, budget 100 ms.
class ForecastTest : public ::testing::Test {
 protected:
  std::vector<Finding> Predictions(const std::vector<double>& p95s, EvaluatorOptions options = {}) {
    Evaluator evaluator(P95Budget(100), options);
    std::vector<Finding> out;
    for (const Finding& e : Feed(evaluator, p95s)) {
      if (e.kind == FindingKind::kPrediction) out.push_back(e);
    }
    return out;
  }
};

TEST_F(ForecastTest, RisingSeriesIsForecast) {
  // 40, 42, ... ms: 2 ms per 10 s window, 12 ms/min; from 50 ms at the sixth
  // window, 100 ms is 250 s away.
  std::vector<double> series;
  for (int i = 0; i < 6; ++i) series.push_back(40 + 2 * i);
  std::vector<Finding> events = Predictions(series);
  ASSERT_EQ(events.size(), 1u);
  const Finding& e = events[0];
  EXPECT_EQ(e.operation, "sort");
  EXPECT_EQ(e.metric, Metric::kP95);
  EXPECT_NEAR(e.slope_per_s, 0.2 * kMs, 1);
  EXPECT_NEAR(absl::ToDoubleSeconds(e.eta), 250, 1e-6);
  EXPECT_NEAR(e.r_squared, 1, 1e-9);
  EXPECT_EQ(e.windows, 6);
  EXPECT_EQ(e.confidence, "medium");  // six points are few
  EXPECT_EQ(e.severity, Severity::kWarning);
  EXPECT_EQ(e.since, kT0 + kInterval);  // end of the first window fitted
  EXPECT_EQ(e.message,
            "sort p95 rising 12 ms/min, crosses 100 ms in about 4 min (now 50 ms; confidence "
            "medium: R\xC2\xB2 1.00 over 6 windows)");
}

TEST_F(ForecastTest, NotRepeatedEveryWindow) {
  std::vector<double> series;
  for (int i = 0; i < 20; ++i) series.push_back(20 + 2 * i);  // stays below 100 ms
  std::vector<Finding> events = Predictions(series);
  ASSERT_EQ(events.size(), 2u);  // at the 6th window and 12 windows later
  EXPECT_EQ(events[1].at - events[0].at, 12 * kInterval);
  EXPECT_EQ(events[1].confidence, "high");
}

// An operation listed twice in a window is judged twice but sampled once
// for its trend, and a forecast due is reported once.
TEST_F(ForecastTest, OperationListedTwiceIsForecastOnce) {
  Evaluator evaluator(P95Budget(100), {});
  Recorder sink;
  for (int i = 0; i < 6; ++i) {
    const double p95 = 40 + 2 * i;
    evaluator.OnWindow(Window(i, {Op("sort", p95), Op("sort", p95)}), sink);
  }
  std::vector<Finding> predictions;
  for (const Finding& e : sink.events) {
    if (e.kind == FindingKind::kPrediction) predictions.push_back(e);
  }
  ASSERT_EQ(predictions.size(), 1u);
  EXPECT_EQ(predictions[0].windows, 6);  // one sample a window, not two
  EXPECT_EQ(evaluator.ReportJson()["predictions"].size(), 1u);
}

// Quiet after a resolution applies to that metric only: another metric of
// the same operation is still forecast.
TEST_F(ForecastTest, QuietAfterResolutionIsPerMetric) {
  BudgetSet set = P95Budget(100);
  set.defaults[static_cast<int>(Metric::kLiveBytes)] = 1 << 20;
  Evaluator evaluator(set, EvaluatorOptions{});
  Recorder sink;
  for (int i = 0; i < 12; ++i) {
    OpStats op = Op("sort", i < 2 ? 150 : 50);  // p95: opened, resolved in window 3
    op.live_bytes = 100'000 + 20'000 * i;       // rising, 1 MiB within the hour
    evaluator.OnWindow(Window(i, {op}), sink);
  }
  std::vector<Finding> predictions;
  for (const Finding& e : sink.events) {
    if (e.kind == FindingKind::kPrediction) predictions.push_back(e);
  }
  ASSERT_EQ(predictions.size(), 1u);
  EXPECT_EQ(predictions[0].metric, Metric::kLiveBytes);
  EXPECT_EQ(predictions[0].windows, 6);
}

TEST_F(ForecastTest, FlatSeriesIsNotForecast) {
  EXPECT_TRUE(Predictions(std::vector<double>(30, 90)).empty());
}

TEST_F(ForecastTest, NoisySeriesIsNotForecast) {
  // Rising 1 ms a window, but buried in +-15 ms of noise.
  std::vector<double> series;
  for (int i = 0; i < 24; ++i) series.push_back(40 + i + (i % 2 ? 15 : -15));
  EXPECT_TRUE(Predictions(series).empty());
}

TEST_F(ForecastTest, StepIsNotATrend) {
  std::vector<double> series(6, 40);
  series.resize(30, 70);
  EXPECT_TRUE(Predictions(series).empty());
}

TEST_F(ForecastTest, TooFewPoints) { EXPECT_TRUE(Predictions({40, 50, 60, 70, 80}).empty()); }

TEST_F(ForecastTest, BeyondTheHorizonIsNotForecast) {
  // 0.01 ms per window from 40 ms: 100 ms is more than 16 h away.
  std::vector<double> series;
  for (int i = 0; i < 12; ++i) series.push_back(40 + 0.01 * i);
  EXPECT_TRUE(Predictions(series).empty());
  EvaluatorOptions options;
  options.horizon = absl::Hours(24);
  EXPECT_EQ(Predictions(series, options).size(), 1u);
}

TEST_F(ForecastTest, NoForecastWhileOverBudgetOrWhenOff) {
  std::vector<double> series;
  for (int i = 0; i < 12; ++i) series.push_back(101 + i);
  EXPECT_TRUE(Predictions(series).empty());
  EvaluatorOptions off;
  off.prediction_windows = 0;
  EXPECT_TRUE(Predictions({40, 42, 44, 46, 48, 50, 52}, off).empty());
}

TEST_F(ForecastTest, ReportedInJson) {
  Evaluator evaluator(P95Budget(100), {});
  Feed(evaluator, {40, 42, 44, 46, 48, 50});
  nlohmann::json j = evaluator.ReportJson();
  ASSERT_EQ(j["predictions"].size(), 1u);
  EXPECT_EQ(j["predictions"][0]["operation"], "sort");
  EXPECT_NEAR(j["predictions"][0]["eta_s"].get<double>(), 250, 1e-6);
  EXPECT_EQ(j["predictions"][0]["crosses_at"], "2023-11-14T22:18:30.000Z");
}

// Operations that come and go, change places, or have too few calls in
// some windows share the windows' work: each must still be judged, and
// forecast, exactly as if it had been profiled alone.
TEST_F(ForecastTest, EachOperationHasItsOwnHistory) {
  const std::vector<std::string> names = {"sort", "filter", "render", "export", "import"};
  // Window i's p95 (ms) of operation k, and whether it is in the window.
  auto p95 = [](int k, int i) { return 30 + (k + 1) * 0.7 * i + (i % 3 == 0 ? 0.4 : 0); };
  auto present = [](int k, int i) {
    if (k == 2) return i % 4 != 1;        // render: missing now and then
    if (k == 3) return i >= 9;            // export: comes later
    if (k == 4) return i < 20 || i > 30;  // import: goes away for a while
    return true;
  };
  auto calls = [](int k, int i) -> uint64_t { return k == 1 && i % 5 == 2 ? 5 : 100; };
  constexpr int kWindows = 60;
  Evaluator crowd(P95Budget(100), {});
  Recorder crowd_sink;
  for (int i = 0; i < kWindows; ++i) {
    std::vector<OpStats> ops;
    for (int k = 0; k < 5; ++k) {
      if (present(k, i)) ops.push_back(Op(names[k], p95(k, i), calls(k, i)));
    }
    std::rotate(ops.begin(), ops.begin() + i % ops.size(), ops.end());  // new places
    crowd.OnWindow(Window(i, std::move(ops)), crowd_sink);
  }
  int predictions = 0;
  for (int k = 0; k < 5; ++k) {
    Evaluator alone(P95Budget(100), {});
    Recorder alone_sink;
    for (int i = 0; i < kWindows; ++i) {
      std::vector<OpStats> ops;
      if (present(k, i)) ops.push_back(Op(names[k], p95(k, i), calls(k, i)));
      alone.OnWindow(Window(i, std::move(ops)), alone_sink);
    }
    std::vector<Finding> mine;
    for (const Finding& e : crowd_sink.events) {
      if (e.operation == names[k]) mine.push_back(e);
    }
    ASSERT_EQ(mine.size(), alone_sink.events.size()) << names[k];
    for (size_t j = 0; j < mine.size(); ++j) {
      const Finding& a = alone_sink.events[j];
      EXPECT_EQ(mine[j].kind, a.kind);
      EXPECT_EQ(mine[j].at, a.at);
      EXPECT_EQ(mine[j].message, a.message);
      EXPECT_EQ(mine[j].slope_per_s, a.slope_per_s);
      EXPECT_EQ(mine[j].eta, a.eta);
      EXPECT_EQ(mine[j].r_squared, a.r_squared);
      EXPECT_EQ(mine[j].since, a.since);
      predictions += a.kind == FindingKind::kPrediction;
    }
  }
  EXPECT_GE(predictions, 8);
}

// A forecast comes right after its own operation's violation events, before
// those of the operations after it in the window.
TEST_F(ForecastTest, ComesInOrderAmongViolations) {
  Evaluator evaluator(P95Budget(100), {});
  Recorder sink;
  for (int i = 0; i < 6; ++i) {
    evaluator.OnWindow(Window(i, {Op("sort", 40 + 2 * i), Op("filter", 200)}), sink);
  }
  ASSERT_EQ(Kinds(sink.events),
            (std::vector<FindingKind>{FindingKind::kViolationOpened, FindingKind::kPrediction}));
  EXPECT_EQ(sink.events[0].operation, "filter");
  sink.events.clear();
  Evaluator other(P95Budget(100), {});
  for (int i = 0; i < 6; ++i) {
    other.OnWindow(Window(i, {Op("filter", 200 + 30 * i), Op("sort", 40 + 2 * i)}), sink);
  }
  ASSERT_GE(sink.events.size(), 2u);
  EXPECT_EQ(sink.events.back().operation, "sort");
  EXPECT_EQ(sink.events.back().kind, FindingKind::kPrediction);
  sink.events.clear();
  Evaluator third(P95Budget(100), {});
  for (int i = 0; i < 6; ++i) {
    const double filter = i < 4 ? 90 : i == 4 ? 120 : 160;  // over budget from window 4
    third.OnWindow(Window(i, {Op("sort", 40 + 2 * i), Op("filter", filter)}), sink);
  }
  // Window 5: sort's forecast, then filter's violation opening.
  ASSERT_GE(sink.events.size(), 2u);
  const Finding& last = sink.events.back();
  const Finding& before = sink.events[sink.events.size() - 2];
  EXPECT_EQ(before.operation, "sort");
  EXPECT_EQ(before.kind, FindingKind::kPrediction);
  EXPECT_EQ(last.operation, "filter");
  EXPECT_EQ(last.at, before.at);
}

TEST(OptionsTest, Validation) {
  EXPECT_TRUE(ValidateOptions({}).ok());
  EvaluatorOptions o;
  o.open_after = 0;
  EXPECT_FALSE(ValidateOptions(o).ok());
  o = {};
  o.prediction_windows = 3;
  EXPECT_FALSE(ValidateOptions(o).ok());
  o = {};
  o.severities = Severities{.warning = 2, .error = 1, .critical = 3};
  EXPECT_FALSE(ValidateOptions(o).ok());
}

// The budgets half of the end-to-end check: the demo's `--slow sort=150@20`
// makes sort's p95 about 150 ms. Under `interactive` that is an error-level
// p95 violation of a user-visible operation; without it, nothing.
TEST(DemoScenarioTest, SlowSortUnderInteractive) {
  PresetCatalog catalog({GRIDPROBE_TEST_PRESETS_DIR});
  auto run = [&](bool slow) {
    Evaluator evaluator(*LoadBudgetSet("interactive", catalog), {});
    Recorder sink;
    for (int i = 0; i < 6; ++i) {
      OpStats sort = Op("sort", 3);
      if (slow) sort.p95_ns = sort.p99_ns = sort.max_ns = static_cast<uint64_t>(150 * kMs);
      OpStats filter = Op("filter", 2);
      evaluator.OnWindow(Window(i, {sort, filter}), sink);
    }
    return evaluator.ReportJson();
  };
  nlohmann::json slow = run(true);
  ASSERT_EQ(slow["violations"].size(), 1u);
  EXPECT_EQ(slow["violations"][0]["operation"], "sort");
  EXPECT_EQ(slow["violations"][0]["metric"], "p95");
  EXPECT_EQ(slow["violations"][0]["severity"], "error");
  EXPECT_EQ(slow["violations"][0]["impact"], "userVisible");
  EXPECT_TRUE(run(false)["violations"].empty());
}

}  // namespace
}  // namespace gridprobe::budgets
