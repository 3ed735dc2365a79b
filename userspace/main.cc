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
#include "userspace/config/config.h"
#include "userspace/launcher.h"
#include "userspace/library_watch.h"
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

std::vector<OpIdentity> Identities(const symbols::LibraryPreset& preset,
                                   const std::string& module) {
  std::vector<OpIdentity> ids;
  for (const symbols::OperationSpec& op : preset.operations) {
    ids.push_back({op.name, absl::StrJoin(op.symbols, ", "), module,
                   ParseImpact(op.impact).value_or(Impact::kUserVisible)});
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

// The flags `attach` and `run` share. Each overrides the configuration file
// only when given.
struct ProfileFlags {
  std::string config;
  std::string preset;
  std::string interval;
  std::string duration;
  std::string report_json;
  uint32_t max_threads = 4096;
  std::string memory;
  std::string budgets;
  uint32_t max_allocs = 262144;
  bool no_alloc_stacks = false;
  bool quiet = false;
  bool verbose = false;
  std::string return_mode = "auto";
  bool i_know_it_can_crash = false;
  std::string debug_dir;
  std::string links = "auto";
  bool wait_library = false;
  bool all = false;               // attach only
  uint32_t max_processes = 64;    // attach --all
  const CLI::App* command = nullptr;

  bool Given(const char* flag) const { return command != nullptr && command->count(flag) > 0; }
};

absl::StatusOr<symbols::ReturnRequest> ParseReturnModeFlag(const std::string& text) {
  std::optional<symbols::ReturnRequest> r = symbols::ParseReturnRequest(text);
  if (!r) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            "--return-mode '", text, "' is not one of auto, safe, fast")),
                        ExitCode::kUsage);
  }
  return *r;
}

void AddProfileFlags(CLI::App* cmd, ProfileFlags* f) {
  f->command = cmd;
  cmd->add_option("--config", f->config,
                  "Read settings from this YAML file (docs/configuration.md); flags override it");
  cmd->add_option("--preset", f->preset, "Library preset name or file (default: gridkit)");
  cmd->add_option("--interval", f->interval,
                  "Window length: the table refreshes and budgets are judged every window "
                  "(default: 1s, or 10s with --budgets)");
  cmd->add_option("--duration", f->duration,
                  "Stop after this long (default 0: at Ctrl-C or when the target exits)");
  cmd->add_option("--report-json", f->report_json, "Write the final report here");
  cmd->add_option("--max-threads", f->max_threads, "Target threads tracked at once")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 20));
  cmd->add_option("--budgets", f->budgets,
                  "Judge every window against this budget preset (name or file)");
  cmd->add_option("--memory", f->memory,
                  "Allocation tracking: off (default), ops (while an operation runs) or full");
  cmd->add_option("--max-allocs", f->max_allocs, "Live allocations tracked at once")
      ->capture_default_str()
      ->check(CLI::Range(1024u, 1u << 26));
  cmd->add_flag("--no-alloc-stacks", f->no_alloc_stacks,
                "Record only the calling address of allocations, not the whole stack");
  cmd->add_option("--return-mode", f->return_mode,
                  "How returns are timed: auto (per function, from the binary), safe "
                  "(probes on return instructions) or fast (uretprobe)")
      ->capture_default_str();
  cmd->add_flag("--i-know-it-can-crash", f->i_know_it_can_crash,
                "Allow a forced fast return where an exception or longjmp can kill the target");
  cmd->add_option("--debug-dir", f->debug_dir,
                  "Look for separate debug files of stripped binaries here first "
                  "(by build-id and debuglink), then in /usr/lib/debug");
  cmd->add_flag("--wait-library", f->wait_library,
                "If the process does not map the preset's library yet, wait until it loads it "
                "(dlopen) instead of failing");
  cmd->add_option("--links", f->links,
                  "How probes are made: auto, multi (uprobe_multi links, Linux 6.6+: fast "
                  "attach and detach) or single (one perf-event uprobe per site)")
      ->capture_default_str();
  cmd->add_flag("--quiet", f->quiet, "No live table, only the final report");
  cmd->add_flag("--verbose", f->verbose, "Show libbpf's messages");
}

absl::StatusOr<LinkMode> ParseLinksFlag(const std::string& text) {
  if (text == "auto") return LinkMode::kAuto;
  if (text == "multi") return LinkMode::kMulti;
  if (text == "single") return LinkMode::kSingle;
  return WithExitCode(absl::InvalidArgumentError(
                          absl::StrCat("--links '", text, "' is not one of auto, multi, single")),
                      ExitCode::kUsage);
}

