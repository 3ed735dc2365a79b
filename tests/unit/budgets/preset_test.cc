#include "userspace/presets/budget_preset.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/status.h"

namespace gridprobe::budgets {
namespace {

namespace fs = std::filesystem;

constexpr double kMs = 1e6;

class PresetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::path(::testing::TempDir()) /
        (std::string("preset_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "root" / "budgets");
  }

  // A preset in the test's own root, found by name.
  void Preset(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / "root" / "budgets" / (name + ".yaml")) << text;
  }
  std::string File(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  PresetCatalog Catalog() const {
    return PresetCatalog({(dir_ / "root").string(), GRIDPROBE_TEST_PRESETS_DIR});
  }

  absl::StatusOr<BudgetSet> Load(const std::string& name) { return LoadBudgetSet(name, Catalog()); }

  // The error message, with the test directory cut from file names.
  std::string Error(const std::string& name) {
    absl::StatusOr<BudgetSet> set = Load(name);
    if (set.ok()) return "no error";
    std::string message(set.status().message());
    for (std::string prefix : {(dir_ / "root" / "budgets").string() + "/", dir_.string() + "/"}) {
      for (size_t at; (at = message.find(prefix)) != std::string::npos;) {
        message.erase(at, prefix.size());
      }
    }
    return message;
  }

  fs::path dir_;
};

TEST_F(PresetTest, ShippedPresetsLoadWithRationale) {
  PresetCatalog catalog({GRIDPROBE_TEST_PRESETS_DIR});
  std::vector<std::string> names;
  for (const PresetInfo& info : catalog.BudgetPresets()) {
    names.push_back(info.name);
    EXPECT_FALSE(info.description.empty()) << info.name;
    absl::StatusOr<BudgetSet> set = LoadBudgetSet(info.name, catalog);
    ASSERT_TRUE(set.ok()) << set.status();
    EXPECT_EQ(set->name, info.name);
    std::ifstream in(info.path);
    std::string first_line;
    std::getline(in, first_line);
    EXPECT_EQ(first_line.rfind("# " + info.name + ":", 0), 0u) << info.path;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"background", "interactive", "relaxed", "rendering",
                                             "strict"}));
}

TEST_F(PresetTest, ShippedValues) {
  PresetCatalog catalog({GRIDPROBE_TEST_PRESETS_DIR});
  BudgetSet interactive = *LoadBudgetSet("interactive", catalog);
  EXPECT_EQ(interactive.LimitFor("sort", Metric::kP95), 100 * kMs);
  EXPECT_EQ(interactive.severities.error, 1.5);
  BudgetSet rendering = *LoadBudgetSet("rendering", catalog);
  EXPECT_EQ(rendering.LimitFor("sort", Metric::kP95), 16.7 * kMs);
  BudgetSet strict = *LoadBudgetSet("strict", catalog);
  EXPECT_EQ(strict.severities.error, 1.25);
  EXPECT_EQ(strict.LimitFor("x", Metric::kAllocBytesPerCall), 128 * 1024);
}

TEST_F(PresetTest, ExtendsChainOverridesSingleValues) {
  Preset("base",
         "default: {p50: 10ms, p95: 100ms, p99: 200ms}\n"
         "operations:\n  sort: {p95: 50ms}\n  save: {impact: background}\n");
  Preset("middle", "extends: base\ndefault: {p95: 80ms}\nseverities: {error: 1.2}\n");
  std::string top = File("top.yaml",
                         "name: mine\nextends: middle\ndefault: {p99: 150ms}\n"
                         "operations:\n  sort: {max: 1s}\n  save: {p99: none}\n");
  absl::StatusOr<BudgetSet> set = Load(top);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->name, "mine");
  EXPECT_EQ(set->source, top);
  EXPECT_EQ(set->LimitFor("filter", Metric::kP50), 10 * kMs);    // from base
  EXPECT_EQ(set->LimitFor("filter", Metric::kP95), 80 * kMs);    // middle over base
  EXPECT_EQ(set->LimitFor("filter", Metric::kP99), 150 * kMs);   // top over base
  EXPECT_EQ(set->LimitFor("sort", Metric::kP95), 50 * kMs);      // base's operation entry kept
  EXPECT_EQ(set->LimitFor("sort", Metric::kMax), 1000 * kMs);    // merged into it
  EXPECT_EQ(set->LimitFor("save", Metric::kP99), std::nullopt);  // "none" drops the default
  EXPECT_EQ(set->operations.at("save").impact, Impact::kBackground);
  EXPECT_EQ(set->severities.warning, 1.0);
  EXPECT_EQ(set->severities.error, 1.2);
  EXPECT_EQ(set->severities.critical, 2.0);
}

