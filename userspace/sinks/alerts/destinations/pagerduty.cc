// pagerduty: Events API v2, trigger and resolve with dedup_key = the event
// key (shared/docs/wire-formats.md §5).
#include "absl/strings/str_cat.h"
#include "userspace/sinks/alerts/destination.h"

namespace gridprobe::alerts {
namespace {

constexpr const char* kEndpoint = "https://events.pagerduty.com/v2/enqueue";

class PagerDuty : public Destination {
 public:
  PagerDuty(std::string url, std::string routing_key)
      : url_(std::move(url)), routing_key_(std::move(routing_key)) {}

  absl::StatusOr<Request> Format(const Notification& n) override {
    const nlohmann::json& e = n.event;
    std::string key = e.value("key", "").substr(0, 255);
    nlohmann::json body = {{"routing_key", routing_key_}, {"dedup_key", key}};
    if (n.incident.state == IncidentState::kResolved) {
      body["event_action"] = "resolve";
    } else {
      std::string severity = e.value("severity", "error");
      if (severity != "critical" && severity != "error" && severity != "warning") {
        severity = "info";
      }
      nlohmann::json details = e.value("figures", nlohmann::json::object());
      details["incident"] = IncidentStateName(n.incident.state);
      details["folded"] = n.incident.folded;
      body["event_action"] = "trigger";
      body["client"] = "gridprobe";
      body["payload"] = {
          {"summary", e.value("message", "").substr(0, 1024)},
          {"source", e.contains("target") ? e["target"].value("comm", "gridprobe") : "gridprobe"},
          {"severity", severity},
          {"timestamp", e.value("time", "")},
          {"component", Subject(e)},
          {"group", "gridprobe"},
          {"class", FamilyLabel(e)},
          {"custom_details", details}};
    }
    Request r;
    r.url = url_;
    r.body = body.dump();
    r.headers = {"Content-Type: application/json", absl::StrCat("User-Agent: ", UserAgent())};
    return r;
  }

 private:
  std::string url_, routing_key_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Destination>> Make_pagerduty(const DestinationOptions& options,
                                                            Redactor* redactor) {
  auto it = options.keys.find("routing_key");
  if (it == options.keys.end() || it->second.empty()) {
    return absl::InvalidArgumentError("pagerduty needs 'routing_key'");
  }
  if (it->second.size() != 32) {
    return absl::InvalidArgumentError("pagerduty 'routing_key' must be 32 characters");
  }
  redactor->Add(it->second);
  std::string url = options.url.empty() ? kEndpoint : options.url;
  redactor->AddUrl(url);
  return std::make_unique<PagerDuty>(url, it->second);
}

}  // namespace gridprobe::alerts
