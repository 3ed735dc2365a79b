// Feeds arbitrary bytes to the library preset reader (presets/libraries/*.yaml
// and any file given with --preset), then matches what it read the way the
// resolver does. Any input must give a preset or a one-line positioned error,
// never a crash, hang or leak.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_file.h"
#include "symbols/library_preset.h"
#include "symbols/names.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<gridprobe::symbols::LibraryPreset> preset =
      gridprobe::symbols::ParseLibraryPreset(text, "/fuzz/preset.yaml");
  if (!preset.ok()) {
    gridprobe::fuzz::CheckOneLine(preset.status().message());
    if (preset.status().message().rfind("/fuzz/preset.yaml:", 0) != 0) __builtin_trap();
    return 0;
  }
  if (preset->name.empty() || preset->match.empty() || preset->operations.empty()) {
    __builtin_trap();
  }
  for (const std::string& glob : preset->match) {
    gridprobe::symbols::GlobMatch(glob, "libgridkit.so.1");
  }
  for (const gridprobe::symbols::OperationSpec& op : preset->operations) {
    if (op.symbols.empty()) __builtin_trap();
    for (const std::string& pattern : op.symbols) {
      gridprobe::symbols::SymbolMatches(pattern, "_ZN7gridkit4Grid4sortEv",
                                        "gridkit::Grid::sort(std::vector<int, std::allocator<int> >&)");
      gridprobe::symbols::SymbolMatches(pattern, "sqlite3_exec", "sqlite3_exec");
    }
  }
  absl::Status together = gridprobe::symbols::CheckPresetsTogether({*preset, *preset}, 64);
  if (together.ok()) __builtin_trap();  // the same preset twice
  gridprobe::fuzz::CheckOneLine(together.message());
  return 0;
}
