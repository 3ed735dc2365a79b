// How a function's return is timed, decided from the binary.
//
// kFast is a uretprobe: one trap at entry (shared with the entry probe) and a
// return trampoline, several times cheaper than kSafe. But a uretprobe
// replaces the return address with a trampoline that has no unwind
// information, so a C++ exception, a longjmp, a forced unwind (pthread_exit,
// cancellation) or a stack switch that passes through the function kills the
// target. kSafe (probes on every return instruction, docs/bpf.md) survives all
// of them. kFast is chosen only where none of them can pass through.
#ifndef GRIDPROBE_SYMBOLS_RETURN_MODE_H_
#define GRIDPROBE_SYMBOLS_RETURN_MODE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gridprobe::symbols {

class ElfFile;
struct FunctionSites;

enum class ReturnMode { kSafe, kFast };
const char* ReturnModeName(ReturnMode mode);

// What a preset or a flag asks for.
enum class ReturnRequest { kAuto, kSafe, kFast };
const char* ReturnRequestName(ReturnRequest request);
// "auto" | "safe" | "fast"; nullopt otherwise.
std::optional<ReturnRequest> ParseReturnRequest(absl::string_view text);

// What one module (ELF file) can do to the stack, from its imports,
// definitions, needed libraries and sections.
struct ModuleUnwindFacts {
  // Evidence the module is C++ with exceptions: "imports __gxx_personality_v0",
  // "needs libstdc++.so.6", "has .gcc_except_table". Empty for C.
  std::vector<std::string> cxx;
  // Functions it calls (or defines) that unwind or leave frames without a
  // return: "__cxa_throw", "longjmp", "pthread_exit", "swapcontext".
  std::vector<std::string> unwinders;
  // Imported functions that call back into code their caller passes
  // ("qsort", "bsearch"): a call to one may run a callback.
  std::vector<std::string> callback_imports;
};
ModuleUnwindFacts ReadUnwindFacts(const ElfFile& elf);

struct ReturnDecision {
  ReturnMode mode = ReturnMode::kSafe;
  // Something can unwind through the function (so kFast could kill the
  // target); true when unknown.
  bool can_unwind = true;
  bool forced = false;  // a preset or flag chose the mode, not the analysis
  std::string why;      // one line for `gridprobe symbols`
};

// The mode the analysis picks for a function with `sites` in a module with
// `facts`. The rule, in order (docs/bpf.md "Return modes"):
//  1. the module is C++, or calls/defines an unwinder: safe;
//  2. the function calls code through a pointer, or jumps through one
//     without "notrack" (a callback, which a C++ caller may have written to
//     throw): safe;
//  3. it calls itself: safe (a uretprobe loses returns past 64 nested calls);
//  4. a function it reaches by direct calls does 2., or calls an imported
//     callback-taker (qsort...), or cannot be analyzed: safe;
//  5. otherwise (a C function of a module that never throws, longjmps or
//     switches stacks, calling only fixed functions): fast.
// Why code in `sites` may run a callback: "2 call(s) through a pointer",
// "1 jump(s) through a pointer (...)", undecodable bytes; "" when none.
std::string PointerCallReason(const FunctionSites& sites);

// `callee_problem`, when not empty, says why some function the function
// reaches by direct calls could run a callback ("c_apply calls through a
// pointer"); see CallTreeProblem in resolver.cc.
ReturnDecision DecideReturnMode(const ModuleUnwindFacts& facts, const FunctionSites& sites,
                                const std::string& callee_problem = "");

// Applies a request to the analysis' decision. Forcing kFast where the
// function can be unwound through is refused (exit code kUnsafeReturnMode)
// unless `acknowledged` (--i-know-it-can-crash). `function` names it in the
// error.
absl::StatusOr<ReturnDecision> ApplyReturnRequest(const ReturnDecision& analysis,
                                                  ReturnRequest request, bool acknowledged,
                                                  const std::string& function);

}  // namespace gridprobe::symbols

#endif  // GRIDPROBE_SYMBOLS_RETURN_MODE_H_
