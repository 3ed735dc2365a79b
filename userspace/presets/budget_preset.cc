#include "userspace/presets/budget_preset.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "base/yaml_reader.h"

namespace gridprobe::budgets {
namespace {

namespace fs = std::filesystem;
using config::Entry;
using config::Value;
using config::YamlReader;

// A diamond of presets extending each other can pull in a file many times;
// this bounds the work a hostile set of files can cause.
constexpr int kMaxPresetFiles = 100;

const std::vector<std::string>& PresetKeys() {
  static const auto* keys = new std::vector<std::string>{"name",       "description", "extends",
                                                         "severities", "default",     "operations"};
  return *keys;
}

const std::vector<std::string>& LimitKeys(bool with_impact) {
  static const auto* keys = [] {
    auto* k = new std::vector<std::string>();
    for (Metric m : kAllMetrics) k->push_back(MetricName(m));
    return k;
  }();
  static const auto* with = [] {
    auto* k = new std::vector<std::string>(*keys);
    k->push_back("impact");
    return k;
  }();
  return with_impact ? *with : *keys;
}

// Operation names are identifiers such as "sort"; the bound keeps every
// name a valid YAML key when `presets show` writes the set back.
constexpr size_t kMaxNameLength = 256;

bool IsOperationName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

struct PartialSeverities {
  std::optional<double> warning;
  std::optional<double> error;
  std::optional<double> critical;
};

// What one file says, before the presets it extends are applied under it.
struct Layer {
  std::string name;
  std::string description;
  std::vector<std::pair<std::string, YAML::Mark>> extends;
  bool has_severities = false;
  YAML::Mark severities_mark;
  PartialSeverities severities;
  Limits defaults;
  std::map<std::string, OperationBudget, std::less<>> operations;
};

void Overlay(const Limits& top, Limits* under) {
  for (int i = 0; i < kNumMetrics; ++i) {
    if (top[i].has_value()) (*under)[i] = top[i];
  }
}

absl::StatusOr<double> ReadLimit(const YamlReader& reader, const Value& v, Metric m) {
  if (v.node.IsScalar() && v.node.Scalar() == "none") return kNoLimit;
  double value = 0;
  switch (MetricUnit(m)) {
    case Unit::kNanoseconds: {
      absl::StatusOr<absl::Duration> d = reader.Duration(v);
      if (!d.ok()) return d.status();
      value = static_cast<double>(absl::ToInt64Nanoseconds(*d));
      break;
    }
    case Unit::kBytes:
    case Unit::kBytesPerSecond: {
      absl::StatusOr<uint64_t> bytes = reader.Size(v);
      if (!bytes.ok()) return bytes.status();
      value = static_cast<double>(*bytes);
      break;
    }
    case Unit::kCallsPerSecond: {
      absl::StatusOr<double> rate = reader.PositiveNumber(v);
      if (!rate.ok()) return rate.status();
      value = *rate;
      break;
    }
  }
  if (value <= 0) {
    return reader.ErrorAt(v.mark, absl::StrCat("'", v.path,
                                               "': a budget must be greater than 0 (write "
                                               "'none' for no limit)"));
  }
  return value;
}

absl::Status ReadLimits(const YamlReader& reader, const Value& v, bool with_impact, Limits* limits,
                        std::optional<Impact>* impact) {
  absl::StatusOr<std::vector<Entry>> entries = reader.Map(v, LimitKeys(with_impact));
  if (!entries.ok()) return entries.status();
  for (const Entry& e : *entries) {
    if (e.key == "impact") {
      static const auto* kImpacts = new std::vector<std::string>{"userVisible", "background"};
      absl::StatusOr<std::string> s = reader.OneOf(e.value, *kImpacts);
      if (!s.ok()) return s.status();
      *impact = ParseImpact(*s);
      continue;
    }
    Metric m = *ParseMetric(e.key);
    absl::StatusOr<double> limit = ReadLimit(reader, e.value, m);
    if (!limit.ok()) return limit.status();
    (*limits)[static_cast<int>(m)] = *limit;
  }
  return absl::OkStatus();
}

absl::StatusOr<Layer> ParseLayer(const YamlReader& reader, absl::string_view text) {
  absl::StatusOr<YAML::Node> root = reader.Parse(text);
  if (!root.ok()) return root.status();
  Value top = reader.Root(*root);
  if (!top.node.IsMap() && !top.node.IsNull())
    return reader.Expected(top, "a budget preset (a map)");
  absl::StatusOr<std::vector<Entry>> entries = reader.Map(top, PresetKeys());
  if (!entries.ok()) return entries.status();

  Layer layer;
  for (const Entry& e : *entries) {
    absl::Status status;
    if (e.key == "name" || e.key == "description") {
      absl::StatusOr<std::string> s = reader.String(e.value);
      if (!s.ok()) return s.status();
      (e.key == "name" ? layer.name : layer.description) = *s;
    } else if (e.key == "extends") {
      absl::StatusOr<std::vector<Value>> items =
          e.value.node.IsSequence() ? reader.List(e.value)
                                    : absl::StatusOr<std::vector<Value>>({e.value});
      if (!items.ok()) return items.status();
      for (const Value& item : *items) {
        absl::StatusOr<std::string> s = reader.String(item);
        if (!s.ok()) return s.status();
        if (s->empty()) return reader.Expected(item, "a preset name or file");
        layer.extends.emplace_back(*s, item.mark);
      }
    } else if (e.key == "severities") {
      static const auto* kKeys = new std::vector<std::string>{"warning", "error", "critical"};
      absl::StatusOr<std::vector<Entry>> levels = reader.Map(e.value, *kKeys);
      if (!levels.ok()) return levels.status();
      layer.has_severities = true;
      layer.severities_mark = e.value.mark;
      for (const Entry& level : *levels) {
        absl::StatusOr<double> ratio = reader.PositiveNumber(level.value);
        if (!ratio.ok()) return ratio.status();
        (level.key == "warning" ? layer.severities.warning
         : level.key == "error" ? layer.severities.error
                                : layer.severities.critical) = *ratio;
      }
    } else if (e.key == "default") {
      std::optional<Impact> unused;
      status = ReadLimits(reader, e.value, /*with_impact=*/false, &layer.defaults, &unused);
    } else if (e.key == "operations") {
      absl::StatusOr<std::vector<Entry>> ops = reader.FreeMap(e.value);
      if (!ops.ok()) return ops.status();
      for (const Entry& op : *ops) {
        if (!IsOperationName(op.key)) {
          return reader.ErrorAt(op.key_mark,
                                absl::StrCat("expected an operation name (1 to ", kMaxNameLength,
                                             " characters, no control characters)"));
        }
        OperationBudget& budget = layer.operations[op.key];
        status = ReadLimits(reader, op.value, /*with_impact=*/true, &budget.limits, &budget.impact);
        if (!status.ok()) return status;
      }
    }
    if (!status.ok()) return status;
  }
  return layer;
}

// Resolves one file and everything it extends into `set`, parents first.
class Resolver {
 public:
  explicit Resolver(const PresetCatalog& catalog) : catalog_(catalog) {}

