#include "userspace/sinks/events_jsonl.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/status.h"

namespace gridprobe {

absl::StatusOr<std::unique_ptr<EventsJsonlSink>> EventsJsonlSink::Open(const std::string& path) {
  if (path == "-") {
    return std::unique_ptr<EventsJsonlSink>(new EventsJsonlSink(path, STDOUT_FILENO, false));
  }
  GP_ASSIGN_OR_RETURN(int fd, OpenForAppend(path, "--events-jsonl", 0644));
  return std::unique_ptr<EventsJsonlSink>(new EventsJsonlSink(path, fd, true));
}

EventsJsonlSink::~EventsJsonlSink() {
  if (owned_ && fd_ >= 0) close(fd_);
}

void EventsJsonlSink::OnEvent(const Event& event) {
  std::string line = EventJson(event).dump();
  line.push_back('\n');
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ++failed_;
      last_error_ = absl::StrCat("write ", path_, ": ", std::strerror(errno));
      return;
    }
    done += static_cast<size_t>(n);
  }
  ++written_;
}

void EventsJsonlSink::AddToReport(nlohmann::json* report) {
  (*report)["events_jsonl"] = {{"path", path_},
                               {"written", written_},
                               {"failed", failed_},
                               {"last_error", last_error_.empty() ? nlohmann::json(nullptr)
                                                                  : nlohmann::json(last_error_)}};
}

absl::Status EventsJsonlSink::OnRunEnd(const Snapshot&, const nlohmann::json&) {
  if (failed_ == 0) return absl::OkStatus();
  return WithExitCode(absl::DataLossError(absl::StrCat(failed_, " of ", failed_ + written_,
                                                       " events could not be written to ", path_,
                                                       " (", last_error_, ")")),
                      ExitCode::kOutputFailed);
}

}  // namespace gridprobe
