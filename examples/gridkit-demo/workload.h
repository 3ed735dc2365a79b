// What each worker thread does: its own Grid over generated data, driven through the cycle
// buildRowModel, filter, sort, group, paginate, render at a paced rate.

#ifndef GRIDKIT_DEMO_WORKLOAD_H_
#define GRIDKIT_DEMO_WORKLOAD_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "faults.h"
#include "gridkit/gridkit.h"
#include "options.h"
#include "truth.h"

namespace gridkit_demo {

// Columns: id, name, category, region, price, qty.
std::vector<gridkit::ColumnSpec> DemoSchema();

// Product-catalogue rows for DemoSchema(); the same seed gives the same rows.
std::vector<gridkit::Row> GenerateRows(int64_t rows, uint64_t seed);

// Tells workers to stop, waking them from their sleep.
class StopSignal {
 public:
  void Stop();
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }
  // Sleeps until `deadline` or Stop(). Returns false if stopped.
  bool SleepUntil(std::chrono::steady_clock::time_point deadline);

 private:
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

// Absolute-deadline schedule of one worker. The run has `rate` slots per second starting at
// `start`; worker i of n takes slots i, i + n, i + 2n, ..., so workers interleave and the total
// stays at `rate` however long each call takes.
class Pacer {
 public:
  Pacer(std::chrono::steady_clock::time_point start, double rate, int worker, int workers);
  // Waits for the next slot. Returns false if stopped.
  bool Next(StopSignal& stop);

  // Takes the next slot and returns its time; `now` decides only whether slots are skipped: a
  // worker more than a second behind skips the missed slots instead of bursting to catch up.
  // Unpaced: returns `now`.
  std::chrono::steady_clock::time_point Advance(std::chrono::steady_clock::time_point now);

 private:
  std::chrono::steady_clock::time_point start_;
  std::chrono::duration<double> offset_;  // Of this worker's first slot.
  std::chrono::duration<double> period_;  // Between this worker's slots; zero when unpaced.
  uint64_t next_slot_ = 0;
};

class Worker {
 public:
  // `grid` must hold data already. `memory` must outlive the worker.
  Worker(int index, const Options& options, gridkit::Grid grid, FaultMemory* memory);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs cycles until `stop`. An exception other than Cancelled stops every worker (through
  // `stop`) and is kept in error().
  void Run(std::chrono::steady_clock::time_point start, StopSignal& stop);

  const ThreadSamples& samples() const { return samples_; }
  // Empty unless Run() ended on an unexpected exception.
  const std::string& error() const { return error_; }

 private:
  // Seconds since Run()'s start.
  double Elapsed() const;
  void Call(Op op);
  // Times `call` and records it as a returned or thrown call of `op`.
  template <typename Fn>
  void Measure(Op op, Fn&& call);

  int index_;
  const Options& options_;
  gridkit::Grid grid_;
  std::chrono::steady_clock::time_point start_;  // Set by Run().
  FaultInjector faults_;
  gridkit::ExecContext ctx_;
  std::mt19937_64 rng_;  // Parameters only; faults draw from their own stream.
  size_t view_size_;
  gridkit::Page page_;  // Last page paginate() returned, for render().
  ThreadSamples samples_;
  std::string error_;
};

}  // namespace gridkit_demo

#endif  // GRIDKIT_DEMO_WORKLOAD_H_
