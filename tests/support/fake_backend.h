// The kernel side as a fake, for unit tests of what sits on ProbeBackend
// (the agent loop, the library watches): every Read() counts one more call
// of each operation, and every Attach/Detach is recorded.
#ifndef GRIDPROBE_TESTS_SUPPORT_FAKE_BACKEND_H_
#define GRIDPROBE_TESTS_SUPPORT_FAKE_BACKEND_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "userspace/probes/backend.h"

namespace gridprobe::test_support {

class FakeBackend : public ProbeBackend {
 public:
  explicit FakeBackend(size_t ops) : hists_(ops) {}

  struct AttachCall {
    int pid;
    std::string path;
    uint32_t first_op;
    size_t ops;
  };

  // Two probes per operation of each module attached, as entry + exit.
  absl::Status Attach(int pid, const symbols::ResolvedModule& module, uint32_t first_op) override {
    attaches_.push_back({pid, module.path, first_op, module.ops.size()});
    if (!attach_error_.ok()) return attach_error_;
    probes_[first_op] = 2 * module.ops.size();
    return absl::OkStatus();
  }
  void DetachOperations(uint32_t first_op) override {
    detaches_.push_back(first_op);
    probes_.erase(first_op);
  }
  size_t operation_probes(uint32_t first_op) const override {
    auto it = probes_.find(first_op);
    return it == probes_.end() ? 0 : it->second;
  }
  size_t operation_probes() const override {
    size_t n = 0;
    for (const auto& [first, probes] : probes_) n += probes;
    return n;
  }
  absl::StatusOr<std::vector<Histogram>> Read() const override {
    for (size_t i = 0; i < hists_.size(); ++i) hists_[i].Record(1000 * (i + 1));
    ++reads_;
    return hists_;
  }
  bool memory_tracked() const override { return false; }
  absl::StatusOr<MemoryCounters> ReadMemory() const override { return MemoryCounters{}; }
  void PauseMemory() override {}
  uint64_t MissedHits() const override { return missed_; }
  size_t probe_count() const override { return detached_ ? 0 : 2; }
  ProgramStats ReadProgramStats() const override { return {true, 100 * reads_, reads_}; }
  absl::StatusOr<std::map<uint32_t, std::vector<Histogram>>> ReadPerProcess() const override {
    return std::map<uint32_t, std::vector<Histogram>>();
  }
  bool TrackProcess(uint32_t) override { return true; }
  std::string ProcessName(uint32_t) const override { return ""; }
  uint64_t PerProcessOverflow() const override { return 0; }
  void Detach() override {
    detached_ = true;
    probes_.clear();
  }

  mutable std::vector<Histogram> hists_;
  mutable uint64_t reads_ = 0;
  uint64_t missed_ = 0;
  bool detached_ = false;
  absl::Status attach_error_;  // what Attach answers
  std::vector<AttachCall> attaches_;
  std::vector<uint32_t> detaches_;
  std::map<uint32_t, size_t> probes_;  // by first op id
};

}  // namespace gridprobe::test_support

#endif  // GRIDPROBE_TESTS_SUPPORT_FAKE_BACKEND_H_
