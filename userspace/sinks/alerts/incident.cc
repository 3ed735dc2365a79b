#include "userspace/sinks/alerts/incident.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace gridprobe::alerts {

const char* IncidentStateName(IncidentState state) {
  switch (state) {
    case IncidentState::kOpened: return "opened";
    case IncidentState::kUpdated: return "updated";
    case IncidentState::kRepeated: return "repeated";
    case IncidentState::kResolved: return "resolved";
  }
  return "opened";
}

std::optional<IncidentState> ParseIncidentState(const std::string& name) {
  for (IncidentState s : {IncidentState::kOpened, IncidentState::kUpdated,
                          IncidentState::kRepeated, IncidentState::kResolved}) {
    if (name == IncidentStateName(s)) return s;
  }
  return std::nullopt;
}

absl::StatusOr<EventFilter> EventFilter::Create(const DestinationOptions& options) {
  EventFilter f;
  std::optional<Severity> min = ParseSeverity(options.min_severity);
  if (!min || *min < Severity::kWarning) {
    return absl::InvalidArgumentError(absl::StrCat(
        "min_severity '", options.min_severity, "' is not one of warning, error, critical"));
  }
  f.min_severity_ = *min;
  f.user_visible_ = f.background_ = false;
  for (const std::string& i : options.impact) {
    std::optional<Impact> impact = ParseImpact(i);
    if (!impact) {
      return absl::InvalidArgumentError(
          absl::StrCat("impact '", i, "' is not userVisible or background"));
    }
    (*impact == Impact::kUserVisible ? f.user_visible_ : f.background_) = true;
  }
  static const std::set<std::string> kFamilies = {"violation", "prediction", "leak", "health"};
  for (const std::string& family : options.events) {
    if (!kFamilies.contains(family)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "event family '", family, "' is not one of ", absl::StrJoin(kFamilies, ", ")));
    }
    f.families_.insert(family);
  }
  return f;
}

bool EventFilter::Accepts(const Event& event) const {
  if (!families_.contains(EventFamily(event.kind))) return false;
  if (event.severity < min_severity_) return false;
  if (event.impact.has_value()) {
    if (*event.impact == Impact::kUserVisible ? !user_visible_ : !background_) return false;
  }
  return true;
}

std::optional<IncidentInfo> IncidentBook::Decide(const Event& event, bool accepted,
                                                 absl::Time now) {
  auto it = open_.find(event.key);
  if (IsResolution(event.kind)) {
    if (it == open_.end()) {
      if (accepted) ++unmatched_;
      return std::nullopt;
    }
    IncidentInfo info{IncidentState::kResolved, it->second.opened_at, it->second.folded,
                      it->second.notifications + 1};
    open_.erase(it);
    return info;
  }
  if (!accepted) return std::nullopt;
  if (it == open_.end()) {
    open_.emplace(event.key, Open{now, now, event.severity});
    return IncidentInfo{IncidentState::kOpened, now, 0, 1};
  }
  Open& o = it->second;
  IncidentState state;
  if (event.severity > o.severity) {
    state = IncidentState::kUpdated;  // news, whatever the interval
  } else if (now - o.last_notified >= repeat_interval_) {
    state = IncidentState::kRepeated;
  } else {
    ++o.folded;
    ++folded_total_;
    return std::nullopt;
  }
  if (event.severity > o.severity) o.severity = event.severity;
  IncidentInfo info{state, o.opened_at, o.folded, ++o.notifications};
  o.folded = 0;
  o.last_notified = now;
  return info;
}

}  // namespace gridprobe::alerts
