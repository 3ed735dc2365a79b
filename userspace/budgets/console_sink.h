// The "console" alert destination: one line per budget event.
#ifndef GRIDPROBE_USERSPACE_BUDGETS_CONSOLE_SINK_H_
#define GRIDPROBE_USERSPACE_BUDGETS_CONSOLE_SINK_H_

#include <cstdio>
#include <string>

#include "userspace/budgets/evaluator.h"

namespace gridprobe::budgets {

// "gridprobe: budget error: sort p95 150 ms over its 100 ms budget (...)".
// The word after "budget" is the severity of a violation, "resolved" or
// "forecast".
std::string FormatEventLine(const Event& event);

class ConsoleEventSink : public EventSink {
 public:
  // REQUIRES: `out` outlives the sink.
  explicit ConsoleEventSink(FILE* out = stderr) : out_(out) {}
  void OnEvent(const Event& event) override;

 private:
  FILE* out_;
};

}  // namespace gridprobe::budgets

#endif  // GRIDPROBE_USERSPACE_BUDGETS_CONSOLE_SINK_H_