  absl::Status Resolve(absl::string_view text, const std::string& filename,
                       const std::string& display, BudgetSet* set) {
    if (++files_ > kMaxPresetFiles) {
      return WithExitCode(
          absl::InvalidArgumentError(absl::StrCat(filename, ": 'extends' pulls in more than ",
                                                  kMaxPresetFiles, " preset files")),
          ExitCode::kBadInput);
    }
    YamlReader reader(filename);
    absl::StatusOr<Layer> layer = ParseLayer(reader, text);
    if (!layer.ok()) return layer.status();
    stack_.emplace_back(Canonical(filename), display);

    for (const auto& [parent, mark] : layer->extends) {
      std::string path;
      if (IsPresetPath(parent)) {
        fs::path p(parent);
        path = p.is_absolute() ? parent
                               : (fs::path(filename).parent_path() / p).lexically_normal().string();
      } else if (std::optional<std::string> found = catalog_.FindBudgetPreset(parent)) {
        path = *found;
      } else {
        return reader.ErrorAt(mark, catalog_.UnknownBudgetPreset(parent));
      }
      std::string canonical = Canonical(path);
      for (size_t i = 0; i < stack_.size(); ++i) {
        if (stack_[i].first != canonical) continue;
        std::vector<std::string> chain;
        for (size_t j = i; j < stack_.size(); ++j) chain.push_back(stack_[j].second);
        chain.push_back(parent);
        return reader.ErrorAt(mark,
                              absl::StrCat("circular extends: ", absl::StrJoin(chain, " -> ")));
      }
      absl::StatusOr<std::string> parent_text = config::ReadDocument(path);
      if (!parent_text.ok()) {
        return reader.ErrorAt(mark, parent_text.status().message());
      }
      absl::Status status = Resolve(*parent_text, path, parent, set);
      if (!status.ok()) return status;
    }

    Overlay(layer->defaults, &set->defaults);
    for (const auto& [op, budget] : layer->operations) {
      OperationBudget& merged = set->operations[op];
      Overlay(budget.limits, &merged.limits);
      if (budget.impact.has_value()) merged.impact = budget.impact;
    }
    if (layer->has_severities) {
      Severities& s = set->severities;
      s.warning = layer->severities.warning.value_or(s.warning);
      s.error = layer->severities.error.value_or(s.error);
      s.critical = layer->severities.critical.value_or(s.critical);
      if (!(s.warning <= s.error && s.error <= s.critical)) {
        return reader.ErrorAt(
            layer->severities_mark,
            absl::StrCat("'severities': expected warning <= error <= critical, got warning ",
                         s.warning, ", error ", s.error, ", critical ", s.critical));
      }
    }
    set->name = layer->name.empty() ? display : layer->name;
    set->description = layer->description;
    set->source = filename;
    stack_.pop_back();
    return absl::OkStatus();
  }

