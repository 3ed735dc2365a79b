#include "userspace/sinks/alerts/destination.h"

#include "absl/strings/str_cat.h"
#include "userspace/model/format.h"

namespace gridprobe::alerts {

#define DESTINATION(type, ...)                                          \
  absl::StatusOr<std::unique_ptr<Destination>> Make_##type(const DestinationOptions& options, \
                                                           Redactor* redactor);
#include "userspace/sinks/alerts/destinations.def"
#undef DESTINATION

namespace {

struct Registration {
  const char* type;
  absl::StatusOr<std::unique_ptr<Destination>> (*make)(const DestinationOptions&, Redactor*);
  std::vector<std::string> keys;
};

const std::vector<Registration>& Registry() {
  static const auto* registry = new std::vector<Registration>{
#define DESTINATION(type, ...) {#type, &Make_##type, {__VA_ARGS__}},
#include "userspace/sinks/alerts/destinations.def"
#undef DESTINATION
  };
  return *registry;
}

absl::StatusOr<absl::Time> ParseTime(const nlohmann::json& j, const char* what) {
  absl::Time t;
  std::string err;
  if (!j.is_string() || !absl::ParseTime(absl::RFC3339_full, j.get<std::string>(), &t, &err)) {
    return absl::InvalidArgumentError(absl::StrCat("'", what, "' is not an RFC 3339 time"));
  }
  return t;
}

}  // namespace

nlohmann::json NotificationJson(const Notification& n) {
  nlohmann::json j = n.event;
  j["incident"] = {{"state", IncidentStateName(n.incident.state)},
                   {"opened_at", Rfc3339(n.incident.opened_at)},
                   {"folded", n.incident.folded},
                   {"notification", n.incident.notification}};
  return j;
}

absl::StatusOr<Notification> ParseNotification(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("incident") || !j["incident"].is_object() ||
      !j.contains("key") || !j.contains("kind")) {
    return absl::InvalidArgumentError("not a notification (no 'incident', 'key' or 'kind')");
  }
  Notification n;
  n.event = j;
  const nlohmann::json inc = n.event["incident"];
  n.event.erase("incident");
  std::optional<IncidentState> state =
      inc.value("state", "").empty() ? std::nullopt
                                     : ParseIncidentState(inc["state"].get<std::string>());
  if (!state) return absl::InvalidArgumentError("unknown incident state");
  n.incident.state = *state;
  absl::StatusOr<absl::Time> opened = ParseTime(inc.value("opened_at", nlohmann::json()),
                                                "opened_at");
  if (!opened.ok()) return opened.status();
  n.incident.opened_at = *opened;
  n.incident.folded = inc.value("folded", int64_t{0});
  n.incident.notification = inc.value("notification", int64_t{1});
  return n;
}

absl::StatusOr<std::unique_ptr<Destination>> MakeDestination(const DestinationOptions& options,
                                                              Redactor* redactor) {
  for (const Registration& r : Registry()) {
    if (options.type == r.type) return r.make(options, redactor);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown alert destination type '", options.type, "'"));
}

std::optional<std::vector<std::string>> DestinationKeys(const std::string& type) {
  for (const Registration& r : Registry()) {
    if (type == r.type) return r.keys;
  }
  return std::nullopt;
}

std::vector<std::string> DestinationTypes() {
  std::vector<std::string> out;
  for (const Registration& r : Registry()) out.push_back(r.type);
  return out;
}

std::string FamilyLabel(const nlohmann::json& event) {
  std::optional<EventKind> kind = ParseEventKind(event.value("kind", ""));
  return kind ? EventFamily(*kind) : "health";
}

std::string Subject(const nlohmann::json& event) {
  for (const char* field : {"operation", "category", "preset"}) {
    std::string v = event.value(field, "");
    if (!v.empty()) return v;
  }
  return event.value("kind", "");
}

std::string UserAgent() { return "gridprobe/0.1.0"; }

std::string Rfc3339Seconds(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace gridprobe::alerts
