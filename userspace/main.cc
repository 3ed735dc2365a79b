// gridprobe: profile a running program's library operations with uprobes.
// main() only parses flags, runs one command and turns its status into one
// line on stderr and an exit code (docs/exit-codes.md).
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <cstdio>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "base/status.h"
#include "symbols/allocator.h"
#include "symbols/library_preset.h"
#include "symbols/resolver.h"
#include "userspace/agent.h"
#include "userspace/budgets/cli.h"
#include "userspace/budgets/console_sink.h"
#include "userspace/budgets/evaluator.h"
#include "userspace/budgets/preset.h"
#include "userspace/calibration.h"
#include "userspace/preset_dirs.h"
#include "userspace/probe_session.h"

namespace gridprobe {
namespace {

absl::StatusOr<int> ParsePid(const std::string& text) {
  int pid = 0;
  if (!absl::SimpleAtoi(text, &pid) || pid <= 0) {
    return WithExitCode(
        absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a process id")),
        ExitCode::kUsage);
  }
  return pid;
}

absl::StatusOr<absl::Duration> ParseDurationFlag(const std::string& flag, const std::string& text,
                                                 bool allow_zero) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration() ||
      (!allow_zero && d == absl::ZeroDuration())) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            "--", flag, " '", text, "' is not a ",
                            allow_zero ? "" : "positive ", "duration (examples: 500ms, 1s, 2m)")),
                        ExitCode::kUsage);
  }
  return d;
}

absl::Status CheckProcessExists(int pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) {
    return WithExitCode(absl::NotFoundError(absl::StrFormat("no process with pid %d", pid)),
                        ExitCode::kNotFound);
  }
  return absl::OkStatus();
}

std::string CacheDir() {
  const char* env = std::getenv("GRIDPROBE_CACHE_DIR");
  return env != nullptr && *env ? env : "/var/cache/gridprobe";
}

// Entry-site policy for operation functions: only the stack pointer must be
// intact, and the kernel's measured emulation decides where that is cheapest.
absl::StatusOr<symbols::EntryPolicy> OperationPolicy(Calibration* calibration) {
  GP_ASSIGN_OR_RETURN(*calibration, LoadOrMeasureCalibration(CacheDir()));
  symbols::EntryPolicy policy;
  policy.emulated = calibration->emulated;
  return policy;
}

std::vector<OpIdentity> Identities(const symbols::ResolvedModule& module) {
  std::vector<OpIdentity> ids;
  for (const symbols::ResolvedOperation& op : module.ops) {
    ids.push_back({op.name, absl::StrJoin(op.patterns, ", "), module.path,
                   ParseImpact(op.impact).value_or(Impact::kUserVisible)});
  }
  return ids;
}

// Judges every window against the budgets and prints each event on the
// console; adds the "budgets" section to the report.
class BudgetObserver : public WindowObserver {
 public:
  explicit BudgetObserver(budgets::BudgetSet set)
      : evaluator_(std::move(set), budgets::EvaluatorOptions{}) {}
  void OnWindow(const Snapshot& window) override { evaluator_.OnWindow(window, sink_); }
  void AddToReport(const Snapshot&, nlohmann::json* report) override {
    (*report)["budgets"] = evaluator_.ReportJson();
  }

 private:
  budgets::Evaluator evaluator_;
  budgets::ConsoleEventSink sink_;
};

struct AttachFlags {
  std::string pid;
  std::string preset = "gridkit";
  std::string interval = "1s";
  std::string duration = "0s";
  std::string report_json;
  uint32_t max_threads = 4096;
  std::string memory = "off";
  std::string budgets;
  uint32_t max_allocs = 262144;
  bool no_alloc_stacks = false;
  bool quiet = false;
  bool verbose = false;
};

