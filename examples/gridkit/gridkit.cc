#include "gridkit/gridkit.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string_view>
#include <unordered_set>
#include <utility>

// Layout rule for this file: the seven public operations (setData ... render) never call one
// another, and everything they share lives in the anonymous namespace. Profilers find an
// operation by its symbol, so one operation's time must never show up under another's name.
// For the same reason no lambda or local class is defined inside an operation: their template
// instantiations would carry the operation's name in their own symbols.

namespace gridkit {
namespace {

// Strings packed in one buffer: one allocation per column instead of one per value, and scans
// over all values read memory in order.
class StringPool {
 public:
  size_t size() const { return ends_.size(); }
  std::string_view operator[](size_t i) const {
    size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(bytes_.data() + begin, ends_[i] - begin);
  }
  void Reserve(size_t strings, size_t bytes) {
    ends_.reserve(strings);
    bytes_.reserve(bytes);
  }
  void Add(std::string_view text) {
    bytes_.append(text);
    ends_.push_back(bytes_.size());
  }
  // The last added string, writable in place.
  char* LastData() { return bytes_.data() + (ends_.size() < 2 ? 0 : ends_[ends_.size() - 2]); }

 private:
  std::string bytes_;
  std::vector<size_t> ends_;
};

// Open-addressing hash index of dense ids 0, 1, 2, ... whose keys the caller stores: one flat
// array instead of a node per key, which matters when a column has a distinct value per row.
class IdTable {
 public:
  explicit IdTable(size_t expected) {
    size_t capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    slots_.assign(capacity, Slot{});
  }

  // Returns the id of the key equal to the probed one (`equals(id)` decides), or records
  // `new_id` for it. The bool is true when inserted.
  template <typename Equals>
  std::pair<uint32_t, bool> FindOrInsert(uint64_t hash, uint32_t new_id, const Equals& equals) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    uint32_t tag = static_cast<uint32_t>(hash >> 32);
    size_t mask = slots_.size() - 1;
    for (size_t i = static_cast<size_t>(hash) & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.id_plus_one == 0) {
        slot = Slot{new_id + 1, tag, static_cast<uint32_t>(hash)};
        ++size_;
        return {new_id, true};
      }
      if (slot.tag == tag && equals(slot.id_plus_one - 1)) return {slot.id_plus_one - 1, false};
    }
  }

 private:
  struct Slot {
    uint32_t id_plus_one = 0;  // 0 = empty.
    uint32_t tag = 0;          // High half of the hash: cheap rejection before equals().
    uint32_t low = 0;          // Low half, to rehash without the keys.
  };

  void Grow() {
    std::vector<Slot> old(slots_.size() * 2, Slot{});
    old.swap(slots_);
    size_t mask = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.id_plus_one == 0) continue;
      size_t i = slot.low & mask;
      while (slots_[i].id_plus_one != 0) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

// Sorted distinct values of a string column. Rows hold codes, so code order is byte order and
// string predicates are evaluated once per distinct value instead of once per row.
struct Dictionary {
  StringPool values;
  StringPool lowered;
  std::vector<uint32_t> codes;  // One per row.
};

struct Column {
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
};

struct RowModel {
  bool built = false;
  std::vector<Dictionary> dictionaries;  // Per column; empty for numeric columns.
  // Lower-cased text of every row, cells separated by kCellSeparator, so that a global search
  // is one substring scan per row rather than a formatting pass over every cell.
  std::string search_text;
  std::vector<size_t> search_offsets;  // Row r is [offsets[r], offsets[r + 1]).
};

constexpr char kCellSeparator = '\x1f';
// Often enough that a cancellation lands within about a millisecond at 20k rows per ms.
constexpr size_t kRowsPerCheckpoint = 16384;
constexpr uint64_t kRowBasePx = 24;
constexpr uint64_t kRowLinePx = 16;
constexpr size_t kWrapColumns = 20;

}  // namespace

namespace internal {

struct GridState {
  std::vector<ColumnSpec> schema;
  std::vector<Column> columns;
  size_t rows = 0;
  RowModel model;
  std::vector<uint32_t> view;  // Data row ids in display order.
};

}  // namespace internal

namespace {

using internal::GridState;

class Checkpoints {
 public:
  Checkpoints(const ExecContext* ctx, const char* op)
      : fn_(ctx != nullptr && ctx->checkpoint ? &ctx->checkpoint : nullptr), op_(op) {}

