// The bpf tier: the real programs, loaded into the running kernel, attached
// to a real process (tests/targets/probe_target) whose calls are known.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "symbols/library_preset.h"
#include "symbols/resolver.h"
#include "tests/support/child_process.h"
#include "userspace/probes/calibration.h"
#include "userspace/probes/probe_session.h"

namespace gridprobe {
namespace {

using ::gridprobe::testing::ChildProcess;
using ::gridprobe::testing::SelfDir;

enum Op { kLeaf, kOuter, kRecurse, kThrower, kMiddle };
// Operations of c_target.yaml.
enum COp { kWork, kApply, kCRecurse, kCLeaf };

struct RunOptions {
  std::string target = "probe_target";  // a binary beside the test, with a preset in targets/
  symbols::ReturnRequest return_mode = symbols::ReturnRequest::kAuto;
  bool acknowledged = false;  // --i-know-it-can-crash
  bool expect_clean_exit = true;
  LinkMode links = LinkMode::kAuto;
  bool detach_before_go = false;  // remove the probes before the target works
  uint32_t first_op = 0;          // op id of the preset's first operation
};

class LatencyBpfTest : public ::testing::Test {
 protected:
  // Starts the target in `mode`, attaches, lets it run to the end, and returns
  // the histograms. The target's wait status is left in wait_status_.
  std::vector<Histogram> Run(const std::vector<std::string>& args, std::string* output = nullptr,
                             const RunOptions& o = {}) {
    std::vector<std::string> argv = {SelfDir() + "/" + o.target};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess child(argv, o.expect_clean_exit ? "" : "/dev/null");
    EXPECT_EQ(child.ReadLine().rfind("ready", 0), 0u);

    std::ifstream in(std::string(GRIDPROBE_TESTS_DIR) + "/targets/" + o.target + ".yaml");
    std::stringstream text;
    text << in.rdbuf();
    auto preset = symbols::ParseLibraryPreset(text.str(), o.target + ".yaml");
    EXPECT_TRUE(preset.ok()) << preset.status();
    auto calibration = MeasureCalibration(500);
    EXPECT_TRUE(calibration.ok()) << calibration.status();
    symbols::EntryPolicy policy;
    if (calibration.ok()) policy.emulated = calibration->emulated;
    auto module = symbols::ResolveInProcess(*preset, child.pid(), policy);
    EXPECT_TRUE(module.ok()) << module.status();
    if (module.ok()) {
      absl::Status chosen = symbols::ChooseReturnModes(&*module, o.return_mode, o.acknowledged);
      EXPECT_TRUE(chosen.ok()) << chosen;
      module_ = *module;
    }
    ProbeSessionOptions options;
    options.links = o.links;
    auto session = ProbeSession::Create(options);
    EXPECT_TRUE(session.ok()) << session.status();
    if (!session.ok() || !module.ok()) return {};
    absl::Status st = (*session)->Attach(child.pid(), *module, o.first_op);
    EXPECT_TRUE(st.ok()) << st;
    fast_symbols_ = (*session)->fast_symbols();
    multi_links_ = (*session)->multi_links();
    probes_ = (*session)->probe_count();
    if (o.detach_before_go) (*session)->Detach();

    child.WriteLine("go");
    std::string line;
    while (!(line = child.ReadLine()).empty()) {
      if (output) *output += line + "\n";
      if (line == "done") break;
    }
    wait_status_ = child.Wait();
    if (o.expect_clean_exit) {
      EXPECT_TRUE(WIFEXITED(wait_status_)) << "target died, wait status " << wait_status_;
      EXPECT_EQ(WEXITSTATUS(wait_status_), 0);
    }
    auto hists = (*session)->Read();
    EXPECT_TRUE(hists.ok()) << hists.status();
    missed_ = (*session)->MissedHits();
    return hists.ok() ? *hists : std::vector<Histogram>{};
  }

  const symbols::ResolvedSymbol& Sym(size_t op) { return module_.ops.at(op).symbols.at(0); }

  void SetUp() override { GP_REQUIRE_ROOT(); }

