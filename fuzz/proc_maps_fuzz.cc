// Feeds arbitrary text to the /proc/PID/maps parser and what is built on its
// result: paths into the target's root, the preset's library, the mapped-file
// check. Never a crash; a mapping's path always reads back from HostPathOf.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_file.h"
#include "symbols/proc_maps.h"
#include "symbols/resolver.h"
#include "symbols/target_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gridprobe::symbols::LibraryPreset* preset = [] {
    auto* p = new gridprobe::symbols::LibraryPreset;
    p->name = "fuzz";
    p->match = {"libgridkit.so*", "*c*"};
    return p;
  }();
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<gridprobe::symbols::Mapping> maps = gridprobe::symbols::ParseMaps(text);
  for (const gridprobe::symbols::Mapping& m : maps) {
    const std::string host = gridprobe::symbols::HostPathOf(42, m);
    if (!m.deleted && !m.path.empty() && m.path[0] == '/') {
      auto [root, rest] = gridprobe::symbols::SplitTargetRoot(host);
      if (root != "/proc/42/root" || rest != m.path) __builtin_trap();
    }
    absl::Status st = gridprobe::symbols::CheckMappedFile(42, m, host, 1, 2);
    if (!st.ok()) gridprobe::fuzz::CheckOneLine(st.message());
    if (m.path.find('\n') != std::string::npos) __builtin_trap();
  }
  const gridprobe::symbols::Mapping* found = gridprobe::symbols::FindPresetLibrary(*preset, maps);
  if (found != nullptr && (found->path.empty() || found->path[0] != '/')) __builtin_trap();
  return 0;
}