  void Next() {
    if (fn_ != nullptr) (*fn_)(op_, stage_++);
  }
  // For loops: call with the loop position of every row.
  void Row(size_t i) {
    if (i % kRowsPerCheckpoint == kRowsPerCheckpoint - 1) Next();
  }

 private:
  const std::function<void(const char*, int)>* fn_;
  const char* op_;
  int stage_ = 0;
};

const GridState& RequireModel(const GridState& s) {
  if (!s.model.built) {
    throw std::logic_error("gridkit: buildRowModel() must be called after setData()");
  }
  return s;
}

size_t ResolveColumn(const GridState& s, const std::string& name) {
  for (size_t c = 0; c < s.schema.size(); ++c) {
    if (s.schema[c].name == name) return c;
  }
  throw std::invalid_argument("gridkit: no column named '" + name + "'");
}

void LowerAscii(char* text, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    if (text[i] >= 'A' && text[i] <= 'Z') text[i] = static_cast<char>(text[i] - 'A' + 'a');
  }
}

void LowerAscii(std::string& text) { LowerAscii(text.data(), text.size()); }

// Plain text of a number as used by search and kContains: no separators, doubles with two
// decimals (what a user sees with default render options).
void AppendSearchNumber(std::string& out, int64_t v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

void AppendSearchNumber(std::string& out, double v) {
  char buf[400];  // Fixed notation of DBL_MAX has 309 digits.
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, 2);
  out.append(buf, end);
}

// Inserts a ',' every three digits of the integer part of a plain decimal number ("-1234.5").
std::string GroupThousands(std::string_view number) {
  size_t digits_begin = (!number.empty() && number[0] == '-') ? 1 : 0;
  size_t digits_end = number.find('.');
  if (digits_end == std::string_view::npos) digits_end = number.size();
  size_t digits = digits_end - digits_begin;
  std::string out;
  out.reserve(number.size() + digits / 3);
  out.append(number.substr(0, digits_begin));
  for (size_t i = 0; i < digits; ++i) {
    if (i != 0 && (digits - i) % 3 == 0) out.push_back(',');
    out.push_back(number[digits_begin + i]);
  }
  out.append(number.substr(digits_end));
  return out;
}

std::string FormatInt(int64_t v, bool separators) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  std::string_view text(buf, static_cast<size_t>(end - buf));
  return separators ? GroupThousands(text) : std::string(text);
}

std::string FormatDouble(double v, int decimals, bool separators) {
  if (!std::isfinite(v)) return std::isnan(v) ? "NaN" : (v > 0 ? "Inf" : "-Inf");
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, decimals);
  std::string_view text(buf, static_cast<size_t>(end - buf));
  return separators ? GroupThousands(text) : std::string(text);
}

// Display width: code points, assuming valid UTF-8.
size_t TextWidth(std::string_view text) {
  size_t width = 0;
  for (char ch : text) width += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return width;
}

// Cuts `text` to `max_width` code points, ending in "...", never inside a UTF-8 sequence.
void Truncate(std::string& text, size_t max_width) {
  if (TextWidth(text) <= max_width) return;
  size_t keep = max_width - 3;
  size_t pos = 0;
  for (size_t seen = 0; pos < text.size(); ++pos) {
    if ((static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80) {
      if (seen == keep) break;
      ++seen;
    }
  }
  text.resize(pos);
  text.append("...");
}

// Greedy word wrap at kWrapColumns; a word longer than a line is broken across lines.
uint64_t WrappedLines(std::string_view text) {
  uint64_t lines = 1;
  size_t line = 0;  // Width used on the current line.
  size_t pos = 0;
  while (true) {
    size_t space = text.find(' ', pos);
    size_t end = space == std::string_view::npos ? text.size() : space;
    size_t word = end - pos;
    if (line != 0 && line + 1 + word <= kWrapColumns) {
      line += 1 + word;
    } else {
      if (line != 0) {
        ++lines;
      }
      lines += word == 0 ? 0 : (word - 1) / kWrapColumns;
      line = word == 0 ? 0 : (word - 1) % kWrapColumns + 1;
    }
    if (space == std::string_view::npos) return lines;
    pos = space + 1;
  }
}

// Wrapped line counts of the values of every string column, indexed by dictionary code.
struct TextHeights {
  std::vector<const uint32_t*> codes;
  std::vector<std::vector<uint16_t>> lines;
};

TextHeights MeasureText(const GridState& s, Checkpoints& checkpoints) {
  TextHeights heights;
  for (size_t c = 0; c < s.columns.size(); ++c) {
    if (s.schema[c].type != ColumnType::kString) continue;
    const Dictionary& dict = s.model.dictionaries[c];
    std::vector<uint16_t>& lines = heights.lines.emplace_back(dict.values.size());
    for (size_t code = 0; code < dict.values.size(); ++code) {
      checkpoints.Row(code);
      lines[code] =
          static_cast<uint16_t>(std::min<uint64_t>(WrappedLines(dict.values[code]), UINT16_MAX));
    }
    heights.codes.push_back(dict.codes.data());
  }
  return heights;
}

uint64_t RowHeight(const TextHeights& heights, uint32_t row) {
  uint64_t lines = 1;
  for (size_t i = 0; i < heights.codes.size(); ++i) {
    lines = std::max<uint64_t>(lines, heights.lines[i][heights.codes[i][row]]);
  }
  return kRowBasePx + (lines - 1) * kRowLinePx;
}

// Total order for doubles with NaN after everything, as a three-way result.
int CompareDoubles(double a, double b) {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a == b) return 0;
  return std::isnan(a) - std::isnan(b);
}

