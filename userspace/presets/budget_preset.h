// Budget presets: YAML files that set budgets and may extend other presets.
// Built-in ones live in presets/budgets/; any file path works too.
#ifndef GRIDPROBE_USERSPACE_PRESETS_BUDGET_PRESET_H_
#define GRIDPROBE_USERSPACE_PRESETS_BUDGET_PRESET_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "userspace/analyzers/budgets/budget_set.h"

namespace gridprobe::budgets {

// Preset roots, each holding budgets/ and libraries/, in lookup order:
// $GRIDPROBE_PRESETS_DIR, <executable's dir>/../share/gridprobe/presets, and
// the source tree's presets/ (baked in at build time). Only existing
// directories are returned; a name is looked up in each in turn.
std::vector<std::string> PresetSearchPath();

// True when `name` is a file path rather than a preset name: it contains a
// '/' or ends in ".yaml".
bool IsPresetPath(absl::string_view name);

struct PresetInfo {
  std::string name;
  std::string description;
  std::string path;
};

// Finds built-in presets by name under a list of roots.
class PresetCatalog {
 public:
  explicit PresetCatalog(std::vector<std::string> roots);
  // The catalog over PresetSearchPath().
  static PresetCatalog Default();

  const std::vector<std::string>& roots() const { return roots_; }

  // Presets in <root>/budgets/ (or libraries/), sorted by name; a preset in
  // an earlier root hides one of the same name in a later root.
  std::vector<PresetInfo> BudgetPresets() const;
  std::vector<PresetInfo> LibraryPresets() const;
  // <root>/budgets/NAME.yaml (libraries/NAME.yaml) in the first root that has it.
  std::optional<std::string> FindBudgetPreset(absl::string_view name) const;
  std::optional<std::string> FindLibraryPreset(absl::string_view name) const;

  // "unknown budget preset 'x'; did you mean 'y'? (known: a, b)".
  std::string UnknownBudgetPreset(absl::string_view name) const;

 private:
  std::vector<PresetInfo> List(absl::string_view kind) const;
  std::optional<std::string> Find(absl::string_view kind, absl::string_view name) const;

  std::vector<std::string> roots_;
};

// Loads a preset by name from `catalog`, or by path, and resolves its
// `extends` chain into one set. Errors: "<file>:<line>:<col>: <what>"
// tagged ExitCode::kBadInput; an unknown name is kBadInput too; a file that
// cannot be read is ExitCode::kNotFound.
absl::StatusOr<BudgetSet> LoadBudgetSet(absl::string_view name_or_path,
                                        const PresetCatalog& catalog);

// The same for a preset whose text is at hand. `filename` is used in
// messages and to find files it extends by relative path.
absl::StatusOr<BudgetSet> ParseBudgetSet(absl::string_view text, const std::string& filename,
                                         const PresetCatalog& catalog);

}  // namespace gridprobe::budgets

#endif  // GRIDPROBE_USERSPACE_PRESETS_BUDGET_PRESET_H_
