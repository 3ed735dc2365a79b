// The sentry, datadog and newrelic destinations: their key rules, and
// delivery to loopback models of the services (tests/support/
// saas_receivers.h) that check requests as the services do and answer as
// they do, failures included.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/support/http_receiver.h"
#include "tests/support/saas_receivers.h"
#include "userspace/sinks/alerts/alerts_sink.h"
#include "userspace/sinks/alerts/destination.h"
#include "userspace/sinks/alerts/destinations/datadog.h"
#include "userspace/sinks/alerts/destinations/newrelic.h"
#include "userspace/sinks/alerts/destinations/sentry.h"

namespace gridprobe::alerts {
namespace {

using ::gridprobe::testing::DatadogModel;
using ::gridprobe::testing::HttpReceiver;
using ::gridprobe::testing::HttpReply;
using ::gridprobe::testing::HttpRequest;
using ::gridprobe::testing::NewRelicModel;
using ::gridprobe::testing::SentryModel;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSentryKey[] = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
constexpr char kDatadogKey[] = "dd0123456789abcdef0123456789abcd";
constexpr char kNewRelicKey[] = "eu01xxNRAL0123456789abcdef0123456789";

Event MakeEvent(EventKind kind, Severity severity = Severity::kError,
                const std::string& op = "sort") {
  Event e;
  e.kind = kind;
  e.severity = severity;
  e.time = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  e.impact = Impact::kUserVisible;
  e.target.pid = 4242;
  e.target.comm = "gridkit-demo";
  e.operation = op;
  e.metric = "p95";
  e.key = absl::StrCat("gridkit-demo[4242]/", EventFamily(kind), "/", op, "/p95");
  e.message = absl::StrCat(op, " p95 152 ms over its 100 ms budget");
  e.figures = {{"budget", 1e8}, {"actual", 1.52e8}, {"unit", "ns"}};
  return e;
}

Snapshot MakeWindow() {
  Snapshot w;
  w.target.pid = 4242;
  w.target.comm = "gridkit-demo";
  w.end = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  w.start = w.end - absl::Seconds(10);
  OpStats sort;
  sort.name = "sort";
  sort.preset = "gridkit";
  sort.calls = 480;
  sort.p50_ns = 2'000'000;
  sort.p95_ns = 12'400'000;
  sort.p99_ns = 20'000'000;
  sort.max_ns = 31'000'000;
  sort.min_ns = 400'000;
  sort.total_ns = 2'153'000'000;
  OpStats idle;
  idle.name = "scan";
  idle.preset = "gridkit";
  w.ops = {sort, idle};
  return w;
}

// A clock the test moves: rate limits are judged in its time.
struct FakeClock {
  std::atomic<int64_t> ns{absl::ToUnixNanos(absl::Now())};
  absl::Time Now() const { return absl::FromUnixNanos(ns.load()); }
  void Advance(absl::Duration d) { ns += absl::ToInt64Nanoseconds(d); }
};

class SaasDelivery : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gridprobe-saas-XXXXXX";
    dir_ = mkdtemp(tmpl);
    log_ = std::tmpfile();
  }
  void TearDown() override {
    std::fclose(log_);
    std::filesystem::remove_all(dir_);
  }
  DestinationOptions Options(const std::string& type, const std::string& url = "") {
    DestinationOptions o;
    o.type = type;
    o.name = type;
    o.url = url;
    o.outbox_dir = dir_ + "/outbox";
    o.backoff_base = absl::Milliseconds(10);
    o.backoff_cap = absl::Milliseconds(50);
    o.timeout = absl::Seconds(2);
    o.drain_timeout = absl::Seconds(20);
    return o;
  }
  std::unique_ptr<AlertsSink> Sink(std::vector<DestinationOptions> o, FakeClock* clock = nullptr) {
    SinkHooks hooks;
    hooks.log = log_;
    hooks.console = log_;
    if (clock != nullptr) hooks.now = [clock] { return clock->Now(); };
    absl::StatusOr<std::unique_ptr<AlertsSink>> s = AlertsSink::Create(std::move(o), hooks);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }
  std::string Log() {
    std::fflush(log_);
    std::rewind(log_);
    std::stringstream ss;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, log_)) > 0) ss.write(buf, static_cast<long>(n));
    return ss.str();
  }
  void Handle(HttpReceiver* rx, testing::SaasModel* model) {
    rx->SetHandler([model](const HttpRequest& r) { return model->Handle(r); });
  }

  std::string dir_;
  FILE* log_ = nullptr;
};

