// gridprobe: profile a running program's library operations with uprobes.
// main() only registers the commands, runs the one given and turns its
// status into one line on stderr and an exit code (docs/exit-codes.md).
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "userspace/cli/presets_commands.h"
#include "userspace/cli/profile.h"
#include "userspace/cli/report_command.h"
#include "userspace/cli/settings.h"
#include "userspace/cli/symbols_command.h"
#include "userspace/probes/calibration.h"

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

  gridprobe::ReportFlags report_flags;
  gridprobe::AddReportCommands(app, &report_flags, &status);

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
