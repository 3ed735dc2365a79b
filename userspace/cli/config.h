// The configuration file (gridprobe.yaml): everything `gridprobe attach` and
// `gridprobe run` can be told, in one place. Command-line flags override it.
// Schema and examples: docs/configuration.md.
#ifndef GRIDPROBE_USERSPACE_CLI_CONFIG_H_
#define GRIDPROBE_USERSPACE_CLI_CONFIG_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "userspace/analyzers/budgets/evaluator.h"
#include "userspace/presets/budget_preset.h"
#include "base/yaml_reader.h"
#include "userspace/model/snapshot.h"
#include "userspace/sinks/alerts/options.h"

namespace gridprobe::config {

using ::gridprobe::MemoryMode;

// exporters.prometheus: serve /metrics (docs/exporters.md).
struct PrometheusExporter {
  std::string listen = "127.0.0.1:9464";  // checked HOST:PORT
  bool allow_remote = false;              // a non-loopback listen address is wanted
};

using AlertDestination = alerts::DestinationOptions;

// reports: scheduled reports (docs/report-format.md, "Scheduled reports").
struct ScheduledReports {
  std::string dir;                                  // required
  absl::Duration every = absl::ZeroDuration();      // zero: the whole-run report only
  std::string formats = "json";                     // "json,csv,html"
  int keep = 0;                                     // per format; 0: all
  absl::Duration max_age = absl::ZeroDuration();    // zero: no age limit
};

// Relative paths in a file are taken relative to the file's directory and
// stored resolved.
struct Config {
  std::string source;  // the file read; empty for the defaults
  // Library presets, by name or file.
  std::vector<std::string> presets = {"gridkit"};
  // Budget preset name or file; empty: measure and report, judge nothing.
  std::string budgets;
  MemoryMode memory = MemoryMode::kOff;
  // Length of a window; unset: 1s, or 10s when budgets are judged, so that
  // windows hold enough calls to judge (DefaultInterval()).
  std::optional<absl::Duration> interval;
  // How long to profile; zero: until the target exits.
  absl::Duration duration = absl::ZeroDuration();
  // Where to write the JSON report; empty: no report file.
  std::string report_json;
  // Where every event goes as one JSON line; empty: nowhere, "-": stdout.
  std::string events_jsonl;
  budgets::EvaluatorOptions budget_options;
  // Alert destinations (docs/alerts.md); empty: none beyond the console lines.
  std::vector<AlertDestination> alerts;
  // Threads of the target tracked at once.
  int max_threads = 4096;
  // Where to leave debugging output; empty: none.
  std::string debug_dir;
  // Scheduled reports; absent: none.
  std::optional<ScheduledReports> reports;
  // The Prometheus exporter; absent: off.
  std::optional<PrometheusExporter> prometheus;
};

// The shortest window the file or a flag may set.
inline constexpr absl::Duration kMinInterval = absl::Milliseconds(100);

// The window length when neither the file nor a flag sets one.
absl::Duration DefaultInterval(bool judging_budgets);

// Reads and checks a configuration file. Errors are one line,
// "<file>:<line>:<col>: <what>", tagged ExitCode::kBadInput; a file that
// cannot be read is ExitCode::kNotFound.
absl::StatusOr<Config> LoadConfig(const std::string& path);

// The same for text at hand; `filename` is used in messages and to resolve
// relative paths.
absl::StatusOr<Config> ParseConfig(absl::string_view text, absl::string_view filename);
// With the presets and environment given explicitly (tests, fuzzing).
absl::StatusOr<Config> ParseConfig(absl::string_view text, absl::string_view filename,
                                   const budgets::PresetCatalog& catalog, const EnvLookup& env);

}  // namespace gridprobe::config

#endif  // GRIDPROBE_USERSPACE_CLI_CONFIG_H_