Notification Note(const Event& e, IncidentState state = IncidentState::kOpened) {
  Notification n{EventJson(e), IncidentInfo{}};
  n.incident.state = state;
  n.incident.opened_at = e.time;
  return n;
}

// ---- sentry

TEST(SentryDsn, EndpointsOfSaasSelfHostedAndTestDsns) {
  struct Case {
    const char *dsn, *url;
  } cases[] = {
      {"https://abc123@o42.ingest.us.sentry.io/4500000000000001",
       "https://o42.ingest.us.sentry.io/api/4500000000000001/envelope/"},
      {"https://abc123@o42.ingest.de.sentry.io/17", "https://o42.ingest.de.sentry.io/api/17/envelope/"},
      {"https://pub:sec@sentry.example.com:9000/prefix/7",
       "https://sentry.example.com:9000/prefix/api/7/envelope/"},
      {"https://pub@sentry.example.com/a/b/7/", "https://sentry.example.com/a/b/api/7/envelope/"},
      {"http://abc123@127.0.0.1:18080/42", "http://127.0.0.1:18080/api/42/envelope/"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<SentryDsn> dsn = ParseSentryDsn(c.dsn);
    ASSERT_TRUE(dsn.ok()) << c.dsn << ": " << dsn.status();
    EXPECT_EQ(SentryEnvelopeUrl(*dsn), c.url);
  }
  absl::StatusOr<SentryDsn> d = ParseSentryDsn("https://pub:sec@sentry.example.com:9000/prefix/7");
  EXPECT_EQ(d->public_key, "pub");
  EXPECT_EQ(d->secret_key, "sec");
  EXPECT_EQ(d->project_id, "7");
  EXPECT_EQ(SentryEnvelopeUrl(*d, "http://127.0.0.1:9/"), "http://127.0.0.1:9/api/7/envelope/");
}

TEST(SentryDsn, BadDsnsAreOneLineWithoutTheKey) {
  for (const char* bad : {"abc123-secretish@o42.ingest.sentry.io/1",
                          "ftp://abc123-secretish@o42.ingest.sentry.io/1",
                          "https://o42.ingest.sentry.io/1", "https://abc123-secretish@/1",
                          "https://abc123-secretish@o42.ingest.sentry.io",
                          "https://abc123-secretish@o42.ingest.sentry.io/"}) {
    absl::StatusOr<SentryDsn> dsn = ParseSentryDsn(bad);
    ASSERT_FALSE(dsn.ok()) << bad;
    std::string m(dsn.status().message());
    EXPECT_THAT(m, Not(HasSubstr("abc123"))) << bad;
    EXPECT_THAT(m, HasSubstr("sentry 'dsn' is not a DSN"));
    EXPECT_EQ(m.find('\n'), std::string::npos);
  }
}

TEST(SentryDsn, AuthHeaderAsDocumented) {
  EXPECT_EQ(SentryAuthHeader(*ParseSentryDsn("https://abc123@o42.ingest.us.sentry.io/45")),
            "X-Sentry-Auth: Sentry sentry_version=7, sentry_client=gridprobe/0.1.0, "
            "sentry_key=abc123");
  EXPECT_EQ(SentryAuthHeader(*ParseSentryDsn("https://pub:sec@sentry.example.com/7")),
            "X-Sentry-Auth: Sentry sentry_version=7, sentry_client=gridprobe/0.1.0, "
            "sentry_key=pub, sentry_secret=sec");
}

TEST(SentryRateLimits, HeaderFirstThenRetryAfterThen60s) {
  absl::Time now = absl::FromUnixSeconds(1767607200);
  absl::Duration cap = absl::Hours(1);
  AttemptResult r;
  r.status = 429;
  r.headers["x-sentry-rate-limits"] = "60:error:key";
  EXPECT_EQ(SentryRateLimit(r, now, cap), now + absl::Seconds(60));
  r.headers["x-sentry-rate-limits"] = "2.5:default;error:key, 120:transaction:key";
  EXPECT_EQ(SentryRateLimit(r, now, cap), now + absl::Milliseconds(2500));
  r.headers["x-sentry-rate-limits"] = "10:error:key, 30::organization";  // longest wins
  EXPECT_EQ(SentryRateLimit(r, now, cap), now + absl::Seconds(30));
  r.status = 200;  // on any answer
  r.headers["x-sentry-rate-limits"] = "30::organization";
  EXPECT_EQ(SentryRateLimit(r, now, cap), now + absl::Seconds(30));
  r.headers["x-sentry-rate-limits"] = "30:transaction;session:key";  // not ours
  EXPECT_EQ(SentryRateLimit(r, now, cap), std::nullopt);
  r.headers.clear();
  EXPECT_EQ(SentryRateLimit(r, now, cap), std::nullopt);
  r.status = 429;
  r.retry_after = "7";
  EXPECT_EQ(SentryRateLimit(r, now, cap), now + absl::Seconds(7));
  r.retry_after.clear();
  EXPECT_EQ(SentryRateLimit(r, now, cap), now + absl::Seconds(60));
}

TEST_F(SaasDelivery, SentryGetsOneEnvelopePerNotificationOnOneIssue) {
  HttpReceiver rx;
  SentryModel model("42", kSentryKey);
  Handle(&rx, &model);
  DestinationOptions o = Options("sentry");
  o.keys["dsn"] = absl::StrCat("http://", kSentryKey, "@127.0.0.1:", rx.port(), "/42");
  auto sink = Sink({o});
  Event big = MakeEvent(EventKind::kViolationOpened);
  big.message = std::string(20000, 'x');  // Sentry keeps 8192 characters
  sink->OnEvent(big);
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened));  // folded
  sink->OnEvent(MakeEvent(EventKind::kViolationResolved));
  sink->Drain();
  EXPECT_THAT(model.Rejections(), ::testing::IsEmpty());
  std::vector<nlohmann::json> events = model.Accepted();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["level"], "error");
  EXPECT_EQ(events[0]["platform"], "native");
  EXPECT_EQ(events[0]["message"]["formatted"].get<std::string>().size(), 8192u);
  EXPECT_EQ(events[0]["tags"]["gridprobe.incident"], "opened");
  EXPECT_EQ(events[0]["tags"]["operation"], "sort");
  EXPECT_EQ(events[1]["level"], "info");
  EXPECT_THAT(events[1]["message"]["formatted"].get<std::string>(), ::testing::StartsWith("resolved: "));
  EXPECT_EQ(events[1]["extra"]["incident"]["folded"], 1);
  EXPECT_EQ(events[0]["fingerprint"], events[1]["fingerprint"]);
  EXPECT_NE(events[0]["event_id"], events[1]["event_id"]);
  std::vector<HttpRequest> reqs = rx.Requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].headers.at("x-sentry-auth"),
            absl::StrCat("Sentry sentry_version=7, sentry_client=gridprobe/0.1.0, sentry_key=",
                         kSentryKey));
  EXPECT_EQ(sink->Stats()[0].sent, 2u);
}

