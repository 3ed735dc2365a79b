// The Prometheus exporter end to end: a real Prometheus server (Debian's
// /usr/bin/prometheus) scrapes the gridprobe binary attached to the demo;
// its histogram_quantile must agree with gridprobe's own p95, and no page
// served while gridprobe attaches, measures, detaches or sees the target
// exit may be malformed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/prom_text.h"

namespace gridprobe {
namespace {

using ::gridprobe::testing::ChildProcess;
using ::gridprobe::testing::ParsePromText;
using ::gridprobe::testing::PromPage;

const std::string kGridprobe = GRIDPROBE_BIN;
const std::string kDemo = GRIDKIT_DEMO_BIN;
const std::string kPrometheus = "/usr/bin/prometheus";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// GET http://127.0.0.1:port/path; {status, body}, status 0 when nothing answered.
std::pair<int, std::string> HttpGet(uint16_t port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return {0, ""};
  }
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, n);
  close(fd);
  const size_t end = out.find("\r\n\r\n");
  if (out.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return {-1, out};
  return {std::atoi(out.c_str() + 9), out.substr(end + 4)};
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof(hex), "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

// An instant query; the result vector (empty on any error).
nlohmann::json Query(uint16_t port, const std::string& promql) {
  auto [status, body] = HttpGet(port, "/api/v1/query?query=" + UrlEncode(promql));
  if (status != 200) return nlohmann::json::array();
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || j["status"] != "success") return nlohmann::json::array();
  return j["data"]["result"];
}

// The single value of a query that sums to one series; NaN when there is none.
double Scalar(uint16_t port, const std::string& promql) {
  nlohmann::json r = Query(port, promql);
  if (r.size() != 1) return NAN;
  return std::stod(r[0]["value"][1].get<std::string>());
}

template <typename F>
bool WaitFor(F done, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 100) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

class PrometheusE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GP_REQUIRE_ROOT();
    if (access(kPrometheus.c_str(), X_OK) != 0) {
      const char* req = getenv("GRIDPROBE_REQUIRE_BPF");
      if (req != nullptr && std::string(req) == "1") FAIL() << "no " << kPrometheus;
      GTEST_SKIP() << "no " << kPrometheus << " (Debian package prometheus)";
    }
    dir_ = ::testing::TempDir() + "/gridprobe-prom-e2e-" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/tsdb");
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

TEST_F(PrometheusE2eTest, RealPrometheusQuantilesMatchGridprobesOwnAndEveryPageParses) {
  const uint16_t gp_port = FreePort();
  const uint16_t prom_port = FreePort();
  const std::string config = dir_ + "/prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                        << "scrape_configs:\n  - job_name: gridprobe\n    scrape_timeout: 900ms\n"
                        << "    static_configs:\n      - targets: ['127.0.0.1:" << gp_port
                        << "']\n";
  ChildProcess prometheus(
      {kPrometheus, "--config.file=" + config, "--storage.tsdb.path=" + dir_ + "/tsdb",
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"},
      dir_ + "/prometheus.err");
  ASSERT_TRUE(WaitFor([&] { return HttpGet(prom_port, "/-/ready").first == 200; }, 30000))
      << ReadFile(dir_ + "/prometheus.err");

  // Our own scraper, from before gridprobe listens until after it exits:
  // every page that is served must parse.
  std::atomic<bool> stop{false};
  std::atomic<int> pages{0};
  std::string first_bad;
  std::thread scraper([&] {
    while (!stop) {
      auto [status, body] = HttpGet(gp_port, "/metrics");
      if (status != 0) {
        PromPage page;
        std::string err =
            status == 200 ? ParsePromText(body, &page) : "HTTP status " + std::to_string(status);
        if (!err.empty() && first_bad.empty()) first_bad = err;
        ++pages;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  ChildProcess demo({kDemo, "--wait-start", "--duration", "60", "--rate", "60", "--rows", "20000"});
  ASSERT_FALSE(demo.WaitForLine("gridkit-demo: ready").empty());
  const std::string report = dir_ + "/report.json";
  const std::string gp_err = dir_ + "/gridprobe.err";
  ChildProcess gp({kGridprobe, "attach", std::to_string(demo.pid()), "--preset", "gridkit",
                   "--quiet", "--interval", "1s", "--memory", "ops", "--report-json", report,
                   "--prometheus", "127.0.0.1:" + std::to_string(gp_port)},
                  gp_err);
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(gp_err).find("gridprobe: attached") != std::string::npos; }, 30000))
      << ReadFile(gp_err);
  // Prometheus holds a scrape of the attached state before the first call,
  // so rate() over the run starts from zero and needs no extrapolation.
  ASSERT_TRUE(
      WaitFor([&] { return Scalar(prom_port, "sum(gridprobe_op_calls_total)") == 0; }, 15000))
      << ReadFile(gp_err);
  ASSERT_EQ(kill(demo.pid(), SIGUSR1), 0);
  std::this_thread::sleep_for(std::chrono::seconds(6));
  // Freeze the workload: the last window and the scrape after it then hold
  // exactly the calls the report will.
  ASSERT_EQ(kill(demo.pid(), SIGSTOP), 0);
  double frozen = NAN;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto [status, body] = HttpGet(gp_port, "/metrics");
        PromPage page;
        if (status != 200 || !ParsePromText(body, &page).empty()) return false;
        double calls = 0, windows = 0;
        for (auto* s : page.Select("gridprobe_op_calls_total", {})) calls += s->value;
        for (auto* s : page.Select("gridprobe_windows_total", {})) windows += s->value;
        static double last_calls = -1, since_windows = 0;
        if (calls != last_calls) {
          last_calls = calls;
          since_windows = windows;
          return false;
        }
        frozen = calls;
        return windows >= since_windows + 2;  // two whole windows without a call
      },
      15000));
  ASSERT_GT(frozen, 100);
  ASSERT_TRUE(
      WaitFor([&] { return Scalar(prom_port, "sum(gridprobe_op_calls_total)") == frozen; }, 10000));

