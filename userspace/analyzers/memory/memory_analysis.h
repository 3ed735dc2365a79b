// Memory accounting as a pipeline stage: turns the kernel's counters in
// each window into the memory summary (and each operation's memory
// figures), emits leak_suspected / leak_cleared per category whether or not
// budgets are judged, and adds the report's "memory" section.
#ifndef GRIDPROBE_USERSPACE_ANALYZERS_MEMORY_MEMORY_ANALYSIS_H_
#define GRIDPROBE_USERSPACE_ANALYZERS_MEMORY_MEMORY_ANALYSIS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "userspace/analyzers/memory/memory_analyzer.h"
#include "userspace/model/pipeline.h"

namespace gridprobe::memory {

// What the analysis may ask of the kernel side, as plain functions (the
// analyzer never sees libbpf).
struct LiveSources {
  // Every tracked allocation not yet freed.
  std::function<absl::StatusOr<std::vector<LiveAllocation>>()> live;
  // The user stack recorded under an id, innermost first.
  std::function<std::vector<uint64_t>(int32_t)> stack;
  // "gridkit::Grid::render() [libgridkit.so.1]+0x12", or the address.
  std::function<std::string(uint64_t)> symbolize;
};

class MemoryAnalysis : public Analyzer {
 public:
  MemoryAnalysis(std::vector<std::string> op_names, MemoryAnalyzerOptions options,
                 LiveSources sources);
  const char* name() const override { return "memory"; }
  // REQUIRES: window->memory_counters is set (memory tracking is on).
  void OnWindow(Snapshot* window, EventList* events) override;
  void OnRunEnd(Snapshot* run, EventList* events) override;
  void AddToReport(const Snapshot& run, nlohmann::json* report) override;

 private:
  // The live allocation site holding most of `category`'s bytes, or null.
  nlohmann::json TopSite(const std::string& category);

  MemoryAnalyzer analyzer_;
  LiveSources sources_;
  std::vector<bool> suspected_;  // by category, as last reported
  nlohmann::json live_details_ = nlohmann::json::object();
};

// Copies a category's figures onto its operation, where budgets read them.
void AttachMemoryToOps(Snapshot* snap);

}  // namespace gridprobe::memory

#endif  // GRIDPROBE_USERSPACE_ANALYZERS_MEMORY_MEMORY_ANALYSIS_H_
