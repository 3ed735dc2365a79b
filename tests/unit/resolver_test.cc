// The resolver on real binaries built by this project (PIE and non-PIE
// executables, shared libraries, unusual segment layouts) and on Debian's libc.
#include "symbols/resolver.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include <algorithm>

#include "base/status.h"
#include "symbols/elf_file.h"
#include "symbols/proc_maps.h"
#include "tests/support/child_process.h"

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

// The first symbol of operation `op`.
const ResolvedSymbol& Only(const ResolvedModule& m, size_t op) {
  return m.ops.at(op).symbols.at(0);
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

// File offsets checked without the resolver's arithmetic: objdump computes
// them from the section headers (the resolver reads the program headers), and
// the bytes the file holds there must be the code the site names.
const std::vector<uint8_t> kEndbr64 = {0xf3, 0x0f, 0x1e, 0xfa};

// The file offset of `vaddr` per `objdump -h`; 0 when no section holds it.
uint64_t ObjdumpFileOffset(const std::string& path, uint64_t vaddr) {
  FILE* p = popen(("objdump -h '" + path + "'").c_str(), "r");
  if (p == nullptr) return 0;
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  pclose(p);
  std::istringstream lines(out);
  uint64_t found = 0;
  // "  12 .text  000106fc  0000000050003410  0000000050003410  00003410  2**4"
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    int idx;
    std::string name;
    uint64_t size, vma, lma, off;
    if (!(f >> idx >> name >> std::hex >> size >> vma >> lma >> off)) continue;
    if (vaddr >= vma && vaddr < vma + size) found = off + (vaddr - vma);
  }
  return found;
}

std::vector<uint8_t> FileBytes(const std::string& path, uint64_t offset, size_t n) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::vector<uint8_t> bytes(n);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(n));
  bytes.resize(static_cast<size_t>(in.gcount()));
  return bytes;
}

// Every site of `sym` is where objdump puts its address, the function's
// start there holds endbr64 (-fcf-protection) and each ret site a ret.
void ExpectOffsetsMatchTheFile(const std::string& path, const ResolvedSymbol& sym) {
  EXPECT_EQ(sym.entry.file_offset, ObjdumpFileOffset(path, sym.entry.vaddr)) << sym.demangled;
  EXPECT_EQ(FileBytes(path, sym.entry.file_offset - (sym.entry.vaddr - sym.vaddr), 4), kEndbr64)
      << sym.demangled;
  ASSERT_FALSE(sym.exits.empty()) << sym.demangled;
  for (const ResolvedSite& exit : sym.exits) {
    EXPECT_EQ(exit.file_offset, ObjdumpFileOffset(path, exit.vaddr)) << sym.demangled;
    if (exit.insn == "ret") {
      EXPECT_EQ(FileBytes(path, exit.file_offset, 1), std::vector<uint8_t>{0xc3})
          << sym.demangled << " at 0x" << std::hex << exit.vaddr;
    }
  }
}

// The PT_LOAD segment holding `vaddr`: its p_vaddr - p_offset tells the layout.
LoadSegment SegmentOf(const ElfFile& elf, uint64_t vaddr) {
  for (const LoadSegment& seg : elf.segments()) {
    if (vaddr >= seg.vaddr && vaddr < seg.vaddr + seg.filesz) return seg;
  }
  return {};
}

std::string BaseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

const std::vector<OperationSpec> kCOps = {{"work", {"c_work"}, "userVisible"},
                                          {"apply", {"c_apply"}, "userVisible"},
                                          {"recurse", {"c_recurse"}, "userVisible"},
                                          {"sort", {"c_sort"}, "userVisible"},
                                          {"leaf", {"c_leaf"}, "userVisible"}};

// c_target in three layouts; what p_vaddr - p_offset of its text segment is.
struct Layout {
  const char* path;
  bool pie;
  uint64_t text_delta;  // 0: the PIE default; 1: anything but 0 and 0x400000
};
const Layout kLayouts[] = {{C_TARGET_BIN, true, 0},
                           {C_TARGET_NOPIE_BIN, false, 0x400000},
                           {C_TARGET_MOVED_TEXT_BIN, true, 1}};

