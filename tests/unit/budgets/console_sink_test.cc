#include "userspace/sinks/console_events.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace gridprobe::budgets {
namespace {

TEST(ConsoleEventSinkTest, OneLinePerEvent) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ConsoleEventSink sink(f);
  Event opened;
  opened.kind = EventKind::kViolationOpened;
  opened.severity = Severity::kError;
  opened.message = "sort p95 150 ms over its 100 ms budget";
  Event resolved = opened;
  resolved.kind = EventKind::kViolationResolved;
  resolved.message = "sort p95 back within its 100 ms budget";
  Event forecast;
  forecast.kind = EventKind::kPrediction;
  forecast.severity = Severity::kWarning;
  forecast.message = "sort p95 rising 4 ms/min";
  sink.OnEvent(opened);
  sink.OnEvent(resolved);
  sink.OnEvent(forecast);

  std::rewind(f);
  char buf[512] = {};
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  EXPECT_EQ(std::string(buf, n),
            "gridprobe: budget error: sort p95 150 ms over its 100 ms budget\n"
            "gridprobe: budget resolved: sort p95 back within its 100 ms budget\n"
            "gridprobe: budget forecast: sort p95 rising 4 ms/min\n");
}

TEST(EventKindTest, Names) {
  EXPECT_STREQ(EventKindName(EventKind::kViolationOpened), "violation_opened");
  EXPECT_STREQ(EventKindName(EventKind::kViolationUpdated), "violation_updated");
  EXPECT_STREQ(EventKindName(EventKind::kViolationResolved), "violation_resolved");
  EXPECT_STREQ(EventKindName(EventKind::kPrediction), "prediction");
}

}  // namespace
}  // namespace gridprobe::budgets