// What one profile run does: the defaults, then the configuration file,
// then the flags given (docs/configuration.md, "Precedence").
struct Settings {
  std::string preset;
  std::string budgets;
  MemoryMode memory = MemoryMode::kOff;
  AgentOptions agent;
  budgets::EvaluatorOptions budget_options;
  ProbeSessionOptions session;
  symbols::ReturnRequest return_request;
  bool i_know_it_can_crash = false;
  bool wait_library = false;
  // Where separate debug files of stripped binaries are looked for.
  std::vector<std::string> debug_dirs = symbols::DefaultDebugDirs();
};

MemoryMode FromConfig(config::MemoryMode mode) {
  switch (mode) {
    case config::MemoryMode::kOff: return MemoryMode::kOff;
    case config::MemoryMode::kOps: return MemoryMode::kOps;
    case config::MemoryMode::kFull: return MemoryMode::kFull;
  }
  return MemoryMode::kOff;
}

absl::StatusOr<Settings> ResolveSettings(const ProfileFlags& f) {
  config::Config file;
  if (!f.config.empty()) {
    GP_ASSIGN_OR_RETURN(file, config::LoadConfig(f.config));
  }
  Settings s;
  if (!f.debug_dir.empty()) {
    s.debug_dirs.insert(s.debug_dirs.begin(), f.debug_dir);
  } else if (!file.debug_dir.empty()) {
    s.debug_dirs.insert(s.debug_dirs.begin(), file.debug_dir);
  }
  if (f.Given("--preset")) {
    s.preset = f.preset;
  } else if (file.presets.size() == 1) {
    s.preset = file.presets[0];
  } else {
    return WithExitCode(
        absl::InvalidArgumentError(absl::StrCat(
            f.config, ": 'presets' names ", file.presets.size(), " library presets (",
            absl::StrJoin(file.presets, ", "),
            "); gridprobe profiles one library per run so far: keep one, or give --preset")),
        ExitCode::kBadInput);
  }
  s.budgets = f.Given("--budgets") ? f.budgets : file.budgets;
  s.budget_options = file.budget_options;

  s.memory = FromConfig(file.memory);
  if (f.Given("--memory")) {
    if (f.memory == "off") {
      s.memory = MemoryMode::kOff;
    } else if (f.memory == "ops") {
      s.memory = MemoryMode::kOps;
    } else if (f.memory == "full") {
      s.memory = MemoryMode::kFull;
    } else {
      return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                              "--memory '", f.memory, "' is not one of off, ops, full")),
                          ExitCode::kUsage);
    }
  }

  if (f.Given("--interval")) {
    GP_ASSIGN_OR_RETURN(s.agent.interval, ParseDurationFlag("interval", f.interval, false));
  } else {
    s.agent.interval = file.interval.value_or(config::DefaultInterval(!s.budgets.empty()));
  }
  s.agent.duration = file.duration;
  if (f.Given("--duration")) {
    GP_ASSIGN_OR_RETURN(s.agent.duration, ParseDurationFlag("duration", f.duration, true));
  }
  s.agent.report_json = f.Given("--report-json") ? f.report_json : file.report_json;
  s.agent.live = !f.quiet;

  s.session.memory = s.memory;
  s.session.max_threads =
      f.Given("--max-threads") ? f.max_threads : static_cast<uint32_t>(file.max_threads);
  s.session.verbose = f.verbose;
  s.session.max_allocs = f.max_allocs;
  s.session.alloc_stacks = !f.no_alloc_stacks;
  GP_ASSIGN_OR_RETURN(s.session.links, ParseLinksFlag(f.links));
  GP_ASSIGN_OR_RETURN(s.return_request, ParseReturnModeFlag(f.return_mode));
  s.i_know_it_can_crash = f.i_know_it_can_crash;
  s.wait_library = f.wait_library;
  return s;
}

// What a profile run reads before its first probe: the library preset, the
// budgets (judged by an observer, when given) and how probe sites are
// chosen and explained.
struct ProfileInputs {
  symbols::LibraryPreset preset;
  std::unique_ptr<BudgetObserver> budget_observer;
  Calibration calibration;
  LibraryWatchOptions watch;
};

