// Which arrangement of probes times a function's return most cheaply on the
// running kernel. Times, in this process, a function with the distribution
// prologue (endbr64; push %rbp; ...; call; ...; ret) under each arrangement
// built from gridprobe's own programs, in alternating rounds, and prints the
// median ns per call. Root.
//   return_sites [calls-per-round] [rounds]
#include <bpf/libbpf.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "latency.skel.h"
#include "symbols/proc_maps.h"

extern "C" long gp_rs_fn(long);
extern "C" long gp_rs_inner(long);
extern "C" char gp_rs_ret[];

asm(R"(
  .text
  .p2align 4
gp_rs_inner:
  lea 1(%rdi), %rax
  ret
  .p2align 4
  .globl gp_rs_fn
gp_rs_fn:
  endbr64
  push %rbp
  mov %rsp, %rbp
  call gp_rs_inner
  add $1, %rax
  pop %rbp
  .globl gp_rs_ret
gp_rs_ret:
  ret
)");

namespace {

double NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double TimeCalls(long calls) {
  volatile long sink = 0;
  double t0 = NowNs();
  for (long i = 0; i < calls; ++i) sink = gp_rs_fn(sink);
  return (NowNs() - t0) / static_cast<double>(calls);
}

struct Probe {
  bpf_program* prog;
  bool retprobe;
  uint64_t offset_in_fn;  // 0: endbr64, 4: push
};

struct Arrangement {
  const char* name;
  std::vector<Probe> probes;
};

}  // namespace

int main(int argc, char** argv) {
  long calls = argc > 1 ? std::atol(argv[1]) : 20000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  latency_bpf* skel = latency_bpf::open_and_load();
  if (skel == nullptr) {
    std::fprintf(stderr, "return_sites: cannot load the BPF programs (root?)\n");
    return 4;
  }
  auto maps = gridprobe::symbols::ReadMaps(getpid());
  uint64_t base = 0;
  uint64_t addr = reinterpret_cast<uint64_t>(gp_rs_fn);
  if (maps.ok()) {
    for (const auto& m : *maps) {
      if (addr >= m.start && addr < m.end && !m.path.empty()) base = addr - m.start + m.file_offset;
    }
  }
  if (base == 0) {
    std::fprintf(stderr, "return_sites: the benchmark function is not in a file mapping\n");
    return 1;
  }
  bpf_program* enter = skel->progs.op_enter;
  bpf_program* ret = skel->progs.op_return;
  bpf_program* exit = skel->progs.op_exit;
  const uint64_t ret_at = reinterpret_cast<uint64_t>(gp_rs_ret) - addr;
  const std::vector<Arrangement> arrangements = {
      {"none", {}},
      {"empty program @+4 (the trap alone)", {{skel->progs.calibrate, false, 4}}},
      {"empty program @+4 + empty uretprobe @+4", {{skel->progs.calibrate, false, 4},
                                                   {skel->progs.calibrate, true, 4}}},
      {"entry uprobe @+4 only (push, emulated)", {{enter, false, 4}}},
      {"entry uprobe @+0 only (endbr64, single-stepped)", {{enter, false, 0}}},
      {"fast: entry @+4 + uretprobe @+4 (one trap)", {{enter, false, 4}, {ret, true, 4}}},
      {"entry @+4 + uretprobe @+0 (two entry traps)", {{enter, false, 4}, {ret, true, 0}}},
      {"entry @+0 + uretprobe @+0 (bpftrace's sites)", {{enter, false, 0}, {ret, true, 0}}},
      {"safe: entry @+4 + uprobe on ret", {{enter, false, 4}, {exit, false, ret_at}}},
  };
  std::vector<std::vector<double>> ns(arrangements.size());
  for (int r = 0; r < rounds; ++r) {
    for (size_t a = 0; a < arrangements.size(); ++a) {
      std::vector<bpf_link*> links;
      bool ok = true;
      for (const Probe& p : arrangements[a].probes) {
        LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = p.retprobe);
        bpf_link* l = bpf_program__attach_uprobe_opts(p.prog, getpid(), "/proc/self/exe",
                                                      base + p.offset_in_fn, &opts);
        if (l == nullptr) ok = false;
        else links.push_back(l);
      }
      if (!ok) {
        std::fprintf(stderr, "return_sites: cannot attach '%s'\n", arrangements[a].name);
        return 9;
      }
      ns[a].push_back(TimeCalls(calls));
      for (bpf_link* l : links) bpf_link__destroy(l);
    }
  }
  std::printf("ns per call, median of %d rounds of %ld calls\n", rounds, calls);
  for (size_t a = 0; a < arrangements.size(); ++a) {
    std::sort(ns[a].begin(), ns[a].end());
    std::printf("  %-50s %9.1f\n", arrangements[a].name, ns[a][ns[a].size() / 2]);
  }
  latency_bpf::destroy(skel);
  return 0;
}
