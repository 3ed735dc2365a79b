// A real Alertmanager (Debian's prometheus-alertmanager) on loopback: an
// opened incident appears in /api/v2/alerts with the documented labels
// (docs/alerts.md), and its resolution ends it.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/alertmanager.h"
#include "userspace/sinks/alerts/alerts_sink.h"

namespace gridprobe::alerts {
namespace {

class RealAlertmanager : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(testing::kAlertmanagerBin, X_OK) != 0) {
      if (getenv("GRIDPROBE_REQUIRE_BPF") != nullptr) {
        FAIL() << testing::kAlertmanagerBin << " is missing";
      }
      GTEST_SKIP() << testing::kAlertmanagerBin << " is not installed (scripts/install-deps.sh)";
    }
    char tmpl[] = "/tmp/gridprobe-am-XXXXXX";
    dir_ = mkdtemp(tmpl);
    am_ = std::make_unique<testing::Alertmanager>(dir_);
    ASSERT_TRUE(am_->ready()) << "alertmanager did not start: " << am_->log();
    base_ = am_->url();
  }
  void TearDown() override {
    am_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  nlohmann::json Alerts(const std::string& key) { return am_->Alerts(key); }

  std::string dir_, base_;
  std::unique_ptr<testing::Alertmanager> am_;
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