  // A live page with every family in it: promtool's lint is clean.
  {
    auto [status, body] = HttpGet(gp_port, "/metrics");
    ASSERT_EQ(status, 200);
    PromPage page;
    ASSERT_EQ(ParsePromText(body, &page), "");
    for (const char* family :
         {"gridprobe_attached", "gridprobe_op_info", "gridprobe_op_duration_seconds",
          "gridprobe_op_calls_total", "gridprobe_memory_live_bytes",
          "gridprobe_memory_allocated_bytes_total", "gridprobe_memory_leak_suspected",
          "gridprobe_agent_cpu_seconds_total", "gridprobe_agent_resident_memory_bytes",
          "gridprobe_agent_bpf_run_seconds_total"}) {
      EXPECT_NE(page.Find(family), nullptr) << family;
    }
    auto info = page.Select("gridprobe_op_info", {{"operation", "sort"}});
    ASSERT_EQ(info.size(), 1u);
    EXPECT_NE(info[0]->labels.at("module").find("libgridkit"), std::string::npos);
    EXPECT_EQ(info[0]->labels.at("build_id").size(), 40u) << "a GNU build-id is 20 bytes";
    EXPECT_GT(page.Select("gridprobe_agent_resident_memory_bytes", {})[0]->value, 1e6);
    const std::string path = dir_ + "/live.prom";
    std::ofstream(path) << body;
    const int rc = std::system(
        ("/usr/bin/promtool check metrics < " + path + " > " + dir_ + "/promtool.out 2>&1")
            .c_str());
    EXPECT_EQ(rc, 0) << ReadFile(dir_ + "/promtool.out");
    EXPECT_EQ(ReadFile(dir_ + "/promtool.out"), "");
  }

