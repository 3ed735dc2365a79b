// Which events a destination takes, and one incident per event key: opened
// once, repeated at most every repeat_interval (with the count of repeats
// folded in between), resolved once.
#ifndef GRIDPROBE_USERSPACE_SINKS_ALERTS_INCIDENT_H_
#define GRIDPROBE_USERSPACE_SINKS_ALERTS_INCIDENT_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "userspace/model/event.h"
#include "userspace/sinks/alerts/options.h"

namespace gridprobe::alerts {

enum class IncidentState : uint8_t { kOpened, kUpdated, kRepeated, kResolved };
// "opened", "updated" (severity rose), "repeated", "resolved".
const char* IncidentStateName(IncidentState state);
std::optional<IncidentState> ParseIncidentState(const std::string& name);

// What a notification says about its incident, beside the event.
struct IncidentInfo {
  IncidentState state = IncidentState::kOpened;
  absl::Time opened_at;
  // Events of the incident not notified since the previous notification.
  int64_t folded = 0;
  // 1 for the opening, then one more per notification.
  int64_t notification = 1;
};

class EventFilter {
 public:
  // Fails (naming the bad value) on an unknown severity, impact or family.
  static absl::StatusOr<EventFilter> Create(const DestinationOptions& options);
  // Whether an event of this kind, severity and impact may open or repeat
  // an incident. Resolutions are judged by their incident instead.
  bool Accepts(const Event& event) const;

 private:
  Severity min_severity_ = Severity::kWarning;
  bool user_visible_ = true, background_ = true;
  std::set<std::string> families_;
};

// One destination's incidents, by event key. Not thread-safe: the sink
// calls it from its own thread only.
class IncidentBook {
 public:
  explicit IncidentBook(absl::Duration repeat_interval) : repeat_interval_(repeat_interval) {}

  // What to notify for `event` at `now`, or nullopt when it is folded into
  // its open incident (counted in folded()) or resolves nothing open.
  std::optional<IncidentInfo> Decide(const Event& event, bool accepted, absl::Time now);

  int64_t folded() const { return folded_total_; }
  // Resolutions of incidents this destination never opened.
  int64_t unmatched() const { return unmatched_; }
  size_t open() const { return open_.size(); }

 private:
  struct Open {
    absl::Time opened_at;
    absl::Time last_notified;
    Severity severity;
    int64_t folded = 0;
    int64_t notifications = 1;
  };
  absl::Duration repeat_interval_;
  absl::flat_hash_map<std::string, Open> open_;
  int64_t folded_total_ = 0;
  int64_t unmatched_ = 0;
};

}  // namespace gridprobe::alerts

#endif  // GRIDPROBE_USERSPACE_SINKS_ALERTS_INCIDENT_H_
