// gridprobe: profile a running program's library operations with uprobes.
// main() only parses flags, runs one command and turns its status into one
// line on stderr and an exit code (docs/exit-codes.md).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include <cstdio>
#include <cstring>
#include <functional>
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
#include "userspace/launcher.h"
#include "userspace/library_watch.h"
#include "userspace/probe_session.h"
#include "userspace/settings.h"

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

// One preset's operations as the report names them.
std::vector<OpIdentity> Identities(const symbols::LibraryPreset& preset,
                                   const std::string& module) {
  std::vector<OpIdentity> ids;
  for (const symbols::OperationSpec& op : preset.operations) {
    ids.push_back({op.name, absl::StrJoin(op.symbols, ", "), module,
                   ParseImpact(op.impact).value_or(Impact::kUserVisible), preset.name});
  }
  return ids;
}

// Judges every window against the budgets and prints each event on the
// console; adds the "budgets" section to the report.
class BudgetObserver : public WindowObserver {
 public:
  BudgetObserver(budgets::BudgetSet set, const budgets::EvaluatorOptions& options)
      : evaluator_(std::move(set), options) {}
  void OnWindow(const Snapshot& window) override { evaluator_.OnWindow(window, sink_); }
  void AddToReport(const Snapshot&, nlohmann::json* report) override {
    (*report)["budgets"] = evaluator_.ReportJson();
  }

 private:
  budgets::Evaluator evaluator_;
  budgets::ConsoleEventSink sink_;
};

// What a profile run reads before its first probe: the library presets, the
// budgets (judged by an observer, when given) and how probe sites are
// chosen and explained.
struct ProfileInputs {
  std::vector<symbols::LibraryPreset> presets;
  std::unique_ptr<BudgetObserver> budget_observer;
  Calibration calibration;
  LibraryWatchOptions watch;
};

absl::StatusOr<ProfileInputs> LoadProfileInputs(const Settings& settings) {
  ProfileInputs in;
  GP_ASSIGN_OR_RETURN(in.presets, LoadLibraryPresets(settings, budgets::PresetSearchPath()));
  if (!settings.budgets.empty()) {
    GP_ASSIGN_OR_RETURN(budgets::BudgetSet set,
                        budgets::LoadBudgetSet(settings.budgets, budgets::PresetCatalog::Default()));
    in.budget_observer = std::make_unique<BudgetObserver>(std::move(set), settings.budget_options);
  }
  GP_ASSIGN_OR_RETURN(in.watch.policy, OperationPolicy(&in.calibration));
  in.watch.return_request = settings.return_request;
  in.watch.i_know_it_can_crash = settings.i_know_it_can_crash;
  in.watch.debug_dirs = settings.debug_dirs;
  return in;
}

