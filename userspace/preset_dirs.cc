#include "userspace/preset_dirs.h"

#include <unistd.h>

#include <cstdlib>

namespace gridprobe {

std::vector<std::string> PresetSearchDirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("GRIDPROBE_PRESETS_DIR"); env != nullptr && *env) {
    dirs.push_back(env);
  }
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    std::string path(exe, static_cast<size_t>(n));
    dirs.push_back(path.substr(0, path.rfind('/')) + "/../share/gridprobe/presets");
  }
  dirs.push_back(GRIDPROBE_SOURCE_PRESETS_DIR);
  return dirs;
}

}  // namespace gridprobe
