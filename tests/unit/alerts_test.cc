// The alert destinations: incident state and filters with a fake clock,
// the retry contract, redaction, and delivery to loopback receivers.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <atomic>
#include <thread>
#include <chrono>
#include <map>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/support/http_receiver.h"
#include "userspace/sinks/alerts/alerts_sink.h"
#include "userspace/sinks/alerts/incident.h"
#include "userspace/sinks/alerts/policy.h"

namespace gridprobe::alerts {
namespace {

using ::gridprobe::testing::HttpReceiver;
using ::gridprobe::testing::HttpReply;
using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kT0 = absl::FromUnixSeconds(1767607200);

Event MakeEvent(EventKind kind, Severity severity = Severity::kError,
                const std::string& op = "sort", absl::Time time = kT0) {
  Event e;
  e.kind = kind;
  e.severity = severity;
  e.time = time;
  e.impact = Impact::kUserVisible;
  e.target = TargetInfo{};
  e.target.pid = 4242;
  e.target.comm = "gridkit-demo";
  e.operation = op;
  e.metric = "p95";
  e.key = absl::StrCat("gridkit-demo[4242]/", EventFamily(kind), "/", op, "/p95");
  e.message = absl::StrCat(op, " p95 152 ms over its 100 ms budget");
  e.figures = {{"budget", 1e8}, {"actual", 1.52e8}, {"unit", "ns"}};
  return e;
}

// ---- policy

TEST(AlertPolicy, RetriesConnectionErrorsTimeoutsAnd5xxOnly) {
  auto judge = [](long status) {
    AttemptResult r;
    r.status = status;
    return Judge(r);
  };
  EXPECT_EQ(judge(200), Verdict::kDelivered);
  EXPECT_EQ(judge(202), Verdict::kDelivered);
  EXPECT_EQ(judge(0), Verdict::kRetry);
  EXPECT_EQ(judge(500), Verdict::kRetry);
  EXPECT_EQ(judge(503), Verdict::kRetry);
  EXPECT_EQ(judge(429), Verdict::kRetry);
  EXPECT_EQ(judge(400), Verdict::kReject);
  EXPECT_EQ(judge(403), Verdict::kReject);
  EXPECT_EQ(judge(301), Verdict::kReject);  // redirects are not followed
  AttemptResult exec;
  exec.exit_status = 3;
  EXPECT_EQ(Judge(exec), Verdict::kReject);
}

TEST(AlertPolicy, BackoffIsFullJitterUnderADoublingCeiling) {
  auto one = [] { return 1.0; };
  auto zero = [] { return 0.0; };
  auto half = [] { return 0.5; };
  EXPECT_EQ(Backoff(1, absl::Seconds(1), absl::Seconds(60), one), absl::Seconds(1));
  EXPECT_EQ(Backoff(3, absl::Seconds(1), absl::Seconds(60), one), absl::Seconds(4));
  EXPECT_EQ(Backoff(3, absl::Seconds(1), absl::Seconds(60), half), absl::Seconds(2));
  EXPECT_EQ(Backoff(30, absl::Seconds(1), absl::Seconds(60), one), absl::Seconds(60));
  EXPECT_EQ(Backoff(5, absl::Seconds(1), absl::Seconds(60), zero), absl::ZeroDuration());
}

TEST(AlertPolicy, RetryAfterInSecondsOrAsAnHttpDate) {
  absl::Time now = absl::FromUnixSeconds(1445412420);  // Wed, 21 Oct 2015 07:27:00 GMT
  EXPECT_EQ(ParseRetryAfter("2", now, absl::Minutes(5)), absl::Seconds(2));
  EXPECT_EQ(ParseRetryAfter(" 1.5 ", now, absl::Minutes(5)), absl::Milliseconds(1500));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now, absl::Minutes(5)),
            absl::Seconds(60));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now, absl::Minutes(5)),
            absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("86400", now, absl::Minutes(5)), absl::Minutes(5));
  EXPECT_EQ(ParseRetryAfter("soon", now, absl::Minutes(5)), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", now, absl::Minutes(5)), std::nullopt);
}