TEST_F(SaasDelivery, SentryRefusesAWrongKeyOnceAndTheKeyIsNeverShown) {
  HttpReceiver rx;
  SentryModel model("42", "0000ffff0000ffff0000ffff0000ffff");
  Handle(&rx, &model);
  DestinationOptions o = Options("sentry");
  o.keys["dsn"] = absl::StrCat("http://", kSentryKey, "@127.0.0.1:", rx.port(), "/42");
  auto sink = Sink({o});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened, Severity::kError, "sort"));
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened, Severity::kError, "scan"));
  sink->Drain();
  EXPECT_EQ(rx.Requests().size(), 2u);  // not retried
  EXPECT_THAT(model.Rejections(), ::testing::ElementsAre("403 sentry_key", "403 sentry_key"));
  DestinationStats s = sink->Stats()[0];
  EXPECT_EQ(s.failed, 2u);
  EXPECT_EQ(s.retried, 0u);
  EXPECT_THAT(s.last_error, HasSubstr("HTTP 403"));
  EXPECT_THAT(s.last_error, HasSubstr("ProjectId"));
  std::string log = Log();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_THAT(log, Not(HasSubstr(kSentryKey)));
  nlohmann::json report;
  sink->AddToReport(&report);
  EXPECT_THAT(report.dump(), Not(HasSubstr(kSentryKey)));
}

