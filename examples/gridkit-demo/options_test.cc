#include "options.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace gridkit_demo {
namespace {

absl::StatusOr<Options> Parse(std::vector<std::string> args) { return ParseOptions(args); }

TEST(OptionsTest, Defaults) {
  absl::StatusOr<Options> options = Parse({});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->rows, 20000);
  EXPECT_EQ(options->threads, 2);
  EXPECT_EQ(options->rate, 40);
  EXPECT_EQ(options->duration_s, 30);
  EXPECT_FALSE(options->wait_start);
  EXPECT_TRUE(options->truth_path.empty());
  for (const OpFaults& f : options->faults) {
    EXPECT_EQ(f.slow_ms, 0);
    EXPECT_EQ(f.leak_bytes, 0u);
    EXPECT_EQ(f.cache_bytes, 0u);
    EXPECT_EQ(f.throw_percent, 0);
  }
}

TEST(OptionsTest, AllFlagsBothSpellings) {
  absl::StatusOr<Options> options = Parse({"--rows",
                                           "1000",
                                           "--threads=3",
                                           "--rate",
                                           "0",
                                           "--duration=2.5",
                                           "--seed",
                                           "9",
                                           "--wait-start",
                                           "--truth",
                                           "/tmp/x.json",
                                           "--slow",
                                           "sort=150@20",
                                           "--slow=filter=2.5@100",
                                           "--leak",
                                           "render=4096",
                                           "--leak",
                                           "group=2K",
                                           "--cache",
                                           "paginate=64K@1M",
                                           "--throw",
                                           "sort=12.5"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->rows, 1000);
  EXPECT_EQ(options->threads, 3);
  EXPECT_EQ(options->rate, 0);
  EXPECT_EQ(options->duration_s, 2.5);
  EXPECT_EQ(options->seed, 9u);
  EXPECT_TRUE(options->wait_start);
  EXPECT_EQ(options->truth_path, "/tmp/x.json");
  const auto& f = options->faults;
  EXPECT_EQ(f[Index(Op::kSort)].slow_ms, 150);
  EXPECT_EQ(f[Index(Op::kSort)].slow_percent, 20);
  EXPECT_EQ(f[Index(Op::kSort)].throw_percent, 12.5);
  EXPECT_EQ(f[Index(Op::kFilter)].slow_ms, 2.5);
  EXPECT_EQ(f[Index(Op::kFilter)].slow_percent, 100);
  EXPECT_EQ(f[Index(Op::kRender)].leak_bytes, 4096u);
  EXPECT_EQ(f[Index(Op::kGroup)].leak_bytes, 2048u);
  EXPECT_EQ(f[Index(Op::kPaginate)].cache_bytes, 64u << 10);
  EXPECT_EQ(f[Index(Op::kPaginate)].cache_max_bytes, 1u << 20);
  EXPECT_EQ(f[Index(Op::kRowModelBuild)].leak_bytes, 0u);
}

TEST(OptionsTest, RejectsBadInput) {
  const std::vector<std::vector<std::string>> bad = {
      {"--rows", "0"},
      {"--rows", "12x"},
      {"--threads"},
      {"--threads", "0"},
      {"--rate", "-1"},
      {"--duration", "inf"},
      {"--slow", "sort=150"},
      {"--slow", "sorts=1@2"},
      {"--slow", "sort=1@101"},
      {"--leak", "render"},
      {"--leak", "render=0"},
      {"--leak", "render=4Q"},
      {"--cache", "sort=2M@1M"},
      {"--cache", "sort=1M"},
      {"--throw", "setData=5"},
      {"--truth="},
      {"--frobnicate", "1"},
      {"positional"},
  };
  for (const std::vector<std::string>& args : bad) {
    absl::StatusOr<Options> options = Parse(args);
    EXPECT_FALSE(options.ok()) << args[0] << " " << (args.size() > 1 ? args[1] : "");
    if (!options.ok()) {
      EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(std::string(options.status().message()).find('\n'), std::string::npos);
    }
  }
}

TEST(OptionsTest, Help) {
  absl::StatusOr<Options> options = Parse({"--help"});
  ASSERT_TRUE(options.ok());
  EXPECT_TRUE(options->help);
  EXPECT_NE(Usage().find("--cache OP=BYTES@MAX"), std::string::npos);
}

}  // namespace
}  // namespace gridkit_demo
