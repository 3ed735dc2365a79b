#include "symbols/target_file.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace gridprobe::symbols {
namespace {

ExitCode CodeOf(int err) {
  return err == ENOENT || err == ENOTDIR ? ExitCode::kNotFound
         : err == EACCES || err == EPERM ? ExitCode::kPermission
                                         : ExitCode::kFailure;
}

// Reopens an O_PATH descriptor of a regular file for reading, through our
// own /proc/self/fd (the only magic link followed, and it is ours).
absl::StatusOr<int> ReopenRegular(int path_fd, const std::string& what) {
  struct stat st;
  if (fstat(path_fd, &st) != 0) {
    int err = errno;
    close(path_fd);
    return ErrnoError(err, absl::StrCat("stat ", what), CodeOf(err));
  }
  if (!S_ISREG(st.st_mode)) {
    close(path_fd);
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            what, " is not a regular file; gridprobe reads only regular files")),
                        ExitCode::kBadInput);
  }
  const std::string self = absl::StrCat("/proc/self/fd/", path_fd);
  int fd = open(self.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  int err = errno;
  close(path_fd);
  if (fd < 0) return ErrnoError(err, absl::StrCat("open ", what), CodeOf(err));
  return fd;
}

}  // namespace

std::pair<std::string, std::string> SplitTargetRoot(const std::string& path) {
  constexpr std::string_view kRoot = "/root/";
  for (size_t at = path.find(kRoot); at != std::string::npos; at = path.find(kRoot, at + 1)) {
    size_t start = path.rfind('/', at == 0 ? 0 : at - 1);
    if (start == std::string::npos || start + 1 >= at) continue;
    std::string_view pid(path.data() + start + 1, at - start - 1);
    bool digits = true;
    for (char c : pid) digits &= absl::ascii_isdigit(static_cast<unsigned char>(c));
    if (!digits) continue;
    return {path.substr(0, at + kRoot.size() - 1), path.substr(at + kRoot.size() - 1)};
  }
  return {"", ""};
}

absl::StatusOr<int> OpenInRoot(const std::string& root, const std::string& path) {
  const std::string what = absl::StrCat(path, " inside ", root);
  int root_fd = open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    int err = errno;
    return ErrnoError(err, absl::StrCat("open ", root), CodeOf(err));
  }
  open_how how;
  std::memset(&how, 0, sizeof(how));
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd;
  // EAGAIN: a rename raced the lookup, which the kernel refuses to guess about.
  int tries = 0;
  do {
    fd = syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof(how));
  } while (fd < 0 && (errno == EAGAIN || errno == EINTR) && ++tries < 16);
  int err = errno;
  close(root_fd);
  if (fd < 0) {
    if (err == ENOSYS) {
      return WithExitCode(
          absl::FailedPreconditionError(absl::StrCat(
              "open ", what, ": this kernel has no openat2 (Linux 5.6 or later), without "
              "which gridprobe cannot read a target's files without following its symlinks "
              "out of its root")),
          ExitCode::kKernelUnsupported);
    }
    if (err == ELOOP) {
      return WithExitCode(
          absl::PermissionDeniedError(absl::StrCat(
              "open ", what, ": the path goes through a magic link (/proc/.../root, fd, exe) "
              "or too many symlinks; gridprobe does not follow them out of the target's root")),
          ExitCode::kPermission);
    }
    return ErrnoError(err, absl::StrCat("open ", what), CodeOf(err));
  }
  return ReopenRegular(static_cast<int>(fd), what);
}

absl::StatusOr<int> OpenForReading(const std::string& path) {
  auto [root, rest] = SplitTargetRoot(path);
  if (!root.empty()) return OpenInRoot(root, rest);
  int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return ErrnoError(err, absl::StrCat("open ", path), CodeOf(err));
  }
  return ReopenRegular(fd, path);
}

}  // namespace gridprobe::symbols
