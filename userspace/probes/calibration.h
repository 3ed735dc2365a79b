// Which instructions the running kernel emulates for a uprobe, measured.
//
// A uprobe hit on an instruction the kernel can emulate costs one trap; on
// one it cannot, a second trap to single-step it out of line (10x dearer on
// virtual machines). Which is which depends on the kernel, so gridprobe
// measures it once per kernel release and caches the answer.
#ifndef GRIDPROBE_USERSPACE_PROBES_CALIBRATION_H_
#define GRIDPROBE_USERSPACE_PROBES_CALIBRATION_H_

#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "symbols/probe_sites.h"
#include "symbols/resolver.h"

namespace gridprobe {

struct Calibration {
  std::string kernel;                     // uname release
  std::map<std::string, double> ns_per_hit;  // instruction class -> cost of a probe hit
  std::set<std::string> emulated;         // classes within 3x of the cheapest
  // What a uretprobe adds to a call whose entry is already probed on an
  // emulated instruction: the return trampoline (fast return mode). 0 when
  // not measured.
  double uretprobe_return_ns = 0;
};

// Times a bare uprobe on each instruction class in this process. Root.
absl::StatusOr<Calibration> MeasureCalibration(int hits_per_class = 2000);

// The cached calibration for this kernel from `cache_dir`, measured and
// saved there first when missing or unreadable. A cache that cannot be
// written is not an error.
absl::StatusOr<Calibration> LoadOrMeasureCalibration(const std::string& cache_dir);

// $GRIDPROBE_CACHE_DIR, or /var/cache/gridprobe.
std::string CalibrationCacheDir();

// Entry-site policy for operation functions: only the stack pointer must be
// intact, and the kernel's measured emulation (loaded from the cache or
// measured now, into *calibration) decides where that is cheapest.
absl::StatusOr<symbols::EntryPolicy> OperationEntryPolicy(Calibration* calibration);

// The measured cost of a hit on the entry site of `s`; nullopt when its
// instruction class was not measured.
std::optional<double> EntryHitNs(const symbols::ResolvedSymbol& s, const Calibration& c);
// What timing one call of `s` costs in its return mode: the entry trap plus
// the return trampoline (fast) or the dearest exit trap (safe; a call
// leaves through one exit). nullopt when a part was not measured.
std::optional<double> ExpectedProbeNs(const symbols::ResolvedSymbol& s, const Calibration& c);

// "push 690 ns (emulated), ret 9600 ns, ..." for explanations.
std::string DescribeCalibration(const Calibration& c);

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_PROBES_CALIBRATION_H_
