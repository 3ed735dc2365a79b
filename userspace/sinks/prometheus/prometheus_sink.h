// --prometheus ADDR:PORT: serves the run's metrics at http://ADDR:PORT/metrics
// for a Prometheus server to scrape (docs/exporters.md). The sink's thread
// merges windows into the state; the server's thread renders it per scrape;
// a mutex keeps every page whole.
#ifndef GRIDPROBE_USERSPACE_SINKS_PROMETHEUS_PROMETHEUS_SINK_H_
#define GRIDPROBE_USERSPACE_SINKS_PROMETHEUS_PROMETHEUS_SINK_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "userspace/model/pipeline.h"
#include "userspace/sinks/prometheus/exposition.h"
#include "userspace/sinks/prometheus/http_server.h"

namespace gridprobe::prometheus {

struct PrometheusOptions {
  std::string listen;                 // "127.0.0.1:9464"
  bool allow_remote = false;          // listen on a non-loopback address
  std::string what = "--prometheus";  // the setting, for errors
};

inline constexpr char kDefaultListen[] = "127.0.0.1:9464";

class PrometheusSink : public Sink {
 public:
  // Parses the address, refuses a non-loopback one unless allowed
  // (ExitCode::kRemoteRefused), and starts serving: a port in use fails here.
  static absl::StatusOr<std::unique_ptr<PrometheusSink>> Start(const PrometheusOptions& options);

  const char* name() const override { return "prometheus"; }
  void OnWindow(const Snapshot& window) override;
  void OnEvent(const Event& event) override;
  // Adds "prometheus": {"listen", "scrapes", "gzipped"}.
  void AddToReport(nlohmann::json* report) override;
  absl::Status OnRunEnd(const Snapshot& run, const nlohmann::json& report) override;

  uint16_t port() const { return server_->port(); }

 private:
  PrometheusSink() = default;
  HttpResponse Scrape();

  std::string listen_;
  std::mutex mu_;
  MetricsState state_;                  // guarded by mu_
  std::unique_ptr<HttpServer> server_;  // last: stopped before the state goes
};

}  // namespace gridprobe::prometheus

#endif  // GRIDPROBE_USERSPACE_SINKS_PROMETHEUS_PROMETHEUS_SINK_H_
