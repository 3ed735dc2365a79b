// The datadog destination's site table and key rules, for tests and docs.
#ifndef GRIDPROBE_USERSPACE_SINKS_ALERTS_DESTINATIONS_DATADOG_H_
#define GRIDPROBE_USERSPACE_SINKS_ALERTS_DESTINATIONS_DATADOG_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace gridprobe::alerts {

// (shorthand, site): us1 datadoghq.com ... us2-fed us2.ddog-gov.com.
const std::vector<std::pair<std::string, std::string>>& DatadogSites();
// "https://api.<site>" for a site, its shorthand or its app. host; nullopt
// for anything else.
std::optional<std::string> DatadogApiBase(absl::string_view site);
// The event key when it fits Datadog's 100 characters, else a prefix and
// a hash of it.
std::string DatadogAggregationKey(absl::string_view key);

}  // namespace gridprobe::alerts

#endif  // GRIDPROBE_USERSPACE_SINKS_ALERTS_DESTINATIONS_DATADOG_H_
