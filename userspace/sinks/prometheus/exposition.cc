#include "userspace/sinks/prometheus/exposition.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace gridprobe::prometheus {
namespace {

// 2^10 ns to 2^34 ns at the kernel's resolution: 24 powers of two, 64 bounds each.
constexpr uint32_t kFirstExp = 10;
constexpr uint32_t kLastExp = 34;

std::vector<uint32_t> MakeBounds() {
  std::vector<uint32_t> out;
  const uint32_t first = Histogram::BucketOf(uint64_t{1} << kFirstExp);
  const uint32_t last = Histogram::BucketOf(uint64_t{1} << kLastExp);
  for (uint32_t i = first; i <= last; ++i) out.push_back(i);
  return out;
}

// A family's header: HELP (escaped), TYPE.
void Header(std::string* out, absl::string_view name, absl::string_view type,
            absl::string_view help) {
  absl::StrAppend(out, "# HELP ", name, " ");
  for (char c : help) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
  absl::StrAppend(out, "\n# TYPE ", name, " ", type, "\n");
}

// `{k="v",...}` from pairs; the values escaped.
class Labels {
 public:
  Labels& Add(absl::string_view key, absl::string_view value) {
    absl::StrAppend(&text_, text_.empty() ? "" : ",", key, "=\"", EscapeLabelValue(value), "\"");
    return *this;
  }
  // The set with one more pair, as `{...}`.
  std::string With(absl::string_view key, absl::string_view value) const {
    Labels copy = *this;
    copy.Add(key, value);
    return copy.str();
  }
  std::string str() const { return text_.empty() ? "" : absl::StrCat("{", text_, "}"); }

 private:
  std::string text_;
};

void Sample(std::string* out, absl::string_view name, const std::string& labels,
            absl::string_view value) {
  absl::StrAppend(out, name, labels, " ", value, "\n");
}

int SeverityLevel(Severity s) {
  switch (s) {
    case Severity::kNone:
      return 0;
    case Severity::kInfo:
      return 1;
    case Severity::kWarning:
      return 2;
    case Severity::kError:
      return 3;
    case Severity::kCritical:
      return 4;
  }
  return 0;
}

}  // namespace

// The le text of each exported bound, computed once.
const std::vector<std::string>& BoundTexts() {
  static const auto* texts = [] {
    auto* out = new std::vector<std::string>;
    for (uint32_t bound : ExportedBounds()) {
      out->push_back(NanosAsSeconds(Histogram::BucketLow(bound) - 1));
    }
    return out;
  }();
  return *texts;
}

const std::vector<uint32_t>& ExportedBounds() {
  static const auto* bounds = new std::vector<uint32_t>(MakeBounds());
  return *bounds;
}

