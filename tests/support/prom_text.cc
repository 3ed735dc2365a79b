#include "tests/support/prom_text.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>

namespace gridprobe::testing {
namespace {

bool ValidMetricName(const std::string& s) {
  static const std::regex re("[a-zA-Z_:][a-zA-Z0-9_:]*");
  return std::regex_match(s, re);
}
bool ValidLabelName(const std::string& s) {
  static const std::regex re("[a-zA-Z_][a-zA-Z0-9_]*");
  return std::regex_match(s, re) && s.rfind("__", 0) != 0;
}

bool ParseValue(const std::string& s, double* v) {
  if (s == "+Inf" || s == "Inf") {
    *v = INFINITY;
    return true;
  }
  if (s == "-Inf") {
    *v = -INFINITY;
    return true;
  }
  if (s == "NaN") {
    *v = NAN;
    return true;
  }
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// The family a sample name belongs to, given the types seen.
std::string FamilyOf(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string sfx = suffix;
    if (name.size() > sfx.size() && name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0) {
      const std::string base = name.substr(0, name.size() - sfx.size());
      auto it = types.find(base);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
    }
  }
  return name;
}

// Whether `s` is well-formed UTF-8 (RFC 3629).
bool ValidUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80                       ? 1
               : (c >> 5) == 0x6 && c >= 0xC2 ? 2
               : (c >> 4) == 0xE              ? 3
               : c >= 0xF0 && c <= 0xF4       ? 4
                                              : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n;
  }
  return true;
}

std::string Err(int line, const std::string& what) {
  return "line " + std::to_string(line) + ": " + what;
}

}  // namespace