TEST_F(SaasDelivery, SentryTooLargeIsFinal) {
  HttpReceiver rx;
  rx.Script({{413, {"Content-Type: application/json"}, "{\"detail\":\"envelope exceeded size limits\"}"}});
  DestinationOptions o = Options("sentry");
  o.keys["dsn"] = absl::StrCat("http://", kSentryKey, "@127.0.0.1:", rx.port(), "/42");
  auto sink = Sink({o});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened));
  sink->Drain();
  EXPECT_EQ(rx.Requests().size(), 1u);
  EXPECT_EQ(sink->Stats()[0].failed, 1u);
}

TEST_F(SaasDelivery, SentryRateLimitsHoldEverythingUntilTheyExpire) {
  HttpReceiver rx;
  SentryModel model("42", kSentryKey);
  Handle(&rx, &model);
  // A 429 limiting errors for 60 s; then a 200 that limits the whole
  // organisation for 30 s.
  rx.Script({{429, {"X-Sentry-Rate-Limits: 60:error:key", "Retry-After: 60"}, ""}});
  FakeClock clock;
  DestinationOptions o = Options("sentry");
  o.keys["dsn"] = absl::StrCat("http://", kSentryKey, "@127.0.0.1:", rx.port(), "/42");
  auto sink = Sink({o}, &clock);
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened, Severity::kError, "sort"));
  ASSERT_TRUE(rx.WaitFor(1));
  // Backoff alone would resend within 50 ms; the limit holds it.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(rx.Requests().size(), 1u);
  clock.Advance(absl::Seconds(59));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(rx.Requests().size(), 1u);
  clock.Advance(absl::Seconds(2));
  ASSERT_TRUE(rx.WaitFor(2));
  EXPECT_EQ(rx.Requests()[0].body, rx.Requests()[1].body);  // the same envelope, once more
  rx.Script({{200, {"X-Sentry-Rate-Limits: 30::organization"}, "{}"}});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened, Severity::kError, "scan"));
  ASSERT_TRUE(rx.WaitFor(3));
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened, Severity::kError, "join"));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(rx.Requests().size(), 3u);  // held by the 200's limit
  clock.Advance(absl::Seconds(31));
  ASSERT_TRUE(rx.WaitFor(4));
  sink->Drain();
  DestinationStats s = sink->Stats()[0];
  EXPECT_EQ(s.sent, 3u);
  EXPECT_EQ(s.retried, 1u);
  EXPECT_EQ(model.Accepted().size(), 2u);  // the 429'd one and "join"
}

// ---- datadog

TEST(DatadogSites, EverySiteMapsToItsApiHost) {
  struct Case {
    const char *site, *base;
  } cases[] = {{"datadoghq.com", "https://api.datadoghq.com"},
               {"us1", "https://api.datadoghq.com"},
               {"us3.datadoghq.com", "https://api.us3.datadoghq.com"},
               {"us3", "https://api.us3.datadoghq.com"},
               {"us5.datadoghq.com", "https://api.us5.datadoghq.com"},
               {"datadoghq.eu", "https://api.datadoghq.eu"},
               {"eu", "https://api.datadoghq.eu"},
               {"ap1.datadoghq.com", "https://api.ap1.datadoghq.com"},
               {"ap2.datadoghq.com", "https://api.ap2.datadoghq.com"},
               {"uk1.datadoghq.com", "https://api.uk1.datadoghq.com"},
               {"ddog-gov.com", "https://api.ddog-gov.com"},
               {"us2.ddog-gov.com", "https://api.us2.ddog-gov.com"},
               {"app.datadoghq.eu", "https://api.datadoghq.eu"}};
  for (const Case& c : cases) EXPECT_EQ(DatadogApiBase(c.site), c.base) << c.site;
  EXPECT_EQ(DatadogApiBase("datadoghq.co"), std::nullopt);
  DestinationOptions o;
  o.type = "datadog";
  o.keys = {{"api_key", kDatadogKey}, {"site", "datadoghq.co"}};
  Redactor red;
  absl::StatusOr<std::unique_ptr<Destination>> d = MakeDestination(o, &red);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("'datadoghq.co' is not a Datadog site"));
  EXPECT_THAT(d.status().message(), HasSubstr("us5.datadoghq.com (us5)"));
  o.keys["site"] = "us5";
  d = MakeDestination(o, &red);
  ASSERT_TRUE(d.ok());
  absl::StatusOr<Request> r = (*d)->Format(Note(MakeEvent(EventKind::kViolationOpened)));
  EXPECT_EQ(r->url, "https://api.us5.datadoghq.com/api/v1/events");
  std::vector<Request> m = (*d)->Metrics(MakeWindow());
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].url, "https://api.us5.datadoghq.com/api/v2/series");
}

