// Writes the finished JSON report to a file at the end of the run.
#ifndef GRIDPROBE_USERSPACE_SINKS_REPORT_FILE_H_
#define GRIDPROBE_USERSPACE_SINKS_REPORT_FILE_H_

#include <string>

#include "userspace/model/pipeline.h"

namespace gridprobe {

class ReportFileSink : public Sink {
 public:
  explicit ReportFileSink(std::string path) : path_(std::move(path)) {}
  const char* name() const override { return "report-json"; }
  // Writes the report atomically (base/files.h, mode 0644). When that
  // fails, the report goes to a file beside it in /var/tmp instead and the
  // error names both, so that the run is not lost.
  absl::Status OnRunEnd(const Snapshot& run, const nlohmann::json& report) override;

 private:
  std::string path_;
};

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_SINKS_REPORT_FILE_H_