TEST(FileOffsets, RightInPieNonPieAndMovedTextExecutables) {
  for (const Layout& layout : kLayouts) {
    SCOPED_TRACE(layout.path);
    auto elf = ElfFile::Open(layout.path);
    ASSERT_TRUE(elf.ok()) << elf.status();
    auto m = ResolveInFile(Preset(kCOps), layout.path, layout.path, kPolicy);
    ASSERT_TRUE(m.ok()) << m.status();
    // The binary is laid out as this case says, or the test proves nothing.
    EXPECT_EQ((*elf)->is_shared_or_pie(), layout.pie);
    const LoadSegment text = SegmentOf(**elf, Only(*m, 0).vaddr);
    ASSERT_TRUE(text.executable);
    if (layout.text_delta == 1) {
      EXPECT_NE(text.vaddr - text.offset, 0u);
      EXPECT_NE(text.vaddr - text.offset, 0x400000u);
    } else {
      EXPECT_EQ(text.vaddr - text.offset, layout.text_delta);
    }
    for (size_t op = 0; op < kCOps.size(); ++op) {
      ExpectOffsetsMatchTheFile(layout.path, Only(*m, op));
    }
  }
}

TEST(FileOffsets, RightInAPrelinkedSharedLibrary) {
  auto elf = ElfFile::Open(GRIDKIT_PRELINKED_LIB);
  ASSERT_TRUE(elf.ok()) << elf.status();
  EXPECT_TRUE((*elf)->is_shared_or_pie());
  EXPECT_EQ((*elf)->segments().at(0).vaddr, 0x50000000u);
  auto preset = LoadLibraryPreset(GRIDPROBE_SOURCE_DIR "/presets/libraries/gridkit.yaml", {});
  ASSERT_TRUE(preset.ok()) << preset.status();
  auto m = ResolveInFile(*preset, GRIDKIT_PRELINKED_LIB, GRIDKIT_PRELINKED_LIB, kPolicy);
  ASSERT_TRUE(m.ok()) << m.status();
  size_t symbols = 0;
  for (const ResolvedOperation& op : m->ops) {
    for (const ResolvedSymbol& sym : op.symbols) {
      ++symbols;
      EXPECT_EQ(SegmentOf(**elf, sym.vaddr).vaddr - SegmentOf(**elf, sym.vaddr).offset,
                0x50000000u);
      ExpectOffsetsMatchTheFile(GRIDKIT_PRELINKED_LIB, sym);
    }
  }
  EXPECT_GE(symbols, 6u);
}

// Where the kernel puts a uprobe at (file, offset) in a running process: in
// every executable mapping of the file that holds that offset, at start +
// offset - its offset. One of those must be the function's own address
// (link-time address plus load bias). A page shared by two segments (moved
// .text) is mapped twice; the other copy must be padding outside every
// segment, never run.
void ExpectUprobesLandOnTheFunctions(int pid, const ResolvedModule& m, const ElfFile& elf) {
  auto maps = ReadMaps(pid);
  ASSERT_TRUE(maps.ok()) << maps.status();
  // The load bias: where the file's first page went, minus where it was linked.
  uint64_t bias = 0;
  bool have_bias = false;
  for (const Mapping& map : *maps) {
    if (map.path == m.path && map.file_offset == 0 && !have_bias) {
      bias = map.start - (elf.segments().at(0).vaddr & ~uint64_t{0xfff});
      have_bias = true;
    }
  }
  ASSERT_TRUE(have_bias) << m.path << " is not mapped by " << pid;
  if (!elf.is_shared_or_pie()) {
    EXPECT_EQ(bias, 0u);
  }
  auto expect_lands = [&](const ResolvedSite& site) {
    size_t on_site = 0;
    for (const Mapping& map : *maps) {
      if (map.path != m.path || !map.executable() || site.file_offset < map.file_offset ||
          site.file_offset >= map.file_offset + (map.end - map.start)) {
        continue;
      }
      const uint64_t linked = map.start + (site.file_offset - map.file_offset) - bias;
      if (linked == site.vaddr) {
        ++on_site;
        continue;
      }
      for (const LoadSegment& seg : elf.segments()) {
        EXPECT_FALSE(linked >= seg.vaddr && linked < seg.vaddr + seg.filesz)
            << std::hex << "site 0x" << site.vaddr << " also lands on code at 0x" << linked;
      }
    }
    EXPECT_EQ(on_site, 1u) << std::hex << "site 0x" << site.vaddr << " at offset 0x"
                           << site.file_offset;
  };
  for (const ResolvedOperation& op : m.ops) {
    for (const ResolvedSymbol& sym : op.symbols) {
      expect_lands(sym.entry);
      for (const ResolvedSite& exit : sym.exits) expect_lands(exit);
    }
  }
}

