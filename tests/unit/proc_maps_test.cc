#include "symbols/proc_maps.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/status.h"

namespace gridprobe::symbols {
namespace {

TEST(ParseMaps, ReadsEveryField) {
  auto maps = ParseMaps(
      "55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 1234   /usr/bin/demo\n"
      "7f00aa000000-7f00aa100000 r-xp 0001c000 08:01 99     /opt/my lib/libgridkit.so.1\n"
      "7f00bb000000-7f00bb001000 r-xp 00002000 00:1f 777    /tmp/libx.so (deleted)\n"
      "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0      [stack]\n"
      "7ffd00030000-7ffd00031000 rw-p 00000000 00:00 0\n"
      "garbage line\n");
  ASSERT_EQ(maps.size(), 5u);
  EXPECT_EQ(maps[0].start, 0x55d0c0a00000u);
  EXPECT_EQ(maps[0].path, "/usr/bin/demo");
  EXPECT_FALSE(maps[0].executable());
  EXPECT_EQ(maps[1].file_offset, 0x1c000u);
  EXPECT_EQ(maps[1].path, "/opt/my lib/libgridkit.so.1");
  EXPECT_TRUE(maps[1].executable());
  EXPECT_EQ(maps[1].inode, 99u);
  EXPECT_EQ(maps[1].dev, makedev(8, 1));
  EXPECT_EQ(maps[2].dev, makedev(0, 0x1f));
  EXPECT_TRUE(maps[2].deleted);
  EXPECT_EQ(maps[2].path, "/tmp/libx.so");
  EXPECT_EQ(maps[3].path, "[stack]");
  EXPECT_EQ(maps[4].path, "");
}

TEST(ParseMaps, SkipsALineWithABadDevice) {
  EXPECT_TRUE(ParseMaps("1000-2000 r-xp 00000000 zz:01 5 /lib/x.so\n").empty());
  EXPECT_TRUE(ParseMaps("1000-2000 r-xp 00000000 0801 5 /lib/x.so\n").empty());
  EXPECT_TRUE(ParseMaps("1000-2000 r-xp 00000000 1000:01 5 /lib/x.so\n").empty());
}

// The file gridprobe opened must be the one mapped: same device and inode.
TEST(CheckMappedFile, RefusesAnotherFile) {
  Mapping m;
  m.path = "/usr/lib/libgridkit.so.1";
  m.dev = makedev(0xfe, 0);
  m.inode = 1234;
  EXPECT_TRUE(CheckMappedFile(42, m, "/proc/42/root/usr/lib/libgridkit.so.1", makedev(0xfe, 0),
                              1234)
                  .ok());
  absl::Status st =
      CheckMappedFile(42, m, "/proc/42/root/usr/lib/libgridkit.so.1", makedev(0xfe, 0), 99);
  EXPECT_EQ(st.message(),
            "process 42 maps /usr/lib/libgridkit.so.1 (device fe:0, inode 1234), but "
            "/proc/42/root/usr/lib/libgridkit.so.1 is another file (device fe:0, inode 99): it "
            "was replaced, or a directory on its path swapped, since the process mapped it; "
            "gridprobe does not probe a file the process may not run");
  EXPECT_FALSE(CheckMappedFile(42, m, "p", makedev(8, 1), 1234).ok());
}

// On this machine's filesystem the maps line and fstat agree on every file
// this process maps.
TEST(ReadMaps, DeviceAndInodeAreTheFilesOwn) {
  auto maps = ReadMaps(getpid());
  ASSERT_TRUE(maps.ok()) << maps.status();
  size_t checked = 0;
  for (const Mapping& m : *maps) {
    if (m.inode == 0 || m.deleted || m.path.empty() || m.path[0] != '/') continue;
    struct stat st;
    if (stat(m.path.c_str(), &st) != 0) continue;
    EXPECT_TRUE(CheckMappedFile(getpid(), m, m.path, st.st_dev, st.st_ino).ok()) << m.path;
    ++checked;
  }
  EXPECT_GT(checked, 2u);
}

TEST(HostPathOf, GoesThroughTheTargetsRootOrMapFiles) {
  Mapping m;
  m.start = 0x1000;
  m.end = 0x2000;
  m.path = "/usr/lib/libgridkit.so";
  EXPECT_EQ(HostPathOf(42, m), "/proc/42/root/usr/lib/libgridkit.so");
  m.deleted = true;
  EXPECT_EQ(HostPathOf(42, m), "/proc/42/map_files/1000-2000");
}

TEST(ReadMaps, NoSuchProcessIsNotFound) {
  auto maps = ReadMaps(1, "/nonexistent-proc");
  ASSERT_FALSE(maps.ok());
  EXPECT_EQ(ExitCodeOf(maps.status()), ExitCode::kNotFound);
  EXPECT_EQ(maps.status().message(), "no process with pid 1");
}

TEST(ReadMaps, OwnProcessMapsThisTestBinary) {
  auto maps = ReadMaps(getpid());
  ASSERT_TRUE(maps.ok()) << maps.status();
  bool found = false;
  for (const Mapping& m : *maps) found |= m.executable() && m.path.find("proc_maps_test") != std::string::npos;
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace gridprobe::symbols