template <typename T>
int CompareValues(T a, T b) {
  return (a > b) - (a < b);
}

Dictionary BuildDictionary(const std::vector<std::string>& cells, Checkpoints& checkpoints) {
  // First pass assigns codes in order of appearance; the remap below makes them sorted.
  IdTable first_codes(64);
  std::vector<std::string_view> distinct;
  Dictionary dict;
  dict.codes.resize(cells.size());
  for (size_t r = 0; r < cells.size(); ++r) {
    checkpoints.Row(r);
    std::string_view cell = cells[r];
    auto [code, inserted] = first_codes.FindOrInsert(
        std::hash<std::string_view>()(cell), static_cast<uint32_t>(distinct.size()),
        [&distinct, cell](uint32_t id) { return distinct[id] == cell; });
    if (inserted) distinct.push_back(cell);
    dict.codes[r] = code;
  }
  std::vector<uint32_t> order(distinct.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&distinct](uint32_t a, uint32_t b) { return distinct[a] < distinct[b]; });
  std::vector<uint32_t> sorted_code(distinct.size());
  size_t bytes = 0;
  for (std::string_view value : distinct) bytes += value.size();
  dict.values.Reserve(distinct.size(), bytes);
  dict.lowered.Reserve(distinct.size(), bytes);
  for (size_t i = 0; i < order.size(); ++i) {
    sorted_code[order[i]] = static_cast<uint32_t>(i);
    std::string_view value = distinct[order[i]];
    dict.values.Add(value);
    dict.lowered.Add(value);
    LowerAscii(dict.lowered.LastData(), value.size());
  }
  for (uint32_t& code : dict.codes) code = sorted_code[code];
  return dict;
}

void BuildSearchText(const GridState& s, RowModel& model, Checkpoints& checkpoints) {
  model.search_offsets.resize(s.rows + 1);
  model.search_text.reserve(s.rows * 16 * std::max<size_t>(1, s.columns.size()));
  for (size_t r = 0; r < s.rows; ++r) {
    checkpoints.Row(r);
    model.search_offsets[r] = model.search_text.size();
    for (size_t c = 0; c < s.columns.size(); ++c) {
      if (c != 0) model.search_text.push_back(kCellSeparator);
      switch (s.schema[c].type) {
        case ColumnType::kInt64:
          AppendSearchNumber(model.search_text, s.columns[c].ints[r]);
          break;
        case ColumnType::kDouble:
          AppendSearchNumber(model.search_text, s.columns[c].doubles[r]);
          break;
        case ColumnType::kString: {
          // From the column, not the dictionary: rows are in memory order here, codes are not.
          size_t begin = model.search_text.size();
          model.search_text.append(s.columns[c].strings[r]);
          LowerAscii(model.search_text.data() + begin, model.search_text.size() - begin);
          break;
        }
      }
    }
  }
  model.search_offsets[s.rows] = model.search_text.size();
}

// A predicate bound to a column, with string work done up front.
struct CompiledPredicate {
  size_t column = 0;
  ColumnType type = ColumnType::kInt64;
  FilterOp op = FilterOp::kEquals;
  bool integer_operand = false;  // Compare an int64 column against `integer` exactly.
  int64_t integer = 0;
  double number = 0;
  std::string needle;                   // Lower-cased, for kContains on numeric columns.
  std::vector<uint8_t> accepted_codes;  // For string columns, indexed by dictionary code.
};

