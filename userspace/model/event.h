// One event type for everything gridprobe tells a person: budget
// violations and forecasts, suspected leaks, and the run's own health.
// Analyzers draw events from snapshots; sinks deliver them
// (docs/events.md has the JSON form and an example of every kind).
#ifndef GRIDPROBE_USERSPACE_MODEL_EVENT_H_
#define GRIDPROBE_USERSPACE_MODEL_EVENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "userspace/model/snapshot.h"

namespace gridprobe {

enum class EventKind : uint8_t {
  // budgets
  kViolationOpened,
  kViolationUpdated,  // an open violation's severity rose
  kViolationResolved,
  kPrediction,
  // memory
  kLeakSuspected,
  kLeakCleared,
  // health
  kTargetExited,
  kLibraryLoaded,
  kLibraryUnloaded,
  kProbesMissed,
  kAgentLagging,
};
inline constexpr int kEventKinds = 11;

// "violation_opened", ..., "agent_lagging": the names docs/events.md uses.
const char* EventKindName(EventKind kind);
std::optional<EventKind> ParseEventKind(const std::string& name);

// What receivers group kinds by: "violation" (opened, updated, resolved),
// "prediction", "leak" (suspected, cleared), "health" (the rest).
const char* EventFamily(EventKind kind);

// Whether the event ends an incident that an earlier event of the same key
// opened (violation_resolved, leak_cleared).
bool IsResolution(EventKind kind);

enum class Severity : uint8_t { kNone, kInfo, kWarning, kError, kCritical };
// "none", "info", "warning", "error", "critical".
const char* SeverityName(Severity s);
std::optional<Severity> ParseSeverity(const std::string& name);

struct Event {
  EventKind kind = EventKind::kViolationOpened;
  // What a receiver deduplicates on: the same for every event of one
  // incident (see MakeEventKey).
  std::string key;
  absl::Time time;
  Severity severity = Severity::kInfo;
  std::optional<Impact> impact;  // budget events and leaks of an operation
  TargetInfo target;
  std::string operation;  // budget events; empty otherwise
  std::string category;   // memory events: an operation's name or "unattributed"
  std::string metric;     // budget events: "p95", "live_bytes", ...
  std::string preset;     // library events: the library preset
  // The figures behind the event, by kind (docs/events.md): plain numbers
  // and strings, in the units their names say (_ns, _bytes, _s, ...).
  nlohmann::json figures = nlohmann::json::object();
  std::string message;  // one line for people
};

// "<comm>[<pid>]/<family>/<subject>[/<metric>]": subject is the operation,
// category or preset, or the kind's name for whole-target health events.
std::string MakeEventKey(const TargetInfo& target, EventKind kind, const std::string& subject,
                         const std::string& metric = "");

// The event's JSON object, schema "gridprobe.event/1".
nlohmann::json EventJson(const Event& event);

using EventList = std::vector<Event>;

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_MODEL_EVENT_H_