TEST(DatadogKeys, AggregationKeyFitsIn100) {
  EXPECT_EQ(DatadogAggregationKey("a/b"), "a/b");
  std::string long_key(150, 'k');
  std::string a = DatadogAggregationKey(long_key);
  EXPECT_EQ(a.size(), 100u);
  EXPECT_NE(a, DatadogAggregationKey(long_key + "x"));
}

TEST_F(SaasDelivery, DatadogEventsPerStateAndSeriesPerWindow) {
  HttpReceiver rx;
  DatadogModel model(kDatadogKey);
  Handle(&rx, &model);
  DestinationOptions o = Options("datadog", rx.url());
  o.keys["api_key"] = kDatadogKey;
  auto sink = Sink({o});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened, Severity::kWarning, "sort"));
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened, Severity::kCritical, "sort"));  // updated
  sink->OnEvent(MakeEvent(EventKind::kViolationResolved, Severity::kCritical, "sort"));
  Event long_key = MakeEvent(EventKind::kViolationOpened, Severity::kError, "scan");
  long_key.key = std::string(140, 'k');
  sink->OnEvent(long_key);
  sink->OnWindow(MakeWindow());
  sink->Drain();
  EXPECT_THAT(model.Rejections(), ::testing::IsEmpty());
  std::vector<nlohmann::json> got = model.Accepted();
  ASSERT_EQ(got.size(), 5u);
  std::vector<nlohmann::json> events, series;
  for (const auto& j : got) (j["_api"] == "datadog.events" ? events : series).push_back(j);
  ASSERT_EQ(events.size(), 4u);
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(events[0]["alert_type"], "warning");
  EXPECT_EQ(events[1]["alert_type"], "error");
  EXPECT_THAT(events[1]["tags"], ::testing::Contains("severity:critical"));
  EXPECT_EQ(events[2]["alert_type"], "success");
  EXPECT_EQ(events[0]["aggregation_key"], "gridkit-demo[4242]/violation/sort/p95");
  EXPECT_EQ(events[2]["aggregation_key"], events[0]["aggregation_key"]);
  EXPECT_EQ(events[3]["aggregation_key"].get<std::string>().size(), 100u);
  // sort: calls + 4 percentiles; scan had no calls: its count only.
  const nlohmann::json& s = series[0]["series"];
  ASSERT_EQ(s.size(), 6u);
  EXPECT_EQ(s[0]["metric"], "gridprobe.op.calls");
  EXPECT_EQ(s[0]["type"], 1);
  EXPECT_EQ(s[0]["interval"], 10);
  EXPECT_EQ(s[0]["points"][0]["value"], 480.0);
  EXPECT_EQ(s[2]["metric"], "gridprobe.op.latency.p95");
  EXPECT_EQ(s[2]["type"], 3);
  EXPECT_DOUBLE_EQ(s[2]["points"][0]["value"].get<double>(), 12.4);
  EXPECT_EQ(s[5]["metric"], "gridprobe.op.calls");
  EXPECT_THAT(s[5]["tags"], ::testing::Contains("op:scan"));
  for (const HttpRequest& r : rx.Requests()) {
    bool is_series = r.path == "/api/v2/series";
    EXPECT_EQ(r.headers.count("content-encoding"), is_series ? 1u : 0u) << r.path;
  }
  DestinationStats st = sink->Stats()[0];
  EXPECT_EQ(st.sent, 4u);
  EXPECT_EQ(st.metrics_sent, 1u);
}