std::vector<CompiledPredicate> CompilePredicates(const GridState& s,
                                                 const std::vector<ColumnFilter>& filters) {
  std::vector<CompiledPredicate> compiled;
  compiled.reserve(filters.size());
  for (const ColumnFilter& f : filters) {
    CompiledPredicate p;
    p.column = ResolveColumn(s, f.column);
    p.type = s.schema[p.column].type;
    p.op = f.op;
    const std::string* text = std::get_if<std::string>(&f.value);
    if (f.op == FilterOp::kContains || p.type == ColumnType::kString) {
      if (text == nullptr) {
        throw std::invalid_argument("gridkit: filter on '" + f.column + "' needs a string value");
      }
    } else if (text != nullptr) {
      throw std::invalid_argument("gridkit: filter on '" + f.column + "' needs a number");
    }
    if (p.type == ColumnType::kString) {
      const Dictionary& dict = s.model.dictionaries[p.column];
      p.accepted_codes.resize(dict.values.size());
      std::string lowered = *text;
      LowerAscii(lowered);
      for (size_t code = 0; code < dict.values.size(); ++code) {
        int cmp = dict.values[code].compare(*text);
        bool accept = false;
        switch (f.op) {
          case FilterOp::kEquals:
            accept = cmp == 0;
            break;
          case FilterOp::kLess:
            accept = cmp < 0;
            break;
          case FilterOp::kGreater:
            accept = cmp > 0;
            break;
          case FilterOp::kContains:
            accept = dict.lowered[code].find(lowered) != std::string_view::npos;
            break;
        }
        p.accepted_codes[code] = accept;
      }
    } else if (f.op == FilterOp::kContains) {
      p.needle = *text;
      LowerAscii(p.needle);
    } else if (const int64_t* i = std::get_if<int64_t>(&f.value)) {
      p.integer_operand = p.type == ColumnType::kInt64;
      p.integer = *i;
      p.number = static_cast<double>(*i);
    } else {
      p.number = std::get<double>(f.value);
    }
    compiled.push_back(std::move(p));
  }
  return compiled;
}

bool CompareMatches(FilterOp op, int cmp) {
  switch (op) {
    case FilterOp::kEquals:
      return cmp == 0;
    case FilterOp::kLess:
      return cmp < 0;
    case FilterOp::kGreater:
      return cmp > 0;
    case FilterOp::kContains:
      break;
  }
  return false;
}

bool RowMatches(const GridState& s, const std::vector<CompiledPredicate>& predicates, uint32_t row,
                std::string& scratch) {
  for (const CompiledPredicate& p : predicates) {
    const Column& column = s.columns[p.column];
    bool match;
    if (p.type == ColumnType::kString) {
      match = p.accepted_codes[s.model.dictionaries[p.column].codes[row]] != 0;
    } else if (p.op == FilterOp::kContains) {
      scratch.clear();
      if (p.type == ColumnType::kInt64) {
        AppendSearchNumber(scratch, column.ints[row]);
      } else {
        AppendSearchNumber(scratch, column.doubles[row]);
      }
      match = scratch.find(p.needle) != std::string::npos;
    } else if (p.integer_operand) {
      match = CompareMatches(p.op, CompareValues(column.ints[row], p.integer));
    } else {
      double cell = p.type == ColumnType::kInt64 ? static_cast<double>(column.ints[row])
                                                 : column.doubles[row];
      // NaN matches no comparison, as in SQL.
      match = !std::isnan(cell) && CompareMatches(p.op, CompareDoubles(cell, p.number));
    }
    if (!match) return false;
  }
  return true;
}

bool SearchMatches(const RowModel& model, uint32_t row, std::string_view needle) {
  std::string_view text(model.search_text.data() + model.search_offsets[row],
                        model.search_offsets[row + 1] - model.search_offsets[row]);
  return text.find(needle) != std::string_view::npos;
}

struct SortColumn {
  ColumnType type;
  bool descending;
  const int64_t* ints;
  const double* doubles;
  const uint32_t* codes;
};

class RowLess {
 public:
  explicit RowLess(const std::vector<SortColumn>* keys) : keys_(keys) {}

  bool operator()(uint32_t a, uint32_t b) const {
    for (const SortColumn& key : *keys_) {
      int cmp = 0;
      switch (key.type) {
        case ColumnType::kInt64:
          cmp = CompareValues(key.ints[a], key.ints[b]);
          break;
        case ColumnType::kDouble:
          cmp = CompareDoubles(key.doubles[a], key.doubles[b]);
          break;
        case ColumnType::kString:
          cmp = CompareValues(key.codes[a], key.codes[b]);
          break;
      }
      if (cmp != 0) return key.descending ? cmp > 0 : cmp < 0;
    }
    return false;
  }

