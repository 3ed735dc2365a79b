#include "symbols/debug_info.h"

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace gridprobe::symbols {
namespace {

namespace fs = std::filesystem;

// CRC-32 of a whole file, as .gnu_debuglink records it; nullopt if unreadable.
std::optional<uint32_t> FileCrc(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  uLong crc = crc32(0L, Z_NULL, 0);
  std::vector<char> buf(1 << 16);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    crc = crc32(crc, reinterpret_cast<const Bytef*>(buf.data()), static_cast<uInt>(in.gcount()));
  }
  return static_cast<uint32_t>(crc);
}

std::vector<std::string> Candidates(const ElfFile& elf, const std::string& path,
                                    const std::vector<std::string>& debug_dirs) {
  std::vector<std::string> out;
  const std::string& id = elf.build_id();
  if (id.size() > 2) {
    for (const std::string& dir : debug_dirs) {
      out.push_back(absl::StrCat(dir, "/.build-id/", id.substr(0, 2), "/", id.substr(2), ".debug"));
    }
  }
  if (!elf.debuglink().empty()) {
    const std::string here = fs::path(elf.path()).parent_path().string();
    out.push_back(absl::StrCat(here, "/", elf.debuglink()));
    out.push_back(absl::StrCat(here, "/.debug/", elf.debuglink()));
    const std::string named = fs::path(path).parent_path().string();
    for (const std::string& dir : debug_dirs) {
      out.push_back(absl::StrCat(dir, named, "/", elf.debuglink()));
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> DefaultDebugDirs() { return {"/usr/lib/debug"}; }

bool LoadSeparateDebugInfo(ElfFile& elf, const std::string& path,
                           const std::vector<std::string>& debug_dirs) {
  if (elf.has_symtab()) return false;
  for (const std::string& candidate : Candidates(elf, path, debug_dirs)) {
    std::error_code ec;
    if (candidate == elf.path() || !fs::is_regular_file(candidate, ec)) continue;
    absl::StatusOr<std::unique_ptr<ElfFile>> debug = ElfFile::Open(candidate);
    if (!debug.ok() || !(*debug)->has_symtab()) continue;
    bool matches = !elf.build_id().empty() ? (*debug)->build_id() == elf.build_id()
                                           : FileCrc(candidate) == elf.debuglink_crc();
    if (!matches) continue;
    elf.MergeSymbolsFrom(**debug);
    return true;
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