TEST_F(SaasDelivery, DatadogForbiddenIsReportedOnceAndTheKeyNeverShown) {
  HttpReceiver rx;
  DatadogModel model("ffffffffffffffffffffffffffffffff");
  Handle(&rx, &model);
  DestinationOptions o = Options("datadog", rx.url());
  o.keys["api_key"] = kDatadogKey;
  auto sink = Sink({o});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened));
  sink->OnWindow(MakeWindow());
  sink->Drain();
  EXPECT_EQ(rx.Requests().size(), 2u);
  DestinationStats s = sink->Stats()[0];
  EXPECT_EQ(s.failed, 2u);
  EXPECT_EQ(s.retried, 0u);
  EXPECT_THAT(s.last_error, HasSubstr("HTTP 403"));
  EXPECT_THAT(s.last_error, HasSubstr("Forbidden"));
  std::string log = Log();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_THAT(log, Not(HasSubstr(kDatadogKey)));
}

TEST_F(SaasDelivery, DatadogRateLimitWaitsForTheReset) {
  HttpReceiver rx;
  DatadogModel model(kDatadogKey);
  Handle(&rx, &model);
  rx.Script({{429,
              {"X-RateLimit-Limit: 1000", "X-RateLimit-Period: 60", "X-RateLimit-Remaining: 0",
               "X-RateLimit-Reset: 20", "X-RateLimit-Name: post_event"},
              "{\"errors\":[\"Rate limit exceeded\"]}"}});
  FakeClock clock;
  DestinationOptions o = Options("datadog", rx.url());
  o.keys["api_key"] = kDatadogKey;
  auto sink = Sink({o}, &clock);
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened));
  ASSERT_TRUE(rx.WaitFor(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(rx.Requests().size(), 1u);
  clock.Advance(absl::Seconds(21));
  ASSERT_TRUE(rx.WaitFor(2));
  sink->Drain();
  EXPECT_EQ(model.Accepted().size(), 1u);
  EXPECT_EQ(sink->Stats()[0].retried, 1u);
}

// ---- newrelic

TEST(NewRelicRegions, UsEuAndFedRamp) {
  DestinationOptions o;
  o.type = "newrelic";
  o.keys = {{"license_key", kNewRelicKey}, {"account_id", "1234567"}};
  Redactor red;
  for (auto [region, events, metrics] :
       {std::tuple<const char*, const char*, const char*>{
            "us", "https://insights-collector.newrelic.com/v1/accounts/1234567/events",
            "https://metric-api.newrelic.com/metric/v1"},
        {"eu", "https://insights-collector.eu01.nr-data.net/v1/accounts/1234567/events",
         "https://metric-api.eu.newrelic.com/metric/v1"},
        {"gov", "https://gov-insights-collector.newrelic.com/v1/accounts/1234567/events",
         "https://gov-metric-api.newrelic.com/metric/v1"}}) {
    o.keys["region"] = region;
    absl::StatusOr<std::unique_ptr<Destination>> d = MakeDestination(o, &red);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ((*d)->Format(Note(MakeEvent(EventKind::kViolationOpened)))->url, events);
    EXPECT_EQ((*d)->Metrics(MakeWindow()).at(0).url, metrics);
  }
  o.keys["region"] = "apac";
  EXPECT_THAT(MakeDestination(o, &red).status().message(), HasSubstr("us, eu or gov"));
  o.keys["region"] = "us";
  o.keys["account_id"] = "12ab";
  EXPECT_THAT(MakeDestination(o, &red).status().message(), HasSubstr("'account_id'"));
  o.keys["account_id"] = "1";
  o.keys["api_key"] = "x";
  EXPECT_THAT(MakeDestination(o, &red).status().message(), HasSubstr("takes one of"));
}

TEST_F(SaasDelivery, NewRelicIncidentEventsAndMetrics) {
  HttpReceiver rx;
  NewRelicModel model("1234567", kNewRelicKey);
  Handle(&rx, &model);
  DestinationOptions o = Options("newrelic", rx.url());
  o.keys = {{"license_key", kNewRelicKey}, {"account_id", "1234567"}, {"region", "eu"}};
  auto sink = Sink({o});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened, Severity::kCritical));
  sink->OnEvent(MakeEvent(EventKind::kViolationResolved, Severity::kCritical));
  sink->OnWindow(MakeWindow());
  sink->Drain();
  EXPECT_THAT(model.Rejections(), ::testing::IsEmpty());
  std::vector<nlohmann::json> got = model.Accepted();
  ASSERT_EQ(got.size(), 3u) << sink->SummaryLines()[0];
  std::vector<nlohmann::json> events, metrics;
  for (const auto& j : got) (j["_api"] == "newrelic.events" ? events : metrics).push_back(j);
  ASSERT_EQ(events.size(), 2u);
  const nlohmann::json& trigger = events[0]["body"][0];
  const nlohmann::json& resolve = events[1]["body"][0];
  EXPECT_EQ(trigger["eventType"], "NrAiIncidentExternal");
  EXPECT_EQ(trigger["state"], "trigger");
  EXPECT_EQ(trigger["priority"], "critical");
  EXPECT_EQ(trigger["source"], "gridprobe");
  EXPECT_EQ(resolve["state"], "resolve");
  EXPECT_EQ(resolve["aggregationTag.key"], trigger["aggregationTag.key"]);
  EXPECT_EQ(resolve["aggregationTag.host"], trigger["aggregationTag.host"]);
  EXPECT_EQ(trigger["externalId"], "gridkit-demo[4242]/violation/sort/p95");
  EXPECT_EQ(trigger["gridprobe.figure.budget"], 1e8);
  ASSERT_EQ(metrics.size(), 1u);
  const nlohmann::json& m = metrics[0]["body"][0]["metrics"];
  ASSERT_EQ(m.size(), 7u);  // sort: count, 4 gauges, summary; scan: count
  EXPECT_EQ(m[0]["name"], "gridprobe.op.calls");
  EXPECT_EQ(metrics[0]["body"][0]["common"]["interval.ms"], 10000);
  EXPECT_EQ(m[5]["type"], "summary");
  EXPECT_DOUBLE_EQ(m[5]["value"]["sum"].get<double>(), 2153.0);
  for (const HttpRequest& r : rx.Requests()) {
    EXPECT_EQ(r.headers.at("content-encoding"), "gzip");
    EXPECT_EQ(r.headers.at("api-key"), kNewRelicKey);
  }
  EXPECT_EQ(sink->Stats()[0].metrics_sent, 1u);
}

