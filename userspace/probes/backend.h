// The kernel side as the agent loop and the library watches use it: attach
// and detach a module's probes, read counters and histograms. ProbeSession
// is the real one; tests use a fake, so that the loop, the watches and the
// analyzers are tested without root.
#ifndef GRIDPROBE_USERSPACE_PROBES_BACKEND_H_
#define GRIDPROBE_USERSPACE_PROBES_BACKEND_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "symbols/resolver.h"
#include "userspace/model/histogram.h"
#include "userspace/model/snapshot.h"

namespace gridprobe {

// The BPF programs' own cost, from the kernel's BPF statistics.
struct ProgramStats {
  bool enabled = false;  // the kernel counts run time (bpf_enable_stats)
  uint64_t run_ns = 0;   // summed over every program, since load
  uint64_t run_count = 0;
};

// comm and exe of a live process ("" where unreadable).
TargetInfo ReadTargetInfo(int pid);

class ProbeBackend {
 public:
  virtual ~ProbeBackend() = default;

  // Puts the probes of `module` in process `pid` (-1: every process that
  // maps the file) as op ids first_op.. . All or nothing.
  virtual absl::Status Attach(int pid, const symbols::ResolvedModule& module,
                              uint32_t first_op = 0) = 0;
  // Removes the probes attached with `first_op` only.
  virtual void DetachOperations(uint32_t first_op) = 0;
  // Operation probes attached now with `first_op`.
  virtual size_t operation_probes(uint32_t first_op) const = 0;
  // Operation probes attached now, of every module.
  virtual size_t operation_probes() const = 0;

  // Cumulative histograms since attach, indexed by op id.
  virtual absl::StatusOr<std::vector<Histogram>> Read() const = 0;
  // Whether allocations are tracked; ReadMemory is meaningful only then.
  virtual bool memory_tracked() const = 0;
  virtual absl::StatusOr<MemoryCounters> ReadMemory() const = 0;
  // Stops memory accounting so that what is read next is one picture.
  virtual void PauseMemory() = 0;

  virtual uint64_t MissedHits() const = 0;
  virtual size_t probe_count() const = 0;
  // Indirect-jump exit sites the kernel refused, in the modules attached now.
  virtual size_t skipped_sites() const { return 0; }
  virtual ProgramStats ReadProgramStats() const = 0;

  // attach --all: per-process histograms and their bookkeeping.
  virtual absl::StatusOr<std::map<uint32_t, std::vector<Histogram>>> ReadPerProcess() const = 0;
  virtual bool TrackProcess(uint32_t tgid) = 0;
  virtual std::string ProcessName(uint32_t tgid) const = 0;
  virtual uint64_t PerProcessOverflow() const = 0;

  // Removes every probe. Idempotent.
  virtual void Detach() = 0;
};

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_PROBES_BACKEND_H_
