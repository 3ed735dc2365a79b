// Keeps the operation probes on a preset's library while the process maps
// it: attaches when the library appears (a dlopen after attach, or a load
// again after an unload) and detaches when it goes. A run with several
// library presets has one LibraryWatch per preset, each on its own.
#ifndef GRIDPROBE_USERSPACE_PROBES_LIBRARY_WATCH_H_
#define GRIDPROBE_USERSPACE_PROBES_LIBRARY_WATCH_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "symbols/library_preset.h"
#include "symbols/resolver.h"
#include "userspace/model/pipeline.h"
#include "userspace/probes/backend.h"
#include "userspace/model/op_stats.h"

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

class LibraryWatch : public Analyzer {
 public:
  // The preset's operations are op ids first_op.. and (*ids)[first_op..],
  // whose module the watch sets to the file it attaches to.
  // REQUIRES: `ids` outlives the watch and holds the run's operations, this
  // preset's among them.
  LibraryWatch(ProbeBackend* session, int pid, symbols::LibraryPreset preset, uint32_t first_op,
               std::vector<OpIdentity>* ids, LibraryWatchOptions options);

  // Reads the process's mappings and brings the probes in line with them:
  // attaches to a library that appeared (or was replaced by another file),
  // detaches from one that is gone. Returns whether probes are attached
  // afterwards. An error (the new file lacks a preset symbol, the process
  // exited) leaves nothing of the module attached.
  absl::StatusOr<bool> Poll(absl::Time now);

  // The module attached now, or last attached; nullopt before the first.
  const std::optional<symbols::ResolvedModule>& module() const { return module_; }
  const std::vector<LibraryEvent>& events() const { return events_; }
  const symbols::LibraryPreset& preset() const { return preset_; }
  // The file attached now or last, or the preset's library globs before one
  // is mapped (what the report names as the operations' module then).
  std::string module_name() const;

  const char* name() const override { return "library-watch"; }
  // Emits library_loaded / library_unloaded for the changes since the
  // previous window (the first attach included).
  void OnWindow(Snapshot* window, EventList* events) override;
  void OnRunEnd(Snapshot* run, EventList* events) override { OnWindow(run, events); }
  // Adds the preset's entry to "libraries": {"preset", "match", "module",
  // "events"}; and, in a run of this one preset, "library": {"match",
  // "events"} when the library came or went while profiling.
  void AddToReport(const Snapshot& whole_run, nlohmann::json* report) override;

 private:
  ProbeBackend* session_;
  int pid_;
  symbols::LibraryPreset preset_;
  uint32_t first_op_;
  std::vector<OpIdentity>* ids_;
  LibraryWatchOptions options_;
  // The module last attached, whether its probes are on now, and its file.
  std::optional<symbols::ResolvedModule> module_;
  bool attached_ = false;
  uint64_t inode_ = 0;
  absl::Time first_poll_ = absl::InfinitePast();
  std::vector<LibraryEvent> events_;
  size_t events_emitted_ = 0;  // events_[0..events_emitted_) went out as Events
};

// attach --all: probes every file that matches the preset's library, in
// every process that maps it, now or later. The kernel puts a probe on a
// file into every process that maps it, including ones started after the
// attach; scanning /proc finds other copies of the library (a container's,
// another version) as they appear. The report breaks the totals down by
// process.
class AllProcessesWatch : public Analyzer {
 public:
  AllProcessesWatch(ProbeBackend* session, symbols::LibraryPreset preset,
                    LibraryWatchOptions options);

  // Scans every process's mappings and attaches to each matching file not
  // attached yet. Returns how many files are attached. A file that cannot
  // be resolved (it lacks a preset symbol) is reported once and skipped;
  // the run goes on with the others.
  absl::StatusOr<size_t> Poll();

  // The operations as the report names them, set before the run.
  void set_identities(std::vector<OpIdentity> ids) { ids_ = std::move(ids); }
  std::string module_name() const;
  // Processes seen mapping the library so far.
  size_t processes_seen() const { return seen_.size(); }

  const char* name() const override { return "all-processes-watch"; }
  void OnWindow(Snapshot*, EventList*) override {}
  // Adds "processes": [{pid, comm, exe, operations: [...]}], one entry per
  // process that made a probed call, "calls_not_by_process" and "library".
  void AddToReport(const Snapshot& whole_run, nlohmann::json* report) override;

 private:
  ProbeBackend* session_;
  symbols::LibraryPreset preset_;
  LibraryWatchOptions options_;
  std::vector<OpIdentity> ids_;
  // Files attached (device, inode) and skipped for good, and their paths.
  std::set<std::pair<uint64_t, uint64_t>> files_;
  std::set<std::pair<uint64_t, uint64_t>> refused_;
  std::vector<std::string> paths_;
  // Every process seen mapping a matching file: pid -> (comm, exe), and
  // those whose per-process histograms are made.
  std::map<int, TargetInfo> seen_;
  std::set<int> tracked_;
};

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_PROBES_LIBRARY_WATCH_H_
