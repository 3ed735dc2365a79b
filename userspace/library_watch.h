// Keeps the operation probes on the preset's library while the process maps
// it: attaches when the library appears (a dlopen after attach, or a load
// again after an unload) and detaches when it goes.
#ifndef GRIDPROBE_USERSPACE_LIBRARY_WATCH_H_
#define GRIDPROBE_USERSPACE_LIBRARY_WATCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "symbols/library_preset.h"
#include "symbols/resolver.h"
#include "userspace/agent.h"
#include "userspace/probe_session.h"

namespace gridprobe {

struct LibraryWatchOptions {
  symbols::EntryPolicy policy;
  symbols::ReturnRequest return_request = symbols::ReturnRequest::kAuto;
  bool i_know_it_can_crash = false;
  std::vector<std::string> debug_dirs = symbols::DefaultDebugDirs();
  std::string proc_root = "/proc";
};

// One change of the library's presence, as the report lists it.
struct LibraryEvent {
  absl::Time time;
  bool mapped = false;  // false: unmapped
  std::string path;
  size_t probes = 0;  // attached (mapped) or removed (unmapped)
};

class LibraryWatch : public WindowObserver {
 public:
  LibraryWatch(ProbeSession* session, int pid, symbols::LibraryPreset preset,
               LibraryWatchOptions options);

  // Reads the process's mappings and brings the probes in line with them:
  // attaches to a library that appeared (or was replaced by another file),
  // detaches from one that is gone. Returns whether probes are attached
  // afterwards. An error (the new file lacks a preset symbol, the process
  // exited) leaves nothing of the module attached.
  absl::StatusOr<bool> Poll(absl::Time now);

  bool attached() const { return module_.has_value(); }
  // The module attached now, or last attached; nullopt before the first.
  const std::optional<symbols::ResolvedModule>& module() const { return last_module_; }
  const std::vector<LibraryEvent>& events() const { return events_; }
  // What the report names as the operations' module before one is mapped.
  std::string module_name() const;

  void OnWindow(const Snapshot&) override {}
  // Adds "library": {"match", "path", "events": [...]} when the library
  // came or went while profiling.
  void AddToReport(const Snapshot& whole_run, nlohmann::json* report) override;

 private:
  ProbeSession* session_;
  int pid_;
  symbols::LibraryPreset preset_;
  LibraryWatchOptions options_;
  // The mapping probes are on: its file (inode) and where.
  std::optional<symbols::ResolvedModule> module_;
  std::optional<symbols::ResolvedModule> last_module_;
  uint64_t inode_ = 0;
  absl::Time first_poll_ = absl::InfinitePast();
  std::vector<LibraryEvent> events_;
};

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_LIBRARY_WATCH_H_