// Attaches to `pid` as `settings` say, calls `attached` once every probe is
// in, and profiles until the duration ends, a signal arrives or the target
// exits. `session` comes first (ProbeSession::Create): privileges and
// kernel features decide whether anything else is worth explaining. Each
// library preset has a LibraryWatch of its own: its library is attached,
// waited for (--wait-library) and detached independently of the others'.
absl::StatusOr<StopReason> Profile(int pid, Settings settings,
                                   std::unique_ptr<ProbeSession> session,
                                   const std::function<absl::Status()>& attached) {
  AgentOptions& options = settings.agent;
  GP_ASSIGN_OR_RETURN(ProfileInputs in, LoadProfileInputs(settings));
  const Calibration& calibration = in.calibration;
  BudgetObserver* budget_observer = in.budget_observer.get();
  std::vector<WindowObserver*> observers;
  if (budget_observer != nullptr) observers.push_back(budget_observer);
  TargetInfo target = ReadTargetInfo(pid);
  // Preset i's operations follow those of the presets before it, in op ids
  // and in the report; each watch names its module in `ids` once attached.
  std::vector<OpIdentity> ids;
  std::vector<std::unique_ptr<LibraryWatch>> watches;
  for (const symbols::LibraryPreset& preset : in.presets) {
    auto watch = std::make_unique<LibraryWatch>(
        session.get(), pid, preset, static_cast<uint32_t>(ids.size()), &ids, in.watch);
    for (OpIdentity& id : Identities(preset, watch->module_name())) ids.push_back(std::move(id));
    watches.push_back(std::move(watch));
  }
  session->SetOperationCount(ids.size());
  // Everything that reads files comes before the first probe, so that the
  // measured window starts at attach.
  std::unique_ptr<memory::MemoryAnalyzer> analyzer;
  std::unique_ptr<Symbolizer> symbolizer;
  std::optional<symbols::AllocatorModule> allocator;
  if (settings.memory != MemoryMode::kOff) {
    GP_ASSIGN_OR_RETURN(allocator, symbols::ResolveAllocator(pid, calibration.emulated));
    // Category op id + 1 (bpf/gridprobe.h), across all presets.
    std::vector<std::string> names;
    for (const OpIdentity& id : ids) names.push_back(id.name);
    memory::MemoryAnalyzerOptions mo;
    mo.mode = MemoryModeName(settings.memory);
    mo.allocator = allocator->family;
    mo.allocator_module = allocator->path;
    mo.allocator_cxx = symbols::DescribeCxxOperators(*allocator);
    analyzer = std::make_unique<memory::MemoryAnalyzer>(names, mo);
    symbolizer = std::make_unique<Symbolizer>(pid);
    options.memory = analyzer.get();
    options.symbolizer = symbolizer.get();
  }
  options.start = absl::Now();
  std::vector<const LibraryWatch*> mapped, waiting;
  for (const std::unique_ptr<LibraryWatch>& watch : watches) {
    GP_ASSIGN_OR_RETURN(bool is_mapped, watch->Poll(options.start));
    if (!is_mapped && !settings.wait_library) {
      return symbols::LibraryNotMappedError(watch->preset(), pid);
    }
    (is_mapped ? mapped : waiting).push_back(watch.get());
  }
  if (allocator) {
    GP_RETURN_IF_ERROR(session->AttachAllocator(pid, *allocator));
    std::fprintf(stderr, "gridprobe: tracking allocations (%s) through %s in %s; %s\n",
                 MemoryModeName(settings.memory), allocator->family.c_str(),
                 allocator->path.c_str(), symbols::DescribeCxxOperators(*allocator).c_str());
  }
  const absl::Time attach_time = absl::Now();
  if (!mapped.empty()) {
    size_t symbols_total = 0, ops_total = 0;
    std::vector<std::string> modules;
    for (const LibraryWatch* watch : mapped) {
      const symbols::ResolvedModule& module = *watch->module();
      if (!module.debug_file.empty()) {
        std::fprintf(stderr, "gridprobe: symbols of %s from its debug file %s\n",
                     module.path.c_str(), module.debug_file.c_str());
      }
      for (const symbols::ResolvedOperation& op : module.ops) symbols_total += op.symbols.size();
      ops_total += module.ops.size();
      // With several presets each module says whose it is.
      modules.push_back(watches.size() == 1
                            ? module.path
                            : absl::StrCat(module.path, " (", watch->preset().name, ")"));
    }
    std::fprintf(stderr,
                 "gridprobe: attached %zu probes for %zu operations to pid %d (%s) in %s "
                 "(return mode: %zu fast, %zu safe; %s; %.0f ms)\n",
                 session->probe_count(), ops_total, pid, target.comm.c_str(),
                 absl::StrJoin(modules, ", ").c_str(), session->fast_symbols(),
                 symbols_total - session->fast_symbols(), session->LinksDescription(),
                 absl::ToDoubleMilliseconds(attach_time - options.start));
  }
  for (const LibraryWatch* watch : waiting) {
    std::fprintf(stderr,
                 "gridprobe: pid %d (%s) does not map %s yet; waiting for it to load the "
                 "library of preset '%s'\n",
                 pid, target.comm.c_str(), watch->module_name().c_str(),
                 watch->preset().name.c_str());
  }
  if (session->skipped_sites() > 0) {
    std::fprintf(stderr,
                 "gridprobe: %zu indirect-jump exit sites cannot carry a uprobe on this kernel; "
                 "tail calls through them would count as unwound\n",
                 session->skipped_sites());
  }
  if (budget_observer != nullptr) {
    std::fprintf(stderr, "gridprobe: judging %s windows against budgets '%s'\n",
                 absl::FormatDuration(options.interval).c_str(), settings.budgets.c_str());
  }
  for (const std::unique_ptr<LibraryWatch>& watch : watches) observers.push_back(watch.get());
  options.poll = [&watches, pid](absl::Time now) -> absl::Status {
    for (const std::unique_ptr<LibraryWatch>& watch : watches) {
      absl::StatusOr<bool> polled = watch->Poll(now);
      // The process ending between two polls is the agent's to notice.
      if (!polled.ok() && kill(pid, 0) != 0 && errno == ESRCH) return absl::OkStatus();
      GP_RETURN_IF_ERROR(polled.status());
    }
    return absl::OkStatus();
  };
  GP_RETURN_IF_ERROR(attached());
  GP_ASSIGN_OR_RETURN(StopReason reason, RunAgent(*session, target, ids, options, observers));
  std::vector<std::string> never;
  for (const std::unique_ptr<LibraryWatch>& watch : watches) {
    if (watch->events().empty()) {
      never.push_back(
          absl::StrCat("'", watch->preset().name, "' (", watch->module_name(), ")"));
    }
  }
  if (!never.empty()) {
    return WithExitCode(
        absl::FailedPreconditionError(absl::StrCat(
            "pid ", pid, " (", target.comm, ") never loaded the ",
            never.size() == 1 ? "library of preset " : "libraries of presets ",
            absl::StrJoin(never, ", "), " while profiled")),
        ExitCode::kLibraryNotMapped);
  }
  return reason;
}