 private:
  static std::string Canonical(const std::string& path) {
    std::error_code ec;
    fs::path p = fs::weakly_canonical(path, ec);
    return ec ? path : p.string();
  }

  const PresetCatalog& catalog_;
  std::vector<std::pair<std::string, std::string>> stack_;  // canonical path, name shown
  int files_ = 0;
};

}  // namespace

std::vector<std::string> PresetSearchPath() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("GRIDPROBE_PRESETS_DIR"); env != nullptr && *env != '\0') {
    candidates.push_back(env);
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(
        (exe.parent_path() / ".." / "share" / "gridprobe" / "presets").lexically_normal());
  }
#ifdef GRIDPROBE_SOURCE_PRESETS_DIR
  candidates.push_back(GRIDPROBE_SOURCE_PRESETS_DIR);
#endif
  std::vector<std::string> roots;
  for (const std::string& dir : candidates) {
    if (fs::is_directory(dir, ec) && std::find(roots.begin(), roots.end(), dir) == roots.end()) {
      roots.push_back(dir);
    }
  }
  return roots;
}

bool IsPresetPath(absl::string_view name) {
  return absl::StrContains(name, '/') || absl::EndsWith(name, ".yaml");
}

PresetCatalog::PresetCatalog(std::vector<std::string> roots) : roots_(std::move(roots)) {}

PresetCatalog PresetCatalog::Default() { return PresetCatalog(PresetSearchPath()); }

std::vector<PresetInfo> PresetCatalog::List(absl::string_view kind) const {
  std::map<std::string, PresetInfo> found;
  for (const std::string& root : roots_) {
    std::error_code ec;
    for (const fs::directory_entry& entry :
         fs::directory_iterator(fs::path(root) / std::string(kind), ec)) {
      const fs::path& p = entry.path();
      if (p.extension() != ".yaml" || found.count(p.stem().string()) > 0) continue;
      PresetInfo info{p.stem().string(), "", p.string()};
      // Only the description is wanted here; a broken file shows up when used.
      if (absl::StatusOr<std::string> text = config::ReadDocument(info.path); text.ok()) {
        try {
          YAML::Node doc = YAML::Load(*text);
          if (doc.IsMap() && doc["description"] && doc["description"].IsScalar()) {
            info.description = doc["description"].Scalar();
          }
        } catch (const YAML::Exception&) {
          info.description = "(not valid YAML)";
        }
      }
      found.emplace(info.name, std::move(info));
    }
  }
  std::vector<PresetInfo> out;
  for (auto& [name, info] : found) out.push_back(std::move(info));
  return out;
}

std::optional<std::string> PresetCatalog::Find(absl::string_view kind,
                                               absl::string_view name) const {
  for (const std::string& root : roots_) {
    fs::path p = fs::path(root) / std::string(kind) / absl::StrCat(name, ".yaml");
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return std::nullopt;
}

std::vector<PresetInfo> PresetCatalog::BudgetPresets() const { return List("budgets"); }
std::vector<PresetInfo> PresetCatalog::LibraryPresets() const { return List("libraries"); }

std::optional<std::string> PresetCatalog::FindBudgetPreset(absl::string_view name) const {
  return Find("budgets", name);
}

std::optional<std::string> PresetCatalog::FindLibraryPreset(absl::string_view name) const {
  return Find("libraries", name);
}

std::string PresetCatalog::UnknownBudgetPreset(absl::string_view name) const {
  std::vector<std::string> names;
  for (const PresetInfo& info : BudgetPresets()) names.push_back(info.name);
  std::string known = names.empty()
                          ? absl::StrCat("no presets found in: ", absl::StrJoin(roots_, ", "))
                          : absl::StrCat("known: ", absl::StrJoin(names, ", "));
  return absl::StrCat("unknown budget preset '", name, "'", config::DidYouMean(name, names), " (",
                      known, ")");
}

absl::StatusOr<BudgetSet> ParseBudgetSet(absl::string_view text, const std::string& filename,
                                         const PresetCatalog& catalog) {
  BudgetSet set;
  Resolver resolver(catalog);
  absl::Status status = resolver.Resolve(text, filename, filename, &set);
  if (!status.ok()) return status;
  return set;
}

absl::StatusOr<BudgetSet> LoadBudgetSet(absl::string_view name_or_path,
                                        const PresetCatalog& catalog) {
  std::string path(name_or_path);
  std::string display(name_or_path);
  if (!IsPresetPath(name_or_path)) {
    std::optional<std::string> found = catalog.FindBudgetPreset(name_or_path);
    if (!found.has_value()) {
      return WithExitCode(absl::InvalidArgumentError(catalog.UnknownBudgetPreset(name_or_path)),
                          ExitCode::kBadInput);
    }
    path = *found;
  }
  absl::StatusOr<std::string> text = config::ReadDocument(path);
  if (!text.ok()) return text.status();
  BudgetSet set;
  Resolver resolver(catalog);
  absl::Status status = resolver.Resolve(*text, path, display, &set);
  if (!status.ok()) return status;
  return set;
}

}  // namespace gridprobe::budgets
