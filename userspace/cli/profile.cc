#include "userspace/cli/profile.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "base/files.h"
#include "base/status.h"
#include "symbols/allocator.h"
#include "symbols/library_preset.h"
#include "symbols/resolver.h"
#include "userspace/agent/agent.h"
#include "userspace/agent/sink_runner.h"
#include "userspace/analyzers/budgets/budget_analyzer.h"
#include "userspace/analyzers/memory/memory_analysis.h"
#include "userspace/analyzers/recommendations/recommend.h"
#include "userspace/presets/budget_preset.h"
#include "userspace/probes/calibration.h"
#include "userspace/probes/launcher.h"
#include "userspace/probes/library_watch.h"
#include "userspace/probes/probe_session.h"
#include "userspace/probes/symbolizer.h"
#include "userspace/sinks/alerts/alerts_sink.h"
#include "userspace/sinks/console_events.h"
#include "userspace/sinks/console_table.h"
#include "userspace/sinks/events_jsonl.h"
#include "userspace/sinks/report_file.h"
#include "userspace/sinks/prometheus/prometheus_sink.h"
#include "userspace/sinks/reports/reports_sink.h"

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

// One preset's operations as the report names them.
absl::StatusOr<std::vector<OpIdentity>> Identities(const symbols::LibraryPreset& preset,
                                                   const std::string& module) {
  std::vector<OpIdentity> ids;
  for (const symbols::OperationSpec& op : preset.operations) {
    std::optional<Impact> impact = ParseImpact(op.impact);
    if (!impact) {
      return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                              "library preset '", preset.name, "', operation '", op.name,
                              "': impact '", op.impact, "' is not userVisible or background")),
                          ExitCode::kBadInput);
    }
    ids.push_back({op.name, absl::StrJoin(op.symbols, ", "), module, *impact, preset.name, ""});
  }
  return ids;
}

// The sinks a run writes to, made before the first probe so that an output
// that cannot be written stops the run before it starts.
struct Sinks {
  std::vector<std::unique_ptr<Sink>> owned;
  // What timing one call of an operation costs, for the recommendations of
  // period reports and the whole run: set once the probes are placed,
  // before any sink runs.
  std::shared_ptr<recommendations::ProbeCost> probe_cost =
      std::make_shared<recommendations::ProbeCost>();

  std::vector<Sink*> all() const {
    std::vector<Sink*> out;
    for (const auto& s : owned) out.push_back(s.get());
    return out;
  }
};

absl::StatusOr<Sinks> MakeSinks(const Settings& settings,
                                const budgets::BudgetAnalyzer* budget_analyzer) {
  Sinks sinks;
  sinks.owned.push_back(std::make_unique<ConsoleTableSink>(stdout, settings.live));
  sinks.owned.push_back(std::make_unique<ConsoleEventSink>(stderr));
  if (!settings.report_json.empty()) {
    GP_RETURN_IF_ERROR(CheckOutputPath(settings.report_json, "--report-json"));
    sinks.owned.push_back(std::make_unique<ReportFileSink>(settings.report_json));
  }
  if (!settings.report_dir.empty()) {
    reports::ReportsOptions o;
    o.dir = settings.report_dir;
    o.every = settings.report_every;
    GP_ASSIGN_OR_RETURN(o.formats, reports::ParseReportFormats(settings.report_format));
    o.keep = settings.report_keep;
    o.max_age = settings.report_max_age;
    GP_RETURN_IF_ERROR(reports::CheckReportDir(o.dir));
    if (budget_analyzer != nullptr) {
      o.budgets = budget_analyzer->evaluator().budgets().ToJson();
      o.budgets_preset = budget_analyzer->evaluator().budgets().name;
    }
    o.add_sections = [cost = sinks.probe_cost](const Snapshot& period, nlohmann::json* report) {
      (*report)["recommendations"] = recommendations::Recommend(period, *report, *cost);
    };
    sinks.owned.push_back(std::make_unique<reports::ReportsSink>(std::move(o)));
  }
  if (!settings.alerts.empty()) {
    absl::StatusOr<std::unique_ptr<alerts::AlertsSink>> a = alerts::AlertsSink::Create(settings.alerts);
    if (!a.ok()) {
      return WithExitCode(absl::InvalidArgumentError(a.status().message()), ExitCode::kBadInput);
    }
    sinks.owned.push_back(*std::move(a));
  }
  if (!settings.events_jsonl.empty()) {
    GP_ASSIGN_OR_RETURN(std::unique_ptr<EventsJsonlSink> jsonl,
                        EventsJsonlSink::Open(settings.events_jsonl));
    sinks.owned.push_back(std::move(jsonl));
  }
  if (!settings.prometheus_listen.empty()) {
    prometheus::PrometheusOptions o;
    o.listen = settings.prometheus_listen;
    o.allow_remote = settings.prometheus_allow_remote;
    o.what = settings.prometheus_setting;
    GP_ASSIGN_OR_RETURN(std::unique_ptr<prometheus::PrometheusSink> p,
                        prometheus::PrometheusSink::Start(o));
    sinks.owned.push_back(std::move(p));
  }
  return sinks;
}

