#include "userspace/sinks/console_events.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace gridprobe {

std::string FormatEventLine(const Event& event) {
  std::string word;
  switch (event.kind) {
    case EventKind::kViolationOpened:
    case EventKind::kViolationUpdated:
      word = absl::StrCat("budget ", SeverityName(event.severity));
      break;
    case EventKind::kViolationResolved: word = "budget resolved"; break;
    case EventKind::kPrediction: word = "budget forecast"; break;
    case EventKind::kLeakSuspected: word = "leak suspected"; break;
    case EventKind::kLeakCleared: word = "leak cleared"; break;
    default: word = absl::StrReplaceAll(EventKindName(event.kind), {{"_", " "}}); break;
  }
  return absl::StrCat("gridprobe: ", word, ": ", event.message);
}

void ConsoleEventSink::OnEvent(const Event& event) {
  std::string line = FormatEventLine(event);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace gridprobe
