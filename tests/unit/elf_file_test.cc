// ElfFile on files whose sizes lie: every size read from the file is bounded
// by what the file (and the section) holds, and a bad one is a clean error.
#include "symbols/elf_file.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "base/status.h"
#include "symbols/resolver.h"

namespace gridprobe::symbols {
namespace {

namespace fs = std::filesystem;

const EntryPolicy kPolicy = {{"push", "jcc", "jmp", "call", "nop"}, {}};

// A copy of c_target in which .symtab's `symbol` claims `size` bytes.
std::string WithSymbolSize(const std::string& symbol, uint64_t size) {
  const std::string out = ::testing::TempDir() + "/gridprobe-size-" + std::to_string(getpid()) +
                          "-" + std::to_string(size);
  fs::copy_file(C_TARGET_BIN, out, fs::copy_options::overwrite_existing);
  elf_version(EV_CURRENT);
  int fd = open(out.c_str(), O_RDWR | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  Elf* elf = elf_begin(fd, ELF_C_READ, nullptr);
  off_t at = -1;
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr && at < 0;
       scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr || sh.sh_type != SHT_SYMTAB) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; ++i) {
      GElf_Sym sym;
      gelf_getsym(data, static_cast<int>(i), &sym);
      if (symbol == elf_strptr(elf, sh.sh_link, sym.st_name)) {
        at = static_cast<off_t>(sh.sh_offset + i * sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_size));
        break;
      }
    }
  }
  elf_end(elf);
  EXPECT_GE(at, 0) << symbol << " not in .symtab";
  EXPECT_EQ(pwrite(fd, &size, sizeof(size), at), static_cast<ssize_t>(sizeof(size)));
  close(fd);
  return out;
}

LibraryPreset Preset(const std::string& symbol) {
  LibraryPreset p;
  p.name = "t";
  p.match = {"*"};
  p.operations = {{"op", {symbol}, "userVisible"}};
  return p;
}

// st_size = 2^40 made ReadAt allocate a terabyte: std::bad_alloc, exit 134.
// 3 GiB on a 25 kB file cost 3 GiB of memory. 4 kB runs past .text.
TEST(ElfFile, ASymbolSizeBeyondTheFileIsACleanError) {
  for (uint64_t size : {uint64_t{1} << 40, uint64_t{3} << 30, uint64_t{1} << 63, uint64_t{4096}}) {
    SCOPED_TRACE(size);
    const std::string path = WithSymbolSize("c_leaf", size);
    auto m = ResolveInFile(Preset("c_leaf"), path, path, kPolicy, {});
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(ExitCodeOf(m.status()), ExitCode::kBadInput) << m.status();
    EXPECT_EQ(m.status().message().rfind(path + ": symbol c_leaf", 0), 0u) << m.status();
    EXPECT_NE(m.status().message().find(std::to_string(size)), absl::string_view::npos)
        << m.status();
    EXPECT_EQ(m.status().message().find('\n'), absl::string_view::npos);
    fs::remove(path);
  }
}

// A function that calls a damaged one is still resolved: the callee cannot
// be analyzed, which makes the caller safe, not an error.
TEST(ElfFile, ADamagedCalleeMakesTheCallerSafe) {
  const std::string path = WithSymbolSize("c_leaf", uint64_t{1} << 40);
  auto m = ResolveInFile(Preset("c_work"), path, path, kPolicy, {});
  ASSERT_TRUE(m.ok()) << m.status();
  const ReturnDecision& ret = m->ops.at(0).symbols.at(0).ret;
  EXPECT_EQ(ret.mode, ReturnMode::kSafe) << ret.why;
  EXPECT_NE(ret.why.find("c_leaf"), std::string::npos) << ret.why;
  fs::remove(path);
}

TEST(ElfFile, ReadAtStaysInsideTheSegmentAndTheFile) {
  auto elf = ElfFile::Open(C_TARGET_BIN);
  ASSERT_TRUE(elf.ok()) << elf.status();
  const ElfSymbol* leaf = nullptr;
  for (const ElfSymbol& s : (*elf)->functions()) {
    if (s.name == "c_leaf") leaf = &s;
  }
  ASSERT_NE(leaf, nullptr);
  auto ok = (*elf)->ReadAt(leaf->vaddr, leaf->size);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->size(), leaf->size);
  auto huge = (*elf)->ReadAt(leaf->vaddr, uint64_t{1} << 40);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(ExitCodeOf(huge.status()), ExitCode::kBadInput);
  EXPECT_EQ(huge.status().message().rfind(std::string(C_TARGET_BIN) + ": ", 0), 0u)
      << huge.status();
}

}  // namespace
}  // namespace gridprobe::symbols
