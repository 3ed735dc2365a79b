// The newrelic destination's regions, for tests and docs.
#ifndef GRIDPROBE_USERSPACE_SINKS_ALERTS_DESTINATIONS_NEWRELIC_H_
#define GRIDPROBE_USERSPACE_SINKS_ALERTS_DESTINATIONS_NEWRELIC_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace gridprobe::alerts {

struct NewRelicHosts {
  std::string events;   // + /v1/accounts/<id>/events
  std::string metrics;  // + /metric/v1
};
// "us", "eu" or "gov" (FedRAMP); nullopt for anything else.
std::optional<NewRelicHosts> NewRelicRegion(absl::string_view region);

}  // namespace gridprobe::alerts

#endif  // GRIDPROBE_USERSPACE_SINKS_ALERTS_DESTINATIONS_NEWRELIC_H_
