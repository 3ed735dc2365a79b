#include "userspace/cli/config.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "userspace/sinks/alerts/destination.h"
#include "userspace/sinks/prometheus/http_server.h"
#include "userspace/sinks/reports/reports_sink.h"

namespace gridprobe::config {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string>& Keys(absl::string_view section) {
  static const auto* top = new std::vector<std::string>{
      "presets", "budgets",        "memory", "interval",    "duration",
      "report",  "budget_options", "alerts", "max_threads", "debug_dir", "events_jsonl", "exporters",
      "reports"};
  static const auto* report = new std::vector<std::string>{"json"};
  static const auto* options = new std::vector<std::string>{
      "min_calls", "open_after", "resolve_after", "horizon", "severities"};
  static const auto* severities = new std::vector<std::string>{"warning", "error", "critical"};
  static const auto* exporters = new std::vector<std::string>{"prometheus"};
  static const auto* prometheus = new std::vector<std::string>{"listen", "allow_remote"};
  static const auto* reports =
      new std::vector<std::string>{"dir", "every", "formats", "keep", "max_age"};
  if (section == "reports") return *reports;
  if (section == "exporters") return *exporters;
  if (section == "prometheus") return *prometheus;
  if (section == "report") return *report;
  if (section == "budget_options") return *options;
  if (section == "severities") return *severities;
  return *top;
}

// Parses one file; `dir` resolves relative paths.
class Parser {
 public:
  Parser(const YamlReader& reader, const budgets::PresetCatalog& catalog, fs::path dir)
      : reader_(reader), catalog_(catalog), dir_(std::move(dir)) {}

