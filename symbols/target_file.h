// Opening the files a target process names (its mapped modules, their debug
// files) without letting the target's symlinks take gridprobe, which runs as
// root on the host, outside the target's root.
#ifndef GRIDPROBE_SYMBOLS_TARGET_FILE_H_
#define GRIDPROBE_SYMBOLS_TARGET_FILE_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace gridprobe::symbols {

// Splits a path of the shape HostPathOf makes for a file in a target's root,
// "PROC/PID/root/REST", into {"PROC/PID/root", "/REST"}; {"", ""} for any
// other path.
std::pair<std::string, std::string> SplitTargetRoot(const std::string& path);

// Opens regular file `path` (relative to `root`, or absolute meaning `root`'s
// "/") read-only, resolved as if `root` were "/": absolute symlinks and ".."
// stay inside it, procfs magic links (a container's /proc/self/root) are
// refused (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS). Anything but a
// regular file (a FIFO, a device) is refused before it is opened for reading.
// Returns the descriptor (O_CLOEXEC), which the caller closes. Errors name both
// paths: kNotFound, kPermission, kKernelUnsupported without openat2, else
// kFailure.
absl::StatusOr<int> OpenInRoot(const std::string& root, const std::string& path);

// Opens `path` for reading as above: inside the target's root when
// SplitTargetRoot recognizes it, else as it is (a path the user gave, or
// /proc/PID/map_files/..., whose magic link the kernel itself resolves to the
// mapped file). Regular files only.
absl::StatusOr<int> OpenForReading(const std::string& path);

}  // namespace gridprobe::symbols

#endif  // GRIDPROBE_SYMBOLS_TARGET_FILE_H_
