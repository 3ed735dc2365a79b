#include "userspace/analyzers/recommendations/recommend.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "userspace/model/format.h"
#include "userspace/model/histogram.h"

namespace gridprobe::recommendations {
namespace {

using Json = nlohmann::json;

int Rank(const std::string& severity) {
  if (severity == "critical") return 4;
  if (severity == "error") return 3;
  if (severity == "warning") return 2;
  if (severity == "info") return 1;
  return 0;
}

std::string FormatValue(double v, const std::string& unit) {
  if (unit == "ns") return FormatNanos(v);
  if (unit == "bytes") return FormatBytes(v);
  if (unit == "bytes/s") return FormatBytes(v) + "/s";
  return absl::StrFormat("%.4g %s", v, unit);
}

std::string Percent(double share) { return absl::StrFormat("%.0f%%", 100 * share); }

// Calls of `op` that took at least `ns` (counted by bucket: a bucket holds
// calls from its low bound up, so this never overcounts).
uint64_t CallsAtLeast(const OpStats& op, double ns) {
  if (op.histogram == nullptr) return 0;
  const std::vector<uint64_t>& b = op.histogram->buckets();
  uint64_t n = 0;
  for (uint32_t i = 0; i < b.size(); ++i) {
    if (static_cast<double>(Histogram::BucketLow(i)) >= ns) n += b[i];
  }
  return n;
}

Json Item(std::string kind, std::string severity, std::string title, std::string look_at,
          Json evidence) {
  return {{"kind", std::move(kind)},
          {"severity", std::move(severity)},
          {"title", std::move(title)},
          {"look_at", std::move(look_at)},
          {"evidence", std::move(evidence)}};
}

// One latency metric's value in a window's figures, or -1.
double LatencyOf(const OpStats& op, const std::string& metric) {
  if (metric == "p50") return static_cast<double>(op.p50_ns);
  if (metric == "p95") return static_cast<double>(op.p95_ns);
  if (metric == "p99") return static_cast<double>(op.p99_ns);
  if (metric == "max") return static_cast<double>(op.max_ns);
  if (metric == "mean") return op.mean_ns;
  return -1;
}

// Budget breaches: the run's violations where the report has them, else the
// period's figures against the resolved budgets.
struct Breach {
  std::string operation, metric, unit, severity;
  double actual = 0, budget = 0;
  int64_t windows = 0;
  std::string state;
};

// Budget breaches: the run's violations (the worst per operation and
// metric) where the report has them, and every latency metric of the
// period's own figures over its resolved budget that no violation covers
// (a period report; or a run whose windows held too few calls to judge).
std::vector<Breach> Breaches(const Snapshot& period, const Json& budgets) {
  std::vector<Breach> out;
  if (!budgets.is_object()) return out;
  if (budgets.contains("violations") && budgets["violations"].is_array()) {
    for (const Json& v : budgets["violations"]) {
      Breach b{v.value("operation", ""), v.value("metric", ""), v.value("unit", ""),
               v.value("severity", "warning"), v.value("peak", 0.0), v.value("budget", 0.0),
               v.value("windows", int64_t{0}), v.value("state", "")};
      auto same = std::find_if(out.begin(), out.end(), [&](const Breach& o) {
        return o.operation == b.operation && o.metric == b.metric;
      });
      if (same == out.end()) {
        out.push_back(b);
      } else if (b.actual > same->actual) {
        b.windows += same->windows;
        *same = b;
      } else {
        same->windows += b.windows;
      }
    }
  }
  const Json& resolved = budgets.contains("resolved") ? budgets["resolved"] : budgets;
  if (!resolved.is_object()) return out;
  const Json severities = resolved.value("severities", Json::object());
  for (const OpStats& op : period.ops) {
    if (op.calls == 0) continue;
    Json limits = resolved.value("default", Json::object());
    if (resolved.contains("operations") && resolved["operations"].contains(op.name)) {
      for (const auto& [k, v] : resolved["operations"][op.name].items()) limits[k] = v;
    }
    for (const auto& [key, limit] : limits.items()) {
      if (!limit.is_number() || key.size() < 4 || key.substr(key.size() - 3) != "_ns") continue;
      const std::string metric = key.substr(0, key.size() - 3);
      const double actual = LatencyOf(op, metric);
      const double budget = limit.get<double>();
      if (actual < 0 || budget <= 0 || actual <= budget) continue;
      const bool covered = std::any_of(out.begin(), out.end(), [&](const Breach& o) {
        return o.operation == op.name && o.metric == metric;
      });
      if (covered) continue;
      const double ratio = actual / budget;
      std::string severity = "warning";
      if (ratio >= severities.value("critical", 2.0)) {
        severity = "critical";
      } else if (ratio >= severities.value("error", 1.5)) {
        severity = "error";
      }
      out.push_back({op.name, metric, "ns", severity, actual, budget, 0,
                     budgets.contains("violations") ? "over in the run's figures, no window judged over"
                                                    : ""});
    }
  }
  return out;
}

void OverBudget(const Snapshot& period, const Json& budgets, Json* out) {
  for (const Breach& b : Breaches(period, budgets)) {
    const OpStats* op = period.Find(b.operation);
    Json evidence = {{"metric", b.metric},
                     {"actual", b.actual},
                     {"budget", b.budget},
                     {"unit", b.unit},
                     {"ratio", b.budget > 0 ? b.actual / b.budget : 0}};
    if (b.windows > 0) evidence["windows_over"] = b.windows;
    if (!b.state.empty()) evidence["state"] = b.state;
    std::string title = absl::StrFormat(
        "%s %s %s is %.2fx its %s budget", b.operation, b.metric, FormatValue(b.actual, b.unit),
        b.budget > 0 ? b.actual / b.budget : 0, FormatValue(b.budget, b.unit));
    std::string look_at;
    if (op != nullptr && b.unit == "ns" && op->calls > 0) {
      const uint64_t slow = CallsAtLeast(*op, b.budget);
      const double share = static_cast<double>(slow) / static_cast<double>(op->calls);
      evidence["calls"] = op->calls;
      evidence["calls_over_budget"] = slow;
      evidence["p50_ns"] = op->p50_ns;
      absl::StrAppend(&title, "; ", Percent(share), " of its ", op->calls, " calls took ",
                      FormatNanos(b.budget), " or longer");
      if (static_cast<double>(op->p50_ns) > b.budget) {
        look_at = absl::StrCat("the whole of ", b.operation, ": even its median call (p50 ",
                               FormatNanos(static_cast<double>(op->p50_ns)),
                               ") is over the budget, so the common path is too slow");
      } else {
        look_at = absl::StrCat("what the slowest ", Percent(share), " of ", b.operation,
                               "'s calls do that the others do not (their input size, a lock, "
                               "I/O): its median call takes ",
                               FormatNanos(static_cast<double>(op->p50_ns)));
      }
    } else {
      look_at = absl::StrCat(b.operation, "'s ", b.metric, " over the run's windows");
    }
    out->push_back(Item("over_budget", b.severity, std::move(title), std::move(look_at),
                        std::move(evidence)));
  }
}

void LongTails(const Snapshot& period, const Thresholds& t, Json* out) {
  for (const OpStats& op : period.ops) {
    if (op.calls < t.min_calls || op.p50_ns == 0) continue;
    const double ratio = static_cast<double>(op.p99_ns) / static_cast<double>(op.p50_ns);
    if (ratio < t.tail_ratio || static_cast<double>(op.p99_ns) < t.min_tail_ns) continue;
    const double tail_from = t.tail_ratio * static_cast<double>(op.p50_ns);
    const uint64_t tail = CallsAtLeast(op, tail_from);
    out->push_back(Item(
        "long_tail", "warning",
        absl::StrFormat("%s has a long tail: p99 %s is %.0fx its p50 %s; %d of %d calls took "
                        "%s or longer",
                        op.name, FormatNanos(static_cast<double>(op.p99_ns)), ratio,
                        FormatNanos(static_cast<double>(op.p50_ns)), tail, op.calls,
                        FormatNanos(tail_from)),
        absl::StrFormat("what makes %d of %s's calls %.0fx slower than the typical one: "
                        "contention, a cache-miss path, a rare large input, a page fault or "
                        "a reschedule",
                        tail, op.name, t.tail_ratio),
        {{"p50_ns", op.p50_ns},
         {"p99_ns", op.p99_ns},
         {"max_ns", op.max_ns},
         {"p99_over_p50", ratio},
         {"calls", op.calls},
         {"calls_in_tail", tail}}));
  }
}

std::string TopFrame(const Json& report, const std::string& category) {
  const Json* live = nullptr;
  if (report.contains("memory") && report["memory"].contains("live")) {
    live = &report["memory"]["live"];
  }
  if (live == nullptr || !live->contains(category)) return "";
  const Json& sites = (*live)[category].value("top_sites", Json::array());
  if (sites.empty() || !sites[0].contains("frames") || sites[0]["frames"].empty()) return "";
  // The first frame that is the program's, not the allocator's or the C++
  // runtime's (operator new is where every site starts).
  const Json& frames = sites[0]["frames"];
  for (const Json& f : frames) {
    const std::string frame = f.get<std::string>();
    const bool runtime = absl::StrContains(frame, "(libc.so") ||
                         absl::StrContains(frame, "(libstdc++.so") ||
                         absl::StrContains(frame, "(libjemalloc") ||
                         absl::StrContains(frame, "(libtcmalloc") ||
                         absl::StartsWith(frame, "operator new") ||
                         absl::StartsWith(frame, "malloc") || absl::StartsWith(frame, "calloc") ||
                         absl::StartsWith(frame, "realloc");
    if (!runtime) return frame;
  }
  return frames[0].get<std::string>();
}

void Memory(const Snapshot& period, const Json& report, const Thresholds& t, Json* out) {
  if (!period.memory) return;
  for (const MemoryCategory& c : period.memory->categories) {
    const OpStats* op = period.Find(c.name);
    const std::string site = TopFrame(report, c.name);
    if (c.leak_suspected) {
      Json evidence = {{"growth_bytes_per_s", c.growth_bytes_per_s},
                       {"live_bytes", c.live_bytes},
                       {"live_allocs", c.live_allocs},
                       {"projected_bytes_1h", c.projected_bytes_1h},
                       {"confidence", c.leak_confidence}};
      if (!site.empty()) evidence["top_site"] = site;
      out->push_back(Item(
          "leak", c.projected_bytes_1h >= 1024.0 * 1024 * 1024 ? "error" : "warning",
          absl::StrFormat("%s's live memory grows %s/s (confidence %.2f): %s live now, %s in "
                          "an hour at this rate",
                          c.name, FormatBytes(c.growth_bytes_per_s), c.leak_confidence,
                          FormatBytes(static_cast<double>(c.live_bytes)),
                          FormatBytes(c.projected_bytes_1h)),
          site.empty() ? absl::StrCat("the blocks ", c.name,
                                      " allocates and never frees (report's memory.live)")
                       : absl::StrCat("the allocations made at ", site,
                                      ", which hold most of the live bytes"),
          std::move(evidence)));
    }
    if (op == nullptr || op->calls == 0) continue;
    const double per_call = static_cast<double>(c.alloc_bytes) / static_cast<double>(op->calls);
    const double allocs_per_call = static_cast<double>(c.allocs) / static_cast<double>(op->calls);
    if (per_call < t.heavy_bytes_per_call && allocs_per_call < t.heavy_allocs_per_call) continue;
    Json evidence = {{"bytes_per_call", per_call},
                     {"allocs_per_call", allocs_per_call},
                     {"bytes_per_s", c.bytes_per_s},
                     {"calls", op->calls}};
    if (!site.empty()) evidence["top_site"] = site;
    out->push_back(Item(
        "allocation_heavy", "info",
        absl::StrFormat("%s allocates %s in %.0f allocations per call (%s/s)", c.name,
                        FormatBytes(per_call), allocs_per_call, FormatBytes(c.bytes_per_s)),
        site.empty() ? absl::StrCat("buffers ", c.name,
                                    " could reuse between calls, or reserve once")
                     : absl::StrCat("the allocations at ", site,
                                    ": reuse their buffers between calls, or reserve once"),
        std::move(evidence)));
  }
}

void Trends(const Json& budgets, Json* out) {
  if (!budgets.is_object() || !budgets.contains("predictions")) return;
  for (const Json& p : budgets["predictions"]) {
    const std::string unit = p.value("unit", "");
    const double eta = p.value("eta_s", 0.0);
    out->push_back(Item(
        "rising_trend", "warning",
        absl::StrFormat("%s %s is rising %s per minute and would cross its %s budget in %s (at "
                        "%s)",
                        p.value("operation", ""), p.value("metric", ""),
                        FormatValue(p.value("slope_per_s", 0.0) * 60, unit),
                        FormatValue(p.value("budget", 0.0), unit),
                        FormatNanos(eta * 1e9), p.value("crosses_at", "")),
        absl::StrCat("what grows with time in ", p.value("operation", ""),
                     ": a container, a cache, a queue or the data it works on"),
        {{"metric", p.value("metric", "")},
         {"actual", p.value("actual", 0.0)},
         {"budget", p.value("budget", 0.0)},
         {"slope_per_s", p.value("slope_per_s", 0.0)},
         {"eta_s", eta},
         {"r_squared", p.value("r_squared", 0.0)},
         {"confidence", p.value("confidence", "")}}));
  }
}

void ProbeCosts(const Snapshot& period, const ProbeCost& cost, const Thresholds& t, Json* out) {
  if (!cost) return;
  for (const OpStats& op : period.ops) {
    if (op.calls == 0 || op.mean_ns <= 0) continue;
    std::optional<double> ns = cost(op.name);
    if (!ns || *ns <= 0) continue;
    const double share = *ns / op.mean_ns;
    if (share < t.probe_share) continue;
    out->push_back(Item(
        "expensive_probe", share >= 4 * t.probe_share ? "warning" : "info",
        absl::StrFormat("timing %s costs about %s per call, %s of its mean %s", op.name,
                        FormatNanos(*ns), Percent(share), FormatNanos(op.mean_ns)),
        absl::StrCat("--return-mode fast for ", op.name,
                     " where `gridprobe symbols` says it is safe (one trap fewer per call), or "
                     "drop ", op.name, " from the preset: a function this short is cheaper "
                     "to time from its caller"),
        {{"probe_ns_per_call", *ns}, {"mean_ns", op.mean_ns}, {"share", share},
         {"calls", op.calls}}));
  }
}

}  // namespace

Json Recommend(const Snapshot& period, const Json& report, const ProbeCost& probe_cost,
               const Thresholds& t) {
  const Json budgets = report.value("budgets", Json());
  Json out = Json::array();
  OverBudget(period, budgets, &out);
  LongTails(period, t, &out);
  Memory(period, report, t, &out);
  Trends(budgets, &out);
  ProbeCosts(period, probe_cost, t, &out);
  std::stable_sort(out.begin(), out.end(), [](const Json& a, const Json& b) {
    return Rank(a["severity"]) > Rank(b["severity"]);
  });
  if (out.empty()) {
    uint64_t calls = 0;
    for (const OpStats& op : period.ops) calls += op.calls;
    const bool judged = budgets.is_object();
    const bool memory = period.memory.has_value();
    out.push_back(Item(
        "clean", "info",
        absl::StrCat("nothing to recommend: ", period.ops.size(), " operations, ", calls,
                     " calls", judged ? ", all within budget" : "",
                     memory ? ", no memory growing" : "", ", no long tails"),
        "", {{"operations", period.ops.size()},
             {"calls", calls},
             {"budgets_judged", judged},
             {"memory_tracked", memory},
             {"seconds", period.seconds()}}));
  }
  return out;
}

void RecommendationsAnalyzer::AddToReport(const Snapshot& run, nlohmann::json* report) {
  (*report)["recommendations"] = Recommend(run, *report, probe_cost_, thresholds_);
}

}  // namespace gridprobe::recommendations
