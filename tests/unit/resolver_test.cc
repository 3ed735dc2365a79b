// The resolver on real binaries built by this project (a PIE executable and a
// shared library) and on Debian's libc.
#include "symbols/resolver.h"

#include <gtest/gtest.h>

#include "base/status.h"
#include "symbols/elf_file.h"

namespace gridprobe::symbols {
namespace {

const EntryPolicy kPolicy = {{"push", "jcc", "jmp", "call", "nop"}, {}};

LibraryPreset Preset(std::vector<OperationSpec> ops) {
  LibraryPreset p;
  p.name = "t";
  p.match = {"*"};
  p.operations = std::move(ops);
  return p;
}

TEST(Resolver, PieExecutableWithCxxNames) {
  auto m = ResolveInFile(Preset({{"leaf", {"target::Leaf"}, "userVisible"},
                                 {"recurse", {"target::Re*"}, "background"},
                                 {"outer", {"target::Outer"}, "userVisible"},
                                 {"middle", {"target::Middle"}, "userVisible"}}),
                         PROBE_TARGET_BIN, PROBE_TARGET_BIN, kPolicy);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->ops.size(), 4u);
  const ResolvedSymbol& leaf = m->ops[0].symbols.at(0);
  EXPECT_EQ(leaf.demangled, "target::Leaf(long)");
  EXPECT_EQ(leaf.mangled, "_ZN6target4LeafEl");
  // A leaf without a frame has no emulated instruction before its ret: +0.
  EXPECT_EQ(leaf.entry.vaddr, leaf.vaddr);
  EXPECT_FALSE(leaf.entry_emulated);
  // Outer: endbr64; test rdi,rdi; jle ... -> the jle (test writes only flags).
  const ResolvedSymbol& outer = m->ops[2].symbols.at(0);
  EXPECT_EQ(outer.entry.vaddr, outer.vaddr + 7);
  EXPECT_EQ(outer.entry.insn.substr(0, 3), "jle");
  EXPECT_TRUE(outer.entry_emulated);
  // Middle: endbr64; push rbp -> the push.
  const ResolvedSymbol& middle = m->ops[3].symbols.at(0);
  EXPECT_EQ(middle.entry.vaddr, middle.vaddr + 4);
  EXPECT_EQ(middle.entry.insn, "push rbp");
  EXPECT_FALSE(leaf.exits.empty());
  // In a PIE's text segment file offset and address coincide.
  auto elf = ElfFile::Open(PROBE_TARGET_BIN);
  ASSERT_TRUE(elf.ok());
  EXPECT_TRUE((*elf)->is_shared_or_pie());
  auto off = (*elf)->FileOffset(leaf.entry.vaddr);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(leaf.entry.file_offset, *off);
  EXPECT_EQ(m->ops[1].symbols.at(0).demangled, "target::Recurse(long)");
}

TEST(Resolver, SharedLibraryOffsetsComeFromTheLoadSegment) {
  auto elf = ElfFile::Open(GRIDKIT_LIB);
  ASSERT_TRUE(elf.ok()) << elf.status();
  auto m = ResolveInFile(Preset({{"sort", {"gridkit::Grid::sort"}, "userVisible"}}), GRIDKIT_LIB,
                         GRIDKIT_LIB, kPolicy);
  ASSERT_TRUE(m.ok()) << m.status();
  const ResolvedSymbol& s = m->ops[0].symbols.at(0);
  bool in_exec_segment = false;
  for (const LoadSegment& seg : (*elf)->segments()) {
    if (seg.executable && s.vaddr >= seg.vaddr && s.vaddr < seg.vaddr + seg.filesz) {
      in_exec_segment = true;
      EXPECT_EQ(s.entry.file_offset, s.entry.vaddr - seg.vaddr + seg.offset);
    }
  }
  EXPECT_TRUE(in_exec_segment);
  auto bytes = (*elf)->ReadAt(s.vaddr, 4);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, (std::vector<uint8_t>{0xf3, 0x0f, 0x1e, 0xfa}));  // endbr64
}

TEST(Resolver, MissingSymbolNamesOperationPatternAndNearNames) {
  auto m = ResolveInFile(Preset({{"sort", {"gridkit::Grid::sortt"}, "userVisible"}}), GRIDKIT_LIB,
                         GRIDKIT_LIB, kPolicy);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(ExitCodeOf(m.status()), ExitCode::kSymbolNotFound);
  EXPECT_NE(m.status().message().find("operation 'sort': no function matches "
                                      "'gridkit::Grid::sortt'"),
            absl::string_view::npos);
  EXPECT_NE(m.status().message().find("similar: gridkit::Grid::sort("), absl::string_view::npos)
      << m.status();
}

TEST(Resolver, DebiansLibcAllocatorFamily) {
  auto m = ResolveInFile(Preset({{"malloc", {"malloc"}, "background"},
                                 {"free", {"free"}, "background"}}),
                         "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", kPolicy);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->has_symtab);  // Debian strips libc: dynamic symbols only
  EXPECT_FALSE(m->ops[0].symbols.at(0).exits.empty());
}

// The shipped presets for libraries nobody here wrote, on Debian's own files.
TEST(Resolver, ShippedPresetsResolveInDebiansLibraries) {
  const std::vector<std::string> dirs = {GRIDPROBE_SOURCE_PRESETS_DIR};
  struct Case {
    const char* preset;
    const char* file;
    size_t ops;
  };
  for (const Case& c : {Case{"sqlite", "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0", 5},
                        Case{"glibc-malloc", "/lib/x86_64-linux-gnu/libc.so.6", 5}}) {
    absl::StatusOr<LibraryPreset> preset = LoadLibraryPreset(c.preset, dirs);
    ASSERT_TRUE(preset.ok()) << preset.status();
    auto m = ResolveInFile(*preset, c.file, c.file, kPolicy);
    ASSERT_TRUE(m.ok()) << c.preset << ": " << m.status();
    ASSERT_EQ(m->ops.size(), c.ops) << c.preset;
    for (const ResolvedOperation& op : m->ops) {
      ASSERT_FALSE(op.symbols.empty()) << c.preset << " " << op.name;
      for (const ResolvedSymbol& sym : op.symbols) {
        EXPECT_FALSE(sym.exits.empty()) << sym.demangled;  // every one can be timed
        EXPECT_GE(sym.entry.vaddr, sym.vaddr) << sym.demangled;
        EXPECT_LT(sym.entry.vaddr, sym.vaddr + sym.size) << sym.demangled;
      }
    }
  }
}

TEST(Resolver, NotAnElfFile) {
  auto m = ResolveInFile(Preset({{"x", {"x"}, "userVisible"}}), "/etc/hostname", "/etc/hostname", kPolicy);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(ExitCodeOf(m.status()), ExitCode::kBadInput);
  EXPECT_EQ(m.status().message(), "/etc/hostname is not an ELF file");
}

}  // namespace
}  // namespace gridprobe::symbols
