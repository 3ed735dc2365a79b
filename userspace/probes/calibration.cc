#include "userspace/probes/calibration.h"

#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "symbols/proc_maps.h"
#include "base/files.h"
#include "userspace/probes/probe_session.h"

// One tiny function per instruction class, the class's instruction first.
extern "C" {
long gp_calib_push(long);
long gp_calib_nop(long);
long gp_calib_jcc(long);
long gp_calib_jmp(long);
long gp_calib_call(long);
long gp_calib_mov(long);
long gp_calib_lea(long);
long gp_calib_test(long);
long gp_calib_sub(long);
long gp_calib_ret(long);
long gp_calib_endbr64(long);
}

asm(R"(
  .text
  .p2align 4
gp_calib_push:
  push %rbp
  pop %rbp
  ret
  .p2align 4
gp_calib_nop:
  nopl 0x0(%rax,%rax,1)
  ret
  .p2align 4
gp_calib_jcc:
  je 1f
1:ret
  .p2align 4
gp_calib_jmp:
  jmp 1f
1:ret
  .p2align 4
gp_calib_call:
  call 1f
1:add $8, %rsp
  ret
  .p2align 4
gp_calib_mov:
  mov %rdi, %rax
  ret
  .p2align 4
gp_calib_lea:
  lea 1(%rdi), %rax
  ret
  .p2align 4
gp_calib_test:
  test %rdi, %rdi
  ret
  .p2align 4
gp_calib_sub:
  sub $8, %rsp
  add $8, %rsp
  ret
  .p2align 4
gp_calib_ret:
  ret
  .p2align 4
gp_calib_endbr64:
  endbr64
  ret
)");