  uint64_t missed_ = 0;
  size_t fast_symbols_ = 0;
  bool multi_links_ = false;
  size_t probes_ = 0;
  int wait_status_ = 0;
  symbols::ResolvedModule module_;
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
  EXPECT_EQ(Sym(kOuter).entry.insn.substr(0, 3), "jle");
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

// This kernel (6.18) has uprobe_multi links and auto takes them; one
// perf-event link per probe, as on older kernels, counts the same calls.
TEST_F(LatencyBpfTest, PerfEventLinksCountTheSameCallsAsMultiLinks) {
  auto multi = Run({"nest", "200"});
  EXPECT_TRUE(multi_links_);
  const size_t probes = probes_;
  RunOptions single;
  single.links = LinkMode::kSingle;
  auto perf = Run({"nest", "200"}, nullptr, single);
  EXPECT_FALSE(multi_links_);
  EXPECT_EQ(probes_, probes);
  ASSERT_EQ(multi.size(), 5u);
  ASSERT_EQ(perf.size(), 5u);
  for (size_t op = 0; op < multi.size(); ++op) {
    EXPECT_EQ(multi[op].count(), perf[op].count()) << "op " << op;
  }
  EXPECT_EQ(multi[kOuter].count(), 200u);
  EXPECT_EQ(multi[kLeaf].count(), 1000u);
}

// Detach removes every probe: calls made afterwards are not seen, whichever
// kind of link held them.
TEST_F(LatencyBpfTest, NothingIsCountedAfterDetach) {
  for (LinkMode links : {LinkMode::kMulti, LinkMode::kSingle}) {
    RunOptions o;
    o.links = links;
    o.detach_before_go = true;
    auto h = Run({"nest", "100"}, nullptr, o);
    EXPECT_GT(probes_, 5u);
    ASSERT_EQ(h.size(), 5u);
    for (const Histogram& op : h) EXPECT_EQ(op.count(), 0u) << "links " << static_cast<int>(links);
  }
}

// A module attached at an op-id offset, as a run's second library preset
// is, counts under its own op ids; the ids before it stay empty.
TEST_F(LatencyBpfTest, AModuleAttachedAtAnOffsetCountsUnderItsOwnOpIds) {
  RunOptions o;
  o.first_op = 7;
  auto h = Run({"nest", "100"}, nullptr, o);
  ASSERT_EQ(h.size(), 12u);
  for (size_t op = 0; op < 7; ++op) EXPECT_EQ(h[op].count(), 0u) << "op " << op;
  EXPECT_EQ(h[7 + kOuter].count(), 100u);
  EXPECT_EQ(h[7 + kLeaf].count(), 500u);
}

// Two modules of one process, the target's own code and libc's malloc
// family (two library presets): removing one module's probes, as when its
// library is unloaded, leaves the other's counting.
TEST_F(LatencyBpfTest, DetachingOneModuleLeavesTheOthersProbes) {
  ChildProcess child({SelfDir() + "/probe_target", "nest", "100"});
  ASSERT_EQ(child.ReadLine().rfind("ready", 0), 0u);
  auto calibration = MeasureCalibration(500);
  ASSERT_TRUE(calibration.ok()) << calibration.status();
  symbols::EntryPolicy policy;
  policy.emulated = calibration->emulated;
  auto target_preset = symbols::LoadLibraryPreset(
      std::string(GRIDPROBE_TESTS_DIR) + "/targets/probe_target.yaml", {});
  auto libc_preset =
      symbols::LoadLibraryPreset(std::string(GRIDPROBE_TESTS_DIR) +
                                     "/../presets/libraries/glibc-malloc.yaml", {});
  ASSERT_TRUE(target_preset.ok()) << target_preset.status();
  ASSERT_TRUE(libc_preset.ok()) << libc_preset.status();
  auto target_module = symbols::ResolveInProcess(*target_preset, child.pid(), policy);
  auto libc_module = symbols::ResolveInProcess(*libc_preset, child.pid(), policy);
  ASSERT_TRUE(target_module.ok()) << target_module.status();
  ASSERT_TRUE(libc_module.ok()) << libc_module.status();
  for (auto* module : {&*target_module, &*libc_module}) {
    ASSERT_TRUE(symbols::ChooseReturnModes(module, symbols::ReturnRequest::kAuto, false).ok());
  }
  auto session = ProbeSession::Create({});
  ASSERT_TRUE(session.ok()) << session.status();
  ProbeSession& s = **session;
  const uint32_t libc_first = static_cast<uint32_t>(target_module->ops.size());
  ASSERT_TRUE(s.Attach(child.pid(), *target_module, 0).ok());
  ASSERT_TRUE(s.Attach(child.pid(), *libc_module, libc_first).ok());
  s.SetOperationCount(libc_first + libc_module->ops.size());
  const size_t target_probes = s.operation_probes(0);
  EXPECT_GT(target_probes, 0u);
  EXPECT_GT(s.operation_probes(libc_first), 0u);
  EXPECT_EQ(s.operation_probes(), target_probes + s.operation_probes(libc_first));
  // The same functions again for other op ids (a second preset naming them)
  // would turn each call of the first into an unwound frame: refused.
  absl::Status twice = s.Attach(child.pid(), *target_module, 20);
  EXPECT_EQ(ExitCodeOf(twice), ExitCode::kBadInput) << twice;
  EXPECT_NE(twice.message().find(" is in operation 'leaf' and in operation 'leaf' of another "
                                 "library preset; a function is timed for one operation per "
                                 "run: remove it from one of the presets"),
            std::string::npos)
      << twice;
  EXPECT_EQ(s.operation_probes(20), 0u);

  s.DetachOperations(libc_first);
  EXPECT_EQ(s.operation_probes(libc_first), 0u);
  EXPECT_EQ(s.operation_probes(0), target_probes);
  EXPECT_EQ(s.operation_probes(), target_probes);
  child.WriteLine("go");
  EXPECT_EQ(child.WaitForLine("done"), "done");
  int status = child.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  auto h = s.Read();
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_EQ(h->size(), libc_first + libc_module->ops.size());
  EXPECT_EQ((*h)[kOuter].count(), 100u);
  EXPECT_EQ((*h)[kLeaf].count(), 500u);
  // libc's probes are gone: none of its calls are counted.
  for (size_t op = libc_first; op < h->size(); ++op) {
    EXPECT_EQ((*h)[op].count(), 0u) << libc_module->ops[op - libc_first].name;
  }
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

// Fast mode: entry uprobe and uretprobe share the push after endbr64 (one
// trap); every call of every thread is timed once.
TEST_F(LatencyBpfTest, FastModeCountsEveryCallFromSeveralThreads) {
  RunOptions o;
  o.target = "c_target";
  auto h = Run({"threads", "20000"}, nullptr, o);
  ASSERT_EQ(h.size(), 4u);
  ASSERT_EQ(Sym(kWork).ret.mode, symbols::ReturnMode::kFast) << Sym(kWork).ret.why;
  EXPECT_EQ(Sym(kWork).entry.vaddr, Sym(kWork).vaddr + 4);  // past endbr64
  EXPECT_EQ(Sym(kWork).entry.insn, "push rbp");
  EXPECT_EQ(fast_symbols_, 2u);  // c_work and c_leaf; c_apply and c_recurse stay safe
  EXPECT_EQ(missed_, 0u) << "the kernel skipped probe hits";
  EXPECT_EQ(h[kWork].count(), 4u * 20000u);
  EXPECT_EQ(h[kCLeaf].count(), 4u * 20000u);
  EXPECT_EQ(h[kWork].unwound(), 0u);
  EXPECT_EQ(h[kWork].untracked(), 0u);
  // Each c_work call contains a c_leaf call.
  EXPECT_GT(h[kWork].sum(), h[kCLeaf].sum());
  EXPECT_LE(h[kWork].min(), h[kWork].Percentile(0.5));
}

// The same target with every function forced safe counts the same calls:
// the two modes agree.
TEST_F(LatencyBpfTest, SafeAndFastModesCountTheSameCalls) {
  RunOptions o;
  o.target = "c_target";
  o.return_mode = symbols::ReturnRequest::kSafe;
  auto h = Run({"threads", "5000"}, nullptr, o);
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(fast_symbols_, 0u);
  EXPECT_EQ(h[kWork].count(), 4u * 5000u);
  EXPECT_EQ(h[kCLeaf].count(), 4u * 5000u);
}

// A function the analysis keeps safe (it calls through a pointer) next to
// fast ones: both kinds of frames share the thread's stack.
TEST_F(LatencyBpfTest, SafeFunctionCallingFastOnesTimesBoth) {
  RunOptions o;
  o.target = "c_target";
  auto h = Run({"apply", "3000"}, nullptr, o);
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(Sym(kApply).ret.mode, symbols::ReturnMode::kSafe);
  EXPECT_EQ(h[kApply].count(), 3000u);
  EXPECT_EQ(h[kCLeaf].count(), 3000u);
  EXPECT_EQ(h[kApply].unwound(), 0u);
  EXPECT_GT(h[kApply].sum(), h[kCLeaf].sum());
}

// Why the decision matters: a uretprobe forced onto a function an exception
// passes through kills the program (std::terminate), where safe mode (the
// test above with "throw") does not. A throwaway target, acknowledged risk.
TEST_F(LatencyBpfTest, ForcedFastReturnKillsATargetThatThrowsThroughIt) {
  RunOptions o;
  o.return_mode = symbols::ReturnRequest::kFast;
  o.acknowledged = true;
  o.expect_clean_exit = false;
  std::string out;
  Run({"throw", "20"}, &out, o);
  EXPECT_TRUE(WIFSIGNALED(wait_status_)) << "wait status " << wait_status_ << ", output: " << out;
  if (WIFSIGNALED(wait_status_)) {
    EXPECT_EQ(WTERMSIG(wait_status_), SIGABRT);
  }
  EXPECT_EQ(out.find("done"), std::string::npos);
}

// The command line refuses a forced fast return on C++ with one line and exit
// code 11 before it attaches anything; the target keeps running untouched.
TEST_F(LatencyBpfTest, ForcedFastWithoutAcknowledgementIsRefused) {
  ChildProcess target({SelfDir() + "/probe_target", "throw", "100"});
  ASSERT_EQ(target.ReadLine().rfind("ready", 0), 0u);
  std::string err = ::testing::TempDir() + "/refused.err";
  std::string cmd = absl::StrCat(GRIDPROBE_BIN, " attach ", target.pid(), " --preset ",
                                 GRIDPROBE_TESTS_DIR, "/targets/probe_target.yaml",
                                 " --return-mode fast --duration 1s --quiet 2>", err);
  int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 11);
  std::ifstream in(err);
  std::string first, rest;
  std::getline(in, first);
  std::getline(in, rest, '\0');
  EXPECT_EQ(first.rfind("gridprobe: refusing a fast (uretprobe) return on target::Leaf(long)", 0),
            0u)
      << first;
  EXPECT_EQ(rest, "");
  target.WriteLine("go");
  EXPECT_EQ(target.WaitForLine("caught"), "caught 50");
  int status = target.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace gridprobe
