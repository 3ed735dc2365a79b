// The Prometheus page (sinks/prometheus): its format, checked by a reader
// written from the format's rules and by promtool; cumulative state; the
// quantile Prometheus computes from it; the server and its refusals.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <random>

#include "absl/time/time.h"
#include "base/status.h"
#include "tests/support/prom_text.h"
#include "userspace/model/event.h"
#include "userspace/model/op_stats.h"
#include "userspace/sinks/prometheus/exposition.h"
#include "userspace/sinks/prometheus/http_server.h"
#include "userspace/sinks/prometheus/prometheus_sink.h"

namespace gridprobe::prometheus {
namespace {

using ::gridprobe::testing::HistogramQuantile;
using ::gridprobe::testing::ParsePromText;
using ::gridprobe::testing::PromPage;
using ::gridprobe::testing::PromSample;

Snapshot Window(int64_t index, const std::vector<std::pair<std::string, Histogram>>& ops,
                const std::string& comm = "demo") {
  Snapshot s;
  s.target = {4242, comm, "/usr/bin/demo"};
  s.start = absl::FromUnixSeconds(1000 + index);
  s.end = absl::FromUnixSeconds(1001 + index);
  s.index = index;
  for (const auto& [name, h] : ops) {
    s.ops.push_back(MakeOpStats(
        {name, name, "/lib/libgridkit.so.1", Impact::kUserVisible, "gridkit", "abc123"}, h, 1));
  }
  s.losses.probes = 12;
  AgentCost cost;
  cost.cpu_s = 0.01;
  cost.rss_bytes = 20 << 20;
  cost.bpf_run_ns = 5000;
  cost.bpf_run_count = 10;
  cost.bpf_stats = true;
  s.agent = cost;
  return s;
}

Histogram Samples(std::initializer_list<uint64_t> ns) {
  Histogram h;
  for (uint64_t v : ns) h.Record(v);
  return h;
}

// (le, cumulative) of one operation's histogram on the page.
std::vector<std::pair<double, double>> Buckets(const PromPage& page, const std::string& op) {
  std::vector<std::pair<double, double>> out;
  for (const PromSample* s :
       page.Select("gridprobe_op_duration_seconds_bucket", {{"operation", op}})) {
    out.push_back({std::strtod(s->labels.at("le").c_str(), nullptr), s->value});
  }
  return out;
}

double Value(const PromPage& page, const std::string& name,
             const std::map<std::string, std::string>& match = {}) {
  auto found = page.Select(name, match);
  EXPECT_EQ(found.size(), 1u) << name;
  return found.empty() ? NAN : found[0]->value;
}

TEST(PrometheusFormat, SecondsAreExactDecimals) {
  EXPECT_EQ(NanosAsSeconds(0), "0");
  EXPECT_EQ(NanosAsSeconds(1023), "0.000001023");
  EXPECT_EQ(NanosAsSeconds(1000000000), "1");
  EXPECT_EQ(NanosAsSeconds(1500000000), "1.5");
  EXPECT_EQ(NanosAsSeconds(17179869183), "17.179869183");
  EXPECT_EQ(FormatValue(3), "3");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(INFINITY), "+Inf");
  EXPECT_EQ(FormatValue(NAN), "NaN");
}

TEST(PrometheusFormat, LabelValuesAreEscaped) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  // UTF-8 passes; what is not UTF-8 (a comm can be any bytes) becomes U+FFFD.
  const std::string utf8 = "gr\u00fc\u00dfe \u20ac \U0001F600";
  EXPECT_EQ(EscapeLabelValue(utf8), utf8);
  EXPECT_EQ(EscapeLabelValue("a\xFF"
                             "b\xC3"),
            "a\uFFFD"
            "b\uFFFD");
  EXPECT_EQ(EscapeLabelValue("\xC0\xAF\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD");
  MetricsState state;
  state.OnWindow(Window(0, {{"sort", Samples({5000})}}, "we\"ird\\co\nmm"));
  PromPage page;
  ASSERT_EQ(ParsePromText(state.Render(), &page), "");
  EXPECT_EQ(Value(page, "gridprobe_op_calls_total", {{"comm", "we\"ird\\co\nmm"}}), 1);
  // A comm that is not UTF-8 still makes a page Prometheus reads.
  MetricsState bytes;
  bytes.OnWindow(Window(0, {{"sort", Samples({5000})}}, "bad\xFF\xFE"));
  ASSERT_EQ(ParsePromText(bytes.Render(), &page), "");
  EXPECT_EQ(Value(page, "gridprobe_op_calls_total", {{"comm", "bad\uFFFD\uFFFD"}}), 1);
}

TEST(PrometheusFormat, EmptyPageBeforeTheFirstWindowIsValid) {
  MetricsState state;
  const std::string text = state.Render();
  PromPage page;
  ASSERT_EQ(ParsePromText(text, &page), "") << text;
  EXPECT_EQ(Value(page, "gridprobe_attached"), 0);
  EXPECT_EQ(page.Find("gridprobe_op_duration_seconds"), nullptr);
}

TEST(PrometheusFormat, HistogramIsCumulativeAndItsInfBucketIsTheCount) {
  MetricsState state;
  state.OnWindow(
      Window(0, {{"sort", Samples({1000, 2000, 2000, 5000000})}, {"filter", Samples({70000})}}));
  const std::string first = state.Render();
  PromPage page;
  ASSERT_EQ(ParsePromText(first, &page), "") << first.substr(0, 2000);
  const auto* family = page.Find("gridprobe_op_duration_seconds");
  ASSERT_NE(family, nullptr);
  EXPECT_EQ(family->type, "histogram");
  auto sort = Buckets(page, "sort");
  ASSERT_EQ(sort.size(), ExportedBounds().size() + 1);
  EXPECT_TRUE(std::isinf(sort.back().first));
  EXPECT_EQ(sort.back().second, 4);
  EXPECT_EQ(sort.front().second, 1);  // 1000 ns <= 1.023 us
  EXPECT_EQ(Value(page, "gridprobe_op_duration_seconds_count", {{"operation", "sort"}}), 4);
  EXPECT_DOUBLE_EQ(Value(page, "gridprobe_op_duration_seconds_sum", {{"operation", "sort"}}),
                   0.005005);
  EXPECT_EQ(Value(page, "gridprobe_op_calls_total", {{"operation", "sort"}}), 4);
  EXPECT_EQ(Value(page, "gridprobe_op_info", {{"operation", "sort"}, {"build_id", "abc123"}}), 1);
  EXPECT_EQ(Value(page, "gridprobe_attached"), 1);

  // A second window adds to the first: nothing goes down, the bucket set stays.
  state.OnWindow(Window(1, {{"sort", Samples({3000})}, {"filter", Histogram()}}));
  PromPage second;
  ASSERT_EQ(ParsePromText(state.Render(), &second), "");
  auto sort2 = Buckets(second, "sort");
  ASSERT_EQ(sort2.size(), sort.size());
  for (size_t i = 0; i < sort.size(); ++i) {
    EXPECT_EQ(sort2[i].first, sort[i].first);
    EXPECT_GE(sort2[i].second, sort[i].second);
  }
  EXPECT_EQ(sort2.back().second, 5);
  EXPECT_EQ(Value(second, "gridprobe_windows_total"), 2);
  EXPECT_DOUBLE_EQ(Value(second, "gridprobe_agent_cpu_seconds_total"), 0.02);
  EXPECT_DOUBLE_EQ(Value(second, "gridprobe_agent_bpf_run_seconds_total"), 0.00001);
}

TEST(PrometheusFormat, BudgetAndMemoryState) {
  MetricsState state;
  Snapshot w = Window(0, {{"sort", Samples({5000})}});
  MemorySummary m;
  MemoryCategory c;
  c.name = "sort";
  c.allocs = 3;
  c.alloc_bytes = 300;
  c.live_bytes = 200;
  c.leak_suspected = true;
  m.categories.push_back(c);
  w.memory = m;
  state.OnWindow(w);
  state.OnWindow(w);
  Event opened;
  opened.kind = EventKind::kViolationOpened;
  opened.operation = "sort";
  opened.metric = "p95";
  opened.severity = Severity::kError;
  state.OnEvent(opened);
  PromPage page;
  ASSERT_EQ(ParsePromText(state.Render(), &page), "");
  EXPECT_EQ(Value(page, "gridprobe_memory_allocated_bytes_total", {{"category", "sort"}}), 600);
  EXPECT_EQ(Value(page, "gridprobe_memory_live_bytes", {{"category", "sort"}}), 200);
  EXPECT_EQ(Value(page, "gridprobe_memory_leak_suspected", {{"category", "sort"}}), 1);
  EXPECT_EQ(Value(page, "gridprobe_budget_state", {{"operation", "sort"}, {"metric", "p95"}}), 3);
  EXPECT_EQ(Value(page, "gridprobe_budget_violations_total", {{"severity", "error"}}), 1);
  Event resolved = opened;
  resolved.kind = EventKind::kViolationResolved;
  state.OnEvent(resolved);
  Event exited;
  exited.kind = EventKind::kTargetExited;
  state.OnEvent(exited);
  ASSERT_EQ(ParsePromText(state.Render(), &page), "");
  EXPECT_EQ(Value(page, "gridprobe_budget_state", {{"operation", "sort"}, {"metric", "p95"}}), 0);
  EXPECT_EQ(Value(page, "gridprobe_budget_violations_total", {{"severity", "error"}}), 1);
  EXPECT_EQ(Value(page, "gridprobe_attached"), 0);
}

// What histogram_quantile gives from the page against gridprobe's own
// percentile, over distributions of latencies in the exported range.
TEST(PrometheusQuantiles, WithinTwoPercentOfGridprobesOwn) {
  std::mt19937_64 rng(7);
  std::vector<std::function<double()>> dists = {
      [&] { return std::lognormal_distribution<double>(std::log(2e6), 0.5)(rng); },
      [&] { return std::uniform_real_distribution<double>(1.5e3, 2.5e3)(rng); },
      [&] { return std::exponential_distribution<double>(1 / 40e3)(rng) + 2e3; },
      [&] { return std::uniform_int_distribution<int>(0, 9)(rng) < 9 ? 1.1e6 : 9e7; },
  };
  for (size_t d = 0; d < dists.size(); ++d) {
    for (int n : {20, 1000, 50000}) {
      Histogram h;
      for (int i = 0; i < n; ++i) h.Record(static_cast<uint64_t>(dists[d]()));
      MetricsState state;
      state.OnWindow(Window(0, {{"op", h}}));
      PromPage page;
      ASSERT_EQ(ParsePromText(state.Render(), &page), "");
      for (double q : {0.5, 0.95, 0.99}) {
        const double own = static_cast<double>(h.Percentile(q)) / 1e9;
        const double prom = HistogramQuantile(q, Buckets(page, "op"));
        EXPECT_NEAR(prom, own, 0.02 * own) << "distribution " << d << ", n " << n << ", q " << q;
      }
    }
  }
}

TEST(PrometheusFormat, PromtoolChecksThePageClean) {
  if (access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/promtool";
  MetricsState state;
  state.OnWindow(Window(0, {{"sort", Samples({1000, 20000, 3000000})}, {"filter", Histogram()}}));
  const std::string path = ::testing::TempDir() + "/gridprobe-prom-" + std::to_string(getpid());
  std::ofstream(path) << state.Render();
  const std::string cmd = "/usr/bin/promtool check metrics < " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char buf[512];
  while (fgets(buf, sizeof(buf), p)) output += buf;
  const int status = pclose(p);
  unlink(path.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  EXPECT_EQ(output, "");
}

// One HTTP exchange with 127.0.0.1:port; the whole response.
std::string Get(uint16_t port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return "";
  }
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, n);
  close(fd);
  return out;
}

TEST(PrometheusServer, ServesMetricsAndRefusesTheRest) {
  PrometheusOptions o;
  o.listen = "127.0.0.1:0";
  auto sink = PrometheusSink::Start(o);
  ASSERT_TRUE(sink.ok()) << sink.status();
  (*sink)->OnWindow(Window(0, {{"sort", Samples({5000})}}));
  const uint16_t port = (*sink)->port();
  std::string r = Get(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r.substr(0, 200);
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  const std::string body = r.substr(r.find("\r\n\r\n") + 4);
  EXPECT_NE(r.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
  PromPage page;
  EXPECT_EQ(ParsePromText(body, &page), "");
  EXPECT_EQ(Get(port, "GET /other HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(Get(port, "POST /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(Get(port, "nonsense\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  std::string head = Get(port, "HEAD /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "");

  // The same port again: one line, and the exit code of an output failure.
  PrometheusOptions again;
  again.listen = "127.0.0.1:" + std::to_string(port);
  auto busy = PrometheusSink::Start(again);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(ExitCodeOf(busy.status()), ExitCode::kOutputFailed);
  EXPECT_NE(busy.status().message().find("the port is in use"), std::string::npos);
  EXPECT_EQ(busy.status().message().find('\n'), std::string::npos);
}

std::string Gunzip(const std::string& in) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  std::string out;
  char buf[65536];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "";
}

TEST(PrometheusServer, GzipsWhenTheScraperAcceptsIt) {
  MetricsState state;
  state.OnWindow(Window(0, {{"sort", Samples({5000, 90000})}}));
  auto address = ParseListenAddress("127.0.0.1:0", "test");
  ASSERT_TRUE(address.ok());
  auto server = HttpServer::Start(
      *address, "test", "/metrics",
      [&] {
        return HttpResponse{200, kContentType, state.Render()};
      },
      /*gzip=*/true);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(Get((*server)->port(), "GET /metrics HTTP/1.1\r\n\r\n").find("Content-Encoding"),
            std::string::npos);
  const std::string r =
      Get((*server)->port(), "GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n");
  ASSERT_NE(r.find("\r\nContent-Encoding: gzip\r\n"), std::string::npos) << r.substr(0, 300);
  const std::string body = Gunzip(r.substr(r.find("\r\n\r\n") + 4));
  PromPage page;
  ASSERT_EQ(ParsePromText(body, &page), "");
  EXPECT_EQ(Value(page, "gridprobe_op_calls_total", {{"operation", "sort"}}), 2);
}

TEST(PrometheusServer, NonLoopbackOnlyWhenAllowed) {
  PrometheusOptions o;
  o.listen = "0.0.0.0:0";
  auto refused = PrometheusSink::Start(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(ExitCodeOf(refused.status()), ExitCode::kRemoteRefused);
  EXPECT_NE(refused.status().message().find("--prometheus-allow-remote"), std::string::npos);
  o.allow_remote = true;
  auto allowed = PrometheusSink::Start(o);
  EXPECT_TRUE(allowed.ok()) << allowed.status();
}

TEST(PrometheusServer, ListenAddresses) {
  auto v4 = ParseListenAddress("127.0.0.1:9464", "--prometheus");
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(v4->loopback);
  EXPECT_EQ(v4->port, 9464);
  EXPECT_TRUE(ParseListenAddress("[::1]:9464", "x")->loopback);
  EXPECT_TRUE(ParseListenAddress("localhost:1", "x")->loopback);
  EXPECT_FALSE(ParseListenAddress("10.1.2.3:9464", "x")->loopback);
  EXPECT_FALSE(ParseListenAddress("[::]:9464", "x")->loopback);
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":9464", "127.0.0.1:99999", "::1:9464",
                          "example.com:9464", "[::1]9464"}) {
    auto r = ParseListenAddress(bad, "--prometheus");
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(ExitCodeOf(r.status()), ExitCode::kUsage) << bad;
  }
}

}  // namespace
}  // namespace gridprobe::prometheus
