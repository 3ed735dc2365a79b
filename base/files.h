// Writing the files gridprobe produces as root, in directories other users
// may share, without following anything they planted there.
#ifndef GRIDPROBE_BASE_FILES_H_
#define GRIDPROBE_BASE_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gridprobe {

// Writes `content` to `path` so that a reader sees the old file or the whole
// new one, never a part. The temporary file is created next to `path`
// relative to the opened directory with O_CREAT|O_EXCL|O_NOFOLLOW (a link or
// file planted under its name is never opened), given `mode`, fsynced and
// renamed over `path` (a link at `path` is replaced, not followed).
// Refuses a directory that anyone may write to unless it has the sticky bit.
// Errors carry ExitCode::kOutputFailed and name the path.
absl::Status WriteFileAtomically(const std::string& path, const std::string& content,
                                 int mode = 0644);

// Checks, before any work, that WriteFileAtomically(path, ...) can succeed:
// the directory exists, is a directory, is writable (a temporary file is
// created and removed) and is not world-writable without the sticky bit.
// `what` names the output in the message ("--report-json").
absl::Status CheckOutputPath(const std::string& path, const std::string& what);

// Opens `path` for appending (created with `mode` if absent, O_NOFOLLOW),
// after the same directory checks. Returns the file descriptor.
absl::StatusOr<int> OpenForAppend(const std::string& path, const std::string& what,
                                  int mode = 0644);

}  // namespace gridprobe

#endif  // GRIDPROBE_BASE_FILES_H_
