#include "symbols/probe_sites.h"

#include <gtest/gtest.h>

namespace gridprobe::symbols {
namespace {

// Hand-assembled x86-64, as GCC emits it with -fcf-protection.
const std::vector<uint8_t> kEndbr = {0xf3, 0x0f, 0x1e, 0xfa};
// What this project's machines measure: push and branches are emulated.
const EntryPolicy kPolicy = {{"push", "jcc", "jmp", "call", "nop"}, {}};

std::vector<uint8_t> Cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(FindProbeSites, SkipsEndbrAndFindsEveryReturn) {
  // endbr64; push rbp; mov rbp,rsp; test edi,edi; je +3; pop rbp; ret; xor eax,eax; pop rbp; ret
  auto code = Cat({kEndbr, {0x55, 0x48, 0x89, 0xe5, 0x85, 0xff, 0x74, 0x02, 0x5d, 0xc3,
                            0x31, 0xc0, 0x5d, 0xc3}});
  auto sites = FindProbeSites({{0x1000, code}}, kPolicy);
  ASSERT_TRUE(sites.ok()) << sites.status();
  EXPECT_EQ(sites->entry.vaddr, 0x1004u);
  EXPECT_EQ(sites->entry.insn, "push rbp");
  ASSERT_EQ(sites->exits.size(), 2u);
  EXPECT_EQ(sites->exits[0].vaddr, 0x100du);
  EXPECT_EQ(sites->exits[0].kind, SiteKind::kReturn);
  EXPECT_EQ(sites->exits[1].vaddr, 0x1011u);
}

TEST(FindProbeSites, JumpsOutOfTheFunctionAreTailCallsJumpsInsideAreNot) {
  // endbr64; push rbp; pop rbp; jmp rel32 far away; jmp back to +4 ... ; jmp rax
  auto code = Cat({kEndbr, {0x55, 0x5d, 0xe9, 0x00, 0x10, 0x00, 0x00,  // jmp +0x1000 (outside)
                            0xeb, 0xf7,                                // jmp 0x1005 (inside)
                            0xff, 0xe0}});                             // jmp rax
  auto sites = FindProbeSites({{0x1000, code}}, kPolicy);
  ASSERT_TRUE(sites.ok());
  ASSERT_EQ(sites->exits.size(), 2u);
  EXPECT_EQ(sites->exits[0].kind, SiteKind::kTailJump);
  EXPECT_EQ(sites->exits[0].vaddr, 0x1006u);
  EXPECT_EQ(sites->exits[1].kind, SiteKind::kIndirectJump);
}

TEST(FindProbeSites, CalleesAreDirectTargetsOutsideTheFunction) {
  // endbr64; push rbx; call 0x3000 (outside); call 0x100f (inside: the pop);
  // pop rbx; jmp 0x5000 (tail call); call rax (indirect: no known target)
  auto code = Cat({kEndbr, {0x53, 0xe8, 0xf6, 0x1f, 0x00, 0x00,  // call 0x3000
                            0xe8, 0x00, 0x00, 0x00, 0x00,        // call 0x100f
                            0x5b, 0xe9, 0xeb, 0x3f, 0x00, 0x00,  // pop rbx; jmp 0x5000
                            0xff, 0xd0}});                       // call rax
  auto sites = FindProbeSites({{0x1000, code}}, kPolicy);
  ASSERT_TRUE(sites.ok()) << sites.status();
  EXPECT_EQ(sites->callees, (std::set<uint64_t>{0x3000, 0x5000}));
}

TEST(FindProbeSites, StaysOnEndbrWhenSomethingJumpsToTheNextInstruction) {
  // endbr64; push rbp (0x1004); pop rbp; jne 0x1004; ret
  auto code = Cat({kEndbr, {0x55, 0x5d, 0x75, 0xfc, 0xc3}});
  auto sites = FindProbeSites({{0x1000, code}}, kPolicy);
  ASSERT_TRUE(sites.ok());
  EXPECT_EQ(sites->entry.vaddr, 0x1000u);
  EXPECT_EQ(sites->entry.insn, "endbr64");
}

TEST(FindProbeSites, ColdPartReturnsAreExitsAndJumpsIntoItAreNot) {
  // main: endbr64; push rbp; jmp cold(0x2000); cold: pop rbp; ret
  auto main_part = Cat({kEndbr, {0x55, 0xe9, 0xf6, 0x0f, 0x00, 0x00}});  // jmp 0x2000
  std::vector<uint8_t> cold = {0x5d, 0xc3};
  auto sites = FindProbeSites({{0x1000, main_part}, {0x2000, cold}}, kPolicy);
  ASSERT_TRUE(sites.ok());
  ASSERT_EQ(sites->exits.size(), 1u);
  EXPECT_EQ(sites->exits[0].vaddr, 0x2001u);
  EXPECT_EQ(sites->exits[0].kind, SiteKind::kReturn);
}

TEST(FindProbeSites, AFunctionThatIsOnlyARetKeepsItsEntryApart) {
  auto code = Cat({kEndbr, {0xc3}});
  auto sites = FindProbeSites({{0x1000, code}}, kPolicy);
  ASSERT_TRUE(sites.ok());
  EXPECT_EQ(sites->entry.vaddr, 0x1000u);  // never the same address as an exit
  ASSERT_EQ(sites->exits.size(), 1u);
  EXPECT_EQ(sites->exits[0].vaddr, 0x1004u);
}

TEST(FindProbeSites, MovesPastInstructionsThatKeepWhatTheProgramReads) {
  // glibc's free: test rdi,rdi; je out; push rbp; ... out: ret
  std::vector<uint8_t> free_code = {0x48, 0x85, 0xff, 0x74, 0x02, 0x55, 0x5d, 0xc3};
  EntryPolicy needs_rdi = kPolicy;
  needs_rdi.needed_regs = {"rdi"};
  auto sites = FindProbeSites({{0x1000, free_code}}, needs_rdi);
  ASSERT_TRUE(sites.ok());
  EXPECT_EQ(sites->entry.vaddr, 0x1003u);
  EXPECT_EQ(sites->entry.insn, "je 0x1007");
  EXPECT_TRUE(sites->entry_emulated);
}

TEST(FindProbeSites, NeverMovesPastAWriteOfANeededRegister) {
  // mov edi,1; push rbp; ... : the entry program would read the wrong rdi.
  std::vector<uint8_t> code = {0xbf, 0x01, 0x00, 0x00, 0x00, 0x55, 0x5d, 0xc3};
  EntryPolicy needs_rdi = kPolicy;
  needs_rdi.needed_regs = {"rdi"};
  auto sites = FindProbeSites({{0x1000, code}}, needs_rdi);
  ASSERT_TRUE(sites.ok());
  EXPECT_EQ(sites->entry.vaddr, 0x1000u);
  EXPECT_FALSE(sites->entry_emulated);
  // Without the need, the push is fine.
  sites = FindProbeSites({{0x1000, code}}, kPolicy);
  EXPECT_EQ(sites->entry.vaddr, 0x1005u);
}

TEST(FindProbeSites, NeverMovesPastAStackPointerChange) {
  // sub rsp,8; push rbp: the return address is no longer at the stack pointer.
  std::vector<uint8_t> code = {0x48, 0x83, 0xec, 0x08, 0x55, 0x5d, 0xc3};
  auto sites = FindProbeSites({{0x1000, code}}, kPolicy);
  ASSERT_TRUE(sites.ok());
  EXPECT_EQ(sites->entry.vaddr, 0x1000u);
}

TEST(FindProbeSites, WithNothingEmulatedTheEntryIsTheFirstInstruction) {
  auto code = Cat({kEndbr, {0x55, 0x5d, 0xc3}});
  auto sites = FindProbeSites({{0x1000, code}}, EntryPolicy{});
  ASSERT_TRUE(sites.ok());
  EXPECT_EQ(sites->entry.vaddr, 0x1000u);
}

TEST(FindProbeSites, CountsCallsOutThroughPointersAndToItself) {
  // endbr64; push rbp; call rel32 (outside); call rax; call rel32 (to +0); pop rbp; ret
  auto code = Cat({kEndbr, {0x55, 0xe8, 0x00, 0x10, 0x00, 0x00,  // call 0x200a
                            0xff, 0xd0,                          // call rax
                            0xe8, 0xef, 0xff, 0xff, 0xff,        // call 0x1000
                            0x5d, 0xc3}});
  auto sites = FindProbeSites({{0x1000, code}}, kPolicy);
  ASSERT_TRUE(sites.ok()) << sites.status();
  EXPECT_EQ(sites->direct_calls, 1u);
  EXPECT_EQ(sites->indirect_calls, 1u);
  EXPECT_TRUE(sites->calls_itself);
  EXPECT_EQ(sites->entry.vaddr, 0x1004u);
}

TEST(InsnClass, GroupsWhatTheKernelTreatsAlike) {
  EXPECT_EQ(InsnClass("jne"), "jcc");
  EXPECT_EQ(InsnClass("jmp"), "jmp");
  EXPECT_EQ(InsnClass("nop"), "nop");
  EXPECT_EQ(InsnClass("nopl"), "nop");
  EXPECT_EQ(InsnClass("notrack jmp"), "jmp");
  EXPECT_EQ(InsnClass("push"), "push");
}

}  // namespace
}  // namespace gridprobe::symbols