TEST(FileOffsets, UprobesLandOnTheFunctionsInRunningExecutables) {
  for (const Layout& layout : kLayouts) {
    SCOPED_TRACE(layout.path);
    gridprobe::testing::ChildProcess child({layout.path, "threads", "1"});
    ASSERT_EQ(child.WaitForLine("ready").rfind("ready", 0), 0u);
    LibraryPreset preset = Preset(kCOps);
    preset.match = {BaseName(layout.path)};
    auto m = ResolveInProcess(preset, child.pid(), kPolicy);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->path, std::filesystem::canonical(layout.path).string());
    auto elf = ElfFile::Open(layout.path);
    ASSERT_TRUE(elf.ok()) << elf.status();
    ExpectUprobesLandOnTheFunctions(child.pid(), *m, **elf);
  }
}

// A child process that dlopen()s `path`, and with `twice` loads it again into
// a new link-map namespace (dlmopen), so that one file is mapped at two
// addresses, as in a process with isolated plugin namespaces. Killed on
// destruction.
class LoadingChild {
 public:
  LoadingChild(const std::string& path, bool twice) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      bool ok = dlopen(path.c_str(), RTLD_NOW) != nullptr &&
                (!twice || dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW) != nullptr);
      char c = ok ? 'y' : 'n';
      if (write(fds[1], &c, 1) == 1) pause();
      _exit(0);
    }
    close(fds[1]);
    char c = 0;
    loaded_ = pid_ > 0 && read(fds[0], &c, 1) == 1 && c == 'y';
    close(fds[0]);
  }
  ~LoadingChild() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  LoadingChild(const LoadingChild&) = delete;
  LoadingChild& operator=(const LoadingChild&) = delete;

  pid_t pid() const { return pid_; }
  bool loaded() const { return loaded_; }

 private:
  pid_t pid_ = -1;
  bool loaded_ = false;
};

// Whether this process may follow /proc/PID/map_files links (CAP_SYS_ADMIN or
// CAP_CHECKPOINT_RESTORE), tried on one of its own mappings.
bool CanFollowMapFiles() {
  DIR* dir = opendir("/proc/self/map_files");
  if (dir == nullptr) return false;
  bool can = false;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    int fd = open((std::string("/proc/self/map_files/") + e->d_name).c_str(), O_RDONLY);
    can = fd >= 0;
    if (fd >= 0) close(fd);
    break;
  }
  closedir(dir);
  return can;
}

LibraryPreset GridkitPreset() {
  auto preset = LoadLibraryPreset(GRIDPROBE_SOURCE_DIR "/presets/libraries/gridkit.yaml", {});
  EXPECT_TRUE(preset.ok()) << preset.status();
  return preset.ok() ? *preset : LibraryPreset{};
}

// Every site's file offset in `got` is the one resolving the file itself gives.
void ExpectSameSites(const ResolvedModule& got, const ResolvedModule& want) {
  ASSERT_EQ(got.ops.size(), want.ops.size());
  for (size_t op = 0; op < got.ops.size(); ++op) {
    ASSERT_EQ(got.ops[op].symbols.size(), want.ops[op].symbols.size()) << got.ops[op].name;
    for (size_t i = 0; i < got.ops[op].symbols.size(); ++i) {
      const ResolvedSymbol& g = got.ops[op].symbols[i];
      const ResolvedSymbol& w = want.ops[op].symbols[i];
      EXPECT_EQ(g.demangled, w.demangled);
      EXPECT_EQ(g.entry.file_offset, w.entry.file_offset) << g.demangled;
      ASSERT_EQ(g.exits.size(), w.exits.size()) << g.demangled;
      for (size_t e = 0; e < g.exits.size(); ++e) {
        EXPECT_EQ(g.exits[e].file_offset, w.exits[e].file_offset) << g.demangled;
      }
    }
  }
}

