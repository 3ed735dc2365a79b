#include "symbols/proc_maps.h"

#include <sys/sysmacros.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/status.h"

namespace gridprobe::symbols {
namespace {

constexpr absl::string_view kDeletedSuffix = " (deleted)";

bool ParseHex(absl::string_view s, uint64_t* out) {
  return absl::SimpleHexAtoi(s, out);
}

}  // namespace

std::vector<Mapping> ParseMaps(absl::string_view text) {
  std::vector<Mapping> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    // start-end perms offset dev inode [path]; the path may contain spaces.
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits(' ', 5));
    if (f.size() < 5) continue;
    Mapping m;
    std::pair<absl::string_view, absl::string_view> range = absl::StrSplit(f[0], '-');
    if (!ParseHex(range.first, &m.start) || !ParseHex(range.second, &m.end)) continue;
    m.perms = std::string(f[1]);
    if (!ParseHex(f[2], &m.file_offset)) continue;
    std::pair<absl::string_view, absl::string_view> dev = absl::StrSplit(f[3], ':');
    uint64_t dev_major = 0, dev_minor = 0;
    if (!ParseHex(dev.first, &dev_major) || !ParseHex(dev.second, &dev_minor) ||
        dev_major > 0xfff || dev_minor > 0xfffff) {
      continue;
    }
    m.dev = makedev(static_cast<unsigned>(dev_major), static_cast<unsigned>(dev_minor));
    if (!absl::SimpleAtoi(f[4], &m.inode)) continue;
    if (f.size() == 6) {
      absl::string_view path = absl::StripLeadingAsciiWhitespace(f[5]);
      if (absl::ConsumeSuffix(&path, kDeletedSuffix)) m.deleted = true;
      m.path = std::string(path);
    }
    out.push_back(std::move(m));
  }
  return out;
}

absl::StatusOr<std::vector<Mapping>> ReadMaps(int pid, const std::string& proc_root) {
  std::string path = absl::StrCat(proc_root, "/", pid, "/maps");
  std::ifstream in(path);
  if (!in) {
    int err = errno;
    if (err == ENOENT) {
      return WithExitCode(
          absl::NotFoundError(absl::StrFormat("no process with pid %d", pid)),
          ExitCode::kNotFound);
    }
    return ErrnoError(err, absl::StrCat("read ", path), err == EACCES ? ExitCode::kPermission
                                                                       : ExitCode::kFailure);
  }
  std::stringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return ErrnoError(errno, absl::StrCat("read ", path), ExitCode::kFailure);
  return ParseMaps(buf.str());
}

std::string HostPathOf(int pid, const Mapping& mapping, const std::string& proc_root) {
  if (mapping.deleted) {
    return absl::StrFormat("%s/%d/map_files/%x-%x", proc_root, pid, mapping.start, mapping.end);
  }
  return absl::StrCat(proc_root, "/", pid, "/root", mapping.path);
}

absl::Status CheckMappedFile(int pid, const Mapping& mapping, const std::string& open_path,
                             uint64_t dev, uint64_t inode) {
  if (mapping.inode == 0 || (mapping.dev == dev && mapping.inode == inode)) {
    return absl::OkStatus();
  }
  return WithExitCode(
      absl::FailedPreconditionError(absl::StrFormat(
          "process %d maps %s (device %x:%x, inode %d), but %s is another file (device %x:%x, "
          "inode %d): it was replaced, or a directory on its path swapped, since the process "
          "mapped it; gridprobe does not probe a file the process may not run",
          pid, mapping.path, major(mapping.dev), minor(mapping.dev), mapping.inode, open_path,
          major(dev), minor(dev), inode)),
      ExitCode::kFailure);
}

}  // namespace gridprobe::symbols
