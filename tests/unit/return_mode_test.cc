#include "symbols/return_mode.h"

#include <gtest/gtest.h>

#include "base/status.h"
#include "symbols/probe_sites.h"

namespace gridprobe::symbols {
namespace {

FunctionSites PlainC() {
  FunctionSites s;
  s.entry = {0x1004, SiteKind::kEntry, "push rbp"};
  s.exits = {{0x1020, SiteKind::kReturn, "ret"}};
  s.direct_calls = 2;
  s.callees = {0x2000, 0x3000};
  return s;
}

TEST(DecideReturnMode, ACFunctionCallingFixedCodeIsFast) {
  ReturnDecision d = DecideReturnMode({}, PlainC());
  EXPECT_EQ(d.mode, ReturnMode::kFast);
  EXPECT_FALSE(d.can_unwind);
  EXPECT_FALSE(d.forced);
  EXPECT_EQ(d.why,
            "C module that never throws, longjmps or switches stacks; calls only fixed functions "
            "that take no callbacks");
}

TEST(DecideReturnMode, CxxModuleIsSafeWithItsEvidence) {
  ModuleUnwindFacts facts;
  facts.cxx = {"imports __gxx_personality_v0", "needs libstdc++.so.6"};
  ReturnDecision d = DecideReturnMode(facts, PlainC());
  EXPECT_EQ(d.mode, ReturnMode::kSafe);
  EXPECT_TRUE(d.can_unwind);
  EXPECT_EQ(d.why,
            "C++ module (imports __gxx_personality_v0, needs libstdc++.so.6): an exception may "
            "unwind through it");
}

TEST(DecideReturnMode, UnwindersInACModuleMakeItSafe) {
  ModuleUnwindFacts facts;
  facts.unwinders = {"siglongjmp", "pthread_exit"};
  ReturnDecision d = DecideReturnMode(facts, PlainC());
  EXPECT_EQ(d.mode, ReturnMode::kSafe);
  EXPECT_EQ(d.why, "module calls siglongjmp, pthread_exit: frames may be left without a return");
}

TEST(DecideReturnMode, CallsAndTailCallsThroughPointersAreCallbacks) {
  FunctionSites s = PlainC();
  s.indirect_calls = 1;
  EXPECT_EQ(DecideReturnMode({}, s).mode, ReturnMode::kSafe);

  s = PlainC();
  s.exits.push_back({0x1030, SiteKind::kIndirectJump, "jmp rax"});
  ReturnDecision d = DecideReturnMode({}, s);
  EXPECT_EQ(d.mode, ReturnMode::kSafe);
  EXPECT_NE(d.why.find("1 jump(s) through a pointer"), std::string::npos) << d.why;

  // A CET switch table's jump stays inside the function.
  s = PlainC();
  s.exits.push_back({0x1030, SiteKind::kIndirectJump, "notrack jmp rax"});
  EXPECT_EQ(DecideReturnMode({}, s).mode, ReturnMode::kFast);
}

TEST(DecideReturnMode, RecursionAndUndecodedCodeAreSafe) {
  FunctionSites s = PlainC();
  s.calls_itself = true;
  EXPECT_EQ(DecideReturnMode({}, s).mode, ReturnMode::kSafe);
  s = PlainC();
  s.undecoded_bytes = 3;
  ReturnDecision d = DecideReturnMode({}, s);
  EXPECT_EQ(d.mode, ReturnMode::kSafe);
  EXPECT_EQ(d.why,
            "3 undecodable byte(s), so its calls are unknown: a callback may throw or longjmp "
            "through it");
}

TEST(DecideReturnMode, ACalleeThatMayRunACallbackMakesItSafe) {
  ReturnDecision d =
      DecideReturnMode({}, PlainC(), "c_apply, which makes 1 call(s) through a pointer");
  EXPECT_EQ(d.mode, ReturnMode::kSafe);
  EXPECT_EQ(d.why,
            "calls c_apply, which makes 1 call(s) through a pointer: a callback may throw or "
            "longjmp through it");
}

TEST(ApplyReturnRequest, AutoKeepsTheAnalysis) {
  ReturnDecision fast = DecideReturnMode({}, PlainC());
  auto d = ApplyReturnRequest(fast, ReturnRequest::kAuto, false, "f");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->mode, ReturnMode::kFast);
  EXPECT_FALSE(d->forced);
}

TEST(ApplyReturnRequest, FastWhereTheAnalysisAgreesNeedsNoAcknowledgement) {
  ReturnDecision fast = DecideReturnMode({}, PlainC());
  auto d = ApplyReturnRequest(fast, ReturnRequest::kFast, false, "f");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->mode, ReturnMode::kFast);
  EXPECT_TRUE(d->forced);
  EXPECT_EQ(d->why.find("ACKNOWLEDGED"), std::string::npos);
}

TEST(ApplyReturnRequest, FastWhereItCanCrashIsRefusedUnlessAcknowledged) {
  ModuleUnwindFacts facts;
  facts.unwinders = {"longjmp"};
  ReturnDecision safe = DecideReturnMode(facts, PlainC());
  auto refused = ApplyReturnRequest(safe, ReturnRequest::kFast, false, "f (operation 'o')");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(ExitCodeOf(refused.status()), ExitCode::kUnsafeReturnMode);
  EXPECT_EQ(refused.status().message(),
            "refusing a fast (uretprobe) return on f (operation 'o'): module calls longjmp: "
            "frames may be left without a return, which would kill the target; use safe, or "
            "add --i-know-it-can-crash");
  auto allowed = ApplyReturnRequest(safe, ReturnRequest::kFast, true, "f");
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->mode, ReturnMode::kFast);
  EXPECT_TRUE(allowed->can_unwind);
}

TEST(ApplyReturnRequest, SafeIsAlwaysAllowed) {
  ReturnDecision fast = DecideReturnMode({}, PlainC());
  auto d = ApplyReturnRequest(fast, ReturnRequest::kSafe, false, "f");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->mode, ReturnMode::kSafe);
  EXPECT_EQ(d->why.rfind("forced safe (analysis: fast, ", 0), 0u) << d->why;
}

TEST(ParseReturnRequest, AcceptsTheThreeModesOnly) {
  EXPECT_EQ(ParseReturnRequest("auto"), ReturnRequest::kAuto);
  EXPECT_EQ(ParseReturnRequest("safe"), ReturnRequest::kSafe);
  EXPECT_EQ(ParseReturnRequest("fast"), ReturnRequest::kFast);
  EXPECT_EQ(ParseReturnRequest("Fast"), std::nullopt);
  EXPECT_EQ(ParseReturnRequest(""), std::nullopt);
}

}  // namespace
}  // namespace gridprobe::symbols
