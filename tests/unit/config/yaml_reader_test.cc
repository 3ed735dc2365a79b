#include "base/yaml_reader.h"

#include <gtest/gtest.h>

#include <map>

#include "base/status.h"

namespace gridprobe::config {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](absl::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ExpandEnvTest, ReplacesReferences) {
  EnvLookup env = FakeEnv({{"HOST", "node-7"}, {"KEY", "s3cr3t"}});
  EXPECT_EQ(*ExpandEnv("${HOST}", env), "node-7");
  EXPECT_EQ(*ExpandEnv("https://${HOST}/x?k=${KEY}", env), "https://node-7/x?k=s3cr3t");
  EXPECT_EQ(*ExpandEnv("no references, $HOST stays", env), "no references, $HOST stays");
}

TEST(ExpandEnvTest, NamesAMissingVariableButNeverAValue) {
  EnvLookup env = FakeEnv({{"KEY", "s3cr3t"}});
  EXPECT_EQ(ExpandEnv("${KEY}-${NOPE}", env).status().message(),
            "environment variable 'NOPE' is not set");
  EXPECT_EQ(ExpandEnv("${KEY", env).status().message(), "unterminated '${' (write ${NAME})");
  EXPECT_EQ(ExpandEnv("${1A}", env).status().message(),
            "'${1A}' is not an environment variable reference (write ${NAME})");
}

TEST(ClosestMatchTest, SuggestsOnlyLikelyTypos) {
  std::vector<std::string> keys = {"interval", "duration", "memory", "budgets"};
  EXPECT_EQ(ClosestMatch("intervall", keys), "interval");
  EXPECT_EQ(ClosestMatch("memroy", keys), "memory");  // a swap costs one
  EXPECT_EQ(ClosestMatch("budget", keys), "budgets");
  EXPECT_EQ(ClosestMatch("Interval", keys), "interval");
  EXPECT_EQ(ClosestMatch("colour", keys), "");
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
  EXPECT_EQ(EditDistance("ab", "ba"), 1);
}

class ReaderTest : public ::testing::Test {
 protected:
  Value Get(const std::string& text, const std::string& key) {
    root_ = *reader_.Parse(text);
    std::vector<Entry> entries = *reader_.FreeMap(reader_.Root(root_));
    for (const Entry& e : entries) {
      if (e.key == key) return e.value;
    }
    ADD_FAILURE() << "no key " << key;
    return {};
  }

  YamlReader reader_{"f.yaml", FakeEnv({{"SECRET", "hunter2"}, {"SIZE", "64KiB"}})};
  YAML::Node root_;
};

