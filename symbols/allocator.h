// Which allocator a process binds to, and where to probe it.
#ifndef GRIDPROBE_SYMBOLS_ALLOCATOR_H_
#define GRIDPROBE_SYMBOLS_ALLOCATOR_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "symbols/resolver.h"

namespace gridprobe::symbols {

// The calling conventions the BPF programs understand.
enum class AllocKind {
  kMalloc,         // (size) -> ptr; also valloc, pvalloc
  kCalloc,         // (n, size) -> ptr
  kRealloc,        // (ptr, size) -> ptr
  kReallocArray,   // (ptr, n, size) -> ptr
  kMemalign,       // (alignment, size) -> ptr; also aligned_alloc
  kPosixMemalign,  // (ptr*, alignment, size) -> errno
  kFree,           // (ptr)
};

struct AllocatorFunction {
  std::string name;
  AllocKind kind = AllocKind::kMalloc;
  ResolvedSymbol symbol;
};

struct AllocatorModule {
  std::string family;     // "glibc", "jemalloc", "tcmalloc", "mimalloc", "executable"
  std::string path;       // as the target maps it
  std::string open_path;  // through /proc/PID/root
  // The file opened and resolved, as in ResolvedModule: stat(open_path) must
  // still give these right before attaching.
  uint64_t file_dev = 0;
  uint64_t file_inode = 0;
  std::vector<AllocatorFunction> functions;  // one per address (aliases probed once)
  // C++ operator new/delete: whether the module defines any, and the mangled
  // names of those probed because they do not go through malloc/free.
  bool cxx_defined = false;
  std::vector<std::string> cxx_probed;
};

// "operator new/delete: tcmalloc's own, 9 probed" and the like: which C++
// allocation path the probes see, for the attach line.
std::string DescribeCxxOperators(const AllocatorModule& module);

// Finds the module whose malloc the process's calls bind to: the executable
// itself if it defines malloc (static or custom allocator), else a mapped
// jemalloc/tcmalloc/mimalloc, else libc; and resolves the allocator family
// there with entry sites chosen for `emulated` instruction classes, keeping
// each function's argument registers intact. The module's operator new and
// delete are added where they are its own code rather than calls to
// malloc/free (tcmalloc, jemalloc: yes; a static libstdc++: no).
absl::StatusOr<AllocatorModule> ResolveAllocator(int pid, const std::set<std::string>& emulated,
                                                 const std::string& proc_root = "/proc");

}  // namespace gridprobe::symbols

#endif  // GRIDPROBE_SYMBOLS_ALLOCATOR_H_