// What timing one call of `op` costs (its dearest symbol), from the
// calibration and the sites its library's watch attached; nullopt before
// the library is attached or without a calibration.
std::optional<double> OperationProbeNs(const std::vector<std::unique_ptr<LibraryWatch>>& watches,
                                       const Calibration& calibration, const std::string& op) {
  for (const std::unique_ptr<LibraryWatch>& watch : watches) {
    if (!watch->module()) continue;
    for (const symbols::ResolvedOperation& o : watch->module()->ops) {
      if (o.name != op) continue;
      std::optional<double> dearest;
      for (const symbols::ResolvedSymbol& s : o.symbols) {
        std::optional<double> ns = ExpectedProbeNs(s, calibration);
        if (ns && (!dearest || *ns > *dearest)) dearest = ns;
      }
      return dearest;
    }
  }
  return std::nullopt;
}

// What a profile run reads and opens before its first probe: the library
// presets, the budgets, the outputs, and how probe sites are chosen.
struct ProfileInputs {
  std::vector<symbols::LibraryPreset> presets;
  std::unique_ptr<budgets::BudgetAnalyzer> budgets;
  Calibration calibration;
  LibraryWatchOptions watch;
  Sinks sinks;
};

absl::StatusOr<ProfileInputs> LoadProfileInputs(const Settings& settings) {
  ProfileInputs in;
  GP_ASSIGN_OR_RETURN(in.presets, LoadLibraryPresets(settings, budgets::PresetSearchPath()));
  if (!settings.budgets.empty()) {
    GP_ASSIGN_OR_RETURN(budgets::BudgetSet set,
                        budgets::LoadBudgetSet(settings.budgets, budgets::PresetCatalog::Default()));
    in.budgets = std::make_unique<budgets::BudgetAnalyzer>(std::move(set), settings.budget_options);
  }
  GP_ASSIGN_OR_RETURN(in.sinks, MakeSinks(settings, in.budgets.get()));
  GP_ASSIGN_OR_RETURN(in.watch.policy, OperationEntryPolicy(&in.calibration));
  in.watch.return_request = settings.return_request;
  in.watch.i_know_it_can_crash = settings.i_know_it_can_crash;
  in.watch.debug_dirs = settings.debug_dirs;
  return in;
}

