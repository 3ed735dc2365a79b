#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "base/status.h"

namespace gridprobe {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/files-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)!system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string dir_;
};

TEST_F(FilesTest, ReplacesTheWholeFile) {
  const std::string path = dir_ + "/report.json";
  ASSERT_TRUE(WriteFileAtomically(path, "first version, longer\n").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second\n").ok());
  EXPECT_EQ(Read(path), "second\n");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(FilesTest, ModeIsTheOneAskedForWhateverTheUmask) {
  const std::string path = dir_ + "/outbox";
  mode_t old = umask(0);
  ASSERT_TRUE(WriteFileAtomically(path, "secret\n", 0600).ok());
  umask(old);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(WriteFileAtomically, MissingDirectoryIsAnOutputError) {
  absl::Status st = WriteFileAtomically("/nonexistent-dir/report.json", "x");
  EXPECT_EQ(ExitCodeOf(st), ExitCode::kOutputFailed);
  EXPECT_EQ(st.message(),
            "write /nonexistent-dir/report.json: cannot open its directory /nonexistent-dir (No "
            "such file or directory); create it or choose another path");
}

// The attack of issue 16: a link planted under the temporary name of every
// likely pid must never be followed, and its target never written.
TEST_F(FilesTest, PlantedLinksAreNeverFollowed) {
  const std::string victim = dir_ + "/victim";
  { std::ofstream(victim) << "precious\n"; }
  const std::string path = dir_ + "/report.json";
  // The old writer's name, and the new one's prefix for this pid.
  ASSERT_EQ(symlink(victim.c_str(), (path + ".tmp." + std::to_string(getpid())).c_str()), 0);
  for (int i = 0; i < 1000; ++i) {
    std::string planted =
        dir_ + "/.report.json.tmp." + std::to_string(getpid()) + "." + std::to_string(i);
    ASSERT_EQ(symlink(victim.c_str(), planted.c_str()), 0);
  }
  ASSERT_TRUE(WriteFileAtomically(path, "report\n").ok());
  EXPECT_EQ(Read(victim), "precious\n");
  EXPECT_EQ(Read(path), "report\n");
}

TEST_F(FilesTest, ALinkAtThePathIsReplacedNotFollowed) {
  const std::string victim = dir_ + "/victim";
  { std::ofstream(victim) << "precious\n"; }
  const std::string path = dir_ + "/report.json";
  ASSERT_EQ(symlink(victim.c_str(), path.c_str()), 0);
  ASSERT_TRUE(WriteFileAtomically(path, "report\n").ok());
  EXPECT_EQ(Read(victim), "precious\n");
  struct stat st;
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(FilesTest, WorldWritableDirectoryWithoutStickyBitIsRefused) {
  const std::string shared = dir_ + "/shared";
  ASSERT_EQ(mkdir(shared.c_str(), 0777), 0);
  ASSERT_EQ(chmod(shared.c_str(), 0777), 0);
  absl::Status st = WriteFileAtomically(shared + "/report.json", "x");
  EXPECT_EQ(ExitCodeOf(st), ExitCode::kOutputFailed);
  EXPECT_NE(st.message().find("writable by every user and has no sticky bit"),
            std::string::npos)
      << st.message();
  EXPECT_EQ(ExitCodeOf(CheckOutputPath(shared + "/r.json", "--report-json")),
            ExitCode::kOutputFailed);
  // With the sticky bit (as /tmp has) others cannot replace root's files.
  ASSERT_EQ(chmod(shared.c_str(), 01777), 0);
  EXPECT_TRUE(WriteFileAtomically(shared + "/report.json", "x").ok());
}

TEST_F(FilesTest, CheckOutputPathLeavesNothingBehind) {
  const std::string path = dir_ + "/report.json";
  ASSERT_TRUE(CheckOutputPath(path, "--report-json").ok());
  EXPECT_NE(access(path.c_str(), F_OK), 0);
  EXPECT_EQ(system(("test -z \"$(ls -A '" + dir_ + "')\"").c_str()), 0);
}

TEST_F(FilesTest, CheckOutputPathNamesTheFlag) {
  absl::Status st = CheckOutputPath("/nonexistent/dir/r.json", "--report-json");
  EXPECT_EQ(ExitCodeOf(st), ExitCode::kOutputFailed);
  EXPECT_EQ(st.message(),
            "--report-json /nonexistent/dir/r.json: cannot open its directory /nonexistent/dir "
            "(No such file or directory); create it or choose another path");
  st = CheckOutputPath(dir_, "--report-json");
  EXPECT_EQ(ExitCodeOf(st), ExitCode::kOutputFailed);
}

TEST_F(FilesTest, AppendRefusesALink) {
  const std::string victim = dir_ + "/victim";
  { std::ofstream(victim) << "precious\n"; }
  const std::string path = dir_ + "/events.jsonl";
  ASSERT_EQ(symlink(victim.c_str(), path.c_str()), 0);
  absl::StatusOr<int> fd = OpenForAppend(path, "--events-jsonl");
  EXPECT_FALSE(fd.ok());
  EXPECT_EQ(ExitCodeOf(fd.status()), ExitCode::kOutputFailed);
  EXPECT_NE(fd.status().message().find("symbolic link"), std::string::npos);
}

}  // namespace
}  // namespace gridprobe
