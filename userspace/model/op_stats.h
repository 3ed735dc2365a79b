// An operation's window figures from its histogram, and what the probes
// could not measure.
#ifndef GRIDPROBE_USERSPACE_MODEL_OP_STATS_H_
#define GRIDPROBE_USERSPACE_MODEL_OP_STATS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "userspace/model/histogram.h"
#include "userspace/model/snapshot.h"

namespace gridprobe {

// Per-operation identity that does not change between windows.
struct OpIdentity {
  std::string name;
  std::string symbol;
  std::string module;
  Impact impact = Impact::kUserVisible;
  std::string preset;  // the library preset it is from
  std::string build_id;  // the module's GNU build-id (hex), "" when unknown
};

// One operation as the report's "operations" list holds it.
nlohmann::json OpJson(const OpStats& op);

// Fills an OpStats from one window's histogram.
OpStats MakeOpStats(const OpIdentity& id, const Histogram& window, double seconds);

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_MODEL_OP_STATS_H_