// attach --all: every process that maps the preset's library, now or
// later, until the duration ends or a signal arrives; the report breaks the
// totals down by process. One library preset per run.
absl::Status ProfileAll(Settings settings, uint32_t max_processes) {
  if (settings.memory != MemoryMode::kOff) {
    return WithExitCode(absl::InvalidArgumentError(
                            "--memory follows one process's allocator; it cannot be combined "
                            "with --all: give a pid instead"),
                        ExitCode::kUsage);
  }
  if (settings.presets.size() > 1) {
    return WithExitCode(
        absl::InvalidArgumentError(absl::StrCat(
            "attach --all profiles one library preset per run, not ", settings.presets.size(),
            " (", absl::StrJoin(settings.presets, ", "),
            "): give one --preset, or a pid to profile several libraries in one process")),
        ExitCode::kBadInput);
  }
  AgentOptions& options = settings.agent;
  settings.session.max_processes = max_processes;
  GP_ASSIGN_OR_RETURN(std::unique_ptr<ProbeSession> session,
                      ProbeSession::Create(settings.session));
  GP_ASSIGN_OR_RETURN(ProfileInputs in, LoadProfileInputs(settings));
  const symbols::LibraryPreset& preset = in.presets[0];
  BudgetObserver* budget_observer = in.budget_observer.get();
  std::vector<WindowObserver*> observers;
  if (budget_observer != nullptr) observers.push_back(budget_observer);
  AllProcessesWatch watch(session.get(), preset, in.watch);
  options.start = absl::Now();
  GP_ASSIGN_OR_RETURN(size_t files, watch.Poll());
  if (files == 0) {
    std::fprintf(stderr,
                 "gridprobe: no process maps %s yet; waiting for one to load the library of "
                 "preset '%s'\n",
                 watch.module_name().c_str(), preset.name.c_str());
  } else {
    std::fprintf(stderr,
                 "gridprobe: attached %zu probes for %zu operations to all processes that map "
                 "%s (%zu now; %s; %.0f ms)\n",
                 session->probe_count(), preset.operations.size(), watch.module_name().c_str(),
                 watch.processes_seen(),
                 session->LinksDescription(),
                 absl::ToDoubleMilliseconds(absl::Now() - options.start));
  }
  if (budget_observer != nullptr) {
    std::fprintf(stderr, "gridprobe: judging %s windows against budgets '%s'\n",
                 absl::FormatDuration(options.interval).c_str(), settings.budgets.c_str());
  }
  std::vector<OpIdentity> ids = Identities(preset, watch.module_name());
  watch.set_identities(ids);
  observers.push_back(&watch);
  // Scanning every process's mappings costs more than reading one's.
  options.poll_interval = absl::Seconds(1);
  options.poll = [&watch](absl::Time) { return watch.Poll().status(); };
  TargetInfo everyone;
  everyone.pid = 0;
  everyone.comm = absl::StrCat("all processes that map ", watch.module_name());
  GP_ASSIGN_OR_RETURN(StopReason reason, RunAgent(*session, everyone, ids, options, observers));
  (void)reason;
  return absl::OkStatus();
}