TEST(AlertPolicy, RedactsSecretsTheirEncodingsAndUrlCredentials) {
  Redactor r;
  r.Add("s3cr3t/key+1");
  r.AddUrl("https://bob:hunter22@hooks.example.com/x?token=tok_abcdef&v=1");
  std::string out = r("bad key s3cr3t/key+1 (s3cr3t%2Fkey%2B1) hunter22 tok_abcdef\nnext");
  EXPECT_THAT(out, Not(HasSubstr("s3cr3t")));
  EXPECT_THAT(out, Not(HasSubstr("hunter22")));
  EXPECT_THAT(out, Not(HasSubstr("tok_abcdef")));
  EXPECT_THAT(out, Not(HasSubstr("\n")));
  EXPECT_THAT(out, HasSubstr("[redacted]"));
  EXPECT_EQ(ShowUrl("https://bob:hunter22@hooks.slack.com/services/T1/B2/xyz?a=b"),
            "https://hooks.slack.com");
  EXPECT_EQ(ShowUrl("http://127.0.0.1:9093/api"), "http://127.0.0.1:9093");
}

TEST(AlertPolicy, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// ---- incidents and filters

TEST(AlertIncidents, OpenedOnceRepeatedPerIntervalWithFoldsResolvedOnce) {
  IncidentBook book(absl::Hours(4));
  Event open = MakeEvent(EventKind::kLeakSuspected, Severity::kWarning);
  std::optional<IncidentInfo> a = book.Decide(open, true, kT0);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->state, IncidentState::kOpened);
  EXPECT_FALSE(book.Decide(open, true, kT0 + absl::Hours(1)));
  EXPECT_FALSE(book.Decide(open, true, kT0 + absl::Hours(2)));
  std::optional<IncidentInfo> b = book.Decide(open, true, kT0 + absl::Hours(4));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->state, IncidentState::kRepeated);
  EXPECT_EQ(b->folded, 2);
  EXPECT_EQ(b->notification, 2);
  EXPECT_EQ(b->opened_at, kT0);
  EXPECT_FALSE(book.Decide(open, true, kT0 + absl::Hours(5)));
  Event cleared = MakeEvent(EventKind::kLeakCleared, Severity::kWarning);
  std::optional<IncidentInfo> c = book.Decide(cleared, true, kT0 + absl::Hours(6));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state, IncidentState::kResolved);
  EXPECT_EQ(c->folded, 1);
  EXPECT_FALSE(book.Decide(cleared, true, kT0 + absl::Hours(7)));
  EXPECT_EQ(book.unmatched(), 1);
  EXPECT_EQ(book.folded(), 3);
  EXPECT_EQ(book.open(), 0u);
}

TEST(AlertIncidents, ASeverityRiseIsNotifiedAtOnce) {
  IncidentBook book(absl::Hours(4));
  ASSERT_TRUE(book.Decide(MakeEvent(EventKind::kViolationOpened), true, kT0));
  std::optional<IncidentInfo> up = book.Decide(
      MakeEvent(EventKind::kViolationUpdated, Severity::kCritical), true, kT0 + absl::Seconds(10));
  ASSERT_TRUE(up);
  EXPECT_EQ(up->state, IncidentState::kUpdated);
  // The same severity again is a repeat, folded.
  EXPECT_FALSE(book.Decide(MakeEvent(EventKind::kViolationUpdated, Severity::kCritical), true,
                           kT0 + absl::Seconds(20)));
}

TEST(AlertIncidents, IncidentsAreByKey) {
  IncidentBook book(absl::Hours(4));
  EXPECT_TRUE(book.Decide(MakeEvent(EventKind::kViolationOpened, Severity::kError, "sort"), true, kT0));
  EXPECT_TRUE(book.Decide(MakeEvent(EventKind::kViolationOpened, Severity::kError, "scan"), true, kT0));
  EXPECT_EQ(book.open(), 2u);
}

