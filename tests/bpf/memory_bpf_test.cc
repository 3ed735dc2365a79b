// The memory programs on a real process whose allocations are known exactly.
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "symbols/allocator.h"
#include "symbols/library_preset.h"
#include "symbols/resolver.h"
#include "tests/support/child_process.h"
#include "userspace/calibration.h"
#include "userspace/probe_session.h"

namespace gridprobe {
namespace {

using ::gridprobe::testing::ChildProcess;
using ::gridprobe::testing::SelfDir;

class MemoryBpfTest : public ::testing::Test {
 protected:
  void SetUp() override { GP_REQUIRE_ROOT(); }

  // Runs alloc_target under the given mode; fills counters and live list.
  void Run(MemoryMode mode) {
    ChildProcess child({SelfDir() + "/alloc_target"});
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
    for (const auto& f : allocator->functions) {
      if (f.name == "free") free_entry_ = f.symbol.entry.insn;
    }
    ProbeSessionOptions options;
    options.memory = mode;
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
    child.WriteLine("exit");
    int status = child.Wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }

  std::string family_;
  std::string free_entry_;
  MemoryCounters counters_;
  std::vector<LiveAllocation> live_;
};

// Per Op call: malloc(100), calloc(10,30), malloc(64), realloc->128,
// realloc->4096, posix_memalign(256), aligned_alloc(128); the calloc and
// aligned_alloc blocks are freed in the call, the realloc chain leaves one.
constexpr uint64_t kCalls = 4 * 50;
constexpr uint64_t kAllocsPerCall = 7;
constexpr uint64_t kBytesPerCall = 100 + 300 + 64 + 128 + 4096 + 256 + 128;
constexpr uint64_t kKeptPerCall = 3;
constexpr uint64_t kKeptBytesPerCall = 100 + 4096 + 256;

TEST_F(MemoryBpfTest, ChargesEveryAllocationToItsOperationExactly) {
  Run(MemoryMode::kFull);
  EXPECT_EQ(family_, "glibc");
  ASSERT_EQ(counters_.categories.size(), 2u);
  const CategoryCounters& op = counters_.categories[1];
  EXPECT_EQ(op.allocs, kCalls * kAllocsPerCall);
  EXPECT_EQ(op.alloc_bytes, kCalls * kBytesPerCall);
  EXPECT_EQ(op.dropped, 0u);
  // Half of every thread's kept blocks were freed, by another thread.
  EXPECT_EQ(op.live_allocs(), kCalls * kKeptPerCall - 4 * (50 * kKeptPerCall / 2));
  uint64_t live_bytes = 0;
  for (const LiveAllocation& a : live_) {
    if (a.category == 1) live_bytes += a.size;
  }
  EXPECT_EQ(op.live_bytes(), live_bytes) << "counters and live map disagree";
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
