// The one place that talks to the kernel: loads the BPF programs, attaches
// them to a process's probe sites and reads the maps back.
#ifndef GRIDPROBE_USERSPACE_PROBES_PROBE_SESSION_H_
#define GRIDPROBE_USERSPACE_PROBES_PROBE_SESSION_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "symbols/allocator.h"
#include "symbols/resolver.h"
#include "userspace/model/histogram.h"
#include "userspace/probes/backend.h"
#include "userspace/model/snapshot.h"

struct latency_bpf;
struct memory_bpf;
struct bpf_link;
struct bpf_program;

namespace gridprobe {


// How probes are made in the kernel.
enum class LinkMode {
  kAuto,    // kMulti when the running kernel has it, else kSingle
  kMulti,   // one uprobe_multi link per program and module (Linux 6.6+)
  kSingle,  // one perf-event uprobe per site (any kernel with uprobes)
};

struct ProbeSessionOptions {
  uint32_t max_threads = 4096;  // threads with open frames tracked at once
  MemoryMode memory = MemoryMode::kOff;
  uint32_t max_allocs = 262144;  // live allocations tracked at once
  bool alloc_stacks = true;      // user stack of every tracked allocation
  std::string sysfs_root = "/sys";
  LinkMode links = LinkMode::kAuto;
  // attach --all: > 0 keeps a histogram per (process, operation) as well,
  // for up to this many processes' worth (max_processes * GP_MAX_OPS pairs).
  uint32_t max_processes = 0;
  bool verbose = false;  // pass libbpf's own messages to stderr
};

class ProbeSession : public ProbeBackend {
 public:
  // Checks that the kernel can run gridprobe (BTF, uprobe PMU, privileges)
  // and loads the programs. Errors carry kKernelUnsupported or kPermission.
  static absl::StatusOr<std::unique_ptr<ProbeSession>> Create(const ProbeSessionOptions& options);
  ~ProbeSession() override;  // detaches everything
  ProbeSession(const ProbeSession&) = delete;
  ProbeSession& operator=(const ProbeSession&) = delete;

  // Operations one session times, across all of its modules (GP_MAX_OPS).
  static constexpr size_t kMaxOperations = 64;

  // Puts entry and exit probes on every site of `module` in process `pid`
  // only (pid -1: in every process that maps the file, now or later): for a
  // symbol in fast return mode a uretprobe at its entry site, in safe mode
  // uprobes on its exits. Operation i of module.ops is op id first_op + i, so
  // that several modules (one per library preset) count apart. All or
  // nothing: on error, whatever this call attached is detached again.
  // May be called again for the same op ids in another module (attach --all:
  // another copy of the library) or in one mapped anew after
  // DetachOperations(first_op); the histograms go on counting.
  // A function already timed for an operation attached with another first_op
  // (two presets naming one function of one file) is refused, kBadInput: the
  // second entry probe would make the first one's frame look unwound.
  // REQUIRES: first_op + module.ops.size() <= kMaxOperations; op ids of
  // different modules do not overlap unless they are copies of one library.
  absl::Status Attach(int pid, const symbols::ResolvedModule& module,
                      uint32_t first_op = 0) override;

  // Removes the probes attached with `first_op` only (their module was
  // unmapped); other modules' and the allocator's stay.
  void DetachOperations(uint32_t first_op = 0) override;

  // Makes Read() and ReadMemory() cover op ids 0..count-1 whether or not
  // their modules are attached yet (a library not mapped yet).
  // REQUIRES: count <= kMaxOperations.
  void SetOperationCount(size_t count) { nr_ops_ = std::max(nr_ops_, count); }

  // Puts the memory programs on the allocator family. REQUIRES: memory mode
  // is not kOff and Attach succeeded.
  absl::Status AttachAllocator(int pid, const symbols::AllocatorModule& allocator);

  // Stops memory accounting (the probes stay attached) so that counters and
  // live allocations read afterwards form one consistent picture.
  void PauseMemory() override;

  // Memory counters since attach; empty categories when memory is off.
  absl::StatusOr<MemoryCounters> ReadMemory() const override;
  bool memory_tracked() const override { return mem_ != nullptr; }
  // Every allocation tracked and not yet freed.
  absl::StatusOr<std::vector<LiveAllocation>> ReadLiveAllocations() const;
  // The user stack recorded under `stack_id`, innermost frame first.
  std::vector<uint64_t> ReadStack(int32_t stack_id) const;

  // Cumulative histograms since attach, indexed by op id, summed over CPUs.
  absl::StatusOr<std::vector<Histogram>> Read() const override;

