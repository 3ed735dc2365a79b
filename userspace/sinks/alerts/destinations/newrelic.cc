// newrelic: notifications as NrAiIncidentExternal events through the Event
// API (POST /v1/accounts/<id>/events, gzip: state trigger or resolve, the
// event key as externalId and aggregationTag.key, so New Relic correlates
// an incident's events), and each window's percentiles through the Metric
// API (POST /metric/v1, gzip), US, EU or FedRAMP
// (shared/docs/wire-formats.md §3).
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "userspace/sinks/alerts/destination.h"
#include "userspace/sinks/alerts/destinations/newrelic.h"

namespace gridprobe::alerts {

std::optional<NewRelicHosts> NewRelicRegion(absl::string_view region) {
  if (region == "us") {
    return NewRelicHosts{"https://insights-collector.newrelic.com",
                         "https://metric-api.newrelic.com"};
  }
  if (region == "eu") {
    return NewRelicHosts{"https://insights-collector.eu01.nr-data.net",
                         "https://metric-api.eu.newrelic.com"};
  }
  if (region == "gov") {
    return NewRelicHosts{"https://gov-insights-collector.newrelic.com",
                         "https://gov-metric-api.newrelic.com"};
  }
  return std::nullopt;
}

namespace {

constexpr size_t kMaxBody = 1000000;  // both APIs: 10^6 bytes per POST
constexpr size_t kMaxValue = 4096;
constexpr size_t kMaxPayloadBeforeGzip = 900000;

std::string Priority(const std::string& severity) {
  if (severity == "critical") return "critical";
  if (severity == "warning") return "medium";
  if (severity == "info") return "low";
  return "high";
}

class NewRelic : public Destination {
 public:
  NewRelic(NewRelicHosts hosts, std::string account, std::string auth_header, bool metrics)
      : hosts_(std::move(hosts)), account_(std::move(account)),
        auth_header_(std::move(auth_header)), metrics_(metrics), host_(HostName()) {}

  absl::StatusOr<Request> Format(const Notification& n) override {
    const nlohmann::json& e = n.event;
    bool resolved = n.incident.state == IncidentState::kResolved;
    std::string key = e.value("key", "");
    std::string family = FamilyLabel(e);
    std::string entity = e.contains("target") ? e["target"].value("comm", "") : "";
    if (entity.empty()) entity = host_;
    // Flat: strings and numbers only; the same aggregation tags on trigger
    // and resolve.
    nlohmann::json ev = {{"eventType", "NrAiIncidentExternal"},
                         {"state", resolved ? "resolve" : "trigger"},
                         {"source", "gridprobe"},
                         {"aggregationTag.key", Truncate(key, kMaxValue)},
                         {"aggregationTag.host", host_},
                         {"externalId", Truncate(key, kMaxValue)},
                         {"entityName", entity},
                         {"version", n.incident.notification},
                         {"gridprobe.incident", IncidentStateName(n.incident.state)},
                         {"gridprobe.family", family},
                         {"gridprobe.severity", e.value("severity", "")},
                         {"gridprobe.folded", n.incident.folded}};
    absl::Time time;
    std::string err;
    if (absl::ParseTime(absl::RFC3339_full, e.value("time", ""), &time, &err)) {
      ev["timestamp"] = absl::ToUnixMillis(time);
    }
    if (!resolved) {
      ev["title"] = Truncate(absl::StrCat("gridprobe: ", family, " ", Subject(e)), kMaxValue);
      ev["priority"] = Priority(e.value("severity", ""));
      ev["description"] = Truncate(e.value("message", ""), kMaxValue);
    }
    for (const char* f : {"operation", "metric", "category", "preset", "impact"}) {
      std::string v = e.value(f, "");
      if (!v.empty()) ev[absl::StrCat("gridprobe.", f)] = Truncate(v, kMaxValue);
    }
    if (e.contains("figures")) {
      for (const auto& [k, v] : e["figures"].items()) {
        if (v.is_number()) {
          ev[Truncate(absl::StrCat("gridprobe.figure.", k), 255)] = v;
        } else if (v.is_string()) {
          ev[Truncate(absl::StrCat("gridprobe.figure.", k), 255)] =
              Truncate(v.get<std::string>(), kMaxValue);
        }
      }
    }
    absl::StatusOr<std::string> z = Gzip(nlohmann::json::array({ev}).dump());
    if (!z.ok()) return z.status();
    if (z->size() > kMaxBody) return absl::InvalidArgumentError("the New Relic event is over 1 MB");
    Request r;
    r.url = absl::StrCat(hosts_.events, "/v1/accounts/", account_, "/events");
    r.body = *std::move(z);
    r.headers = Headers();
    return r;
  }

  bool wants_metrics() const override { return metrics_; }

