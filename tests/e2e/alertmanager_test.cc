// A real Alertmanager (Debian's prometheus-alertmanager) on loopback: an
// opened incident appears in /api/v2/alerts with the documented labels
// (docs/alerts.md), and its resolution ends it.
#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/http_receiver.h"
#include "userspace/sinks/alerts/alerts_sink.h"

namespace gridprobe::alerts {
namespace {

constexpr const char* kAlertmanager = "/usr/bin/prometheus-alertmanager";

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// GET url -> (status, body).
std::pair<long, std::string> Get(const std::string& url) {
  std::string body;
  long status = 0;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  return {status, body};
}

class RealAlertmanager : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kAlertmanager, X_OK) != 0) {
      if (getenv("GRIDPROBE_REQUIRE_BPF") != nullptr) FAIL() << kAlertmanager << " is missing";
      GTEST_SKIP() << kAlertmanager << " is not installed (scripts/install-deps.sh)";
    }
    char tmpl[] = "/tmp/gridprobe-am-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(dir_ + "/am.yml") << "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n";
    port_ = testing::RefusingPort();
    base_ = absl::StrCat("http://127.0.0.1:", port_);
    pid_ = fork();
    if (pid_ == 0) {
      std::string listen = absl::StrCat("--web.listen-address=127.0.0.1:", port_);
      std::string config = "--config.file=" + dir_ + "/am.yml";
      std::string storage = "--storage.path=" + dir_ + "/data";
      freopen((dir_ + "/am.log").c_str(), "w", stderr);
      execl(kAlertmanager, kAlertmanager, config.c_str(), storage.c_str(), listen.c_str(),
            "--cluster.listen-address=", static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 200 && Get(base_ + "/-/ready").first != 200; ++i) usleep(50000);
    ASSERT_EQ(Get(base_ + "/-/ready").first, 200) << "alertmanager did not start";
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  // Our alerts in /api/v2/alerts.
  nlohmann::json Alerts(const std::string& key) {
    auto [status, body] = Get(base_ + "/api/v2/alerts");
    EXPECT_EQ(status, 200);
    nlohmann::json all = nlohmann::json::parse(body, nullptr, false);
    nlohmann::json ours = nlohmann::json::array();
    if (!all.is_array()) return ours;
    for (const auto& a : all) {
      if (a["labels"].value("gridprobe_key", "") == key) ours.push_back(a);
    }
    return ours;
  }

  std::string dir_, base_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(RealAlertmanager, AnOpenedIncidentFiresWithItsLabelsAndIsResolved) {
  DestinationOptions o;
  o.type = "alertmanager";
  o.name = "am";
  o.url = base_;
  o.outbox_dir = dir_ + "/outbox";
  absl::StatusOr<std::unique_ptr<AlertsSink>> sink = AlertsSink::Create({o});
  ASSERT_TRUE(sink.ok()) << sink.status();
  Event e;
  e.kind = EventKind::kViolationOpened;
  e.severity = Severity::kError;
  e.time = absl::Now();
  e.impact = Impact::kUserVisible;
  e.target.pid = 4242;
  e.target.comm = "gridkit-demo";
  e.operation = "sort";
  e.metric = "p95";
  e.key = "gridkit-demo[4242]/violation/sort/p95";
  e.message = "sort p95 152 ms over its 100 ms budget";
  e.figures = {{"budget", 1e8}, {"actual", 1.52e8}, {"unit", "ns"}};
  (*sink)->OnEvent(e);
  nlohmann::json ours;
  for (int i = 0; i < 100; ++i) {
    ours = Alerts(e.key);
    if (!ours.empty()) break;
    usleep(100000);
  }
  ASSERT_EQ(ours.size(), 1u) << "the alert never appeared";
  const nlohmann::json& labels = ours[0]["labels"];
  EXPECT_EQ(labels["alertname"], "GridprobeBudgetViolation");
  EXPECT_EQ(labels["severity"], "error");
  EXPECT_EQ(labels["operation"], "sort");
  EXPECT_EQ(labels["metric"], "p95");
  EXPECT_EQ(labels["comm"], "gridkit-demo");
  EXPECT_EQ(labels["pid"], "4242");
  EXPECT_EQ(labels["impact"], "userVisible");
  EXPECT_EQ(labels["family"], "violation");
  EXPECT_EQ(ours[0]["annotations"]["summary"], e.message);
  EXPECT_EQ(ours[0]["status"]["state"], "active");

  Event resolved = e;
  resolved.kind = EventKind::kViolationResolved;
  resolved.time = absl::Now();
  (*sink)->OnEvent(resolved);
  (*sink)->Drain();
  EXPECT_EQ((*sink)->Stats()[0].sent, 2u);
  // Resolved: gone from the list, or listed with endsAt in the past.
  for (const auto& a : Alerts(e.key)) {
    absl::Time ends;
    std::string err;
    ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, a["endsAt"].get<std::string>(), &ends, &err));
    EXPECT_LE(ends, absl::Now()) << a.dump();
  }
}

}  // namespace
}  // namespace gridprobe::alerts
