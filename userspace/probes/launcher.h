// Starts a program for `gridprobe run`, held at its entry point so that
// probes go in before any of its own code runs.
#ifndef GRIDPROBE_USERSPACE_PROBES_LAUNCHER_H_
#define GRIDPROBE_USERSPACE_PROBES_LAUNCHER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gridprobe {

// A child process stopped at the first instruction of its executable (the
// ELF entry point, AT_ENTRY): the dynamic loader has mapped every library the
// program links, so its mappings can be resolved as for any running process,
// and neither main() nor the program's own static constructors have run.
// Libraries' constructors have run. Held with ptrace until Resume(); if
// gridprobe dies before that, the kernel kills the child (PTRACE_O_EXITKILL).
class LaunchedProcess {
 public:
  // Runs argv[0] (searched in PATH when it has no '/'). Errors: the program
  // cannot be found (kNotFound) or run (kPermission), or it exited before
  // its entry point (kFailure).
  static absl::StatusOr<LaunchedProcess> Start(const std::vector<std::string>& argv);

  LaunchedProcess(LaunchedProcess&& other) noexcept;
  LaunchedProcess& operator=(LaunchedProcess&&) = delete;
  // A child never resumed is killed and reaped.
  ~LaunchedProcess();

  int pid() const { return pid_; }

  // Lets the program run from its entry point, no longer traced.
  absl::Status Resume();

  // Waits for the program to end, once; returns its wait status.
  // REQUIRES: Resume() succeeded.
  absl::StatusOr<int> Wait();
  // The wait status if the program has ended (reaping it), nullopt while it
  // runs. REQUIRES: Resume() succeeded.
  absl::StatusOr<std::optional<int>> TryWait();

 private:
  explicit LaunchedProcess(int pid) : pid_(pid) {}

  int pid_ = -1;
  bool resumed_ = false;
  bool reaped_ = false;
};

// "exited with status 3", "was killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int status);

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_PROBES_LAUNCHER_H_
