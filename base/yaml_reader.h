// Reading hand-written YAML with errors that point at the file, line and
// column and say what was expected. Shared by the configuration file and
// the budget presets.
#ifndef GRIDPROBE_BASE_YAML_READER_H_
#define GRIDPROBE_BASE_YAML_READER_H_

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace gridprobe::config {

// The contents of a file, or "cannot read '<path>': <reason>" tagged
// ExitCode::kNotFound. Files over 1 MiB are refused the same way.
absl::StatusOr<std::string> ReadDocument(const std::string& path);

// Looks up an environment variable; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(absl::string_view name)>;
// The environment of this process.
EnvLookup ProcessEnv();

// Replaces each ${NAME} in `text` with the variable's value. Errors name the
// variable, never a value.
absl::StatusOr<std::string> ExpandEnv(absl::string_view text, const EnvLookup& env);

// Optimal-string-alignment distance: insertions, deletions, substitutions
// and swaps of neighbours each cost 1.
int EditDistance(absl::string_view a, absl::string_view b);
// The candidate nearest to `word` when it is close enough to be a typo of
// it, else "".
std::string ClosestMatch(absl::string_view word, absl::Span<const std::string> candidates);
// " (did you mean 'x'?)"-style suffix: "; did you mean 'x'?" or "".
std::string DidYouMean(absl::string_view word, absl::Span<const std::string> candidates);

// A value in a document, with the setting's dotted name ("report.json") and
// the place errors about it point to (its key's place when it is empty).
struct Value {
  YAML::Node node;
  YAML::Mark mark;
  std::string path;
};

// One entry of a map.
struct Entry {
  std::string key;
  YAML::Mark key_mark;
  Value value;
};

class YamlReader {
 public:
  explicit YamlReader(std::string filename, EnvLookup env = ProcessEnv());

  const std::string& filename() const { return filename_; }

  // Parses a whole document. An empty document is a null node.
  absl::StatusOr<YAML::Node> Parse(absl::string_view text) const;
  // The document root as a Value with an empty path.
  Value Root(const YAML::Node& root) const;

  // "<file>:<line>:<col>: <message>", tagged ExitCode::kBadInput.
  absl::Status ErrorAt(const YAML::Mark& mark, absl::string_view message) const;
  // "'<path>': expected <what>, got <the value><hint>".
  absl::Status Expected(const Value& v, absl::string_view what, absl::string_view hint = "") const;

  // The entries of a map, in file order. Fails on a key not in `allowed`
  // (suggesting the nearest), a repeated key, or a value that is not a map.
  absl::StatusOr<std::vector<Entry>> Map(const Value& v,
                                         absl::Span<const std::string> allowed) const;
  // The entries of a map whose keys are free-form (operation names).
  absl::StatusOr<std::vector<Entry>> FreeMap(const Value& v) const;
  // The items of a list ("alerts[0]", ...).
  absl::StatusOr<std::vector<Value>> List(const Value& v) const;

  // Scalars, after ${NAME} expansion. Messages quote the text as written,
  // so an expanded secret never appears in one.
  absl::StatusOr<std::string> String(const Value& v) const;
  absl::StatusOr<absl::Duration> Duration(const Value& v) const;
  absl::StatusOr<uint64_t> Size(const Value& v) const;
  absl::StatusOr<int64_t> Integer(const Value& v, int64_t min, int64_t max) const;
  // A finite number greater than zero.
  absl::StatusOr<double> PositiveNumber(const Value& v) const;
  // One of `choices`.
  absl::StatusOr<std::string> OneOf(const Value& v, absl::Span<const std::string> choices) const;

 private:
  absl::StatusOr<std::string> Scalar(const Value& v, absl::string_view what) const;

  std::string filename_;
  EnvLookup env_;
};

}  // namespace gridprobe::config

#endif  // GRIDPROBE_BASE_YAML_READER_H_
