#include "userspace/model/event.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace gridprobe {
namespace {

// The ```json blocks of docs/events.md, in order.
std::vector<nlohmann::json> DocExamples() {
  std::ifstream in(std::string(GRIDPROBE_SOURCE_DIR) + "/docs/events.md");
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  std::vector<nlohmann::json> out;
  for (size_t pos = 0; (pos = text.find("```json\n", pos)) != std::string::npos;) {
    pos += 8;
    size_t end = text.find("```", pos);
    out.push_back(nlohmann::json::parse(text.substr(pos, end - pos)));
    pos = end + 3;
  }
  return out;
}

// The Event a documented example describes, built field by field.
Event FromDoc(const nlohmann::json& j) {
  Event e;
  e.kind = *ParseEventKind(j["kind"]);
  std::string err;
  EXPECT_TRUE(absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", j["time"].get<std::string>(),
                              absl::UTCTimeZone(), &e.time, &err))
      << err;
  e.severity = *ParseSeverity(j["severity"]);
  e.target.pid = j["target"]["pid"];
  e.target.comm = j["target"]["comm"];
  e.target.exe = j["target"]["exe"];
  e.operation = j.value("operation", "");
  e.category = j.value("category", "");
  e.metric = j.value("metric", "");
  e.preset = j.value("preset", "");
  if (j.contains("impact")) e.impact = ParseImpact(j["impact"]);
  const std::string& subject =
      !e.operation.empty() ? e.operation : !e.category.empty() ? e.category : e.preset;
  e.key = MakeEventKey(e.target, e.kind, subject, e.metric);
  e.figures = j["figures"];
  e.message = j["message"];
  return e;
}

TEST(EventDocTest, EveryKindHasOneExampleAndItIsWhatEventJsonWrites) {
  std::vector<nlohmann::json> examples = DocExamples();
  std::set<std::string> kinds;
  for (const nlohmann::json& doc : examples) {
    SCOPED_TRACE(doc["kind"].get<std::string>());
    ASSERT_TRUE(ParseEventKind(doc["kind"]).has_value());
    EXPECT_TRUE(kinds.insert(doc["kind"]).second) << "documented twice";
    Event e = FromDoc(doc);
    // The key as the code makes it, the JSON exactly as documented.
    EXPECT_EQ(e.key, doc["key"]);
    EXPECT_EQ(EventJson(e), doc) << EventJson(e).dump(2);
    EXPECT_EQ(doc["schema"], "gridprobe.event/1");
  }
  EXPECT_EQ(kinds.size(), static_cast<size_t>(kEventKinds));
}

TEST(EventTest, IncidentsShareAKey) {
  TargetInfo t{4242, "demo", "/bin/demo"};
  EXPECT_EQ(MakeEventKey(t, EventKind::kViolationOpened, "sort", "p95"),
            MakeEventKey(t, EventKind::kViolationResolved, "sort", "p95"));
  EXPECT_EQ(MakeEventKey(t, EventKind::kLeakSuspected, "render"),
            MakeEventKey(t, EventKind::kLeakCleared, "render"));
  EXPECT_EQ(MakeEventKey(t, EventKind::kLibraryLoaded, "gridkit"),
            MakeEventKey(t, EventKind::kLibraryUnloaded, "gridkit"));
  EXPECT_NE(MakeEventKey(t, EventKind::kViolationOpened, "sort", "p95"),
            MakeEventKey(t, EventKind::kPrediction, "sort", "p95"));
  EXPECT_NE(MakeEventKey(t, EventKind::kViolationOpened, "sort", "p95"),
            MakeEventKey(t, EventKind::kViolationOpened, "sort", "p99"));
  EXPECT_TRUE(IsResolution(EventKind::kViolationResolved));
  EXPECT_TRUE(IsResolution(EventKind::kLeakCleared));
  EXPECT_FALSE(IsResolution(EventKind::kViolationUpdated));
}

TEST(EventTest, NamesRoundTrip) {
  for (int i = 0; i < kEventKinds; ++i) {
    EventKind k = static_cast<EventKind>(i);
    EXPECT_EQ(ParseEventKind(EventKindName(k)), k);
  }
  EXPECT_FALSE(ParseEventKind("violation").has_value());
  EXPECT_EQ(ParseSeverity("critical"), Severity::kCritical);
  EXPECT_FALSE(ParseSeverity("fatal").has_value());
}

}  // namespace
}  // namespace gridprobe
