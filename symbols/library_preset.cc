#include "symbols/library_preset.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"

namespace gridprobe::symbols {
namespace {

// Errors quote the file's own text (keys, values): a control character in it
// (a newline in a quoted key) must not break the one-line message.
std::string Printable(absl::string_view text) {
  std::string out;
  for (char c : text) {
    out.push_back(absl::ascii_isprint(c) || static_cast<unsigned char>(c) >= 0x80 ? c : '?');
  }
  return out;
}

absl::Status ErrorAt(const std::string& file, const YAML::Mark& mark, absl::string_view what) {
  return WithExitCode(
      absl::InvalidArgumentError(absl::StrCat(file, ":", mark.line + 1, ":", mark.column + 1,
                                              ": ", Printable(what))),
      ExitCode::kBadInput);
}

absl::Status CheckKeys(const std::string& file, const YAML::Node& map,
                       const std::set<std::string>& allowed, absl::string_view where) {
  for (const auto& kv : map) {
    std::string key = kv.first.Scalar();
    if (allowed.count(key) == 0) {
      return ErrorAt(file, kv.first.Mark(),
                     absl::StrCat("unknown key '", key, "' in ", where, " (expected one of: ",
                                  absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ScalarAt(const std::string& file, const YAML::Node& parent,
                                     const char* key, absl::string_view where, bool required) {
  YAML::Node n = parent[key];
  if (!n) {
    if (!required) return std::string();
    return ErrorAt(file, parent.Mark(), absl::StrCat(where, " needs '", key, "'"));
  }
  if (!n.IsScalar() || n.Scalar().empty()) {
    return ErrorAt(file, n.Mark(), absl::StrCat("'", key, "' must be a non-empty string"));
  }
  return n.Scalar();
}

// A string or a list of strings.
absl::StatusOr<std::vector<std::string>> Strings(const std::string& file, const YAML::Node& n,
                                                 const char* key) {
  std::vector<std::string> out;
  if (n.IsScalar() && !n.Scalar().empty()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence() && n.size() > 0) {
    for (const YAML::Node& item : n) {
      if (!item.IsScalar() || item.Scalar().empty()) {
        return ErrorAt(file, item.Mark(), absl::StrCat("'", key, "' entries must be strings"));
      }
      out.push_back(item.Scalar());
    }
  } else {
    return ErrorAt(file, n.Mark(),
                   absl::StrCat("'", key, "' must be a string or a non-empty list of strings"));
  }
  return out;
}

absl::StatusOr<LibraryPreset> Parse(const YAML::Node& root, const std::string& file) {
  if (!root.IsMap()) return ErrorAt(file, root.Mark(), "a library preset must be a mapping");
  GP_RETURN_IF_ERROR(CheckKeys(file, root, {"name", "description", "library", "operations"},
                               "the preset"));
  LibraryPreset preset;
  preset.source = file;
  GP_ASSIGN_OR_RETURN(preset.name, ScalarAt(file, root, "name", "the preset", true));
  GP_ASSIGN_OR_RETURN(preset.description,
                      ScalarAt(file, root, "description", "the preset", false));
  YAML::Node lib = root["library"];
  if (!lib || !lib.IsMap()) {
    return ErrorAt(file, lib ? lib.Mark() : root.Mark(),
                   "the preset needs 'library:' with 'match:' (the library's file name glob)");
  }
  GP_RETURN_IF_ERROR(CheckKeys(file, lib, {"match"}, "'library'"));
  if (!lib["match"]) return ErrorAt(file, lib.Mark(), "'library' needs 'match'");
  GP_ASSIGN_OR_RETURN(preset.match, Strings(file, lib["match"], "match"));

  YAML::Node ops = root["operations"];
  if (!ops || !ops.IsSequence() || ops.size() == 0) {
    return ErrorAt(file, ops ? ops.Mark() : root.Mark(),
                   "the preset needs 'operations:', a non-empty list");
  }
  std::set<std::string> names;
  for (const YAML::Node& op : ops) {
    if (!op.IsMap()) return ErrorAt(file, op.Mark(), "an operation must be a mapping");
    GP_RETURN_IF_ERROR(CheckKeys(file, op, {"name", "symbols", "impact", "return"},
                                 "an operation"));
    OperationSpec spec;
    GP_ASSIGN_OR_RETURN(spec.name, ScalarAt(file, op, "name", "an operation", true));
    if (!names.insert(spec.name).second) {
      return ErrorAt(file, op["name"].Mark(),
                     absl::StrCat("operation '", spec.name, "' is defined twice"));
    }
    if (!op["symbols"]) {
      return ErrorAt(file, op.Mark(), absl::StrCat("operation '", spec.name, "' needs 'symbols'"));
    }
    GP_ASSIGN_OR_RETURN(spec.symbols, Strings(file, op["symbols"], "symbols"));
    GP_ASSIGN_OR_RETURN(spec.impact, ScalarAt(file, op, "impact", "an operation", false));
    if (spec.impact.empty()) spec.impact = "userVisible";
    if (spec.impact != "userVisible" && spec.impact != "background") {
      return ErrorAt(file, op["impact"].Mark(),
                     absl::StrCat("impact must be 'userVisible' or 'background', not '",
                                  spec.impact, "'"));
    }
    GP_ASSIGN_OR_RETURN(std::string ret, ScalarAt(file, op, "return", "an operation", false));
    if (!ret.empty()) {
      std::optional<ReturnRequest> request = ParseReturnRequest(ret);
      if (!request) {
        return ErrorAt(file, op["return"].Mark(),
                       absl::StrCat("return must be 'auto', 'safe' or 'fast', not '", ret, "'"));
      }
      spec.return_request = *request;
    }
    preset.operations.push_back(std::move(spec));
  }
  return preset;
}

}  // namespace

absl::StatusOr<LibraryPreset> ParseLibraryPreset(absl::string_view text,
                                                 const std::string& filename) {
  try {
    return Parse(YAML::Load(std::string(text)), filename);
  } catch (const YAML::Exception& e) {
    return ErrorAt(filename, e.mark, e.msg);
  }
}

absl::StatusOr<LibraryPreset> LoadLibraryPreset(const std::string& name_or_path,
                                                const std::vector<std::string>& search_dirs) {
  std::vector<std::string> candidates;
  if (absl::StrContains(name_or_path, '/') || absl::EndsWith(name_or_path, ".yaml")) {
    candidates.push_back(name_or_path);
  } else {
    for (const std::string& dir : search_dirs) {
      candidates.push_back(absl::StrCat(dir, "/libraries/", name_or_path, ".yaml"));
    }
  }
  for (const std::string& path : candidates) {
    std::ifstream in(path);
    if (!in) continue;
    std::stringstream buf;
    buf << in.rdbuf();
    return ParseLibraryPreset(buf.str(), path);
  }
  return WithExitCode(
      absl::NotFoundError(absl::StrCat("no library preset '", name_or_path, "' (looked in: ",
                                       absl::StrJoin(candidates, ", "),
                                       "); run 'gridprobe presets list'")),
      ExitCode::kBadInput);
}

absl::Status CheckPresetsTogether(const std::vector<LibraryPreset>& presets, size_t max_ops) {
  std::map<std::string, const LibraryPreset*> sources;
  std::map<std::string, const LibraryPreset*> owners;  // operation name -> its preset
  size_t total = 0;
  for (const LibraryPreset& preset : presets) {
    if (auto [it, added] = sources.emplace(preset.source, &preset); !added) {
      return WithExitCode(
          absl::InvalidArgumentError(absl::StrCat("library preset '", preset.name, "' (",
                                                  preset.source, ") is given twice")),
          ExitCode::kBadInput);
    }
    for (const OperationSpec& op : preset.operations) {
      auto [it, added] = owners.emplace(op.name, &preset);
      if (!added) {
        return WithExitCode(
            absl::InvalidArgumentError(absl::StrCat(
                "operation '", op.name, "' is in both library presets '", it->second->name,
                "' (", it->second->source, ") and '", preset.name, "' (", preset.source,
                "); the report, budgets and alerts name operations, so the presets of one run "
                "must not share a name: rename it in a copy of one preset and give that file")),
            ExitCode::kBadInput);
      }
    }
    total += preset.operations.size();
  }
  if (total > max_ops) {
    std::vector<std::string> counts;
    for (const LibraryPreset& preset : presets) {
      counts.push_back(absl::StrCat(preset.name, " ", preset.operations.size()));
    }
    return WithExitCode(
        absl::InvalidArgumentError(absl::StrCat(
            "the library presets name ", total, " operations (", absl::StrJoin(counts, ", "),
            "); gridprobe times at most ", max_ops,
            " per run: profile fewer presets at once, or fewer operations in a copy of one")),
        ExitCode::kBadInput);
  }
  return absl::OkStatus();
}

}  // namespace gridprobe::symbols