namespace gridprobe {
namespace {

struct Probe {
  const char* cls;
  long (*fn)(long);
};

constexpr Probe kProbes[] = {
    {"push", gp_calib_push}, {"nop", gp_calib_nop},   {"jcc", gp_calib_jcc},
    {"jmp", gp_calib_jmp},   {"call", gp_calib_call}, {"mov", gp_calib_mov},
    {"lea", gp_calib_lea},   {"test", gp_calib_test}, {"sub", gp_calib_sub},
    {"ret", gp_calib_ret},   {"endbr64", gp_calib_endbr64}};

double NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double TimeCalls(long (*fn)(long), int n) {
  volatile long sink = 0;
  double t0 = NowNs();
  for (int i = 0; i < n; ++i) sink = fn(sink);
  return (NowNs() - t0) / n;
}

constexpr char kSelf[] = "/proc/self/exe";

std::string KernelRelease() {
  utsname u;
  return uname(&u) == 0 ? u.release : "unknown";
}

uint64_t FileOffsetOf(const std::vector<symbols::Mapping>& maps, uint64_t addr) {
  for (const symbols::Mapping& m : maps) {
    if (addr >= m.start && addr < m.end && !m.path.empty()) return addr - m.start + m.file_offset;
  }
  return 0;
}

// A uprobe on the push of gp_calib_push, alone and then with a uretprobe at
// the same site (one trap for both): the difference is the return's cost.
// A difference of two timings is noisy on a busy machine (a trap's return is
// a preemption point), so it is measured in alternating rounds and the median
// kept.
absl::Status MeasureReturnTrampoline(ProbeSession& session,
                                     const std::vector<symbols::Mapping>& maps, int hits,
                                     Calibration* c) {
  uint64_t offset = FileOffsetOf(maps, reinterpret_cast<uint64_t>(gp_calib_push));
  if (offset == 0) return absl::InternalError("calibration code is not in a file mapping");
  GP_ASSIGN_OR_RETURN(auto entry, session.AttachCalibrationProbe(kSelf, offset, false));
  constexpr int kRounds = 7;
  std::vector<double> diffs;
  for (int round = 0; round < kRounds; ++round) {
    double entry_only = TimeCalls(gp_calib_push, hits);
    double both = 0;
    {
      GP_ASSIGN_OR_RETURN(auto ret, session.AttachCalibrationProbe(kSelf, offset, true));
      both = TimeCalls(gp_calib_push, hits);
    }
    diffs.push_back(both - entry_only);
  }
  std::sort(diffs.begin(), diffs.end());
  c->uretprobe_return_ns = std::max(1.0, diffs[kRounds / 2]);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Calibration> MeasureCalibration(int hits_per_class) {
  // The probes are made by a session of their own, the way every probe is.
  GP_ASSIGN_OR_RETURN(std::unique_ptr<ProbeSession> session,
                      ProbeSession::Create(ProbeSessionOptions{}));
  GP_ASSIGN_OR_RETURN(std::vector<symbols::Mapping> maps, symbols::ReadMaps(getpid()));
  Calibration c;
  c.kernel = KernelRelease();
  for (const Probe& p : kProbes) {
    uint64_t offset = FileOffsetOf(maps, reinterpret_cast<uint64_t>(p.fn));
    if (offset == 0) return absl::InternalError("calibration code is not in a file mapping");
    double base = TimeCalls(p.fn, hits_per_class);
    GP_ASSIGN_OR_RETURN(auto probe, session->AttachCalibrationProbe(kSelf, offset, false));
    double probed = TimeCalls(p.fn, hits_per_class);
    c.ns_per_hit[p.cls] = std::max(0.0, probed - base);
  }
  GP_RETURN_IF_ERROR(MeasureReturnTrampoline(*session, maps, hits_per_class, &c));
  double cheapest = 1e300;
  for (const auto& [cls, ns] : c.ns_per_hit) cheapest = std::min(cheapest, ns);
  for (const auto& [cls, ns] : c.ns_per_hit) {
    if (ns <= 3 * cheapest) c.emulated.insert(cls);
  }
  return c;
}

absl::StatusOr<Calibration> LoadOrMeasureCalibration(const std::string& cache_dir) {
  const std::string release = KernelRelease();
  const std::string path = absl::StrCat(cache_dir, "/uprobe-calibration-", release, ".json");
  std::ifstream in(path);
  if (in) {
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (!j.is_discarded() && j.value("kernel", "") == release && j.contains("ns_per_hit") &&
        j.contains("emulated") && j.contains("uretprobe_return_ns")) {
      Calibration c;
      c.kernel = release;
      c.uretprobe_return_ns = j["uretprobe_return_ns"].get<double>();
      for (const auto& [cls, ns] : j["ns_per_hit"].items()) c.ns_per_hit[cls] = ns.get<double>();
      for (const auto& cls : j["emulated"]) c.emulated.insert(cls.get<std::string>());
      return c;
    }
  }
  GP_ASSIGN_OR_RETURN(Calibration c, MeasureCalibration());
  nlohmann::json j = {{"kernel", c.kernel},
                      {"ns_per_hit", c.ns_per_hit},
                      {"emulated", c.emulated},
                      {"uretprobe_return_ns", c.uretprobe_return_ns}};
  mkdir(cache_dir.c_str(), 0755);
  (void)WriteFileAtomically(path, j.dump(2) + "\n");  // best effort: next run measures again
  return c;
}

namespace {
std::optional<double> HitNs(const std::string& insn, const Calibration& c) {
  auto it = c.ns_per_hit.find(symbols::InsnClass(insn.substr(0, insn.find(' '))));
  if (it == c.ns_per_hit.end()) return std::nullopt;
  return it->second;
}
}  // namespace

std::optional<double> EntryHitNs(const symbols::ResolvedSymbol& s, const Calibration& c) {
  return HitNs(s.entry.insn, c);
}

std::optional<double> ExpectedProbeNs(const symbols::ResolvedSymbol& s, const Calibration& c) {
  std::optional<double> entry = EntryHitNs(s, c);
  if (!entry) return std::nullopt;
  if (s.ret.mode == symbols::ReturnMode::kFast) {
    if (c.uretprobe_return_ns <= 0) return std::nullopt;
    return *entry + c.uretprobe_return_ns;
  }
  double exit = 0;
  for (const symbols::ResolvedSite& e : s.exits) {
    std::optional<double> ns = HitNs(e.insn, c);
    if (!ns) return std::nullopt;
    exit = std::max(exit, *ns);
  }
  return *entry + exit;
}

std::string DescribeCalibration(const Calibration& c) {
  std::vector<std::pair<double, std::string>> sorted;
  for (const auto& [cls, ns] : c.ns_per_hit) sorted.emplace_back(ns, cls);
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> parts;
  for (const auto& [ns, cls] : sorted) {
    parts.push_back(absl::StrFormat("%s %.0f ns%s", cls, ns, c.emulated.count(cls) ? "" : " (single-stepped)"));
  }
  std::string out =
      absl::StrCat("uprobe hit cost on kernel ", c.kernel, ": ", absl::StrJoin(parts, ", "));
  if (c.uretprobe_return_ns > 0) {
    absl::StrAppendFormat(&out, "; uretprobe return %.0f ns", c.uretprobe_return_ns);
  }
  return out;
}

std::string CalibrationCacheDir() {
  const char* env = std::getenv("GRIDPROBE_CACHE_DIR");
  return env != nullptr && *env ? env : "/var/cache/gridprobe";
}

absl::StatusOr<symbols::EntryPolicy> OperationEntryPolicy(Calibration* calibration) {
  GP_ASSIGN_OR_RETURN(*calibration, LoadOrMeasureCalibration(CalibrationCacheDir()));
  symbols::EntryPolicy policy;
  policy.emulated = calibration->emulated;
  return policy;
}

}  // namespace gridprobe
