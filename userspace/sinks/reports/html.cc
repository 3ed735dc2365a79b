#include "userspace/sinks/reports/html.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "userspace/model/format.h"

namespace gridprobe::reports {
namespace {

using Json = nlohmann::json;

const Json& Field(const Json& obj, const char* key) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

double Num(const Json& obj, const char* key, double otherwise = 0) {
  const Json& v = Field(obj, key);
  return v.is_number() ? v.get<double>() : otherwise;
}

std::string Str(const Json& obj, const char* key) {
  const Json& v = Field(obj, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::string Esc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// Anchors: operation names may hold anything.
std::string Id(const std::string& prefix, size_t i) { return absl::StrCat(prefix, i); }

constexpr const char* kCss = R"css(
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa;--card:#fff;
--p50:#0969da;--p95:#bf8700;--p99:#cf222e;--ok:#1a7f37;--warn:#9a6700;--err:#cf222e;--crit:#82071e}
*{box-sizing:border-box}
body{margin:0;padding:16px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px}h3{font-size:15px;margin:0 0 6px}
.muted{color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:12px;margin:8px 0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:8px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);white-space:nowrap}
td.n,th.n{text-align:right}
.badge{display:inline-block;padding:0 6px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}
.s-none,.s-ok{background:var(--ok)}.s-info{background:var(--p50)}.s-warning{background:var(--warn)}
.s-error{background:var(--err)}.s-critical{background:var(--crit)}
svg{width:100%;height:auto;display:block}
svg text{font:11px system-ui,sans-serif;fill:var(--muted)}
.legend span{margin-right:12px;font-size:12px}
.sw{display:inline-block;width:10px;height:3px;vertical-align:middle;margin-right:4px}
ul.rec{list-style:none;padding:0;margin:0}ul.rec li{margin:0 0 10px}
.evidence{font-size:13px;color:var(--muted)}
@media (max-width:640px){body{padding:8px}.grid{grid-template-columns:1fr}
th,td{padding:3px 4px;font-size:12px}h1{font-size:17px}}
@media print{body{background:#fff;padding:0;font-size:11px}.card{border:1px solid #999;
break-inside:avoid;page-break-inside:avoid}.grid{display:block}h2{break-after:avoid}
a{color:inherit;text-decoration:none}nav{display:none}}
)css";

constexpr int kW = 640, kH = 200, kLeft = 64, kRight = 12, kTop = 12, kBottom = 26;
constexpr int kColumns = 320;  // most points per line: one per two pixels

struct SeriesPoint {
  double t = 0;  // seconds from the report's start
  double v = 0;
};

// At most kColumns points: per column the largest value, so spikes stay.
std::vector<SeriesPoint> Downsample(const std::vector<SeriesPoint>& in, double t_max) {
  if (in.size() <= static_cast<size_t>(kColumns) || t_max <= 0) return in;
  std::vector<SeriesPoint> out;
  int column = -1;
  for (const SeriesPoint& p : in) {
    int c = std::min(kColumns - 1, static_cast<int>(p.t / t_max * kColumns));
    if (c != column) {
      out.push_back(p);
      column = c;
    } else {
      out.back().v = std::max(out.back().v, p.v);
      out.back().t = p.t;
    }
  }
  return out;
}

struct Scale {
  double t_max = 1, v_max = 1;
  double X(double t) const { return kLeft + (kW - kLeft - kRight) * (t / t_max); }
  double Y(double v) const { return kTop + (kH - kTop - kBottom) * (1 - v / v_max); }
};

void Polyline(const std::vector<SeriesPoint>& points, const Scale& s, const char* color,
              const char* extra, std::string* out) {
  if (points.empty()) return;
  absl::StrAppend(out, "<polyline fill=\"none\" stroke=\"", color, "\" stroke-width=\"1.5\"",
                  extra, " points=\"");
  for (const SeriesPoint& p : points) {
    absl::StrAppendFormat(out, "%.0f,%.0f ", s.X(p.t), s.Y(std::min(p.v, s.v_max)));
  }
  out->append("\"/>");
}

void Axes(const Scale& s, const std::string& y_label_max, const std::string& y_label_mid,
          const std::string& x_left, const std::string& x_right, std::string* out) {
  absl::StrAppendFormat(out,
                        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#d0d7de\"/>"
                        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#d0d7de\"/>"
                        "<line x1=\"%d\" y1=\"%.0f\" x2=\"%d\" y2=\"%.0f\" stroke=\"#eaeef2\"/>",
                        kLeft, kH - kBottom, kW - kRight, kH - kBottom, kLeft, kTop, kLeft,
                        kH - kBottom, kLeft, s.Y(s.v_max / 2), kW - kRight, s.Y(s.v_max / 2));
  absl::StrAppendFormat(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", kLeft - 4,
                        kTop + 8, Esc(y_label_max));
  absl::StrAppendFormat(out, "<text x=\"%d\" y=\"%.0f\" text-anchor=\"end\">%s</text>",
                        kLeft - 4, s.Y(s.v_max / 2) + 4, Esc(y_label_mid));
  absl::StrAppendFormat(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>", kLeft - 4,
                        kH - kBottom);
  absl::StrAppendFormat(out, "<text x=\"%d\" y=\"%d\">%s</text>", kLeft, kH - 8, Esc(x_left));
  absl::StrAppendFormat(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", kW - kRight,
                        kH - 8, Esc(x_right));
}

std::string Clock(const std::string& rfc3339) {
  // "2026-12-04T10:15:00.123Z" -> "10:15:00"
  return rfc3339.size() >= 19 ? rfc3339.substr(11, 8) : rfc3339;
}

// Limits of one operation: its own entry over the default; null removes.
std::map<std::string, double> LimitsFor(const Json& resolved, const std::string& op) {
  std::map<std::string, double> out;
  auto apply = [&out](const Json& limits) {
    if (!limits.is_object()) return;
    for (auto it = limits.begin(); it != limits.end(); ++it) {
      if (it.value().is_number()) {
        out[it.key()] = it.value().get<double>();
      } else if (it.value().is_null()) {
        out.erase(it.key());
      }
    }
  };
  apply(Field(resolved, "default"));
  apply(Field(Field(resolved, "operations"), op.c_str()));
  return out;
}

std::string FormatMetric(const std::string& field, double v) {
  if (absl::EndsWith(field, "_ns")) return FormatNanos(v);
  if (field == "calls_per_s") return absl::StrFormat("%.1f/s", v);
  if (field == "leak_growth_bytes_per_s") return FormatBytes(v) + "/s";
  if (absl::StrContains(field, "bytes")) return FormatBytes(v);
  return absl::StrFormat("%g", v);
}

const char* StatusOf(double ratio, const Json& severities) {
  const double warning = Num(severities, "warning", 1.0);
  const double error = Num(severities, "error", 1.5);
  const double critical = Num(severities, "critical", 2.0);
  if (ratio >= critical) return "critical";
  if (ratio >= error) return "error";
  if (ratio > warning) return "warning";
  return "ok";
}

// Per operation, its p50/p95/p99 over time from the report's windows.
struct OpSeries {
  std::vector<SeriesPoint> p50, p95, p99;
};

struct Page {
  const Json& report;
  std::vector<std::string> op_names;
  std::map<std::string, size_t> op_index;
  double t_max = 0;  // seconds from the first window's start to the last one's end
  std::string start_text, end_text;
  std::vector<OpSeries> series;
  std::vector<std::vector<SeriesPoint>> live;  // per memory category
  std::vector<std::string> categories;
};

absl::Time ParseTime(const std::string& text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return absl::InfinitePast();
  return t;
}

void ReadWindows(Page* page) {
  const Json& windows = Field(page->report, "windows");
  page->series.resize(page->op_names.size());
  if (!windows.is_array() || windows.empty()) return;
  const absl::Time t0 = ParseTime(Str(windows.front(), "start"));
  page->start_text = Str(windows.front(), "start");
  page->end_text = Str(windows.back(), "end");
  std::map<std::string, size_t> cat_index;
  for (const Json& w : windows) {
    const absl::Time end = ParseTime(Str(w, "end"));
    const double t = absl::ToDoubleSeconds(end - t0);
    page->t_max = std::max(page->t_max, t);
    const Json& ops = Field(w, "operations");
    if (ops.is_array()) {
      for (size_t i = 0; i < ops.size(); ++i) {
        const Json& op = ops[i];
        size_t k = i;
        const std::string& name = Field(op, "name").is_string()
                                      ? Field(op, "name").get_ref<const std::string&>()
                                      : std::string();
        if (k >= page->op_names.size() || page->op_names[k] != name) {
          auto it = page->op_index.find(name);
          if (it == page->op_index.end()) continue;
          k = it->second;
        }
        if (Num(op, "calls") <= 0) continue;
        page->series[k].p50.push_back({t, Num(op, "p50_ns")});
        page->series[k].p95.push_back({t, Num(op, "p95_ns")});
        page->series[k].p99.push_back({t, Num(op, "p99_ns")});
      }
    }
    const Json& mem = Field(w, "memory");
    if (mem.is_array()) {
      for (const Json& c : mem) {
        const std::string name = Str(c, "category");
        auto [it, added] = cat_index.emplace(name, page->categories.size());
        if (added) {
          page->categories.push_back(name);
          page->live.emplace_back();
        }
        page->live[it->second].push_back({t, Num(c, "live_bytes")});
      }
    }
  }
}

void Header(const Page& page, std::string* out) {
  const Json& r = page.report;
  const Json& target = Field(r, "target");
  const Json& window = Field(r, "window");
  const Json& kind = Field(r, "report");
  std::string what = Str(kind, "kind") == "period"
                         ? absl::StrCat("Report for period ", Num(kind, "period_index", 0) + 0)
                         : std::string("Whole-run report");
  absl::StrAppend(out, "<header><h1>gridprobe: ", Esc(Str(target, "comm")), " (pid ",
                  static_cast<int64_t>(Num(target, "pid")), ")</h1><div class=\"muted\">",
                  Esc(what), " &middot; ", Esc(Str(window, "start")), " to ",
                  Esc(Str(window, "end")), " (", FormatNanos(Num(window, "seconds") * 1e9),
                  ") &middot; ", Esc(Str(target, "exe")));
  if (!Str(r, "stop_reason").empty()) absl::StrAppend(out, " &middot; ", Esc(Str(r, "stop_reason")));
  absl::StrAppend(out, "</div></header>");
  absl::StrAppend(out,
                  "<nav class=\"muted\"><a href=\"#summary\">Summary</a> &middot; <a "
                  "href=\"#budgets\">Budgets</a> &middot; <a href=\"#recommendations\">"
                  "Recommendations</a> &middot; <a href=\"#operations\">Operations</a> &middot; "
                  "<a href=\"#memory\">Memory</a> &middot; <a href=\"#incidents\">Incidents</a>"
                  "</nav>");
}

void Summary(const Page& page, std::string* out) {
  absl::StrAppend(out,
                  "<h2 id=\"summary\">Summary</h2><div class=\"card scroll\"><table><thead><tr>"
                  "<th>Operation</th><th class=\"n\">Calls</th><th class=\"n\">Calls/s</th>"
                  "<th class=\"n\">Mean</th><th class=\"n\">p50</th><th class=\"n\">p95</th>"
                  "<th class=\"n\">p99</th><th class=\"n\">Max</th><th class=\"n\">Alloc/call"
                  "</th></tr></thead><tbody>");
  const Json& ops = Field(page.report, "operations");
  for (size_t i = 0; ops.is_array() && i < ops.size(); ++i) {
    const Json& op = ops[i];
    const Json& alloc = Field(op, "alloc_bytes_per_call");
    absl::StrAppendFormat(
        out,
        "<tr><td><a href=\"#%s\">%s</a></td><td class=\"n\">%d</td><td class=\"n\">%.1f</td>"
        "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
        "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>",
        Id("op", i), Esc(Str(op, "name")), static_cast<int64_t>(Num(op, "calls")),
        Num(op, "calls_per_s"), FormatNanos(Num(op, "mean_ns")), FormatNanos(Num(op, "p50_ns")),
        FormatNanos(Num(op, "p95_ns")), FormatNanos(Num(op, "p99_ns")),
        FormatNanos(Num(op, "max_ns")), alloc.is_number() ? FormatBytes(alloc.get<double>()) : "-");
  }
  absl::StrAppend(out, "</tbody></table></div>");
}

void Budgets(const Page& page, std::string* out) {
  absl::StrAppend(out, "<h2 id=\"budgets\">Budget status</h2><div class=\"card scroll\">");
  const Json& budgets = Field(page.report, "budgets");
  const Json& resolved = Field(budgets, "resolved");
  if (!resolved.is_object()) {
    absl::StrAppend(out,
                    "<p class=\"muted\">No budgets were set for this run (<code>--budgets "
                    "NAME</code> judges every window against a budget preset).</p></div>");
    return;
  }
  const Json& severities = Field(resolved, "severities");
  // Violations of the run, per operation and metric.
  std::map<std::pair<std::string, std::string>, const Json*> violations;
  const Json& vs = Field(budgets, "violations");
  for (size_t i = 0; vs.is_array() && i < vs.size(); ++i) {
    auto key = std::make_pair(Str(vs[i], "operation"), absl::StrCat(Str(vs[i], "metric")));
    auto it = violations.find(key);
    if (it == violations.end() || Num(vs[i], "ratio") > Num(*it->second, "ratio")) {
      violations[key] = &vs[i];
    }
  }
  absl::StrAppend(out, "<p class=\"muted\">Budget preset <b>", Esc(Str(resolved, "name")),
                  "</b>; status of this report's figures against each limit",
                  vs.is_array() ? "; worst violation of any window of the run" : "",
                  ".</p><table><thead><tr><th>Operation</th><th>Metric</th><th class=\"n\">"
                  "Budget</th><th class=\"n\">Actual</th><th class=\"n\">Ratio</th><th>Status"
                  "</th><th>Windows over</th></tr></thead><tbody>");
  const Json& ops = Field(page.report, "operations");
  int rows = 0;
  for (size_t i = 0; ops.is_array() && i < ops.size(); ++i) {
    const std::string name = Str(ops[i], "name");
    for (const auto& [field, limit] : LimitsFor(resolved, name)) {
      const Json& actual = Field(ops[i], field.c_str());
      if (!actual.is_number() || limit <= 0) continue;
      const double a = actual.get<double>();
      const double ratio = a / limit;
      const char* status = Num(ops[i], "calls") > 0 ? StatusOf(ratio, severities) : "ok";
      std::string metric = field.substr(0, field.rfind("_ns") == field.size() - 3 && field.size() > 3
                                               ? field.size() - 3
                                               : field.size());
      std::string over = "-";
      auto v = violations.find({name, metric});
      if (v != violations.end()) {
        over = absl::StrFormat("%d (peak %s, %s)", static_cast<int64_t>(Num(*v->second, "windows")),
                               FormatMetric(field, Num(*v->second, "peak")),
                               Str(*v->second, "severity"));
      }
      absl::StrAppendFormat(out,
                            "<tr><td>%s</td><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s"
                            "</td><td class=\"n\">%.2f</td><td><span class=\"badge s-%s\">%s"
                            "</span></td><td>%s</td></tr>",
                            Esc(name), Esc(metric), FormatMetric(field, limit),
                            FormatMetric(field, a), ratio, status, status, Esc(over));
      ++rows;
    }
  }
  absl::StrAppend(out, "</tbody></table>");
  if (rows == 0) absl::StrAppend(out, "<p class=\"muted\">No operation has a limit.</p>");
  absl::StrAppend(out, "</div>");
}

std::string EvidenceText(const Json& evidence) {
  std::string out;
  if (!evidence.is_object()) return out;
  for (auto it = evidence.begin(); it != evidence.end(); ++it) {
    if (!out.empty()) out += ", ";
    std::string value;
    const Json& v = it.value();
    if (v.is_number()) {
      value = FormatMetric(it.key(), v.get<double>());
    } else if (v.is_string()) {
      value = v.get<std::string>();
    } else {
      value = v.dump();
    }
    absl::StrAppend(&out, it.key(), " ", value);
  }
  return out;
}

void Recommendations(const Page& page, std::string* out) {
  absl::StrAppend(out, "<h2 id=\"recommendations\">Recommendations</h2><div class=\"card\">");
  const Json& recs = Field(page.report, "recommendations");
  if (!recs.is_array()) {
    absl::StrAppend(out, "<p class=\"muted\">This report has no recommendations section.</p></div>");
    return;
  }
  absl::StrAppend(out, "<ul class=\"rec\">");
  for (const Json& r : recs) {
    const std::string sev = Str(r, "severity");
    absl::StrAppend(out, "<li><span class=\"badge s-", Esc(sev), "\">", Esc(sev), "</span> <b>",
                    Esc(Str(r, "title")), "</b>");
    if (!Str(r, "look_at").empty()) {
      absl::StrAppend(out, "<div>Look at: ", Esc(Str(r, "look_at")), "</div>");
    }
    const std::string evidence = EvidenceText(Field(r, "evidence"));
    if (!evidence.empty()) {
      absl::StrAppend(out, "<div class=\"evidence\">Evidence: ", Esc(evidence), "</div>");
    }
    absl::StrAppend(out, "</li>");
  }
  absl::StrAppend(out, "</ul></div>");
}

void LatencyChart(const Page& page, size_t i, const Json& op, const Json& resolved,
                  std::string* out) {
  const OpSeries& s = page.series[i];
  const std::string name = Str(op, "name");
  if (s.p99.empty()) {
    absl::StrAppend(out, "<p class=\"muted\">No per-window figures",
                    Field(page.report, "windows").is_array() ? " (no calls in any window)" : "",
                    ".</p>");
    return;
  }
  const double t_max = page.t_max > 0 ? page.t_max : 1;
  std::vector<SeriesPoint> p50 = Downsample(s.p50, t_max), p95 = Downsample(s.p95, t_max),
                           p99 = Downsample(s.p99, t_max);
  const std::map<std::string, double> limits = LimitsFor(resolved, name);
  double v_max = 0;
  for (const SeriesPoint& p : p99) v_max = std::max(v_max, p.v);
  for (const char* f : {"p50_ns", "p95_ns", "p99_ns"}) {
    auto it = limits.find(f);
    if (it != limits.end()) v_max = std::max(v_max, it->second);
  }
  Scale scale{t_max, v_max > 0 ? v_max * 1.1 : 1};
  absl::StrAppendFormat(out,
                        "<svg class=\"chart latency\" viewBox=\"0 0 %d %d\" role=\"img\" "
                        "aria-label=\"%s p50, p95 and p99 over time\"><title>%s: p50/p95/p99 "
                        "per window</title>",
                        kW, kH, Esc(name), Esc(name));
  Axes(scale, FormatNanos(scale.v_max), FormatNanos(scale.v_max / 2), Clock(page.start_text),
       Clock(page.end_text), out);
  struct Line {
    const char* field;
    const char* color;
    const std::vector<SeriesPoint>* points;
  };
  for (const Line& l : {Line{"p50_ns", "#0969da", &p50}, Line{"p95_ns", "#bf8700", &p95},
                        Line{"p99_ns", "#cf222e", &p99}}) {
    Polyline(*l.points, scale, l.color, "", out);
    auto it = limits.find(l.field);
    if (it == limits.end()) continue;
    const double y = scale.Y(it->second);
    absl::StrAppendFormat(out,
                          "<line class=\"budget\" x1=\"%d\" y1=\"%.0f\" x2=\"%d\" y2=\"%.0f\" "
                          "stroke=\"%s\" stroke-dasharray=\"6 4\"/><text x=\"%d\" y=\"%.0f\" "
                          "text-anchor=\"end\">%s budget %s</text>",
                          kLeft, y, kW - kRight, y, l.color, kW - kRight, y - 3,
                          std::string(l.field, 3), FormatNanos(it->second));
  }
  absl::StrAppend(out, "</svg>");
  absl::StrAppend(out,
                  "<div class=\"legend\"><span><i class=\"sw\" style=\"background:#0969da\"></i>"
                  "p50</span><span><i class=\"sw\" style=\"background:#bf8700\"></i>p95</span>"
                  "<span><i class=\"sw\" style=\"background:#cf222e\"></i>p99</span><span>"
                  "dashed: budget</span></div>");
}

void HistogramChart(const Json& op, std::string* out) {
  const Json& h = Field(op, "histogram");
  if (!h.is_array() || h.empty()) {
    absl::StrAppend(out, "<p class=\"muted\">No latency histogram in this report.</p>");
    return;
  }
  // Log-spaced bins from the smallest to the largest bucket.
  double lo = 0, hi = 0;
  for (const Json& b : h) {
    double l = std::max(1.0, b[0].get<double>());
    double u = b[1].is_number() ? b[1].get<double>() : l * 2;
    lo = lo == 0 ? l : std::min(lo, l);
    hi = std::max(hi, u);
  }
  constexpr int kBins = 60;
  const double llo = std::log(lo), lhi = std::log(std::max(hi, lo * 1.01));
  std::vector<double> bins(kBins, 0);
  for (const Json& b : h) {
    double l = std::max(1.0, b[0].get<double>());
    double u = b[1].is_number() ? b[1].get<double>() : l * 2;
    double mid = std::log((l + u) / 2);
    int k = std::clamp(static_cast<int>((mid - llo) / (lhi - llo) * kBins), 0, kBins - 1);
    bins[k] += b[2].get<double>();
  }
  const double top = *std::max_element(bins.begin(), bins.end());
  Scale scale{static_cast<double>(kBins), top > 0 ? top * 1.05 : 1};
  const std::string name = Str(op, "name");
  absl::StrAppendFormat(out,
                        "<svg class=\"chart histogram\" viewBox=\"0 0 %d %d\" role=\"img\" "
                        "aria-label=\"%s latency histogram\"><title>%s: calls by latency "
                        "(log scale)</title>",
                        kW, kH, Esc(name), Esc(name));
  Axes(scale, absl::StrFormat("%.0f", scale.v_max), absl::StrFormat("%.0f", scale.v_max / 2),
       FormatNanos(lo), FormatNanos(hi), out);
  const double bw = (kW - kLeft - kRight) / static_cast<double>(kBins);
  for (int k = 0; k < kBins; ++k) {
    if (bins[k] <= 0) continue;
    const double y = scale.Y(bins[k]);
    absl::StrAppendFormat(out,
                          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                          "fill=\"#54aeff\"/>",
                          scale.X(k) + 0.5, y, std::max(1.0, bw - 1), (kH - kBottom) - y);
  }
  for (auto [field, color] : {std::pair{"p50_ns", "#0969da"}, std::pair{"p95_ns", "#bf8700"},
                              std::pair{"p99_ns", "#cf222e"}}) {
    const double v = Num(op, field);
    if (v <= 0) continue;
    const double x = scale.X((std::log(std::max(v, lo)) - llo) / (lhi - llo) * kBins);
    absl::StrAppendFormat(out,
                          "<line x1=\"%.0f\" y1=\"%d\" x2=\"%.0f\" y2=\"%d\" stroke=\"%s\"/>"
                          "<text x=\"%.0f\" y=\"%d\">%s</text>",
                          x, kTop, x, kH - kBottom, color, x + 2, kTop + 10,
                          std::string(field, 3));
  }
  absl::StrAppend(out, "</svg>");
}

void Operations(const Page& page, std::string* out) {
  absl::StrAppend(out, "<h2 id=\"operations\">Operations</h2><div class=\"grid\">");
  const Json& ops = Field(page.report, "operations");
  const Json& resolved = Field(Field(page.report, "budgets"), "resolved");
  for (size_t i = 0; ops.is_array() && i < ops.size(); ++i) {
    const Json& op = ops[i];
    absl::StrAppendFormat(out,
                          "<section class=\"card op\" id=\"%s\"><h3>%s</h3><div class=\"muted\">"
                          "%d calls &middot; p50 %s &middot; p95 %s &middot; p99 %s &middot; max "
                          "%s</div>",
                          Id("op", i), Esc(Str(op, "name")),
                          static_cast<int64_t>(Num(op, "calls")), FormatNanos(Num(op, "p50_ns")),
                          FormatNanos(Num(op, "p95_ns")), FormatNanos(Num(op, "p99_ns")),
                          FormatNanos(Num(op, "max_ns")));
    LatencyChart(page, i, op, resolved, out);
    HistogramChart(op, out);
    absl::StrAppend(out, "</section>");
  }
  absl::StrAppend(out, "</div>");
}

void Memory(const Page& page, std::string* out) {
  absl::StrAppend(out, "<h2 id=\"memory\">Memory</h2>");
  const Json& memory = Field(page.report, "memory");
  const Json& cats = Field(memory, "categories");
  if (!cats.is_array()) {
    absl::StrAppend(out,
                    "<div class=\"card\"><p class=\"muted\">Memory tracking was off "
                    "(<code>--memory ops|full</code> turns it on).</p></div>");
    return;
  }
  absl::StrAppend(out, "<div class=\"grid\">");
  for (size_t ci = 0; ci < cats.size(); ++ci) {
    const Json& c = cats[ci];
    const std::string name = Str(c, "category");
    const bool leak = Field(c, "leak_suspected").is_boolean() && c["leak_suspected"].get<bool>();
    absl::StrAppendFormat(out,
                          "<section class=\"card mem\"><h3>%s%s</h3><div class=\"muted\">live "
                          "%s (peak %s) &middot; allocated %s in %d allocations &middot; growth "
                          "%s/s</div>",
                          Esc(name), leak ? " <span class=\"badge s-warning\">leak suspected</span>" : "",
                          FormatBytes(Num(c, "live_bytes")), FormatBytes(Num(c, "peak_live_bytes")),
                          FormatBytes(Num(c, "alloc_bytes")), static_cast<int64_t>(Num(c, "allocs")),
                          FormatBytes(Num(c, "growth_bytes_per_s")));
    auto it = std::find(page.categories.begin(), page.categories.end(), name);
    if (it == page.categories.end()) {
      absl::StrAppend(out, "<p class=\"muted\">No per-window figures.</p></section>");
      continue;
    }
    const std::vector<SeriesPoint>& live = page.live[it - page.categories.begin()];
    const double t_max = page.t_max > 0 ? page.t_max : 1;
    std::vector<SeriesPoint> points = Downsample(live, t_max);
    // The trend line: the analyzer's growth through the last point.
    const double growth = Num(c, "growth_bytes_per_s");
    const SeriesPoint last = live.back();
    auto trend = [&](double t) { return std::max(0.0, last.v + growth * (t - last.t)); };
    double v_max = 0;
    for (const SeriesPoint& p : points) v_max = std::max(v_max, p.v);
    v_max = std::max({v_max, trend(0), trend(t_max)});
    Scale scale{t_max, v_max > 0 ? v_max * 1.1 : 1};
    absl::StrAppendFormat(out,
                          "<svg class=\"chart memory\" viewBox=\"0 0 %d %d\" role=\"img\" "
                          "aria-label=\"%s live bytes over time\"><title>%s: live bytes per "
                          "window and trend</title>",
                          kW, kH, Esc(name), Esc(name));
    Axes(scale, FormatBytes(scale.v_max), FormatBytes(scale.v_max / 2), Clock(page.start_text),
         Clock(page.end_text), out);
    Polyline(points, scale, "#8250df", "", out);
    absl::StrAppendFormat(out,
                          "<line class=\"trend\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" "
                          "stroke=\"#cf222e\" stroke-dasharray=\"6 4\"/>",
                          scale.X(0), scale.Y(trend(0)), scale.X(t_max), scale.Y(trend(t_max)));
    absl::StrAppend(out,
                    "</svg><div class=\"legend\"><span><i class=\"sw\" style=\"background:"
                    "#8250df\"></i>live bytes</span><span><i class=\"sw\" style=\"background:"
                    "#cf222e\"></i>trend (",
                    FormatBytes(growth), "/s)</span></div></section>");
  }
  absl::StrAppend(out, "</div>");
}

void Incidents(const Page& page, std::string* out) {
  absl::StrAppend(out, "<h2 id=\"incidents\">Incidents</h2><div class=\"card scroll\">");
  const Json& events = Field(page.report, "events");
  if (!events.is_array()) {
    absl::StrAppend(out, "<p class=\"muted\">This report has no events list.</p></div>");
    return;
  }
  if (events.empty()) {
    absl::StrAppend(out, "<p>No incidents in this period.</p></div>");
    return;
  }
  absl::StrAppend(out,
                  "<table><thead><tr><th>Time</th><th>Severity</th><th>Kind</th><th>Subject</th>"
                  "<th>What happened</th></tr></thead><tbody>");
  for (const Json& e : events) {
    std::string subject = Str(e, "operation");
    if (subject.empty()) subject = Str(e, "category");
    if (subject.empty()) subject = Str(e, "preset");
    if (!Str(e, "metric").empty()) subject += " " + Str(e, "metric");
    const std::string sev = Str(e, "severity");
    absl::StrAppend(out, "<tr><td>", Esc(Clock(Str(e, "time"))), "</td><td><span class=\"badge s-",
                    Esc(sev), "\">", Esc(sev), "</span></td><td>", Esc(Str(e, "kind")),
                    "</td><td>", Esc(subject), "</td><td style=\"white-space:normal\">",
                    Esc(Str(e, "message")), "</td></tr>");
  }
  absl::StrAppend(out, "</tbody></table>");
  if (Num(page.report, "events_dropped") > 0) {
    absl::StrAppend(out, "<p class=\"muted\">", static_cast<int64_t>(Num(page.report, "events_dropped")),
                    " more events are not listed.</p>");
  }
  absl::StrAppend(out, "</div>");
}

}  // namespace

std::string RenderHtml(const nlohmann::json& report) {
  Page page{report, {}, {}, 0, "", "", {}, {}, {}};
  const Json& ops = Field(report, "operations");
  for (size_t i = 0; ops.is_array() && i < ops.size(); ++i) {
    page.op_names.push_back(Str(ops[i], "name"));
    page.op_index.emplace(page.op_names.back(), i);
  }
  ReadWindows(&page);
  if (page.start_text.empty()) {
    page.start_text = Str(Field(report, "window"), "start");
    page.end_text = Str(Field(report, "window"), "end");
  }
  std::string out;
  out.reserve(256 * 1024);
  absl::StrAppend(&out,
                  "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta "
                  "name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>"
                  "gridprobe report: ",
                  Esc(Str(Field(report, "target"), "comm")), "</title><style>", kCss,
                  "</style></head><body>");
  Header(page, &out);
  Summary(page, &out);
  Budgets(page, &out);
  Recommendations(page, &out);
  Operations(page, &out);
  Memory(page, &out);
  Incidents(page, &out);
  absl::StrAppend(&out,
                  "<footer class=\"muted\"><p>Schema ", Esc(Str(report, "schema")),
                  "; latencies measured inside each function, from its entry probe to its "
                  "return (docs/report-format.md).</p></footer></body></html>\n");
  return out;
}

}  // namespace gridprobe::reports
