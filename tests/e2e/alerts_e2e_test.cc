// Alerts end to end: the gridprobe binary attached to the demo, alerting
// a console, loopback webhooks and a real Alertmanager (docs/alerts.md).
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/support/alertmanager.h"
#include "tests/support/child_process.h"
#include "tests/support/http_receiver.h"

namespace gridprobe {
namespace {

using ::gridprobe::testing::ChildProcess;
using ::gridprobe::testing::HttpReceiver;
using ::gridprobe::testing::HttpReply;
using ::gridprobe::testing::HttpRequest;

const std::string kGridprobe = GRIDPROBE_BIN;
const std::string kDemo = GRIDKIT_DEMO_BIN;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool WaitForText(const std::string& path, const std::string& text, int timeout_ms = 30000) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (ReadFile(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// The webhook bodies of `rx` about operation `op`, parsed.
std::vector<nlohmann::json> Bodies(const HttpReceiver& rx, const std::string& op) {
  std::vector<nlohmann::json> out;
  for (const HttpRequest& r : rx.Requests()) {
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.body;
    if (!j.is_discarded() && j.value("operation", "") == op) out.push_back(j);
  }
  return out;
}

size_t InState(const std::vector<nlohmann::json>& bodies, const std::string& state) {
  size_t n = 0;
  for (const auto& b : bodies) n += b["incident"].value("state", "") == state ? 1 : 0;
  return n;
}

class AlertsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GP_REQUIRE_ROOT();
    char tmpl[] = "/tmp/gridprobe-alerts-e2e-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string Path(const std::string& name) { return dir_ + "/" + name; }

  // One gridprobe run: the demo with `demo_args`, attached with `gp_args`
  // plus --config `config` (written to a file) and `env` set for gridprobe.
  // `during` runs while both run (e.g. to kill gridprobe); then waits.
  struct Run {
    int gp_status = 0;
    std::string out, err, report, events;
  };
  Run Profile(const std::vector<std::string>& demo_args, const std::vector<std::string>& gp_args,
              const std::string& config, const std::map<std::string, std::string>& env = {},
              const std::function<void(ChildProcess& gp, pid_t demo)>& during = nullptr) {
    static int n = 0;
    ++n;
    const std::string cfg = Path(absl::StrCat("config", n, ".yaml"));
    std::ofstream(cfg) << config;
    Run run;
    const std::string truth = Path(absl::StrCat("truth", n, ".json"));
    const std::string report = Path(absl::StrCat("report", n, ".json"));
    const std::string events = Path(absl::StrCat("events", n, ".jsonl"));
    const std::string err = Path(absl::StrCat("gridprobe", n, ".err"));
    const std::string out = Path(absl::StrCat("gridprobe", n, ".out"));
    std::vector<std::string> argv = {kDemo, "--wait-start", "--truth", truth};
    argv.insert(argv.end(), demo_args.begin(), demo_args.end());
    ChildProcess demo(argv);
    EXPECT_FALSE(demo.WaitForLine("gridkit-demo: ready").empty()) << "demo did not start";
    // gridprobe through /bin/sh: its own environment, stdout to a file.
    std::string cmd;
    for (const auto& [k, v] : env) absl::StrAppend(&cmd, k, "='", v, "' ");
    absl::StrAppend(&cmd, "exec ", kGridprobe, " attach ", demo.pid(), " --quiet --preset gridkit",
                    " --config ", cfg, " --report-json ", report, " --events-jsonl ", events);
    for (const std::string& a : gp_args) absl::StrAppend(&cmd, " ", a);
    absl::StrAppend(&cmd, " >", out);
    {
      ChildProcess gp({"/bin/sh", "-c", cmd}, err);
      EXPECT_TRUE(WaitForText(err, "gridprobe: attached")) << ReadFile(err);
      EXPECT_EQ(kill(demo.pid(), SIGUSR1), 0);
      if (during) during(gp, demo.pid());
      int demo_status = demo.Wait(120000);
      EXPECT_TRUE(WIFEXITED(demo_status) && WEXITSTATUS(demo_status) == 0) << demo_status;
      run.gp_status = gp.Wait(60000);
    }
    run.out = ReadFile(out);
    run.err = ReadFile(err);
    run.report = ReadFile(report);
    run.events = ReadFile(events);
    return run;
  }

  std::string dir_;
};

// The issue's scenario: sort slow (150 ms on 20 % of calls) from 5 s to
// 35 s under the interactive budgets (p95 100 ms): one incident opened at
// the console, the webhook and a real Alertmanager, and resolved once the
// slowness stopped.
TEST_F(AlertsE2eTest, SlowSortOpensOneIncidentEverywhereAndResolvesIt) {
  if (access(testing::kAlertmanagerBin, X_OK) != 0) {
    FAIL() << testing::kAlertmanagerBin << " is missing (scripts/install-deps.sh)";
  }
  std::filesystem::create_directories(Path("am"));
  testing::Alertmanager am(Path("am"));
  ASSERT_TRUE(am.ready()) << am.log();
  HttpReceiver hook;
  const std::string config = absl::StrCat(R"(alerts:
  - type: console
    outbox_dir: )", Path("outbox"), R"(
  - type: webhook
    url: )", hook.url("/hook"), R"(
    outbox_dir: )", Path("outbox"), R"(
  - type: alertmanager
    url: )", am.url(), R"(
    outbox_dir: )", Path("outbox"), "\n");
  // Alertmanager seen while the run goes on: the sort alerts' fingerprints
  // and whether one was active.
  std::atomic<bool> done{false};
  std::set<std::string> fingerprints;
  bool seen_active = false;
  std::thread watch([&] {
    while (!done) {
      for (const auto& a : am.Alerts("/violation/sort/")) {
        fingerprints.insert(a.value("fingerprint", ""));
        if (a["status"].value("state", "") == "active") seen_active = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  });
  Run run = Profile({"--duration", "50", "--slow", "sort=150@20/5-35"},
                    {"--budgets", "interactive", "--interval", "5s"}, config);
  done = true;
  watch.join();
  ASSERT_TRUE(WIFEXITED(run.gp_status) && WEXITSTATUS(run.gp_status) == 0) << run.err;

  // Webhook: one opening and one resolution of one key, in that order.
  std::vector<nlohmann::json> sort = Bodies(hook, "sort");
  std::string all;
  for (const auto& b : sort) all += b.dump() + "\n";
  ASSERT_EQ(InState(sort, "opened"), 1u) << all;
  ASSERT_EQ(InState(sort, "resolved"), 1u) << all;
  EXPECT_EQ(InState(sort, "repeated"), 0u) << all;
  EXPECT_EQ(sort.front()["incident"]["state"], "opened") << all;
  EXPECT_EQ(sort.back()["incident"]["state"], "resolved") << all;
  EXPECT_EQ(sort.front()["key"], sort.back()["key"]) << all;
  EXPECT_EQ(sort.front()["kind"], "violation_opened");
  EXPECT_EQ(sort.back()["kind"], "violation_resolved");
  // The resolution came after the slowness stopped (35 s after the start).
  absl::Time opened, resolved;
  std::string e;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, sort.front()["time"].get<std::string>(),
                              &opened, &e));
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, sort.back()["time"].get<std::string>(),
                              &resolved, &e));
  EXPECT_GT(resolved - opened, absl::Seconds(15)) << all;

