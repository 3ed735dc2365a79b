#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "absl/cleanup/cleanup.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace gridprobe {
namespace {

struct Parts {
  std::string dir;   // "." when the path has no '/'
  std::string name;  // the last component
};

Parts Split(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

absl::Status Failed(int err, const std::string& what, const std::string& path) {
  return ErrnoError(err, absl::StrCat(what, " ", path), ExitCode::kOutputFailed);
}

// Opens the directory `path` would be created in, and refuses one where
// other users could swap files under gridprobe.
absl::StatusOr<int> OpenParent(const std::string& path, const std::string& what,
                               std::string* name) {
  Parts parts = Split(path);
  if (parts.name.empty() || parts.name == "." || parts.name == "..") {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            what, " ", path, ": names a directory, not a file; give a file name")),
                        ExitCode::kOutputFailed);
  }
  int dir = open(parts.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    int err = errno;
    return WithExitCode(
        absl::NotFoundError(absl::StrCat(
            what, " ", path, ": cannot open its directory ", parts.dir, " (", strerror(err),
            "); create it or choose another path")),
        ExitCode::kOutputFailed);
  }
  struct stat st;
  if (fstat(dir, &st) != 0) {
    int err = errno;
    close(dir);
    return Failed(err, what, path);
  }
  if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
    close(dir);
    return WithExitCode(
        absl::PermissionDeniedError(absl::StrCat(
            what, " ", path, ": its directory ", parts.dir,
            " is writable by every user and has no sticky bit, so another user could replace "
            "the file; choose a directory only root can write")),
        ExitCode::kOutputFailed);
  }
  *name = parts.name;
  return dir;
}

// Creates a fresh temporary file beside `name` in `dir`: never an existing
// file or link.
absl::StatusOr<int> CreateTemp(int dir, const std::string& name, int mode, std::string* tmp,
                               const std::string& what, const std::string& path) {
  std::random_device rd;
  for (int attempt = 0; attempt < 16; ++attempt) {
    *tmp = absl::StrCat(".", name, ".tmp.", getpid(), ".", rd() % 1000000);
    int fd = openat(dir, tmp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    mode);
    if (fd >= 0) {
      fchmod(fd, mode);  // umask must not loosen or tighten the documented mode
      return fd;
    }
    if (errno != EEXIST) return Failed(errno, absl::StrCat("write ", what), path);
  }
  return Failed(EEXIST, absl::StrCat("write ", what), path);
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, const std::string& content, int mode) {
  std::string name;
  GP_ASSIGN_OR_RETURN(int dir, OpenParent(path, "write", &name));
  absl::Cleanup close_dir = [dir] { close(dir); };
  std::string tmp;
  GP_ASSIGN_OR_RETURN(int fd, CreateTemp(dir, name, mode, &tmp, "", path));
  auto fail = [&](int err) {
    if (fd >= 0) close(fd);
    unlinkat(dir, tmp.c_str(), 0);
    return Failed(err, "write", path);
  };
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno);
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) return fail(errno);
  int closed = close(fd);
  fd = -1;
  if (closed != 0) return fail(errno);
  if (renameat(dir, tmp.c_str(), dir, name.c_str()) != 0) return fail(errno);
  return absl::OkStatus();
}

absl::Status CheckOutputPath(const std::string& path, const std::string& what) {
  std::string name;
  GP_ASSIGN_OR_RETURN(int dir, OpenParent(path, what, &name));
  absl::Cleanup close_dir = [dir] { close(dir); };
  struct stat st;
  if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrCat(
                            what, " ", path, " is a directory; give a file name")),
                        ExitCode::kOutputFailed);
  }
  std::string tmp;
  absl::StatusOr<int> fd = CreateTemp(dir, name, 0600, &tmp, what, path);
  if (!fd.ok()) {
    return WithExitCode(absl::PermissionDeniedError(absl::StrCat(
                            fd.status().message(), "; choose a path gridprobe can write")),
                        ExitCode::kOutputFailed);
  }
  close(*fd);
  unlinkat(dir, tmp.c_str(), 0);
  return absl::OkStatus();
}

absl::StatusOr<int> OpenForAppend(const std::string& path, const std::string& what, int mode) {
  std::string name;
  GP_ASSIGN_OR_RETURN(int dir, OpenParent(path, what, &name));
  absl::Cleanup close_dir = [dir] { close(dir); };
  int fd = openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
                  mode);
  if (fd < 0) {
    int err = errno;
    return WithExitCode(
        absl::PermissionDeniedError(absl::StrCat(what, " ", path, ": ", strerror(err),
                                                 err == ELOOP ? " (it is a symbolic link)" : "",
                                                 "; choose a path gridprobe can write")),
        ExitCode::kOutputFailed);
  }
  return fd;
}

}  // namespace gridprobe