  // attach --all: cumulative histograms per process id, each indexed by op
  // id. Empty unless options.max_processes > 0.
  absl::StatusOr<std::map<uint32_t, std::vector<Histogram>>> ReadPerProcess() const override;
  // Makes `tgid`'s per-process histograms now, so that its calls need no
  // allocation in the kernel (which can fail there, transiently). Returns
  // false when the map is full. REQUIRES: Attach succeeded once.
  bool TrackProcess(uint32_t tgid) override;
  // The comm of a process whose histograms the kernel made at its first
  // call (not TrackProcess), or "".
  std::string ProcessName(uint32_t tgid) const override;
  // Calls counted in the totals only: the process's histogram could not be
  // made in the kernel (map full, or no memory at that moment).
  uint64_t PerProcessOverflow() const override;

  // Probe hits the kernel skipped because another BPF program was running on
  // the same CPU (bpf_prog_info.recursion_misses).
  uint64_t MissedHits() const override;
  // Run time of every loaded program (bpf_enable_stats), when the kernel
  // lets gridprobe turn the statistics on.
  ProgramStats ReadProgramStats() const override;

  size_t probe_count() const override { return operation_probes() + alloc_links_.probes; }
  // Whether probes are made as uprobe_multi links (see LinkMode).
  bool multi_links() const { return multi_; }
  // The same, as the attach line says it.
  const char* LinksDescription() const {
    return multi_ ? "uprobe_multi links" : "one perf-event link per probe";
  }
  // Indirect-jump exit sites the kernel could not probe (see Attach), in the
  // modules attached now.
  size_t skipped_sites() const override;
  // Symbols timed with a uretprobe (fast return mode), in the modules
  // attached now.
  size_t fast_symbols() const;

  // Operation probes attached now: of every module, or of those attached
  // with `first_op`.
  size_t operation_probes() const override;
  size_t operation_probes(uint32_t first_op) const override;

  // Removes every probe from the target. Idempotent.
  void Detach() override;

  // A bare probe that runs the `calibrate` program at `offset` of the file at
  // `path` in this process only, made exactly as operation probes are (the
  // same link kind), so that timing its hits measures what theirs cost
  // (calibration.h). Removed when the handle is destroyed.
  class CalibrationProbe;
  absl::StatusOr<std::unique_ptr<CalibrationProbe>> AttachCalibrationProbe(
      const std::string& path, uint64_t offset, bool retprobe);

 private:
  ProbeSession() = default;

  // One probe to make: `prog` at `offset` in the file, `cookie` for the
  // program to read. `where` names it in errors.
  struct Site {
    bpf_program* prog;
    std::string where;
    uint64_t offset;
    uint64_t cookie;
    bool retprobe;
    bool skippable;  // an indirect jump: the kernel may refuse it, counted
  };
  // The kernel objects that hold a set of probes.
  struct Links {
    std::vector<bpf_link*> perf;  // kSingle: one per probe
    std::vector<int> multi;       // kMulti: uprobe_multi link fds
    size_t probes = 0;
  };

  // Makes every probe of `sites` on the file at `path`, for `pid` only. All
  // or nothing: on error nothing of `sites` stays attached.
  absl::Status AttachSites(int pid, const std::string& path, const std::vector<Site>& sites,
                           Links* links);
  absl::Status AttachSingle(int pid, const std::string& path, const Site& site, Links* links);
  static void Release(Links* links);

  // The probes of the modules attached with one first op id.
  struct OpModule {
    Links links;
    size_t fast_symbols = 0;
    size_t skipped_sites = 0;
    std::vector<std::tuple<uint64_t, uint64_t, uint64_t>> entries;  // keys of entries_
  };
  // Who times the function entered at a file offset: its operation's name
  // and first op id, by (device, inode, offset).
  struct EntryOwner {
    uint32_t first_op;
    std::string operation;
  };

  latency_bpf* skel_ = nullptr;
  memory_bpf* mem_ = nullptr;
  bool multi_ = false;
  std::map<uint32_t, OpModule> op_modules_;  // by first op id
  std::map<std::tuple<uint64_t, uint64_t, uint64_t>, EntryOwner> entries_;
  Links alloc_links_;
  size_t nr_ops_ = 0;
  size_t skipped_sites_ = 0;  // counted by AttachSingle, moved to the OpModule
  int nr_cpus_ = 0;
  int stats_fd_ = -1;  // keeps the kernel's BPF run-time statistics on
};

class ProbeSession::CalibrationProbe {
 public:
  ~CalibrationProbe() { Release(&links_); }
  CalibrationProbe(const CalibrationProbe&) = delete;
  CalibrationProbe& operator=(const CalibrationProbe&) = delete;

 private:
  friend class ProbeSession;
  CalibrationProbe() = default;
  Links links_;
};

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_PROBES_PROBE_SESSION_H_