  // Console: one line each.
  size_t console_opened = 0, console_resolved = 0;
  for (absl::string_view line : absl::StrSplit(run.err, '\n')) {
    if (line.find("] sort ") == absl::string_view::npos) continue;
    if (line.find("gridprobe: alert opened") != absl::string_view::npos) ++console_opened;
    if (line.find("gridprobe: alert resolved") != absl::string_view::npos) ++console_resolved;
  }
  EXPECT_EQ(console_opened, 1u) << run.err;
  EXPECT_EQ(console_resolved, 1u) << run.err;

  // Alertmanager: one alert for sort, active during the run, ended now.
  EXPECT_TRUE(seen_active) << am.log();
  EXPECT_EQ(fingerprints.size(), 1u);
  nlohmann::json after = am.Alerts("/violation/sort/");
  EXPECT_LE(after.size(), 1u) << after.dump(1);
  for (const auto& a : after) {
    absl::Time ends;
    ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, a["endsAt"].get<std::string>(), &ends, &e));
    EXPECT_LE(ends, absl::Now()) << a.dump();
    EXPECT_EQ(a["labels"]["operation"], "sort");
    EXPECT_EQ(a["labels"]["alertname"], "GridprobeBudgetViolation");
  }

  // The report counts what each destination delivered; nothing is left.
  nlohmann::json report = nlohmann::json::parse(run.report, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << run.report;
  for (const auto& d : report["alerts"]["destinations"]) {
    EXPECT_GE(d["sent"].get<uint64_t>(), 2u) << d.dump();
    EXPECT_EQ(d["outboxed"].get<uint64_t>(), 0u) << d.dump();
    EXPECT_EQ(d["failed"].get<uint64_t>(), 0u) << d.dump();
  }
  EXPECT_FALSE(std::filesystem::exists(Path("outbox/webhook")) &&
               !std::filesystem::is_empty(Path("outbox/webhook")));
}

