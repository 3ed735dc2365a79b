#include "symbols/allocator.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "symbols/elf_file.h"
#include "symbols/names.h"
#include "symbols/proc_maps.h"

namespace gridprobe::symbols {
namespace {

struct Spec {
  const char* name;
  AllocKind kind;
  std::vector<std::string> regs;  // argument registers the entry program reads
};

const std::vector<Spec>& Specs() {
  static const std::vector<Spec> specs = {
      {"malloc", AllocKind::kMalloc, {"rdi"}},
      {"calloc", AllocKind::kCalloc, {"rdi", "rsi"}},
      {"realloc", AllocKind::kRealloc, {"rdi", "rsi"}},
      {"reallocarray", AllocKind::kReallocArray, {"rdi", "rsi", "rdx"}},
      {"posix_memalign", AllocKind::kPosixMemalign, {"rdi", "rsi", "rdx"}},
      {"aligned_alloc", AllocKind::kMemalign, {"rdi", "rsi"}},
      {"memalign", AllocKind::kMemalign, {"rdi", "rsi"}},
      {"valloc", AllocKind::kMalloc, {"rdi"}},
      {"pvalloc", AllocKind::kMalloc, {"rdi"}},
      {"free", AllocKind::kFree, {"rdi"}},
  };
  return specs;
}

// C++ operator new (size in rdi, whatever the variant) and delete (pointer
// in rdi), in the order `CxxOperators` reports them.
const std::vector<Spec>& CxxSpecs() {
  static const std::vector<Spec> specs = {
      {"_Znwm", AllocKind::kMalloc, {"rdi"}},
      {"_Znam", AllocKind::kMalloc, {"rdi"}},
      {"_ZnwmRKSt9nothrow_t", AllocKind::kMalloc, {"rdi"}},
      {"_ZnamRKSt9nothrow_t", AllocKind::kMalloc, {"rdi"}},
      {"_ZnwmSt11align_val_t", AllocKind::kMalloc, {"rdi"}},
      {"_ZnamSt11align_val_t", AllocKind::kMalloc, {"rdi"}},
      {"_ZnwmSt11align_val_tRKSt9nothrow_t", AllocKind::kMalloc, {"rdi"}},
      {"_ZnamSt11align_val_tRKSt9nothrow_t", AllocKind::kMalloc, {"rdi"}},
      {"_ZdlPv", AllocKind::kFree, {"rdi"}},
      {"_ZdaPv", AllocKind::kFree, {"rdi"}},
      {"_ZdlPvm", AllocKind::kFree, {"rdi"}},
      {"_ZdaPvm", AllocKind::kFree, {"rdi"}},
      {"_ZdlPvRKSt9nothrow_t", AllocKind::kFree, {"rdi"}},
      {"_ZdaPvRKSt9nothrow_t", AllocKind::kFree, {"rdi"}},
      {"_ZdlPvSt11align_val_t", AllocKind::kFree, {"rdi"}},
      {"_ZdaPvSt11align_val_t", AllocKind::kFree, {"rdi"}},
      {"_ZdlPvmSt11align_val_t", AllocKind::kFree, {"rdi"}},
      {"_ZdaPvmSt11align_val_t", AllocKind::kFree, {"rdi"}},
      {"_ZdlPvSt11align_val_tRKSt9nothrow_t", AllocKind::kFree, {"rdi"}},
      {"_ZdaPvSt11align_val_tRKSt9nothrow_t", AllocKind::kFree, {"rdi"}},
  };
  return specs;
}

bool DefinesMalloc(const ElfFile& elf) {
  for (const ElfSymbol& s : elf.functions()) {
    if (s.name == "malloc" && s.global) return true;
  }
  return false;
}

// Adds the module's own operator new/delete. One that calls or jumps to a C
// allocator function or to another operator (libstdc++'s new calls malloc,
// jemalloc's new[] jumps to new) is seen through that one and not probed: a
// second probe would only add traps. One at the address of a C function
// (tcmalloc's delete is free) is that function, probed once.
absl::Status AddCxxOperators(const ElfFile& elf, const std::set<std::string>& emulated,
                             const std::set<uint64_t>& c_addresses, AllocatorModule* module) {
  std::vector<AllocatorFunction> cxx;
  std::set<uint64_t> family = c_addresses;
  for (const Spec& spec : CxxSpecs()) {
    EntryPolicy policy{emulated, spec.regs};
    absl::StatusOr<ResolvedSymbol> sym = ResolveFunction(elf, spec.name, policy);
    if (!sym.ok()) {
      if (ExitCodeOf(sym.status()) == ExitCode::kSymbolNotFound) continue;
      return sym.status();
    }
    module->cxx_defined = true;
    if (!family.insert(sym->vaddr).second) continue;  // an alias: probed once
    cxx.push_back({spec.name, spec.kind, *std::move(sym)});
  }
  for (AllocatorFunction& f : cxx) {
    bool through = false;
    for (uint64_t callee : f.symbol.callees) through |= family.count(callee) > 0;
    if (through) continue;
    module->cxx_probed.push_back(f.name);
    module->functions.push_back(std::move(f));
  }
  return absl::OkStatus();
}

}  // namespace

std::string DescribeCxxOperators(const AllocatorModule& module) {
  if (!module.cxx_defined) {
    return "operator new/delete: the C++ runtime's, through malloc/free";
  }
  if (module.cxx_probed.empty()) {
    return absl::StrCat("operator new/delete: ", module.family, "'s, through malloc/free");
  }
  return absl::StrCat("operator new/delete: ", module.family, "'s own, ",
                      module.cxx_probed.size(), " probed");
}

absl::StatusOr<AllocatorModule> ResolveAllocator(int pid, const std::set<std::string>& emulated,
                                                 const std::string& proc_root) {
  GP_ASSIGN_OR_RETURN(std::vector<Mapping> maps, ReadMaps(pid, proc_root));
  // Candidates in binding order: the executable's own definitions win, then
  // a preloaded or linked replacement allocator, then libc.
  std::vector<std::pair<std::string, const Mapping*>> candidates;
  std::set<std::string> seen;
  const Mapping* exe = nullptr;
  for (const Mapping& m : maps) {
    if (m.executable() && !m.path.empty() && m.path[0] == '/') {
      exe = &m;
      break;
    }
  }
  if (exe != nullptr) candidates.emplace_back("executable", exe);
  for (const char* family : {"jemalloc", "tcmalloc", "mimalloc"}) {
    for (const Mapping& m : maps) {
      if (m.executable() && GlobMatch(absl::StrCat("lib", family, "*.so*"), BaseName(m.path))) {
        candidates.emplace_back(family, &m);
      }
    }
  }
  for (const Mapping& m : maps) {
    if (m.executable() && GlobMatch("libc.so*", BaseName(m.path))) {
      candidates.emplace_back("glibc", &m);
    }
  }
  for (const auto& [family, mapping] : candidates) {
    std::string open_path = HostPathOf(pid, *mapping, proc_root);
    if (!seen.insert(open_path).second) continue;
    absl::StatusOr<std::unique_ptr<ElfFile>> elf = ElfFile::Open(open_path);
    if (!elf.ok() || !DefinesMalloc(**elf)) continue;
    GP_RETURN_IF_ERROR(
        CheckMappedFile(pid, *mapping, open_path, (*elf)->dev(), (*elf)->inode()));
    AllocatorModule module;
    module.family = family;
    module.path = mapping->path;
    module.open_path = open_path;
    module.file_dev = (*elf)->dev();
    module.file_inode = (*elf)->inode();
    std::set<uint64_t> addresses;
    for (const Spec& spec : Specs()) {
      EntryPolicy policy{emulated, spec.regs};
      absl::StatusOr<ResolvedSymbol> sym = ResolveFunction(**elf, spec.name, policy);
      if (!sym.ok()) {
        if (ExitCodeOf(sym.status()) == ExitCode::kSymbolNotFound) continue;  // optional ones
        return sym.status();
      }
      if (!addresses.insert(sym->vaddr).second) continue;  // alias of one already probed
      module.functions.push_back({spec.name, spec.kind, *std::move(sym)});
    }
    GP_RETURN_IF_ERROR(AddCxxOperators(**elf, emulated, addresses, &module));
    bool has_free = false;
    for (const AllocatorFunction& f : module.functions) has_free |= f.kind == AllocKind::kFree;
    if (!has_free) {
      return WithExitCode(absl::NotFoundError(absl::StrCat(module.path,
                                                           " defines malloc but not free")),
                          ExitCode::kSymbolNotFound);
    }
    return module;
  }
  return WithExitCode(
      absl::FailedPreconditionError(absl::StrCat(
          "process ", pid, " maps no allocator gridprobe can find (no malloc in the executable, "
          "jemalloc, tcmalloc, mimalloc or libc); use --memory off")),
      ExitCode::kLibraryNotMapped);
}

}  // namespace gridprobe::symbols
