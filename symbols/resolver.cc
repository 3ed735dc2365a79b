#include "symbols/resolver.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
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

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// What a user most likely meant when a pattern matched nothing: names within
// a few edits of it, or that contain its last component.
std::vector<std::string> Candidates(const ElfFile& elf, const std::string& pattern) {
  std::string wanted = std::string(StripParameters(pattern));
  absl::StrReplaceAll({{"*", ""}, {"?", ""}}, &wanted);
  std::string last = wanted.substr(wanted.rfind("::") == std::string::npos
                                       ? 0
                                       : wanted.rfind("::") + 2);
  last = absl::AsciiStrToLower(last);
  std::vector<std::pair<size_t, std::string>> scored;
  std::set<std::string> seen;
  for (const ElfSymbol& s : elf.functions()) {
    if (absl::EndsWith(s.name, ".cold") || !seen.insert(s.demangled).second) continue;
    std::string name = std::string(StripParameters(s.demangled));
    size_t d = EditDistance(wanted, name);
    bool contains = last.size() >= 3 && absl::StrContains(absl::AsciiStrToLower(name), last);
    if (d <= 3 || contains) scored.emplace_back(d, s.demangled);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < 5; ++i) out.push_back(scored[i].second);
  return out;
}

absl::StatusOr<ResolvedSite> Locate(const ElfFile& elf, const Site& site) {
  GP_ASSIGN_OR_RETURN(uint64_t offset, elf.FileOffset(site.vaddr));
  return ResolvedSite{site.vaddr, offset, site.kind, site.insn};
}

// The function's main body and its split-off "f.cold" part, if any: GCC moves
// unlikely paths (throw sites, error handling) there, and its returns are the
// function's returns.
absl::StatusOr<std::vector<CodeRange>> PartsOf(
    const ElfFile& elf, const ElfSymbol& sym,
    const std::map<std::string, const ElfSymbol*>& by_name) {
  std::vector<CodeRange> parts;
  GP_ASSIGN_OR_RETURN(std::vector<uint8_t> body, elf.ReadSymbol(sym));
  parts.push_back({sym.vaddr, std::move(body)});
  auto cold = by_name.find(sym.name + ".cold");
  if (cold != by_name.end() && cold->second->size > 0) {
    GP_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, elf.ReadSymbol(*cold->second));
    parts.push_back({cold->second->vaddr, std::move(bytes)});
  }
  return parts;
}

// Walks every function `root` reaches by direct calls and tail jumps inside
// the module (through the PLT too, for a library's own exported functions);
// returns why one of them may run a callback ("" when none can): it calls or
// jumps through a pointer, calls a libc callback-taker, or cannot be analyzed.
std::string CallTreeProblem(const ElfFile& elf, const FunctionSites& root,
                            const std::map<std::string, const ElfSymbol*>& by_name,
                            const ModuleUnwindFacts& unwind) {
  constexpr size_t kMaxFunctions = 2000;
  std::vector<uint64_t> queue(root.callees.begin(), root.callees.end());
  std::set<uint64_t> seen(queue.begin(), queue.end());
  for (size_t i = 0; i < queue.size(); ++i) {
    const uint64_t addr = queue[i];
    if (elf.InPlt(addr)) {
      std::string name = elf.PltTarget(addr);
      if (name.empty()) {
        return absl::StrCat("a PLT entry at 0x", absl::Hex(addr), " gridprobe cannot name");
      }
      if (std::find(unwind.callback_imports.begin(), unwind.callback_imports.end(), name) !=
          unwind.callback_imports.end()) {
        return absl::StrCat(name, ", which calls back into code it is passed");
      }
      // A library calls its own exported functions through the PLT: follow.
      auto own = by_name.find(name);
      if (own == by_name.end()) continue;  // another module's function, no callbacks
      if (seen.insert(own->second->vaddr).second) queue.push_back(own->second->vaddr);
      continue;
    }
    if (seen.size() > kMaxFunctions) {
      return absl::StrCat("more than ", kMaxFunctions, " functions, too many to analyze");
    }
    const ElfSymbol* f = elf.FunctionAt(addr);
    if (f == nullptr || f->vaddr != addr) {
      return absl::StrCat("code at 0x", absl::Hex(addr), " that no symbol describes");
    }
    absl::StatusOr<std::vector<CodeRange>> parts = PartsOf(elf, *f, by_name);
    absl::StatusOr<FunctionSites> sites =
        parts.ok() ? FindProbeSites(*parts, EntryPolicy{}) : parts.status();
    if (!sites.ok()) return absl::StrCat(f->demangled, ", which cannot be disassembled");
    if (std::string reason = PointerCallReason(*sites); !reason.empty()) {
      return absl::StrCat(f->demangled, ", which has ", reason);
    }
    for (uint64_t callee : sites->callees) {
      if (seen.insert(callee).second) queue.push_back(callee);
    }
  }
  return "";
}

