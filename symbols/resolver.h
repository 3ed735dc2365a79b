// Operation -> probe sites: the first stage of the pipeline.
#ifndef GRIDPROBE_SYMBOLS_RESOLVER_H_
#define GRIDPROBE_SYMBOLS_RESOLVER_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "symbols/debug_info.h"
#include "symbols/elf_file.h"
#include "symbols/library_preset.h"
#include "symbols/probe_sites.h"
#include "symbols/proc_maps.h"
#include "symbols/return_mode.h"

namespace gridprobe::symbols {

struct ResolvedSite {
  uint64_t vaddr = 0;
  uint64_t file_offset = 0;  // what the uprobe is attached at
  SiteKind kind = SiteKind::kEntry;
  std::string insn;
};

struct ResolvedSymbol {
  bool entry_emulated = false;  // the kernel emulates the entry instruction
  std::string mangled;
  std::string demangled;
  uint64_t vaddr = 0;
  uint64_t size = 0;
  ResolvedSite entry;
  std::vector<ResolvedSite> exits;
  uint64_t undecoded_bytes = 0;
  // How its return is timed: the analysis' choice after resolving, the final
  // one after ChooseReturnModes.
  ReturnDecision ret;
  std::set<uint64_t> callees;  // direct call and jump targets outside the function
};

struct ResolvedOperation {
  std::string name;
  std::string impact;
  std::vector<std::string> patterns;
  ReturnRequest return_request = ReturnRequest::kAuto;  // from the preset
  std::vector<ResolvedSymbol> symbols;
};

struct ResolvedModule {
  std::string path;       // as the target names it ("/usr/lib/libgridkit.so.1")
  std::string open_path;  // how gridprobe reaches it ("/proc/42/root/usr/lib/...")
  // The file gridprobe opened and resolved (fstat; dev as stat's st_dev),
  // checked against the mapping for a module of a process. A path is looked
  // up again when probes are attached by it: stat(open_path) right before
  // attaching must give these, or the sites belong to another file.
  uint64_t file_dev = 0;
  uint64_t file_inode = 0;
  bool has_symtab = false;
  std::string debug_file;     // separate debug file the symbols came from, or ""
  std::string build_id;       // GNU build-id in hex, or "" when the file has none
  ModuleUnwindFacts unwind;
  std::vector<ResolvedOperation> ops;
};

// Settles every symbol's return mode: `flag` (--return-mode) when not kAuto,
// else the operation's preset request, applied to the analysis' decision
// (ApplyReturnRequest). Fails on the first forced fast return the analysis
// says could kill the target, unless `acknowledged`; the module must then not
// be attached.
absl::Status ChooseReturnModes(ResolvedModule* module, ReturnRequest flag, bool acknowledged);

// Resolves every operation of `preset` in the ELF file at `open_path`.
// A pattern that matches nothing is an error (kSymbolNotFound) naming the
// operation, the pattern and near candidates.
// A file without .symtab gets its symbols from its separate debug file,
// looked for in `debug_dirs` (debug_info.h).
absl::StatusOr<ResolvedModule> ResolveInFile(
    const LibraryPreset& preset, const std::string& path, const std::string& open_path,
    const EntryPolicy& policy, const std::vector<std::string>& debug_dirs = DefaultDebugDirs());

// The mapping of the preset's library among `maps` (its executable one when
// there is one), or nullptr when the process does not map it.
const Mapping* FindPresetLibrary(const LibraryPreset& preset, const std::vector<Mapping>& maps);

// The kLibraryNotMapped error for `pid`.
absl::Status LibraryNotMappedError(const LibraryPreset& preset, int pid);

// Resolves the preset in the file of `pid`'s mapping `library`, read inside
// the process's root; fails (CheckMappedFile) when the file found there is not
// the one mapped.
absl::StatusOr<ResolvedModule> ResolveInMapping(
    const LibraryPreset& preset, int pid, const Mapping& library, const EntryPolicy& policy,
    const std::string& proc_root = "/proc",
    const std::vector<std::string>& debug_dirs = DefaultDebugDirs());

// Finds the preset's library among `pid`'s mappings and resolves it there.
// kLibraryNotMapped when the process does not map it (yet). A library deleted
// or replaced since the process loaded it is read as loaded, through
// /proc/PID/map_files (root); kPermission, in one line, when that is refused.
absl::StatusOr<ResolvedModule> ResolveInProcess(
    const LibraryPreset& preset, int pid, const EntryPolicy& policy,
    const std::string& proc_root = "/proc",
    const std::vector<std::string>& debug_dirs = DefaultDebugDirs());

// The probe sites of one function, by exact symbol name (mangled or C), in
// an ELF file; NotFound (kSymbolNotFound) when the file does not define it.
absl::StatusOr<ResolvedSymbol> ResolveFunction(const std::string& open_path,
                                               const std::string& name,
                                               const EntryPolicy& policy);
// The same in an opened file.
absl::StatusOr<ResolvedSymbol> ResolveFunction(const ElfFile& elf, const std::string& name,
                                               const EntryPolicy& policy);

}  // namespace gridprobe::symbols

#endif  // GRIDPROBE_SYMBOLS_RESOLVER_H_
