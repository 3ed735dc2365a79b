#include "demo.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "faults.h"
#include "workload.h"

namespace gridkit_demo {
namespace {

double ClockSeconds(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

sigset_t Signals(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  return set;
}

// Returns true once SIGUSR1 arrives, false if SIGINT or SIGTERM comes first.
bool WaitForStartSignal() {
  sigset_t set = Signals({SIGUSR1, SIGINT, SIGTERM});
  while (true) {
    int signal = sigwaitinfo(&set, nullptr);
    if (signal == SIGUSR1) return true;
    if (signal == SIGINT || signal == SIGTERM) return false;
  }
}

// Returns when `deadline_s` (CLOCK_MONOTONIC; 0 = never) passes, SIGINT or SIGTERM arrives, or
// `stop` is set by a failing worker.
void WaitForEnd(double deadline_s, const StopSignal& stop) {
  sigset_t set = Signals({SIGINT, SIGTERM});
  while (!stop.stopped()) {
    double slice = 0.1;  // Bounds how late a failing worker is noticed.
    if (deadline_s > 0) {
      double remaining = deadline_s - ClockSeconds(CLOCK_MONOTONIC);
      if (remaining <= 0) return;
      slice = std::min(slice, remaining);
    }
    timespec timeout{0, static_cast<long>(slice * 1e9)};
    if (sigtimedwait(&set, nullptr, &timeout) > 0) return;
  }
}

}  // namespace

void BlockControlSignals() {
  sigset_t set = Signals({SIGINT, SIGTERM, SIGUSR1});
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

absl::StatusOr<RunFacts> RunDemo(const Options& options) {
  // Never destroyed: leaked blocks stay reachable until the process ends.
  static FaultMemory* const memory = new FaultMemory;

  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < options.threads; ++t) {
    gridkit::Grid grid(DemoSchema());
    grid.setData(GenerateRows(options.rows, options.seed * 7919 + static_cast<uint64_t>(t)));
    workers.push_back(std::make_unique<Worker>(t, options, std::move(grid), memory));
  }

  std::printf("gridkit-demo: ready pid=%d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  bool started = !options.wait_start || WaitForStartSignal();

  double cpu_start = ClockSeconds(CLOCK_PROCESS_CPUTIME_ID);
  double start_s = ClockSeconds(CLOCK_MONOTONIC);
  StopSignal stop;
  if (started) {
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    threads.reserve(workers.size());
    for (std::unique_ptr<Worker>& worker : workers) {
      threads.emplace_back([&worker, start, &stop] { worker->Run(start, stop); });
    }
    WaitForEnd(options.duration_s > 0 ? start_s + options.duration_s : 0, stop);
    stop.Stop();
    for (std::thread& thread : threads) thread.join();
  }
  double elapsed_s = ClockSeconds(CLOCK_MONOTONIC) - start_s;
  double cpu_s = ClockSeconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;

  for (const std::unique_ptr<Worker>& worker : workers) {
    if (!worker->error().empty()) return absl::InternalError(worker->error());
  }

  std::vector<ThreadSamples> samples;
  for (const std::unique_ptr<Worker>& worker : workers) samples.push_back(worker->samples());
  RunFacts facts;
  facts.pid = getpid();
  facts.threads = options.threads;
  facts.rows = options.rows;
  facts.rate = options.rate;
  facts.seed = options.seed;
  facts.elapsed_s = elapsed_s;
  facts.cpu_s = cpu_s;
  for (size_t i = 0; i < kNumOps; ++i) {
    facts.ops[i] = MergeStats(samples, static_cast<Op>(i));
    facts.memory[i] = memory->Counts(static_cast<Op>(i));
  }
  return facts;
}

}  // namespace gridkit_demo
