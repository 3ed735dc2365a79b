#include "userspace/sinks/reports/csv.h"

#include <string_view>
#include <vector>

#include "absl/strings/str_format.h"

namespace gridprobe::reports {
namespace {

std::string Cell(const nlohmann::json& v) {
  if (v.is_string()) return CsvField(v.get<std::string>());
  if (v.is_null()) return "";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_float()) return absl::StrFormat("%.6g", v.get<double>());
  return v.dump();
}

void Row(const std::vector<std::string>& cells, std::string* out) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out->push_back(',');
    out->append(cells[i]);
  }
  out->append("\r\n");
}

const nlohmann::json& Field(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

constexpr const char* kOpColumns[] = {"calls",  "calls_per_s", "mean_ns", "min_ns",
                                      "max_ns", "p50_ns",      "p95_ns",  "p99_ns",
                                      "total_ns", "unwound",   "untracked"};
constexpr const char* kMemColumns[] = {"allocs",      "alloc_bytes",        "live_bytes",
                                       "live_allocs", "growth_bytes_per_s", "leak_suspected"};

// The windows of `report`, or the report's own window as the only one.
std::vector<nlohmann::json> Windows(const nlohmann::json& report) {
  const nlohmann::json& windows = Field(report, "windows");
  if (windows.is_array()) return windows.get<std::vector<nlohmann::json>>();
  nlohmann::json w = Field(report, "window");
  nlohmann::json whole = {{"index", -1},
                          {"start", Field(w, "start")},
                          {"end", Field(w, "end")},
                          {"seconds", Field(w, "seconds")},
                          {"operations", Field(report, "operations")}};
  const nlohmann::json& memory = Field(Field(report, "memory"), "categories");
  if (memory.is_array()) whole["memory"] = memory;
  return {whole};
}

void Prefix(const nlohmann::json& w, std::vector<std::string>* cells) {
  cells->push_back(Cell(Field(w, "index")));
  cells->push_back(Cell(Field(w, "start")));
  cells->push_back(Cell(Field(w, "end")));
  cells->push_back(Cell(Field(w, "seconds")));
}

}  // namespace

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string OperationsCsv(const nlohmann::json& report) {
  std::string out;
  std::vector<std::string> header = {"window_index", "window_start", "window_end",
                                     "window_seconds", "operation"};
  for (const char* c : kOpColumns) header.push_back(c);
  Row(header, &out);
  for (const nlohmann::json& w : Windows(report)) {
    const nlohmann::json& ops = Field(w, "operations");
    if (!ops.is_array()) continue;
    for (const nlohmann::json& op : ops) {
      std::vector<std::string> cells;
      Prefix(w, &cells);
      cells.push_back(Cell(Field(op, "name")));
      for (const char* c : kOpColumns) cells.push_back(Cell(Field(op, c)));
      Row(cells, &out);
    }
  }
  return out;
}

std::string MemoryCsv(const nlohmann::json& report) {
  std::string out;
  std::vector<std::string> header = {"window_index", "window_start", "window_end",
                                     "window_seconds", "category"};
  for (const char* c : kMemColumns) header.push_back(c);
  Row(header, &out);
  for (const nlohmann::json& w : Windows(report)) {
    const nlohmann::json& cats = Field(w, "memory");
    if (!cats.is_array()) continue;
    for (const nlohmann::json& c : cats) {
      std::vector<std::string> cells;
      Prefix(w, &cells);
      cells.push_back(Cell(Field(c, "category")));
      for (const char* k : kMemColumns) cells.push_back(Cell(Field(c, k)));
      Row(cells, &out);
    }
  }
  return out;
}

}  // namespace gridprobe::reports