absl::StatusOr<ResolvedSymbol> ResolveSymbol(const ElfFile& elf, const ElfSymbol& sym,
                                             const std::map<std::string, const ElfSymbol*>& by_name,
                                             const EntryPolicy& policy,
                                             const ModuleUnwindFacts& unwind) {
  if (sym.size == 0) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            elf.path(), ": symbol ", sym.demangled,
                            " has no size, so its return instructions cannot be found")),
                        ExitCode::kSymbolNotFound);
  }
  GP_ASSIGN_OR_RETURN(std::vector<CodeRange> parts, PartsOf(elf, sym, by_name));
  GP_ASSIGN_OR_RETURN(FunctionSites sites, FindProbeSites(parts, policy));
  ResolvedSymbol out;
  out.mangled = sym.name;
  out.demangled = sym.demangled;
  out.vaddr = sym.vaddr;
  out.size = sym.size;
  out.undecoded_bytes = sites.undecoded_bytes;
  out.entry_emulated = sites.entry_emulated;
  out.ret = DecideReturnMode(unwind, sites);
  // Only a function fast so far is worth the walk over what it calls.
  if (out.ret.mode == ReturnMode::kFast) {
    out.ret = DecideReturnMode(unwind, sites, CallTreeProblem(elf, sites, by_name, unwind));
  }
  out.callees = std::move(sites.callees);
  GP_ASSIGN_OR_RETURN(out.entry, Locate(elf, sites.entry));
  for (const Site& exit : sites.exits) {
    GP_ASSIGN_OR_RETURN(ResolvedSite s, Locate(elf, exit));
    out.exits.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<ResolvedModule> ResolveInElf(const LibraryPreset& preset,
                                            std::unique_ptr<ElfFile> elf, const std::string& path,
                                            const std::string& open_path,
                                            const EntryPolicy& policy,
                                            const std::vector<std::string>& debug_dirs) {
  GP_RETURN_IF_ERROR(LoadSeparateDebugInfo(*elf, path, debug_dirs).status());
  std::map<std::string, const ElfSymbol*> by_name;
  for (const ElfSymbol& s : elf->functions()) by_name.emplace(s.name, &s);

  ResolvedModule module;
  module.path = path;
  module.open_path = open_path;
  module.file_dev = elf->dev();
  module.file_inode = elf->inode();
  module.has_symtab = elf->has_symtab();
  module.debug_file = elf->debug_file();
  module.build_id = elf->build_id();
  module.unwind = ReadUnwindFacts(*elf);
  for (const OperationSpec& spec : preset.operations) {
    ResolvedOperation op;
    op.name = spec.name;
    op.impact = spec.impact;
    op.patterns = spec.symbols;
    op.return_request = spec.return_request;
    std::set<uint64_t> addresses;  // aliases share an address: probe it once
    for (const std::string& pattern : spec.symbols) {
      bool matched = false;
      for (const ElfSymbol& sym : elf->functions()) {
        if (absl::EndsWith(sym.name, ".cold")) continue;
        if (!SymbolMatches(pattern, sym.name, sym.demangled)) continue;
        matched = true;
        if (!addresses.insert(sym.vaddr).second) continue;
        GP_ASSIGN_OR_RETURN(ResolvedSymbol rs,
                            ResolveSymbol(*elf, sym, by_name, policy, module.unwind));
        op.symbols.push_back(std::move(rs));
      }
      if (!matched) {
        std::vector<std::string> near = Candidates(*elf, pattern);
        return WithExitCode(
            absl::NotFoundError(absl::StrCat(
                "operation '", spec.name, "': no function matches '", pattern, "' in ", path,
                elf->has_symtab()
                    ? ""
                    : absl::StrCat(" (only dynamic symbols: the file is stripped and ",
                                   DescribeMissingDebugInfo(*elf, debug_dirs), ")"),
                near.empty() ? "" : absl::StrCat("; similar: ", absl::StrJoin(near, "; ")),
                "; check the preset's symbols (gridprobe symbols)")),
            ExitCode::kSymbolNotFound);
      }
    }
    module.ops.push_back(std::move(op));
  }
  return module;
}

}  // namespace

absl::StatusOr<ResolvedModule> ResolveInFile(const LibraryPreset& preset,
                                             const std::string& path,
                                             const std::string& open_path,
                                             const EntryPolicy& policy,
                                             const std::vector<std::string>& debug_dirs) {
  GP_ASSIGN_OR_RETURN(std::unique_ptr<ElfFile> elf, ElfFile::Open(open_path));
  return ResolveInElf(preset, std::move(elf), path, open_path, policy, debug_dirs);
}

