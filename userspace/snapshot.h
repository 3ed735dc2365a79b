// The seam between the kernel side and everything that judges or prints:
// plain structs with no BPF types, so analyzers and sinks are tested without root.
#ifndef GRIDPROBE_USERSPACE_SNAPSHOT_H_
#define GRIDPROBE_USERSPACE_SNAPSHOT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace gridprobe {

enum class Impact { kUserVisible, kBackground };

// "userVisible" / "background", the spelling presets and reports use.
const char* ImpactName(Impact impact);
// REQUIRES: name is one of the spellings above; returns nullopt otherwise.
std::optional<Impact> ParseImpact(const std::string& name);

// Latency figures of one operation over one window (an interval, or the whole run).
struct OpStats {
  std::string name;    // operation name from the library preset ("sort")
  std::string symbol;  // symbol pattern(s) from the preset, joined with ", "
  std::string module;  // path of the probed file as the target maps it
  Impact impact = Impact::kUserVisible;

  uint64_t calls = 0;      // calls that returned normally in the window
  uint64_t unwound = 0;    // calls left by an exception or longjmp
  uint64_t untracked = 0;  // calls not timed (per-thread nesting limit hit)
  double calls_per_s = 0;
  double mean_ns = 0;
  uint64_t min_ns = 0;
  uint64_t max_ns = 0;
  uint64_t p50_ns = 0;
  uint64_t p95_ns = 0;
  uint64_t p99_ns = 0;
  uint64_t total_ns = 0;

  // Memory accounting of the operation's category; absent when memory
  // tracking is off.
  std::optional<double> alloc_bytes_per_call;
  std::optional<uint64_t> live_bytes;
  std::optional<double> leak_growth_bytes_per_s;
};

struct TargetInfo {
  int pid = 0;
  std::string comm;
  std::string exe;
};

// Everything measured over [start, end).
struct Snapshot {
  TargetInfo target;
  absl::Time start;
  absl::Time end;
  std::vector<OpStats> ops;

  double seconds() const { return absl::ToDoubleSeconds(end - start); }
  const OpStats* Find(const std::string& op_name) const;
};

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_SNAPSHOT_H_
