#include "userspace/cli/settings.h"

#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "base/status.h"
#include "base/units.h"
#include "userspace/cli/config.h"
#include "userspace/sinks/alerts/destination.h"

namespace gridprobe {
namespace {

absl::StatusOr<absl::Duration> ParseDurationFlag(const std::string& flag, const std::string& text,
                                                 bool allow_zero) {
  // The configuration file's forms ("7d" too), or absl's ("1h30m").
  absl::Duration d;
  std::optional<absl::Duration> one_unit = config::ParseDuration(text);
  if (one_unit) {
    d = *one_unit;
  } else if (!absl::ParseDuration(text, &d)) {
    d = -absl::Nanoseconds(1);
  }
  if (d < absl::ZeroDuration() ||
      (!allow_zero && d == absl::ZeroDuration())) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            "--", flag, " '", text, "' is not a ",
                            allow_zero ? "" : "positive ", "duration (examples: 500ms, 1s, 2m, 7d)")),
                        ExitCode::kUsage);
  }
  return d;
}

absl::StatusOr<LinkMode> ParseLinksFlag(const std::string& text) {
  if (text == "auto") return LinkMode::kAuto;
  if (text == "multi") return LinkMode::kMulti;
  if (text == "single") return LinkMode::kSingle;
  return WithExitCode(absl::InvalidArgumentError(
                          absl::StrCat("--links '", text, "' is not one of auto, multi, single")),
                      ExitCode::kUsage);
}


}  // namespace

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
  cmd->add_option("--preset", f->presets,
                  "Library preset name or file; give it once per library to profile several "
                  "(default: gridkit)")
      ->allow_extra_args(false);
  cmd->add_option("--interval", f->interval,
                  "Window length: the table refreshes and budgets are judged every window "
                  "(default: 1s, or 10s with --budgets)");
  cmd->add_option("--duration", f->duration,
                  "Stop after this long (default 0: at Ctrl-C or when the target exits)");
  cmd->add_option("--report-json", f->report_json, "Write the final report here");
  cmd->add_option("--report-dir", f->report_dir,
                  "Write scheduled reports (and a whole-run one at exit) into this directory");
  cmd->add_option("--report-every", f->report_every, "With --report-dir: one report per period");
  cmd->add_option("--report-format", f->report_format,
                  "With --report-dir: json, csv, html, comma-separated (default json)");
  cmd->add_option("--report-keep", f->report_keep,
                  "With --report-dir: keep this many reports per format, removing the oldest");
  cmd->add_option("--report-max-age", f->report_max_age,
                  "With --report-dir: remove reports older than this (e.g. 7d)");
  cmd->add_option("--events-jsonl", f->events_jsonl,
                  "Write every event as one JSON line here, as it happens ('-': stdout)");
  cmd->add_option("--prometheus", f->prometheus,
                  "Serve metrics for Prometheus at http://HOST:PORT/metrics (loopback only unless "
                  "--prometheus-allow-remote; port 0: any free one)")
      ->type_name("HOST:PORT");
  cmd->add_flag("--prometheus-allow-remote", f->prometheus_allow_remote,
                "Let --prometheus listen on a non-loopback address (anyone reaching it reads the "
                "metrics)");
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
                "If the process does not map a preset's library yet, wait until it loads it "
                "(dlopen) instead of failing; the other libraries are profiled meanwhile");
  cmd->add_option("--links", f->links,
                  "How probes are made: auto, multi (uprobe_multi links, Linux 6.6+: fast "
                  "attach and detach) or single (one perf-event uprobe per site)")
      ->capture_default_str();
  cmd->add_option("--alert", f->alerts,
                  "Send alerts to TYPE=URL, e.g. webhook=http://127.0.0.1:9000/hook or "
                  "alertmanager=http://127.0.0.1:9093 or sentry=DSN (repeatable; datadog and "
                  "newrelic in the configuration file; docs/alerts.md)");
  cmd->add_flag("--quiet", f->quiet, "No live table, only the final report");
  cmd->add_flag("--verbose", f->verbose, "Show libbpf's messages");
}

