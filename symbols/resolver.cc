#include "symbols/resolver.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "base/status.h"
#include "symbols/elf_file.h"
#include "symbols/names.h"
#include "symbols/proc_maps.h"

namespace gridprobe::symbols {
namespace {

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Symbols whose demangled name shares the pattern's last component: what a
// user most likely meant when a pattern matched nothing.
std::vector<std::string> Candidates(const ElfFile& elf, const std::string& pattern) {
  std::string last = std::string(StripParameters(pattern));
  size_t colon = last.rfind("::");
  if (colon != std::string::npos) last = last.substr(colon + 2);
  std::string needle = absl::AsciiStrToLower(last);
  absl::StrReplaceAll({{"*", ""}, {"?", ""}}, &needle);
  std::vector<std::string> out;
  if (needle.empty()) return out;
  for (const ElfSymbol& s : elf.functions()) {
    if (absl::StrContains(absl::AsciiStrToLower(s.demangled), needle)) out.push_back(s.demangled);
    if (out.size() == 5) break;
  }
  return out;
}

absl::StatusOr<ResolvedSite> Locate(const ElfFile& elf, const Site& site) {
  GP_ASSIGN_OR_RETURN(uint64_t offset, elf.FileOffset(site.vaddr));
  return ResolvedSite{site.vaddr, offset, site.kind, site.insn};
}

absl::StatusOr<ResolvedSymbol> ResolveSymbol(const ElfFile& elf, const ElfSymbol& sym,
                                             const std::map<std::string, const ElfSymbol*>& by_name) {
  if (sym.size == 0) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            elf.path(), ": symbol ", sym.demangled,
                            " has no size, so its return instructions cannot be found")),
                        ExitCode::kSymbolNotFound);
  }
  std::vector<CodeRange> parts;
  GP_ASSIGN_OR_RETURN(std::vector<uint8_t> body, elf.ReadAt(sym.vaddr, sym.size));
  parts.push_back({sym.vaddr, std::move(body)});
  // GCC moves unlikely paths (throw sites, error handling) to "f.cold"; its
  // returns are the function's returns.
  auto cold = by_name.find(sym.name + ".cold");
  if (cold != by_name.end() && cold->second->size > 0) {
    GP_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                        elf.ReadAt(cold->second->vaddr, cold->second->size));
    parts.push_back({cold->second->vaddr, std::move(bytes)});
  }
  GP_ASSIGN_OR_RETURN(FunctionSites sites, FindProbeSites(parts));
  ResolvedSymbol out;
  out.mangled = sym.name;
  out.demangled = sym.demangled;
  out.vaddr = sym.vaddr;
  out.size = sym.size;
  out.undecoded_bytes = sites.undecoded_bytes;
  GP_ASSIGN_OR_RETURN(out.entry, Locate(elf, sites.entry));
  for (const Site& exit : sites.exits) {
    GP_ASSIGN_OR_RETURN(ResolvedSite s, Locate(elf, exit));
    out.exits.push_back(std::move(s));
  }
  return out;
}

}  // namespace

absl::StatusOr<ResolvedModule> ResolveInFile(const LibraryPreset& preset,
                                             const std::string& path,
                                             const std::string& open_path) {
  GP_ASSIGN_OR_RETURN(std::unique_ptr<ElfFile> elf, ElfFile::Open(open_path));
  std::map<std::string, const ElfSymbol*> by_name;
  for (const ElfSymbol& s : elf->functions()) by_name.emplace(s.name, &s);

  ResolvedModule module;
  module.path = path;
  module.open_path = open_path;
  module.has_symtab = elf->has_symtab();
  for (const OperationSpec& spec : preset.operations) {
    ResolvedOperation op;
    op.name = spec.name;
    op.impact = spec.impact;
    op.patterns = spec.symbols;
    std::set<uint64_t> addresses;  // aliases share an address: probe it once
    for (const std::string& pattern : spec.symbols) {
      bool matched = false;
      for (const ElfSymbol& sym : elf->functions()) {
        if (absl::EndsWith(sym.name, ".cold")) continue;
        if (!SymbolMatches(pattern, sym.name, sym.demangled)) continue;
        matched = true;
        if (!addresses.insert(sym.vaddr).second) continue;
        GP_ASSIGN_OR_RETURN(ResolvedSymbol rs, ResolveSymbol(*elf, sym, by_name));
        op.symbols.push_back(std::move(rs));
      }
      if (!matched) {
        std::vector<std::string> near = Candidates(*elf, pattern);
        return WithExitCode(
            absl::NotFoundError(absl::StrCat(
                "operation '", spec.name, "': no function matches '", pattern, "' in ", path,
                elf->has_symtab() ? "" : " (only dynamic symbols: the file is stripped)",
                near.empty() ? "" : absl::StrCat("; similar: ", absl::StrJoin(near, "; ")),
                "; check the preset's symbols (gridprobe symbols)")),
            ExitCode::kSymbolNotFound);
      }
    }
    module.ops.push_back(std::move(op));
  }
  return module;
}

absl::StatusOr<ResolvedModule> ResolveInProcess(const LibraryPreset& preset, int pid,
                                                const std::string& proc_root) {
  GP_ASSIGN_OR_RETURN(std::vector<Mapping> maps, ReadMaps(pid, proc_root));
  const Mapping* found = nullptr;
  std::set<std::string> paths;
  for (const Mapping& m : maps) {
    if (m.path.empty() || m.path[0] != '/') continue;
    paths.insert(BaseName(m.path));
    for (const std::string& glob : preset.match) {
      if (GlobMatch(glob, BaseName(m.path)) && (found == nullptr || m.executable())) {
        if (found == nullptr || !found->executable()) found = &m;
      }
    }
  }
  if (found == nullptr) {
    return WithExitCode(
        absl::FailedPreconditionError(absl::StrCat(
            "process ", pid, " does not map the library of preset '", preset.name, "' (",
            absl::StrJoin(preset.match, " or "),
            "); is it the right process, or is the library loaded later?")),
        ExitCode::kLibraryNotMapped);
  }
  return ResolveInFile(preset, found->path, HostPathOf(pid, *found, proc_root));
}

}  // namespace gridprobe::symbols
