// The floor under allocation tracking: the probes `gridprobe --memory` puts
// on a process's allocator (same module, same functions, same moved entry
// sites, a uretprobe on every allocating function), each running an empty BPF
// program. What a malloc+free pair costs under it is the price of the traps
// alone; gridprobe's figure divided by it is what its own programs add.
// Links as gridprobe makes them: uprobe_multi where the kernel has them
// ("multi", the default there), or one perf-event link per probe ("single").
//   alloc_floor PID [multi|single]
//   (root; prints "attached ...", detaches on SIGINT/SIGTERM)
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
#include "userspace/probes/calibration.h"
#include "userspace/probes/uprobe_multi.h"

namespace gridprobe {
namespace {

std::string CacheDir() {
  const char* env = std::getenv("GRIDPROBE_CACHE_DIR");
  return env != nullptr && *env ? env : "/var/cache/gridprobe";
}

absl::Status Run(int pid, bool multi) {
  // Block the stop signals before anything is attached, so none is lost.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop, nullptr);

  GP_ASSIGN_OR_RETURN(Calibration calibration, LoadOrMeasureCalibration(CacheDir()));
  GP_ASSIGN_OR_RETURN(symbols::AllocatorModule allocator,
                      symbols::ResolveAllocator(pid, calibration.emulated));
  latency_bpf* skel = latency_bpf::open();
  if (skel != nullptr && multi) ExpectUprobeMulti(skel->obj);
  if (skel == nullptr || latency_bpf::load(skel) != 0) {
    return ErrnoError(errno, "load the empty BPF program", ExitCode::kKernelUnsupported);
  }
  std::vector<bpf_link*> links;
  std::vector<int> multi_links;
  absl::Cleanup cleanup = [&] {
    for (int fd : multi_links) close(fd);
    for (auto it = links.rbegin(); it != links.rend(); ++it) bpf_link__destroy(*it);
    latency_bpf::destroy(skel);
  };
  size_t probes = 0;
  for (const symbols::AllocatorFunction& f : allocator.functions) {
    for (bool ret : {false, true}) {
      if (ret && f.kind == symbols::AllocKind::kFree) continue;
      const std::string what =
          absl::StrFormat("attach %s to %s in %s (pid %d)", ret ? "uretprobe" : "uprobe", f.name,
                          allocator.path, pid);
      if (multi) {
        int fd = CreateUprobeMulti(bpf_program__fd(skel->progs.calibrate), pid,
                                   allocator.open_path, {f.symbol.entry.file_offset}, {0}, ret);
        if (fd < 0) return ErrnoError(-fd, what, ExitCode::kAttachFailed);
        multi_links.push_back(fd);
      } else {
        LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret);
        bpf_link* link = bpf_program__attach_uprobe_opts(
            skel->progs.calibrate, pid, allocator.open_path.c_str(), f.symbol.entry.file_offset,
            &opts);
        if (link == nullptr) return ErrnoError(errno, what, ExitCode::kAttachFailed);
        links.push_back(link);
      }
      ++probes;
    }
  }
  std::printf("alloc_floor: attached %zu empty probes to %s in %s (%s links)\n", probes,
              allocator.family.c_str(), allocator.path.c_str(), multi ? "uprobe_multi" : "perf-event");
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  return absl::OkStatus();
}

}  // namespace
}  // namespace gridprobe

int main(int argc, char** argv) {
  int pid = 0;
  const std::string links = argc > 2 ? argv[2] : "";
  if (argc < 2 || argc > 3 || !absl::SimpleAtoi(argv[1], &pid) || pid <= 0 ||
      (argc == 3 && links != "multi" && links != "single")) {
    std::fprintf(stderr, "usage: alloc_floor PID [multi|single]\n");
    return static_cast<int>(gridprobe::ExitCode::kUsage);
  }
  const bool multi = argc == 3 ? links == "multi" : gridprobe::KernelHasUprobeMulti();
  absl::Status st = gridprobe::Run(pid, multi);
  if (!st.ok()) {
    std::fprintf(stderr, "alloc_floor: %s\n", std::string(st.message()).c_str());
    return static_cast<int>(gridprobe::ExitCodeOf(st));
  }
  return 0;
}
