// The budget commands of the gridprobe command line:
//   gridprobe presets list
//   gridprobe presets show NAME
//   gridprobe presets validate FILE
//   gridprobe budgets check REPORT.json --budgets NAME [--min-calls N] [--json]
#ifndef GRIDPROBE_USERSPACE_CLI_PRESETS_COMMANDS_H_
#define GRIDPROBE_USERSPACE_CLI_PRESETS_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <ostream>
#include <string>

#include "userspace/presets/budget_preset.h"

namespace gridprobe::budgets {

// Registers the commands on `app`. A command's callback stores its exit code
// in *exit_code: 0 ok; 1 the check found an error or critical violation;
// 3 a file could not be read; 8 an invalid preset or report. Problems are
// one line on stderr: "gridprobe: <file>:<line>:<col>: <what>".
// REQUIRES: exit_code outlives app's parsing.
void AddBudgetCommands(CLI::App& app, int* exit_code);

// The commands themselves, returning the exit code; results go to `out`,
// problems to `err`.
int PresetsList(const PresetCatalog& catalog, std::ostream& out);
int PresetsShow(const std::string& name, const PresetCatalog& catalog, std::ostream& out,
                std::ostream& err);
int PresetsValidate(const std::string& file, const PresetCatalog& catalog, std::ostream& out,
                    std::ostream& err);
int BudgetsCheck(const std::string& report_path, const std::string& budgets, int64_t min_calls,
                 bool json, const PresetCatalog& catalog, std::ostream& out, std::ostream& err);

}  // namespace gridprobe::budgets

#endif  // GRIDPROBE_USERSPACE_CLI_PRESETS_COMMANDS_H_
