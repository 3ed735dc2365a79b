#include "userspace/probes/launcher.h"

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"

namespace gridprobe {
namespace {

absl::StatusOr<uint64_t> EntryPoint(int pid) {
  std::ifstream auxv(absl::StrCat("/proc/", pid, "/auxv"), std::ios::binary);
  uint64_t pair[2];
  while (auxv.read(reinterpret_cast<char*>(pair), sizeof(pair))) {
    if (pair[0] == AT_ENTRY) return pair[1];
    if (pair[0] == AT_NULL) break;
  }
  return WithExitCode(
      absl::InternalError(absl::StrCat("process ", pid, " has no entry point in its auxv")),
      ExitCode::kFailure);
}

// Waits for the traced child's next stop; signals other than SIGTRAP are
// passed on to it. Fails when the child ends instead.
absl::Status WaitForTrap(int pid, const std::string& program, const char* before) {
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) return ErrnoError(errno, "wait for " + program, ExitCode::kFailure);
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      return WithExitCode(absl::AbortedError(absl::StrCat("'", program, "' ",
                                                          DescribeWaitStatus(status), " ",
                                                          before)),
                          ExitCode::kFailure);
    }
    if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP) return absl::OkStatus();
    int sig = WIFSTOPPED(status) ? WSTOPSIG(status) : 0;
    if (ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(static_cast<intptr_t>(sig))) !=
        0) {
      return ErrnoError(errno, "continue " + program, ExitCode::kFailure);
    }
  }
}

}  // namespace

absl::StatusOr<LaunchedProcess> LaunchedProcess::Start(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0].empty()) {
    return WithExitCode(absl::InvalidArgumentError("no program to run: give it after '--'"),
                        ExitCode::kUsage);
  }
  const std::string& program = argv[0];
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return ErrnoError(errno, "create a pipe", ExitCode::kFailure);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) return ErrnoError(errno, "fork", ExitCode::kFailure);
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    close(report[0]);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) == 0) execvp(args[0], args.data());
    int err = errno;
    (void)!write(report[1], &err, sizeof(err));
    _exit(127);
  }
  close(report[1]);
  LaunchedProcess child(pid);
  int err = 0;
  ssize_t n = read(report[0], &err, sizeof(err));
  close(report[0]);
  if (n == static_cast<ssize_t>(sizeof(err))) {
    waitpid(pid, nullptr, 0);
    child.reaped_ = true;
    ExitCode code = err == ENOENT ? ExitCode::kNotFound
                    : err == EACCES || err == EPERM ? ExitCode::kPermission
                                                    : ExitCode::kFailure;
    return WithExitCode(absl::FailedPreconditionError(
                            absl::StrCat("cannot run '", program, "': ", strerror(err))),
                        code);
  }
  // The exec stop: the new image is loaded, the dynamic loader has not run.
  GP_RETURN_IF_ERROR(WaitForTrap(pid, program, "before it started"));
  if (ptrace(PTRACE_SETOPTIONS, pid, nullptr, reinterpret_cast<void*>(PTRACE_O_EXITKILL)) != 0) {
    return ErrnoError(errno, "trace " + program, ExitCode::kFailure);
  }
  GP_ASSIGN_OR_RETURN(uint64_t entry, EntryPoint(pid));
  errno = 0;
  long word = ptrace(PTRACE_PEEKTEXT, pid, reinterpret_cast<void*>(entry), nullptr);
  if (errno != 0) return ErrnoError(errno, "read the entry point of " + program, ExitCode::kFailure);
  long trap = static_cast<long>((static_cast<unsigned long>(word) & ~0xffUL) | 0xccUL);
  if (ptrace(PTRACE_POKETEXT, pid, reinterpret_cast<void*>(entry), reinterpret_cast<void*>(trap)) !=
          0 ||
      ptrace(PTRACE_CONT, pid, nullptr, nullptr) != 0) {
    return ErrnoError(errno, "stop " + program + " at its entry point", ExitCode::kFailure);
  }
  GP_RETURN_IF_ERROR(WaitForTrap(pid, program, "before its entry point"));
  user_regs_struct regs;
  if (ptrace(PTRACE_GETREGS, pid, nullptr, &regs) != 0) {
    return ErrnoError(errno, "read the registers of " + program, ExitCode::kFailure);
  }
  if (regs.rip != entry + 1) {
    return WithExitCode(absl::InternalError(absl::StrCat(
                            "'", program, "' stopped at 0x", absl::Hex(regs.rip),
                            ", not at its entry point 0x", absl::Hex(entry))),
                        ExitCode::kFailure);
  }
  regs.rip = entry;
  if (ptrace(PTRACE_POKETEXT, pid, reinterpret_cast<void*>(entry), reinterpret_cast<void*>(word)) !=
          0 ||
      ptrace(PTRACE_SETREGS, pid, nullptr, &regs) != 0) {
    return ErrnoError(errno, "restore the entry point of " + program, ExitCode::kFailure);
  }
  return child;
}

LaunchedProcess::LaunchedProcess(LaunchedProcess&& other) noexcept
    : pid_(other.pid_), resumed_(other.resumed_), reaped_(other.reaped_) {
  other.pid_ = -1;
}

LaunchedProcess::~LaunchedProcess() {
  if (pid_ <= 0 || reaped_ || resumed_) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

absl::Status LaunchedProcess::Resume() {
  if (ptrace(PTRACE_DETACH, pid_, nullptr, nullptr) != 0) {
    return ErrnoError(errno, absl::StrCat("let process ", pid_, " run"), ExitCode::kFailure);
  }
  resumed_ = true;
  return absl::OkStatus();
}

absl::StatusOr<int> LaunchedProcess::Wait() {
  int status = 0;
  if (reaped_) {
    return WithExitCode(absl::FailedPreconditionError("process already reaped"),
                        ExitCode::kFailure);
  }
  while (waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoError(errno, absl::StrCat("wait for process ", pid_), ExitCode::kFailure);
  }
  reaped_ = true;
  return status;
}

absl::StatusOr<std::optional<int>> LaunchedProcess::TryWait() {
  if (reaped_) {
    return WithExitCode(absl::FailedPreconditionError("process already reaped"),
                        ExitCode::kFailure);
  }
  int status = 0;
  pid_t got;
  while ((got = waitpid(pid_, &status, WNOHANG)) < 0) {
    if (errno != EINTR) {
      return ErrnoError(errno, absl::StrCat("wait for process ", pid_), ExitCode::kFailure);
    }
  }
  if (got == 0) return std::optional<int>();
  reaped_ = true;
  return std::optional<int>(status);
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("was killed by signal ", WTERMSIG(status), " (",
                        strsignal(WTERMSIG(status)), ")");
  }
  return absl::StrCat("changed state (wait status ", status, ")");
}

}  // namespace gridprobe
