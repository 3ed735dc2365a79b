#include "userspace/cli/symbols_command.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "symbols/library_preset.h"
#include "symbols/resolver.h"
#include "symbols/return_mode.h"
#include "userspace/cli/settings.h"
#include "userspace/presets/budget_preset.h"
#include "userspace/probes/calibration.h"

namespace gridprobe {
namespace {


// Expected probe time per call of a function with `s`'s sites and mode.
std::string ExpectedCost(const symbols::ResolvedSymbol& s, const Calibration& calibration) {
  std::optional<double> total = ExpectedProbeNs(s, calibration);
  if (!total) return "expected cost not measured (no calibration)";
  const double entry = *EntryHitNs(s, calibration);
  if (s.ret.mode == symbols::ReturnMode::kFast) {
    return absl::StrFormat("expected ~%.0f ns per call (entry trap %.0f + return trampoline %.0f)",
                           *total, entry, calibration.uretprobe_return_ns);
  }
  return absl::StrFormat("expected ~%.0f ns per call (entry trap %.0f + exit trap up to %.0f)",
                         *total, entry, *total - entry);
}

}  // namespace

absl::Status ExplainSymbols(const SymbolsFlags& f) {
  GP_ASSIGN_OR_RETURN(symbols::ReturnRequest return_request, ParseReturnModeFlag(f.return_mode));
  GP_ASSIGN_OR_RETURN(symbols::LibraryPreset preset,
                      symbols::LoadLibraryPreset(f.preset, budgets::PresetSearchPath()));
  Calibration calibration;
  absl::StatusOr<symbols::EntryPolicy> measured = OperationEntryPolicy(&calibration);
  symbols::EntryPolicy policy;
  if (measured.ok()) {
    policy = *measured;
  } else {
    std::printf("no calibration (%s): entries stay at +0\n",
                std::string(measured.status().message()).c_str());
  }
  std::vector<std::string> debug_dirs = symbols::DefaultDebugDirs();
  if (!f.debug_dir.empty()) debug_dirs.insert(debug_dirs.begin(), f.debug_dir);
  symbols::ResolvedModule module;
  int pid = 0;
  if (absl::SimpleAtoi(f.target, &pid) && pid > 0) {
    GP_ASSIGN_OR_RETURN(module, symbols::ResolveInProcess(preset, pid, policy, "/proc", debug_dirs));
  } else {
    GP_ASSIGN_OR_RETURN(module,
                        symbols::ResolveInFile(preset, f.target, f.target, policy, debug_dirs));
  }
  GP_RETURN_IF_ERROR(
      symbols::ChooseReturnModes(&module, return_request, f.i_know_it_can_crash));
  auto cost = [&calibration](const std::string& insn) {
    auto it = calibration.ns_per_hit.find(symbols::InsnClass(insn.substr(0, insn.find(' '))));
    if (it == calibration.ns_per_hit.end()) return std::string("cost not measured");
    return absl::StrFormat("%s, ~%.0f ns per hit",
                           calibration.emulated.count(it->first) ? "emulated" : "single-stepped",
                           it->second);
  };
  if (measured.ok()) std::printf("%s\n", DescribeCalibration(calibration).c_str());
  std::printf("module %s%s%s\n", module.path.c_str(),
              module.has_symtab ? "" : "  (stripped: dynamic symbols only)",
              module.debug_file.empty() ? ""
                                        : absl::StrCat("  (symbols from ", module.debug_file, ")")
                                              .c_str());
  for (const symbols::ResolvedOperation& op : module.ops) {
    std::printf("%s (%s): %s\n", op.name.c_str(), op.impact.c_str(),
                absl::StrJoin(op.patterns, ", ").c_str());
    for (const symbols::ResolvedSymbol& s : op.symbols) {
      std::printf("  %s\n    address 0x%lx size %lu\n", s.demangled.c_str(),
                  static_cast<unsigned long>(s.vaddr), static_cast<unsigned long>(s.size));
      std::printf("    entry  +0x%-5lx file offset 0x%lx  %-24s %s\n",
                  static_cast<unsigned long>(s.entry.vaddr - s.vaddr),
                  static_cast<unsigned long>(s.entry.file_offset), s.entry.insn.c_str(),
                  cost(s.entry.insn).c_str());
      for (const symbols::ResolvedSite& e : s.exits) {
        std::printf("    %-6s +0x%-5lx file offset 0x%lx  %-24s %s\n",
                    e.kind == symbols::SiteKind::kReturn ? "return" : "exit",
                    static_cast<unsigned long>(e.vaddr - s.vaddr),
                    static_cast<unsigned long>(e.file_offset), e.insn.c_str(),
                    s.ret.mode == symbols::ReturnMode::kFast ? "not probed (fast return)"
                                                             : cost(e.insn).c_str());
      }
      if (s.ret.mode == symbols::ReturnMode::kFast) {
        std::printf("    return mode: fast (uretprobe at the entry site +0x%lx): %s\n",
                    static_cast<unsigned long>(s.entry.vaddr - s.vaddr), s.ret.why.c_str());
      } else {
        std::printf("    return mode: safe (probes on the %zu exits above): %s\n",
                    s.exits.size(), s.ret.why.c_str());
      }
      std::printf("    %s\n", ExpectedCost(s, calibration).c_str());
    }
  }
  return absl::OkStatus();
}


}  // namespace gridprobe
