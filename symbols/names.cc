#include "symbols/names.h"

namespace gridprobe::symbols {

absl::string_view StripParameters(absl::string_view name) {
  constexpr absl::string_view kCallOperator = "operator()";
  int angle = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name.compare(i, kCallOperator.size(), kCallOperator) == 0) {
      i += kCallOperator.size() - 1;
      continue;
    }
    char c = name[i];
    if (c == '<') {
      ++angle;
    } else if (c == '>' && angle > 0) {
      --angle;
    } else if (c == '(' && angle == 0) {
      // "(anonymous namespace)::f" is part of the name, not a parameter list.
      if (name.compare(i, 21, "(anonymous namespace)") == 0) {
        i += 20;
        continue;
      }
      return name.substr(0, i);
    }
  }
  return name;
}

bool GlobMatch(absl::string_view pattern, absl::string_view text) {
  size_t p = 0, t = 0;
  size_t star = absl::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool SymbolMatches(absl::string_view pattern, absl::string_view mangled,
                   absl::string_view demangled) {
  if (pattern == mangled) return true;
  if (pattern.find('(') != absl::string_view::npos) return GlobMatch(pattern, demangled);
  return GlobMatch(pattern, StripParameters(demangled));
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace gridprobe::symbols