 private:
  const std::vector<SortColumn>* keys_;
};

std::vector<SortColumn> CompileSortKeys(const GridState& s, const std::vector<SortKey>& keys) {
  std::vector<SortColumn> compiled;
  compiled.reserve(keys.size());
  for (const SortKey& key : keys) {
    size_t c = ResolveColumn(s, key.column);
    compiled.push_back(SortColumn{s.schema[c].type, key.descending, s.columns[c].ints.data(),
                                  s.columns[c].doubles.data(),
                                  s.model.dictionaries[c].codes.data()});
  }
  return compiled;
}

// Group keys are tuples of 64-bit words: dictionary codes, int64 bits, or canonical double bits.
uint64_t HashKey(const uint64_t* key, size_t words) {
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < words; ++i) {
    h = (h ^ key[i]) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
  }
  return h * 0x94D049BB133111EBull;
}

uint64_t DoubleKey(double v) {
  if (v == 0) v = 0;  // -0.0 and 0.0 form one group.
  if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  return bits;
}

double KeyDouble(uint64_t bits) {
  double v;
  std::memcpy(&v, &bits, sizeof(v));
  return v;
}

struct CompiledAggregate {
  AggregateFn fn;
  size_t column;
  ColumnType type;
};

std::vector<CompiledAggregate> CompileAggregates(const GridState& s,
                                                 const std::vector<Aggregate>& aggregates) {
  std::vector<CompiledAggregate> compiled;
  for (const Aggregate& a : aggregates) {
    if (a.fn == AggregateFn::kCount) {
      compiled.push_back({a.fn, 0, ColumnType::kInt64});
      continue;
    }
    size_t c = ResolveColumn(s, a.column);
    if (s.schema[c].type == ColumnType::kString) {
      throw std::invalid_argument("gridkit: cannot aggregate string column '" + a.column + "'");
    }
    compiled.push_back({a.fn, c, s.schema[c].type});
  }
  return compiled;
}

// Groups rows by key. Keys and accumulators live in flat arrays indexed by group id, so that
// a group costs no allocation of its own.
class GroupTable {
 public:
  GroupTable(const GridState* s, const std::vector<size_t>* by,
             const std::vector<CompiledAggregate>* aggregates)
      : s_(s), by_(by), aggregates_(aggregates), key_(by->size()), index_(64) {}

  void Add(uint32_t row) {
    const size_t words = by_->size();
    for (size_t k = 0; k < words; ++k) {
      size_t c = (*by_)[k];
      switch (s_->schema[c].type) {
        case ColumnType::kInt64:
          key_[k] = static_cast<uint64_t>(s_->columns[c].ints[row]);
          break;
        case ColumnType::kDouble:
          key_[k] = DoubleKey(s_->columns[c].doubles[row]);
          break;
        case ColumnType::kString:
          key_[k] = s_->model.dictionaries[c].codes[row];
          break;
      }
    }
    auto [group, inserted] = index_.FindOrInsert(
        HashKey(key_.data(), words), static_cast<uint32_t>(rows_.size()),
        [this, words](uint32_t id) {
          return std::equal(key_.begin(), key_.end(), keys_.begin() + id * words);
        });
    const size_t n = aggregates_->size();
    if (inserted) {
      keys_.insert(keys_.end(), key_.begin(), key_.end());
      rows_.push_back(0);
      sums_.resize(sums_.size() + n, 0.0);
      mins_.resize(mins_.size() + n, std::numeric_limits<double>::infinity());
      maxs_.resize(maxs_.size() + n, -std::numeric_limits<double>::infinity());
    }
    ++rows_[group];
    for (size_t a = 0; a < n; ++a) {
      const CompiledAggregate& agg = (*aggregates_)[a];
      if (agg.fn == AggregateFn::kCount) continue;
      const Column& column = s_->columns[agg.column];
      double v = agg.type == ColumnType::kInt64 ? static_cast<double>(column.ints[row])
                                                : column.doubles[row];
      size_t slot = group * n + a;
      sums_[slot] += v;
      mins_[slot] = std::min(mins_[slot], v);
      maxs_[slot] = std::max(maxs_[slot], v);
    }
  }

