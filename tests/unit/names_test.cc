#include "symbols/names.h"

#include <gtest/gtest.h>

namespace gridprobe::symbols {
namespace {

TEST(StripParameters, RemovesTheParameterListOnly) {
  EXPECT_EQ(StripParameters("gridkit::Grid::sort(gridkit::SortSpec const&) const"),
            "gridkit::Grid::sort");
  EXPECT_EQ(StripParameters("ns::g<int (*)(int)>(int)"), "ns::g<int (*)(int)>");
  EXPECT_EQ(StripParameters("Cls::operator()(int)"), "Cls::operator()");
  EXPECT_EQ(StripParameters("(anonymous namespace)::helper(int)"),
            "(anonymous namespace)::helper");
  EXPECT_EQ(StripParameters("sqlite3_step"), "sqlite3_step");
}

TEST(GlobMatch, StarAndQuestionMark) {
  EXPECT_TRUE(GlobMatch("gridkit::Grid::sort*", "gridkit::Grid::sortRows"));
  EXPECT_TRUE(GlobMatch("libgridkit.so*", "libgridkit.so.1"));
  EXPECT_TRUE(GlobMatch("sqlite3_?tep", "sqlite3_step"));
  EXPECT_FALSE(GlobMatch("libgridkit.so*", "libgridkitx.so"));
  EXPECT_FALSE(GlobMatch("sort", "sorted"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("Vec::operator[]", "Vec::operator[]"));  // '[' is literal
}

TEST(SymbolMatches, DemangledWithoutParamsMangledExactly) {
  const char* mangled = "_ZN7gridkit4Grid4sortERKNS_8SortSpecEPKNS_11ExecContextE";
  const char* demangled =
      "gridkit::Grid::sort(gridkit::SortSpec const&, gridkit::ExecContext const*)";
  EXPECT_TRUE(SymbolMatches("gridkit::Grid::sort", mangled, demangled));
  EXPECT_TRUE(SymbolMatches("gridkit::*::sort", mangled, demangled));
  EXPECT_TRUE(SymbolMatches(mangled, mangled, demangled));
  EXPECT_TRUE(SymbolMatches("gridkit::Grid::sort(gridkit::SortSpec const&*", mangled, demangled));
  EXPECT_FALSE(SymbolMatches("gridkit::Grid::sor", mangled, demangled));
  EXPECT_FALSE(SymbolMatches("gridkit::Grid::sort(int)", mangled, demangled));
}

}  // namespace
}  // namespace gridprobe::symbols
