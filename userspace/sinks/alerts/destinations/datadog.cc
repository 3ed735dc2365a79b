// datadog: notifications as Events API v1 events (POST /api/v1/events,
// aggregation_key = the event key, so an incident's events roll up), and
// each window's percentiles as Metrics API v2 series (POST /api/v2/series,
// gzip), on https://api.<site> (shared/docs/wire-formats.md §2).
#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "userspace/sinks/alerts/destination.h"
#include "userspace/sinks/alerts/destinations/datadog.h"

namespace gridprobe::alerts {

const std::vector<std::pair<std::string, std::string>>& DatadogSites() {
  static const auto* sites = new std::vector<std::pair<std::string, std::string>>{
      {"us1", "datadoghq.com"},     {"us3", "us3.datadoghq.com"}, {"us5", "us5.datadoghq.com"},
      {"eu1", "datadoghq.eu"},      {"ap1", "ap1.datadoghq.com"}, {"ap2", "ap2.datadoghq.com"},
      {"uk1", "uk1.datadoghq.com"}, {"us1-fed", "ddog-gov.com"},  {"us2-fed", "us2.ddog-gov.com"}};
  return *sites;
}

std::optional<std::string> DatadogApiBase(absl::string_view site) {
  for (const auto& [shorthand, name] : DatadogSites()) {
    if (site == shorthand || site == name || site == absl::StrCat("app.", name)) {
      return absl::StrCat("https://api.", name);
    }
  }
  if (site == "eu") return std::string("https://api.datadoghq.eu");
  return std::nullopt;
}

std::string DatadogAggregationKey(absl::string_view key) {
  if (key.size() <= 100) return std::string(key);
  // Too long for Datadog: a prefix and a hash of the whole, still one per key.
  return absl::StrCat(key.substr(0, 83), "~", Sha256Hex(key).substr(0, 16));
}

namespace {

constexpr size_t kMaxText = 4000;
constexpr size_t kMaxTag = 200;
// Series bodies are cut into requests of at most this many bytes before
// compression: under the 500 KB wire limit even uncompressed, far under
// the 5 MB decompressed one.
constexpr size_t kMaxSeriesBody = 500000;
constexpr absl::Duration kMaxEventAge = absl::Hours(18);

std::string Tag(absl::string_view k, absl::string_view v) {
  return Truncate(absl::StrCat(k, ":", v), kMaxTag);
}

class Datadog : public Destination {
 public:
  Datadog(std::string base, std::string api_key, bool metrics)
      : base_(std::move(base)), api_key_(std::move(api_key)), metrics_(metrics),
        host_(HostName()) {}

  absl::StatusOr<Request> Format(const Notification& n) override {
    const nlohmann::json& e = n.event;
    bool resolved = n.incident.state == IncidentState::kResolved;
    std::string severity = e.value("severity", "error");
    std::string alert_type = resolved                  ? "success"
                             : severity == "warning"   ? "warning"
                             : severity == "info"      ? "info"
                                                       : "error";
    std::vector<std::string> tags = {Tag("service", "gridprobe"), Tag("family", FamilyLabel(e)),
                                     Tag("severity", severity),
                                     Tag("incident", IncidentStateName(n.incident.state))};
    for (const char* f : {"operation", "metric", "category", "preset", "impact"}) {
      std::string v = e.value(f, "");
      if (!v.empty()) tags.push_back(Tag(f, v));
    }
    if (e.contains("target")) tags.push_back(Tag("comm", e["target"].value("comm", "")));
    absl::Time time;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, e.value("time", ""), &time, &err)) time = absl::Now();
    std::string text = e.value("message", "");
    if (n.incident.folded > 0) absl::StrAppend(&text, " (", n.incident.folded, " repeats folded)");
    // Datadog refuses dates over 18 h old (an outboxed notification can be):
    // such an event is dated now and says when it happened.
    absl::Time now = absl::Now();
    if (now - time > kMaxEventAge) {
      absl::StrAppend(&text, " (happened at ", Rfc3339Seconds(time), ")");
      time = now;
    }
    nlohmann::json body = {
        {"title", Truncate(absl::StrCat("[gridprobe] ", resolved ? "resolved: " : "",
                                        FamilyLabel(e), " ", Subject(e)),
                           500)},
        {"text", Truncate(text, kMaxText)},
        {"alert_type", alert_type},
        {"priority", "normal"},
        {"host", host_},
        {"aggregation_key", DatadogAggregationKey(e.value("key", ""))},
        {"source_type_name", "gridprobe"},
        {"date_happened", absl::ToUnixSeconds(time)},
        {"tags", tags}};
    Request r;
    r.url = absl::StrCat(base_, "/api/v1/events");
    r.body = body.dump();
    r.headers = Headers();
    return r;
  }