  GroupResult Finish() const {
    const size_t words = by_->size();
    const size_t n = aggregates_->size();
    std::vector<uint32_t> order(rows_.size());
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [this, words](uint32_t a, uint32_t b) {
      return KeyLess(&keys_[a * words], &keys_[b * words]);
    });
    GroupResult result;
    result.groups.reserve(order.size());
    for (uint32_t g : order) {
      GroupResult::Group& out = result.groups.emplace_back();
      out.rows = rows_[g];
      out.key.reserve(words);
      for (size_t k = 0; k < words; ++k) {
        size_t c = (*by_)[k];
        uint64_t word = keys_[g * words + k];
        switch (s_->schema[c].type) {
          case ColumnType::kInt64:
            out.key.emplace_back(static_cast<int64_t>(word));
            break;
          case ColumnType::kDouble:
            out.key.emplace_back(KeyDouble(word));
            break;
          case ColumnType::kString:
            out.key.emplace_back(std::string(s_->model.dictionaries[c].values[word]));
            break;
        }
      }
      out.values.reserve(n);
      for (size_t a = 0; a < n; ++a) {
        size_t slot = g * n + a;
        switch ((*aggregates_)[a].fn) {
          case AggregateFn::kCount:
            out.values.push_back(static_cast<double>(rows_[g]));
            break;
          case AggregateFn::kSum:
            out.values.push_back(sums_[slot]);
            break;
          case AggregateFn::kAvg:
            out.values.push_back(sums_[slot] / static_cast<double>(rows_[g]));
            break;
          case AggregateFn::kMin:
            out.values.push_back(mins_[slot]);
            break;
          case AggregateFn::kMax:
            out.values.push_back(maxs_[slot]);
            break;
        }
      }
    }
    return result;
  }

 private:
  bool KeyLess(const uint64_t* a, const uint64_t* b) const {
    for (size_t k = 0; k < by_->size(); ++k) {
      int cmp = 0;
      switch (s_->schema[(*by_)[k]].type) {
        case ColumnType::kInt64:
          cmp = CompareValues(static_cast<int64_t>(a[k]), static_cast<int64_t>(b[k]));
          break;
        case ColumnType::kDouble:
          cmp = CompareDoubles(KeyDouble(a[k]), KeyDouble(b[k]));
          break;
        case ColumnType::kString:
          cmp = CompareValues(a[k], b[k]);
          break;
      }
      if (cmp != 0) return cmp < 0;
    }
    return false;
  }

  const GridState* s_;
  const std::vector<size_t>* by_;
  const std::vector<CompiledAggregate>* aggregates_;
  std::vector<uint64_t> key_;  // Key of the row being added.
  IdTable index_;
  std::vector<uint64_t> keys_;  // Group g's key is [g * words, (g + 1) * words).
  std::vector<int64_t> rows_;
  std::vector<double> sums_;  // Group g, aggregate a at g * aggregates + a; same below.
  std::vector<double> mins_;
  std::vector<double> maxs_;
};

std::string FormatCell(const GridState& s, size_t c, uint32_t row, const RenderOptions& options) {
  switch (s.schema[c].type) {
    case ColumnType::kInt64:
      return FormatInt(s.columns[c].ints[row], options.thousands_separators);
    case ColumnType::kDouble:
      return FormatDouble(s.columns[c].doubles[row], options.decimals,
                          options.thousands_separators);
    case ColumnType::kString:
      return s.columns[c].strings[row];
  }
  return {};
}

void AppendPadded(std::string& line, const std::string& text, size_t width, bool right_align) {
  size_t pad = width - TextWidth(text);
  if (right_align) line.append(pad, ' ');
  line.append(text);
  if (!right_align) line.append(pad, ' ');
}

std::string JoinLine(const GridState& s, const std::vector<std::string>& cells,
                     const std::vector<size_t>& widths) {
  std::string line;
  for (size_t c = 0; c < cells.size(); ++c) {
    if (c != 0) line.append(" | ");
    AppendPadded(line, cells[c], widths[c], s.schema[c].type != ColumnType::kString);
  }
  return line;
}

}  // namespace

Grid::Grid(std::vector<ColumnSpec> schema) : state_(std::make_unique<internal::GridState>()) {
  std::unordered_set<std::string_view> names;
  for (const ColumnSpec& spec : schema) {
    if (spec.name.empty() || !names.insert(spec.name).second) {
      throw std::invalid_argument("gridkit: column names must be unique and non-empty: '" +
                                  spec.name + "'");
    }
  }
  state_->columns.resize(schema.size());
  state_->schema = std::move(schema);
}

