#include "userspace/report.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "base/status.h"

namespace gridprobe {
namespace {

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace

OpStats MakeOpStats(const OpIdentity& id, const Histogram& w, double seconds) {
  OpStats s;
  s.name = id.name;
  s.symbol = id.symbol;
  s.module = id.module;
  s.preset = id.preset;
  s.impact = id.impact;
  s.calls = w.count();
  s.unwound = w.unwound();
  s.untracked = w.untracked();
  s.calls_per_s = seconds > 0 ? static_cast<double>(w.count()) / seconds : 0;
  s.mean_ns = w.mean();
  s.min_ns = w.min();
  s.max_ns = w.max();
  s.p50_ns = w.Percentile(0.50);
  s.p95_ns = w.Percentile(0.95);
  s.p99_ns = w.Percentile(0.99);
  s.total_ns = w.sum();
  return s;
}

std::string FormatNanos(double ns) {
  if (ns < 1e3) return absl::StrFormat("%.0f ns", ns);
  if (ns < 1e6) return absl::StrFormat("%.1f us", ns / 1e3);
  if (ns < 1e9) return absl::StrFormat("%.2f ms", ns / 1e6);
  return absl::StrFormat("%.2f s", ns / 1e9);
}

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

std::string FormatBytes(double b) {
  if (b < 1024) return absl::StrFormat("%.0f B", b);
  if (b < 1024 * 1024) return absl::StrFormat("%.1f KiB", b / 1024);
  if (b < 1024.0 * 1024 * 1024) return absl::StrFormat("%.1f MiB", b / (1024 * 1024));
  return absl::StrFormat("%.2f GiB", b / (1024.0 * 1024 * 1024));
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

nlohmann::json OpJson(const OpStats& op) {
  return {{"name", op.name},
          {"symbol", op.symbol},
          {"module", op.module},
          {"preset", op.preset},
          {"impact", ImpactName(op.impact)},
          {"calls", op.calls},
          {"calls_per_s", op.calls_per_s},
          {"unwound", op.unwound},
          {"untracked", op.untracked},
          {"mean_ns", op.mean_ns},
          {"min_ns", op.min_ns},
          {"max_ns", op.max_ns},
          {"p50_ns", op.p50_ns},
          {"p95_ns", op.p95_ns},
          {"p99_ns", op.p99_ns},
          {"total_ns", op.total_ns}};
}

nlohmann::json ReportJson(const Snapshot& snap, const Losses& losses) {
  nlohmann::json ops = nlohmann::json::array();
  for (const OpStats& op : snap.ops) ops.push_back(OpJson(op));
  return {{"schema", "gridprobe.report/1"},
          {"target", {{"pid", snap.target.pid}, {"comm", snap.target.comm},
                      {"exe", snap.target.exe}}},
          {"window", {{"start", Rfc3339(snap.start)}, {"end", Rfc3339(snap.end)},
                      {"seconds", snap.seconds()}}},
          {"probes", {{"count", losses.probes}, {"missed_hits", losses.missed_hits}}},
          {"operations", ops}};
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError(errno, absl::StrCat("write ", path), ExitCode::kOutputFailed);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return ErrnoError(err, absl::StrCat("write ", path), ExitCode::kOutputFailed);
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return ErrnoError(err, absl::StrCat("write ", path), ExitCode::kOutputFailed);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return ErrnoError(err, absl::StrCat("write ", path), ExitCode::kOutputFailed);
  }
  return absl::OkStatus();
}

}  // namespace gridprobe
