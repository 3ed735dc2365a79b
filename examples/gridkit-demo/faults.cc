#include "faults.h"

#include <time.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace gridkit_demo {
namespace {

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Written so that the hashing cannot be optimized away.
volatile uint64_t burn_sink;

void* AllocateTouched(uint64_t bytes) {
  void* block = std::malloc(bytes);
  if (block == nullptr) throw std::bad_alloc();
  // Touch every page so the memory is resident, as a real cache or leak would be.
  std::memset(block, 0xA5, bytes);
  return block;
}

}  // namespace

FaultMemory::~FaultMemory() {
  for (PerOp& op : ops_) {
    for (Block* list : {op.cache_oldest, op.leaked}) {
      while (list != nullptr) {
        Block* next = list->next;
        std::free(list);
        list = next;
      }
    }
  }
}

void FaultMemory::Leak(Op op, uint64_t bytes) {
  auto* block = static_cast<Block*>(AllocateTouched(bytes));
  block->bytes = bytes;
  std::lock_guard<std::mutex> lock(mu_);
  PerOp& per_op = ops_[Index(op)];
  block->next = per_op.leaked;
  per_op.leaked = block;
  ++per_op.leaked_allocs;
  per_op.leaked_bytes += bytes;
}

void FaultMemory::AddToCache(Op op, uint64_t bytes, uint64_t max_bytes) {
  auto* block = static_cast<Block*>(AllocateTouched(bytes));
  block->bytes = bytes;
  block->next = nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  PerOp& per_op = ops_[Index(op)];
  if (per_op.cache_newest != nullptr) {
    per_op.cache_newest->next = block;
  } else {
    per_op.cache_oldest = block;
  }
  per_op.cache_newest = block;
  ++per_op.cache_allocs;
  per_op.cache_bytes += bytes;
  while (per_op.cache_bytes > max_bytes && per_op.cache_oldest != nullptr) {
    Block* oldest = per_op.cache_oldest;
    per_op.cache_oldest = oldest->next;
    if (per_op.cache_oldest == nullptr) per_op.cache_newest = nullptr;
    --per_op.cache_allocs;
    per_op.cache_bytes -= oldest->bytes;
    std::free(oldest);
  }
}

MemoryCounts FaultMemory::Counts(Op op) const {
  std::lock_guard<std::mutex> lock(mu_);
  const PerOp& per_op = ops_[Index(op)];
  return MemoryCounts{per_op.leaked_bytes, per_op.leaked_allocs, per_op.cache_bytes,
                      per_op.cache_allocs};
}

FaultInjector::FaultInjector(const std::array<OpFaults, kNumOps>& faults, uint64_t seed,
                             FaultMemory* memory, ElapsedFn elapsed)
    : faults_(faults), memory_(memory), elapsed_(std::move(elapsed)), rng_(seed) {}

bool FaultInjector::Chance(double percent) {
  if (percent <= 0) return false;
  return std::uniform_real_distribution<double>(0, 100)(rng_) < percent;
}

void FaultInjector::Checkpoint(const char* op_name, int stage) {
  if (stage != 0) return;
  std::optional<Op> op = OpFromName(op_name);
  if (!op) return;
  const OpFaults& f = faults_[Index(*op)];
  // Whole-run spans hold any time: the clock is read only when some span needs it.
  const double t = f.Timed() ? elapsed_() : 0;
  // Chances are drawn in and out of the span alike, so that a span only masks the decisions
  // the same seed makes without it.
  if (f.slow_ms > 0 && Chance(f.slow_percent) && f.slow_span.Contains(t)) {
    BurnCpu(f.slow_ms);
    ++slowed_[Index(*op)];
  }
  if (f.leak_bytes > 0 && f.leak_span.Contains(t)) memory_->Leak(*op, f.leak_bytes);
  if (f.cache_bytes > 0 && f.cache_span.Contains(t)) {
    memory_->AddToCache(*op, f.cache_bytes, f.cache_max_bytes);
  }
  if (Chance(f.throw_percent) && f.throw_span.Contains(t)) {
    throw Cancelled(std::string(op_name) + " cancelled");
  }
}

void BurnCpu(double ms) {
  const uint64_t deadline = MonotonicNs() + static_cast<uint64_t>(ms * 1e6);
  unsigned char buffer[4096];
  std::memset(buffer, 0x5C, sizeof(buffer));
  uint64_t hash = 0xCBF29CE484222325ull;
  do {
    for (unsigned char byte : buffer) hash = (hash ^ byte) * 0x100000001B3ull;  // FNV-1a
    buffer[hash % sizeof(buffer)] ^= static_cast<unsigned char>(hash);
  } while (MonotonicNs() < deadline);
  burn_sink = hash;
}

}  // namespace gridkit_demo
