// The bpf tier: the real programs, loaded into the running kernel, attached
// to a real process (tests/targets/probe_target) whose calls are known.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "symbols/library_preset.h"
#include "symbols/resolver.h"
#include "tests/support/child_process.h"
#include "userspace/calibration.h"
#include "userspace/probe_session.h"

namespace gridprobe {
namespace {

using ::gridprobe::testing::ChildProcess;
using ::gridprobe::testing::SelfDir;

enum Op { kLeaf, kOuter, kRecurse, kThrower, kMiddle };

class LatencyBpfTest : public ::testing::Test {
 protected:
  // Starts the target in `mode`, attaches, lets it run to the end, and returns
  // the histograms.
  std::vector<Histogram> Run(const std::vector<std::string>& args, std::string* output = nullptr) {
    std::vector<std::string> argv = {SelfDir() + "/probe_target"};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess child(argv);
    EXPECT_EQ(child.ReadLine().rfind("ready", 0), 0u);

    std::ifstream in(std::string(GRIDPROBE_TESTS_DIR) + "/targets/probe_target.yaml");
    std::stringstream text;
    text << in.rdbuf();
    auto preset = symbols::ParseLibraryPreset(text.str(), "probe_target.yaml");
    EXPECT_TRUE(preset.ok()) << preset.status();
    auto calibration = MeasureCalibration(500);
    EXPECT_TRUE(calibration.ok()) << calibration.status();
    symbols::EntryPolicy policy;
    if (calibration.ok()) policy.emulated = calibration->emulated;
    auto module = symbols::ResolveInProcess(*preset, child.pid(), policy);
    if (module.ok()) outer_entry_ = module->ops[kOuter].symbols.at(0).entry;
    EXPECT_TRUE(module.ok()) << module.status();
    auto session = ProbeSession::Create({});
    EXPECT_TRUE(session.ok()) << session.status();
    if (!session.ok() || !module.ok()) return {};
    absl::Status st = (*session)->Attach(child.pid(), *module);
    EXPECT_TRUE(st.ok()) << st;

    child.WriteLine("go");
    std::string line;
    while (!(line = child.ReadLine()).empty()) {
      if (output) *output += line + "\n";
      if (line == "done") break;
    }
    int status = child.Wait();
    EXPECT_TRUE(WIFEXITED(status)) << "target died, wait status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
    auto hists = (*session)->Read();
    EXPECT_TRUE(hists.ok()) << hists.status();
    missed_ = (*session)->MissedHits();
    return hists.ok() ? *hists : std::vector<Histogram>{};
  }

  void SetUp() override { GP_REQUIRE_ROOT(); }

  uint64_t missed_ = 0;
  symbols::ResolvedSite outer_entry_;
};

TEST_F(LatencyBpfTest, CalibrationMeasuresEveryInstructionClass) {
  auto c = MeasureCalibration(500);
  ASSERT_TRUE(c.ok()) << c.status();
  for (const char* cls : {"push", "nop", "jcc", "jmp", "call", "mov", "lea", "test", "sub", "ret",
                          "endbr64"}) {
    EXPECT_TRUE(c->ns_per_hit.count(cls)) << cls;
  }
  EXPECT_FALSE(c->emulated.empty());
  // The cheapest class is emulated by definition; anything 3x dearer is not.
  for (const auto& [cls, ns] : c->ns_per_hit) {
    EXPECT_GT(ns, 0) << cls;
  }
}

TEST_F(LatencyBpfTest, EntryProbeMovedToAnEmulatedBranchFiresOncePerCall) {
  auto h = Run({"nest", "100"});
  ASSERT_EQ(h.size(), 5u);
  // Outer is endbr64; test rdi,rdi; jle: the probe sits on the jle, which
  // every call executes exactly once whichever way it branches.
  EXPECT_EQ(outer_entry_.insn.substr(0, 3), "jle");
  EXPECT_EQ(h[kOuter].count(), 100u);
  EXPECT_EQ(h[kLeaf].count(), 500u);
}

TEST_F(LatencyBpfTest, CountsEveryCallFromSeveralThreads) {
  auto h = Run({"threads", "20000"});
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h[kLeaf].count() + missed_, 4u * 20000u);
  EXPECT_EQ(missed_, 0u) << "the kernel skipped probe hits";
  EXPECT_EQ(h[kLeaf].unwound(), 0u);
  EXPECT_GT(h[kLeaf].min(), 0u);
  EXPECT_LE(h[kLeaf].min(), h[kLeaf].Percentile(0.5));
  EXPECT_LE(h[kLeaf].Percentile(0.99), h[kLeaf].max());
}

TEST_F(LatencyBpfTest, TimesNestedCallsSeparately) {
  auto h = Run({"nest", "300"});
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h[kOuter].count(), 300u);
  EXPECT_EQ(h[kLeaf].count(), 1500u);
  // Each outer call contains its five leaf calls.
  EXPECT_GT(h[kOuter].sum(), h[kLeaf].sum());
  EXPECT_GT(h[kOuter].min(), 5 * h[kLeaf].min());
}

TEST_F(LatencyBpfTest, TimesEveryLevelOfRecursion) {
  auto h = Run({"recurse", "100", "20"});
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h[kRecurse].count(), 20u * 101u);
  EXPECT_EQ(h[kRecurse].untracked(), 0u);
  EXPECT_EQ(h[kLeaf].count(), 20u);
  // The outermost activation contains all the others: it is the maximum.
  EXPECT_GT(h[kRecurse].max(), 50 * h[kRecurse].min());
}

TEST_F(LatencyBpfTest, RecursionDeeperThanTheFrameStackIsCountedNotLost) {
  auto h = Run({"recurse", "200", "5"});
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h[kRecurse].count() + h[kRecurse].untracked(), 5u * 201u);
  EXPECT_GT(h[kRecurse].untracked(), 0u);
}

TEST_F(LatencyBpfTest, ExceptionsThroughProbedFunctionsLeaveTheTargetAlive) {
  std::string out;
  auto h = Run({"throw", "2000"}, &out);
  ASSERT_EQ(h.size(), 5u);
  EXPECT_NE(out.find("caught 1000"), std::string::npos) << out;
  EXPECT_EQ(h[kMiddle].count(), 1000u);
  EXPECT_EQ(h[kThrower].count(), 1000u);
  EXPECT_EQ(h[kLeaf].count(), 1000u);
  // Every throw leaves a Thrower and a Middle frame; each is found unwound by
  // the next call on the thread, except the very last throw's.
  EXPECT_GE(h[kThrower].unwound(), 999u);
  EXPECT_LE(h[kThrower].unwound(), 1000u);
  EXPECT_GE(h[kMiddle].unwound(), 999u);
  EXPECT_LE(h[kMiddle].unwound(), 1000u);
}

}  // namespace
}  // namespace gridprobe