// One file mapped twice is one (inode, offset) per site: a uprobe there fires
// in both copies. Each copy holds the function's code at its mapped address.
TEST(ResolveInProcess, ALibraryMappedTwiceIsOneFileToProbe) {
  const std::string lib = std::filesystem::canonical(GRIDKIT_LIB).string();
  LoadingChild child(lib, /*twice=*/true);
  ASSERT_TRUE(child.loaded());
  auto maps = ReadMaps(child.pid());
  ASSERT_TRUE(maps.ok()) << maps.status();
  std::vector<Mapping> text;
  for (const Mapping& m : *maps) {
    if (m.path == lib && m.executable()) text.push_back(m);
  }
  ASSERT_EQ(text.size(), 2u) << "dlmopen did not map " << lib << " a second time";
  EXPECT_NE(text[0].start, text[1].start);

  const LibraryPreset preset = GridkitPreset();
  auto m = ResolveInProcess(preset, child.pid(), kPolicy);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->path, lib);
  auto direct = ResolveInFile(preset, lib, lib, kPolicy);
  ASSERT_TRUE(direct.ok()) << direct.status();
  ExpectSameSites(*m, *direct);

  const std::string mem_path = "/proc/" + std::to_string(child.pid()) + "/mem";
  int mem = open(mem_path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(mem, 0) << mem_path;
  for (const ResolvedOperation& op : m->ops) {
    for (const ResolvedSymbol& sym : op.symbols) {
      const uint64_t start = sym.entry.file_offset - (sym.entry.vaddr - sym.vaddr);
      for (const Mapping& copy : text) {
        ASSERT_GE(start, copy.file_offset) << sym.demangled;
        ASSERT_LT(start, copy.file_offset + (copy.end - copy.start)) << sym.demangled;
        std::vector<uint8_t> code(4);
        ASSERT_EQ(pread(mem, code.data(), code.size(),
                        static_cast<off_t>(copy.start + (start - copy.file_offset))),
                  4);
        EXPECT_EQ(code, kEndbr64) << sym.demangled << " in the copy at 0x" << std::hex
                                  << copy.start;
      }
    }
  }
  close(mem);
}

// An upgrade replaces a library under a running process: the process runs the
// deleted file, and the path now names another. gridprobe must read the
// deleted one (through map_files, root) or say in one line why it cannot.
TEST(ResolveInProcess, ALibraryDeletedAfterLoadingIsReadAsLoaded) {
  const std::string dir = ::testing::TempDir() + "/gridprobe-deleted-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string lib = std::filesystem::canonical(dir).string() + "/libgridkit.so.1";
  std::filesystem::copy_file(GRIDKIT_LIB, lib, std::filesystem::copy_options::overwrite_existing);
  LoadingChild child(lib, /*twice=*/false);
  ASSERT_TRUE(child.loaded());
  std::filesystem::remove(lib);
  std::filesystem::copy_file(C_TARGET_BIN, lib);  // another file at the same path

  auto maps = ReadMaps(child.pid());
  ASSERT_TRUE(maps.ok()) << maps.status();
  bool deleted = false;
  for (const Mapping& m : *maps) deleted |= m.path == lib && m.deleted && m.executable();
  ASSERT_TRUE(deleted) << lib << " is not a deleted mapping of " << child.pid();

  const LibraryPreset preset = GridkitPreset();
  auto m = ResolveInProcess(preset, child.pid(), kPolicy);
  if (CanFollowMapFiles()) {
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->path, lib);
    EXPECT_EQ(m->open_path.rfind("/proc/" + std::to_string(child.pid()) + "/map_files/", 0), 0u)
        << m->open_path;
    auto direct = ResolveInFile(preset, GRIDKIT_LIB, GRIDKIT_LIB, kPolicy);
    ASSERT_TRUE(direct.ok()) << direct.status();
    ExpectSameSites(*m, *direct);
  } else {
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(ExitCodeOf(m.status()), ExitCode::kPermission);
    EXPECT_EQ(m.status().message().rfind("process " + std::to_string(child.pid()) + " runs " +
                                             lib + ", which was deleted (or replaced) after it "
                                                   "was loaded",
                                         0),
              0u)
        << m.status();
    EXPECT_NE(m.status().message().find("run gridprobe as root"), absl::string_view::npos);
    EXPECT_EQ(m.status().message().find('\n'), absl::string_view::npos);
  }
  std::filesystem::remove_all(dir);
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
                         "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", kPolicy,
                         {"/nonexistent"});  // not libc6-dbg's symbols, where installed
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->has_symtab);  // Debian strips libc: dynamic symbols only
  EXPECT_FALSE(m->ops[0].symbols.at(0).exits.empty());
  // libc itself defines longjmp and pthread_exit: nothing in it is fast.
  EXPECT_NE(std::find(m->unwind.unwinders.begin(), m->unwind.unwinders.end(), "longjmp"),
            m->unwind.unwinders.end());
  EXPECT_EQ(m->ops[0].symbols.at(0).ret.mode, ReturnMode::kSafe);
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

