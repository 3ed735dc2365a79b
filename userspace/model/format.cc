#include "userspace/model/format.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gridprobe {

std::string FormatNanos(double ns) {
  if (ns < 1e3) return absl::StrFormat("%.0f ns", ns);
  if (ns < 1e6) return absl::StrFormat("%.1f us", ns / 1e3);
  if (ns < 1e9) return absl::StrFormat("%.2f ms", ns / 1e6);
  return absl::StrFormat("%.2f s", ns / 1e9);
}

std::string FormatBytes(double v) {
  constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (unit < 4 && std::fabs(v) >= 1023.95) {
    v /= 1024;
    ++unit;
  }
  if (unit == 0) return absl::StrFormat("%.0f B", v);
  // One decimal, none when it is 0: "26.4 KiB", "64 KiB".
  std::string digits = absl::StrFormat("%.1f", v);
  if (absl::EndsWith(digits, ".0")) digits.resize(digits.size() - 2);
  return absl::StrCat(digits, " ", kUnits[unit]);
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace gridprobe
