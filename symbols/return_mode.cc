#include "symbols/return_mode.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "symbols/elf_file.h"
#include "symbols/probe_sites.h"

namespace gridprobe::symbols {
namespace {

// Functions that take frames off a stack without returning through them.
constexpr const char* kUnwinders[] = {
    // C++ exceptions and the unwinder itself
    "__cxa_throw", "__cxa_rethrow", "_Unwind_RaiseException", "_Unwind_Resume_or_Rethrow",
    "_Unwind_ForcedUnwind", "_ZSt17rethrow_exceptionNSt15__exception_ptr13exception_ptrE",
    // non-local jumps
    "longjmp", "_longjmp", "siglongjmp", "__longjmp_chk",
    // forced unwinds of the calling thread
    "pthread_exit", "pthread_cancel",
    // stack switches (coroutines, fibers): the return may come on another thread
    "swapcontext", "setcontext", "jump_fcontext", "ontop_fcontext"};

// Evidence of C++ with exceptions: the personality routine every function with
// a catch or a destructor to run names, and the runtime libraries.
constexpr const char* kCxxImports[] = {"__gxx_personality_v0", "__cxa_begin_catch",
                                       "_Unwind_Resume", "__cxa_end_catch"};

// libc functions that call code their caller passes in, on the caller's stack.
constexpr const char* kCallbackTakers[] = {
    "qsort", "qsort_r", "bsearch", "lfind", "lsearch", "tsearch", "tfind", "tdelete", "twalk",
    "twalk_r", "ftw", "nftw", "ftw64", "nftw64", "scandir", "scandir64", "glob", "glob64",
    "fts_open", "dl_iterate_phdr", "pthread_once", "call_once", "bsearch_r"};

}  // namespace

const char* ReturnModeName(ReturnMode mode) {
  return mode == ReturnMode::kFast ? "fast" : "safe";
}

const char* ReturnRequestName(ReturnRequest request) {
  switch (request) {
    case ReturnRequest::kAuto: return "auto";
    case ReturnRequest::kSafe: return "safe";
    case ReturnRequest::kFast: return "fast";
  }
  return "?";
}

std::optional<ReturnRequest> ParseReturnRequest(absl::string_view text) {
  if (text == "auto") return ReturnRequest::kAuto;
  if (text == "safe") return ReturnRequest::kSafe;
  if (text == "fast") return ReturnRequest::kFast;
  return std::nullopt;
}

ModuleUnwindFacts ReadUnwindFacts(const ElfFile& elf) {
  ModuleUnwindFacts facts;
  std::set<std::string> defined;
  for (const ElfSymbol& s : elf.functions()) defined.insert(s.name);
  for (const char* name : kCxxImports) {
    if (elf.imports().count(name)) {
      facts.cxx.push_back(absl::StrCat("imports ", name));
    } else if (defined.count(name)) {
      facts.cxx.push_back(absl::StrCat("defines ", name));
    }
  }
  for (const std::string& lib : elf.needed()) {
    if (absl::StartsWith(lib, "libstdc++.") || absl::StartsWith(lib, "libc++.") ||
        absl::StartsWith(lib, "libc++abi.")) {
      facts.cxx.push_back(absl::StrCat("needs ", lib));
    }
  }
  if (elf.HasSection(".gcc_except_table")) facts.cxx.push_back("has .gcc_except_table");
  for (const char* name : kCallbackTakers) {
    if (elf.imports().count(name)) facts.callback_imports.push_back(name);
  }
  for (const char* name : kUnwinders) {
    if (elf.imports().count(name) || defined.count(name)) facts.unwinders.push_back(name);
  }
  return facts;
}

std::string PointerCallReason(const FunctionSites& sites) {
  if (sites.indirect_calls > 0) {
    return absl::StrCat(sites.indirect_calls, " call(s) through a pointer");
  }
  // A tracked indirect jump out of the function is a tail call through a
  // pointer: a callback again. Switch tables under CET jump "notrack", and
  // without CET the two cannot be told apart.
  uint32_t pointer_jumps = 0;
  for (const Site& e : sites.exits) {
    if (e.kind == SiteKind::kIndirectJump && !absl::StartsWith(e.insn, "notrack")) {
      ++pointer_jumps;
    }
  }
  if (pointer_jumps > 0) {
    return absl::StrCat(pointer_jumps, " jump(s) through a pointer (a tail call or a switch)");
  }
  if (sites.undecoded_bytes > 0) {
    return absl::StrCat(sites.undecoded_bytes, " undecodable byte(s), so its calls are unknown");
  }
  return "";
}

ReturnDecision DecideReturnMode(const ModuleUnwindFacts& facts, const FunctionSites& sites,
                                const std::string& callee_problem) {
  ReturnDecision d;
  if (!facts.cxx.empty()) {
    d.why = absl::StrCat("C++ module (", absl::StrJoin(facts.cxx, ", "),
                         "): an exception may unwind through it");
    return d;
  }
  if (!facts.unwinders.empty()) {
    d.why = absl::StrCat("module calls ", absl::StrJoin(facts.unwinders, ", "),
                         ": frames may be left without a return");
    return d;
  }
  if (std::string reason = PointerCallReason(sites); !reason.empty()) {
    d.why = absl::StrCat(reason, ": a callback may throw or longjmp through it");
    return d;
  }
  if (sites.calls_itself) {
    d.why = "calls itself: a uretprobe loses returns past 64 nested calls";
    return d;
  }
  if (!callee_problem.empty()) {
    d.why = absl::StrCat("calls ", callee_problem, ": a callback may throw or longjmp through it");
    return d;
  }
  d.mode = ReturnMode::kFast;
  d.can_unwind = false;
  d.why = absl::StrCat("C module that never throws, longjmps or switches stacks; ",
                       sites.callees.empty() ? "calls nothing"
                                             : "calls only fixed functions that take no callbacks");
  return d;
}

absl::StatusOr<ReturnDecision> ApplyReturnRequest(const ReturnDecision& analysis,
                                                  ReturnRequest request, bool acknowledged,
                                                  const std::string& function) {
  if (request == ReturnRequest::kAuto) return analysis;
  ReturnDecision d = analysis;
  d.forced = true;
  if (request == ReturnRequest::kSafe) {
    d.mode = ReturnMode::kSafe;
    d.why = absl::StrCat("forced safe (analysis: ", ReturnModeName(analysis.mode), ", ",
                         analysis.why, ")");
    return d;
  }
  if (analysis.can_unwind && !acknowledged) {
    return WithExitCode(
        absl::FailedPreconditionError(absl::StrCat(
            "refusing a fast (uretprobe) return on ", function, ": ", analysis.why,
            ", which would kill the target; use safe, or add --i-know-it-can-crash")),
        ExitCode::kUnsafeReturnMode);
  }
  d.mode = ReturnMode::kFast;
  d.why = absl::StrCat("forced fast", analysis.can_unwind ? " (ACKNOWLEDGED RISK: " : " (",
                       analysis.why, ")");
  return d;
}

}  // namespace gridprobe::symbols
