// gridkit: an in-memory data grid engine (typed columns, filter, sort, group, paginate, render).
//
// Typical use, one call per user interaction:
//
//   using gridkit::ColumnType;
//   gridkit::Grid grid({{"id", ColumnType::kInt64}, {"name", ColumnType::kString}});
//   grid.setData(rows);
//   grid.buildRowModel();
//   grid.filter({.search = "ann"});
//   grid.sort({{"name"}});
//   gridkit::Page page = grid.paginate(0, 50);
//   gridkit::RenderedPage out = grid.render(page, {});
//
// The method names follow the JavaScript grid libraries this API is modelled on (setData, not
// SetData); the profiler presets refer to them by these names.
//
// Thread safety: a Grid is not synchronized. Const methods may run concurrently with each other;
// anything else needs external locking. Distinct Grids are independent.
//
// Errors: invalid arguments throw std::invalid_argument / std::out_of_range, calling an operation
// before buildRowModel() throws std::logic_error. Whatever an operation throws (including an
// exception from ExecContext::checkpoint), the Grid is left exactly as it was before the call.

#ifndef GRIDKIT_GRIDKIT_H_
#define GRIDKIT_GRIDKIT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace gridkit {

enum class ColumnType : uint8_t { kInt64, kDouble, kString };

struct ColumnSpec {
  std::string name;
  ColumnType type;
};

// One cell. Its alternative must match the column's type, except that an int64 is accepted for
// a double column.
using Value = std::variant<int64_t, double, std::string>;
using Row = std::vector<Value>;

// Lets the caller observe and cancel long operations.
struct ExecContext {
  // Every operation calls this with its name ("rowModelBuild", "filter", "sort", "group",
  // "paginate", "render"): with stage 0 exactly once, first thing in the call, then with
  // increasing stages between phases and every few thousand rows. An exception thrown here
  // propagates out of the operation to its caller.
  std::function<void(const char* op, int stage)> checkpoint;
};

enum class FilterOp : uint8_t { kEquals, kLess, kGreater, kContains };

struct ColumnFilter {
  std::string column;
  FilterOp op;
  // kContains takes a string and matches case-insensitively against the cell's text (numbers
  // are matched in their search text form, see FilterSpec::search). The other ops compare
  // typed values: a number for a numeric column, a string (byte order) for a string column.
  Value value;
};

struct FilterSpec {
  std::vector<ColumnFilter> predicates;  // A row must satisfy all of them.
  // Case-insensitive substring searched in every cell of the row; empty matches all rows.
  // Numbers are searched as written by render() with default options minus separators
  // ("1234.50", "42").
  std::string search;
};

struct SortKey {
  std::string column;
  bool descending = false;
};

enum class AggregateFn : uint8_t { kCount, kSum, kAvg, kMin, kMax };

struct Aggregate {
  AggregateFn fn;
  std::string column;  // A numeric column; ignored for kCount.
};

struct GroupSpec {
  std::vector<std::string> by;  // At least one column.
  std::vector<Aggregate> aggregates;
};

struct GroupResult {
  struct Group {
    std::vector<Value> key;  // One value per GroupSpec::by column.
    int64_t rows = 0;
    std::vector<double> values;  // One per GroupSpec::aggregates entry.
  };
  std::vector<Group> groups;  // Ascending by key, columns in GroupSpec::by order.
};

struct Page {
  size_t index = 0;  // Requested index clamped to [0, page_count).
  size_t size = 0;
  size_t page_count = 0;          // At least 1, even for an empty view.
  size_t total_rows = 0;          // Rows in the view.
  std::vector<uint32_t> rows;     // Data row ids on this page, in view order.
  std::vector<uint64_t> row_top;  // Pixel offset of each page row from the top of the view.
  uint64_t total_height = 0;      // Pixel height of the whole view (auto-height rows).
};

struct RenderOptions {
  int decimals = 2;  // For double columns, 0..9.
  bool thousands_separators = true;
  size_t max_column_width = 24;  // Longer text is cut and ends with "..."; at least 4.
};

struct RenderedPage {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> cells;  // [page row][column]
  std::vector<std::string> lines;  // Header then rows, padded to column widths, " | " between.
};

namespace internal {
struct GridState;
}  // namespace internal

class Grid {
 public:
  // REQUIRES: column names are unique and non-empty.
  explicit Grid(std::vector<ColumnSpec> schema);
  ~Grid();
  // A moved-from Grid may only be destroyed or assigned to.
  Grid(Grid&& other) noexcept;
  Grid& operator=(Grid&& other) noexcept;
  Grid(const Grid&) = delete;
  Grid& operator=(const Grid&) = delete;

  const std::vector<ColumnSpec>& schema() const;
  size_t row_count() const;
  size_t view_size() const;

  // Replaces all data. Every row must have one value per column, of the column's type. At most
  // 2^32-1 rows. Invalidates the row model: call buildRowModel() before any other operation.
  void setData(const std::vector<Row>& rows);

  // Builds the indexes the other operations run on (string dictionaries, search text) and
  // resets the view to all rows in data order.
  void buildRowModel(const ExecContext* ctx = nullptr);

  // Replaces the view by the rows, in data order, that match `spec`. Returns the view size.
  size_t filter(const FilterSpec& spec, const ExecContext* ctx = nullptr);

  // Reorders the view by `keys`, first key most significant. Stable: rows comparing equal keep
  // their relative order.
  void sort(const std::vector<SortKey>& keys, const ExecContext* ctx = nullptr);

  // Aggregates the rows of the view per distinct key.
  GroupResult group(const GroupSpec& spec, const ExecContext* ctx = nullptr) const;

  // Slices the view into pages. REQUIRES: page_size > 0.
  Page paginate(size_t page_index, size_t page_size, const ExecContext* ctx = nullptr) const;

  // Formats the cells of `page` as text. REQUIRES: `page` came from this grid's current data.
  RenderedPage render(const Page& page, const RenderOptions& options,
                      const ExecContext* ctx = nullptr) const;

 private:
  std::unique_ptr<internal::GridState> state_;
};

}  // namespace gridkit

#endif  // GRIDKIT_GRIDKIT_H_
