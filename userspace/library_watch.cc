#include "userspace/library_watch.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_join.h"
#include "base/status.h"
#include "symbols/proc_maps.h"

namespace gridprobe {

LibraryWatch::LibraryWatch(ProbeSession* session, int pid, symbols::LibraryPreset preset,
                           LibraryWatchOptions options)
    : session_(session), pid_(pid), preset_(std::move(preset)), options_(std::move(options)) {}

std::string LibraryWatch::module_name() const {
  return last_module_ ? last_module_->path : absl::StrJoin(preset_.match, " or ");
}

absl::StatusOr<bool> LibraryWatch::Poll(absl::Time now) {
  const bool first = first_poll_ == absl::InfinitePast();
  if (first) first_poll_ = now;
  GP_ASSIGN_OR_RETURN(std::vector<symbols::Mapping> maps,
                      symbols::ReadMaps(pid_, options_.proc_root));
  const symbols::Mapping* found = symbols::FindPresetLibrary(preset_, maps);
  if (module_ && (found == nullptr || found->inode != inode_)) {
    // Unloaded, or another file under the name: the probes sit on the old
    // file's offsets and come off.
    const size_t probes = session_->operation_probes();
    session_->DetachOperations();
    events_.push_back({now, false, module_->path, probes});
    std::fprintf(stderr, "gridprobe: %s was unloaded; its %zu probes are removed\n",
                 module_->path.c_str(), probes);
    module_.reset();
  }
  if (module_ || found == nullptr) return module_.has_value();

  GP_ASSIGN_OR_RETURN(symbols::ResolvedModule module,
                      symbols::ResolveInMapping(preset_, pid_, *found, options_.policy,
                                                options_.proc_root, options_.debug_dirs));
  GP_RETURN_IF_ERROR(symbols::ChooseReturnModes(&module, options_.return_request,
                                                options_.i_know_it_can_crash));
  const absl::Time start = absl::Now();
  GP_RETURN_IF_ERROR(session_->Attach(pid_, module));
  const size_t probes = session_->operation_probes();
  if (!first) {
    // The first attach is announced by the caller with the rest of the
    // session's settings.
    std::fprintf(stderr, "gridprobe: %s was loaded; attached %zu probes (%.0f ms)\n",
                 module.path.c_str(), probes, absl::ToDoubleMilliseconds(absl::Now() - start));
  }
  events_.push_back({now, true, module.path, probes});
  inode_ = found->inode;
  module_ = module;
  last_module_ = std::move(module);
  return true;
}

void LibraryWatch::AddToReport(const Snapshot& whole_run, nlohmann::json* report) {
  // A library mapped from the start and never unloaded is the ordinary
  // case, with nothing to add.
  if (events_.size() == 1 && events_[0].mapped && events_[0].time == first_poll_) return;
  nlohmann::json events = nlohmann::json::array();
  for (const LibraryEvent& e : events_) {
    events.push_back({{"at_s", absl::ToDoubleSeconds(e.time - whole_run.start)},
                      {"event", e.mapped ? "loaded" : "unloaded"},
                      {"path", e.path},
                      {"probes", e.probes}});
  }
  (*report)["library"] = {{"match", preset_.match}, {"events", std::move(events)}};
}

}  // namespace gridprobe
