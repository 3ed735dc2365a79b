// A stripped file's .gnu_debuglink is a name the file's author chose: it must
// never lead gridprobe (root) to a file outside the directories it searches.
#include "symbols/debug_info.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "base/status.h"
#include "symbols/elf_file.h"
#include "symbols/resolver.h"

namespace gridprobe::symbols {
namespace {

namespace fs = std::filesystem;

const EntryPolicy kPolicy = {{"push", "jcc", "jmp", "call", "nop"}, {}};

LibraryPreset LeafPreset() {
  LibraryPreset p;
  p.name = "t";
  p.match = {"*"};
  p.operations = {{"leaf", {"target::Leaf"}, "userVisible"}};
  return p;
}

class Debuglink : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/gridprobe-debuglink-" + std::to_string(getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_ + "/module");
    fs::create_directories(dir_ + "/loot");
    // The real debug file, with the CRC the stripped binary records, placed
    // where a crafted link points: if gridprobe opens it, it takes it.
    fs::copy_file(std::string(STRIPPED_DIR) + "/probe_target.debug",
                  dir_ + "/loot/probe_target.debug");
    fs::create_directories(dir_ + "/module/sub");
    fs::copy_file(std::string(STRIPPED_DIR) + "/probe_target.debug",
                  dir_ + "/module/sub/probe_target.debug");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The debuglink-stripped probe_target, its .gnu_debuglink naming `link`
  // (with the real debug file's CRC), as dir_/module/probe_target.
  std::string ModuleWithDebuglink(const std::string& link) {
    auto original = ElfFile::Open(std::string(STRIPPED_DIR) + "/probe_target.debuglink");
    EXPECT_TRUE(original.ok()) << original.status();
    const uint32_t crc = (*original)->debuglink_crc();
    std::string section = link;
    section.resize((link.size() + 4) & ~size_t{3}, '\0');
    section.append(reinterpret_cast<const char*>(&crc), 4);
    const std::string content = dir_ + "/debuglink.bin";
    std::ofstream(content, std::ios::binary) << section;
    const std::string out = dir_ + "/module/probe_target";
    fs::remove(out);
    const std::string cmd = "objcopy --remove-section=.gnu_debuglink --add-section .gnu_debuglink=" +
                            content + " " + STRIPPED_DIR + "/probe_target.debuglink " + out;
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return out;
  }

  std::string dir_;
};

TEST_F(Debuglink, APlainNameBesideTheFileIsFound) {
  fs::copy_file(std::string(STRIPPED_DIR) + "/probe_target.debug",
                dir_ + "/module/probe_target.debug");
  const std::string module = ModuleWithDebuglink("probe_target.debug");
  auto m = ResolveInFile(LeafPreset(), "/usr/bin/probe_target", module, kPolicy, {});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->debug_file, dir_ + "/module/probe_target.debug");
}

// "../../../../etc/shadow" made gridprobe open and read (and CRC) any file.
TEST_F(Debuglink, ALinkThatClimbsOutIsRefusedUnopened) {
  for (const std::string link : {"../loot/probe_target.debug", "sub/probe_target.debug",
                                 "..", ".", ""}) {
    SCOPED_TRACE("debuglink '" + link + "'");
    const std::string module = ModuleWithDebuglink(link);
    auto m = ResolveInFile(LeafPreset(), "/usr/bin/probe_target", module, kPolicy, {});
    ASSERT_FALSE(m.ok()) << "took the debug file " << m->debug_file;
    EXPECT_EQ(ExitCodeOf(m.status()), ExitCode::kBadInput) << m.status();
    EXPECT_NE(m.status().message().find("/usr/bin/probe_target"), absl::string_view::npos)
        << m.status();
    EXPECT_NE(m.status().message().find(".gnu_debuglink '" + link + "'"),
              absl::string_view::npos)
        << m.status();
    EXPECT_EQ(m.status().message().find('\n'), absl::string_view::npos);
  }
}

// The build-id is looked up first and names no path: a file found by it is
// taken, and the debuglink is never looked at.
TEST_F(Debuglink, ABuildIdDebugFileNeedsNoDebuglink) {
  const std::string module = ModuleWithDebuglink("../loot/probe_target.debug");
  auto elf = ElfFile::Open(module);
  ASSERT_TRUE(elf.ok()) << elf.status();
  const std::string id = (*elf)->build_id();
  ASSERT_GE(id.size(), 16u);
  fs::create_directories(dir_ + "/debug/.build-id/" + id.substr(0, 2));
  const std::string by_id = dir_ + "/debug/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) +
                            ".debug";
  fs::copy_file(std::string(STRIPPED_DIR) + "/probe_target.debug", by_id);
  auto m = ResolveInFile(LeafPreset(), "/usr/bin/probe_target", module, kPolicy,
                         {dir_ + "/debug"});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->debug_file, by_id);
}

}  // namespace
}  // namespace gridprobe::symbols
