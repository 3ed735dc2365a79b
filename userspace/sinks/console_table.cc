#include "userspace/sinks/console_table.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "userspace/model/format.h"
#include "userspace/sinks/console_events.h"

namespace gridprobe {

std::string RenderTable(const Snapshot& snap, const Losses& losses) {
  // pid 0: attach --all, whose comm says which processes.
  const std::string who = snap.target.pid > 0
                              ? absl::StrFormat("pid %d (%s)", snap.target.pid, snap.target.comm)
                              : snap.target.comm;
  std::string out = absl::StrFormat(
      "gridprobe: %s  window %.1fs\n%-16s %9s %9s %10s %10s %10s %10s %10s\n", who,
      snap.seconds(), "OPERATION", "CALLS", "CALLS/S", "MEAN", "P50", "P95", "P99", "MAX");
  uint64_t unwound = 0, untracked = 0;
  for (const OpStats& op : snap.ops) {
    absl::StrAppendFormat(&out, "%-16s %9d %9.1f %10s %10s %10s %10s %10s\n", op.name, op.calls,
                          op.calls_per_s, FormatNanos(op.mean_ns),
                          FormatNanos(static_cast<double>(op.p50_ns)),
                          FormatNanos(static_cast<double>(op.p95_ns)),
                          FormatNanos(static_cast<double>(op.p99_ns)),
                          FormatNanos(static_cast<double>(op.max_ns)));
    unwound += op.unwound;
    untracked += op.untracked;
  }
  if (unwound || untracked || losses.missed_hits) {
    absl::StrAppendFormat(&out,
                          "  unwound by exceptions: %d  untracked (nesting too deep): %d  "
                          "missed probe hits: %d\n",
                          unwound, untracked, losses.missed_hits);
  }
  return out;
}

std::string RenderMemoryTable(const MemorySummary& m) {
  std::string out = absl::StrFormat("%-16s %9s %11s %11s %11s %11s  %s\n", "CATEGORY", "ALLOCS/S",
                                    "BYTES/S", "BYTES/CALL", "LIVE", "PEAK", "LEAK");
  uint64_t dropped = 0;
  for (const MemoryCategory& c : m.categories) {
    if (c.allocs == 0 && c.live_bytes == 0) continue;
    absl::StrAppendFormat(
        &out, "%-16s %9.1f %11s %11s %11s %11s  %s\n", c.name, c.allocs_per_s,
        FormatBytes(c.bytes_per_s) + "/s",
        c.bytes_per_call ? FormatBytes(*c.bytes_per_call) : std::string("-"),
        FormatBytes(static_cast<double>(c.live_bytes)),
        FormatBytes(static_cast<double>(c.peak_live_bytes)),
        c.leak_suspected ? absl::StrFormat("SUSPECTED +%s/s", FormatBytes(c.growth_bytes_per_s))
                         : std::string("-"));
    dropped += c.dropped;
  }
  if (dropped > 0) {
    absl::StrAppendFormat(&out,
                          "  %d allocations not tracked: the live-allocation map is full "
                          "(raise --max-allocs)\n",
                          dropped);
  }
  return out;
}

std::string RenderCostLine(const nlohmann::json& agent) {
  if (!agent.is_object() || !agent.contains("cpu_percent")) return "";
  std::string line = absl::StrFormat(
      "gridprobe cost: %.2f%% of one core (%.2f s CPU), %s resident at most, per window "
      "%.2f ms reading maps, %.2f ms analyzing, %.2f ms in sinks",
      agent.value("cpu_percent", 0.0), agent.value("cpu_s", 0.0),
      FormatBytes(agent.value("max_rss_bytes", 0.0)),
      agent["per_window_ms"].value("read", 0.0), agent["per_window_ms"].value("analyze", 0.0),
      agent["per_window_ms"].value("sinks", 0.0));
  const nlohmann::json& bpf = agent["bpf"];
  if (bpf.is_object()) {
    absl::StrAppendFormat(&line, "; BPF programs %s in %d runs (%.0f ns per run)",
                          FormatNanos(bpf.value("run_ns", 0.0)), bpf.value("run_count", 0),
                          bpf.value("ns_per_run", 0.0));
  } else {
    absl::StrAppend(&line, "; BPF run time not measured (kernel statistics unavailable)");
  }
  int64_t late = agent.value("late_windows", 0);
  if (late > 0) absl::StrAppendFormat(&line, "; %d windows late", late);
  return line + "\n";
}

ConsoleTableSink::ConsoleTableSink(FILE* out, bool live)
    : out_(out), live_(live), tty_(isatty(fileno(out)) == 1) {}

void ConsoleTableSink::OnWindow(const Snapshot& snap) {
  if (!live_) return;
  std::string text;
  // On a terminal the table refreshes in place; piped, windows follow each
  // other so that logs keep every one.
  if (tty_) text = "\x1b[H\x1b[2J";
  absl::StrAppend(&text, RenderTable(snap, snap.losses));
  if (snap.memory) absl::StrAppend(&text, RenderMemoryTable(*snap.memory));
  if (tty_ && !recent_.empty()) {
    absl::StrAppend(&text, "\nrecent events:\n");
    for (const std::string& line : recent_) absl::StrAppend(&text, "  ", line, "\n");
  }
  text.push_back('\n');
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

void ConsoleTableSink::OnEvent(const Event& event) {
  if (!tty_) return;
  recent_.push_back(absl::StrCat(Rfc3339(event.time).substr(11, 8), " ", FormatEventLine(event)));
  while (recent_.size() > 8) recent_.pop_front();
}

std::string RenderFinalReport(const Snapshot& run, const nlohmann::json& report) {
  std::string text = absl::StrCat("gridprobe: final report (",
                                  report.value("stop_reason", std::string("?")), ")\n");
  absl::StrAppend(&text, RenderTable(run, run.losses));
  if (run.memory) absl::StrAppend(&text, RenderMemoryTable(*run.memory));
  if (report.contains("recommendations") && report["recommendations"].is_array()) {
    absl::StrAppend(&text, "recommendations:\n");
    for (const nlohmann::json& r : report["recommendations"]) {
      absl::StrAppend(&text, "  [", r.value("severity", ""), "] ", r.value("title", ""), "\n");
      const std::string look_at = r.value("look_at", "");
      if (!look_at.empty()) absl::StrAppend(&text, "      look at: ", look_at, "\n");
    }
  }
  if (report.contains("agent")) absl::StrAppend(&text, RenderCostLine(report["agent"]));
  return text;
}

absl::Status ConsoleTableSink::OnRunEnd(const Snapshot& run, const nlohmann::json& report) {
  const std::string text = RenderFinalReport(run, report);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
  return absl::OkStatus();
}

}  // namespace gridprobe
