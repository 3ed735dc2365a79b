// Matching symbol names the way users write them.
#ifndef GRIDPROBE_SYMBOLS_NAMES_H_
#define GRIDPROBE_SYMBOLS_NAMES_H_

#include <string>

#include "absl/strings/string_view.h"
#include <string_view>

namespace gridprobe::symbols {

// "ns::Cls::f(int) const" -> "ns::Cls::f"; template arguments stay
// ("ns::g<int>(int)" -> "ns::g<int>"). Names without a parameter list are
// returned unchanged.
absl::string_view StripParameters(absl::string_view demangled);

// Shell-style glob with '*' and '?' only ('[' is literal: it is common in
// C++ names such as operator[]).
bool GlobMatch(absl::string_view pattern, absl::string_view text);

// The last component of a path: "libc.so.6" for "/usr/lib/libc.so.6".
std::string BaseName(const std::string& path);

// True when a preset pattern names this symbol: an exact mangled name, or a
// glob over the demangled name; a pattern without '(' ignores the parameter
// list, so "gridkit::Grid::sort" matches every overload.
bool SymbolMatches(absl::string_view pattern, absl::string_view mangled,
                   absl::string_view demangled);

}  // namespace gridprobe::symbols

#endif  // GRIDPROBE_SYMBOLS_NAMES_H_