Grid::~Grid() = default;
Grid::Grid(Grid&& other) noexcept = default;
Grid& Grid::operator=(Grid&& other) noexcept = default;

const std::vector<ColumnSpec>& Grid::schema() const { return state_->schema; }
size_t Grid::row_count() const { return state_->rows; }
size_t Grid::view_size() const { return state_->view.size(); }

void Grid::setData(const std::vector<Row>& rows) {
  GridState& s = *state_;
  if (rows.size() >= std::numeric_limits<uint32_t>::max()) {
    throw std::length_error("gridkit: too many rows");
  }
  std::vector<Column> columns(s.schema.size());
  for (size_t c = 0; c < s.schema.size(); ++c) {
    switch (s.schema[c].type) {
      case ColumnType::kInt64:
        columns[c].ints.reserve(rows.size());
        break;
      case ColumnType::kDouble:
        columns[c].doubles.reserve(rows.size());
        break;
      case ColumnType::kString:
        columns[c].strings.reserve(rows.size());
        break;
    }
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    const Row& row = rows[r];
    if (row.size() != s.schema.size()) {
      throw std::invalid_argument("gridkit: row " + std::to_string(r) + " has " +
                                  std::to_string(row.size()) + " values, expected " +
                                  std::to_string(s.schema.size()));
    }
    for (size_t c = 0; c < row.size(); ++c) {
      const Value& v = row[c];
      bool ok = false;
      switch (s.schema[c].type) {
        case ColumnType::kInt64:
          if (const int64_t* i = std::get_if<int64_t>(&v)) {
            columns[c].ints.push_back(*i);
            ok = true;
          }
          break;
        case ColumnType::kDouble:
          if (const double* d = std::get_if<double>(&v)) {
            columns[c].doubles.push_back(*d);
            ok = true;
          } else if (const int64_t* i = std::get_if<int64_t>(&v)) {
            columns[c].doubles.push_back(static_cast<double>(*i));
            ok = true;
          }
          break;
        case ColumnType::kString:
          if (const std::string* t = std::get_if<std::string>(&v)) {
            columns[c].strings.push_back(*t);
            ok = true;
          }
          break;
      }
      if (!ok) {
        throw std::invalid_argument("gridkit: row " + std::to_string(r) + ", column '" +
                                    s.schema[c].name + "': value of the wrong type");
      }
    }
  }
  s.columns = std::move(columns);
  s.rows = rows.size();
  s.model = RowModel();
  s.view.clear();
}

void Grid::buildRowModel(const ExecContext* ctx) {
  Checkpoints checkpoints(ctx, "rowModelBuild");
  checkpoints.Next();
  GridState& s = *state_;
  RowModel model;
  model.dictionaries.resize(s.columns.size());
  for (size_t c = 0; c < s.columns.size(); ++c) {
    if (s.schema[c].type == ColumnType::kString) {
      model.dictionaries[c] = BuildDictionary(s.columns[c].strings, checkpoints);
      checkpoints.Next();
    }
  }
  BuildSearchText(s, model, checkpoints);
  checkpoints.Next();
  std::vector<uint32_t> view(s.rows);
  std::iota(view.begin(), view.end(), 0u);
  model.built = true;
  // Commit with moves only, which cannot throw: a cancelled build leaves the old model intact.
  s.model = std::move(model);
  s.view = std::move(view);
}

size_t Grid::filter(const FilterSpec& spec, const ExecContext* ctx) {
  Checkpoints checkpoints(ctx, "filter");
  checkpoints.Next();
  const GridState& s = RequireModel(*state_);
  std::vector<CompiledPredicate> predicates = CompilePredicates(s, spec.predicates);
  std::string needle = spec.search;
  LowerAscii(needle);
  // A needle spanning two cells would otherwise match across the separator.
  bool searchable = needle.find(kCellSeparator) == std::string::npos;
  checkpoints.Next();
  std::vector<uint32_t> view;
  view.reserve(s.rows);
  std::string scratch;
  for (uint32_t r = 0; r < s.rows; ++r) {
    checkpoints.Row(r);
    if (!RowMatches(s, predicates, r, scratch)) continue;
    if (!needle.empty() && (!searchable || !SearchMatches(s.model, r, needle))) continue;
    view.push_back(r);
  }
  checkpoints.Next();
  state_->view.swap(view);
  return state_->view.size();
}

