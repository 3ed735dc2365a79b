// What one alert destination is told by the configuration file or
// --alert (docs/alerts.md). Plain data, so that the configuration file's
// parser can fill it in without linking the delivery code.
#ifndef GRIDPROBE_USERSPACE_SINKS_ALERTS_OPTIONS_H_
#define GRIDPROBE_USERSPACE_SINKS_ALERTS_OPTIONS_H_

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace gridprobe::alerts {

inline constexpr const char* kDefaultOutboxDir = "/var/lib/gridprobe/outbox";

struct DestinationOptions {
  std::string type;  // a name in destinations.def
  std::string name;  // unique; defaults to the type
  // The receiver: webhook/slack/alertmanager URL, or an `endpoint:`
  // override of a SaaS API's default URL.
  std::string url;
  // Type-specific keys (secret, routing_key, command, ...), after ${ENV}
  // expansion. Which of them are secrets is the destination's to say.
  std::map<std::string, std::string> keys;
  // "warning", "error" or "critical": events below are not sent.
  std::string min_severity = "warning";
  std::vector<std::string> impact = {"userVisible", "background"};
  std::vector<std::string> events = {"violation", "leak"};
  absl::Duration repeat_interval = absl::Hours(4);
  absl::Duration timeout = absl::Seconds(5);          // whole request
  absl::Duration connect_timeout = absl::Seconds(3);  // TCP + TLS handshake
  std::string ca_bundle;  // empty: the system's
  bool insecure = false;  // TLS verification off, by explicit choice only
  std::string outbox_dir = kDefaultOutboxDir;
  size_t queue_limit = 1024;
  int max_attempts = 6;  // first try included
  absl::Duration backoff_base = absl::Seconds(1);
  absl::Duration backoff_cap = absl::Seconds(60);
  // A longest Retry-After taken at its word.
  absl::Duration retry_after_cap = absl::Minutes(5);
  // At the end of the run, how long delivery may go on before what is left
  // goes to the outbox.
  absl::Duration drain_timeout = absl::Seconds(10);
};

}  // namespace gridprobe::alerts

#endif  // GRIDPROBE_USERSPACE_SINKS_ALERTS_OPTIONS_H_