absl::StatusOr<ProfileInputs> LoadProfileInputs(const Settings& settings) {
  ProfileInputs in;
  GP_ASSIGN_OR_RETURN(in.preset,
                      symbols::LoadLibraryPreset(settings.preset, budgets::PresetSearchPath()));
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
// kernel features decide whether anything else is worth explaining.
absl::StatusOr<StopReason> Profile(int pid, Settings settings,
                                   std::unique_ptr<ProbeSession> session,
                                   const std::function<absl::Status()>& attached) {
  AgentOptions& options = settings.agent;
  GP_ASSIGN_OR_RETURN(ProfileInputs in, LoadProfileInputs(settings));
  const symbols::LibraryPreset& preset = in.preset;
  const Calibration& calibration = in.calibration;
  BudgetObserver* budget_observer = in.budget_observer.get();
  std::vector<WindowObserver*> observers;
  if (budget_observer != nullptr) observers.push_back(budget_observer);
  TargetInfo target = ReadTargetInfo(pid);
  LibraryWatch watch(session.get(), pid, preset, in.watch);
  // Everything that reads files comes before the first probe, so that the
  // measured window starts at attach.
  std::unique_ptr<memory::MemoryAnalyzer> analyzer;
  std::unique_ptr<Symbolizer> symbolizer;
  std::optional<symbols::AllocatorModule> allocator;
  if (settings.memory != MemoryMode::kOff) {
    GP_ASSIGN_OR_RETURN(allocator, symbols::ResolveAllocator(pid, calibration.emulated));
    std::vector<std::string> names;
    for (const symbols::OperationSpec& op : preset.operations) names.push_back(op.name);
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
  GP_ASSIGN_OR_RETURN(bool mapped, watch.Poll(options.start));
  if (!mapped && !settings.wait_library) return symbols::LibraryNotMappedError(preset, pid);
  if (allocator) {
    GP_RETURN_IF_ERROR(session->AttachAllocator(pid, *allocator));
    std::fprintf(stderr, "gridprobe: tracking allocations (%s) through %s in %s; %s\n",
                 MemoryModeName(settings.memory), allocator->family.c_str(),
                 allocator->path.c_str(), symbols::DescribeCxxOperators(*allocator).c_str());
  }
  const absl::Duration attach_time = absl::Now() - options.start;
  if (mapped) {
    const symbols::ResolvedModule& module = *watch.module();
    if (!module.debug_file.empty()) {
      std::fprintf(stderr, "gridprobe: symbols of %s from its debug file %s\n",
                   module.path.c_str(), module.debug_file.c_str());
    }
    size_t symbols_total = 0;
    for (const symbols::ResolvedOperation& op : module.ops) symbols_total += op.symbols.size();
    std::fprintf(stderr,
                 "gridprobe: attached %zu probes for %zu operations to pid %d (%s) in %s "
                 "(return mode: %zu fast, %zu safe; %s; %.0f ms)\n",
                 session->probe_count(), module.ops.size(), pid, target.comm.c_str(),
                 module.path.c_str(), session->fast_symbols(),
                 symbols_total - session->fast_symbols(),
                 session->LinksDescription(),
                 absl::ToDoubleMilliseconds(attach_time));
  } else {
    std::fprintf(stderr,
                 "gridprobe: pid %d (%s) does not map %s yet; waiting for it to load the "
                 "library of preset '%s'\n",
                 pid, target.comm.c_str(), watch.module_name().c_str(), preset.name.c_str());
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
  observers.push_back(&watch);
  options.poll = [&watch, pid](absl::Time now) -> absl::Status {
    absl::StatusOr<bool> polled = watch.Poll(now);
    // The process ending between two polls is the agent's to notice.
    if (!polled.ok() && kill(pid, 0) != 0 && errno == ESRCH) return absl::OkStatus();
    return polled.status();
  };
  GP_RETURN_IF_ERROR(attached());
  GP_ASSIGN_OR_RETURN(StopReason reason,
                      RunAgent(*session, target, Identities(preset, watch.module_name()), options,
                               observers));
  if (watch.events().empty()) {
    return WithExitCode(absl::FailedPreconditionError(absl::StrCat(
                            "pid ", pid, " (", target.comm, ") never loaded the library of preset '",
                            preset.name, "' (", watch.module_name(), ") while profiled")),
                        ExitCode::kLibraryNotMapped);
  }
  return reason;
}

// attach --all: every process that maps the preset's library, now or
// later, until the duration ends or a signal arrives; the report breaks the
// totals down by process.
absl::Status ProfileAll(Settings settings, uint32_t max_processes) {
  if (settings.memory != MemoryMode::kOff) {
    return WithExitCode(absl::InvalidArgumentError(
                            "--memory follows one process's allocator; it cannot be combined "
                            "with --all: give a pid instead"),
                        ExitCode::kUsage);
  }
  AgentOptions& options = settings.agent;
  settings.session.max_processes = max_processes;
  GP_ASSIGN_OR_RETURN(std::unique_ptr<ProbeSession> session,
                      ProbeSession::Create(settings.session));
  GP_ASSIGN_OR_RETURN(ProfileInputs in, LoadProfileInputs(settings));
  const symbols::LibraryPreset& preset = in.preset;
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