// Stripped binaries get their symbols back from a separate debug file.
class SeparateDebugInfo : public ::testing::Test {
 protected:
  const std::string dir_ = STRIPPED_DIR;
  const LibraryPreset preset_ = Preset({{"leaf", {"target::Leaf"}, "userVisible"}});

  // A debug directory holding `debug` under `id`'s .build-id path.
  std::string DebugDirWith(const std::string& debug, const std::string& id) {
    const std::string root = ::testing::TempDir() + "/gridprobe-debug-" + std::to_string(getpid());
    const std::string sub = root + "/.build-id/" + id.substr(0, 2);
    std::filesystem::create_directories(sub);
    std::filesystem::copy_file(debug, sub + "/" + id.substr(2) + ".debug",
                               std::filesystem::copy_options::overwrite_existing);
    return root;
  }
};

TEST_F(SeparateDebugInfo, StrippedBinaryHasNoFunctionsOfItsOwn) {
  auto m = ResolveInFile(preset_, "probe_target", dir_ + "/probe_target.buildid", kPolicy,
                         {"/nonexistent"});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(ExitCodeOf(m.status()), ExitCode::kSymbolNotFound);
  EXPECT_NE(m.status().message().find("the file is stripped and no debug file for build-id "),
            absl::string_view::npos)
      << m.status();
  EXPECT_NE(m.status().message().find("give --debug-dir"), absl::string_view::npos);
}

TEST_F(SeparateDebugInfo, FoundBesideTheFileByDebuglink) {
  auto m = ResolveInFile(preset_, "probe_target", dir_ + "/probe_target.debuglink", kPolicy,
                         {"/nonexistent"});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->has_symtab);
  EXPECT_EQ(m->debug_file, dir_ + "/probe_target.debug");
  // The same sites as in the unstripped binary.
  auto full = ResolveInFile(preset_, "probe_target", PROBE_TARGET_BIN, kPolicy);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(m->ops[0].symbols.at(0).entry.file_offset,
            full->ops[0].symbols.at(0).entry.file_offset);
  EXPECT_EQ(m->ops[0].symbols[0].exits.size(), full->ops[0].symbols[0].exits.size());
}

TEST_F(SeparateDebugInfo, FoundInADebugDirByBuildIdAndOnlyIfItMatches) {
  absl::StatusOr<std::unique_ptr<ElfFile>> stripped = ElfFile::Open(dir_ + "/probe_target.buildid");
  ASSERT_TRUE(stripped.ok());
  const std::string id = (*stripped)->build_id();
  ASSERT_GE(id.size(), 16u) << "no build-id note";
  EXPECT_TRUE((*stripped)->debuglink().empty());

  // Another binary's debug file under this build-id is not taken.
  auto wrong = ResolveInFile(preset_, "probe_target", dir_ + "/probe_target.buildid", kPolicy,
                             {DebugDirWith(dir_ + "/c_target.debug", id)});
  EXPECT_FALSE(wrong.ok());

  auto m = ResolveInFile(preset_, "probe_target", dir_ + "/probe_target.buildid", kPolicy,
                         {DebugDirWith(dir_ + "/probe_target.debug", id)});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_NE(m->debug_file.find("/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug"),
            std::string::npos)
      << m->debug_file;
}

TEST(Resolver, NotAnElfFile) {
  auto m = ResolveInFile(Preset({{"x", {"x"}, "userVisible"}}), "/etc/hostname", "/etc/hostname", kPolicy);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(ExitCodeOf(m.status()), ExitCode::kBadInput);
  EXPECT_EQ(m.status().message(), "/etc/hostname is not an ELF file");
}

// The return-mode decision on real binaries: a C program that never unwinds,
// the same kind of program with a longjmp, and C++ with exceptions.