TEST(AlertFilters, SeverityImpactAndFamilies) {
  DestinationOptions o;
  o.min_severity = "error";
  o.impact = {"background"};
  absl::StatusOr<EventFilter> f = EventFilter::Create(o);
  ASSERT_TRUE(f.ok()) << f.status();
  Event e = MakeEvent(EventKind::kViolationOpened, Severity::kError);
  EXPECT_FALSE(f->Accepts(e));  // userVisible
  e.impact = Impact::kBackground;
  EXPECT_TRUE(f->Accepts(e));
  e.severity = Severity::kWarning;
  EXPECT_FALSE(f->Accepts(e));
  DestinationOptions d;  // defaults: violation and leak, warning and up
  absl::StatusOr<EventFilter> def = EventFilter::Create(d);
  ASSERT_TRUE(def.ok());
  EXPECT_FALSE(def->Accepts(MakeEvent(EventKind::kPrediction)));
  EXPECT_FALSE(def->Accepts(MakeEvent(EventKind::kTargetExited)));
  EXPECT_TRUE(def->Accepts(MakeEvent(EventKind::kLeakSuspected, Severity::kWarning)));
  o.events = {"violation", "gossip"};
  EXPECT_FALSE(EventFilter::Create(o).ok());
  o.events = {"violation"};
  o.min_severity = "info";
  EXPECT_FALSE(EventFilter::Create(o).ok());
}

// ---- delivery to loopback receivers

class AlertDelivery : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gridprobe-alerts-XXXXXX";
    dir_ = mkdtemp(tmpl);
    log_ = std::tmpfile();
  }
  void TearDown() override {
    std::fclose(log_);
    std::filesystem::remove_all(dir_);
  }
  DestinationOptions Options(const std::string& type, const std::string& url) {
    DestinationOptions o;
    o.type = type;
    o.name = type;
    o.url = url;
    o.outbox_dir = dir_ + "/outbox";
    o.backoff_base = absl::Milliseconds(10);
    o.backoff_cap = absl::Milliseconds(50);
    o.timeout = absl::Milliseconds(500);
    o.drain_timeout = absl::Seconds(20);
    return o;
  }
  std::unique_ptr<AlertsSink> Sink(std::vector<DestinationOptions> o) {
    SinkHooks hooks;
    hooks.log = log_;
    hooks.console = log_;
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
  std::vector<std::string> OutboxFiles(const std::string& name) {
    std::vector<std::string> out;
    std::string d = dir_ + "/outbox/" + name;
    if (!std::filesystem::exists(d)) return out;
    for (const auto& e : std::filesystem::directory_iterator(d)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string dir_;
  FILE* log_ = nullptr;
};

TEST_F(AlertDelivery, WebhookPostsTheEventAndIncidentSigned) {
  HttpReceiver rx;
  DestinationOptions o = Options("webhook", rx.url("/hook"));
  o.keys["secret"] = "whsec-test-0123456789";
  auto sink = Sink({o});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened));
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened));  // folded
  sink->OnEvent(MakeEvent(EventKind::kViolationResolved));
  sink->Drain();
  std::vector<testing::HttpRequest> reqs = rx.Requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (const auto& r : reqs) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.path, "/hook");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    EXPECT_EQ(r.headers.at("x-gridprobe-signature"),
              "sha256=" + HmacSha256Hex("whsec-test-0123456789", r.body));
    EXPECT_THAT(r.body, Not(HasSubstr("whsec-test")));
  }
  nlohmann::json first = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(first["schema"], "gridprobe.event/1");
  EXPECT_EQ(first["kind"], "violation_opened");
  EXPECT_EQ(first["incident"]["state"], "opened");
  nlohmann::json second = nlohmann::json::parse(reqs[1].body);
  EXPECT_EQ(second["incident"]["state"], "resolved");
  EXPECT_EQ(second["incident"]["folded"], 1);
  EXPECT_EQ(second["key"], first["key"]);
  DestinationStats s = sink->Stats()[0];
  EXPECT_EQ(s.sent, 2u);
  EXPECT_EQ(s.folded, 1u);
  EXPECT_EQ(s.retried, 0u);
}

TEST_F(AlertDelivery, ServerErrorsAndRateLimitsAreRetriedWithTheSameBody) {
  HttpReceiver rx;
  rx.Script({{500, {}, "boom"}, {429, {"Retry-After: 1"}, "slow down"}, {200}});
  auto sink = Sink({Options("webhook", rx.url("/hook"))});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened));
  ASSERT_TRUE(rx.WaitFor(3));
  sink->Drain();
  std::vector<testing::HttpRequest> reqs = rx.Requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].body, reqs[1].body);
  EXPECT_EQ(reqs[1].body, reqs[2].body);
  DestinationStats s = sink->Stats()[0];
  EXPECT_EQ(s.sent, 1u);
  EXPECT_EQ(s.retried, 2u);
  EXPECT_EQ(s.failed, 0u);
}

