// What every alert destination is: a formatter of notifications into the
// request its receiver expects. Delivery (queues, retries, the outbox) is
// the sink's (alerts_sink.h); a destination only knows its wire format.
#ifndef GRIDPROBE_USERSPACE_SINKS_ALERTS_DESTINATION_H_
#define GRIDPROBE_USERSPACE_SINKS_ALERTS_DESTINATION_H_

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "userspace/sinks/alerts/incident.h"
#include "userspace/sinks/alerts/options.h"
#include "userspace/sinks/alerts/policy.h"

namespace gridprobe::alerts {

// One event of an incident, as delivered: the event's JSON
// (gridprobe.event/1) and the incident's state.
struct Notification {
  nlohmann::json event;
  IncidentInfo incident;
};

// The event's JSON with "incident": {"state", "opened_at", "folded",
// "notification"} added: the webhook and exec body (docs/alerts.md).
nlohmann::json NotificationJson(const Notification& n);
// The inverse, for the outbox. Fails on anything NotificationJson does not
// write.
absl::StatusOr<Notification> ParseNotification(const nlohmann::json& j);

enum class Channel : uint8_t { kHttp, kExec, kConsole };

// An HTTP POST, a command's stdin, or a console line (body).
struct Request {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
};

class Destination {
 public:
  virtual ~Destination() = default;
  virtual Channel channel() const { return Channel::kHttp; }
  // The request for `n`. Called once per notification, in order, on the
  // dispatcher thread; retries resend the same request.
  virtual absl::StatusOr<Request> Format(const Notification& n) = 0;
  // Requests that keep open incidents alive at receivers that expire them
  // (Alertmanager's endsAt), due at `now`. Called when the destination is
  // idle.
  virtual std::vector<Request> KeepAlive(absl::Time now) { return {}; }
};

// Makes the destination of `options.type`, adding its secrets to
// `redactor`. Errors (a missing key, an unknown type) name the key, never
// a secret's value.
absl::StatusOr<std::unique_ptr<Destination>> MakeDestination(const DestinationOptions& options,
                                                              Redactor* redactor);

// The keys a type takes besides the common ones; nullopt: unknown type.
std::optional<std::vector<std::string>> DestinationKeys(const std::string& type);
std::vector<std::string> DestinationTypes();

// Helpers shared by the formatters.
std::string FamilyLabel(const nlohmann::json& event);  // "violation", ...
// "<operation|category|preset>" or the event's kind: what the event is about.
std::string Subject(const nlohmann::json& event);
std::string UserAgent();  // "gridprobe/0.1.0"
std::string Rfc3339Seconds(absl::Time t);

}  // namespace gridprobe::alerts

#endif  // GRIDPROBE_USERSPACE_SINKS_ALERTS_DESTINATION_H_
