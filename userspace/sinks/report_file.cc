#include "userspace/sinks/report_file.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status.h"

namespace gridprobe {

absl::Status ReportFileSink::OnRunEnd(const Snapshot& run, const nlohmann::json& report) {
  const std::string text = report.dump(2) + "\n";
  absl::Status written = WriteFileAtomically(path_, text, 0644);
  if (written.ok()) return written;
  // The path was checked before the first probe; this is a late failure
  // (disk full, directory removed): keep the run somewhere root owns.
  const std::string fallback =
      absl::StrCat("/var/tmp/gridprobe-report-", run.target.pid, "-", getpid(), ".json");
  absl::Status saved = WriteFileAtomically(fallback, text, 0600);
  return WithExitCode(
      absl::Status(written.code(),
                   absl::StrCat(written.message(),
                                saved.ok() ? absl::StrCat("; the report was saved to ", fallback,
                                                          " instead")
                                           : absl::StrCat("; saving it to ", fallback,
                                                          " failed too: ", saved.message()))),
      ExitCode::kOutputFailed);
}

}  // namespace gridprobe
