// Feeds arbitrary bytes to the two YAML readers users write for: the
// configuration file and budget presets. Any input must give a value or a
// one-line positioned error, never a crash, hang or leak.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "userspace/presets/budget_preset.h"
#include "userspace/cli/config.h"

namespace {

gridprobe::config::EnvLookup FakeEnv() {
  return [](absl::string_view name) -> std::optional<std::string> {
    if (name == "HOME") return "/home/fuzz";
    return std::nullopt;
  };
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* catalog = new gridprobe::budgets::PresetCatalog({GRIDPROBE_FUZZ_PRESETS_DIR});
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<gridprobe::config::Config> config =
      gridprobe::config::ParseConfig(text, "/fuzz/gridprobe.yaml", *catalog, FakeEnv());
  if (!config.ok() && config.status().message().find('\n') != absl::string_view::npos) {
    __builtin_trap();  // errors are one line
  }
  absl::StatusOr<gridprobe::budgets::BudgetSet> set =
      gridprobe::budgets::ParseBudgetSet(text, "/fuzz/preset.yaml", *catalog);
  if (set.ok()) {
    // What `presets show` prints must read back.
    absl::StatusOr<gridprobe::budgets::BudgetSet> again =
        gridprobe::budgets::ParseBudgetSet(set->ToYaml(), "/fuzz/preset.yaml", *catalog);
    if (!again.ok()) __builtin_trap();
  }
  return 0;
}
