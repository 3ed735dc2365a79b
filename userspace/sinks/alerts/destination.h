// What every alert destination is: a formatter of notifications into the
// request its receiver expects. Delivery (queues, retries, the outbox) is
// the sink's (alerts_sink.h); a destination only knows its wire format.
#ifndef GRIDPROBE_USERSPACE_SINKS_ALERTS_DESTINATION_H_
#define GRIDPROBE_USERSPACE_SINKS_ALERTS_DESTINATION_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "userspace/model/snapshot.h"
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

  // What an answer means: the verdict (default: Judge(result)) and a time
  // before which this destination sends nothing more (a receiver's rate
  // limit: Sentry's X-Sentry-Rate-Limits, Datadog's X-RateLimit-Reset);
  // InfinitePast for none. Called on the dispatcher thread.
  struct Answer {
    Verdict verdict = Verdict::kDelivered;
    absl::Time hold_until = absl::InfinitePast();
  };
  virtual Answer Interpret(const AttemptResult& result, absl::Time now) {
    return {Judge(result), absl::InfinitePast()};
  }

  // Metric requests for one window (Datadog series, New Relic metrics);
  // empty for destinations that take no metrics. Called on the sink's
  // thread, concurrently with Format: it must not touch Format's state.
  // Metrics are not outboxed: a point is worth nothing the next day.
  virtual bool wants_metrics() const { return false; }
  virtual std::vector<Request> Metrics(const Snapshot& window) { return {}; }
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
// p50, p95, p99 and max of an operation's window, in ns.
std::vector<std::pair<const char*, double>> LatencyFigures(const OpStats& op);
// This machine's host name ("localhost" when it has none).
std::string HostName();
// The gzip stream (RFC 1952) of `data`.
absl::StatusOr<std::string> Gzip(absl::string_view data);
// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);
// `text` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string Truncate(absl::string_view text, size_t max);
// "true" or "false" in keys[key], else `def`; an error names the key.
absl::StatusOr<bool> BoolKey(const DestinationOptions& options, const std::string& key, bool def);

}  // namespace gridprobe::alerts

#endif  // GRIDPROBE_USERSPACE_SINKS_ALERTS_DESTINATION_H_
