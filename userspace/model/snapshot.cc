#include "userspace/model/snapshot.h"

namespace gridprobe {

const char* ImpactName(Impact impact) {
  return impact == Impact::kBackground ? "background" : "userVisible";
}

std::optional<Impact> ParseImpact(const std::string& name) {
  if (name == "userVisible") return Impact::kUserVisible;
  if (name == "background") return Impact::kBackground;
  return std::nullopt;
}

const char* MemoryModeName(MemoryMode mode) {
  switch (mode) {
    case MemoryMode::kOff: return "off";
    case MemoryMode::kOps: return "ops";
    case MemoryMode::kFull: return "full";
  }
  return "?";
}

std::optional<MemoryMode> ParseMemoryMode(const std::string& name) {
  if (name == "off") return MemoryMode::kOff;
  if (name == "ops") return MemoryMode::kOps;
  if (name == "full") return MemoryMode::kFull;
  return std::nullopt;
}

const OpStats* Snapshot::Find(const std::string& op_name) const {
  for (const OpStats& op : ops) {
    if (op.name == op_name) return &op;
  }
  return nullptr;
}

const MemoryCategory* MemorySummary::Find(const std::string& name) const {
  for (const MemoryCategory& c : categories) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace gridprobe