  Answer Interpret(const AttemptResult& r, absl::Time now) override {
    Answer a{Judge(r), absl::InfinitePast()};
    // Rate-limited endpoints say when the period resets (seconds).
    if (r.status == 429) {
      auto it = r.headers.find("x-ratelimit-reset");
      double s = 0;
      if (it != r.headers.end() && absl::SimpleAtod(it->second, &s) && s > 0 && s < 3600) {
        a.hold_until = now + absl::Seconds(s);
      }
    }
    return a;
  }

  bool wants_metrics() const override { return metrics_; }

  std::vector<Request> Metrics(const Snapshot& w) override {
    std::vector<Request> out;
    int64_t ts = absl::ToUnixSeconds(w.end);
    int64_t interval = std::max<int64_t>(1, absl::ToInt64Seconds(w.end - w.start));
    nlohmann::json resources = {{{"name", host_}, {"type", "host"}}};
    nlohmann::json series = nlohmann::json::array();
    size_t size = 0;
    auto flush = [&] {
      if (series.empty()) return;
      absl::StatusOr<std::string> z = Gzip(nlohmann::json{{"series", series}}.dump());
      series = nlohmann::json::array();
      size = 0;
      if (!z.ok()) return;
      Request r;
      r.url = absl::StrCat(base_, "/api/v2/series");
      r.body = *std::move(z);
      r.headers = Headers();
      r.headers.push_back("Content-Encoding: gzip");
      out.push_back(std::move(r));
    };
    for (const OpStats& op : w.ops) {
      std::vector<std::string> tags = {Tag("op", op.name), Tag("service", "gridprobe")};
      if (!op.preset.empty()) tags.push_back(Tag("preset", op.preset));
      if (!w.target.comm.empty()) tags.push_back(Tag("comm", w.target.comm));
      std::vector<nlohmann::json> items;
      auto point = [&](double v) {
        return nlohmann::json::array({{{"timestamp", ts}, {"value", v}}});
      };
      items.push_back({{"metric", "gridprobe.op.calls"}, {"type", 1}, {"interval", interval},
                       {"points", point(static_cast<double>(op.calls))},
                       {"resources", resources}, {"tags", tags}});
      if (op.calls > 0) {  // no calls, no latency: a 0 would be a lie
        for (auto [name, ns] : LatencyFigures(op)) {
          items.push_back({{"metric", absl::StrCat("gridprobe.op.latency.", name)},
                           {"type", 3}, {"unit", "millisecond"}, {"points", point(ns / 1e6)},
                           {"resources", resources}, {"tags", tags}});
        }
      }
      for (nlohmann::json& item : items) {
        size_t s = item.dump().size() + 1;
        if (size + s + 16 > kMaxSeriesBody) flush();
        size += s;
        series.push_back(std::move(item));
      }
    }
    flush();
    return out;
  }

 private:
  std::vector<std::string> Headers() const {
    return {"Content-Type: application/json", "Accept: application/json",
            absl::StrCat("DD-API-KEY: ", api_key_), absl::StrCat("User-Agent: ", UserAgent())};
  }

  std::string base_, api_key_;
  bool metrics_;
  std::string host_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Destination>> Make_datadog(const DestinationOptions& options,
                                                          Redactor* redactor) {
  auto it = options.keys.find("api_key");
  if (it == options.keys.end() || it->second.empty()) {
    return absl::InvalidArgumentError("datadog needs 'api_key'");
  }
  redactor->Add(it->second);
  if (it->second.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError("datadog 'api_key' must not contain whitespace");
  }
  std::string site = "datadoghq.com";
  if (auto s = options.keys.find("site"); s != options.keys.end()) site = s->second;
  std::optional<std::string> base = DatadogApiBase(site);
  if (!base) {
    std::string known;
    for (const auto& [shorthand, name] : DatadogSites()) {
      absl::StrAppend(&known, known.empty() ? "" : ", ", name, " (", shorthand, ")");
    }
    return absl::InvalidArgumentError(
        absl::StrCat("datadog 'site' '", site, "' is not a Datadog site (known: ", known, ")"));
  }
  absl::StatusOr<bool> metrics = BoolKey(options, "metrics", true);
  if (!metrics.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("datadog ", metrics.status().message()));
  }
  redactor->AddUrl(options.url);
  std::string root = options.url.empty() ? *base : std::string(absl::StripSuffix(options.url, "/"));
  return std::make_unique<Datadog>(root, it->second, *metrics);
}

}  // namespace gridprobe::alerts
