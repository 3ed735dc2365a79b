// A library preset: which file is the library, and which of its symbols make
// up each operation. Presets are data (presets/libraries/*.yaml).
#ifndef GRIDPROBE_SYMBOLS_LIBRARY_PRESET_H_
#define GRIDPROBE_SYMBOLS_LIBRARY_PRESET_H_

#include <string>

#include "absl/strings/string_view.h"
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "symbols/return_mode.h"

namespace gridprobe::symbols {

struct OperationSpec {
  std::string name;                  // "sort"
  std::vector<std::string> symbols;  // globs over demangled names, or mangled names
  std::string impact;                // "userVisible" | "background"
  // "return: auto|safe|fast": how returns are timed (symbols/return_mode.h).
  ReturnRequest return_request = ReturnRequest::kAuto;
};

struct LibraryPreset {
  std::string name;
  std::string description;
  std::string source;                 // file it was read from
  std::vector<std::string> match;     // globs over the mapped file's base name
  std::vector<OperationSpec> operations;
};

// Parses preset YAML. Errors read "<filename>:<line>:<col>: <what>" and carry
// exit code kBadInput.
absl::StatusOr<LibraryPreset> ParseLibraryPreset(absl::string_view text,
                                                 const std::string& filename);

// Loads a preset by name (looked up as libraries/NAME.yaml in each of
// `search_dirs`, in order) or by path (NAME contains '/' or ends in .yaml).
absl::StatusOr<LibraryPreset> LoadLibraryPreset(const std::string& name_or_path,
                                                const std::vector<std::string>& search_dirs);

// Checks that `presets` can be profiled in one run, where their operations
// get op ids in order (preset 0's first) and the report, budgets and alerts
// name operations: no preset given twice, no operation name in two presets,
// at most `max_ops` operations in all. Errors are one line, kBadInput.
absl::Status CheckPresetsTogether(const std::vector<LibraryPreset>& presets, size_t max_ops);

}  // namespace gridprobe::symbols

#endif  // GRIDPROBE_SYMBOLS_LIBRARY_PRESET_H_
