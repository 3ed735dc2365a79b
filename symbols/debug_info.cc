#include "symbols/debug_info.h"

#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"

namespace gridprobe::symbols {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> BuildIdCandidates(const ElfFile& elf,
                                           const std::vector<std::string>& debug_dirs) {
  std::vector<std::string> out;
  const std::string& id = elf.build_id();  // hex digits only
  if (id.size() > 2) {
    for (const std::string& dir : debug_dirs) {
      out.push_back(absl::StrCat(dir, "/.build-id/", id.substr(0, 2), "/", id.substr(2), ".debug"));
    }
  }
  return out;
}

// The debuglink is a file name the file's author chose: a '/' or a ".." in it
// would let it name any file (a CRC oracle on /etc/shadow), so it must be a
// plain name or is refused, unopened.
absl::Status CheckDebuglink(const ElfFile& elf, const std::string& path) {
  const std::string& link = elf.debuglink();
  const char* why = link.empty()                                  ? "is empty or unreadable"
                    : absl::StrContains(link, '/')                ? "holds a '/'"
                    : link == "." || link == ".."                 ? "names a directory"
                                                                  : nullptr;
  if (why == nullptr) return absl::OkStatus();
  return WithExitCode(
      absl::InvalidArgumentError(absl::StrCat(
          path, ": its .gnu_debuglink '", absl::CHexEscape(link), "' ", why,
          ", not a plain file name: refusing to look for a debug file by it; give the debug "
          "file's directory with --debug-dir if it has a build-id")),
      ExitCode::kBadInput);
}

std::vector<std::string> DebuglinkCandidates(const ElfFile& elf, const std::string& path,
                                             const std::vector<std::string>& debug_dirs) {
  // REQUIRES: CheckDebuglink passed. Beside the file (inside the target's
  // root when it is the target's), then under each debug directory at the
  // file's directory as the target names it.
  std::vector<std::string> out;
  const std::string& name = elf.debuglink();
  const std::string here = fs::path(elf.path()).parent_path().string();
  out.push_back(absl::StrCat(here, "/", name));
  out.push_back(absl::StrCat(here, "/.debug/", name));
  const fs::path named = fs::path(path).parent_path();
  bool plain = named.is_absolute();
  for (const fs::path& part : named) plain &= part != "..";
  if (plain) {
    for (const std::string& dir : debug_dirs) {
      out.push_back(absl::StrCat(dir, named.string(), "/", name));
    }
  }
  return out;
}

// Merges `candidate`'s symbols into `elf` if it is its debug file.
bool TryCandidate(ElfFile& elf, const std::string& candidate) {
  absl::StatusOr<std::unique_ptr<ElfFile>> debug = ElfFile::Open(candidate);
  if (!debug.ok() || !(*debug)->has_symtab()) return false;
  if ((*debug)->dev() == elf.dev() && (*debug)->inode() == elf.inode()) return false;
  bool matches = false;
  if (!elf.build_id().empty()) {
    matches = (*debug)->build_id() == elf.build_id();
  } else {
    absl::StatusOr<uint32_t> crc = (*debug)->Crc32();
    matches = crc.ok() && *crc == elf.debuglink_crc();
  }
  if (!matches) return false;
  elf.MergeSymbolsFrom(**debug);
  return true;
}

}  // namespace

std::vector<std::string> DefaultDebugDirs() { return {"/usr/lib/debug"}; }

absl::StatusOr<bool> LoadSeparateDebugInfo(ElfFile& elf, const std::string& path,
                                           const std::vector<std::string>& debug_dirs) {
  if (elf.has_symtab()) return false;
  for (const std::string& candidate : BuildIdCandidates(elf, debug_dirs)) {
    if (TryCandidate(elf, candidate)) return true;
  }
  if (!elf.has_debuglink()) return false;
  GP_RETURN_IF_ERROR(CheckDebuglink(elf, path));
  for (const std::string& candidate : DebuglinkCandidates(elf, path, debug_dirs)) {
    if (TryCandidate(elf, candidate)) return true;
  }
  return false;
}

std::string DescribeMissingDebugInfo(const ElfFile& elf,
                                     const std::vector<std::string>& debug_dirs) {
  std::vector<std::string> looked;
  if (!elf.build_id().empty()) looked.push_back(absl::StrCat("build-id ", elf.build_id()));
  if (!elf.debuglink().empty()) looked.push_back(absl::StrCat("debuglink ", elf.debuglink()));
  if (looked.empty()) return "it names no debug file (no build-id, no debuglink)";
  return absl::StrCat("no debug file for ", absl::StrJoin(looked, " or "), " in ",
                      absl::StrJoin(debug_dirs, ", "),
                      ": install its debug package or give --debug-dir");
}

}  // namespace gridprobe::symbols
