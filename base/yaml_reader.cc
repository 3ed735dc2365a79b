#include "base/yaml_reader.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "base/units.h"

namespace gridprobe::config {
namespace {

// Configuration and preset files are small; this bounds what a broken or
// hostile file can cost.
constexpr size_t kMaxDocumentBytes = 1 << 20;

bool IsNameStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }

// Text as it may appear inside a one-line message.
std::string Printable(absl::string_view text) {
  constexpr size_t kMax = 60;
  std::string out;
  for (char c : text.substr(0, kMax)) {
    out.push_back(absl::ascii_isprint(c) || static_cast<unsigned char>(c) >= 0x80 ? c : '?');
  }
  if (text.size() > kMax) out += "...";
  return out;
}

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return absl::StrCat("'", Printable(node.Scalar()), "'");
    default:
      return "nothing";
  }
}

std::string Join(absl::Span<const std::string> words) { return absl::StrJoin(words, ", "); }

// Offset of the first byte that is not part of well-formed UTF-8, or npos.
size_t InvalidUtf8(absl::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF.
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += len;
  }
  return absl::string_view::npos;
}

}  // namespace

absl::StatusOr<std::string> ReadDocument(const std::string& path) {
  auto fail = [&path](absl::string_view why) {
    return WithExitCode(absl::NotFoundError(absl::StrCat("cannot read '", path, "': ", why)),
                        ExitCode::kNotFound);
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return fail("is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(std::strerror(errno));
  std::string text;
  char buf[8192];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxDocumentBytes) return fail("larger than 1 MiB");
  }
  if (in.bad()) return fail(std::strerror(errno));
  return text;
}

EnvLookup ProcessEnv() {
  return [](absl::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

absl::StatusOr<std::string> ExpandEnv(absl::string_view text, const EnvLookup& env) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = text.find("${", i);
    if (start == absl::string_view::npos) break;
    absl::StrAppend(&out, text.substr(i, start - i));
    size_t end = text.find('}', start + 2);
    if (end == absl::string_view::npos) {
      return absl::InvalidArgumentError("unterminated '${' (write ${NAME})");
    }
    absl::string_view name = text.substr(start + 2, end - start - 2);
    if (name.empty() || !IsNameStart(name[0]) ||
        !std::all_of(name.begin(), name.end(), IsNameChar)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'${", Printable(name), "}' is not an environment variable reference (write ${NAME})"));
    }
    std::optional<std::string> value = env(name);
    if (!value.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable '", name, "' is not set"));
    }
    out.append(*value);
    i = end + 1;
  }
  if (i < text.size()) absl::StrAppend(&out, text.substr(i));
  return out;
}