absl::Status Attach(const AttachFlags& f) {
  GP_ASSIGN_OR_RETURN(int pid, ParsePid(f.pid));
  AgentOptions options;
  GP_ASSIGN_OR_RETURN(options.interval, ParseDurationFlag("interval", f.interval, false));
  GP_ASSIGN_OR_RETURN(options.duration, ParseDurationFlag("duration", f.duration, true));
  options.report_json = f.report_json;
  options.live = !f.quiet;
  GP_RETURN_IF_ERROR(CheckProcessExists(pid));
  GP_ASSIGN_OR_RETURN(symbols::LibraryPreset preset,
                      symbols::LoadLibraryPreset(f.preset, PresetSearchDirs()));
  std::unique_ptr<BudgetObserver> budget_observer;
  std::vector<WindowObserver*> observers;
  if (!f.budgets.empty()) {
    GP_ASSIGN_OR_RETURN(budgets::BudgetSet set,
                        budgets::LoadBudgetSet(f.budgets, budgets::PresetCatalog::Default()));
    budget_observer = std::make_unique<BudgetObserver>(std::move(set));
    observers.push_back(budget_observer.get());
  }
  // Privileges and kernel features first: they decide whether anything else
  // is worth explaining.
  ProbeSessionOptions session_options;
  session_options.max_threads = f.max_threads;
  session_options.verbose = f.verbose;
  session_options.max_allocs = f.max_allocs;
  session_options.alloc_stacks = !f.no_alloc_stacks;
  if (f.memory == "ops") {
    session_options.memory = MemoryMode::kOps;
  } else if (f.memory == "full") {
    session_options.memory = MemoryMode::kFull;
  } else if (f.memory != "off") {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            "--memory '", f.memory, "' is not one of off, ops, full")),
                        ExitCode::kUsage);
  }
  GP_ASSIGN_OR_RETURN(std::unique_ptr<ProbeSession> session,
                      ProbeSession::Create(session_options));
  Calibration calibration;
  GP_ASSIGN_OR_RETURN(symbols::EntryPolicy policy, OperationPolicy(&calibration));
  GP_ASSIGN_OR_RETURN(symbols::ResolvedModule module,
                      symbols::ResolveInProcess(preset, pid, policy));
  TargetInfo target = ReadTargetInfo(pid);
  // Everything that reads files comes before the first probe, so that the
  // measured window starts at attach.
  std::unique_ptr<memory::MemoryAnalyzer> analyzer;
  std::unique_ptr<Symbolizer> symbolizer;
  std::optional<symbols::AllocatorModule> allocator;
  if (session_options.memory != MemoryMode::kOff) {
    GP_ASSIGN_OR_RETURN(allocator, symbols::ResolveAllocator(pid, calibration.emulated));
    std::vector<std::string> names;
    for (const symbols::ResolvedOperation& op : module.ops) names.push_back(op.name);
    memory::MemoryAnalyzerOptions mo;
    mo.mode = MemoryModeName(session_options.memory);
    mo.allocator = allocator->family;
    mo.allocator_module = allocator->path;
    mo.allocator_cxx = symbols::DescribeCxxOperators(*allocator);
    analyzer = std::make_unique<memory::MemoryAnalyzer>(names, mo);
    symbolizer = std::make_unique<Symbolizer>(pid);
    options.memory = analyzer.get();
    options.symbolizer = symbolizer.get();
  }
  options.start = absl::Now();
  GP_RETURN_IF_ERROR(session->Attach(pid, module));
  if (allocator) {
    GP_RETURN_IF_ERROR(session->AttachAllocator(pid, *allocator));
    std::fprintf(stderr, "gridprobe: tracking allocations (%s) through %s in %s; %s\n",
                 MemoryModeName(session_options.memory), allocator->family.c_str(),
                 allocator->path.c_str(), symbols::DescribeCxxOperators(*allocator).c_str());
  }
  std::fprintf(stderr, "gridprobe: attached %zu probes for %zu operations to pid %d (%s) in %s\n",
               session->probe_count(), module.ops.size(), pid, target.comm.c_str(),
               module.path.c_str());
  if (session->skipped_sites() > 0) {
    std::fprintf(stderr,
                 "gridprobe: %zu indirect-jump exit sites cannot carry a uprobe on this kernel; "
                 "tail calls through them would count as unwound\n",
                 session->skipped_sites());
  }
  GP_ASSIGN_OR_RETURN(StopReason reason, RunAgent(*session, target, Identities(module), options, observers));
  (void)reason;
  return absl::OkStatus();
}

struct SymbolsFlags {
  std::string target;
  std::string preset = "gridkit";
};