TEST(ReturnModeOnBinaries, CFunctionsCallingFixedCodeAreFast) {
  auto m = ResolveInFile(Preset({{"work", {"c_work"}, "userVisible"},
                                 {"apply", {"c_apply"}, "userVisible"},
                                 {"recurse", {"c_recurse"}, "userVisible"},
                                 {"leaf", {"c_leaf"}, "userVisible"}}),
                         C_TARGET_BIN, C_TARGET_BIN, kPolicy);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->unwind.cxx.empty()) << m->unwind.cxx.at(0);
  EXPECT_TRUE(m->unwind.unwinders.empty()) << m->unwind.unwinders.at(0);
  EXPECT_EQ(Only(*m, 0).ret.mode, ReturnMode::kFast) << Only(*m, 0).ret.why;
  EXPECT_FALSE(Only(*m, 0).ret.can_unwind);
  EXPECT_NE(Only(*m, 0).ret.why.find("calls only fixed functions"), std::string::npos);
  // A callback could be C++ that throws through c_apply.
  EXPECT_EQ(Only(*m, 1).ret.mode, ReturnMode::kSafe);
  EXPECT_TRUE(Only(*m, 1).ret.can_unwind);
  EXPECT_NE(Only(*m, 1).ret.why.find("through a pointer"), std::string::npos);
  EXPECT_EQ(Only(*m, 2).ret.mode, ReturnMode::kSafe);
  EXPECT_NE(Only(*m, 2).ret.why.find("calls itself"), std::string::npos);
  EXPECT_EQ(Only(*m, 3).ret.mode, ReturnMode::kFast);
  EXPECT_NE(Only(*m, 3).ret.why.find("calls nothing"), std::string::npos);
}

// What a function calls counts too: a callback may run below it.
TEST(ReturnModeOnBinaries, CallbacksReachedThroughCalleesMakeItSafe) {
  auto m = ResolveInFile(Preset({{"via", {"c_via_apply"}, "userVisible"},
                                 {"sort", {"c_sort"}, "userVisible"},
                                 {"work", {"c_work"}, "userVisible"}}),
                         C_TARGET_BIN, C_TARGET_BIN, kPolicy);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->unwind.callback_imports, std::vector<std::string>{"qsort"});
  EXPECT_EQ(Only(*m, 0).ret.mode, ReturnMode::kSafe);
  EXPECT_EQ(Only(*m, 0).ret.why.rfind("calls c_apply, which has 1 call(s) through a pointer", 0),
            0u)
      << Only(*m, 0).ret.why;
  EXPECT_EQ(Only(*m, 1).ret.mode, ReturnMode::kSafe);
  EXPECT_EQ(Only(*m, 1).ret.why.rfind("calls qsort, which calls back into code it is passed", 0),
            0u)
      << Only(*m, 1).ret.why;
  // c_work reaches only c_leaf, which calls nothing: qsort elsewhere in the
  // module does not concern it.
  EXPECT_EQ(Only(*m, 2).ret.mode, ReturnMode::kFast) << Only(*m, 2).ret.why;
}

// A shared library calls its own exported functions through its PLT:
// Debian's zlib's compress2 reaches deflate that way, which calls the
// stream's zalloc/zfree through pointers.
TEST(ReturnModeOnBinaries, FollowsALibrarysCallsThroughItsOwnPlt) {
  const char* kZlib = "/lib/x86_64-linux-gnu/libz.so.1";
  auto m = ResolveInFile(Preset({{"compress", {"compress2"}, "userVisible"}}), kZlib, kZlib,
                         kPolicy);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->unwind.cxx.empty());
  EXPECT_EQ(Only(*m, 0).ret.mode, ReturnMode::kSafe);
  EXPECT_EQ(Only(*m, 0).ret.why.rfind("calls deflate", 0), 0u) << Only(*m, 0).ret.why;
}

TEST(ReturnModeOnBinaries, ACModuleThatLongjmpsIsSafeEverywhere) {
  auto m = ResolveInFile(Preset({{"work", {"c_jump_work"}, "userVisible"}}),
                         C_LONGJMP_TARGET_BIN, C_LONGJMP_TARGET_BIN, kPolicy);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->unwind.cxx.empty());
  EXPECT_EQ(m->unwind.unwinders, std::vector<std::string>{"longjmp"});
  EXPECT_EQ(Only(*m, 0).ret.mode, ReturnMode::kSafe);
  EXPECT_NE(Only(*m, 0).ret.why.find("module calls longjmp"), std::string::npos);
}

