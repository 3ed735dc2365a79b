#include "userspace/budgets/console_sink.h"

#include "absl/strings/str_cat.h"

namespace gridprobe::budgets {

std::string FormatEventLine(const Event& event) {
  const char* word = SeverityName(event.severity);
  if (event.kind == EventKind::kViolationResolved) word = "resolved";
  if (event.kind == EventKind::kPrediction) word = "forecast";
  return absl::StrCat("gridprobe: budget ", word, ": ", event.message);
}

void ConsoleEventSink::OnEvent(const Event& event) {
  std::string line = FormatEventLine(event);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace gridprobe::budgets