TEST_F(PresetTest, LaterExtendsWin) {
  Preset("a", "default: {p95: 10ms, p99: 20ms}\n");
  Preset("b", "default: {p95: 30ms}\n");
  absl::StatusOr<BudgetSet> set = Load(File("c.yaml", "extends: [a, b]\n"));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->LimitFor("x", Metric::kP95), 30 * kMs);
  EXPECT_EQ(set->LimitFor("x", Metric::kP99), 20 * kMs);
  EXPECT_EQ(set->name, dir_.string() + "/c.yaml");  // no name: the path it was loaded by
}

TEST_F(PresetTest, ExtendsAShippedPresetAndARelativeFile) {
  File("team.yaml", "default: {max: 500ms}\n");
  absl::StatusOr<BudgetSet> set =
      Load(File("app.yaml", "extends: [interactive, ./team.yaml]\ndefault: {p95: 80ms}\n"));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->LimitFor("x", Metric::kP50), 50 * kMs);
  EXPECT_EQ(set->LimitFor("x", Metric::kP95), 80 * kMs);
  EXPECT_EQ(set->LimitFor("x", Metric::kMax), 500 * kMs);
}

TEST_F(PresetTest, Cycles) {
  Preset("self", "extends: self\n");
  EXPECT_EQ(Error("self"), "self.yaml:1:10: circular extends: self -> self");
  Preset("a", "extends: b\n");
  Preset("b", "default: {p95: 1ms}\nextends: [interactive, c]\n");
  Preset("c", "extends: a\n");
  EXPECT_EQ(Error("a"), "c.yaml:1:10: circular extends: a -> b -> c -> a");
  File("x.yaml", "extends: ./y.yaml\n");
  File("y.yaml", "extends:\n  - ./x.yaml\n");
  EXPECT_EQ(Error((dir_ / "x.yaml").string()),
            "y.yaml:2:5: circular extends: x.yaml -> ./y.yaml -> ./x.yaml");
}

TEST_F(PresetTest, DiamondIsNotACycle) {
  Preset("base", "default: {p95: 10ms}\n");
  Preset("left", "extends: base\n");
  Preset("right", "extends: base\n");
  absl::StatusOr<BudgetSet> set = Load(File("d.yaml", "extends: [left, right]\n"));
  ASSERT_TRUE(set.ok()) << set.status();
}

TEST_F(PresetTest, UnknownPresets) {
  Preset("mine", "extends: interactve\n");
  EXPECT_EQ(Error("mine"),
            "mine.yaml:1:10: unknown budget preset 'interactve'; did you mean 'interactive'? "
            "(known: background, interactive, mine, relaxed, rendering, strict)");
  absl::StatusOr<BudgetSet> set = Load("strictt");
  EXPECT_EQ(set.status().message(),
            "unknown budget preset 'strictt'; did you mean 'strict'? "
            "(known: background, interactive, mine, relaxed, rendering, strict)");
  EXPECT_EQ(ExitCodeOf(set.status()), ExitCode::kBadInput);
  Preset("gone", "extends: ./nowhere.yaml\n");
  EXPECT_EQ(Error("gone"), "gone.yaml:1:10: cannot read 'nowhere.yaml': No such file or directory");
  set = Load((dir_ / "absent.yaml").string());
  EXPECT_EQ(ExitCodeOf(set.status()), ExitCode::kNotFound);
}

