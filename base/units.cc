#include "base/units.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace gridprobe::config {
namespace {

struct Unit {
  absl::string_view suffix;
  double scale;
};

// Longest suffixes first so "ms" is not read as "m" followed by junk.
constexpr Unit kDurationUnits[] = {
    {"ns", 1}, {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
    {"d", 86400e9},
};

constexpr Unit kSizeUnits[] = {
    {"KiB", 1024.0},
    {"MiB", 1024.0 * 1024},
    {"GiB", 1024.0 * 1024 * 1024},
    {"TiB", 1024.0 * 1024 * 1024 * 1024},
    {"kB", 1e3},
    {"KB", 1e3},
    {"MB", 1e6},
    {"GB", 1e9},
    {"TB", 1e12},
    {"B", 1},
};

constexpr double kMaxDurationNs = 100.0 * 365 * 24 * 3600e9;
constexpr double kMaxSize = 1e18;

// Splits "1.5ms" into 1.5 and "ms". Only plain decimals: no sign, exponent,
// hex, inf or nan, which strtod would otherwise accept.
bool SplitNumber(absl::string_view text, double* value, absl::string_view* unit) {
  size_t i = 0;
  size_t digits = 0;
  while (i < text.size() && absl::ascii_isdigit(text[i])) ++i, ++digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && absl::ascii_isdigit(text[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  *value = std::strtod(std::string(text.substr(0, i)).c_str(), nullptr);
  *unit = text.substr(i);
  return std::isfinite(*value);
}

// "16.7" for 16700 / 1000; nullopt when more than three decimals are needed.
std::optional<std::string> Scaled(uint64_t value, uint64_t unit) {
  if (value < unit || (value % unit) * 1000 % unit != 0) return std::nullopt;
  std::string out = absl::StrCat(value / unit);
  uint64_t millis = (value % unit) * 1000 / unit;
  if (millis != 0) {
    std::string frac = absl::StrCat(1000 + millis).substr(1);  // zero-padded to 3
    while (frac.back() == '0') frac.pop_back();
    absl::StrAppend(&out, ".", frac);
  }
  return out;
}

}  // namespace

std::optional<absl::Duration> ParseDuration(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text == "0") return absl::ZeroDuration();
  double value = 0;
  absl::string_view unit;
  if (!SplitNumber(text, &value, &unit)) return std::nullopt;
  for (const Unit& u : kDurationUnits) {
    if (unit != u.suffix) continue;
    double ns = std::round(value * u.scale);
    if (ns > kMaxDurationNs) return std::nullopt;
    return absl::Nanoseconds(static_cast<int64_t>(ns));
  }
  return std::nullopt;
}

std::optional<uint64_t> ParseSize(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  double value = 0;
  absl::string_view unit;
  if (!SplitNumber(text, &value, &unit)) return std::nullopt;
  double scale = 0;
  if (unit.empty()) {
    if (text.find('.') != absl::string_view::npos) return std::nullopt;  // "1.5" bytes?
    scale = 1;
  }
  for (const Unit& u : kSizeUnits) {
    if (unit == u.suffix) scale = u.scale;
  }
  if (scale == 0) return std::nullopt;
  double bytes = std::round(value * scale);
  if (bytes > kMaxSize) return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

std::string FormatConfigDuration(absl::Duration d) {
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  if (ns <= 0) return "0";
  constexpr std::pair<uint64_t, absl::string_view> kUnits[] = {
      {3600'000'000'000, "h"}, {60'000'000'000, "m"}, {1'000'000'000, "s"},
      {1'000'000, "ms"},       {1'000, "us"},
  };
  for (const auto& [scale, suffix] : kUnits) {
    if (std::optional<std::string> s = Scaled(ns, scale)) return absl::StrCat(*s, suffix);
  }
  return absl::StrCat(ns, "ns");
}

std::string FormatConfigSize(uint64_t bytes) {
  constexpr std::pair<uint64_t, absl::string_view> kUnits[] = {
      {uint64_t{1} << 40, "TiB"},
      {uint64_t{1} << 30, "GiB"},
      {uint64_t{1} << 20, "MiB"},
      {uint64_t{1} << 10, "KiB"},
  };
  for (const auto& [scale, suffix] : kUnits) {
    if (std::optional<std::string> s = Scaled(bytes, scale)) return absl::StrCat(*s, suffix);
  }
  return absl::StrCat(bytes);
}

}  // namespace gridprobe::config
