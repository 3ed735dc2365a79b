// Misbehaviour injected through gridkit's ExecContext checkpoint, so that it happens inside the
// library operation's call: the profiler must attribute it to that operation.

#ifndef GRIDKIT_DEMO_FAULTS_H_
#define GRIDKIT_DEMO_FAULTS_H_

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include "ops.h"
#include "options.h"

namespace gridkit_demo {

// Thrown from a checkpoint to cancel the running operation.
class Cancelled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MemoryCounts {
  uint64_t leaked_bytes = 0;
  uint64_t leaked_allocs = 0;
  uint64_t cache_live_bytes = 0;
  uint64_t cache_live_allocs = 0;
};

// Smallest block a --leak or --cache fault allocates: room for the chaining header.
inline constexpr uint64_t kMinFaultBlockBytes = 16;

// Memory held on behalf of faults, per operation, shared by all threads. Leaked blocks stay
// reachable from here (a leak checker would call them "still reachable"), but are never freed.
class FaultMemory {
 public:
  FaultMemory() = default;
  FaultMemory(const FaultMemory&) = delete;
  FaultMemory& operator=(const FaultMemory&) = delete;
  // Frees everything, leaks included: the demo's instance is never destroyed, so its leaks
  // last as long as the process.
  ~FaultMemory();

  void Leak(Op op, uint64_t bytes);
  // Adds a block, then frees the oldest blocks while the cache holds more than max_bytes.
  void AddToCache(Op op, uint64_t bytes, uint64_t max_bytes);
  MemoryCounts Counts(Op op) const;

 private:
  // Blocks are chained through a header inside themselves, so that keeping
  // them allocates nothing else: every byte live on behalf of an operation is
  // one the demo accounts for (the profiler's exact-match test relies on it).
  struct Block {
    Block* next;
    uint64_t bytes;
  };
  struct PerOp {
    Block* leaked = nullptr;  // newest first
    uint64_t leaked_allocs = 0;
    uint64_t leaked_bytes = 0;
    Block* cache_oldest = nullptr;  // FIFO: evict here
    Block* cache_newest = nullptr;  // append here
    uint64_t cache_allocs = 0;
    uint64_t cache_bytes = 0;
  };

  mutable std::mutex mu_;
  std::array<PerOp, kNumOps> ops_;
};

// Seconds since the run's start: the time fault spans are measured in.
using ElapsedFn = std::function<double()>;

// One per worker thread: decides, per call, which faults fire.
class FaultInjector {
 public:
  // `elapsed` is read at stage 0 of the calls of operations that have a fault with a span.
  FaultInjector(const std::array<OpFaults, kNumOps>& faults, uint64_t seed, FaultMemory* memory,
                ElapsedFn elapsed);

  // The ExecContext checkpoint. Acts on stage 0 only, i.e. once per operation call, and only
  // with the faults whose span holds the time of that stage 0. Throws Cancelled when a --throw
  // fault fires; runs after the other faults of the call.
  void Checkpoint(const char* op, int stage);

  // Calls of `op` so far in which the --slow fault burned CPU, including calls that then threw.
  uint64_t slowed(Op op) const { return slowed_[Index(op)]; }

 private:
  bool Chance(double percent);

  const std::array<OpFaults, kNumOps>& faults_;
  FaultMemory* memory_;
  ElapsedFn elapsed_;
  std::mt19937_64 rng_;
  std::array<uint64_t, kNumOps> slowed_{};
};

// Keeps the CPU busy (hashing a buffer) until `ms` milliseconds of CLOCK_MONOTONIC passed.
void BurnCpu(double ms);

}  // namespace gridkit_demo

#endif  // GRIDKIT_DEMO_FAULTS_H_