absl::Status ExplainSymbols(const SymbolsFlags& f) {
  GP_ASSIGN_OR_RETURN(symbols::LibraryPreset preset,
                      symbols::LoadLibraryPreset(f.preset, PresetSearchDirs()));
  Calibration calibration;
  absl::StatusOr<symbols::EntryPolicy> measured = OperationPolicy(&calibration);
  symbols::EntryPolicy policy;
  if (measured.ok()) {
    policy = *measured;
  } else {
    std::printf("no calibration (%s): entries stay at +0\n",
                std::string(measured.status().message()).c_str());
  }
  symbols::ResolvedModule module;
  int pid = 0;
  if (absl::SimpleAtoi(f.target, &pid) && pid > 0) {
    GP_ASSIGN_OR_RETURN(module, symbols::ResolveInProcess(preset, pid, policy));
  } else {
    GP_ASSIGN_OR_RETURN(module, symbols::ResolveInFile(preset, f.target, f.target, policy));
  }
  auto cost = [&calibration](const std::string& insn) {
    auto it = calibration.ns_per_hit.find(symbols::InsnClass(insn.substr(0, insn.find(' '))));
    if (it == calibration.ns_per_hit.end()) return std::string("cost not measured");
    return absl::StrFormat("%s, ~%.0f ns per hit",
                           calibration.emulated.count(it->first) ? "emulated" : "single-stepped",
                           it->second);
  };
  if (measured.ok()) std::printf("%s\n", DescribeCalibration(calibration).c_str());
  std::printf("module %s%s\n", module.path.c_str(),
              module.has_symtab ? "" : "  (stripped: dynamic symbols only)");
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
                    cost(e.insn).c_str());
      }
      std::printf("    return mode: safe (probes on %zu exit instructions; an exception "
                  "through the function cannot harm the target)\n",
                  s.exits.size());
    }
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace gridprobe

int main(int argc, char** argv) {
  using gridprobe::ExitCode;
  CLI::App app{"gridprobe: latency of a running program's library operations, via uprobes"};
  app.require_subcommand(1);
  absl::Status status;

  gridprobe::AttachFlags attach;
  CLI::App* attach_cmd = app.add_subcommand("attach", "Profile a running process");
  attach_cmd->add_option("pid", attach.pid, "Process id of the target")->required();
  attach_cmd->add_option("--preset", attach.preset, "Library preset name or file")
      ->capture_default_str();
  attach_cmd->add_option("--interval", attach.interval, "Table refresh interval")
      ->capture_default_str();
  attach_cmd->add_option("--duration", attach.duration,
                         "Stop after this long (0: at Ctrl-C or when the target exits)")
      ->capture_default_str();
  attach_cmd->add_option("--report-json", attach.report_json, "Write the final report here");
  attach_cmd->add_option("--max-threads", attach.max_threads,
                         "Target threads tracked at once")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 20));
  attach_cmd->add_option("--budgets", attach.budgets,
                         "Judge every window against this budget preset (name or file)");
  attach_cmd->add_option("--memory", attach.memory,
                         "Allocation tracking: off, ops (while an operation runs) or full")
      ->capture_default_str();
  attach_cmd->add_option("--max-allocs", attach.max_allocs, "Live allocations tracked at once")
      ->capture_default_str()
      ->check(CLI::Range(1024u, 1u << 26));
  attach_cmd->add_flag("--no-alloc-stacks", attach.no_alloc_stacks,
                       "Record only the calling address of allocations, not the whole stack");
  attach_cmd->add_flag("--quiet", attach.quiet, "No live table, only the final report");
  attach_cmd->add_flag("--verbose", attach.verbose, "Show libbpf's messages");
  attach_cmd->callback([&] { status = gridprobe::Attach(attach); });

  gridprobe::SymbolsFlags syms;
  CLI::App* symbols_cmd =
      app.add_subcommand("symbols", "Explain which probe sites a preset resolves to");
  symbols_cmd->add_option("target", syms.target, "Process id or ELF file")->required();
  symbols_cmd->add_option("--preset", syms.preset, "Library preset name or file")
      ->capture_default_str();
  symbols_cmd->callback([&] { status = gridprobe::ExplainSymbols(syms); });

  CLI::App* calibrate_cmd = app.add_subcommand(
      "calibrate", "Measure which instructions this kernel emulates for uprobes (cached)");
  calibrate_cmd->callback([&] {
    absl::StatusOr<gridprobe::Calibration> c = gridprobe::MeasureCalibration();
    if (!c.ok()) {
      status = c.status();
      return;
    }
    std::printf("%s\n", gridprobe::DescribeCalibration(*c).c_str());
  });

  int budget_exit_code = 0;
  gridprobe::budgets::AddBudgetCommands(app, &budget_exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(ExitCode::kUsage);
  }
  if (!status.ok()) {
    std::fprintf(stderr, "gridprobe: %s\n", std::string(status.message()).c_str());
    return static_cast<int>(gridprobe::ExitCodeOf(status));
  }
  return budget_exit_code;
}
