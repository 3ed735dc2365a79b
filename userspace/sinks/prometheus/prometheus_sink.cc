#include "userspace/sinks/prometheus/prometheus_sink.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace gridprobe::prometheus {

absl::StatusOr<std::unique_ptr<PrometheusSink>> PrometheusSink::Start(
    const PrometheusOptions& options) {
  GP_ASSIGN_OR_RETURN(ListenAddress address, ParseListenAddress(options.listen, options.what));
  if (!address.loopback && !options.allow_remote) {
    return WithExitCode(
        absl::PermissionDeniedError(absl::StrCat(
            options.what, " ", options.listen,
            " is not a loopback address: anyone who can reach it could read the metrics; "
            "allow it with --prometheus-allow-remote (exporters.prometheus.allow_remote: true)")),
        ExitCode::kRemoteRefused);
  }
  std::unique_ptr<PrometheusSink> sink(new PrometheusSink());
  PrometheusSink* s = sink.get();
  GP_ASSIGN_OR_RETURN(sink->server_,
                      HttpServer::Start(
                          address, options.what, "/metrics", [s] { return s->Scrape(); },
                          // On loopback the bytes cost nothing
                          // and gzip ~15x the render itself.
                          /*gzip=*/!address.loopback));
  const bool v6 = address.addr.ss_family == AF_INET6;
  sink->listen_ =
      absl::StrCat(v6 ? "[" : "", address.host, v6 ? "]" : "", ":", sink->server_->port());
  std::fprintf(stderr, "gridprobe: serving Prometheus metrics on http://%s/metrics\n",
               sink->listen_.c_str());
  return sink;
}

HttpResponse PrometheusSink::Scrape() {
  std::lock_guard<std::mutex> lock(mu_);
  return {200, kContentType, state_.Render()};
}

void PrometheusSink::OnWindow(const Snapshot& window) {
  std::lock_guard<std::mutex> lock(mu_);
  state_.OnWindow(window);
}

void PrometheusSink::OnEvent(const Event& event) {
  std::lock_guard<std::mutex> lock(mu_);
  state_.OnEvent(event);
}

void PrometheusSink::AddToReport(nlohmann::json* report) {
  (*report)["prometheus"] = {
      {"listen", listen_}, {"scrapes", server_->requests()}, {"gzipped", server_->gzipped()}};
}

absl::Status PrometheusSink::OnRunEnd(const Snapshot&, const nlohmann::json&) {
  std::lock_guard<std::mutex> lock(mu_);
  state_.OnRunEnd();
  return absl::OkStatus();
}

}  // namespace gridprobe::prometheus