TEST(ReturnModeOnBinaries, CxxWithExceptionsIsSafeEvenForALeaf) {
  auto m = ResolveInFile(Preset({{"leaf", {"target::Leaf"}, "userVisible"},
                                 {"middle", {"target::Middle"}, "userVisible"}}),
                         PROBE_TARGET_BIN, PROBE_TARGET_BIN, kPolicy);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->unwind.cxx.empty());
  EXPECT_NE(std::find(m->unwind.unwinders.begin(), m->unwind.unwinders.end(), "__cxa_throw"),
            m->unwind.unwinders.end());
  for (size_t op = 0; op < 2; ++op) {
    EXPECT_EQ(Only(*m, op).ret.mode, ReturnMode::kSafe);
    EXPECT_TRUE(Only(*m, op).ret.can_unwind);
    EXPECT_EQ(Only(*m, op).ret.why.rfind("C++ module (", 0), 0u) << Only(*m, op).ret.why;
  }
}

// The demo's library throws (a failed sort): the default must never put a
// uretprobe on it.
TEST(ReturnModeOnBinaries, GridkitIsAutomaticallySafe) {
  auto preset = LoadLibraryPreset(GRIDPROBE_SOURCE_DIR "/presets/libraries/gridkit.yaml", {});
  ASSERT_TRUE(preset.ok()) << preset.status();
  auto m = ResolveInFile(*preset, GRIDKIT_LIB, GRIDKIT_LIB, kPolicy);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(ChooseReturnModes(&*m, ReturnRequest::kAuto, false).ok());
  size_t symbols = 0;
  for (const ResolvedOperation& op : m->ops) {
    for (const ResolvedSymbol& s : op.symbols) {
      ++symbols;
      EXPECT_EQ(s.ret.mode, ReturnMode::kSafe) << s.demangled;
      EXPECT_NE(s.ret.why.find("imports __gxx_personality_v0"), std::string::npos) << s.ret.why;
    }
  }
  EXPECT_GE(symbols, 6u);
}

TEST(ReturnModeOnBinaries, ForcingFastOnCxxIsRefusedUnlessAcknowledged) {
  auto resolve = [] {
    return ResolveInFile(Preset({{"leaf", {"target::Leaf"}, "userVisible"}}), PROBE_TARGET_BIN,
                         PROBE_TARGET_BIN, kPolicy);
  };
  auto m = resolve();
  ASSERT_TRUE(m.ok()) << m.status();
  absl::Status st = ChooseReturnModes(&*m, ReturnRequest::kFast, false);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(ExitCodeOf(st), ExitCode::kUnsafeReturnMode);
  EXPECT_EQ(st.message().rfind("refusing a fast (uretprobe) return on target::Leaf(long) "
                               "(operation 'leaf'): C++ module (",
                               0),
            0u)
      << st;
  EXPECT_EQ(st.message().find('\n'), absl::string_view::npos);

  m = resolve();
  ASSERT_TRUE(ChooseReturnModes(&*m, ReturnRequest::kFast, true).ok());
  EXPECT_EQ(Only(*m, 0).ret.mode, ReturnMode::kFast);
  EXPECT_TRUE(Only(*m, 0).ret.forced);
  EXPECT_NE(Only(*m, 0).ret.why.find("ACKNOWLEDGED RISK"), std::string::npos);

  // The preset's request applies when the flag says auto; the flag wins otherwise.
  m = resolve();
  m->ops[0].return_request = ReturnRequest::kFast;
  EXPECT_EQ(ExitCodeOf(ChooseReturnModes(&*m, ReturnRequest::kAuto, false)),
            ExitCode::kUnsafeReturnMode);
  m = resolve();
  m->ops[0].return_request = ReturnRequest::kFast;
  ASSERT_TRUE(ChooseReturnModes(&*m, ReturnRequest::kSafe, false).ok());
  EXPECT_EQ(Only(*m, 0).ret.mode, ReturnMode::kSafe);
}

TEST(ReturnModeOnBinaries, ForcingSafeOnCIsAlwaysAllowed) {
  auto m = ResolveInFile(Preset({{"work", {"c_work"}, "userVisible"}}), C_TARGET_BIN,
                         C_TARGET_BIN, kPolicy);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(ChooseReturnModes(&*m, ReturnRequest::kSafe, false).ok());
  EXPECT_EQ(Only(*m, 0).ret.mode, ReturnMode::kSafe);
  EXPECT_NE(Only(*m, 0).ret.why.find("forced safe (analysis: fast"), std::string::npos)
      << Only(*m, 0).ret.why;
}

}  // namespace
}  // namespace gridprobe::symbols
