#include "userspace/probes/library_watch.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "symbols/proc_maps.h"

namespace gridprobe {

LibraryWatch::LibraryWatch(ProbeBackend* session, int pid, symbols::LibraryPreset preset,
                           uint32_t first_op, std::vector<OpIdentity>* ids,
                           LibraryWatchOptions options)
    : session_(session),
      pid_(pid),
      preset_(std::move(preset)),
      first_op_(first_op),
      ids_(ids),
      options_(std::move(options)) {}

std::string LibraryWatch::module_name() const {
  return module_ ? module_->path : absl::StrJoin(preset_.match, " or ");
}

absl::StatusOr<bool> LibraryWatch::Poll(absl::Time now) {
  const bool first = first_poll_ == absl::InfinitePast();
  if (first) first_poll_ = now;
  GP_ASSIGN_OR_RETURN(std::vector<symbols::Mapping> maps,
                      symbols::ReadMaps(pid_, options_.proc_root));
  // A process that has exited and is not reaped yet maps nothing; that is
  // not its library going away.
  if (maps.empty()) return attached_;
  const symbols::Mapping* found = symbols::FindPresetLibrary(preset_, maps);
  if (attached_ && (found == nullptr || found->inode != inode_)) {
    // Unloaded, or another file under the name: the probes sit on the old
    // file's offsets and come off.
    const size_t probes = session_->operation_probes(first_op_);
    session_->DetachOperations(first_op_);
    events_.push_back({now, false, module_->path, probes});
    std::fprintf(stderr, "gridprobe: %s was unloaded; its %zu probes are removed\n",
                 module_->path.c_str(), probes);
    attached_ = false;
  }
  if (attached_ || found == nullptr) return attached_;

  GP_ASSIGN_OR_RETURN(symbols::ResolvedModule module,
                      symbols::ResolveInMapping(preset_, pid_, *found, options_.policy,
                                                options_.proc_root, options_.debug_dirs));
  GP_RETURN_IF_ERROR(symbols::ChooseReturnModes(&module, options_.return_request,
                                                options_.i_know_it_can_crash));
  const absl::Time start = absl::Now();
  GP_RETURN_IF_ERROR(session_->Attach(pid_, module, first_op_));
  const size_t probes = session_->operation_probes(first_op_);
  for (size_t i = 0; i < module.ops.size() && first_op_ + i < ids_->size(); ++i) {
    (*ids_)[first_op_ + i].module = module.path;
    (*ids_)[first_op_ + i].build_id = module.build_id;
  }
  if (!first) {
    // The first attach is announced by the caller with the rest of the
    // session's settings.
    std::fprintf(stderr, "gridprobe: %s was loaded; attached %zu probes (%.0f ms)\n",
                 module.path.c_str(), probes, absl::ToDoubleMilliseconds(absl::Now() - start));
  }
  events_.push_back({now, true, module.path, probes});
  inode_ = found->inode;
  module_ = std::move(module);
  attached_ = true;
  return true;
}

void LibraryWatch::OnWindow(Snapshot*, EventList* events) {
  for (; events_emitted_ < events_.size(); ++events_emitted_) {
    const LibraryEvent& le = events_[events_emitted_];
    Event e;
    e.kind = le.mapped ? EventKind::kLibraryLoaded : EventKind::kLibraryUnloaded;
    e.time = le.time;
    e.severity = le.mapped ? Severity::kInfo : Severity::kWarning;
    e.preset = preset_.name;
    e.figures = {{"module", le.path}, {"probes", le.probes}};
    e.message = le.mapped ? absl::StrCat("library ", le.path, " of preset '", preset_.name,
                                         "' mapped: ", le.probes, " probes attached")
                          : absl::StrCat("library ", le.path, " of preset '", preset_.name,
                                         "' unmapped: ", le.probes, " probes removed");
    events->push_back(std::move(e));
  }
}

void LibraryWatch::AddToReport(const Snapshot& whole_run, nlohmann::json* report) {
  nlohmann::json events = nlohmann::json::array();
  for (const LibraryEvent& e : events_) {
    events.push_back({{"at_s", absl::ToDoubleSeconds(e.time - whole_run.start)},
                      {"event", e.mapped ? "loaded" : "unloaded"},
                      {"path", e.path},
                      {"probes", e.probes}});
  }
  nlohmann::json& libraries = (*report)["libraries"];
  if (!libraries.is_array()) libraries = nlohmann::json::array();
  libraries.push_back({{"preset", preset_.name},
                       {"match", preset_.match},
                       {"module", module_ ? nlohmann::json(module_->path) : nlohmann::json()},
                       {"events", events}});
  // "library" is the key of runs with one preset (reports before several
  // presets per run existed): only its own operations are in the run.
  if (ids_->size() != preset_.operations.size()) return;
  // A library mapped from the start and never unloaded is the ordinary
  // case, with nothing to add there.
  if (events_.size() == 1 && events_[0].mapped && events_[0].time == first_poll_) return;
  (*report)["library"] = {{"match", preset_.match}, {"events", std::move(events)}};
}

AllProcessesWatch::AllProcessesWatch(ProbeBackend* session, symbols::LibraryPreset preset,
                                     LibraryWatchOptions options)
    : session_(session), preset_(std::move(preset)), options_(std::move(options)) {}

std::string AllProcessesWatch::module_name() const {
  return paths_.size() == 1 ? paths_[0] : absl::StrJoin(preset_.match, " or ");
}

absl::StatusOr<size_t> AllProcessesWatch::Poll() {
  DIR* proc = opendir(options_.proc_root.c_str());
  if (proc == nullptr) {
    return ErrnoError(errno, "list " + options_.proc_root, ExitCode::kFailure);
  }
  std::vector<int> pids;
  while (dirent* e = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0' && pid > 0) pids.push_back(static_cast<int>(pid));
  }
  closedir(proc);
  for (int pid : pids) {
    // Processes come and go while we read; kernel threads map nothing.
    absl::StatusOr<std::vector<symbols::Mapping>> maps = symbols::ReadMaps(pid, options_.proc_root);
    if (!maps.ok()) continue;
    const symbols::Mapping* found = symbols::FindPresetLibrary(preset_, *maps);
    if (found == nullptr) continue;
    if (!seen_.count(pid)) seen_[pid] = ReadTargetInfo(pid);
    const std::string host_path = symbols::HostPathOf(pid, *found, options_.proc_root);
    struct stat st;
    if (stat(host_path.c_str(), &st) != 0) continue;
    const std::pair<uint64_t, uint64_t> file{st.st_dev, st.st_ino};
    if (files_.count(file) || refused_.count(file)) continue;
    absl::StatusOr<symbols::ResolvedModule> module = symbols::ResolveInMapping(
        preset_, pid, *found, options_.policy, options_.proc_root, options_.debug_dirs);
    absl::Status st_attach = module.status();
    if (st_attach.ok()) {
      st_attach = symbols::ChooseReturnModes(&*module, options_.return_request,
                                             options_.i_know_it_can_crash);
    }
    const size_t before = session_->operation_probes();
    if (st_attach.ok()) st_attach = session_->Attach(-1, *module);
    if (!st_attach.ok()) {
      // Nothing of this file stays attached (Attach is all or nothing).
      refused_.insert(file);
      std::fprintf(stderr, "gridprobe: skipping %s (mapped by pid %d): %s\n",
                   found->path.c_str(), pid, std::string(st_attach.message()).c_str());
      continue;
    }
    files_.insert(file);
    paths_.push_back(found->path);
    std::fprintf(stderr, "gridprobe: attached %zu probes to %s, in every process that maps it\n",
                 session_->operation_probes() - before, found->path.c_str());
  }
  // Histograms made from here cannot fail in the kernel, where memory for
  // them may be short at the moment of a process's first call.
  if (!files_.empty()) {
    for (const auto& [pid, info] : seen_) {
      if (!tracked_.count(pid) && session_->TrackProcess(static_cast<uint32_t>(pid))) {
        tracked_.insert(pid);
      }
    }
  }
  return files_.size();
}

void AllProcessesWatch::AddToReport(const Snapshot& whole_run, nlohmann::json* report) {
  nlohmann::json processes = nlohmann::json::array();
  absl::StatusOr<std::map<uint32_t, std::vector<Histogram>>> per_process =
      session_->ReadPerProcess();
  if (per_process.ok()) {
    for (const auto& [pid, hists] : *per_process) {
      auto known = seen_.find(static_cast<int>(pid));
      // A process started and gone between two scans is named as the
      // kernel saw it at its first call.
      TargetInfo info;
      if (known != seen_.end()) {
        info = known->second;
      } else {
        info.comm = session_->ProcessName(pid);
        if (info.comm.empty()) info = ReadTargetInfo(static_cast<int>(pid));
      }
      nlohmann::json ops = nlohmann::json::array();
      for (size_t op = 0; op < hists.size() && op < ids_.size(); ++op) {
        ops.push_back(OpJson(MakeOpStats(ids_[op], hists[op], whole_run.seconds())));
      }
      processes.push_back(
          {{"pid", pid}, {"comm", info.comm}, {"exe", info.exe}, {"operations", std::move(ops)}});
    }
  }
  (*report)["processes"] = std::move(processes);
  (*report)["calls_not_by_process"] = session_->PerProcessOverflow();
  (*report)["library"] = {{"match", preset_.match}, {"files", paths_}};
}

}  // namespace gridprobe