void AnnounceBudgets(const Settings& settings, const ProfileInputs& in) {
  if (in.budgets != nullptr) {
    std::fprintf(stderr, "gridprobe: judging %s windows against budgets '%s'\n",
                 absl::FormatDuration(settings.agent.interval).c_str(), settings.budgets.c_str());
  }
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
  TargetInfo target = ReadTargetInfo(pid);
  // Preset i's operations follow those of the presets before it, in op ids
  // and in the report; each watch names its module in `ids` once attached.
  std::vector<OpIdentity> ids;
  std::vector<std::unique_ptr<LibraryWatch>> watches;
  for (const symbols::LibraryPreset& preset : in.presets) {
    auto watch = std::make_unique<LibraryWatch>(
        session.get(), pid, preset, static_cast<uint32_t>(ids.size()), &ids, in.watch);
    GP_ASSIGN_OR_RETURN(std::vector<OpIdentity> preset_ids,
                        Identities(preset, watch->module_name()));
    for (OpIdentity& id : preset_ids) ids.push_back(std::move(id));
    watches.push_back(std::move(watch));
  }
  session->SetOperationCount(ids.size());
  // Everything that reads files comes before the first probe, so that the
  // measured window starts at attach.
  std::unique_ptr<memory::MemoryAnalysis> memory;
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
    symbolizer = std::make_unique<Symbolizer>(pid);
    ProbeSession* s = session.get();
    const Symbolizer* sym = symbolizer.get();
    memory::LiveSources sources;
    sources.live = [s] { return s->ReadLiveAllocations(); };
    sources.stack = [s](int32_t id) { return s->ReadStack(id); };
    sources.symbolize = [sym](uint64_t addr) { return sym->Symbolize(addr); };
    memory = std::make_unique<memory::MemoryAnalysis>(names, mo, std::move(sources));
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
  // Indirect-jump exits the kernel refused are in the report
  // (probes.skipped_exit_sites), not a warning at every start: nobody can act
  // on it, and a tail call taken through one shows up as unwound.
  AnnounceBudgets(settings, in);
  // Memory first: the budgets read the memory figures it fills in.
  std::vector<Analyzer*> analyzers;
  if (memory != nullptr) analyzers.push_back(memory.get());
  for (const std::unique_ptr<LibraryWatch>& watch : watches) analyzers.push_back(watch.get());
  if (in.budgets != nullptr) analyzers.push_back(in.budgets.get());
  // Last: it reads the sections the others add to the report.
  *in.sinks.probe_cost = [&watches, &calibration](const std::string& op) {
    return OperationProbeNs(watches, calibration, op);
  };
  recommendations::RecommendationsAnalyzer recommend(*in.sinks.probe_cost);
  analyzers.push_back(&recommend);
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
  SinkRunner sinks(in.sinks.all());
  GP_ASSIGN_OR_RETURN(StopReason reason,
                      RunAgent(*session, target, ids, options, analyzers, sinks));
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
  GP_RETURN_IF_ERROR(CheckAllProcessesSettings(settings));
  AgentOptions& options = settings.agent;
  settings.session.max_processes = max_processes;
  GP_ASSIGN_OR_RETURN(std::unique_ptr<ProbeSession> session,
                      ProbeSession::Create(settings.session));
  GP_ASSIGN_OR_RETURN(ProfileInputs in, LoadProfileInputs(settings));
  const symbols::LibraryPreset& preset = in.presets[0];
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
                 watch.processes_seen(), session->LinksDescription(),
                 absl::ToDoubleMilliseconds(absl::Now() - options.start));
  }
  AnnounceBudgets(settings, in);
  GP_ASSIGN_OR_RETURN(std::vector<OpIdentity> ids, Identities(preset, watch.module_name()));
  watch.set_identities(ids);
  std::vector<Analyzer*> analyzers = {&watch};
  if (in.budgets != nullptr) analyzers.push_back(in.budgets.get());
  // Scanning every process's mappings costs more than reading one's.
  options.poll_interval = absl::Seconds(1);
  options.poll = [&watch](absl::Time) { return watch.Poll().status(); };
  TargetInfo everyone;
  everyone.pid = 0;
  everyone.comm = absl::StrCat("all processes that map ", watch.module_name());
  SinkRunner sinks(in.sinks.all());
  GP_ASSIGN_OR_RETURN(StopReason reason,
                      RunAgent(*session, everyone, ids, options, analyzers, sinks));
  (void)reason;
  return absl::OkStatus();
}

}  // namespace

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

}  // namespace gridprobe
