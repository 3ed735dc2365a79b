// alertmanager: API v2, POST <url>/api/v2/alerts. Open incidents are
// re-posted every minute with endsAt four minutes ahead (as Prometheus
// does), so that an alert whose gridprobe died expires; a resolution posts
// endsAt = its time. The labels identify the alert, so a severity rise
// resolves the old label set and fires the new one.
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "userspace/sinks/alerts/destination.h"

namespace gridprobe::alerts {
namespace {

constexpr absl::Duration kResend = absl::Minutes(1);

std::string AlertName(const std::string& family) {
  if (family == "violation") return "GridprobeBudgetViolation";
  if (family == "prediction") return "GridprobeBudgetForecast";
  if (family == "leak") return "GridprobeLeakSuspected";
  return "GridprobeHealth";
}

std::string Scalar(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

class Alertmanager : public Destination {
 public:
  explicit Alertmanager(std::string base) : url_(absl::StrCat(base, "/api/v2/alerts")) {}

  absl::StatusOr<Request> Format(const Notification& n) override {
    const nlohmann::json& e = n.event;
    std::string key = e.value("key", "");
    nlohmann::json labels = Labels(e);
    nlohmann::json annotations = {{"summary", e.value("message", "")},
                                  {"incident", IncidentStateName(n.incident.state)},
                                  {"folded", std::to_string(n.incident.folded)}};
    if (e.contains("figures")) {
      for (const auto& [k, v] : e["figures"].items()) annotations[k] = Scalar(v);
    }
    absl::Time time;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, e.value("time", ""), &time, &err)) {
      time = absl::Now();
    }
    nlohmann::json alerts = nlohmann::json::array();
    auto it = open_.find(key);
    if (n.incident.state == IncidentState::kResolved) {
      if (it != open_.end()) labels = it->second.labels;  // the label set that fired
      alerts.push_back(Alert(labels, annotations, n.incident.opened_at, time));
      if (it != open_.end()) open_.erase(it);
    } else {
      if (it != open_.end() && it->second.labels != labels) {
        alerts.push_back(Alert(it->second.labels, it->second.annotations, it->second.starts, time));
      }
      open_[key] = Open{labels, annotations, n.incident.opened_at, absl::Now()};
      alerts.push_back(Alert(labels, annotations, n.incident.opened_at, absl::Now() + 4 * kResend));
    }
    return Post(alerts);
  }

  std::vector<Request> KeepAlive(absl::Time now) override {
    nlohmann::json alerts = nlohmann::json::array();
    for (auto& [key, o] : open_) {
      if (now - o.posted < kResend) continue;
      o.posted = now;
      alerts.push_back(Alert(o.labels, o.annotations, o.starts, now + 4 * kResend));
    }
    if (alerts.empty()) return {};
    return {Post(alerts)};
  }

 private:
  struct Open {
    nlohmann::json labels, annotations;
    absl::Time starts, posted;
  };

  static nlohmann::json Labels(const nlohmann::json& e) {
    std::string family = FamilyLabel(e);
    nlohmann::json l = {{"alertname", AlertName(family)},
                        {"gridprobe_key", e.value("key", "")},
                        {"family", family},
                        {"severity", e.value("severity", "")}};
    if (e.contains("target")) {
      l["comm"] = e["target"].value("comm", "");
      l["pid"] = std::to_string(e["target"].value("pid", 0));
    }
    for (const char* f : {"operation", "metric", "category", "preset", "impact"}) {
      std::string v = e.value(f, "");
      if (!v.empty()) l[f] = v;
    }
    return l;
  }

  static nlohmann::json Alert(const nlohmann::json& labels, const nlohmann::json& annotations,
                              absl::Time starts, absl::Time ends) {
    return {{"labels", labels},
            {"annotations", annotations},
            {"startsAt", Rfc3339Seconds(starts)},
            {"endsAt", Rfc3339Seconds(ends)},
            {"generatorURL", ""}};
  }

  Request Post(const nlohmann::json& alerts) const {
    Request r;
    r.url = url_;
    r.body = alerts.dump();
    r.headers = {"Content-Type: application/json", absl::StrCat("User-Agent: ", UserAgent())};
    return r;
  }

  std::string url_;
  absl::flat_hash_map<std::string, Open> open_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Destination>> Make_alertmanager(const DestinationOptions& options,
                                                               Redactor* redactor) {
  if (options.url.empty()) return absl::InvalidArgumentError("alertmanager needs 'url'");
  redactor->AddUrl(options.url);
  std::string base(absl::StripSuffix(options.url, "/"));
  return std::make_unique<Alertmanager>(base);
}

}  // namespace gridprobe::alerts
