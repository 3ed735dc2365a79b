// The floor under allocation tracking: the probes `gridprobe --memory` puts
// on a process's allocator (same module, same functions, same moved entry
// sites, a uretprobe on every allocating function), each running an empty BPF
// program. What a malloc+free pair costs under it is the price of the traps
// alone; gridprobe's figure divided by it is what its own programs add.
//   alloc_floor PID   (root; prints "attached ...", detaches on SIGINT/SIGTERM)
#include <bpf/libbpf.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "base/status.h"
#include "latency.skel.h"
#include "symbols/allocator.h"
#include "userspace/calibration.h"

namespace gridprobe {
namespace {

std::string CacheDir() {
  const char* env = std::getenv("GRIDPROBE_CACHE_DIR");
  return env != nullptr && *env ? env : "/var/cache/gridprobe";
}

absl::Status Run(int pid) {
  // Block the stop signals before anything is attached, so none is lost.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop, nullptr);

  GP_ASSIGN_OR_RETURN(Calibration calibration, LoadOrMeasureCalibration(CacheDir()));
  GP_ASSIGN_OR_RETURN(symbols::AllocatorModule allocator,
                      symbols::ResolveAllocator(pid, calibration.emulated));
  latency_bpf* skel = latency_bpf::open_and_load();
  if (skel == nullptr)
    return ErrnoError(errno, "load the empty BPF program", ExitCode::kKernelUnsupported);
  std::vector<bpf_link*> links;
  absl::Cleanup cleanup = [&] {
    for (auto it = links.rbegin(); it != links.rend(); ++it) bpf_link__destroy(*it);
    latency_bpf::destroy(skel);
  };
  for (const symbols::AllocatorFunction& f : allocator.functions) {
    for (bool ret : {false, true}) {
      if (ret && f.kind == symbols::AllocKind::kFree) continue;
      LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret);
      bpf_link* link =
          bpf_program__attach_uprobe_opts(skel->progs.calibrate, pid, allocator.open_path.c_str(),
                                          f.symbol.entry.file_offset, &opts);
      if (link == nullptr) {
        return ErrnoError(
            errno,
            absl::StrFormat("attach %s to %s in %s (pid %d)", ret ? "uretprobe" : "uprobe", f.name,
                            allocator.path, pid),
            ExitCode::kAttachFailed);
      }
      links.push_back(link);
    }
  }
  std::printf("alloc_floor: attached %zu empty probes to %s in %s\n", links.size(),
              allocator.family.c_str(), allocator.path.c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  return absl::OkStatus();
}

}  // namespace
}  // namespace gridprobe

int main(int argc, char** argv) {
  int pid = 0;
  if (argc != 2 || !absl::SimpleAtoi(argv[1], &pid) || pid <= 0) {
    std::fprintf(stderr, "usage: alloc_floor PID\n");
    return static_cast<int>(gridprobe::ExitCode::kUsage);
  }
  absl::Status st = gridprobe::Run(pid);
  if (!st.ok()) {
    std::fprintf(stderr, "alloc_floor: %s\n", std::string(st.message()).c_str());
    return static_cast<int>(gridprobe::ExitCodeOf(st));
  }
  return 0;
}