absl::Status Attach(const std::string& pid_text, const ProfileFlags& f) {
  if (f.all != pid_text.empty()) {
    return WithExitCode(absl::InvalidArgumentError(
                            f.all ? "give a pid or --all, not both"
                                  : "give the pid of the process to profile, or --all"),
                        ExitCode::kUsage);
  }
  if (f.all) {
    GP_ASSIGN_OR_RETURN(Settings settings, ResolveSettings(f));
    return ProfileAll(std::move(settings), f.max_processes);
  }
  GP_ASSIGN_OR_RETURN(int pid, ParsePid(pid_text));
  GP_ASSIGN_OR_RETURN(Settings settings, ResolveSettings(f));
  GP_RETURN_IF_ERROR(CheckProcessExists(pid));
  GP_ASSIGN_OR_RETURN(std::unique_ptr<ProbeSession> session,
                      ProbeSession::Create(settings.session));
  return Profile(pid, std::move(settings), std::move(session), [] {
           return absl::OkStatus();
         }).status();
}

// Starts the program held at its entry point, attaches, lets it run and
// profiles it to the end; reports how it ended.
absl::Status Run(const std::vector<std::string>& command, const ProfileFlags& f) {
  GP_ASSIGN_OR_RETURN(Settings settings, ResolveSettings(f));
  // Privileges before the program starts: it is not run just to be killed.
  GP_ASSIGN_OR_RETURN(std::unique_ptr<ProbeSession> session,
                      ProbeSession::Create(settings.session));
  GP_ASSIGN_OR_RETURN(LaunchedProcess child, LaunchedProcess::Start(command));
  const int pid = child.pid();
  GP_ASSIGN_OR_RETURN(StopReason reason,
                      Profile(pid, std::move(settings), std::move(session), [&child, pid] {
                        std::fprintf(stderr, "gridprobe: started pid %d at its entry point\n",
                                     pid);
                        return child.Resume();
                      }));
  // The agent returns when the program ended, or earlier at --duration or a
  // signal; then the program runs on without gridprobe (unless it ended
  // meanwhile).
  std::optional<int> ended;
  if (reason == StopReason::kTargetExited) {
    GP_ASSIGN_OR_RETURN(ended, child.Wait());
  } else {
    GP_ASSIGN_OR_RETURN(ended, child.TryWait());
  }
  if (!ended) {
    std::fprintf(stderr, "gridprobe: pid %d keeps running without probes\n", pid);
    return absl::OkStatus();
  }
  const int status = *ended;
  std::fprintf(stderr, "gridprobe: pid %d (%s) %s\n", pid, command[0].c_str(),
               DescribeWaitStatus(status).c_str());
  return absl::OkStatus();
}

struct SymbolsFlags {
  std::string target;
  std::string preset = "gridkit";
  std::string return_mode = "auto";
  bool i_know_it_can_crash = false;
  std::string debug_dir;
};

