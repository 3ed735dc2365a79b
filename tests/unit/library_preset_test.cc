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

// Found by library_preset_fuzz: a key holding a newline (or a NUL) made a
// two-line error.
TEST(LibraryPreset, ErrorsQuotingTheFileStayOnOneLine) {
  for (const std::string& yaml : {std::string("name: x\n\"a\\nb\": 1\n"),
                                 std::string("name: x\nlibrary:\0\n  match: y\n", 29)}) {
    auto p = ParseLibraryPreset(yaml, "p.yaml");
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().message().find('\n'), absl::string_view::npos) << p.status();
    EXPECT_EQ(p.status().message().rfind("p.yaml:", 0), 0u) << p.status();
  }
}

TEST(LibraryPreset, UnknownNameListsWhereItLooked) {
  auto p = LoadLibraryPreset("nosuch", {"/a", "/b"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "no library preset 'nosuch' (looked in: /a/libraries/nosuch.yaml, "
            "/b/libraries/nosuch.yaml); run 'gridprobe presets list'");
}

// A preset read from `source` with operations named `prefix`0.. `prefix`n-1.
LibraryPreset Preset(const std::string& name, const std::string& source,
                     const std::string& prefix, int n) {
  std::string yaml = "name: " + name + "\nlibrary: {match: lib" + name + ".so}\noperations:\n";
  for (int i = 0; i < n; ++i) {
    yaml += "  - {name: " + prefix + std::to_string(i) + ", symbols: f" + std::to_string(i) + "}\n";
  }
  absl::StatusOr<LibraryPreset> p = ParseLibraryPreset(yaml, source);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : LibraryPreset{};
}

TEST(PresetsTogether, DistinctOperationsWithinTheLimitAreFine) {
  EXPECT_TRUE(CheckPresetsTogether({Preset("a", "/p/a.yaml", "a", 40),
                                    Preset("b", "/p/b.yaml", "b", 24)},
                                   64)
                  .ok());
  EXPECT_TRUE(CheckPresetsTogether({Preset("a", "/p/a.yaml", "a", 3)}, 64).ok());
}

TEST(PresetsTogether, AnOperationNameInTwoPresetsIsNamedWithBoth) {
  absl::Status st = CheckPresetsTogether(
      {Preset("a", "/p/a.yaml", "op", 2), Preset("b", "/p/b.yaml", "x", 1),
       Preset("c", "/p/c.yaml", "op", 3)},
      64);
  EXPECT_EQ(ExitCodeOf(st), ExitCode::kBadInput);
  EXPECT_EQ(st.message(),
            "operation 'op0' is in both library presets 'a' (/p/a.yaml) and 'c' (/p/c.yaml); "
            "the report, budgets and alerts name operations, so the presets of one run must "
            "not share a name: rename it in a copy of one preset and give that file");
}

TEST(PresetsTogether, MoreOperationsThanTheLimitAreCountedPerPreset) {
  absl::Status st = CheckPresetsTogether(
      {Preset("a", "/p/a.yaml", "a", 40), Preset("b", "/p/b.yaml", "b", 25)}, 64);
  EXPECT_EQ(ExitCodeOf(st), ExitCode::kBadInput);
  EXPECT_EQ(st.message(),
            "the library presets name 65 operations (a 40, b 25); gridprobe times at most 64 "
            "per run: profile fewer presets at once, or fewer operations in a copy of one");
  // One preset alone over the limit is refused the same way.
  st = CheckPresetsTogether({Preset("big", "/p/big.yaml", "op", 65)}, 64);
  EXPECT_EQ(st.message(),
            "the library presets name 65 operations (big 65); gridprobe times at most 64 "
            "per run: profile fewer presets at once, or fewer operations in a copy of one");
}

TEST(PresetsTogether, ThePresetGivenTwiceIsSaidSo) {
  absl::Status st = CheckPresetsTogether(
      {Preset("a", "/p/a.yaml", "a", 2), Preset("a", "/p/a.yaml", "a", 2)}, 64);
  EXPECT_EQ(ExitCodeOf(st), ExitCode::kBadInput);
  EXPECT_EQ(st.message(), "library preset 'a' (/p/a.yaml) is given twice");
}

}  // namespace
}  // namespace gridprobe::symbols