  std::vector<Request> Metrics(const Snapshot& w) override {
    std::vector<Request> out;
    nlohmann::json common = {
        {"timestamp", absl::ToUnixMillis(w.end)},
        {"interval.ms", std::max<int64_t>(1, absl::ToInt64Milliseconds(w.end - w.start))},
        {"attributes",
         {{"host.name", host_}, {"service.name", "gridprobe"}, {"comm", w.target.comm},
          {"pid", w.target.pid}}}};
    nlohmann::json metrics = nlohmann::json::array();
    size_t size = 0;
    auto flush = [&] {
      if (metrics.empty()) return;
      nlohmann::json body = nlohmann::json::array({{{"common", common}, {"metrics", metrics}}});
      metrics = nlohmann::json::array();
      size = 0;
      absl::StatusOr<std::string> z = Gzip(body.dump());
      if (!z.ok()) return;
      Request r;
      r.url = absl::StrCat(hosts_.metrics, "/metric/v1");
      r.body = *std::move(z);
      r.headers = Headers();
      out.push_back(std::move(r));
    };
    for (const OpStats& op : w.ops) {
      nlohmann::json attrs = {{"op", op.name}};
      if (!op.preset.empty()) attrs["preset"] = op.preset;
      std::vector<nlohmann::json> items;
      items.push_back({{"name", "gridprobe.op.calls"}, {"type", "count"},
                       {"value", op.calls}, {"attributes", attrs}});
      if (op.calls > 0) {
        for (auto [name, ns] : LatencyFigures(op)) {
          items.push_back({{"name", absl::StrCat("gridprobe.op.latency.", name)},
                           {"type", "gauge"}, {"value", ns / 1e6}, {"attributes", attrs}});
        }
        items.push_back({{"name", "gridprobe.op.latency"},
                         {"type", "summary"},
                         {"value",
                          {{"count", op.calls},
                           {"sum", static_cast<double>(op.total_ns) / 1e6},
                           {"min", static_cast<double>(op.min_ns) / 1e6},
                           {"max", static_cast<double>(op.max_ns) / 1e6}}},
                         {"attributes", attrs}});
      }
      for (nlohmann::json& item : items) {
        size_t s = item.dump().size() + 1;
        if (size + s > kMaxPayloadBeforeGzip) flush();
        size += s;
        metrics.push_back(std::move(item));
      }
    }
    flush();
    return out;
  }

 private:
  std::vector<std::string> Headers() const {
    return {"Content-Type: application/json", "Content-Encoding: gzip", auth_header_,
            absl::StrCat("User-Agent: ", UserAgent())};
  }

  NewRelicHosts hosts_;
  std::string account_, auth_header_;
  bool metrics_;
  std::string host_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Destination>> Make_newrelic(const DestinationOptions& options,
                                                           Redactor* redactor) {
  auto key = [&](const char* k) {
    auto it = options.keys.find(k);
    return it == options.keys.end() ? std::string() : it->second;
  };
  std::string license = key("license_key"), api_key = key("api_key"), insert = key("insert_key");
  for (const std::string* s : {&license, &api_key, &insert}) redactor->Add(*s);
  int given = !license.empty() + !api_key.empty() + !insert.empty();
  if (given != 1) {
    return absl::InvalidArgumentError(
        given == 0 ? "newrelic needs 'license_key' (or 'api_key', or a legacy 'insert_key')"
                   : "newrelic takes one of 'license_key', 'api_key' and 'insert_key'");
  }
  std::string account = key("account_id");
  if (account.empty() || account.size() > 20 ||
      !std::all_of(account.begin(), account.end(), [](char c) { return absl::ascii_isdigit(c); })) {
    return absl::InvalidArgumentError("newrelic needs 'account_id', the account's number");
  }
  std::string region = key("region");
  if (region.empty()) region = "us";
  std::optional<NewRelicHosts> hosts = NewRelicRegion(region);
  if (!hosts) return absl::InvalidArgumentError("newrelic 'region' must be us, eu or gov");
  absl::StatusOr<bool> metrics = BoolKey(options, "metrics", true);
  if (!metrics.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("newrelic ", metrics.status().message()));
  }
  if (!insert.empty() && *metrics && options.keys.count("metrics") != 0) {
    return absl::InvalidArgumentError(
        "newrelic 'insert_key' reaches the Event API only; the Metric API needs a 'license_key'");
  }
  redactor->AddUrl(options.url);
  if (!options.url.empty()) {
    std::string base(absl::StripSuffix(options.url, "/"));
    hosts = NewRelicHosts{base, base};
  }
  std::string auth = insert.empty() ? absl::StrCat("Api-Key: ", license.empty() ? api_key : license)
                                    : absl::StrCat("X-Insert-Key: ", insert);
  return std::make_unique<NewRelic>(*hosts, account, auth, *metrics && insert.empty());
}

}  // namespace gridprobe::alerts
