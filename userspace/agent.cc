#include "userspace/agent.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/status.h"

namespace gridprobe {
namespace {

int PidfdOpen(int pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// Copies a category's figures onto its operation, where budgets read them.
void AttachMemoryToOps(Snapshot* snap) {
  if (!snap->memory) return;
  for (OpStats& op : snap->ops) {
    const MemoryCategory* c = snap->memory->Find(op.name);
    if (c == nullptr) continue;
    op.alloc_bytes_per_call = c->bytes_per_call;
    op.live_bytes = c->live_bytes;
    op.leak_growth_bytes_per_s = c->growth_bytes_per_s;
  }
}

std::vector<uint64_t> Calls(const std::vector<Histogram>& hists) {
  std::vector<uint64_t> calls;
  for (const Histogram& h : hists) calls.push_back(h.count());
  return calls;
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

}  // namespace

const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kDuration: return "duration reached";
    case StopReason::kSignal: return "interrupted";
    case StopReason::kTargetExited: return "target exited";
  }
  return "?";
}

TargetInfo ReadTargetInfo(int pid) {
  TargetInfo t;
  t.pid = pid;
  std::ifstream comm(absl::StrCat("/proc/", pid, "/comm"));
  std::getline(comm, t.comm);
  char buf[4096];
  ssize_t n = readlink(absl::StrCat("/proc/", pid, "/exe").c_str(), buf, sizeof(buf) - 1);
  if (n > 0) t.exe = std::string(absl::StripSuffix(absl::string_view(buf, n), " (deleted)"));
  return t;
}

absl::StatusOr<StopReason> RunAgent(ProbeSession& session, const TargetInfo& target,
                                    const std::vector<OpIdentity>& ops,
                                    const AgentOptions& options,
                                    const std::vector<WindowObserver*>& observers) {
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
  StopReason reason = StopReason::kDuration;

  auto tick = [&](absl::Time now) -> absl::Status {
    GP_ASSIGN_OR_RETURN(std::vector<Histogram> current, session.Read());
    std::vector<Histogram> window(current.size());
    for (size_t i = 0; i < current.size(); ++i) window[i] = current[i].Since(previous[i]);
    Snapshot snap = MakeSnapshot(target, window_start, now, ops, window);
    if (options.memory != nullptr) {
      GP_ASSIGN_OR_RETURN(MemoryCounters counters, session.ReadMemory());
      snap.memory = options.memory->Update(now, snap.seconds(), counters, Calls(window));
      AttachMemoryToOps(&snap);
    }
    for (WindowObserver* o : observers) o->OnWindow(snap);
    if (options.live) {
      Losses losses{session.MissedHits(), session.probe_count()};
      // On a terminal the table refreshes in place; piped, windows follow
      // each other so logs keep every one.
      if (isatty(fileno(options.out))) std::fputs("\x1b[H\x1b[2J", options.out);
      std::fputs(RenderTable(snap, losses).c_str(), options.out);
      if (snap.memory) std::fputs(RenderMemoryTable(*snap.memory).c_str(), options.out);
      std::fputc('\n', options.out);
      std::fflush(options.out);
    }
    previous = std::move(current);
    window_start = now;
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
  GP_ASSIGN_OR_RETURN(std::vector<Histogram> total, session.Read());
  if (window_start < end) {
    // Let observers see the last partial window too.
    std::vector<Histogram> window(total.size());
    for (size_t i = 0; i < total.size(); ++i) window[i] = total[i].Since(previous[i]);
    Snapshot last = MakeSnapshot(target, window_start, end, ops, window);
    if (options.memory != nullptr) {
      GP_ASSIGN_OR_RETURN(MemoryCounters counters, session.ReadMemory());
      last.memory = options.memory->Update(end, last.seconds(), counters, Calls(window));
      AttachMemoryToOps(&last);
    }
    for (WindowObserver* o : observers) o->OnWindow(last);
  }
  Snapshot run = MakeSnapshot(target, start, end, ops, total);
  Losses losses{session.MissedHits(), session.probe_count()};
  // Freeze memory accounting, read it whole, then remove the probes.
  session.PauseMemory();
  nlohmann::json live_details;
  if (options.memory != nullptr) {
    GP_ASSIGN_OR_RETURN(MemoryCounters counters, session.ReadMemory());
    run.memory = options.memory->Totals(run.seconds(), counters, Calls(total));
    AttachMemoryToOps(&run);
    GP_ASSIGN_OR_RETURN(std::vector<LiveAllocation> live, session.ReadLiveAllocations());
    live_details = options.memory->LiveDetails(
        live,
        [&](uint64_t addr) {
          return options.symbolizer ? options.symbolizer->Symbolize(addr) : std::to_string(addr);
        },
        [&](int32_t id) { return session.ReadStack(id); });
  }
  const size_t probes = session.probe_count();
  const absl::Time detach_start = absl::Now();
  session.Detach();
  std::fprintf(stderr, "gridprobe: detached %zu probes (%.0f ms)\n", probes,
               absl::ToDoubleMilliseconds(absl::Now() - detach_start));

  std::fprintf(options.out, "gridprobe: final report (%s)\n", StopReasonName(reason));
  std::fputs(RenderTable(run, losses).c_str(), options.out);
  if (run.memory) std::fputs(RenderMemoryTable(*run.memory).c_str(), options.out);
  std::fflush(options.out);
  if (!options.report_json.empty()) {
    nlohmann::json report = ReportJson(run, losses);
    if (run.memory) {
      report["memory"] = memory::MemoryJson(*run.memory);
      report["memory"]["live"] = live_details;
    }
    report["stop_reason"] = StopReasonName(reason);
    for (WindowObserver* o : observers) o->AddToReport(run, &report);
    GP_RETURN_IF_ERROR(WriteFileAtomically(options.report_json, report.dump(2) + "\n"));
  }
  return reason;
}

}  // namespace gridprobe
