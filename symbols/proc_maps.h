// Reading a process's memory map, the source of truth for which files it runs.
#ifndef GRIDPROBE_SYMBOLS_PROC_MAPS_H_
#define GRIDPROBE_SYMBOLS_PROC_MAPS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace gridprobe::symbols {

struct Mapping {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t file_offset = 0;
  std::string perms;  // "r-xp"
  uint64_t inode = 0;
  std::string path;   // as the target sees it, without " (deleted)"
  bool deleted = false;

  bool executable() const { return perms.size() > 2 && perms[2] == 'x'; }
};

// Parses the text of /proc/PID/maps. Lines it cannot read are skipped.
std::vector<Mapping> ParseMaps(absl::string_view text);

// Reads `proc_root`/PID/maps. NotFound (exit code kNotFound) when there is no
// such process.
absl::StatusOr<std::vector<Mapping>> ReadMaps(int pid, const std::string& proc_root = "/proc");

// Path through which gridprobe opens a file the target maps: through the
// target's root, so a container's files are read, not the host's; through
// map_files for a deleted file.
std::string HostPathOf(int pid, const Mapping& mapping, const std::string& proc_root = "/proc");

}  // namespace gridprobe::symbols

#endif  // GRIDPROBE_SYMBOLS_PROC_MAPS_H_
