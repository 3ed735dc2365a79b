#include "gridkit/gridkit.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace gridkit {
namespace {

using ::testing::TestWithParam;

std::vector<ColumnSpec> Schema() {
  return {{"id", ColumnType::kInt64},
          {"name", ColumnType::kString},
          {"price", ColumnType::kDouble},
          {"qty", ColumnType::kInt64}};
}

// Small value ranges on purpose, so that sort keys tie and groups have many rows.
std::vector<Row> RandomRows(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::vector<std::string> names = {"apple", "Banana", "cherry", "date", "Elder", "fig"};
  std::vector<Row> rows;
  for (size_t r = 0; r < n; ++r) {
    rows.push_back({static_cast<int64_t>(r), names[rng() % names.size()],
                    static_cast<double>(rng() % 50) / 4 - 2, static_cast<int64_t>(rng() % 7)});
  }
  return rows;
}

Grid Loaded(const std::vector<Row>& rows) {
  Grid grid(Schema());
  grid.setData(rows);
  grid.buildRowModel();
  return grid;
}

// The view, read back through a single page that holds all of it.
std::vector<uint32_t> View(const Grid& grid) {
  return grid.paginate(0, std::max<size_t>(1, grid.view_size())).rows;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(GridTest, OperationsBeforeBuildRowModelThrow) {
  Grid grid(Schema());
  grid.setData(RandomRows(10, 1));
  EXPECT_THROW(grid.filter({}), std::logic_error);
  EXPECT_THROW(grid.sort({{"id"}}), std::logic_error);
  EXPECT_THROW(grid.group({{"qty"}, {}}), std::logic_error);
  EXPECT_THROW(grid.paginate(0, 10), std::logic_error);
  EXPECT_THROW(grid.render(Page{}, {}), std::logic_error);
}

TEST(GridTest, RejectsBadSchemaAndRows) {
  EXPECT_THROW(Grid({{"a", ColumnType::kInt64}, {"a", ColumnType::kDouble}}),
               std::invalid_argument);
  Grid grid(Schema());
  EXPECT_THROW(grid.setData({{int64_t{1}, std::string("x"), 1.0}}), std::invalid_argument);
  EXPECT_THROW(grid.setData({{std::string("1"), std::string("x"), 1.0, int64_t{1}}}),
               std::invalid_argument);
  // An int64 is accepted for a double column.
  grid.setData({{int64_t{1}, std::string("x"), int64_t{3}, int64_t{1}}});
  EXPECT_EQ(grid.row_count(), 1u);
}

TEST(GridTest, BuildRowModelResetsViewToAllRows) {
  Grid grid = Loaded(RandomRows(100, 2));
  grid.filter({{{"qty", FilterOp::kLess, int64_t{2}}}, ""});
  ASSERT_LT(grid.view_size(), 100u);
  grid.buildRowModel();
  std::vector<uint32_t> expected(100);
  for (uint32_t i = 0; i < 100; ++i) expected[i] = i;
  EXPECT_EQ(View(grid), expected);
}

TEST(GridTest, FilterMatchesBruteForce) {
  std::vector<Row> rows = RandomRows(2000, 3);
  Grid grid = Loaded(rows);
  struct Case {
    FilterSpec spec;
    bool (*matches)(const Row&);
  };
  std::vector<Case> cases = {
      {{{{"qty", FilterOp::kEquals, int64_t{3}}}, ""},
       [](const Row& r) { return std::get<int64_t>(r[3]) == 3; }},
      {{{{"price", FilterOp::kGreater, 4.5}}, ""},
       [](const Row& r) { return std::get<double>(r[2]) > 4.5; }},
      {{{{"price", FilterOp::kLess, int64_t{0}}, {"qty", FilterOp::kGreater, 1.5}}, ""},
       [](const Row& r) { return std::get<double>(r[2]) < 0 && std::get<int64_t>(r[3]) > 1; }},
      {{{{"name", FilterOp::kLess, std::string("cherry")}}, ""},
       [](const Row& r) { return std::get<std::string>(r[1]) < "cherry"; }},
      {{{{"name", FilterOp::kContains, std::string("AN")}}, ""},
       [](const Row& r) {
         return Lower(std::get<std::string>(r[1])).find("an") != std::string::npos;
       }},
      {{{{"price", FilterOp::kContains, std::string(".25")}}, ""},
       [](const Row& r) {
         char buf[64];
         std::snprintf(buf, sizeof(buf), "%.2f", std::get<double>(r[2]));
         return std::string(buf).find(".25") != std::string::npos;
       }},
      {{{}, "eLd"}, [](const Row& r) { return std::get<std::string>(r[1]) == "Elder"; }},
      // "10" appears in ids (10, 100..109, 110, ...) and in prices such as 10.00.
      {{{}, "10"},
       [](const Row& r) {
         char price[64];
         std::snprintf(price, sizeof(price), "%.2f", std::get<double>(r[2]));
         return std::to_string(std::get<int64_t>(r[0])).find("10") != std::string::npos ||
                std::string(price).find("10") != std::string::npos;
       }},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::vector<uint32_t> expected;
    for (uint32_t r = 0; r < rows.size(); ++r) {
      if (cases[i].matches(rows[r])) expected.push_back(r);
    }
    ASSERT_FALSE(expected.empty()) << "case " << i << " tests nothing";
    EXPECT_EQ(grid.filter(cases[i].spec), expected.size()) << "case " << i;
    EXPECT_EQ(View(grid), expected) << "case " << i;
  }
}

TEST(GridTest, FilterRejectsTypeMismatch) {
  Grid grid = Loaded(RandomRows(10, 4));
  EXPECT_THROW(grid.filter({{{"name", FilterOp::kEquals, int64_t{1}}}, ""}), std::invalid_argument);
  EXPECT_THROW(grid.filter({{{"qty", FilterOp::kEquals, std::string("1")}}, ""}),
               std::invalid_argument);
  EXPECT_THROW(grid.filter({{{"nope", FilterOp::kEquals, int64_t{1}}}, ""}), std::invalid_argument);
}

TEST(GridTest, SortIsStableAndMultiKey) {
  std::vector<Row> rows = RandomRows(3000, 5);
  Grid grid = Loaded(rows);
  grid.filter({{{"qty", FilterOp::kGreater, int64_t{0}}}, ""});
  std::vector<uint32_t> expected = View(grid);
  grid.sort({{"name"}, {"price", true}});
  std::stable_sort(expected.begin(), expected.end(), [&rows](uint32_t a, uint32_t b) {
    const std::string& na = std::get<std::string>(rows[a][1]);
    const std::string& nb = std::get<std::string>(rows[b][1]);
    if (na != nb) return na < nb;
    return std::get<double>(rows[a][2]) > std::get<double>(rows[b][2]);
  });
  EXPECT_EQ(View(grid), expected);

  // A second sort starts from the first one's order: stability across calls.
  grid.sort({{"qty", true}});
  std::stable_sort(expected.begin(), expected.end(), [&rows](uint32_t a, uint32_t b) {
    return std::get<int64_t>(rows[a][3]) > std::get<int64_t>(rows[b][3]);
  });
  EXPECT_EQ(View(grid), expected);
}

TEST(GridTest, SortPutsNanLast) {
  Grid grid(Schema());
  grid.setData({{int64_t{0}, std::string("a"), std::nan(""), int64_t{0}},
                {int64_t{1}, std::string("a"), 2.0, int64_t{0}},
                {int64_t{2}, std::string("a"), -1.0, int64_t{0}}});
  grid.buildRowModel();
  grid.sort({{"price"}});
  EXPECT_EQ(View(grid), (std::vector<uint32_t>{2, 1, 0}));
}

TEST(GridTest, GroupMatchesBruteForce) {
  std::vector<Row> rows = RandomRows(2500, 6);
  Grid grid = Loaded(rows);
  grid.filter({{{"price", FilterOp::kGreater, 0.0}}, ""});
  std::vector<uint32_t> view = View(grid);
  GroupResult result = grid.group({{"name", "qty"},
                                   {{AggregateFn::kCount, ""},
                                    {AggregateFn::kSum, "price"},
                                    {AggregateFn::kAvg, "price"},
                                    {AggregateFn::kMin, "price"},
                                    {AggregateFn::kMax, "id"}}});
  struct Acc {
    int64_t n = 0;
    double sum = 0, min = 1e300, max_id = -1;
  };
  std::map<std::pair<std::string, int64_t>, Acc> expected;
  for (uint32_t r : view) {
    Acc& a = expected[{std::get<std::string>(rows[r][1]), std::get<int64_t>(rows[r][3])}];
    double price = std::get<double>(rows[r][2]);
    ++a.n;
    a.sum += price;
    a.min = std::min(a.min, price);
    a.max_id = std::max(a.max_id, static_cast<double>(std::get<int64_t>(rows[r][0])));
  }
  ASSERT_EQ(result.groups.size(), expected.size());
  size_t i = 0;
  for (const auto& [key, acc] : expected) {  // std::map order is the promised key order.
    const GroupResult::Group& g = result.groups[i++];
    EXPECT_EQ(std::get<std::string>(g.key[0]), key.first);
    EXPECT_EQ(std::get<int64_t>(g.key[1]), key.second);
    EXPECT_EQ(g.rows, acc.n);
    ASSERT_EQ(g.values.size(), 5u);
    EXPECT_EQ(g.values[0], acc.n);
    EXPECT_DOUBLE_EQ(g.values[1], acc.sum);
    EXPECT_DOUBLE_EQ(g.values[2], acc.sum / acc.n);
    EXPECT_EQ(g.values[3], acc.min);
    EXPECT_EQ(g.values[4], acc.max_id);
  }
}

TEST(GridTest, GroupRejectsStringAggregateAndEmptyKey) {
  Grid grid = Loaded(RandomRows(10, 7));
  EXPECT_THROW(grid.group({{}, {}}), std::invalid_argument);
  EXPECT_THROW(grid.group({{"qty"}, {{AggregateFn::kSum, "name"}}}), std::invalid_argument);
}

TEST(GridTest, PaginateSlicesAndClamps) {
  Grid grid = Loaded(RandomRows(95, 8));
  Page page = grid.paginate(2, 20);
  EXPECT_EQ(page.page_count, 5u);
  EXPECT_EQ(page.index, 2u);
  EXPECT_EQ(page.total_rows, 95u);
  ASSERT_EQ(page.rows.size(), 20u);
  EXPECT_EQ(page.rows.front(), 40u);
  // Short names: every row is one line high.
  EXPECT_EQ(page.row_top.front(), 40u * 24);
  EXPECT_EQ(page.total_height, 95u * 24);

  Page last = grid.paginate(99, 20);
  EXPECT_EQ(last.index, 4u);
  EXPECT_EQ(last.rows.size(), 15u);

  grid.filter({{{"qty", FilterOp::kGreater, int64_t{100}}}, ""});
  Page empty = grid.paginate(3, 20);
  EXPECT_EQ(empty.page_count, 1u);
  EXPECT_EQ(empty.index, 0u);
  EXPECT_TRUE(empty.rows.empty());
  EXPECT_THROW(grid.paginate(0, 0), std::invalid_argument);
}

TEST(GridTest, PaginateMeasuresWrappedText) {
  Grid grid(Schema());
  // Wrap width is 20 columns.
  grid.setData({{int64_t{0}, std::string("short"), 0.0, int64_t{0}},
                {int64_t{1}, std::string("twelve chars and then some more"), 0.0, int64_t{0}},
                {int64_t{2}, std::string(45, 'x'), 0.0, int64_t{0}}});
  grid.buildRowModel();
  Page page = grid.paginate(0, 10);
  EXPECT_EQ(page.row_top, (std::vector<uint64_t>{0, 24, 24 + 40}));
  EXPECT_EQ(page.total_height, 24u + 40 + 56);
}

TEST(GridTest, RenderFormatsCells) {
  Grid grid(Schema());
  grid.setData(
      {{int64_t{1234567}, std::string("a rather long product name"), -9876.5, int64_t{-1000}},
       {int64_t{7}, std::string("b"), 0.125, int64_t{0}}});
  grid.buildRowModel();
  Page page = grid.paginate(0, 10);
  RenderedPage out = grid.render(page, {.decimals = 2, .max_column_width = 12});
  EXPECT_EQ(out.header, (std::vector<std::string>{"id", "name", "price", "qty"}));
  ASSERT_EQ(out.cells.size(), 2u);
  EXPECT_EQ(out.cells[0],
            (std::vector<std::string>{"1,234,567", "a rather ...", "-9,876.50", "-1,000"}));
  EXPECT_EQ(out.cells[1][2], "0.12");  // Round half to even, as printf does.
  ASSERT_EQ(out.lines.size(), 3u);
  EXPECT_EQ(out.lines[2], "        7 | b            |      0.12 |      0");

  RenderedPage plain = grid.render(page, {.decimals = 0, .thousands_separators = false});
  EXPECT_EQ(plain.cells[0][0], "1234567");
  EXPECT_EQ(plain.cells[0][2], "-9876");  // -9876.5 rounds to even.
  EXPECT_THROW(grid.render(page, {.decimals = 10}), std::invalid_argument);
}

TEST(GridTest, RenderRejectsRowsOfOtherData) {
  Grid grid = Loaded(RandomRows(50, 9));
  Page page = grid.paginate(1, 20);
  grid.setData(RandomRows(10, 9));
  grid.buildRowModel();
  EXPECT_THROW(grid.render(page, {}), std::out_of_range);
}

// Every operation as a call on a loaded grid, by checkpoint name.
struct OpCase {
  const char* name;
  void (*call)(Grid&, const ExecContext*);
};

const OpCase kOps[] = {
    {"rowModelBuild", [](Grid& g, const ExecContext* c) { g.buildRowModel(c); }},
    {"filter",
     [](Grid& g, const ExecContext* c) {
       g.filter({{{"qty", FilterOp::kLess, int64_t{5}}}, "a"}, c);
     }},
    {"sort",
     [](Grid& g, const ExecContext* c) {
       g.sort({{"name"}, {"price", true}}, c);
     }},
    {"group",
     [](Grid& g, const ExecContext* c) {
       g.group({{"name"}, {{AggregateFn::kSum, "qty"}}}, c);
     }},
    {"paginate", [](Grid& g, const ExecContext* c) { g.paginate(1, 100, c); }},
    {"render", [](Grid& g, const ExecContext* c) { g.render(g.paginate(0, 50), {}, c); }},
};

class CheckpointTest : public TestWithParam<OpCase> {};

TEST_P(CheckpointTest, StageZeroFirstAndOnlyOnce) {
  // Enough rows for the per-row checkpoints to fire too.
  Grid grid = Loaded(RandomRows(40000, 10));
  std::vector<std::pair<std::string, int>> seen;
  ExecContext ctx{[&seen](const char* op, int stage) { seen.emplace_back(op, stage); }};
  GetParam().call(grid, &ctx);
  ASSERT_GE(seen.size(), 2u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].first, GetParam().name);
    EXPECT_EQ(seen[i].second, static_cast<int>(i));
  }
}