absl::StatusOr<alerts::DestinationOptions> ParseAlertFlag(const std::string& text) {
  auto usage = [&](absl::string_view why) {
    return WithExitCode(
        absl::InvalidArgumentError(absl::StrCat("--alert '", alerts::ShowUrl(text), "': ", why)),
        ExitCode::kUsage);
  };
  size_t eq = text.find('=');
  alerts::DestinationOptions d;
  d.type = text.substr(0, eq);
  d.name = d.type;
  if (d.type == "console" && eq == std::string::npos) return d;
  if (eq == std::string::npos) return usage("expected TYPE=URL");
  d.url = text.substr(eq + 1);
  if (!absl::StartsWith(d.url, "http://") && !absl::StartsWith(d.url, "https://")) {
    return usage("the URL must start with http:// or https://");
  }
  if (d.type == "pagerduty") {
    const char* key = getenv("GRIDPROBE_PAGERDUTY_ROUTING_KEY");
    if (key != nullptr) d.keys["routing_key"] = key;
  }
  if (d.type == "sentry") {  // the DSN is the URL
    d.keys["dsn"] = d.url;
    d.url.clear();
  }
  if (d.type == "exec" || d.type == "datadog" || d.type == "newrelic" ||
      !alerts::DestinationKeys(d.type)) {
    return usage(absl::StrCat("TYPE must be one of webhook, alertmanager, slack, pagerduty, "
                              "sentry, console (other types: the configuration file's 'alerts:')"));
  }
  alerts::Redactor unused;
  absl::StatusOr<std::unique_ptr<alerts::Destination>> made = alerts::MakeDestination(d, &unused);
  if (!made.ok()) return usage(made.status().message());
  return d;
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
  s.presets = f.Given("--preset") ? f.presets : file.presets;
  s.budgets = f.Given("--budgets") ? f.budgets : file.budgets;
  s.budget_options = file.budget_options;

  s.memory = file.memory;
  if (f.Given("--memory")) {
    std::optional<MemoryMode> mode = ParseMemoryMode(f.memory);
    if (!mode) {
      return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                              "--memory '", f.memory, "' is not one of off, ops, full")),
                          ExitCode::kUsage);
    }
    s.memory = *mode;
  }

  if (f.Given("--interval")) {
    GP_ASSIGN_OR_RETURN(s.agent.interval, ParseDurationFlag("interval", f.interval, false));
    // The same floor as the file's: shorter windows are mostly output.
    if (s.agent.interval < config::kMinInterval) {
      return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                              "--interval '", f.interval, "' is shorter than ",
                              absl::FormatDuration(config::kMinInterval),
                              ", the shortest window gridprobe reports")),
                          ExitCode::kUsage);
    }
  } else {
    s.agent.interval = file.interval.value_or(config::DefaultInterval(!s.budgets.empty()));
  }
  s.agent.duration = file.duration;
  if (f.Given("--duration")) {
    GP_ASSIGN_OR_RETURN(s.agent.duration, ParseDurationFlag("duration", f.duration, true));
  }
  s.report_json = f.Given("--report-json") ? f.report_json : file.report_json;
  s.events_jsonl = f.Given("--events-jsonl") ? f.events_jsonl : file.events_jsonl;
  if (f.Given("--prometheus")) {
    s.prometheus_listen = f.prometheus;
    s.prometheus_setting = "--prometheus";
  } else if (file.prometheus) {
    s.prometheus_listen = file.prometheus->listen;
    s.prometheus_setting = absl::StrCat("exporters.prometheus.listen (", file.source, ")");
  }
  s.prometheus_allow_remote =
      f.prometheus_allow_remote || (file.prometheus && file.prometheus->allow_remote);
  // Scheduled reports: the file's, each flag overriding its key.
  if (file.reports) {
    s.report_dir = file.reports->dir;
    s.report_every = file.reports->every;
    s.report_format = file.reports->formats;
    s.report_keep = file.reports->keep;
    s.report_max_age = file.reports->max_age;
  }
  if (f.Given("--report-dir")) s.report_dir = f.report_dir;
  if (f.Given("--report-format")) s.report_format = f.report_format;
  if (f.Given("--report-every")) {
    GP_ASSIGN_OR_RETURN(s.report_every, ParseDurationFlag("report-every", f.report_every, true));
  }
  if (f.Given("--report-max-age")) {
    GP_ASSIGN_OR_RETURN(s.report_max_age,
                        ParseDurationFlag("report-max-age", f.report_max_age, true));
  }
  if (f.Given("--report-keep")) {
    int keep = 0;
    if (!absl::SimpleAtoi(f.report_keep, &keep) || keep < 0) {
      return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                              "--report-keep '", f.report_keep,
                              "' is not a count of reports (0 or more; 0 keeps all)")),
                          ExitCode::kUsage);
    }
    s.report_keep = keep;
  }
  if (s.report_dir.empty() &&
      (f.Given("--report-every") || f.Given("--report-format") || f.Given("--report-keep") ||
       f.Given("--report-max-age"))) {
    return WithExitCode(absl::InvalidArgumentError(
                            "--report-every, --report-format, --report-keep and --report-max-age "
                            "need --report-dir (or reports.dir in the configuration file)"),
                        ExitCode::kUsage);
  }
  s.live = !f.quiet;
  s.alerts = file.alerts;
  for (const std::string& flag : f.alerts) {
    GP_ASSIGN_OR_RETURN(alerts::DestinationOptions d, ParseAlertFlag(flag));
    for (const alerts::DestinationOptions& other : s.alerts) {
      if (other.name == d.name) d.name = absl::StrCat(d.name, "-", s.alerts.size() + 1);
    }
    s.alerts.push_back(std::move(d));
  }

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

absl::StatusOr<std::vector<symbols::LibraryPreset>> LoadLibraryPresets(
    const Settings& settings, const std::vector<std::string>& search_dirs) {
  std::vector<symbols::LibraryPreset> presets;
  for (const std::string& name : settings.presets) {
    GP_ASSIGN_OR_RETURN(symbols::LibraryPreset preset,
                        symbols::LoadLibraryPreset(name, search_dirs));
    presets.push_back(std::move(preset));
  }
  GP_RETURN_IF_ERROR(symbols::CheckPresetsTogether(presets, ProbeSession::kMaxOperations));
  return presets;
}

absl::Status CheckAllProcessesSettings(const Settings& settings) {
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
  return absl::OkStatus();
}

}  // namespace gridprobe
