#include "symbols/library_preset.h"

#include <gtest/gtest.h>

#include "base/status.h"

namespace gridprobe::symbols {
namespace {

TEST(LibraryPreset, ParsesOperations) {
  auto p = ParseLibraryPreset(R"(
name: demo
library:
  match: ["libdemo.so*", "demo"]
operations:
  - name: sort
    symbols: "demo::sort*"
  - name: flush
    symbols: [flush_a, flush_b]
    impact: background
    return: fast
  - name: scan
    symbols: scan
    return: safe
)", "demo.yaml");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "demo");
  EXPECT_EQ(p->match, (std::vector<std::string>{"libdemo.so*", "demo"}));
  ASSERT_EQ(p->operations.size(), 3u);
  EXPECT_EQ(p->operations[0].return_request, ReturnRequest::kAuto);
  EXPECT_EQ(p->operations[1].return_request, ReturnRequest::kFast);
  EXPECT_EQ(p->operations[2].return_request, ReturnRequest::kSafe);
  EXPECT_EQ(p->operations[0].symbols, std::vector<std::string>{"demo::sort*"});
  EXPECT_EQ(p->operations[0].impact, "userVisible");
  EXPECT_EQ(p->operations[1].impact, "background");
}

struct BadCase {
  const char* yaml;
  const char* message;
};

class LibraryPresetErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(LibraryPresetErrors, NameFileLineAndColumn) {
  auto p = ParseLibraryPreset(GetParam().yaml, "p.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(ExitCodeOf(p.status()), ExitCode::kBadInput);
  EXPECT_EQ(std::string(p.status().message()), std::string(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LibraryPresetErrors,
    ::testing::Values(
        BadCase{"name: x\nlibrary: {match: a}\noperations:\n  - name: s\n    symbol: f\n",
                "p.yaml:5:5: unknown key 'symbol' in an operation (expected one of: impact, "
                "name, return, symbols)"},
        BadCase{"name: x\nlibrary: {match: a}\noperations:\n  - name: s\n    symbols: f\n"
                "    return: quick\n",
                "p.yaml:6:13: return must be 'auto', 'safe' or 'fast', not 'quick'"},
        BadCase{"name: x\nlibrary: {match: a}\noperations:\n  - name: s\n    symbols: f\n"
                "    impact: urgent\n",
                "p.yaml:6:13: impact must be 'userVisible' or 'background', not 'urgent'"},
        BadCase{"name: x\noperations: [{name: s, symbols: f}]\n",
                "p.yaml:1:1: the preset needs 'library:' with 'match:' (the library's file "
                "name glob)"},
        BadCase{"name: x\nlibrary: {match: a}\noperations:\n  - {name: s, symbols: f}\n"
                "  - {name: s, symbols: g}\n",
                "p.yaml:5:12: operation 's' is defined twice"},
        BadCase{"name: x\nlibrary: {match: a}\noperations: []\n",
                "p.yaml:3:13: the preset needs 'operations:', a non-empty list"},
        BadCase{"name: [x\n", "p.yaml:2:1: end of sequence flow not found"}));

TEST(LibraryPreset, UnknownNameListsWhereItLooked) {
  auto p = LoadLibraryPreset("nosuch", {"/a", "/b"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "no library preset 'nosuch' (looked in: /a/libraries/nosuch.yaml, "
            "/b/libraries/nosuch.yaml); run 'gridprobe presets list'");
}

}  // namespace
}  // namespace gridprobe::symbols
