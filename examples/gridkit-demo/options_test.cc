#include "options.h"

#include <limits>
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
    EXPECT_FALSE(f.Timed());
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

TEST(OptionsTest, FaultSpans) {
  absl::StatusOr<Options> options =
      Parse({"--slow", "sort=150@20/5-12.5", "--leak", "render=4K/0.25-3",
             "--cache=paginate=64K@1M/0-1", "--throw", "group=10/30-40", "--leak", "filter=1K"});
  ASSERT_TRUE(options.ok()) << options.status();
  const auto& f = options->faults;
  const OpFaults& sort = f[Index(Op::kSort)];
  EXPECT_EQ(sort.slow_ms, 150);
  EXPECT_EQ(sort.slow_percent, 20);
  EXPECT_EQ(sort.slow_span.from_s, 5);
  EXPECT_EQ(sort.slow_span.to_s, 12.5);
  EXPECT_TRUE(sort.leak_span.WholeRun());
  EXPECT_TRUE(sort.Timed());
  const OpFaults& render = f[Index(Op::kRender)];
  EXPECT_EQ(render.leak_bytes, 4096u);
  EXPECT_EQ(render.leak_span.from_s, 0.25);
  EXPECT_EQ(render.leak_span.to_s, 3);
  const OpFaults& paginate = f[Index(Op::kPaginate)];
  EXPECT_EQ(paginate.cache_bytes, 64u << 10);
  EXPECT_EQ(paginate.cache_max_bytes, 1u << 20);
  EXPECT_EQ(paginate.cache_span.from_s, 0);
  EXPECT_EQ(paginate.cache_span.to_s, 1);
  EXPECT_TRUE(paginate.Timed());  // Starts at 0 but ends.
  const OpFaults& group = f[Index(Op::kGroup)];
  EXPECT_EQ(group.throw_percent, 10);
  EXPECT_EQ(group.throw_span.from_s, 30);
  EXPECT_EQ(group.throw_span.to_s, 40);
  // No span: the whole run.
  const OpFaults& filter = f[Index(Op::kFilter)];
  EXPECT_EQ(filter.leak_bytes, 1024u);
  EXPECT_EQ(filter.leak_span.from_s, 0);
  EXPECT_EQ(filter.leak_span.to_s, std::numeric_limits<double>::infinity());
  EXPECT_FALSE(filter.Timed());
}

TEST(TimeSpanTest, HalfOpen) {
  TimeSpan span{2, 4.5};
  EXPECT_FALSE(span.Contains(1.999));
  EXPECT_TRUE(span.Contains(2));
  EXPECT_TRUE(span.Contains(4.499));
  EXPECT_FALSE(span.Contains(4.5));
  EXPECT_FALSE(span.WholeRun());
  EXPECT_TRUE(TimeSpan{}.Contains(0));
  EXPECT_TRUE(TimeSpan{}.Contains(1e9));
  EXPECT_TRUE(TimeSpan{}.WholeRun());
}

TEST(OptionsTest, RejectsBadSpans) {
  const std::vector<std::string> bad = {
      "--slow=sort=150@20/5-5",    // TO == FROM
      "--slow=sort=150@20/8-5",    // TO < FROM
      "--leak=render=4K/-1-5",     // negative FROM
      "--leak=render=4K/1--5",     // negative TO
      "--cache=sort=1K@4K/a-b",    // not numbers
      "--throw=sort=5/5",          // no dash
      "--throw=sort=5/5-",         // no TO
      "--throw=sort=5/-5",         // no FROM
      "--throw=sort=5/",           // empty span
      "--slow=sort=150@20/1-2/3",  // two spans
      "--leak=render=4K/1-inf",    // not finite
      "--slow=sort=150/1-2",       // the body is still checked
  };
  for (const std::string& arg : bad) {
    absl::StatusOr<Options> options = Parse({arg});
    EXPECT_FALSE(options.ok()) << arg;
    if (!options.ok()) {
      EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument) << arg;
      const std::string message(options.status().message());
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      EXPECT_NE(message.find(arg.substr(2, arg.find('=') - 2)), std::string::npos) << message;
    }
  }
  absl::StatusOr<Options> reversed = Parse({"--slow=sort=150@20/8-5"});
  ASSERT_FALSE(reversed.ok());
  EXPECT_EQ(reversed.status().message(),
            "--slow sort=150@20/8-5: expected a span /FROM-TO in seconds after the start with "
            "0 <= FROM < TO");
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
  EXPECT_NE(Usage().find("--cache OP=BYTES@MAX[/FROM-TO]"), std::string::npos);
}

}  // namespace
}  // namespace gridkit_demo
