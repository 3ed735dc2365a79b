// Files a target process names are read inside its root: a container's
// symlinks must not lead gridprobe (root, on the host) to the host's files,
// and the file read must be the one the target maps.
#include "symbols/target_file.h"

#include <sys/stat.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "absl/strings/str_format.h"
#include "base/status.h"
#include "symbols/elf_file.h"
#include "symbols/resolver.h"

namespace gridprobe::symbols {
namespace {

namespace fs = std::filesystem;

const EntryPolicy kPolicy = {{"push", "jcc", "jmp", "call", "nop"}, {}};
constexpr int kPid = 42;

LibraryPreset Preset(const std::string& match, const std::string& symbol) {
  LibraryPreset p;
  p.name = "t";
  p.match = {match};
  p.operations = {{"op", {symbol}, "userVisible"}};
  return p;
}

// A fake /proc with one process, kPid, whose root is a directory of ours and
// whose maps list the files we say it maps.
class TargetRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::weakly_canonical(::testing::TempDir()).string() + "/gridprobe-root-" +
           std::to_string(getpid());
    fs::remove_all(dir_);
    proc_ = dir_ + "/proc";
    root_ = proc_ + "/" + std::to_string(kPid) + "/root";
    fs::create_directories(root_ + "/usr/lib");
    fs::create_directories(dir_ + "/host");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The maps line of an executable mapping of `path` (as the target names
  // it), with the device and inode of `host_file` (the file it maps).
  void Maps(const std::string& path, const std::string& host_file) {
    struct stat st;
    ASSERT_EQ(stat(host_file.c_str(), &st), 0) << host_file;
    std::ofstream(proc_ + "/" + std::to_string(kPid) + "/maps")
        << absl::StrFormat("7f0000001000-7f0000002000 r-xp 00001000 %02x:%02x %d    %s\n",
                           major(st.st_dev), minor(st.st_dev), st.st_ino, path);
  }

  std::string dir_, proc_, root_;
};

// /usr/lib/libc_target.so -> /<host path>: plain open() followed the
// container's absolute symlink to the host's file.
TEST_F(TargetRoot, AnAbsoluteSymlinkDoesNotLeadToTheHost) {
  const std::string host_only = dir_ + "/host/libc_target.so";
  fs::copy_file(C_TARGET_BIN, host_only);
  fs::create_symlink(host_only, root_ + "/usr/lib/libc_target.so");
  Maps("/usr/lib/libc_target.so", host_only);
  auto m = ResolveInProcess(Preset("libc_target.so", "c_leaf"), kPid, kPolicy, proc_, {});
  ASSERT_FALSE(m.ok()) << "read the host's " << host_only;
  EXPECT_EQ(ExitCodeOf(m.status()), ExitCode::kNotFound) << m.status();
}

// The same symlink resolves where the target sees it: in its root.
TEST_F(TargetRoot, AnAbsoluteSymlinkIsFollowedInsideTheRoot) {
  fs::create_directories(root_ + "/opt/c");
  const std::string real = root_ + "/opt/c/libc_target.so";
  fs::copy_file(C_TARGET_BIN, real);
  fs::create_symlink("/opt/c/libc_target.so", root_ + "/usr/lib/libc_target.so");
  Maps("/usr/lib/libc_target.so", real);
  auto m = ResolveInProcess(Preset("libc_target.so", "c_leaf"), kPid, kPolicy, proc_, {});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->ops.at(0).symbols.size(), 1u);
  // The file resolved, for the check right before attaching.
  struct stat st;
  ASSERT_EQ(stat(real.c_str(), &st), 0);
  EXPECT_EQ(m->file_dev, static_cast<uint64_t>(st.st_dev));
  EXPECT_EQ(m->file_inode, static_cast<uint64_t>(st.st_ino));
}

TEST_F(TargetRoot, DotDotStopsAtTheRoot) {
  std::ofstream(root_ + "/usr/lib/x") << "inside";
  std::ofstream(proc_ + "/" + std::to_string(kPid) + "/usr-lib-x") << "outside";
  absl::StatusOr<int> fd = OpenInRoot(root_, "/../../../usr/lib/x");
  ASSERT_TRUE(fd.ok()) << fd.status();
  char buf[16] = {};
  EXPECT_EQ(pread(*fd, buf, sizeof(buf), 0), 6);
  EXPECT_STREQ(buf, "inside");
  close(*fd);
  fs::create_symlink("../../../../../../usr-lib-x", root_ + "/usr/lib/up");
  EXPECT_FALSE(OpenInRoot(root_, "/usr/lib/up").ok());
}

// A FIFO would block the open (and gridprobe) until someone writes to it; a
// device file could do anything when opened. Neither is opened for reading.
TEST_F(TargetRoot, OnlyRegularFilesAreOpened) {
  ASSERT_EQ(mkfifo((root_ + "/usr/lib/fifo.debug").c_str(), 0600), 0);
  absl::StatusOr<int> fd = OpenForReading(root_ + "/usr/lib/fifo.debug");
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(ExitCodeOf(fd.status()), ExitCode::kBadInput);
  EXPECT_NE(fd.status().message().find("not a regular file"), absl::string_view::npos)
      << fd.status();
  EXPECT_FALSE(OpenForReading("/dev/null").ok());
  EXPECT_FALSE(OpenForReading(root_).ok());
}

TEST(SplitTargetRoot, RecognizesOnlyAPidsRoot) {
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(SplitTargetRoot("/proc/42/root/usr/lib/libc.so.6"),
            P("/proc/42/root", "/usr/lib/libc.so.6"));
  EXPECT_EQ(SplitTargetRoot("/tmp/p/proc/7/root/a/1/root/b"), P("/tmp/p/proc/7/root", "/a/1/root/b"));
  EXPECT_EQ(SplitTargetRoot("/proc/42/map_files/1000-2000"), P("", ""));
  EXPECT_EQ(SplitTargetRoot("/proc/self/root/etc/passwd"), P("", ""));
  EXPECT_EQ(SplitTargetRoot("/home/root/lib.so"), P("", ""));
  EXPECT_EQ(SplitTargetRoot("/root/lib.so"), P("", ""));
  EXPECT_EQ(SplitTargetRoot("42/root/x"), P("", ""));
}

// A file swapped at the mapped path since the target mapped it is another
// file: probes there would land in something the target does not run.
TEST_F(TargetRoot, AFileSwappedSinceMappingIsRefused) {
  const std::string mapped = dir_ + "/host/mapped.so";
  fs::copy_file(C_TARGET_BIN, mapped);
  fs::copy_file(C_TARGET_BIN, root_ + "/usr/lib/libc_target.so");  // another inode
  Maps("/usr/lib/libc_target.so", mapped);
  auto m = ResolveInProcess(Preset("libc_target.so", "c_leaf"), kPid, kPolicy, proc_, {});
  ASSERT_FALSE(m.ok()) << "resolved a file the target does not map";
  EXPECT_NE(m.status().message().find("inode"), absl::string_view::npos) << m.status();
  EXPECT_NE(m.status().message().find("/usr/lib/libc_target.so"), absl::string_view::npos);
  EXPECT_EQ(m.status().message().find('\n'), absl::string_view::npos);
}

// The debug file beside a stripped module is the target's too:
// /usr/lib/probe_target.debug -> /<host path> must not be read.
TEST_F(TargetRoot, ADebugFileSymlinkDoesNotLeadToTheHost) {
  const std::string module = root_ + "/usr/lib/probe_target";
  fs::copy_file(std::string(STRIPPED_DIR) + "/probe_target.debuglink", module);
  const std::string host_debug = dir_ + "/host/probe_target.debug";
  fs::copy_file(std::string(STRIPPED_DIR) + "/probe_target.debug", host_debug);
  fs::create_symlink(host_debug, root_ + "/usr/lib/probe_target.debug");
  Maps("/usr/lib/probe_target", module);
  auto m = ResolveInProcess(Preset("probe_target", "target::Leaf"), kPid, kPolicy, proc_, {});
  ASSERT_FALSE(m.ok()) << "took the host's " << m->debug_file;
  EXPECT_EQ(ExitCodeOf(m.status()), ExitCode::kSymbolNotFound) << m.status();
}

// A root that holds a procfs (a container's /proc) holds magic links that
// lead anywhere: /proc/self/root is the host's root, as gridprobe sees it.
TEST_F(TargetRoot, MagicLinksInsideTheRootAreRefused) {
  fs::remove_all(root_);
  fs::create_symlink("/", root_);  // a root whose /proc is the real one
  Mapping m;
  m.path = "/proc/self/root/etc/hostname";
  const std::string path = HostPathOf(kPid, m, proc_);
  auto elf = ElfFile::Open(path);
  ASSERT_FALSE(elf.ok());
  EXPECT_NE(elf.status().message().find("magic link"), absl::string_view::npos) << elf.status();
}

}  // namespace
}  // namespace gridprobe::symbols