TEST_F(PresetTest, ValueErrors) {
  Preset("e1", "default:\n  mx: 10ms\n");
  EXPECT_EQ(Error("e1"), "e1.yaml:2:3: unknown key 'mx' in 'default'; did you mean 'max'?");
  Preset("e2", "default:\n  p95: 100\n");
  EXPECT_EQ(Error("e2"),
            "e2.yaml:2:8: 'default.p95': expected a duration such as 250ms, 1.5s, 2m or 1h, got "
            "'100'");
  Preset("e3", "operations:\n  sort:\n    live_bytes: 64 KB\n");
  EXPECT_EQ(Error("e3"),
            "e3.yaml:3:17: 'operations.sort.live_bytes': expected a size such as 4096, 64KiB or "
            "1MiB, got '64 KB'");
  Preset("e4", "default: {max: 0}\n");
  EXPECT_EQ(Error("e4"),
            "e4.yaml:1:16: 'default.max': a budget must be greater than 0 (write 'none' for no "
            "limit)");
  Preset("e5", "severities: {warning: 1.0, error: 2.5, critical: 2.0}\n");
  EXPECT_EQ(Error("e5"),
            "e5.yaml:1:13: 'severities': expected warning <= error <= critical, got warning 1, "
            "error 2.5, critical 2");
  Preset("e6", "operations:\n  sort: {impact: visible}\n");
  EXPECT_EQ(Error("e6"),
            "e6.yaml:2:18: 'operations.sort.impact': expected one of userVisible, background, "
            "got 'visible'");
  Preset("e7", "default: {impact: background}\n");
  EXPECT_EQ(Error("e7"),
            "e7.yaml:1:11: unknown key 'impact' in 'default' (expected one of: p50, p95, p99, "
            "max, mean, calls_per_s, alloc_bytes_per_call, live_bytes, leak_growth_per_s)");
  Preset("e8", "extends: [interactive, [strict]]\n");
  EXPECT_EQ(Error("e8"), "e8.yaml:1:24: 'extends[1]': expected a string, got a list");
  Preset("e9", "defaults: {p95: 1s}\n");
  EXPECT_EQ(Error("e9"), "e9.yaml:1:1: unknown key 'defaults'; did you mean 'default'?");
  Preset("e11", "operations:\n  \"so\\trt\": {p95: 1s}\n");
  EXPECT_EQ(Error("e11"),
            "e11.yaml:2:3: expected an operation name (1 to 256 characters, no control "
            "characters)");
  Preset("e10", "default: {calls_per_s: lots}\n");
  EXPECT_EQ(Error("e10"),
            "e10.yaml:1:24: 'default.calls_per_s': expected a number greater than 0, got 'lots'");
}

TEST_F(PresetTest, Catalog) {
  Preset("interactive", "description: shadowing the shipped one\n");
  PresetCatalog catalog = Catalog();
  EXPECT_EQ(catalog.FindBudgetPreset("interactive"),
            (dir_ / "root" / "budgets" / "interactive.yaml").string());
  EXPECT_EQ(catalog.FindBudgetPreset("rendering"),
            std::string(GRIDPROBE_TEST_PRESETS_DIR) + "/budgets/rendering.yaml");
  EXPECT_EQ(catalog.FindBudgetPreset("nope"), std::nullopt);
  std::vector<PresetInfo> list = catalog.BudgetPresets();
  ASSERT_EQ(list.size(), 5u);
  EXPECT_EQ(list[1].name, "interactive");
  EXPECT_EQ(list[1].description, "shadowing the shipped one");
}

TEST(PresetPathTest, NamesAndPaths) {
  EXPECT_FALSE(IsPresetPath("interactive"));
  EXPECT_TRUE(IsPresetPath("mine.yaml"));
  EXPECT_TRUE(IsPresetPath("./mine"));
  EXPECT_TRUE(IsPresetPath("/etc/gridprobe/budgets"));
}

TEST(PresetPathTest, EnvironmentComesFirst) {
  std::string dir = ::testing::TempDir() + "/env_presets";
  fs::create_directories(dir);
  ASSERT_EQ(setenv("GRIDPROBE_PRESETS_DIR", dir.c_str(), 1), 0);
  std::vector<std::string> roots = PresetSearchPath();
  unsetenv("GRIDPROBE_PRESETS_DIR");
  ASSERT_FALSE(roots.empty());
  EXPECT_EQ(roots.front(), dir);
  // The source tree's presets come last, so built-in names always resolve.
  EXPECT_EQ(fs::weakly_canonical(roots.back()), fs::weakly_canonical(GRIDPROBE_TEST_PRESETS_DIR));
}

}  // namespace
}  // namespace gridprobe::budgets
