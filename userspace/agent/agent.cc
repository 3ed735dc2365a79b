#include "userspace/agent/agent.h"

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "base/status.h"
#include "userspace/model/format.h"
#include "userspace/sinks/report_json.h"

namespace gridprobe {
namespace {

int PidfdOpen(int pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

Snapshot MakeSnapshot(const TargetInfo& target, absl::Time start, absl::Time end,
                      const std::vector<OpIdentity>& ops, const std::vector<Histogram>& hists) {
  Snapshot snap;
  snap.target = target;
  snap.start = start;
  snap.end = end;
  double seconds = absl::ToDoubleSeconds(end - start);
  for (size_t i = 0; i < ops.size() && i < hists.size(); ++i) {
    snap.ops.push_back(MakeOpStats(ops[i], hists[i], seconds));
  }
  return snap;
}

// Sum over categories of allocations the live map could not take.
uint64_t DroppedAllocations(const std::optional<MemoryCounters>& counters) {
  uint64_t dropped = 0;
  if (counters) {
    for (const CategoryCounters& c : counters->categories) dropped += c.dropped;
  }
  return dropped;
}

}  // namespace

const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kDuration: return "duration reached";
    case StopReason::kSignal: return "interrupted";
    case StopReason::kTargetExited: return "target exited";
  }
  return "?";
}

void CompleteEvent(Event* e, const TargetInfo& target, absl::Time window_end) {
  if (e->target.pid == 0 && e->target.comm.empty()) e->target = target;
  if (e->time == absl::Time()) e->time = window_end;
  if (e->key.empty()) {
    const std::string& subject =
        !e->operation.empty() ? e->operation : !e->category.empty() ? e->category : e->preset;
    e->key = MakeEventKey(e->target, e->kind, subject, e->metric);
  }
}

nlohmann::json AgentCostJson(const AgentCost& c, int64_t windows, int64_t late_windows) {
  const double per = windows > 0 ? 1.0 / static_cast<double>(windows) : 0;
  nlohmann::json j = {
      {"windows", windows},
      {"late_windows", late_windows},
      {"cpu_s", c.cpu_s},
      {"cpu_percent", c.cpu_percent},
      {"max_rss_bytes", c.rss_bytes},
      {"per_window_ms",
       {{"read", c.read_ms * per},
        {"analyze", c.analyze_ms * per},
        {"dispatch", c.dispatch_ms * per},
        {"sinks", c.sinks_ms * per}}},
  };
  if (c.bpf_stats) {
    j["bpf"] = {{"run_ns", c.bpf_run_ns},
                {"run_count", c.bpf_run_count},
                {"ns_per_run", c.bpf_run_count > 0
                                   ? static_cast<double>(c.bpf_run_ns) / c.bpf_run_count
                                   : 0.0}};
  } else {
    j["bpf"] = nullptr;
  }
  return j;
}

