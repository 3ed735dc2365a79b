#include "userspace/model/event.h"

#include "absl/strings/str_cat.h"
#include "userspace/model/format.h"

namespace gridprobe {
namespace {

constexpr const char* kKindNames[kEventKinds] = {
    "violation_opened", "violation_updated", "violation_resolved", "prediction",
    "leak_suspected",   "leak_cleared",      "target_exited",      "library_loaded",
    "library_unloaded", "probes_missed",     "agent_lagging",
};

constexpr const char* kSeverityNames[] = {"none", "info", "warning", "error", "critical"};

}  // namespace

const char* EventKindName(EventKind kind) { return kKindNames[static_cast<int>(kind)]; }

std::optional<EventKind> ParseEventKind(const std::string& name) {
  for (int i = 0; i < kEventKinds; ++i) {
    if (name == kKindNames[i]) return static_cast<EventKind>(i);
  }
  return std::nullopt;
}

const char* EventFamily(EventKind kind) {
  switch (kind) {
    case EventKind::kViolationOpened:
    case EventKind::kViolationUpdated:
    case EventKind::kViolationResolved:
      return "violation";
    case EventKind::kPrediction:
      return "prediction";
    case EventKind::kLeakSuspected:
    case EventKind::kLeakCleared:
      return "leak";
    default:
      return "health";
  }
}

bool IsResolution(EventKind kind) {
  return kind == EventKind::kViolationResolved || kind == EventKind::kLeakCleared;
}

const char* SeverityName(Severity s) { return kSeverityNames[static_cast<int>(s)]; }

std::optional<Severity> ParseSeverity(const std::string& name) {
  for (int i = 0; i < 5; ++i) {
    if (name == kSeverityNames[i]) return static_cast<Severity>(i);
  }
  return std::nullopt;
}

std::string MakeEventKey(const TargetInfo& target, EventKind kind, const std::string& subject,
                         const std::string& metric) {
  // Library events of one preset share a key, so loaded/unloaded pair up.
  const char* family = EventFamily(kind);
  std::string what = family;
  if (kind == EventKind::kLibraryLoaded || kind == EventKind::kLibraryUnloaded) {
    what = "health/library";
  } else if (std::string(family) == "health") {
    what = absl::StrCat("health/", EventKindName(kind));
  }
  std::string key = absl::StrCat(target.comm, "[", target.pid, "]/", what);
  if (!subject.empty()) absl::StrAppend(&key, "/", subject);
  if (!metric.empty()) absl::StrAppend(&key, "/", metric);
  return key;
}

nlohmann::json EventJson(const Event& e) {
  nlohmann::json j = {
      {"schema", "gridprobe.event/1"},
      {"kind", EventKindName(e.kind)},
      {"key", e.key},
      {"time", Rfc3339(e.time)},
      {"severity", SeverityName(e.severity)},
      {"target", {{"pid", e.target.pid}, {"comm", e.target.comm}, {"exe", e.target.exe}}},
  };
  if (!e.operation.empty()) j["operation"] = e.operation;
  if (!e.category.empty()) j["category"] = e.category;
  if (!e.metric.empty()) j["metric"] = e.metric;
  if (!e.preset.empty()) j["preset"] = e.preset;
  if (e.impact) j["impact"] = ImpactName(*e.impact);
  j["figures"] = e.figures;
  j["message"] = e.message;
  return j;
}

}  // namespace gridprobe