TEST_F(SaasDelivery, NewRelicInsertKeyReachesTheEventApiOnly) {
  HttpReceiver rx;
  NewRelicModel model("77", "NRII-insert-key-0123456789", /*insert_key=*/true);
  Handle(&rx, &model);
  DestinationOptions o = Options("newrelic", rx.url());
  o.keys = {{"insert_key", "NRII-insert-key-0123456789"}, {"account_id", "77"}};
  auto sink = Sink({o});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened));
  sink->OnWindow(MakeWindow());  // no metrics with an insert key
  sink->Drain();
  EXPECT_THAT(model.Rejections(), ::testing::IsEmpty());
  ASSERT_EQ(rx.Requests().size(), 1u);
  EXPECT_EQ(rx.Requests()[0].headers.at("x-insert-key"), "NRII-insert-key-0123456789");
  EXPECT_EQ(rx.Requests()[0].headers.count("api-key"), 0u);
}

TEST_F(SaasDelivery, NewRelicFailuresRetriedOrReportedOnceRedacted) {
  HttpReceiver rx;
  NewRelicModel model("1234567", kNewRelicKey);
  Handle(&rx, &model);
  rx.Script({{503, {}, "Service Unavailable"},
             {429, {"Retry-After: 0"}, ""},
             {413, {"Content-Type: application/json"},
              absl::StrCat("{\"error\":\"Request Entity Too Large for key ", kNewRelicKey, "\"}")}});
  DestinationOptions o = Options("newrelic", rx.url());
  o.keys = {{"license_key", kNewRelicKey}, {"account_id", "1234567"}, {"metrics", "false"}};
  auto sink = Sink({o});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened, Severity::kError, "sort"));  // 503, 429, ok
  ASSERT_TRUE(rx.WaitFor(3));
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened, Severity::kError, "scan"));  // 413
  sink->Drain();
  EXPECT_EQ(rx.Requests().size(), 4u);
  DestinationStats s = sink->Stats()[0];
  EXPECT_EQ(s.sent, 1u);
  EXPECT_EQ(s.retried, 2u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_THAT(s.last_error, HasSubstr("HTTP 413"));
  EXPECT_THAT(s.last_error, HasSubstr("[redacted]"));
  std::string log = Log();
  EXPECT_THAT(log, Not(HasSubstr(kNewRelicKey)));
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
}