TEST_F(AlertDelivery, ClientErrorsAreReportedOnceWithoutSecretsAndNotRetried) {
  HttpReceiver rx;
  rx.SetFallback({400, {}, "{\"error\":\"bad routing key 0123456789abcdef0123456789abcdef\"}"});
  DestinationOptions o = Options("pagerduty", rx.url("/v2/enqueue"));
  o.keys["routing_key"] = "0123456789abcdef0123456789abcdef";
  auto sink = Sink({o});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened, Severity::kError, "sort"));
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened, Severity::kError, "scan"));
  sink->Drain();
  EXPECT_EQ(rx.Requests().size(), 2u);
  DestinationStats s = sink->Stats()[0];
  EXPECT_EQ(s.failed, 2u);
  EXPECT_EQ(s.retried, 0u);
  EXPECT_THAT(s.last_error, HasSubstr("HTTP 400"));
  EXPECT_THAT(s.last_error, HasSubstr("bad routing key [redacted]"));
  std::string log = Log();
  EXPECT_THAT(log, Not(HasSubstr("0123456789abcdef")));
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
}

TEST_F(AlertDelivery, PagerDutyTriggersAndResolvesOnTheDedupKey) {
  HttpReceiver rx;
  rx.SetFallback({202, {}, "{\"status\":\"success\"}"});
  DestinationOptions o = Options("pagerduty", rx.url("/v2/enqueue"));
  o.keys["routing_key"] = "0123456789abcdef0123456789abcdef";
  auto sink = Sink({o});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened));
  sink->OnEvent(MakeEvent(EventKind::kViolationResolved));
  sink->Drain();
  std::vector<testing::HttpRequest> reqs = rx.Requests();
  ASSERT_EQ(reqs.size(), 2u);
  nlohmann::json t = nlohmann::json::parse(reqs[0].body);
  nlohmann::json r = nlohmann::json::parse(reqs[1].body);
  EXPECT_EQ(t["event_action"], "trigger");
  EXPECT_EQ(t["routing_key"], "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(t["payload"]["severity"], "error");
  EXPECT_FALSE(t["payload"]["summary"].get<std::string>().empty());
  EXPECT_EQ(t["payload"]["source"], "gridkit-demo");
  EXPECT_EQ(r["event_action"], "resolve");
  EXPECT_EQ(r["dedup_key"], t["dedup_key"]);
}

TEST_F(AlertDelivery, SlackGetsBlockKitWithAFallbackText) {
  HttpReceiver rx;
  rx.SetFallback({200, {}, "ok"});
  auto sink = Sink({Options("slack", rx.url("/services/T0/B0/XXXXSECRET"))});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened));
  sink->Drain();
  ASSERT_EQ(rx.Requests().size(), 1u);
  nlohmann::json b = nlohmann::json::parse(rx.Requests()[0].body);
  EXPECT_THAT(b["text"].get<std::string>(), HasSubstr("sort p95"));
  EXPECT_EQ(b["blocks"][0]["type"], "section");
  EXPECT_EQ(b["blocks"][0]["text"]["type"], "mrkdwn");
  EXPECT_EQ(sink->Stats()[0].receiver, absl::StrCat("http://127.0.0.1:", rx.port()));
}

