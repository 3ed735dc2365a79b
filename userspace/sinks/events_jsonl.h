// --events-jsonl FILE: one JSON line per event (docs/events.md), written
// with one write() and flushed as it happens, so that a reader that opens
// the file mid-run sees whole lines only. "-" is stdout.
#ifndef GRIDPROBE_USERSPACE_SINKS_EVENTS_JSONL_H_
#define GRIDPROBE_USERSPACE_SINKS_EVENTS_JSONL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "userspace/model/pipeline.h"

namespace gridprobe {

class EventsJsonlSink : public Sink {
 public:
  // Opens (creates, mode 0644, or appends to) `path`; "-" is stdout.
  // Errors carry ExitCode::kOutputFailed and come before any probe.
  static absl::StatusOr<std::unique_ptr<EventsJsonlSink>> Open(const std::string& path);
  ~EventsJsonlSink() override;

  const char* name() const override { return "events-jsonl"; }
  void OnEvent(const Event& event) override;
  // Adds "events_jsonl": {"path", "written", "failed", "last_error"}.
  void AddToReport(nlohmann::json* report) override;
  // A write that failed during the run fails the run at its end.
  absl::Status OnRunEnd(const Snapshot& run, const nlohmann::json& report) override;

 private:
  EventsJsonlSink(std::string path, int fd, bool owned)
      : path_(std::move(path)), fd_(fd), owned_(owned) {}

  std::string path_;
  int fd_;
  bool owned_;
  uint64_t written_ = 0;
  uint64_t failed_ = 0;
  std::string last_error_;
};

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_SINKS_EVENTS_JSONL_H_
