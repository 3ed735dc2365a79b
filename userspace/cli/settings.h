// What one profile run (`gridprobe attach`, `gridprobe run`) does: the
// defaults, then the configuration file, then the flags given
// (docs/configuration.md, "Precedence").
#ifndef GRIDPROBE_USERSPACE_CLI_SETTINGS_H_
#define GRIDPROBE_USERSPACE_CLI_SETTINGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/status/statusor.h"
#include "symbols/debug_info.h"
#include "symbols/library_preset.h"
#include "symbols/return_mode.h"
#include "userspace/agent/agent.h"
#include "userspace/analyzers/budgets/evaluator.h"
#include "userspace/probes/probe_session.h"
#include "userspace/model/snapshot.h"
#include "userspace/sinks/alerts/options.h"

namespace gridprobe {

// The flags `attach` and `run` share. Each overrides the configuration file
// only when given.
struct ProfileFlags {
  std::string config;
  std::vector<std::string> presets;  // --preset, once per library preset
  std::string interval;
  std::string duration;
  std::string report_json;
  std::string events_jsonl;
  std::string prometheus;       // --prometheus HOST:PORT
  bool prometheus_allow_remote = false;
  std::string report_every;   // scheduled reports (docs/report-format.md)
  std::string report_dir;
  std::string report_format = "json";
  std::string report_keep;     // reports kept per format
  std::string report_max_age;  // reports older than this removed
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
  std::vector<std::string> alerts;  // --alert TYPE=URL, repeatable
  std::string links = "auto";
  bool wait_library = false;
  bool all = false;             // attach only
  uint32_t max_processes = 64;  // attach --all
  const CLI::App* command = nullptr;

  bool Given(const char* flag) const { return command != nullptr && command->count(flag) > 0; }
};

// Registers the shared flags on `cmd`, storing into *f.
// REQUIRES: f outlives the parsing of cmd.
void AddProfileFlags(CLI::App* cmd, ProfileFlags* f);

struct Settings {
  // Library presets, names or files: the flags' when --preset was given (they
  // replace the file's list as a whole), else the file's.
  std::vector<std::string> presets;
  std::string budgets;
  MemoryMode memory = MemoryMode::kOff;
  AgentOptions agent;
  std::string report_json;   // empty: no report file
  std::string events_jsonl;  // empty: none; "-": stdout
  // The Prometheus exporter: empty listen address: off.
  std::string prometheus_listen;
  bool prometheus_allow_remote = false;
  std::string prometheus_setting;  // what errors call it: the flag or the file's key
  // Scheduled reports: a directory, a period (zero: whole run only), formats.
  std::string report_dir;
  absl::Duration report_every = absl::ZeroDuration();
  std::string report_format = "json";
  int report_keep = 0;                                   // per format; 0: all
  absl::Duration report_max_age = absl::ZeroDuration();  // zero: no age limit
  bool live = true;          // the live table every window
  budgets::EvaluatorOptions budget_options;
  ProbeSessionOptions session;
  symbols::ReturnRequest return_request = symbols::ReturnRequest::kAuto;
  bool i_know_it_can_crash = false;
  bool wait_library = false;
  // Alert destinations: the file's, then one per --alert.
  std::vector<alerts::DestinationOptions> alerts;
  // Where separate debug files of stripped binaries are looked for.
  std::vector<std::string> debug_dirs = symbols::DefaultDebugDirs();
};

// Reads the configuration file the flags name, if any, and applies the flags
// over it. Errors are one line with their exit code.
absl::StatusOr<Settings> ResolveSettings(const ProfileFlags& f);

// Loads the library presets of `settings`, looked up in `search_dirs`, in
// order: preset i's operations get the op ids after those of presets 0..i-1.
// Fails (one line, kBadInput) unless they can be profiled together
// (symbols::CheckPresetsTogether with ProbeSession::kMaxOperations).
absl::StatusOr<std::vector<symbols::LibraryPreset>> LoadLibraryPresets(
    const Settings& settings, const std::vector<std::string>& search_dirs);

// What attach --all cannot do: follow one process's allocator (--memory),
// or profile more than one library preset. One line, kUsage / kBadInput.
absl::Status CheckAllProcessesSettings(const Settings& settings);

// --return-mode's value; kUsage when it is none of auto, safe, fast.
// One --alert TYPE=URL: a destination of that type at that URL (webhook,
// alertmanager, slack, console; pagerduty: the URL is the endpoint and
// GRIDPROBE_PAGERDUTY_ROUTING_KEY the key). kUsage on anything else.
absl::StatusOr<alerts::DestinationOptions> ParseAlertFlag(const std::string& text);

absl::StatusOr<symbols::ReturnRequest> ParseReturnModeFlag(const std::string& text);

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_CLI_SETTINGS_H_
