// Where presets are found.
#ifndef GRIDPROBE_USERSPACE_PRESET_DIRS_H_
#define GRIDPROBE_USERSPACE_PRESET_DIRS_H_

#include <string>
#include <vector>

namespace gridprobe {

// Roots that hold libraries/ and budgets/, in lookup order:
// $GRIDPROBE_PRESETS_DIR, <executable dir>/../share/gridprobe/presets, and
// the source tree's presets/ this binary was built from.
std::vector<std::string> PresetSearchDirs();

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_PRESET_DIRS_H_
