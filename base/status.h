// Errors are absl::Status values; the one thing main() needs beyond the
// message is which exit code a failure maps to. That rides on the status as a
// payload, set where the failure is understood and read only by main().
#ifndef GRIDPROBE_BASE_STATUS_H_
#define GRIDPROBE_BASE_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace gridprobe {

// Documented in docs/exit-codes.md; scripts depend on them, never renumber.
enum class ExitCode : int {
  kOk = 0,
  kFailure = 1,           // internal error, or a budget check that failed
  kUsage = 2,             // bad command line
  kNotFound = 3,          // no such process or file
  kPermission = 4,        // not root / missing capabilities
  kLibraryNotMapped = 5,  // the preset's library is not in the target
  kSymbolNotFound = 6,    // a preset symbol is missing from the binary
  kKernelUnsupported = 7, // no BTF, no uprobes, BPF refused
  kBadInput = 8,          // invalid preset or configuration file
  kAttachFailed = 9,      // the kernel refused a probe
  kOutputFailed = 10,     // a report could not be written
  kUnsafeReturnMode = 11, // fast return forced where an unwind could kill the target
  kRemoteRefused = 12,    // an exporter asked to listen beyond loopback without allow_remote
};

// Returns `status` tagged with `code`. OK stays OK.
absl::Status WithExitCode(absl::Status status, ExitCode code);
// The code attached by WithExitCode, else kFailure (kOk for an OK status).
ExitCode ExitCodeOf(const absl::Status& status);

// Same message with `context` prepended ("context: message"), payload kept.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

// An error from a failed libc/libbpf call: errno's text, with a code.
absl::Status ErrnoError(int err, absl::string_view what, ExitCode code);

}  // namespace gridprobe

// Evaluates `expr` (an absl::Status) and returns it from the caller if not OK.
#define GP_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::absl::Status gp_status_ = (expr);           \
    if (!gp_status_.ok()) return gp_status_;      \
  } while (0)

#define GP_CONCAT_INNER_(a, b) a##b
#define GP_CONCAT_(a, b) GP_CONCAT_INNER_(a, b)
// `lhs = *statusor` if OK, else returns the status from the caller.
#define GP_ASSIGN_OR_RETURN(lhs, expr) \
  GP_ASSIGN_OR_RETURN_IMPL_(GP_CONCAT_(gp_statusor_, __LINE__), lhs, expr)
#define GP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(*tmp)

#endif  // GRIDPROBE_BASE_STATUS_H_
