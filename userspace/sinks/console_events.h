// The console destination: one line per event on stderr, as it happens.
#ifndef GRIDPROBE_USERSPACE_SINKS_CONSOLE_EVENTS_H_
#define GRIDPROBE_USERSPACE_SINKS_CONSOLE_EVENTS_H_

#include <cstdio>
#include <string>

#include "userspace/model/event.h"
#include "userspace/model/pipeline.h"

namespace gridprobe {

// "gridprobe: budget error: sort p95 150 ms over its 100 ms budget (...)".
// Budget events say "budget" and the severity of a violation, "resolved" or
// "forecast"; memory events "leak suspected" / "leak cleared"; health events
// their kind ("target exited", "library loaded", ...).
std::string FormatEventLine(const Event& event);

class ConsoleEventSink : public Sink {
 public:
  // REQUIRES: `out` outlives the sink.
  explicit ConsoleEventSink(FILE* out = stderr) : out_(out) {}
  const char* name() const override { return "console-events"; }
  void OnEvent(const Event& event) override;

 private:
  FILE* out_;
};

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_SINKS_CONSOLE_EVENTS_H_