const Mapping* FindPresetLibrary(const LibraryPreset& preset, const std::vector<Mapping>& maps) {
  const Mapping* found = nullptr;
  for (const Mapping& m : maps) {
    if (m.path.empty() || m.path[0] != '/') continue;
    for (const std::string& glob : preset.match) {
      if (GlobMatch(glob, BaseName(m.path)) && (found == nullptr || m.executable())) {
        if (found == nullptr || !found->executable()) found = &m;
      }
    }
  }
  return found;
}

absl::Status LibraryNotMappedError(const LibraryPreset& preset, int pid) {
  return WithExitCode(
      absl::FailedPreconditionError(absl::StrCat(
          "process ", pid, " does not map the library of preset '", preset.name, "' (",
          absl::StrJoin(preset.match, " or "),
          "); is it the right process? If it loads the library later (dlopen), add "
          "--wait-library")),
      ExitCode::kLibraryNotMapped);
}

absl::StatusOr<ResolvedModule> ResolveInMapping(const LibraryPreset& preset, int pid,
                                                const Mapping& library,
                                                const EntryPolicy& policy,
                                                const std::string& proc_root,
                                                const std::vector<std::string>& debug_dirs) {
  const std::string open_path = HostPathOf(pid, library, proc_root);
  if (library.deleted) {
    // The code the process runs is the deleted file's; only map_files reaches
    // it (whatever sits at its path now is another file), and the kernel lets
    // only CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE) follow map_files links.
    int fd = open(open_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      return WithExitCode(
          absl::PermissionDeniedError(absl::StrCat(
              "process ", pid, " runs ", library.path,
              ", which was deleted (or replaced) after it was loaded, and gridprobe cannot "
              "read the loaded copy through ",
              open_path, " (", std::strerror(err),
              "): run gridprobe as root, or restart the process so that it loads the "
              "file on disk")),
          ExitCode::kPermission);
    }
    close(fd);
  }
  GP_ASSIGN_OR_RETURN(std::unique_ptr<ElfFile> elf, ElfFile::Open(open_path));
  GP_RETURN_IF_ERROR(CheckMappedFile(pid, library, open_path, elf->dev(), elf->inode()));
  return ResolveInElf(preset, std::move(elf), library.path, open_path, policy, debug_dirs);
}

absl::StatusOr<ResolvedModule> ResolveInProcess(const LibraryPreset& preset, int pid,
                                                const EntryPolicy& policy,
                                                const std::string& proc_root,
                                                const std::vector<std::string>& debug_dirs) {
  GP_ASSIGN_OR_RETURN(std::vector<Mapping> maps, ReadMaps(pid, proc_root));
  const Mapping* found = FindPresetLibrary(preset, maps);
  if (found == nullptr) return LibraryNotMappedError(preset, pid);
  return ResolveInMapping(preset, pid, *found, policy, proc_root, debug_dirs);
}

absl::StatusOr<ResolvedSymbol> ResolveFunction(const std::string& open_path,
                                               const std::string& name,
                                               const EntryPolicy& policy) {
  GP_ASSIGN_OR_RETURN(std::unique_ptr<ElfFile> elf, ElfFile::Open(open_path));
  return ResolveFunction(*elf, name, policy);
}

absl::StatusOr<ResolvedSymbol> ResolveFunction(const ElfFile& elf, const std::string& name,
                                               const EntryPolicy& policy) {
  std::map<std::string, const ElfSymbol*> by_name;
  for (const ElfSymbol& s : elf.functions()) by_name.emplace(s.name, &s);
  auto it = by_name.find(name);
  if (it == by_name.end() || it->second->ifunc) {
    return WithExitCode(absl::NotFoundError(absl::StrCat(elf.path(), " does not define ", name)),
                        ExitCode::kSymbolNotFound);
  }
  return ResolveSymbol(elf, *it->second, by_name, policy, ReadUnwindFacts(elf));
}

absl::Status ChooseReturnModes(ResolvedModule* module, ReturnRequest flag, bool acknowledged) {
  for (ResolvedOperation& op : module->ops) {
    ReturnRequest request = flag != ReturnRequest::kAuto ? flag : op.return_request;
    for (ResolvedSymbol& sym : op.symbols) {
      GP_ASSIGN_OR_RETURN(sym.ret,
                          ApplyReturnRequest(sym.ret, request, acknowledged,
                                             absl::StrCat(sym.demangled, " (operation '",
                                                          op.name, "')")));
    }
  }
  return absl::OkStatus();
}

}  // namespace gridprobe::symbols