void Grid::sort(const std::vector<SortKey>& keys, const ExecContext* ctx) {
  Checkpoints checkpoints(ctx, "sort");
  checkpoints.Next();
  const GridState& s = RequireModel(*state_);
  std::vector<SortColumn> columns = CompileSortKeys(s, keys);
  // Sort a copy so that a cancellation leaves the view as it was.
  std::vector<uint32_t> view = s.view;
  checkpoints.Next();
  std::stable_sort(view.begin(), view.end(), RowLess(&columns));
  checkpoints.Next();
  state_->view.swap(view);
}

GroupResult Grid::group(const GroupSpec& spec, const ExecContext* ctx) const {
  Checkpoints checkpoints(ctx, "group");
  checkpoints.Next();
  const GridState& s = RequireModel(*state_);
  if (spec.by.empty()) throw std::invalid_argument("gridkit: group needs at least one column");
  std::vector<size_t> by;
  by.reserve(spec.by.size());
  for (const std::string& name : spec.by) by.push_back(ResolveColumn(s, name));
  std::vector<CompiledAggregate> aggregates = CompileAggregates(s, spec.aggregates);
  GroupTable table(&s, &by, &aggregates);
  for (size_t i = 0; i < s.view.size(); ++i) {
    checkpoints.Row(i);
    table.Add(s.view[i]);
  }
  checkpoints.Next();
  return table.Finish();
}

Page Grid::paginate(size_t page_index, size_t page_size, const ExecContext* ctx) const {
  Checkpoints checkpoints(ctx, "paginate");
  checkpoints.Next();
  const GridState& s = RequireModel(*state_);
  if (page_size == 0) throw std::invalid_argument("gridkit: page size must be positive");
  Page page;
  page.size = page_size;
  page.total_rows = s.view.size();
  page.page_count =
      std::max<size_t>(1, page.total_rows / page_size + (page.total_rows % page_size != 0));
  page.index = std::min(page_index, page.page_count - 1);
  size_t first = page.index * page_size;
  size_t last = std::min(first + page_size, page.total_rows);
  page.rows.assign(s.view.begin() + static_cast<ptrdiff_t>(first),
                   s.view.begin() + static_cast<ptrdiff_t>(last));
  page.row_top.reserve(last - first);
  // Auto-height rows: every row's height depends on how its text wraps, so the offset of a
  // page and the scroll height need the whole view.
  TextHeights heights = MeasureText(s, checkpoints);
  checkpoints.Next();
  uint64_t top = 0;
  for (size_t i = 0; i < s.view.size(); ++i) {
    checkpoints.Row(i);
    if (i >= first && i < last) page.row_top.push_back(top);
    top += RowHeight(heights, s.view[i]);
  }
  page.total_height = top;
  return page;
}

RenderedPage Grid::render(const Page& page, const RenderOptions& options,
                          const ExecContext* ctx) const {
  Checkpoints checkpoints(ctx, "render");
  checkpoints.Next();
  const GridState& s = RequireModel(*state_);
  if (options.decimals < 0 || options.decimals > 9) {
    throw std::invalid_argument("gridkit: decimals must be in [0, 9]");
  }
  if (options.max_column_width < 4) {
    throw std::invalid_argument("gridkit: max_column_width must be at least 4");
  }
  RenderedPage out;
  std::vector<size_t> widths;
  for (const ColumnSpec& spec : s.schema) {
    out.header.push_back(spec.name);
    Truncate(out.header.back(), options.max_column_width);
    widths.push_back(TextWidth(out.header.back()));
  }
  out.cells.reserve(page.rows.size());
  for (size_t i = 0; i < page.rows.size(); ++i) {
    checkpoints.Row(i);
    uint32_t row = page.rows[i];
    if (row >= s.rows) throw std::out_of_range("gridkit: page refers to a row that is gone");
    std::vector<std::string>& cells = out.cells.emplace_back();
    cells.reserve(s.schema.size());
    for (size_t c = 0; c < s.schema.size(); ++c) {
      std::string text = FormatCell(s, c, row, options);
      Truncate(text, options.max_column_width);
      widths[c] = std::max(widths[c], TextWidth(text));
      cells.push_back(std::move(text));
    }
  }
  checkpoints.Next();
  out.lines.reserve(out.cells.size() + 1);
  out.lines.push_back(JoinLine(s, out.header, widths));
  for (const std::vector<std::string>& cells : out.cells) {
    out.lines.push_back(JoinLine(s, cells, widths));
  }
  return out;
}

}  // namespace gridkit