// Expected probe time per call of a function with `s`'s sites and mode.
std::string ExpectedCost(const symbols::ResolvedSymbol& s, const Calibration& calibration) {
  auto hit = [&calibration](const std::string& insn) -> double {
    auto it = calibration.ns_per_hit.find(symbols::InsnClass(insn.substr(0, insn.find(' '))));
    return it == calibration.ns_per_hit.end() ? -1 : it->second;
  };
  double entry = hit(s.entry.insn);
  if (entry < 0) return "expected cost not measured (no calibration)";
  if (s.ret.mode == symbols::ReturnMode::kFast) {
    if (calibration.uretprobe_return_ns <= 0) return "expected cost not measured";
    return absl::StrFormat("expected ~%.0f ns per call (entry trap %.0f + return trampoline %.0f)",
                           entry + calibration.uretprobe_return_ns, entry,
                           calibration.uretprobe_return_ns);
  }
  // A call leaves through one exit; the dearest one bounds it.
  double exit = 0;
  for (const symbols::ResolvedSite& e : s.exits) exit = std::max(exit, hit(e.insn));
  return absl::StrFormat("expected ~%.0f ns per call (entry trap %.0f + exit trap up to %.0f)",
                         entry + exit, entry, exit);
}

absl::Status ExplainSymbols(const SymbolsFlags& f) {
  GP_ASSIGN_OR_RETURN(symbols::ReturnRequest return_request, ParseReturnModeFlag(f.return_mode));
  GP_ASSIGN_OR_RETURN(symbols::LibraryPreset preset,
                      symbols::LoadLibraryPreset(f.preset, budgets::PresetSearchPath()));
  Calibration calibration;
  absl::StatusOr<symbols::EntryPolicy> measured = OperationPolicy(&calibration);
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

}  // namespace
}  // namespace gridprobe

int main(int argc, char** argv) {
  using gridprobe::ExitCode;
  CLI::App app{"gridprobe: latency of a running program's library operations, via uprobes"};
  app.require_subcommand(1);
  absl::Status status;

  gridprobe::ProfileFlags attach;
  std::string attach_pid;
  CLI::App* attach_cmd = app.add_subcommand("attach", "Profile a running process");
  attach_cmd->add_option("pid", attach_pid, "Process id of the target");
  gridprobe::AddProfileFlags(attach_cmd, &attach);
  attach_cmd->add_flag("--all", attach.all,
                       "Profile every process that maps the preset's library, including ones "
                       "started later; the report breaks the totals down by process");
  attach_cmd->add_option("--max-processes", attach.max_processes,
                         "With --all: processes broken down in the report (the rest count in "
                         "the totals)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4096u));
  attach_cmd->callback([&] { status = gridprobe::Attach(attach_pid, attach); });

  gridprobe::ProfileFlags run;
  std::vector<std::string> run_command;
  CLI::App* run_cmd = app.add_subcommand(
      "run", "Start a program and profile it from its entry point: gridprobe run [flags] -- CMD");
  gridprobe::AddProfileFlags(run_cmd, &run);
  run_cmd->add_option("command", run_command, "The program and its arguments, after --")
      ->required();
  run_cmd->callback([&] { status = gridprobe::Run(run_command, run); });

  gridprobe::SymbolsFlags syms;
  CLI::App* symbols_cmd =
      app.add_subcommand("symbols", "Explain which probe sites a preset resolves to");
  symbols_cmd->add_option("target", syms.target, "Process id or ELF file")->required();
  symbols_cmd->add_option("--preset", syms.preset, "Library preset name or file")
      ->capture_default_str();
  symbols_cmd->add_option("--return-mode", syms.return_mode,
                          "Explain as attach would with this --return-mode")
      ->capture_default_str();
  symbols_cmd->add_option("--debug-dir", syms.debug_dir,
                          "Look for separate debug files here first, then in /usr/lib/debug");
  symbols_cmd->add_flag("--i-know-it-can-crash", syms.i_know_it_can_crash,
                        "As attach's flag of the same name");
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