const PromFamily* PromPage::Find(const std::string& name) const {
  for (const PromFamily& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::vector<const PromSample*> PromPage::Select(
    const std::string& name, const std::map<std::string, std::string>& match) const {
  std::vector<const PromSample*> out;
  for (const PromFamily& f : families) {
    for (const PromSample& s : f.samples) {
      if (s.name != name) continue;
      bool ok = true;
      for (const auto& [k, v] : match) {
        auto it = s.labels.find(k);
        if (it == s.labels.end() || it->second != v) ok = false;
      }
      if (ok) out.push_back(&s);
    }
  }
  return out;
}

std::string ParsePromText(const std::string& text, PromPage* page) {
  *page = PromPage();
  if (!text.empty() && text.back() != '\n') return "the page does not end with a newline";
  if (!ValidUtf8(text)) return "the page is not valid UTF-8";
  std::map<std::string, std::string> types;
  std::set<std::string> helps, done_families, series;
  std::string current;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  auto family = [&](const std::string& name) -> PromFamily* {
    if (name != current) {
      if (done_families.count(name)) return nullptr;  // interleaved
      if (!current.empty()) done_families.insert(current);
      current = name;
      page->families.push_back({name, "untyped", "", {}});
    }
    return &page->families.back();
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line.find('\r') != std::string::npos) return Err(n, "carriage return");
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, kind, name;
      words >> hash >> kind >> name;
      if (hash != "#" || (kind != "HELP" && kind != "TYPE")) continue;  // a comment
      if (!ValidMetricName(name)) return Err(n, "bad metric name '" + name + "'");
      PromFamily* f = family(name);
      if (f == nullptr) return Err(n, "family " + name + " is not contiguous");
      if (kind == "TYPE") {
        std::string type, extra;
        words >> type >> extra;
        if (types.count(name)) return Err(n, "second TYPE for " + name);
        if (!f->samples.empty()) return Err(n, "TYPE after samples of " + name);
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                     "untyped"};
        if (!kTypes.count(type) || !extra.empty()) return Err(n, "bad TYPE line");
        types[name] = type;
        f->type = type;
      } else {
        if (helps.count(name)) return Err(n, "second HELP for " + name);
        helps.insert(name);
        const size_t at = line.find(name) + name.size();
        std::string raw = at < line.size() ? line.substr(at + 1) : "";
        std::string help;
        for (size_t i = 0; i < raw.size(); ++i) {
          if (raw[i] == '\\') {
            if (i + 1 >= raw.size()) return Err(n, "HELP ends in a backslash");
            char c = raw[++i];
            if (c == 'n') {
              help.push_back('\n');
            } else if (c == '\\') {
              help.push_back('\\');
            } else {
              return Err(n, "bad escape in HELP");
            }
          } else {
            help.push_back(raw[i]);
          }
        }
        f->help = help;
      }
      continue;
    }
    // name{labels} value [timestamp]
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    PromSample s;
    s.name = line.substr(0, i);
    if (!ValidMetricName(s.name)) return Err(n, "bad metric name '" + s.name + "'");
    std::string canonical_labels;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos) return Err(n, "label without '='");
        std::string key = line.substr(i, eq - i);
        if (!ValidLabelName(key)) return Err(n, "bad label name '" + key + "'");
        if (eq + 1 >= line.size() || line[eq + 1] != '"') return Err(n, "label value not quoted");
        std::string value;
        size_t j = eq + 2;
        for (;; ++j) {
          if (j >= line.size()) return Err(n, "unterminated label value");
          if (line[j] == '"') break;
          if (line[j] == '\\') {
            if (j + 1 >= line.size()) return Err(n, "label value ends in a backslash");
            char c = line[++j];
            if (c == 'n') {
              value.push_back('\n');
            } else if (c == '\\' || c == '"') {
              value.push_back(c);
            } else {
              return Err(n, "bad escape in a label value");
            }
          } else {
            value.push_back(line[j]);
          }
        }
        if (s.labels.count(key)) return Err(n, "label " + key + " twice");
        s.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) return Err(n, "unterminated label set");
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') return Err(n, "no value");
    std::istringstream rest(line.substr(i + 1));
    std::string value, timestamp, extra;
    rest >> value >> timestamp >> extra;
    if (!ParseValue(value, &s.value)) return Err(n, "bad value '" + value + "'");
    if (!extra.empty()) return Err(n, "trailing text");
    if (!timestamp.empty()) {
      char* end = nullptr;
      std::strtoll(timestamp.c_str(), &end, 10);
      if (end != timestamp.c_str() + timestamp.size()) return Err(n, "bad timestamp");
    }
    for (const auto& [k, v] : s.labels) canonical_labels += k + "=" + v + "\x01";
    if (!series.insert(s.name + "\x02" + canonical_labels).second) {
      return Err(n, "series repeated: " + line);
    }
    PromFamily* f = family(FamilyOf(s.name, types));
    if (f == nullptr) return Err(n, "family of " + s.name + " is not contiguous");
    if (f->type == "counter" && !(s.value >= 0)) return Err(n, "negative counter");
    f->samples.push_back(std::move(s));
  }
  // Histogram rules, per series (labels without le).
  for (const PromFamily& f : page->families) {
    if (f.type != "histogram") continue;
    std::map<std::string, std::vector<std::pair<double, double>>> buckets;
    std::map<std::string, double> counts, sums;
    for (const PromSample& s : f.samples) {
      std::string key;
      for (const auto& [k, v] : s.labels) {
        if (k != "le") key += k + "=" + v + "\x01";
      }
      if (s.name == f.name + "_bucket") {
        auto le = s.labels.find("le");
        double bound = 0;
        if (le == s.labels.end() || !ParseValue(le->second, &bound)) {
          return f.name + ": a bucket without a valid le";
        }
        buckets[key].push_back({bound, s.value});
      } else if (s.name == f.name + "_count") {
        counts[key] = s.value;
      } else if (s.name == f.name + "_sum") {
        sums[key] = s.value;
      } else {
        return f.name + ": unexpected sample " + s.name;
      }
    }
    for (const auto& [key, b] : buckets) {
      for (size_t i = 1; i < b.size(); ++i) {
        if (!(b[i].first > b[i - 1].first)) return f.name + ": le not increasing";
        if (b[i].second < b[i - 1].second) return f.name + ": buckets not cumulative";
      }
      if (b.empty() || !std::isinf(b.back().first)) return f.name + ": no +Inf bucket";
      if (!counts.count(key) || counts[key] != b.back().second) {
        return f.name + ": +Inf bucket differs from _count";
      }
      if (!sums.count(key)) return f.name + ": no _sum";
    }
  }
  return "";
}

double HistogramQuantile(double q, const std::vector<std::pair<double, double>>& buckets) {
  if (buckets.size() < 2) return NAN;
  const double total = buckets.back().second;
  if (total == 0) return NAN;
  const double rank = q * total;
  size_t b = 0;
  while (b + 1 < buckets.size() && buckets[b].second < rank) ++b;
  if (b == buckets.size() - 1) return buckets[buckets.size() - 2].first;
  if (b == 0 && buckets[0].first <= 0) return buckets[0].first;
  double start = 0, end = buckets[b].first, count = buckets[b].second;
  double r = rank;
  if (b > 0) {
    start = buckets[b - 1].first;
    count -= buckets[b - 1].second;
    r -= buckets[b - 1].second;
  }
  return start + (end - start) * (r / count);
}

}  // namespace gridprobe::testing
