// gridprobe symbols PID|ELF: which functions and instructions each
// operation resolves to, each function's return mode and why, and what each
// call will cost, before anything is attached.
#ifndef GRIDPROBE_USERSPACE_CLI_SYMBOLS_COMMAND_H_
#define GRIDPROBE_USERSPACE_CLI_SYMBOLS_COMMAND_H_

#include <string>

#include "absl/status/status.h"

namespace gridprobe {

struct SymbolsFlags {
  std::string target;
  std::string preset = "gridkit";
  std::string return_mode = "auto";
  bool i_know_it_can_crash = false;
  std::string debug_dir;
};

absl::Status ExplainSymbols(const SymbolsFlags& flags);

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_CLI_SYMBOLS_COMMAND_H_