TEST_P(CheckpointTest, ThrowAtAnyStageLeavesGridUnchanged) {
  Grid grid = Loaded(RandomRows(40000, 11));
  grid.filter({{{"qty", FilterOp::kGreater, int64_t{2}}}, ""});
  grid.sort({{"price"}});
  const std::vector<uint32_t> before = View(grid);

  // Cancel at stage 0, 1, 2, ... until a call gets through all of its stages.
  int fail_at = 0;
  for (;; ++fail_at) {
    ExecContext ctx{[fail_at](const char*, int stage) {
      if (stage == fail_at) throw std::runtime_error("cancelled");
    }};
    try {
      GetParam().call(grid, &ctx);
      break;
    } catch (const std::runtime_error&) {
    }
    ASSERT_EQ(View(grid), before) << "cancelled at stage " << fail_at;
  }
  EXPECT_GE(fail_at, 2);
}

INSTANTIATE_TEST_SUITE_P(AllOps, CheckpointTest, ::testing::ValuesIn(kOps),
                         [](const ::testing::TestParamInfo<OpCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(GridTest, NullContextAndEmptyCheckpointAreFine) {
  Grid grid = Loaded(RandomRows(100, 12));
  ExecContext empty;
  grid.buildRowModel(&empty);
  grid.filter({}, nullptr);
  grid.sort({{"id", true}}, &empty);
  EXPECT_EQ(View(grid).front(), 99u);
}

}  // namespace
}  // namespace gridkit
