// The memory programs on a real process whose allocations are known exactly.
#include <sys/wait.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "symbols/allocator.h"
#include "symbols/library_preset.h"
#include "symbols/resolver.h"
#include "tests/support/child_process.h"
#include "userspace/probes/calibration.h"
#include "userspace/probes/probe_session.h"
#include "userspace/probes/symbolizer.h"

namespace gridprobe {
namespace {

using ::gridprobe::testing::ChildProcess;
using ::gridprobe::testing::SelfDir;

class MemoryBpfTest : public ::testing::Test {
 protected:
  void SetUp() override { GP_REQUIRE_ROOT(); }

  // Runs alloc_target (or `argv`, which must exec it) under the given mode;
  // fills counters and live list.
  void Run(MemoryMode mode, std::vector<std::string> argv = {},
           LinkMode links = LinkMode::kAuto) {
    if (argv.empty()) argv = {SelfDir() + "/alloc_target"};
    ChildProcess child(argv);
    ASSERT_EQ(child.ReadLine().rfind("ready", 0), 0u);
    std::ifstream in(std::string(GRIDPROBE_TESTS_DIR) + "/targets/alloc_target.yaml");
    std::stringstream text;
    text << in.rdbuf();
    auto preset = symbols::ParseLibraryPreset(text.str(), "alloc_target.yaml");
    ASSERT_TRUE(preset.ok()) << preset.status();
    auto calibration = LoadOrMeasureCalibration("/var/cache/gridprobe");
    ASSERT_TRUE(calibration.ok()) << calibration.status();
    auto module =
        symbols::ResolveInProcess(*preset, child.pid(), {calibration->emulated, {}});
    ASSERT_TRUE(module.ok()) << module.status();
    auto allocator = symbols::ResolveAllocator(child.pid(), calibration->emulated);
    ASSERT_TRUE(allocator.ok()) << allocator.status();
    family_ = allocator->family;
    module_ = allocator->path;
    cxx_defined_ = allocator->cxx_defined;
    cxx_probed_ = allocator->cxx_probed;
    for (const auto& f : allocator->functions) {
      if (f.name == "free") free_entry_ = f.symbol.entry.insn;
    }
    ProbeSessionOptions options;
    options.memory = mode;
    options.links = links;
    auto session = ProbeSession::Create(options);
    ASSERT_TRUE(session.ok()) << session.status();
    ASSERT_TRUE((*session)->Attach(child.pid(), *module).ok());
    ASSERT_TRUE((*session)->AttachAllocator(child.pid(), *allocator).ok());
    child.WriteLine("go");
    ASSERT_EQ(child.ReadLine(), "done");
    (*session)->PauseMemory();
    auto counters = (*session)->ReadMemory();
    ASSERT_TRUE(counters.ok()) << counters.status();
    counters_ = *counters;
    auto live = (*session)->ReadLiveAllocations();
    ASSERT_TRUE(live.ok());
    live_ = *live;
    // The caller recorded for each kept malloc(100): named while the target lives.
    Symbolizer symbolizer(child.pid());
    callers_of_100_.clear();
    stack_of_100_.clear();
    for (const LiveAllocation& a : live_) {
      if (a.category != 1 || a.size != 100) continue;
      callers_of_100_.insert(symbolizer.Symbolize(a.caller));
      if (stack_of_100_.empty()) {
        for (uint64_t ip : (*session)->ReadStack(a.stack_id)) {
          stack_of_100_.push_back(symbolizer.Symbolize(ip));
        }
      }
    }
    child.WriteLine("exit");
    int status = child.Wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }

  std::string family_;
  std::string module_;
  bool cxx_defined_ = false;
  std::vector<std::string> cxx_probed_;
  std::string free_entry_;
  std::set<std::string> callers_of_100_;
  std::vector<std::string> stack_of_100_;  // one kept malloc(100)'s user stack
  MemoryCounters counters_;
  std::vector<LiveAllocation> live_;
};

// Per Op call: malloc(100), calloc(10,30), malloc(64), realloc->128,
// realloc->4096, posix_memalign(256), aligned_alloc(128), valloc(512),
// pvalloc(100), new char[200], new Node (48), new (nothrow) char[40], new
// Aligned (128, 64-aligned). Kept: the malloc(100), the end of the realloc
// chain, the posix_memalign block and the new[200]; the rest is freed in the
// call. Later another thread frees the first half of each thread's kept
// blocks: exactly half of the kept bytes and allocations.
constexpr uint64_t kCalls = 4 * 50;
constexpr uint64_t kAllocsPerCall = 13;
constexpr uint64_t kBytesPerCall =
    100 + 300 + 64 + 128 + 4096 + 256 + 128 + 512 + 100 + 200 + 48 + 40 + 128;
constexpr uint64_t kKeptPerCall = 4;
constexpr uint64_t kKeptBytesPerCall = 100 + 4096 + 256 + 200;
constexpr uint64_t kPvallocBytes = 100;

std::string FindLibrary(const std::string& name) {
  for (const char* dir : {"/usr/lib/x86_64-linux-gnu/", "/usr/lib64/", "/usr/lib/"}) {
    std::string path = std::string(dir) + name;
    if (access(path.c_str(), R_OK) == 0) return path;
  }
  return "";
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) != nullptr ? buf : path;
}

// Skips (fails under GRIDPROBE_REQUIRE_BPF=1) when a library is missing.
#define GP_REQUIRE_LIBRARY(path, name, package)                                     \
  do {                                                                             \
    if ((path).empty()) {                                                          \
      const char* req = getenv("GRIDPROBE_REQUIRE_BPF");                           \
      if (req != nullptr && std::string(req) == "1") {                             \
        FAIL() << name << " not found: install " << package                        \
               << " (scripts/install-deps.sh)";                                    \
      }                                                                            \
      GTEST_SKIP() << name << " not found: install " << package;                   \
    }                                                                              \
  } while (0)

// The operation's allocations, counted exactly once whatever the allocator:
// `pvalloc` says whether the target called it (jemalloc does not define it).
void ExpectExactOperation(const MemoryCounters& counters, const std::vector<LiveAllocation>& live,
                          bool pvalloc) {
  ASSERT_EQ(counters.categories.size(), 2u);
  const CategoryCounters& op = counters.categories[1];
  uint64_t allocs = kCalls * (kAllocsPerCall - (pvalloc ? 0 : 1));
  uint64_t bytes = kCalls * (kBytesPerCall - (pvalloc ? 0 : kPvallocBytes));
  EXPECT_EQ(op.allocs, allocs);
  EXPECT_EQ(op.alloc_bytes, bytes);
  EXPECT_EQ(op.dropped, 0u);
  EXPECT_EQ(op.live_allocs(), kCalls * kKeptPerCall / 2);
  EXPECT_EQ(op.live_bytes(), kCalls * kKeptBytesPerCall / 2);
  EXPECT_EQ(op.frees, allocs - kCalls * kKeptPerCall / 2);
  uint64_t live_bytes = 0;
  for (const LiveAllocation& a : live) {
    if (a.category == 1) live_bytes += a.size;
  }
  EXPECT_EQ(live_bytes, op.live_bytes()) << "counters and live map disagree";
  EXPECT_EQ(counters.failed, 0u);
}

TEST_F(MemoryBpfTest, ChargesEveryAllocationToItsOperationExactly) {
  Run(MemoryMode::kFull);
  EXPECT_EQ(family_, "glibc");
  ExpectExactOperation(counters_, live_, true);
  // libc.so.6 defines no operator new: libstdc++'s calls malloc and is seen
  // there, once.
  EXPECT_FALSE(cxx_defined_);
  EXPECT_TRUE(cxx_probed_.empty());
  // The allocation site is the return address into the operation itself.
  ASSERT_EQ(callers_of_100_.size(), 1u);
  EXPECT_EQ(callers_of_100_.begin()->rfind("work::Op(int)+0x", 0), 0u) << *callers_of_100_.begin();
  // Its stack starts there and goes on to the thread's body in main.
  ASSERT_GE(stack_of_100_.size(), 2u);
  EXPECT_EQ(stack_of_100_[0], *callers_of_100_.begin());
  EXPECT_NE(stack_of_100_[1].find("main::"), std::string::npos) << stack_of_100_[1];
  // Unattributed: the 10 malloc(700) outside operations are live (plus
  // whatever libstdc++ and the threads allocated).
  uint64_t unattributed_700 = 0;
  for (const LiveAllocation& a : live_) unattributed_700 += a.category == 0 && a.size == 700;
  EXPECT_EQ(unattributed_700, 10u);
  // The 100 blocks allocated before attach were freed after it: ignored.
  EXPECT_GE(counters_.unknown_frees, 100u);
  // reallocarray/aligned_alloc internals are not double counted; nothing failed.
  EXPECT_EQ(counters_.failed, 0u);
}

// The same exact accounting through one perf-event link per probe, as on a
// kernel older than uprobe_multi links.
TEST_F(MemoryBpfTest, PerfEventLinksChargeTheSameAllocations) {
  Run(MemoryMode::kFull, {}, LinkMode::kSingle);
  ExpectExactOperation(counters_, live_, true);
  EXPECT_EQ(counters_.failed, 0u);
}

TEST_F(MemoryBpfTest, PreloadedJemallocIsProbedWithItsOwnOperatorNew) {
  std::string lib = FindLibrary("libjemalloc.so.2");
  GP_REQUIRE_LIBRARY(lib, "libjemalloc.so.2", "libjemalloc2");
  Run(MemoryMode::kFull, {"/usr/bin/env", "LD_PRELOAD=" + lib, SelfDir() + "/alloc_target",
                          "--no-pvalloc"});
  EXPECT_EQ(family_, "jemalloc");
  EXPECT_EQ(module_, RealPath(lib));
  ExpectExactOperation(counters_, live_, false);
  // jemalloc's operator new is its own code: probed, and new[] (a jump to
  // new) is seen through it, not probed again.
  EXPECT_THAT(cxx_probed_, ::testing::Contains("_Znwm"));
  EXPECT_THAT(cxx_probed_, ::testing::Not(::testing::Contains("_Znam")));
}

TEST_F(MemoryBpfTest, PreloadedTcmallocCountsNewOnceAtItsOwnOperatorNew) {
  std::string lib = FindLibrary("libtcmalloc_minimal.so.4");
  GP_REQUIRE_LIBRARY(lib, "libtcmalloc_minimal.so.4", "libtcmalloc-minimal4");
  Run(MemoryMode::kFull, {"/usr/bin/env", "LD_PRELOAD=" + lib, SelfDir() + "/alloc_target"});
  EXPECT_EQ(family_, "tcmalloc");
  EXPECT_EQ(module_, RealPath(lib));
  // tcmalloc's operator new never calls malloc: without its own probes the
  // C++ allocations would be missing, with a second path they would count twice.
  ExpectExactOperation(counters_, live_, true);
  EXPECT_THAT(cxx_probed_, ::testing::Contains("_Znwm"));
  EXPECT_THAT(cxx_probed_, ::testing::Contains("_ZdlPvm"));  // sized delete is not free's alias
}

TEST_F(MemoryBpfTest, StaticBinaryIsProbedInItsOwnCopyOfGlibc) {
  Run(MemoryMode::kFull, {SelfDir() + "/alloc_target_static"});
  EXPECT_EQ(family_, "executable");
  EXPECT_EQ(module_, SelfDir() + "/alloc_target_static");
  ExpectExactOperation(counters_, live_, true);
  // The linked-in libstdc++ operator new calls malloc directly: seen there.
  EXPECT_TRUE(cxx_defined_);
  EXPECT_TRUE(cxx_probed_.empty()) << cxx_probed_.size();
}

TEST_F(MemoryBpfTest, OpsModeTracksOnlyAllocationsInsideOperations) {
  Run(MemoryMode::kOps);
  ASSERT_EQ(counters_.categories.size(), 2u);
  EXPECT_EQ(counters_.categories[0].allocs, 0u);
  EXPECT_EQ(counters_.categories[1].allocs, kCalls * kAllocsPerCall);
}

TEST_F(MemoryBpfTest, FreeIsProbedPastItsNullTest) {
  Run(MemoryMode::kOps);
  // glibc's free starts "test rdi,rdi; je": the probe goes on the je, which
  // the kernel emulates, with rdi still holding the pointer.
  EXPECT_EQ(free_entry_.substr(0, 2), "je") << free_entry_;
}

}  // namespace
}  // namespace gridprobe
