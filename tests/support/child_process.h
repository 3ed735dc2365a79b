// Test support: a real child process with pipes to its stdin and stdout.
#ifndef GRIDPROBE_TESTS_SUPPORT_CHILD_PROCESS_H_
#define GRIDPROBE_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace gridprobe::testing {

class ChildProcess {
 public:
  // Starts argv[0] (a path) with the given arguments. stderr is inherited
  // unless `stderr_path` names a file to send it to.
  explicit ChildProcess(const std::vector<std::string>& argv, const std::string& stderr_path = "");
  ~ChildProcess();  // kills the child if it still runs

  pid_t pid() const { return pid_; }
  // One line of the child's stdout without the newline; "" at EOF or after
  // `timeout_ms`.
  std::string ReadLine(int timeout_ms = 30000);
  // Reads lines until one starts with `prefix`; returns it ("" on timeout).
  std::string WaitForLine(const std::string& prefix, int timeout_ms = 30000);
  void WriteLine(const std::string& line);
  void CloseStdin();
  // Waits for exit; returns the raw wait status, or -1 after `timeout_ms`.
  int Wait(int timeout_ms = 60000);
  void Signal(int sig);

 private:
  pid_t pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  bool reaped_ = false;
};

// Directory of the running test binary.
std::string SelfDir();

}  // namespace gridprobe::testing

// Skips a test that needs root when not root, unless GRIDPROBE_REQUIRE_BPF=1
// asks for it, in which case the missing privilege is a failure.
#define GP_REQUIRE_ROOT()                                                        \
  do {                                                                           \
    if (geteuid() != 0) {                                                        \
      const char* req = getenv("GRIDPROBE_REQUIRE_BPF");                         \
      if (req != nullptr && std::string(req) == "1") {                           \
        FAIL() << "GRIDPROBE_REQUIRE_BPF=1 but this test is not running as root"; \
      }                                                                          \
      GTEST_SKIP() << "needs root to load BPF programs";                         \
    }                                                                            \
  } while (0)

#endif  // GRIDPROBE_TESTS_SUPPORT_CHILD_PROCESS_H_
