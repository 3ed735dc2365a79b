// Separate debug files: how a stripped binary gets its full symbol table
// back, from distributions' -dbgsym/-debuginfo packages or a directory of
// the user's.
#ifndef GRIDPROBE_SYMBOLS_DEBUG_INFO_H_
#define GRIDPROBE_SYMBOLS_DEBUG_INFO_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "symbols/elf_file.h"

namespace gridprobe::symbols {

// Where debug files are looked for when none is given: /usr/lib/debug.
std::vector<std::string> DefaultDebugDirs();

// For a file without .symtab, finds its separate debug file and merges its
// symbols in. Looks, in order, for
//   DIR/.build-id/ab/cdef....debug            for each of `debug_dirs`
//   <file's dir>/NAME, <file's dir>/.debug/NAME, DIR/<file's dir>/NAME
// where NAME is the file's .gnu_debuglink; a candidate counts only when its
// build-id (or, without one, the debuglink's CRC-32) matches. `path` is the
// file as the target names it (for DIR/<file's dir>/NAME), `elf` is opened
// through the path gridprobe reaches it by (a target's files are opened inside
// its root, ElfFile::Open). Returns true when symbols were added; a file that
// already has .symtab is left alone. A debuglink that is not a plain file name
// (empty, ".", "..", or holding a '/') is refused unopened, when no build-id
// debug file was found: a one-line error (kBadInput) naming `path` and it.
absl::StatusOr<bool> LoadSeparateDebugInfo(ElfFile& elf, const std::string& path,
                                           const std::vector<std::string>& debug_dirs);

// Why a stripped file has only dynamic symbols, for messages: "no debug file
// for build-id 1a2b... in /usr/lib/debug, nor for debuglink libx.so.debug;
// install its debug package or give --debug-dir".
std::string DescribeMissingDebugInfo(const ElfFile& elf,
                                     const std::vector<std::string>& debug_dirs);

}  // namespace gridprobe::symbols

#endif  // GRIDPROBE_SYMBOLS_DEBUG_INFO_H_