TEST_F(ReaderTest, SyntaxErrorsArePositioned) {
  absl::Status s = reader_.Parse("a: [1, 2\nb: 3\n").status();
  EXPECT_EQ(s.message(), "f.yaml:2:2: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(ExitCodeOf(s), ExitCode::kBadInput);
  EXPECT_EQ(reader_.Parse("a: 'open").status().message(),
            "f.yaml:1:9: invalid YAML: illegal EOF in scalar");
}

TEST_F(ReaderTest, TextMustBeUtf8) {
  EXPECT_EQ(reader_.Parse("a: 1\nb: x\x9ey\n").status().message(),
            "f.yaml:2:5: not valid UTF-8 (byte 0x9E)");
  EXPECT_EQ(reader_.Parse("\xC0\x80").status().message(),  // overlong NUL
            "f.yaml:1:1: not valid UTF-8 (byte 0xC0)");
  EXPECT_TRUE(reader_.Parse("name: caf\xC3\xA9 \xF0\x9F\x93\x88\n").ok());
}

TEST_F(ReaderTest, MessagesAreOneLine) {
  // yaml-cpp quotes the offending character, here a control character.
  EXPECT_EQ(reader_.Parse("a: \"\\\x01\"").status().message(),
            "f.yaml:1:7: invalid YAML: unknown escape character: ?");
}

TEST_F(ReaderTest, NestingTooDeepIsAnErrorNotACrash) {
  EXPECT_EQ(reader_.Parse(std::string(5000, '[')).status().message(),
            "f.yaml:1:1: invalid YAML: nested too deeply");
}

TEST_F(ReaderTest, UnknownKeySuggestsTheNearest) {
  root_ = *reader_.Parse("interval: 1s\nintervall: 2s\n");
  std::vector<std::string> allowed = {"interval", "duration"};
  EXPECT_EQ(reader_.Map(reader_.Root(root_), allowed).status().message(),
            "f.yaml:2:1: unknown key 'intervall'; did you mean 'interval'?");
  root_ = *reader_.Parse("x:\n  colour: red\n");
  Value x = reader_.FreeMap(reader_.Root(root_))->front().value;
  EXPECT_EQ(reader_.Map(x, allowed).status().message(),
            "f.yaml:2:3: unknown key 'colour' in 'x' (expected one of: interval, duration)");
}

TEST_F(ReaderTest, RepeatedKeyIsAnError) {
  root_ = *reader_.Parse("a: 1\nb: 2\na: 3\n");
  EXPECT_EQ(reader_.FreeMap(reader_.Root(root_)).status().message(),
            "f.yaml:3:1: 'a' is set twice (first on line 1)");
}

TEST_F(ReaderTest, TypedValues) {
  EXPECT_EQ(*reader_.Duration(Get("d: 1.5s", "d")), absl::Milliseconds(1500));
  EXPECT_EQ(*reader_.Size(Get("s: ${SIZE}", "s")), 65536u);
  EXPECT_EQ(*reader_.Integer(Get("n: 20", "n"), 0, 100), 20);
  EXPECT_EQ(*reader_.PositiveNumber(Get("r: 1.25", "r")), 1.25);
  EXPECT_EQ(*reader_.String(Get("k: 'key=${SECRET}'", "k")), "key=hunter2");
}

TEST_F(ReaderTest, WrongValuesSayWhatWasExpected) {
  EXPECT_EQ(reader_.Duration(Get("d: fast", "d")).status().message(),
            "f.yaml:1:4: 'd': expected a duration such as 250ms, 1.5s, 2m or 1h, got 'fast'");
  EXPECT_EQ(reader_.Duration(Get("d: [1s]", "d")).status().message(),
            "f.yaml:1:4: 'd': expected a duration such as 250ms, 1.5s, 2m or 1h, got a list");
  EXPECT_EQ(reader_.Size(Get("s: 12 apples", "s")).status().message(),
            "f.yaml:1:4: 's': expected a size such as 4096, 64KiB or 1MiB, got '12 apples'");
  EXPECT_EQ(reader_.Integer(Get("n: 2.5", "n"), 1, 9).status().message(),
            "f.yaml:1:4: 'n': expected a whole number from 1 to 9, got '2.5'");
  EXPECT_EQ(reader_.PositiveNumber(Get("r: -1", "r")).status().message(),
            "f.yaml:1:4: 'r': expected a number greater than 0, got '-1'");
  std::vector<std::string> modes = {"off", "ops", "full"};
  EXPECT_EQ(reader_.OneOf(Get("m: fulll", "m"), modes).status().message(),
            "f.yaml:1:4: 'm': expected one of off, ops, full, got 'fulll'; did you mean 'full'?");
  // An empty value is blamed on its key.
  EXPECT_EQ(reader_.String(Get("a: 1\nk:\nb: 2", "k")).status().message(),
            "f.yaml:2:1: 'k': expected a string, got nothing");
}

TEST_F(ReaderTest, ErrorsQuoteTheTextAsWrittenNotTheSecret) {
  absl::Status s = reader_.Duration(Get("d: ${SECRET}", "d")).status();
  EXPECT_EQ(s.message(),
            "f.yaml:1:4: 'd': expected a duration such as 250ms, 1.5s, 2m or 1h, got '${SECRET}'");
  EXPECT_EQ(reader_.String(Get("k: ${MISSING}", "k")).status().message(),
            "f.yaml:1:4: 'k': environment variable 'MISSING' is not set");
}

TEST(ReadDocumentTest, MissingFileIsNotFound) {
  absl::Status s = ReadDocument("/nonexistent/gridprobe.yaml").status();
  EXPECT_EQ(s.message(), "cannot read '/nonexistent/gridprobe.yaml': No such file or directory");
  EXPECT_EQ(ExitCodeOf(s), ExitCode::kNotFound);
}

}  // namespace
}  // namespace gridprobe::config