  absl::Status Parse(const Value& root, Config* config) {
    if (!root.node.IsMap() && !root.node.IsNull()) {
      return reader_.Expected(root, "a map of settings");
    }
    absl::StatusOr<std::vector<Entry>> entries = reader_.Map(root, Keys(""));
    if (!entries.ok()) return entries.status();
    for (const Entry& e : *entries) {
      absl::Status status = Setting(e, config);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Setting(const Entry& e, Config* config) {
    const Value& v = e.value;
    if (e.key == "presets") return Presets(v, config);
    if (e.key == "budgets") return Budgets(v, config);
    if (e.key == "memory") {
      static const auto* kModes = new std::vector<std::string>{"off", "ops", "full"};
      absl::StatusOr<std::string> mode = reader_.OneOf(v, *kModes);
      if (!mode.ok()) return mode.status();
      config->memory = *ParseMemoryMode(*mode);
      return absl::OkStatus();
    }
    if (e.key == "interval") {
      absl::StatusOr<absl::Duration> d = reader_.Duration(v);
      if (!d.ok()) return d.status();
      if (*d < kMinInterval) {
        return reader_.ErrorAt(v.mark, "'interval': must be at least 100ms");
      }
      config->interval = *d;
      return absl::OkStatus();
    }
    if (e.key == "duration") return Assign(reader_.Duration(v), &config->duration);
    if (e.key == "report") {
      absl::StatusOr<std::vector<Entry>> entries = reader_.Map(v, Keys("report"));
      if (!entries.ok()) return entries.status();
      for (const Entry& r : *entries) {
        absl::Status status = Path(r.value, &config->report_json);
        if (!status.ok()) return status;
      }
      return absl::OkStatus();
    }
    if (e.key == "budget_options") return Options(v, &config->budget_options);
    if (e.key == "alerts") return Alerts(v, config);
    if (e.key == "events_jsonl") {
      // "-" is stdout, not a path next to the file.
      absl::StatusOr<std::string> text = reader_.String(v);
      if (!text.ok()) return text.status();
      if (*text == "-") {
        config->events_jsonl = "-";
        return absl::OkStatus();
      }
      return Path(v, &config->events_jsonl);
    }
    if (e.key == "exporters") return Exporters(v, config);
    if (e.key == "reports") return Reports(v, config);
    if (e.key == "max_threads") {
      absl::StatusOr<int64_t> n = reader_.Integer(v, 1, 1 << 20);
      if (!n.ok()) return n.status();
      config->max_threads = static_cast<int>(*n);
      return absl::OkStatus();
    }
    return Path(v, &config->debug_dir);  // debug_dir, the only key left
  }

  template <typename T>
  static absl::Status Assign(absl::StatusOr<T> value, T* out) {
    if (!value.ok()) return value.status();
    *out = *std::move(value);
    return absl::OkStatus();
  }

  std::string Resolve(const std::string& path) const {
    if (path.empty() || fs::path(path).is_absolute()) return path;
    return (dir_ / path).lexically_normal().string();
  }

  absl::Status Path(const Value& v, std::string* out) {
    absl::StatusOr<std::string> s = reader_.String(v);
    if (!s.ok()) return s.status();
    if (s->empty()) return reader_.Expected(v, "a path");
    *out = Resolve(*s);
    return absl::OkStatus();
  }

  absl::Status Presets(const Value& v, Config* config) {
    std::vector<Value> items;
    if (v.node.IsSequence()) {
      absl::StatusOr<std::vector<Value>> list = reader_.List(v);
      if (!list.ok()) return list.status();
      items = *std::move(list);
    } else if (v.node.IsScalar()) {
      items.push_back(v);
    } else {
      return reader_.Expected(v, "a library preset name or a list of them");
    }
    if (items.empty()) return reader_.Expected(v, "at least one library preset");
    std::vector<std::string> known;
    for (const budgets::PresetInfo& info : catalog_.LibraryPresets()) known.push_back(info.name);
    config->presets.clear();
    for (const Value& item : items) {
      absl::StatusOr<std::string> name = reader_.String(item);
      if (!name.ok()) return name.status();
      if (name->empty()) return reader_.Expected(item, "a library preset name or file");
      if (budgets::IsPresetPath(*name)) {
        config->presets.push_back(Resolve(*name));
        continue;
      }
      if (!catalog_.FindLibraryPreset(*name).has_value()) {
        return reader_.ErrorAt(
            item.mark,
            absl::StrCat("unknown library preset '", *name, "'", DidYouMean(*name, known),
                         " (known: ", known.empty() ? "none" : absl::StrJoin(known, ", "), ")"));
      }
      config->presets.push_back(*name);
    }
    return absl::OkStatus();
  }

  absl::Status Budgets(const Value& v, Config* config) {
    absl::StatusOr<std::string> name = reader_.String(v);
    if (!name.ok()) return name.status();
    if (name->empty()) return reader_.Expected(v, "a budget preset name or file");
    if (budgets::IsPresetPath(*name)) {
      std::string path = Resolve(*name);
      absl::StatusOr<std::string> text = ReadDocument(path);
      if (!text.ok()) return reader_.ErrorAt(v.mark, text.status().message());
      config->budgets = path;
    } else {
      if (!catalog_.FindBudgetPreset(*name).has_value()) {
        return reader_.ErrorAt(v.mark, catalog_.UnknownBudgetPreset(*name));
      }
      config->budgets = *name;
    }
    // A broken preset is reported now, with its own file and line.
    absl::StatusOr<budgets::BudgetSet> set = budgets::LoadBudgetSet(config->budgets, catalog_);
    return set.status();
  }

  absl::Status Options(const Value& v, budgets::EvaluatorOptions* options) {
    absl::StatusOr<std::vector<Entry>> entries = reader_.Map(v, Keys("budget_options"));
    if (!entries.ok()) return entries.status();
    for (const Entry& e : *entries) {
      if (e.key == "horizon") {
        absl::StatusOr<absl::Duration> d = reader_.Duration(e.value);
        if (!d.ok()) return d.status();
        if (*d <= absl::ZeroDuration()) {
          return reader_.ErrorAt(e.value.mark, "'budget_options.horizon': must be longer than 0");
        }
        options->horizon = *d;
      } else if (e.key == "severities") {
        absl::Status status = Severities(e.value, options);
        if (!status.ok()) return status;
      } else {
        absl::StatusOr<int64_t> n = e.key == "min_calls"
                                        ? reader_.Integer(e.value, 0, 1'000'000'000)
                                        : reader_.Integer(e.value, 1, 1000);
        if (!n.ok()) return n.status();
        if (e.key == "min_calls") options->min_calls = *n;
        if (e.key == "open_after") options->open_after = static_cast<int>(*n);
        if (e.key == "resolve_after") options->resolve_after = static_cast<int>(*n);
      }
    }
    return absl::OkStatus();
  }

  absl::Status Severities(const Value& v, budgets::EvaluatorOptions* options) {
    absl::StatusOr<std::vector<Entry>> entries = reader_.Map(v, Keys("severities"));
    if (!entries.ok()) return entries.status();
    if (entries->size() != 3) {
      return reader_.ErrorAt(
          v.mark, absl::StrCat("'", v.path, "': set all of warning, error and critical"));
    }
    budgets::Severities s;
    for (const Entry& e : *entries) {
      absl::StatusOr<double> ratio = reader_.PositiveNumber(e.value);
      if (!ratio.ok()) return ratio.status();
      (e.key == "warning" ? s.warning : e.key == "error" ? s.error : s.critical) = *ratio;
    }
    if (!(s.warning <= s.error && s.error <= s.critical)) {
      return reader_.ErrorAt(
          v.mark,
          absl::StrCat("'", v.path, "': expected warning <= error <= critical, got warning ",
                       s.warning, ", error ", s.error, ", critical ", s.critical));
    }
    options->severities = s;
    return absl::OkStatus();
  }

  absl::Status Reports(const Value& v, Config* config) {
    absl::StatusOr<std::vector<Entry>> entries = reader_.Map(v, Keys("reports"));
    if (!entries.ok()) return entries.status();
    ScheduledReports r;
    for (const Entry& e : *entries) {
      absl::Status status;
      if (e.key == "dir") {
        status = Path(e.value, &r.dir);
      } else if (e.key == "every" || e.key == "max_age") {
        absl::StatusOr<absl::Duration> d = reader_.Duration(e.value);
        if (!d.ok()) return d.status();
        if (*d < absl::ZeroDuration()) {
          return reader_.ErrorAt(e.value.mark, absl::StrCat("'reports.", e.key,
                                                            "': must not be negative"));
        }
        if (e.key == "every" && *d > absl::ZeroDuration() && *d < kMinInterval) {
          return reader_.ErrorAt(e.value.mark, "'reports.every': must be at least 100ms");
        }
        (e.key == "every" ? r.every : r.max_age) = *d;
      } else if (e.key == "keep") {
        absl::StatusOr<int64_t> n = reader_.Integer(e.value, 0, 1000000);
        if (!n.ok()) return n.status();
        r.keep = static_cast<int>(*n);
      } else {  // formats: a list, or one comma-separated string
        std::string text;
        if (e.value.node.IsSequence()) {
          for (const YAML::Node& f : e.value.node) {
            absl::StrAppend(&text, text.empty() ? "" : ",", f.Scalar());
          }
        } else {
          absl::StatusOr<std::string> s = reader_.String(e.value);
          if (!s.ok()) return s.status();
          text = *s;
        }
        absl::StatusOr<std::vector<std::string>> formats = reports::ParseReportFormats(text);
        if (!formats.ok()) {
          return reader_.ErrorAt(e.value.mark,
                                 absl::StrCat("'reports.formats': ", formats.status().message()));
        }
        r.formats = text;
      }
      if (!status.ok()) return status;
    }
    if (r.dir.empty()) {
      return reader_.ErrorAt(v.mark, "'reports': 'dir' is required (where the reports go)");
    }
    config->reports = r;
    return absl::OkStatus();
  }

  absl::Status Exporters(const Value& v, Config* config) {
    absl::StatusOr<std::vector<Entry>> entries = reader_.Map(v, Keys("exporters"));
    if (!entries.ok()) return entries.status();
    for (const Entry& e : *entries) {  // prometheus, the only key so far
      PrometheusExporter p;
      // `prometheus: {}` (or an empty value) is the exporter at its defaults.
      if (!e.value.node.IsNull()) {
        absl::StatusOr<std::vector<Entry>> keys = reader_.Map(e.value, Keys("prometheus"));
        if (!keys.ok()) return keys.status();
        for (const Entry& k : *keys) {
          if (k.key == "listen") {
            absl::StatusOr<std::string> text = reader_.String(k.value);
            if (!text.ok()) return text.status();
            absl::StatusOr<prometheus::ListenAddress> a =
                prometheus::ParseListenAddress(*text, k.value.path);
            if (!a.ok()) return reader_.ErrorAt(k.value.mark, a.status().message());
            p.listen = *text;
          } else {
            static const auto* kBools = new std::vector<std::string>{"true", "false"};
            absl::StatusOr<std::string> b = reader_.OneOf(k.value, *kBools);
            if (!b.ok()) return b.status();
            p.allow_remote = *b == "true";
          }
        }
      }
      config->prometheus = p;
    }
    return absl::OkStatus();
  }

  absl::Status Alerts(const Value& v, Config* config) {
    absl::StatusOr<std::vector<Value>> items = reader_.List(v);
    if (!items.ok()) return items.status();
    config->alerts.clear();
    std::vector<std::string> types = alerts::DestinationTypes();
    for (const Value& item : *items) {
      if (!item.node.IsMap()) return reader_.Expected(item, "a map with 'type'");
      // The type decides which keys are allowed, so it is read first.
      const YAML::Node& map = item.node;  // const: a lookup must not insert
      YAML::Node type_node = map["type"];
      if (!type_node) {
        return reader_.ErrorAt(item.mark, absl::StrCat("'", item.path, "': missing 'type'"));
      }
      Value type_value{type_node, type_node.Mark().line < 0 ? item.mark : type_node.Mark(),
                       absl::StrCat(item.path, ".type")};
      absl::StatusOr<std::string> type = reader_.String(type_value);
      if (!type.ok()) return type.status();
      std::optional<std::vector<std::string>> own = alerts::DestinationKeys(*type);
      if (!own) {
        return reader_.ErrorAt(
            type_value.mark, absl::StrCat("unknown alert destination '", *type, "'",
                                          DidYouMean(*type, types),
                                          " (known: ", absl::StrJoin(types, ", "), ")"));
      }
      std::vector<std::string> keys = {
          "type",      "name",        "url",         "endpoint",    "min_severity",
          "impact",    "events",      "repeat_interval", "timeout", "connect_timeout",
          "ca_bundle", "insecure",    "outbox_dir",  "queue_limit", "max_attempts",
          "drain_timeout"};
      keys.insert(keys.end(), own->begin(), own->end());
      absl::StatusOr<std::vector<Entry>> entries = reader_.Map(item, keys);
      if (!entries.ok()) return entries.status();
      AlertDestination d;
      d.type = *type;
      for (const Entry& e : *entries) {
        absl::Status status = AlertKey(e, &d);
        if (!status.ok()) return status;
      }
      if (d.name.empty()) d.name = d.type;
      for (const AlertDestination& other : config->alerts) {
        if (other.name == d.name) {
          return reader_.ErrorAt(item.mark, absl::StrCat("'", item.path, "': a destination named '",
                                                         d.name, "' is already listed; give each a "
                                                         "unique 'name'"));
        }
      }
      // The destination's own checks (a missing url, a bad routing key).
      alerts::Redactor unused;
      absl::StatusOr<std::unique_ptr<alerts::Destination>> made =
          alerts::MakeDestination(d, &unused);
      if (!made.ok()) {
        // At the key the message names (a bad 'dsn'), else at the entry.
        for (const Entry& e : *entries) {
          if (e.key != "type" &&
              absl::StrContains(made.status().message(), absl::StrCat("'", e.key, "'"))) {
            return reader_.ErrorAt(e.value.mark,
                                   absl::StrCat("'", e.value.path, "': ", made.status().message()));
          }
        }
        return reader_.ErrorAt(item.mark,
                               absl::StrCat("'", item.path, "': ", made.status().message()));
      }
      config->alerts.push_back(std::move(d));
    }
    return absl::OkStatus();
  }

  absl::Status AlertKey(const Entry& e, AlertDestination* d) {
    const Value& v = e.value;
    if (e.key == "type") return absl::OkStatus();
    if (e.key == "repeat_interval" || e.key == "timeout" || e.key == "connect_timeout" ||
        e.key == "drain_timeout") {
      absl::StatusOr<absl::Duration> t = reader_.Duration(v);
      if (!t.ok()) return t.status();
      if (*t <= absl::ZeroDuration()) {
        return reader_.ErrorAt(v.mark, absl::StrCat("'", v.path, "': must be longer than 0"));
      }
      (e.key == "timeout"           ? d->timeout
       : e.key == "connect_timeout" ? d->connect_timeout
       : e.key == "drain_timeout"   ? d->drain_timeout
                                    : d->repeat_interval) = *t;
      return absl::OkStatus();
    }
    if (e.key == "min_severity") {
      static const auto* kSeverities = new std::vector<std::string>{"warning", "error", "critical"};
      return Assign(reader_.OneOf(v, *kSeverities), &d->min_severity);
    }
    if (e.key == "impact" || e.key == "events") {
      static const auto* kImpacts = new std::vector<std::string>{"userVisible", "background"};
      static const auto* kFamilies =
          new std::vector<std::string>{"violation", "prediction", "leak", "health"};
      absl::StatusOr<std::vector<Value>> list = reader_.List(v);
      if (!list.ok()) return list.status();
      if (list->empty()) return reader_.Expected(v, "at least one item");
      std::vector<std::string> out;
      for (const Value& i : *list) {
        absl::StatusOr<std::string> s = reader_.OneOf(i, e.key == "impact" ? *kImpacts : *kFamilies);
        if (!s.ok()) return s.status();
        out.push_back(*s);
      }
      (e.key == "impact" ? d->impact : d->events) = std::move(out);
      return absl::OkStatus();
    }
    if (e.key == "insecure") {
      static const auto* kBools = new std::vector<std::string>{"true", "false"};
      absl::StatusOr<std::string> s = reader_.OneOf(v, *kBools);
      if (!s.ok()) return s.status();
      d->insecure = *s == "true";
      return absl::OkStatus();
    }
    if (e.key == "queue_limit" || e.key == "max_attempts") {
      absl::StatusOr<int64_t> n = e.key == "queue_limit" ? reader_.Integer(v, 1, 1 << 20)
                                                         : reader_.Integer(v, 1, 100);
      if (!n.ok()) return n.status();
      if (e.key == "queue_limit") d->queue_limit = static_cast<size_t>(*n);
      if (e.key == "max_attempts") d->max_attempts = static_cast<int>(*n);
      return absl::OkStatus();
    }
    if (e.key == "ca_bundle" || e.key == "outbox_dir") {
      return Path(v, e.key == "ca_bundle" ? &d->ca_bundle : &d->outbox_dir);
    }
    // Strings, ${ENV} expanded: name, url, endpoint and the type's own keys.
    absl::StatusOr<std::string> s = reader_.String(v);
    if (!s.ok()) return s.status();
    if (s->empty()) return reader_.Expected(v, "a value");
    if (e.key == "name") {
      d->name = *s;
    } else if (e.key == "url" || e.key == "endpoint") {
      if (!absl::StartsWith(*s, "http://") && !absl::StartsWith(*s, "https://")) {
        return reader_.ErrorAt(v.mark, absl::StrCat("'", v.path, "': expected an http:// or "
                                                    "https:// URL"));
      }
      d->url = *s;
    } else {
      d->keys[e.key] = *s;
    }
    return absl::OkStatus();
  }

  const YamlReader& reader_;
  const budgets::PresetCatalog& catalog_;
  fs::path dir_;
};

}  // namespace

absl::Duration DefaultInterval(bool judging_budgets) {
  return judging_budgets ? absl::Seconds(10) : absl::Seconds(1);
}


absl::StatusOr<Config> ParseConfig(absl::string_view text, absl::string_view filename,
                                   const budgets::PresetCatalog& catalog, const EnvLookup& env) {
  YamlReader reader{std::string(filename), env};
  absl::StatusOr<YAML::Node> root = reader.Parse(text);
  if (!root.ok()) return root.status();
  Config config;
  config.source = std::string(filename);
  Parser parser(reader, catalog, fs::path(std::string(filename)).parent_path());
  absl::Status status = parser.Parse(reader.Root(*root), &config);
  if (!status.ok()) return status;
  return config;
}

absl::StatusOr<Config> ParseConfig(absl::string_view text, absl::string_view filename) {
  return ParseConfig(text, filename, budgets::PresetCatalog::Default(), ProcessEnv());
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  absl::StatusOr<std::string> text = ReadDocument(path);
  if (!text.ok()) return text.status();
  return ParseConfig(*text, path);
}

}  // namespace gridprobe::config