TEST_F(AlertDelivery, AHangingReceiverTimesOutAndTheAlertGoesToTheOutbox) {
  HttpReceiver rx;
  rx.SetFallback(HttpReply(200, {}, "", /*hang=*/true));
  DestinationOptions o = Options("webhook", rx.url("/hook"));
  o.timeout = absl::Milliseconds(200);
  o.max_attempts = 2;
  auto sink = Sink({o});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened));
  ASSERT_TRUE(rx.WaitFor(2));  // the first attempt timed out and was retried
  sink->Drain();
  DestinationStats s = sink->Stats()[0];
  EXPECT_EQ(s.sent, 0u);
  EXPECT_EQ(s.retried, 1u);
  EXPECT_EQ(s.outboxed, 1u);
  EXPECT_THAT(s.last_error, HasSubstr("imed out"));
  std::vector<std::string> files = OutboxFiles("webhook");
  ASSERT_EQ(files.size(), 1u);
  struct stat st;
  ASSERT_EQ(stat(files[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

TEST_F(AlertDelivery, RefusedAlertsAreDeliveredByTheNextRunOldestFirstWithTheirTime) {
  int refused = testing::RefusingPort();
  DestinationOptions o = Options("webhook", absl::StrCat("http://127.0.0.1:", refused, "/hook"));
  o.max_attempts = 2;
  {
    auto sink = Sink({o});
    sink->OnEvent(MakeEvent(EventKind::kViolationOpened, Severity::kError, "sort", kT0));
    sink->OnEvent(
        MakeEvent(EventKind::kViolationOpened, Severity::kError, "scan", kT0 + absl::Seconds(5)));
    sink->Drain();
    EXPECT_EQ(sink->Stats()[0].outboxed, 2u);
    EXPECT_EQ(sink->Stats()[0].sent, 0u);
  }
  ASSERT_EQ(OutboxFiles("webhook").size(), 2u);
  HttpReceiver rx;
  o.url = rx.url("/hook");
  auto next = Sink({o});
  next->Drain();
  std::vector<testing::HttpRequest> reqs = rx.Requests();
  ASSERT_EQ(reqs.size(), 2u);
  nlohmann::json a = nlohmann::json::parse(reqs[0].body);
  nlohmann::json b = nlohmann::json::parse(reqs[1].body);
  EXPECT_EQ(a["operation"], "sort");
  EXPECT_EQ(a["time"], "2026-01-05T10:00:00.000Z");
  EXPECT_EQ(b["operation"], "scan");
  EXPECT_EQ(next->Stats()[0].redelivered, 2u);
  EXPECT_TRUE(OutboxFiles("webhook").empty());
}

// A receiver down (connections refused) for 60 s of the sink's clock, then
// back. The clock is the test's, so the backoff is walked through in about
// a second; the jitter is fixed at its middle: attempts at 0, 0.5, 1.5, 3.5,
// 7.5, 15.5, 31.5 and 61.5 s.
class ReceiverDown : public AlertDelivery {
 protected:
  struct Outage {
    std::vector<testing::HttpRequest> requests;
    DestinationStats stats;
  };
  // Three notifications queued during the outage; the clock runs 250 ms
  // per 10 ms (the dispatcher may see it late by up to its 200 ms poll, so
  // attempts can come later than due, never earlier); Drain once the
  // receiver got `expect` requests (or 250 s of the clock passed).
  Outage Run(HttpReceiver& rx, int max_attempts, size_t expect) {
    std::atomic<int64_t> now_ms{0};
    SinkHooks hooks;
    hooks.log = log_;
    hooks.console = log_;
    hooks.now = [&] { return kT0 + absl::Milliseconds(now_ms.load()); };
    hooks.unit = [] { return 0.5; };
    DestinationOptions o = Options("webhook", rx.url("/hook"));
    o.backoff_base = absl::Seconds(1);
    o.backoff_cap = absl::Seconds(60);
    o.max_attempts = max_attempts;
    o.drain_timeout = absl::Seconds(5);
    auto sink = AlertsSink::Create({o}, hooks);
    EXPECT_TRUE(sink.ok()) << sink.status();
    rx.Down();
    (*sink)->OnEvent(MakeEvent(EventKind::kViolationOpened, Severity::kError, "sort", kT0));
    (*sink)->OnEvent(MakeEvent(EventKind::kViolationOpened, Severity::kError, "scan",
                               kT0 + absl::Seconds(1)));
    (*sink)->OnEvent(MakeEvent(EventKind::kViolationResolved, Severity::kError, "sort",
                               kT0 + absl::Seconds(2)));
    for (int i = 0; i < 1000 && rx.Requests().size() < expect; ++i) {
      if (now_ms >= 60000) rx.Up();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      now_ms += 250;
    }
    (*sink)->Drain();
    return {rx.Requests(), (*sink)->Stats()[0]};
  }
  static std::map<std::string, int> ByNotification(const std::vector<testing::HttpRequest>& rs) {
    std::map<std::string, int> n;
    for (const auto& r : rs) {
      nlohmann::json j = nlohmann::json::parse(r.body);
      ++n[absl::StrCat(j["key"].get<std::string>(), "#", j["incident"]["state"].get<std::string>())];
    }
    return n;
  }
};

TEST_F(ReceiverDown, RetriesOutlastingTheOutageDeliverEverythingOnceInOrder) {
  HttpReceiver rx;
  Outage out = Run(rx, /*max_attempts=*/10, 3);
  ASSERT_EQ(out.requests.size(), 3u) << Log();
  std::map<std::string, int> n = ByNotification(out.requests);
  EXPECT_EQ(n.size(), 3u);
  for (const auto& [id, times] : n) EXPECT_EQ(times, 1) << id;
  EXPECT_EQ(nlohmann::json::parse(out.requests[0].body)["operation"], "sort");
  EXPECT_EQ(nlohmann::json::parse(out.requests[1].body)["operation"], "scan");
  EXPECT_EQ(nlohmann::json::parse(out.requests[2].body)["incident"]["state"], "resolved");
  EXPECT_EQ(out.stats.sent, 3u);
  // The first notification's refused attempts: at most 7 in 60 s, fewer
  // when the dispatcher saw the clock late; never given up on.
  EXPECT_GE(out.stats.retried, 1u);
  EXPECT_LE(out.stats.retried, 7u);
  EXPECT_EQ(out.stats.outboxed, 0u);
  EXPECT_TRUE(OutboxFiles("webhook").empty());
}

TEST_F(ReceiverDown, WhatOutlivesItsAttemptsIsOutboxedAndDeliveredOnceByTheNextRun) {
  HttpReceiver rx;
  // 6 attempts span 15.5 s (up to 40 s when the dispatcher sees the clock
  // late): the first notification goes to the outbox within the outage;
  // the later ones are outboxed too or delivered once the receiver is back.
  Outage out = Run(rx, /*max_attempts=*/6, 1);
  EXPECT_EQ(out.stats.outboxed + out.stats.sent, 3u) << Log();
  EXPECT_GE(out.stats.outboxed, 1u);
  EXPECT_EQ(OutboxFiles("webhook").size(), out.stats.outboxed);
  auto next = Sink({Options("webhook", rx.url("/hook"))});
  next->Drain();
  std::vector<testing::HttpRequest> all = rx.Requests();
  std::map<std::string, int> n = ByNotification(all);
  EXPECT_EQ(n.size(), 3u) << "lost one";
  for (const auto& [id, times] : n) EXPECT_EQ(times, 1) << id;
  EXPECT_EQ(next->Stats()[0].redelivered, out.stats.outboxed);
  EXPECT_TRUE(OutboxFiles("webhook").empty());
}

TEST_F(AlertDelivery, ExecGetsTheJsonOnStdinAndItsExitStatusIsCounted) {
  std::string out = dir_ + "/exec.json";
  DestinationOptions ok = Options("exec", "");
  ok.name = "exec-ok";
  ok.keys["command"] = "cat > " + out;
  DestinationOptions bad = Options("exec", "");
  bad.name = "exec-bad";
  bad.keys["command"] = "cat > /dev/null; exit 3";
  auto sink = Sink({ok, bad});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened));
  sink->Drain();
  std::ifstream in(out);
  nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["incident"]["state"], "opened");
  std::vector<DestinationStats> s = sink->Stats();
  EXPECT_EQ(s[0].sent, 1u);
  EXPECT_EQ(s[1].failed, 1u);
  EXPECT_EQ(s[1].exit_nonzero, 1u);
  EXPECT_THAT(s[1].last_error, HasSubstr("exit status 3"));
}

TEST_F(AlertDelivery, ReportSectionAndConsoleLines) {
  auto sink = Sink({Options("console", "")});
  sink->OnEvent(MakeEvent(EventKind::kViolationOpened));
  sink->Drain();
  nlohmann::json report;
  sink->AddToReport(&report);
  ASSERT_EQ(report["alerts"]["destinations"].size(), 1u);
  EXPECT_EQ(report["alerts"]["destinations"][0]["sent"], 1);
  EXPECT_THAT(Log(), HasSubstr("alert opened [error] sort p95"));
  EXPECT_THAT(sink->SummaryLines()[0], HasSubstr("alerts console (console): 1 sent"));
}

TEST_F(AlertDelivery, InsecureIsWarnedAboutAtEveryStart) {
  DestinationOptions o = Options("webhook", "https://127.0.0.1:1/hook");
  o.insecure = true;
  auto sink = Sink({o});
  EXPECT_THAT(Log(), HasSubstr("'insecure: true'"));
}

}  // namespace
}  // namespace gridprobe::alerts