int EditDistance(absl::string_view a, absl::string_view b) {
  // d[i][j]: distance between a[0, i) and b[0, j).
  std::vector<std::vector<int>> d(a.size() + 1, std::vector<int>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string ClosestMatch(absl::string_view word, absl::Span<const std::string> candidates) {
  if (word.size() > 64) return "";  // not a typo of any name we know
  std::string best;
  int best_distance = 0;
  for (const std::string& candidate : candidates) {
    int limit = std::max<int>(1, static_cast<int>(candidate.size()) / 3);
    int distance = EditDistance(absl::AsciiStrToLower(word), candidate);
    if (distance <= limit && distance < static_cast<int>(candidate.size()) &&
        (best.empty() || distance < best_distance)) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string DidYouMean(absl::string_view word, absl::Span<const std::string> candidates) {
  std::string match = ClosestMatch(word, candidates);
  return match.empty() ? "" : absl::StrCat("; did you mean '", match, "'?");
}

YamlReader::YamlReader(std::string filename, EnvLookup env)
    : filename_(std::move(filename)), env_(std::move(env)) {}

absl::StatusOr<YAML::Node> YamlReader::Parse(absl::string_view text) const {
  if (text.size() > kMaxDocumentBytes) {
    return ErrorAt(YAML::Mark(), "file is larger than 1 MiB; is it the right file?");
  }
  // YAML is UTF-8; yaml-cpp does not check, and names end up in JSON.
  if (size_t bad = InvalidUtf8(text); bad != absl::string_view::npos) {
    YAML::Mark mark;
    mark.line = static_cast<int>(std::count(text.begin(), text.begin() + bad, '\n'));
    size_t line_start = text.rfind('\n', bad == 0 ? 0 : bad - 1);
    line_start = (line_start == absl::string_view::npos || bad == 0) ? 0 : line_start + 1;
    mark.column = static_cast<int>(bad - line_start);
    return ErrorAt(mark, absl::StrFormat("not valid UTF-8 (byte 0x%02X)",
                                         static_cast<unsigned char>(text[bad])));
  }
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    // yaml-cpp's depth guard reports nesting past its limit as "bad file".
    std::string what = e.msg == YAML::ErrorMsg::BAD_FILE ? "nested too deeply" : e.msg;
    return ErrorAt(e.mark, absl::StrCat("invalid YAML: ", what));
  } catch (const std::exception& e) {
    return ErrorAt(YAML::Mark(), absl::StrCat("invalid YAML: ", e.what()));
  }
}

Value YamlReader::Root(const YAML::Node& root) const {
  YAML::Mark mark = root.Mark();
  if (mark.line < 0) mark = YAML::Mark();
  return Value{root, mark, ""};
}

absl::Status YamlReader::ErrorAt(const YAML::Mark& mark, absl::string_view message) const {
  int line = mark.line < 0 ? 1 : mark.line + 1;
  int column = mark.column < 0 ? 1 : mark.column + 1;
  // One line, whatever the file held: yaml-cpp quotes raw input in messages.
  std::string text = absl::StrCat(filename_, ":", line, ":", column, ": ", message);
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return WithExitCode(absl::InvalidArgumentError(text), ExitCode::kBadInput);
}

absl::Status YamlReader::Expected(const Value& v, absl::string_view what,
                                  absl::string_view hint) const {
  std::string prefix = v.path.empty() ? "" : absl::StrCat("'", v.path, "': ");
  return ErrorAt(v.mark, absl::StrCat(prefix, "expected ", what, ", got ", Describe(v.node), hint));
}

absl::StatusOr<std::vector<Entry>> YamlReader::FreeMap(const Value& v) const {
  std::vector<Entry> entries;
  if (v.node.IsNull()) return entries;
  if (!v.node.IsMap()) return Expected(v, "a map");
  std::map<std::string, int> first_line;
  for (const auto& kv : v.node) {
    if (!kv.first.IsScalar()) {
      return ErrorAt(kv.first.Mark(),
                     absl::StrCat("expected a name as key, got ", Describe(kv.first)));
    }
    Entry entry;
    entry.key = kv.first.Scalar();
    entry.key_mark = kv.first.Mark();
    auto [it, inserted] = first_line.emplace(entry.key, entry.key_mark.line + 1);
    if (!inserted) {
      return ErrorAt(entry.key_mark,
                     absl::StrCat("'", Printable(entry.key), "' is set twice (first on line ",
                                  it->second, ")"));
    }
    entry.value.node = kv.second;
    entry.value.mark =
        kv.second.IsNull() || kv.second.Mark().line < 0 ? entry.key_mark : kv.second.Mark();
    entry.value.path = v.path.empty() ? entry.key : absl::StrCat(v.path, ".", entry.key);
    entries.push_back(std::move(entry));
  }
  return entries;
}

absl::StatusOr<std::vector<Entry>> YamlReader::Map(const Value& v,
                                                   absl::Span<const std::string> allowed) const {
  absl::StatusOr<std::vector<Entry>> entries = FreeMap(v);
  if (!entries.ok()) return entries.status();
  for (const Entry& entry : *entries) {
    if (std::find(allowed.begin(), allowed.end(), entry.key) != allowed.end()) continue;
    std::string where = v.path.empty() ? "" : absl::StrCat(" in '", v.path, "'");
    std::string hint = DidYouMean(entry.key, allowed);
    if (hint.empty()) hint = absl::StrCat(" (expected one of: ", Join(allowed), ")");
    return ErrorAt(entry.key_mark,
                   absl::StrCat("unknown key '", Printable(entry.key), "'", where, hint));
  }
  return entries;
}

absl::StatusOr<std::vector<Value>> YamlReader::List(const Value& v) const {
  std::vector<Value> items;
  if (v.node.IsNull()) return items;
  if (!v.node.IsSequence()) return Expected(v, "a list");
  size_t i = 0;
  for (const YAML::Node& item : v.node) {
    YAML::Mark mark = item.IsNull() || item.Mark().line < 0 ? v.mark : item.Mark();
    items.push_back(Value{item, mark, absl::StrCat(v.path, "[", i++, "]")});
  }
  return items;
}

absl::StatusOr<std::string> YamlReader::Scalar(const Value& v, absl::string_view what) const {
  if (!v.node.IsScalar()) return Expected(v, what);
  absl::StatusOr<std::string> expanded = ExpandEnv(v.node.Scalar(), env_);
  if (!expanded.ok()) {
    std::string prefix = v.path.empty() ? "" : absl::StrCat("'", v.path, "': ");
    return ErrorAt(v.mark, absl::StrCat(prefix, expanded.status().message()));
  }
  return expanded;
}

absl::StatusOr<std::string> YamlReader::String(const Value& v) const {
  return Scalar(v, "a string");
}

absl::StatusOr<absl::Duration> YamlReader::Duration(const Value& v) const {
  constexpr absl::string_view kWhat = "a duration such as 250ms, 1.5s, 2m or 1h";
  absl::StatusOr<std::string> s = Scalar(v, kWhat);
  if (!s.ok()) return s.status();
  std::optional<absl::Duration> d = ParseDuration(*s);
  if (!d.has_value()) return Expected(v, kWhat);
  return *d;
}

absl::StatusOr<uint64_t> YamlReader::Size(const Value& v) const {
  constexpr absl::string_view kWhat = "a size such as 4096, 64KiB or 1MiB";
  absl::StatusOr<std::string> s = Scalar(v, kWhat);
  if (!s.ok()) return s.status();
  std::optional<uint64_t> bytes = ParseSize(*s);
  if (!bytes.has_value()) return Expected(v, kWhat);
  return *bytes;
}

absl::StatusOr<int64_t> YamlReader::Integer(const Value& v, int64_t min, int64_t max) const {
  std::string what = absl::StrCat("a whole number from ", min, " to ", max);
  absl::StatusOr<std::string> s = Scalar(v, what);
  if (!s.ok()) return s.status();
  int64_t value = 0;
  if (!absl::SimpleAtoi(*s, &value) || value < min || value > max) return Expected(v, what);
  return value;
}

absl::StatusOr<double> YamlReader::PositiveNumber(const Value& v) const {
  constexpr absl::string_view kWhat = "a number greater than 0";
  absl::StatusOr<std::string> s = Scalar(v, kWhat);
  if (!s.ok()) return s.status();
  double value = 0;
  if (!absl::SimpleAtod(*s, &value) || !std::isfinite(value) || value <= 0) {
    return Expected(v, kWhat);
  }
  return value;
}

absl::StatusOr<std::string> YamlReader::OneOf(const Value& v,
                                              absl::Span<const std::string> choices) const {
  std::string what = absl::StrCat("one of ", Join(choices));
  absl::StatusOr<std::string> s = Scalar(v, what);
  if (!s.ok()) return s.status();
  if (std::find(choices.begin(), choices.end(), *s) != choices.end()) return s;
  return Expected(v, what, DidYouMean(*s, choices));
}

}  // namespace gridprobe::config