// The models reject what the services reject: they can fail.
TEST(SaasModels, RejectWhatTheServicesReject) {
  SentryModel sentry("42", "k");
  HttpRequest r;
  r.method = "POST";
  r.path = "/api/42/envelope/";
  r.headers["x-sentry-auth"] = "Sentry sentry_version=7, sentry_key=k";
  r.headers["content-type"] = "application/x-sentry-envelope";
  std::string id = "9ec79c33ec9942ab8353589fcb2e04dc";
  std::string ev = "{\"event_id\":\"" + id + "\",\"timestamp\":1,\"platform\":\"native\"}";
  auto env = [&](const std::string& head, size_t len) {
    return head + "\n{\"type\":\"event\",\"length\":" + std::to_string(len) + "}\n" + ev + "\n";
  };
  std::string head = "{\"event_id\":\"" + id + "\",\"sent_at\":\"2026-01-05T10:00:01Z\"}";
  r.body = env(head, ev.size());
  EXPECT_EQ(sentry.Handle(r).status, 200);
  r.body = env(head, ev.size() - 1);  // the length must be the payload's
  EXPECT_EQ(sentry.Handle(r).status, 400);
  r.body = env("{\"event_id\":\"" + id + "\",\"sent_at\":\"x\",\"sent_at\":\"y\"}", ev.size());
  EXPECT_EQ(sentry.Handle(r).status, 400);
  r.body = env(head, ev.size());
  r.headers["x-sentry-auth"] = "Sentry sentry_version=7, sentry_key=other";
  EXPECT_EQ(sentry.Handle(r).status, 403);
  r.headers.erase("x-sentry-auth");
  EXPECT_EQ(sentry.Handle(r).status, 403);

  DatadogModel dd("k");
  HttpRequest d;
  d.method = "POST";
  d.path = "/api/v1/events";
  d.headers = {{"dd-api-key", "k"}, {"content-type", "application/json"}};
  d.body = R"({"title":"t","text":"x","alert_type":"error","aggregation_key":"a"})";
  EXPECT_EQ(dd.Handle(d).status, 202);
  d.body = R"({"title":"t","text":"x","alert_type":"fatal"})";
  EXPECT_EQ(dd.Handle(d).status, 400);
  d.body = R"({"title":"t","text":")" + std::string(4001, 'x') + R"("})";
  EXPECT_EQ(dd.Handle(d).status, 400);
  d.body = std::string(512001, ' ');
  EXPECT_EQ(dd.Handle(d).status, 413);
  d.path = "/api/v2/series";
  d.body = R"({"series":[{"metric":"m","type":1,"points":[{"timestamp":1,"value":1}]}]})";
  EXPECT_EQ(dd.Handle(d).status, 400);  // a count without interval, a stale point
  d.headers["dd-api-key"] = "other";
  EXPECT_EQ(dd.Handle(d).status, 403);

  NewRelicModel nr("1", "k");
  HttpRequest n;
  n.method = "POST";
  n.path = "/v1/accounts/1/events";
  n.headers = {{"api-key", "k"}, {"content-type", "application/json"}};
  n.body = R"([{"eventType":"X","a":1}])";
  n.headers["content-length"] = std::to_string(n.body.size());
  EXPECT_EQ(nr.Handle(n).status, 200);
  n.headers.erase("content-length");
  EXPECT_EQ(nr.Handle(n).status, 411);
  n.body = R"([{"eventType":"X","a":{"nested":1}}])";
  n.headers["content-length"] = std::to_string(n.body.size());
  EXPECT_EQ(nr.Handle(n).status, 400);
  n.body = R"([{"eventType":"NrAiIncidentExternal","state":"trigger","title":"t","source":"s"}])";
  n.headers["content-length"] = std::to_string(n.body.size());
  EXPECT_EQ(nr.Handle(n).status, 400);  // no aggregationTag.*
  n.path = "/metric/v1";
  n.body = R"([{"metrics":[{"name":"m","type":"count","value":1}]}])";
  n.headers["content-length"] = std::to_string(n.body.size());
  EXPECT_EQ(nr.Handle(n).status, 400);  // a count without interval.ms
  n.body = std::string(1000001, ' ');
  n.headers["content-length"] = std::to_string(n.body.size());
  EXPECT_EQ(nr.Handle(n).status, 413);
  n.headers["api-key"] = "other";
  EXPECT_EQ(nr.Handle(n).status, 403);
}

}  // namespace
}  // namespace gridprobe::alerts
