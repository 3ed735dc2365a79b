// Where on a function's machine code the entry and exit probes go.
#ifndef GRIDPROBE_SYMBOLS_PROBE_SITES_H_
#define GRIDPROBE_SYMBOLS_PROBE_SITES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gridprobe::symbols {

enum class SiteKind {
  kEntry,
  kReturn,        // ret
  kTailJump,      // jmp/jcc to code outside the function
  kIndirectJump,  // jmp through a register or memory: a tail call or a switch
};
const char* SiteKindName(SiteKind kind);

struct Site {
  uint64_t vaddr = 0;
  SiteKind kind = SiteKind::kEntry;
  std::string insn;  // "push rbp", "ret"
};

struct CodeRange {
  uint64_t vaddr = 0;
  std::vector<uint8_t> bytes;
};

struct FunctionSites {
  Site entry;
  std::vector<Site> exits;
  // Bytes capstone could not decode; exits past them may be missing.
  uint64_t undecoded_bytes = 0;
};

// Disassembles a function (its main body first, then split-off parts such as
// "f.cold") and picks: the entry site, the first instruction after endbr64
// unless something jumps there, where the stack pointer still points at the
// return address; and every instruction that leaves the function with the
// stack pointer back at the return address (ret, tail-call jumps).
// REQUIRES: parts non-empty, parts[0] starts at the symbol's address.
absl::StatusOr<FunctionSites> FindProbeSites(const std::vector<CodeRange>& parts);

}  // namespace gridprobe::symbols

#endif  // GRIDPROBE_SYMBOLS_PROBE_SITES_H_
