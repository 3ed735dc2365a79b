#include "userspace/cli/presets_commands.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "userspace/analyzers/budgets/budget_analyzer.h"
#include "userspace/sinks/console_events.h"
#include "userspace/analyzers/budgets/report.h"
#include "base/yaml_reader.h"

namespace gridprobe::budgets {
namespace {

int Fail(const absl::Status& status, std::ostream& err) {
  err << "gridprobe: " << status.message() << "\n";
  return static_cast<int>(ExitCodeOf(status));
}

class LineSink : public FindingSink {
 public:
  explicit LineSink(std::ostream& out) : out_(out) {}
  void OnFinding(const Finding& event) override {
    out_ << ::gridprobe::FormatEventLine(ToEvent(event, TargetInfo{})) << "\n";
  }

 private:
  std::ostream& out_;
};

void PrintList(absl::string_view title, const std::vector<PresetInfo>& presets, std::ostream& out) {
  out << title << ":\n";
  if (presets.empty()) out << "  (none found)\n";
  size_t width = 0;
  for (const PresetInfo& p : presets) width = std::max(width, p.name.size());
  for (const PresetInfo& p : presets) {
    out << "  " << p.name << std::string(width - p.name.size() + 2, ' ') << p.description << "\n";
  }
}

// "<line>:<col>" of a byte offset in `text`, 1-based.
std::string LineColumn(const std::string& text, size_t byte) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return absl::StrCat(line, ":", column);
}

}  // namespace

int PresetsList(const PresetCatalog& catalog, std::ostream& out) {
  PrintList("budget presets (gridprobe attach PID --budgets NAME)", catalog.BudgetPresets(), out);
  PrintList("library presets (gridprobe attach PID --preset NAME)", catalog.LibraryPresets(), out);
  if (catalog.roots().empty()) {
    out << "no preset directories found; set GRIDPROBE_PRESETS_DIR\n";
  } else {
    out << "searched: " << absl::StrJoin(catalog.roots(), ", ") << "\n";
  }
  return 0;
}

int PresetsShow(const std::string& name, const PresetCatalog& catalog, std::ostream& out,
                std::ostream& err) {
  if (!IsPresetPath(name) && !catalog.FindBudgetPreset(name).has_value()) {
    if (std::optional<std::string> library = catalog.FindLibraryPreset(name)) {
      absl::StatusOr<std::string> text = config::ReadDocument(*library);
      if (!text.ok()) return Fail(text.status(), err);
      out << "# library preset '" << name << "' from " << *library << "\n" << *text;
      return 0;
    }
  }
  absl::StatusOr<BudgetSet> set = LoadBudgetSet(name, catalog);
  if (!set.ok()) return Fail(set.status(), err);
  out << "# budget preset '" << set->name << "' from " << set->source
      << ", with everything it extends resolved\n"
      << set->ToYaml();
  return 0;
}

int PresetsValidate(const std::string& file, const PresetCatalog& catalog, std::ostream& out,
                    std::ostream& err) {
  absl::StatusOr<std::string> text = config::ReadDocument(file);
  if (!text.ok()) return Fail(text.status(), err);
  absl::StatusOr<BudgetSet> set = ParseBudgetSet(*text, file, catalog);
  if (!set.ok()) return Fail(set.status(), err);
  out << file << ": ok: budget preset '" << set->name << "', " << set->operations.size()
      << (set->operations.size() == 1 ? " operation" : " operations") << " with own budgets\n";
  return 0;
}

int BudgetsCheck(const std::string& report_path, const std::string& budgets, int64_t min_calls,
                 bool json, const PresetCatalog& catalog, std::ostream& out, std::ostream& err) {
  absl::StatusOr<BudgetSet> set = LoadBudgetSet(budgets, catalog);
  if (!set.ok()) return Fail(set.status(), err);
  absl::StatusOr<std::string> text = config::ReadDocument(report_path);
  if (!text.ok()) return Fail(text.status(), err);
  nlohmann::json report;
  try {
    report = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: x" -> "x"
    if (size_t colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
    return Fail(WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                                 report_path, ":", LineColumn(*text, e.byte == 0 ? 0 : e.byte - 1),
                                 ": invalid JSON: ", what)),
                             ExitCode::kBadInput),
                err);
  }
  EvaluatorOptions options;
  options.min_calls = min_calls;
  LineSink lines(out);
  std::ostringstream discard;
  LineSink quiet(discard);
  absl::StatusOr<CheckResult> result =
      CheckReport(report, *std::move(set), options, json ? static_cast<FindingSink&>(quiet) : lines);
  if (!result.ok()) {
    return Fail(Annotate(result.status(), report_path), err);
  }
  const bool failed = result->worst >= Severity::kError;
  if (json) {
    out << result->budgets.dump(2) << "\n";
  } else {
    const size_t violations = result->budgets["violations"].size();
    out << "budgets check: " << (failed ? "FAILED" : "passed") << ": " << violations
        << (violations == 1 ? " violation" : " violations")
        << " (worst: " << SeverityName(result->worst) << ") of budget preset '"
        << result->budgets["preset"].get<std::string>() << "'; " << result->judged << " of "
        << result->operations << " operations judged (others have no budget or fewer than "
        << min_calls << " calls)\n";
  }
  return failed ? static_cast<int>(ExitCode::kFailure) : 0;
}

void AddBudgetCommands(CLI::App& app, int* exit_code) {
  CLI::App* presets = app.add_subcommand("presets", "List, show and validate presets");
  presets->require_subcommand(1);

  presets->add_subcommand("list", "List the library and budget presets found")
      ->callback([exit_code] { *exit_code = PresetsList(PresetCatalog::Default(), std::cout); });

  // Option values live in the callbacks, which live as long as `app`.
  auto show_name = std::make_shared<std::string>();
  CLI::App* show = presets->add_subcommand("show", "Print a budget preset fully resolved");
  show->add_option("NAME", *show_name, "preset name or file")->required();
  show->callback([exit_code, show_name] {
    *exit_code = PresetsShow(*show_name, PresetCatalog::Default(), std::cout, std::cerr);
  });

  auto validate_file = std::make_shared<std::string>();
  CLI::App* validate = presets->add_subcommand("validate", "Check a custom budget preset file");
  validate->add_option("FILE", *validate_file, "budget preset file")->required();
  validate->callback([exit_code, validate_file] {
    *exit_code = PresetsValidate(*validate_file, PresetCatalog::Default(), std::cout, std::cerr);
  });

  struct CheckArgs {
    std::string report;
    std::string budgets;
    int64_t min_calls = EvaluatorOptions().min_calls;
    bool json = false;
  };
  auto args = std::make_shared<CheckArgs>();
  CLI::App* budgets = app.add_subcommand("budgets", "Judge recorded profiles against budgets");
  budgets->require_subcommand(1);
  CLI::App* check = budgets->add_subcommand(
      "check", "Judge a saved JSON report; exits 1 on an error or critical violation");
  check->add_option("REPORT", args->report, "report written by gridprobe (JSON)")->required();
  check->add_option("--budgets", args->budgets, "budget preset name or file")->required();
  check->add_option("--min-calls", args->min_calls, "operations with fewer calls are not judged")
      ->check(CLI::NonNegativeNumber);
  check->add_flag("--json", args->json, "print the report's budgets section as JSON");
  check->callback([exit_code, args] {
    *exit_code = BudgetsCheck(args->report, args->budgets, args->min_calls, args->json,
                              PresetCatalog::Default(), std::cout, std::cerr);
  });
}

}  // namespace gridprobe::budgets
