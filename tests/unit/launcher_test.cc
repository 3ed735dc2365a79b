// gridprobe run's launcher: a real child held at its entry point. ptrace of
// one's own child needs no privileges.
#include "userspace/probes/launcher.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "base/status.h"

namespace gridprobe {
namespace {

std::string ReadProc(int pid, const char* file) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The state letter of /proc/PID/stat: it follows the last ')'.
char State(int pid) {
  std::string stat = ReadProc(pid, "stat");
  size_t close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? '?' : stat[close + 2];
}

TEST(LauncherTest, HoldsTheProgramAtItsEntryWithItsLibrariesMapped) {
  absl::StatusOr<LaunchedProcess> child =
      LaunchedProcess::Start({"sh", "-c", "exit 7"});  // found in PATH
  ASSERT_TRUE(child.ok()) << child.status();
  // Stopped under ptrace, with libc already mapped by the dynamic loader.
  EXPECT_EQ(State(child->pid()), 't');
  EXPECT_NE(ReadProc(child->pid(), "maps").find("libc.so.6"), std::string::npos);
  // Its entry point holds the original code again, not the breakpoint.
  ASSERT_TRUE(child->Resume().ok());
  absl::StatusOr<int> status = child->Wait();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 7);
  EXPECT_EQ(DescribeWaitStatus(*status), "exited with status 7");
}

TEST(LauncherTest, AChildNeverResumedIsKilledNotLeftStopped) {
  int pid = 0;
  {
    absl::StatusOr<LaunchedProcess> child = LaunchedProcess::Start({"/bin/sleep", "60"});
    ASSERT_TRUE(child.ok()) << child.status();
    pid = child->pid();
  }
  EXPECT_NE(kill(pid, 0), 0) << "pid " << pid << " survived its launcher";
}

TEST(LauncherTest, ProgramsThatCannotRunAreNamedWithTheirExitCode) {
  absl::StatusOr<LaunchedProcess> missing = LaunchedProcess::Start({"/nonexistent/program"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(ExitCodeOf(missing.status()), ExitCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "cannot run '/nonexistent/program': No such file or directory");

  const std::string text = ::testing::TempDir() + "/launcher-not-executable";
  std::ofstream(text) << "not a program\n";
  chmod(text.c_str(), 0644);
  absl::StatusOr<LaunchedProcess> not_executable = LaunchedProcess::Start({text});
  ASSERT_FALSE(not_executable.ok());
  EXPECT_EQ(ExitCodeOf(not_executable.status()), ExitCode::kPermission);

  absl::StatusOr<LaunchedProcess> nothing = LaunchedProcess::Start({});
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(ExitCodeOf(nothing.status()), ExitCode::kUsage);
}

TEST(LauncherTest, DescribesDeathBySignal) {
  absl::StatusOr<LaunchedProcess> child = LaunchedProcess::Start({"/bin/sleep", "60"});
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_TRUE(child->Resume().ok());
  kill(child->pid(), SIGKILL);
  absl::StatusOr<int> status = child->Wait();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(DescribeWaitStatus(*status), "was killed by signal 9 (Killed)");
}

// What `gridprobe run` asks when the profile ends early: still running, or
// ended (reaped once, with its status).
TEST(LauncherTest, TryWaitTellsARunningProgramFromAnEndedOne) {
  absl::StatusOr<LaunchedProcess> child = LaunchedProcess::Start({"/bin/sleep", "60"});
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_TRUE(child->Resume().ok());
  absl::StatusOr<std::optional<int>> running = child->TryWait();
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_FALSE(running->has_value());
  kill(child->pid(), SIGTERM);
  std::optional<int> ended;
  for (int i = 0; i < 500 && !ended; ++i) {
    absl::StatusOr<std::optional<int>> polled = child->TryWait();
    ASSERT_TRUE(polled.ok()) << polled.status();
    ended = *polled;
    if (!ended) usleep(10000);
  }
  ASSERT_TRUE(ended.has_value()) << "not reaped within 5 s";
  EXPECT_EQ(DescribeWaitStatus(*ended), "was killed by signal 15 (Terminated)");
  EXPECT_FALSE(child->TryWait().ok()) << "reaped twice";
}

}  // namespace
}  // namespace gridprobe