std::string NanosAsSeconds(uint64_t ns) {
  const uint64_t whole = ns / 1000000000u;
  uint64_t frac = ns % 1000000000u;
  if (frac == 0) return absl::StrCat(whole);
  char digits[16];
  std::snprintf(digits, sizeof(digits), "%09" PRIu64, frac);
  std::string f(digits);
  while (!f.empty() && f.back() == '0') f.pop_back();
  return absl::StrCat(whole, ".", f);
}

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF).
size_t Utf8Length(absl::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  size_t n = c >= 0xC2 && c <= 0xDF   ? 2
             : c >= 0xE0 && c <= 0xEF ? 3
             : c >= 0xF0 && c <= 0xF4 ? 4
                                      : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
  }
  if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
  if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogates
  if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
  if (c == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
  return n;
}

}  // namespace

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size();) {
    // Prometheus refuses a page with invalid UTF-8; a comm or path from
    // /proc can be any bytes: each bad byte becomes U+FFFD.
    const size_t n = Utf8Length(value, i);
    if (n == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(value.data() + i, n);
      i += n;
      continue;
    }
    const char c = value[i++];
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '"') {
      out.append("\\\"");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

void MetricsState::OnWindow(const Snapshot& w) {
  seen_window_ = true;
  if (!target_exited_) attached_ = true;
  target_ = w.target;
  ++windows_;
  for (const OpStats& s : w.ops) {
    Op* op = nullptr;
    for (Op& o : ops_) {
      if (o.name == s.name && o.preset == s.preset) op = &o;
    }
    if (op == nullptr) {
      ops_.push_back({s.name, s.preset, s.module, s.build_id, Histogram()});
      op = &ops_.back();
    }
    // The module is named once the library is mapped (--wait-library).
    op->module = s.module;
    op->build_id = s.build_id;
    if (s.histogram != nullptr) op->hist.Merge(*s.histogram);
  }
  if (w.memory) {
    memory_ = true;
    for (const MemoryCategory& c : w.memory->categories) {
      Category& cat = categories_[c.name];
      cat.allocs += c.allocs;
      cat.alloc_bytes += c.alloc_bytes;
      cat.live_bytes = c.live_bytes;
      cat.live_allocs = c.live_allocs;
      cat.leak_suspected = c.leak_suspected;
    }
  }
  losses_ = w.losses;
  if (w.agent) {
    agent_seen_ = true;
    agent_cpu_s_ += w.agent->cpu_s;
    agent_rss_ = w.agent->rss_bytes;
    bpf_run_ns_ += w.agent->bpf_run_ns;
    bpf_runs_ += w.agent->bpf_run_count;
    bpf_stats_ = w.agent->bpf_stats;
  }
}

void MetricsState::OnEvent(const Event& e) {
  switch (e.kind) {
    case EventKind::kViolationOpened:
    case EventKind::kViolationUpdated:
      budget_state_[{e.operation, e.metric}] = e.severity;
      ++violations_[{e.operation, e.metric, SeverityName(e.severity)}];
      break;
    case EventKind::kViolationResolved:
      budget_state_[{e.operation, e.metric}] = Severity::kNone;
      break;
    case EventKind::kTargetExited:
      target_exited_ = true;
      attached_ = false;
      break;
    default:
      break;
  }
}

void MetricsState::OnRunEnd() { attached_ = false; }

std::string MetricsState::Render() const {
  const std::vector<uint32_t>& bounds = ExportedBounds();
  std::string out;
  out.reserve(4096 + ops_.size() * (bounds.size() + 8) * 96);
  Labels target;
  if (seen_window_) {
    target.Add("comm", target_.comm).Add("pid", absl::StrCat(target_.pid));
  }
  const std::string tl = target.str();

  Header(&out, "gridprobe_attached", "gauge",
         "1 while gridprobe's probes are on the target, 0 before attach and after detach or exit.");
  Sample(&out, "gridprobe_attached", "", attached_ ? "1" : "0");
  Header(&out, "gridprobe_windows_total", "counter", "Measurement windows merged into this page.");
  Sample(&out, "gridprobe_windows_total", "", absl::StrCat(windows_));
  if (seen_window_) {
    Header(&out, "gridprobe_target_info", "gauge", "The profiled process (always 1).");
    Sample(&out, "gridprobe_target_info", target.With("exe", target_.exe), "1");
  }

  std::vector<Labels> op_labels;
  for (const Op& op : ops_) {
    Labels l = target;
    l.Add("preset", op.preset).Add("operation", op.name);
    op_labels.push_back(l);
  }
  if (!ops_.empty()) {
    Header(&out, "gridprobe_op_info", "gauge",
           "An operation's probed module and its GNU build-id (always 1).");
    for (size_t i = 0; i < ops_.size(); ++i) {
      Labels l = op_labels[i];
      l.Add("module", ops_[i].module);
      Sample(&out, "gridprobe_op_info", l.With("build_id", ops_[i].build_id), "1");
    }
    Header(&out, "gridprobe_op_duration_seconds", "histogram",
           "Latency of operations that returned normally, since attach.");
    for (size_t i = 0; i < ops_.size(); ++i) {
      const std::vector<uint64_t>& b = ops_[i].hist.buckets();
      // Every line but its le and count is the same: built once.
      std::string prefix = op_labels[i].With("le", "");
      prefix.resize(prefix.size() - 2);  // up to the le value's opening quote
      prefix.insert(0, "gridprobe_op_duration_seconds_bucket");
      const std::vector<std::string>& le = BoundTexts();
      uint64_t cum = 0;
      uint32_t next = 0;
      for (size_t j = 0; j < bounds.size(); ++j) {
        while (next < bounds[j]) cum += b[next++];
        absl::StrAppend(&out, prefix, le[j], "\"} ", cum, "\n");
      }
      while (next < b.size()) cum += b[next++];
      const std::string l = op_labels[i].str();
      Sample(&out, "gridprobe_op_duration_seconds_bucket", op_labels[i].With("le", "+Inf"),
             absl::StrCat(cum));
      Sample(&out, "gridprobe_op_duration_seconds_sum", l, NanosAsSeconds(ops_[i].hist.sum()));
      Sample(&out, "gridprobe_op_duration_seconds_count", l, absl::StrCat(cum));
    }
    Header(&out, "gridprobe_op_calls_total", "counter",
           "Calls that returned normally (the histogram's count).");
    for (size_t i = 0; i < ops_.size(); ++i) {
      Sample(&out, "gridprobe_op_calls_total", op_labels[i].str(),
             absl::StrCat(ops_[i].hist.count()));
    }
    Header(&out, "gridprobe_op_unwound_total", "counter",
           "Calls left by an exception or longjmp (not in the histogram).");
    for (size_t i = 0; i < ops_.size(); ++i) {
      Sample(&out, "gridprobe_op_unwound_total", op_labels[i].str(),
             absl::StrCat(ops_[i].hist.unwound()));
    }
    Header(&out, "gridprobe_op_untracked_total", "counter",
           "Calls not timed because the per-thread nesting limit was hit.");
    for (size_t i = 0; i < ops_.size(); ++i) {
      Sample(&out, "gridprobe_op_untracked_total", op_labels[i].str(),
             absl::StrCat(ops_[i].hist.untracked()));
    }
  }

  if (memory_) {
    auto each = [&](const char* name, const char* type, const char* help, auto value) {
      Header(&out, name, type, help);
      for (const auto& [category, c] : categories_) {
        Sample(&out, name, target.With("category", category), value(c));
      }
    };
    each("gridprobe_memory_live_bytes", "gauge",
         "Bytes allocated and not yet freed, per category (an operation or unattributed).",
         [](const Category& c) { return absl::StrCat(c.live_bytes); });
    each("gridprobe_memory_live_allocations", "gauge", "Blocks allocated and not yet freed.",
         [](const Category& c) { return absl::StrCat(c.live_allocs); });
    each("gridprobe_memory_allocated_bytes_total", "counter",
         "Bytes allocated since attach; rate() of it is the allocation rate.",
         [](const Category& c) { return absl::StrCat(c.alloc_bytes); });
    each("gridprobe_memory_allocations_total", "counter", "Allocations since attach.",
         [](const Category& c) { return absl::StrCat(c.allocs); });
    each("gridprobe_memory_leak_suspected", "gauge",
         "1 while the memory analyzer suspects the category leaks, else 0.",
         [](const Category& c) { return c.leak_suspected ? std::string("1") : std::string("0"); });
  }

  if (!budget_state_.empty()) {
    Header(&out, "gridprobe_budget_state", "gauge",
           "Budget state per operation and metric: 0 ok, 1 info, 2 warning, 3 error, 4 critical.");
    for (const auto& [key, severity] : budget_state_) {
      Labels l = target;
      l.Add("operation", key.first);
      Sample(&out, "gridprobe_budget_state", l.With("metric", key.second),
             absl::StrCat(SeverityLevel(severity)));
    }
    Header(&out, "gridprobe_budget_violations_total", "counter",
           "Budget violations opened or raised to a severity.");
    for (const auto& [key, n] : violations_) {
      Labels l = target;
      l.Add("operation", std::get<0>(key)).Add("metric", std::get<1>(key));
      Sample(&out, "gridprobe_budget_violations_total", l.With("severity", std::get<2>(key)),
             absl::StrCat(n));
    }
  }

  if (seen_window_) {
    Header(&out, "gridprobe_probes", "gauge", "Probes attached to the target.");
    Sample(&out, "gridprobe_probes", tl, absl::StrCat(losses_.probes));
    Header(&out, "gridprobe_probe_missed_hits_total", "counter",
           "Probe hits the kernel skipped since attach (calls gridprobe could not see).");
    Sample(&out, "gridprobe_probe_missed_hits_total", tl, absl::StrCat(losses_.missed_hits));
  }
  if (agent_seen_) {
    Header(&out, "gridprobe_agent_cpu_seconds_total", "counter",
           "CPU time (user + system) of gridprobe itself since attach.");
    Sample(&out, "gridprobe_agent_cpu_seconds_total", "", FormatValue(agent_cpu_s_));
    Header(&out, "gridprobe_agent_resident_memory_bytes", "gauge",
           "Resident memory of gridprobe itself.");
    Sample(&out, "gridprobe_agent_resident_memory_bytes", "", absl::StrCat(agent_rss_));
    Header(&out, "gridprobe_agent_bpf_stats_enabled", "gauge",
           "1 when the kernel's BPF run-time statistics are on (the two BPF counters count).");
    Sample(&out, "gridprobe_agent_bpf_stats_enabled", "", bpf_stats_ ? "1" : "0");
    Header(&out, "gridprobe_agent_bpf_run_seconds_total", "counter",
           "Time gridprobe's BPF programs ran in the target, since attach.");
    Sample(&out, "gridprobe_agent_bpf_run_seconds_total", "", NanosAsSeconds(bpf_run_ns_));
    Header(&out, "gridprobe_agent_bpf_runs_total", "counter",
           "Runs of gridprobe's BPF programs since attach.");
    Sample(&out, "gridprobe_agent_bpf_runs_total", "", absl::StrCat(bpf_runs_));
  }
  return out;
}

}  // namespace gridprobe::prometheus
