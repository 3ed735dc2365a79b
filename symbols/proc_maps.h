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
  uint64_t dev = 0;    // the file's device, encoded as stat's st_dev (makedev)
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
// The path goes through PROC/PID/root as a string; open it with ElfFile::Open
// or OpenForReading (target_file.h), which resolve it inside that root.
std::string HostPathOf(int pid, const Mapping& mapping, const std::string& proc_root = "/proc");

// OK when the file gridprobe opened for `mapping` (its `dev` and `inode`, from
// fstat) is the file `pid` maps; else a one-line error (kFailure): the path
// names another file than the one mapped (replaced, or a path component
// swapped for a symlink), and probes there would not be in the target's code.
// A mapping without an inode (written by hand) is not checked.
absl::Status CheckMappedFile(int pid, const Mapping& mapping, const std::string& open_path,
                             uint64_t dev, uint64_t inode);

}  // namespace gridprobe::symbols

#endif  // GRIDPROBE_SYMBOLS_PROC_MAPS_H_