// Every output of a run with known secrets in its configuration (from the
// environment and the file) and on its command line: stdout, stderr, the
// report, the event stream and the outbox files hold none of them, even
// though every receiver answers with an error that echoes them.
TEST_F(AlertsE2eTest, NoOutputOfARunHoldsASecret) {
  const std::string hook_secret = "whsec-S3cr3tW3bh00k";
  const std::string routing_key = "R0ut1ngK3yR0ut1ngK3yR0ut1ngK3y00";  // 32
  const std::string slack_token = "XoxbSl4ckT0ken";
  const std::string user_pass = "Us3rInf0Pass";
  const std::string query_token = "QueryT0ken999";
  const std::string flag_pass = "Fl4gPassw0rd";
  const std::string flag_query = "Fl4gQueryK3y";
  const std::vector<std::string> secrets = {hook_secret, routing_key, slack_token, user_pass,
                                            query_token, flag_pass,   flag_query,
                                            "YWxpY2U6VXMzckluZjBQYXNz"};  // base64 alice:Us3rInf0Pass
  HttpReceiver hook, pd, slack, basic, flag;
  hook.SetFallback(HttpReply(401, {}, "signature mismatch for secret " + hook_secret));
  pd.SetFallback(HttpReply(400, {"Content-Type: application/json"},
                           R"({"status":"invalid event","message":"Event object is invalid",)"
                           R"("errors":["routing_key ')" + routing_key + R"(' is unknown"]})"));
  slack.SetFallback(HttpReply(403, {}, "invalid_token " + slack_token));
  basic.SetFallback(HttpReply(0, {}, "", /*hang=*/true));  // outboxed at exit
  flag.SetFallback(HttpReply(503, {}, "try later, " + flag_pass + " " + flag_query));
  const std::string outbox = Path("outbox");
  const std::string config = absl::StrCat(R"(alerts:
  - type: webhook
    name: signed
    url: )", hook.url("/hook"), R"(
    secret: ${GP_TEST_HOOK_SECRET}
    outbox_dir: )", outbox, R"(
  - type: pagerduty
    routing_key: ${GP_TEST_PD_KEY}
    endpoint: )", pd.url("/v2/enqueue"), R"(
    outbox_dir: )", outbox, R"(
  - type: slack
    url: )", slack.url("/services/T0000/B0000/" + slack_token), R"(
    outbox_dir: )", outbox, R"(
  - type: webhook
    name: basic
    url: http://alice:)", user_pass, "@127.0.0.1:", basic.port(), "/hook?token=", query_token,
                                          R"(
    timeout: 60s
    drain_timeout: 2s
    outbox_dir: )", outbox, "\n");
  Run run = Profile(
      {"--duration", "12", "--slow", "sort=150@20"},
      {"--budgets", "interactive", "--interval", "5s", "--alert",
       absl::StrCat("webhook=http://bob:", flag_pass, "@127.0.0.1:", flag.port(), "/x?key=",
                    flag_query)},
      config, {{"GP_TEST_HOOK_SECRET", hook_secret}, {"GP_TEST_PD_KEY", routing_key}});
  ASSERT_TRUE(WIFEXITED(run.gp_status)) << run.err;
  // The secrets were used: each receiver got its request with them.
  ASSERT_FALSE(hook.Requests().empty()) << run.err;
  EXPECT_EQ(hook.Requests()[0].headers.count("x-gridprobe-signature"), 1u);
  ASSERT_FALSE(pd.Requests().empty()) << run.err;
  EXPECT_NE(pd.Requests()[0].body.find(routing_key), std::string::npos);
  ASSERT_FALSE(slack.Requests().empty()) << run.err;
  EXPECT_NE(slack.Requests()[0].path.find(slack_token), std::string::npos);
  ASSERT_FALSE(basic.Requests().empty()) << run.err;
  EXPECT_NE(basic.Requests()[0].path.find(query_token), std::string::npos);
  ASSERT_FALSE(flag.Requests().empty()) << run.err;
  // The echoing answers were read and reported (redacted).
  EXPECT_NE(run.err.find("[redacted]"), std::string::npos) << run.err;
  nlohmann::json report = nlohmann::json::parse(run.report, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << run.report;
  EXPECT_EQ(report["alerts"]["destinations"].size(), 5u);
  // Every output: stdout, stderr, report, events, the outbox's files.
  std::map<std::string, std::string> outputs = {{"stdout", run.out},
                                                {"stderr", run.err},
                                                {"report", run.report},
                                                {"events", run.events}};
  size_t outbox_files = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(outbox)) {
    if (!f.is_regular_file()) continue;
    outputs[f.path().string()] = ReadFile(f.path());
    ++outbox_files;
  }
  EXPECT_GE(outbox_files, 1u) << "the hanging receiver's alert should be in the outbox";
  EXPECT_FALSE(run.events.empty());
  for (const auto& [name, text] : outputs) {
    for (const std::string& secret : secrets) {
      EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << name << ":\n" << text;
    }
  }
}