absl::StatusOr<StopReason> RunAgent(ProbeBackend& backend, const TargetInfo& target,
                                    const std::vector<OpIdentity>& ops,
                                    const AgentOptions& options,
                                    const std::vector<Analyzer*>& analyzers, SinkRunner& sinks) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);
  sigset_t old_mask;
  sigprocmask(SIG_BLOCK, &mask, &old_mask);
  absl::Cleanup restore = [&old_mask] { sigprocmask(SIG_SETMASK, &old_mask, nullptr); };
  int sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
  int timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  int poll_fd = options.poll ? timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC) : -1;
  // attach --all has no one target (pid 0) whose exit ends the run.
  const bool one_target = target.pid > 0;
  int pid_fd = one_target ? PidfdOpen(target.pid) : -1;
  absl::Cleanup close_fds = [=] {
    for (int fd : {sig_fd, timer_fd, poll_fd, pid_fd}) {
      if (fd >= 0) close(fd);
    }
  };
  if (sig_fd < 0 || timer_fd < 0 || (options.poll && poll_fd < 0)) {
    return ErrnoError(errno, "set up the agent's event loop", ExitCode::kFailure);
  }
  if (one_target && pid_fd < 0 && errno == ESRCH) {
    return WithExitCode(absl::NotFoundError(absl::StrCat("process ", target.pid, " exited")),
                        ExitCode::kNotFound);
  }
  itimerspec its{};
  its.it_interval = absl::ToTimespec(options.interval);
  its.it_value = its.it_interval;
  timerfd_settime(timer_fd, 0, &its, nullptr);
  if (poll_fd >= 0) {
    itimerspec poll_its{};
    poll_its.it_interval = absl::ToTimespec(options.poll_interval);
    poll_its.it_value = poll_its.it_interval;
    timerfd_settime(poll_fd, 0, &poll_its, nullptr);
  }

  const absl::Time start = options.start == absl::InfinitePast() ? absl::Now() : options.start;
  const absl::Time deadline = options.duration > absl::ZeroDuration()
                                  ? start + options.duration
                                  : absl::InfiniteFuture();
  std::vector<Histogram> previous(ops.size());
  absl::Time window_start = start;
  absl::Time planned = absl::Now() + options.interval;
  StopReason reason = StopReason::kDuration;
  int64_t index = 0, late_windows = 0;
  AgentCost total;
  double cpu_before = CpuSeconds();
  const double cpu_at_start = cpu_before;
  ProgramStats bpf_before = backend.ReadProgramStats();
  const ProgramStats bpf_at_start = bpf_before;
  uint64_t missed_before = backend.MissedHits();
  uint64_t dropped_before = 0;

  // Reads the kernel's counters into the window ending `now`, runs the
  // analyzers and hands it on. `last` is the partial window at the end.
  auto window = [&](absl::Time now, const std::vector<Histogram>& current,
                    double read_ms) -> absl::Status {
    const absl::Time t_analyze = absl::Now();
    std::vector<Histogram> diff(current.size());
    for (size_t i = 0; i < current.size(); ++i) diff[i] = current[i].Since(previous[i]);
    Snapshot snap = MakeSnapshot(target, window_start, now, ops, diff);
    snap.index = index;
    snap.losses = {backend.MissedHits(), backend.probe_count(), backend.skipped_sites()};
    if (backend.memory_tracked()) {
      GP_ASSIGN_OR_RETURN(snap.memory_counters, backend.ReadMemory());
    }
    EventList events;
    for (Analyzer* a : analyzers) a->OnWindow(&snap, &events);

    // The run's own health: probe hits lost, calls not timed, allocations
    // not tracked, and windows read late.
    uint64_t untracked = 0;
    for (const OpStats& op : snap.ops) untracked += op.untracked;
    const uint64_t missed = snap.losses.missed_hits - missed_before;
    const uint64_t dropped_now = DroppedAllocations(snap.memory_counters);
    const uint64_t dropped = dropped_now - dropped_before;
    if (missed > 0 || untracked > 0 || dropped > 0) {
      Event e;
      e.kind = EventKind::kProbesMissed;
      e.severity = Severity::kWarning;
      e.figures = {{"missed_hits", missed},
                   {"untracked_calls", untracked},
                   {"dropped_allocations", dropped},
                   {"missed_hits_total", snap.losses.missed_hits}};
      e.message = absl::StrCat("in this window ", missed, " probe hits were missed, ", untracked,
                               " calls not timed (nesting too deep) and ", dropped,
                               " allocations not tracked (live-allocation map full)");
      events.push_back(std::move(e));
    }
    missed_before = snap.losses.missed_hits;
    dropped_before = dropped_now;

    AgentCost cost;
    cost.read_ms = read_ms;
    cost.late_ms = std::max(0.0, absl::ToDoubleMilliseconds(now - planned));
    if (now - planned > options.lag_threshold) {
      ++late_windows;
      Event e;
      e.kind = EventKind::kAgentLagging;
      e.severity = Severity::kWarning;
      e.figures = {{"late_ms", cost.late_ms},
                   {"interval_ms", absl::ToDoubleMilliseconds(options.interval)}};
      e.message = absl::StrFormat("window %d was read %.0f ms late (interval %s)", index,
                                  cost.late_ms, absl::FormatDuration(options.interval));
      events.push_back(std::move(e));
    }
    for (Event& e : events) CompleteEvent(&e, target, now);
    cost.analyze_ms = absl::ToDoubleMilliseconds(absl::Now() - t_analyze);
    const double cpu = CpuSeconds();
    cost.cpu_s = cpu - cpu_before;
    cpu_before = cpu;
    cost.cpu_percent = snap.seconds() > 0 ? 100 * cost.cpu_s / snap.seconds() : 0;
    cost.rss_bytes = ResidentBytes();
    const ProgramStats bpf = backend.ReadProgramStats();
    cost.bpf_stats = bpf.enabled;
    cost.bpf_run_ns = bpf.run_ns - bpf_before.run_ns;
    cost.bpf_run_count = bpf.run_count - bpf_before.run_count;
    bpf_before = bpf;
    cost.sinks_ms = sinks.TakeBusyMs();
    const absl::Time t_dispatch = absl::Now();
    snap.agent = cost;
    sinks.PostWindow(snap);
    for (const Event& e : events) sinks.PostEvent(e);
    cost.dispatch_ms = absl::ToDoubleMilliseconds(absl::Now() - t_dispatch);

    total.read_ms += cost.read_ms;
    total.analyze_ms += cost.analyze_ms;
    total.dispatch_ms += cost.dispatch_ms;
    total.sinks_ms += cost.sinks_ms;
    total.rss_bytes = std::max(total.rss_bytes, cost.rss_bytes);
    ++index;
    window_start = now;
    return absl::OkStatus();
  };

  auto tick = [&](absl::Time now) -> absl::Status {
    const absl::Time t_read = absl::Now();
    GP_ASSIGN_OR_RETURN(std::vector<Histogram> current, backend.Read());
    const double read_ms = absl::ToDoubleMilliseconds(absl::Now() - t_read);
    GP_RETURN_IF_ERROR(window(now, current, read_ms));
    previous = std::move(current);
    planned += options.interval;
    // After a long stall the schedule starts again from now.
    if (planned < now) planned = now + options.interval;
    return absl::OkStatus();
  };

  for (bool running = true; running;) {
    // A closed slot (fd -1) is ignored by poll.
    pollfd fds[4] = {{sig_fd, POLLIN, 0}, {timer_fd, POLLIN, 0}, {pid_fd, POLLIN, 0},
                     {poll_fd, POLLIN, 0}};
    int timeout_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      timeout_ms = static_cast<int>(
          std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()) + 1));
    }
    int n = poll(fds, 4, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(errno, "wait for events", ExitCode::kFailure);
    absl::Time now = absl::Now();
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info;
      (void)!read(sig_fd, &info, sizeof(info));
      reason = StopReason::kSignal;
      running = false;
    } else if (pid_fd >= 0 && (fds[2].revents & POLLIN)) {
      reason = StopReason::kTargetExited;
      running = false;
    } else if (one_target && pid_fd < 0 && kill(target.pid, 0) != 0 && errno == ESRCH) {
      reason = StopReason::kTargetExited;
      running = false;
    } else if (now >= deadline) {
      reason = StopReason::kDuration;
      running = false;
    } else if (fds[1].revents & POLLIN) {
      uint64_t expirations;
      (void)!read(timer_fd, &expirations, sizeof(expirations));
      GP_RETURN_IF_ERROR(tick(now));
    } else if (fds[3].revents & POLLIN) {
      uint64_t expirations;
      (void)!read(poll_fd, &expirations, sizeof(expirations));
      GP_RETURN_IF_ERROR(options.poll(now));
    }
  }

  // The whole run, from the cumulative counters (exact min/max).
  const absl::Time end = absl::Now();
  GP_ASSIGN_OR_RETURN(std::vector<Histogram> cumulative, backend.Read());
  // Analyzers see the last partial window too.
  if (window_start < end) GP_RETURN_IF_ERROR(window(end, cumulative, 0));
  Snapshot run = MakeSnapshot(target, start, end, ops, cumulative);
  run.index = -1;
  run.losses = {backend.MissedHits(), backend.probe_count(), backend.skipped_sites()};
  // Freeze memory accounting so that counters and live allocations read
  // now form one picture; the analyzers read them before the probes go.
  backend.PauseMemory();
  if (backend.memory_tracked()) {
    GP_ASSIGN_OR_RETURN(run.memory_counters, backend.ReadMemory());
  }
  EventList final_events;
  for (Analyzer* a : analyzers) a->OnRunEnd(&run, &final_events);
  const size_t probes = backend.probe_count();
  const absl::Time detach_start = absl::Now();
  backend.Detach();
  if (options.announce_detach) {
    std::fprintf(stderr, "gridprobe: detached %zu probes (%.0f ms)\n", probes,
                 absl::ToDoubleMilliseconds(absl::Now() - detach_start));
  }
  if (reason == StopReason::kTargetExited) {
    Event e;
    e.kind = EventKind::kTargetExited;
    e.severity = Severity::kInfo;
    e.figures = {{"seconds_profiled", absl::ToDoubleSeconds(end - start)}};
    e.message = absl::StrFormat("pid %d (%s) exited after %.1f s of profiling", target.pid,
                                target.comm, absl::ToDoubleSeconds(end - start));
    final_events.push_back(std::move(e));
  }
  for (Event& e : final_events) {
    CompleteEvent(&e, target, end);
    sinks.PostEvent(e);
  }

  total.cpu_s = CpuSeconds() - cpu_at_start;
  total.cpu_percent = run.seconds() > 0 ? 100 * total.cpu_s / run.seconds() : 0;
  total.rss_bytes = std::max(total.rss_bytes, ResidentBytes());
  const ProgramStats bpf = backend.ReadProgramStats();
  total.bpf_stats = bpf.enabled;
  total.bpf_run_ns = bpf.run_ns - bpf_at_start.run_ns;
  total.bpf_run_count = bpf.run_count - bpf_at_start.run_count;
  total.sinks_ms += sinks.TakeBusyMs();
  run.agent = total;

  nlohmann::json report = ReportJson(run, run.losses);
  report["stop_reason"] = StopReasonName(reason);
  for (Analyzer* a : analyzers) a->AddToReport(run, &report);
  report["agent"] = AgentCostJson(total, index, late_windows);
  GP_RETURN_IF_ERROR(sinks.Finish(run, &report));
  return reason;
}

}  // namespace gridprobe