  std::map<std::string, double> prom_rate, prom_instant;
  for (const auto& r : Query(prom_port,
                             "histogram_quantile(0.95, sum by (operation, le) "
                             "(rate(gridprobe_op_duration_seconds_bucket[5m])))")) {
    prom_rate[r["metric"]["operation"]] = std::stod(r["value"][1].get<std::string>());
  }
  for (const auto& r :
       Query(prom_port, "histogram_quantile(0.95, gridprobe_op_duration_seconds_bucket)")) {
    prom_instant[r["metric"]["operation"]] = std::stod(r["value"][1].get<std::string>());
  }

  // Target exit: gridprobe detaches, writes its report and exits.
  ASSERT_EQ(kill(demo.pid(), SIGKILL), 0);
  demo.Wait(10000);
  const int gp_status = gp.Wait(30000);
  EXPECT_TRUE(WIFEXITED(gp_status) && WEXITSTATUS(gp_status) == 0) << ReadFile(gp_err);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  scraper.join();
  EXPECT_EQ(first_bad, "") << "a malformed page";
  EXPECT_GT(pages.load(), 50);

  nlohmann::json rep = nlohmann::json::parse(ReadFile(report), nullptr, false);
  ASSERT_FALSE(rep.is_discarded()) << ReadFile(gp_err);
  ASSERT_EQ(rep["stop_reason"], "target exited");
  int compared = 0;
  double worst = 0;
  for (const auto& op : rep["operations"]) {
    const std::string name = op["name"];
    if (op["calls"].get<double>() == 0) continue;
    const double own = op["p95_ns"].get<double>() / 1e9;
    ASSERT_TRUE(prom_rate.count(name)) << name;
    ASSERT_TRUE(prom_instant.count(name)) << name;
    EXPECT_NEAR(prom_rate[name], own, 0.02 * own) << name << " rate()";
    EXPECT_NEAR(prom_instant[name], own, 0.02 * own) << name << " instant";
    worst = std::max(worst, std::fabs(prom_rate[name] - own) / own);
    std::printf("%-10s %6.0f calls  gridprobe p95 %.6f s  Prometheus %.6f s (%+.3f%%)\n",
                name.c_str(), op["calls"].get<double>(), own, prom_rate[name],
                100 * (prom_rate[name] - own) / own);
    ++compared;
  }
  std::printf("worst difference %.3f%%, %d pages parsed\n", 100 * worst, pages.load());
  EXPECT_GE(compared, 4);
  prometheus.Signal(SIGTERM);
  prometheus.Wait(10000);
}

// What a wrong --prometheus costs: one line and its own exit code, before
// any probe is attached.
TEST_F(PrometheusE2eTest, RefusalsAreOneLineWithTheirExitCodes) {
  ChildProcess demo({kDemo, "--wait-start"});
  ASSERT_FALSE(demo.WaitForLine("gridkit-demo: ready").empty());
  // A port held by someone else.
  int holder = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(holder, 1), 0);
  socklen_t len = sizeof(a);
  getsockname(holder, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string busy = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string text;
  };
  const std::vector<Case> cases = {
      {{"--prometheus", "0.0.0.0:0"}, 12, "is not a loopback address"},
      {{"--prometheus", busy}, 10, "the port is in use"},
      {{"--prometheus", "127.0.0.1"}, 2, "no port"},
  };
  for (const Case& c : cases) {
    const std::string err = dir_ + "/refusal.err";
    std::vector<std::string> argv = {kGridprobe, "attach", std::to_string(demo.pid()), "--quiet"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    ChildProcess gp(argv, err);
    const int status = gp.Wait(30000);
    const std::string text = ReadFile(err);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == c.code) << c.args[1] << ": " << text;
    EXPECT_NE(text.find(c.text), std::string::npos) << text;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    EXPECT_EQ(text.find("attached"), std::string::npos) << text;
  }
  close(holder);
}

}  // namespace
}  // namespace gridprobe
