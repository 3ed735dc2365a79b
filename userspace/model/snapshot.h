// The seam between the kernel side and everything that judges or prints:
// plain structs with no BPF types, so analyzers and sinks are tested without root.
#ifndef GRIDPROBE_USERSPACE_MODEL_SNAPSHOT_H_
#define GRIDPROBE_USERSPACE_MODEL_SNAPSHOT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "userspace/model/histogram.h"

namespace gridprobe {

enum class Impact { kUserVisible, kBackground };

// What allocator tracking a run does.
enum class MemoryMode {
  kOff,   // no allocator probes
  kOps,   // allocations made while an operation runs
  kFull,  // every allocation; the rest is charged to "unattributed"
};
// "off", "ops", "full".
const char* MemoryModeName(MemoryMode mode);
std::optional<MemoryMode> ParseMemoryMode(const std::string& name);

// "userVisible" / "background", the spelling presets and reports use.
const char* ImpactName(Impact impact);
// REQUIRES: name is one of the spellings above; returns nullopt otherwise.
std::optional<Impact> ParseImpact(const std::string& name);

// One memory category's counters since attach, summed over CPUs.
struct CategoryCounters {
  uint64_t allocs = 0;
  uint64_t alloc_bytes = 0;
  uint64_t frees = 0;
  uint64_t free_bytes = 0;
  uint64_t dropped = 0;  // not tracked: the live-allocation map was full
  uint64_t dropped_bytes = 0;

  uint64_t live_bytes() const { return alloc_bytes - free_bytes; }
  uint64_t live_allocs() const { return allocs - frees; }
};

struct MemoryCounters {
  std::vector<CategoryCounters> categories;  // [0] unattributed, [i + 1] op i
  uint64_t unknown_frees = 0;  // frees of blocks allocated before attach (ignored)
  uint64_t nested_calls = 0;   // allocator calls inside allocator calls (counted once)
  uint64_t failed = 0;         // allocations that returned NULL
  uint64_t reused = 0;         // addresses allocated again without a traced free
};

struct LiveAllocation {
  uint64_t address = 0;
  uint64_t size = 0;
  uint64_t age_ns = 0;
  uint64_t caller = 0;
  int32_t stack_id = -1;
  uint32_t category = 0;
};

// One memory category over a window: an operation's name, or "unattributed".
struct MemoryCategory {
  std::string name;
  uint64_t allocs = 0;       // in the window
  uint64_t alloc_bytes = 0;  // in the window
  double allocs_per_s = 0;
  double bytes_per_s = 0;
  std::optional<double> bytes_per_call;  // alloc_bytes / calls of the operation
  uint64_t live_bytes = 0;               // at the end of the window
  uint64_t live_allocs = 0;
  uint64_t peak_live_bytes = 0;          // highest live_bytes sampled since attach
  uint64_t dropped = 0;                  // since attach: not tracked, live map full
  uint64_t dropped_bytes = 0;
  bool leak_suspected = false;
  double growth_bytes_per_s = 0;
  double leak_confidence = 0;
  double projected_bytes_1h = 0;
  std::string leak_reason;
  std::optional<double> first_suspected_s;  // seconds after attach a leak was first suspected
};

struct MemorySummary {
  std::string mode;              // "ops" or "full"
  std::string allocator;         // "glibc", "jemalloc", ...
  std::string allocator_module;  // the file probed
  std::string allocator_cxx;     // "operator new/delete: tcmalloc's own, 9 probed", ...
  std::vector<MemoryCategory> categories;
  uint64_t unknown_frees = 0;
  uint64_t nested_calls = 0;
  uint64_t failed = 0;
  uint64_t reused = 0;
  const MemoryCategory* Find(const std::string& name) const;
};

// Latency figures of one operation over one window (an interval, or the whole run).
struct OpStats {
  std::string name;    // operation name from the library preset ("sort")
  std::string symbol;  // symbol pattern(s) from the preset, joined with ", "
  std::string module;  // path of the probed file as the target maps it
  std::string preset;  // name of the library preset the operation is from
  std::string build_id;  // the module's GNU build-id (hex), "" when unknown
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
  // The window's (or run's) histogram itself, shared by every copy of the
  // snapshot: what lets a sink merge windows into exact percentiles of a
  // longer period, or export the buckets. Null only in an OpStats made by
  // hand.
  std::shared_ptr<const Histogram> histogram;

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

// Counters of what gridprobe could not measure; reported, never hidden.
struct Losses {
  uint64_t missed_hits = 0;  // probe hits the kernel skipped, since attach
  size_t probes = 0;         // probes attached
  // Indirect-jump exits the kernel could not probe: a tail call through one
  // counts as unwound (docs/bpf.md).
  size_t skipped_exit_sites = 0;
};

// What the agent itself cost over a window (or the whole run).
struct AgentCost {
  double read_ms = 0;      // reading the kernel maps into the snapshot
  double analyze_ms = 0;   // the analyzers
  double dispatch_ms = 0;  // queueing the window and its events for the sinks
  double sinks_ms = 0;     // the sinks' own work, on their threads
  double cpu_s = 0;        // the agent's CPU time (user + system)
  double cpu_percent = 0;  // cpu_s over the window, in % of one core
  uint64_t rss_bytes = 0;  // resident memory at the end of the window
  uint64_t bpf_run_ns = 0;     // time the BPF programs ran (kernel BPF statistics)
  uint64_t bpf_run_count = 0;  // program runs
  bool bpf_stats = false;      // whether the kernel's BPF statistics were on
  double late_ms = 0;          // how much later than planned the window was read
};

// Everything measured over [start, end).
struct Snapshot {
  TargetInfo target;
  absl::Time start;
  absl::Time end;
  std::vector<OpStats> ops;
  std::optional<MemorySummary> memory;  // absent when memory tracking is off
  // The kernel's memory counters since attach, read at `end`; the memory
  // analyzer turns them into `memory`. Absent when memory tracking is off.
  std::optional<MemoryCounters> memory_counters;
  Losses losses;
  std::optional<AgentCost> agent;  // set by the agent loop
  int64_t index = 0;               // windows count from 0; the whole run is -1

  double seconds() const { return absl::ToDoubleSeconds(end - start); }
  const OpStats* Find(const std::string& op_name) const;
};

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_MODEL_SNAPSHOT_H_
