// Where on a function's machine code the entry and exit probes go.
#ifndef GRIDPROBE_SYMBOLS_PROBE_SITES_H_
#define GRIDPROBE_SYMBOLS_PROBE_SITES_H_

#include <cstdint>
#include <set>
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

// What the entry program needs intact where it runs, and what the running
// kernel can execute cheaply.
struct EntryPolicy {
  // Instruction classes (InsnClass) the kernel emulates instead of
  // single-stepping; measured at run time (userspace/calibration.h).
  std::set<std::string> emulated;
  // Registers the entry program reads ("rdi", "rsi", ...). The stack
  // pointer is always kept: it identifies the call and locates the return
  // address.
  std::vector<std::string> needed_regs;
};

// "push", "jcc" (any conditional jump), "jmp", "call", "ret", "nop",
// "endbr64", "mov", "lea", "test", ... : the unit the calibration measures.
std::string InsnClass(const std::string& mnemonic);

struct FunctionSites {
  Site entry;
  bool entry_emulated = false;  // the entry instruction's class is emulated
  std::vector<Site> exits;
  // Bytes capstone could not decode; exits past them may be missing.
  uint64_t undecoded_bytes = 0;
  // What the function calls: the return-mode decision (return_mode.h) asks
  // whether code that could throw or longjmp runs below this frame.
  uint32_t direct_calls = 0;    // call to a fixed address outside the function
  uint32_t indirect_calls = 0;  // call through a register or memory (a callback, a vtable)
  bool calls_itself = false;    // direct recursion
  // Targets of direct calls and jumps out of the function: what it is seen
  // to go through (operator new calling malloc, a tail call, a callee the
  // return-mode decision follows).
  std::set<uint64_t> callees;
};

// Disassembles a function (its main body first, then split-off parts such as
// "f.cold") and picks:
// - the entry site: the first instruction of the entry block whose class the
//   kernel emulates, provided nothing before it writes the stack pointer or
//   a needed register, nothing before it branches, and nothing jumps to it;
//   else the function's first instruction;
// - every instruction that leaves the function with the stack pointer back
//   at the return address (ret, tail-call jumps, indirect jumps).
// REQUIRES: parts non-empty, parts[0] starts at the symbol's address.
absl::StatusOr<FunctionSites> FindProbeSites(const std::vector<CodeRange>& parts,
                                             const EntryPolicy& policy);

}  // namespace gridprobe::symbols

#endif  // GRIDPROBE_SYMBOLS_PROBE_SITES_H_