// gridprobe stopped by SIGTERM while its alert hangs at the receiver: the
// alert is in the outbox (mode 0600) and the next run delivers it, with the
// time it had.
TEST_F(AlertsE2eTest, AlertsQueuedAtSigtermAreDeliveredByTheNextRun) {
  HttpReceiver stuck;
  stuck.SetFallback(HttpReply(0, {}, "", /*hang=*/true));
  const std::string outbox = Path("outbox");
  auto config = [&](const HttpReceiver& rx) {
    return absl::StrCat("alerts:\n  - type: webhook\n    url: ", rx.url("/hook"),
                        "\n    timeout: 60s\n    drain_timeout: 1s\n    outbox_dir: ", outbox, "\n");
  };
  Run first = Profile({"--duration", "14", "--slow", "sort=150@20"},
                      {"--budgets", "interactive", "--interval", "5s"}, config(stuck), {},
                      [&](ChildProcess& gp, pid_t) {
                        ASSERT_TRUE(stuck.WaitFor(1)) << "no alert reached the receiver";
                        gp.Signal(SIGTERM);
                      });
  ASSERT_TRUE(WIFEXITED(first.gp_status)) << first.gp_status << first.err;
  std::vector<std::filesystem::path> files;
  if (std::filesystem::exists(outbox + "/webhook")) {
    for (const auto& f : std::filesystem::directory_iterator(outbox + "/webhook")) {
      files.push_back(f.path());
    }
  }
  ASSERT_GE(files.size(), 1u) << first.err;
  std::set<std::string> queued;  // "key notification time"
  for (const auto& f : files) {
    struct stat st;
    ASSERT_EQ(stat(f.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
    nlohmann::json j = nlohmann::json::parse(ReadFile(f), nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << f;
    queued.insert(absl::StrCat(j["key"].get<std::string>(), " ",
                               j["incident"]["notification"].get<int64_t>(), " ",
                               j["time"].get<std::string>()));
  }
  // The hung request is the one outboxed: sort's opening.
  nlohmann::json hung = nlohmann::json::parse(stuck.Requests()[0].body);
  EXPECT_EQ(hung["operation"], "sort");
  EXPECT_TRUE(queued.count(absl::StrCat(hung["key"].get<std::string>(), " 1 ",
                                        hung["time"].get<std::string>())))
      << "not in the outbox: " << hung.dump();

  HttpReceiver back;
  Run second = Profile({"--duration", "3"}, {"--budgets", "interactive"}, config(back));
  ASSERT_TRUE(WIFEXITED(second.gp_status) && WEXITSTATUS(second.gp_status) == 0) << second.err;
  std::set<std::string> delivered;
  for (const HttpRequest& r : back.Requests()) {
    nlohmann::json j = nlohmann::json::parse(r.body);
    std::string id = absl::StrCat(j["key"].get<std::string>(), " ",
                                  j["incident"]["notification"].get<int64_t>(), " ",
                                  j["time"].get<std::string>());
    EXPECT_TRUE(delivered.insert(id).second) << "delivered twice: " << id;
  }
  EXPECT_EQ(delivered, queued);
  for (const auto& f : files) EXPECT_FALSE(std::filesystem::exists(f)) << f;
  nlohmann::json report = nlohmann::json::parse(second.report, nullptr, false);
  ASSERT_FALSE(report.is_discarded());
  EXPECT_EQ(report["alerts"]["destinations"][0]["redelivered"].get<uint64_t>(), queued.size());
}

}  // namespace
}  // namespace gridprobe
