#include "userspace/probe_session.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"
#include "latency.skel.h"
#include "memory.skel.h"

namespace gridprobe {
namespace {

// Destroys every link, from up to 16 threads at once.
void DestroyConcurrently(std::vector<bpf_link*> links) {
  constexpr size_t kThreads = 16;
  if (links.size() <= 1) {
    for (bpf_link* link : links) bpf_link__destroy(link);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::min(kThreads, links.size()); ++t) {
    threads.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < links.size();) bpf_link__destroy(links[i]);
    });
  }
  for (std::thread& t : threads) t.join();
}

static_assert(sizeof(op_hist) == 8 * (6 + HIST_BUCKETS), "op_hist layout changed");

bool g_verbose = false;

int PrintLibbpf(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (!g_verbose && level != LIBBPF_WARN) return 0;
  if (!g_verbose) return 0;  // warnings resurface as gridprobe's own errors
  return vfprintf(stderr, fmt, args);
}

absl::Status CheckKernel(const std::string& sysfs) {
  if (access((sysfs + "/kernel/btf/vmlinux").c_str(), R_OK) != 0) {
    return WithExitCode(
        absl::FailedPreconditionError(
            "this kernel exposes no BTF (" + sysfs +
            "/kernel/btf/vmlinux is missing): gridprobe needs a kernel built with "
            "CONFIG_DEBUG_INFO_BTF=y"),
        ExitCode::kKernelUnsupported);
  }
  if (access((sysfs + "/bus/event_source/devices/uprobe/type").c_str(), R_OK) != 0) {
    return WithExitCode(
        absl::FailedPreconditionError(
            "this kernel has no uprobe support (" + sysfs +
            "/bus/event_source/devices/uprobe is missing): gridprobe needs "
            "CONFIG_UPROBE_EVENTS=y"),
        ExitCode::kKernelUnsupported);
  }
  return absl::OkStatus();
}

absl::Status LoadError(int err) {
  if (err == EPERM || err == EACCES) {
    return WithExitCode(
        absl::PermissionDeniedError(
            "loading BPF programs was refused: run gridprobe as root (sudo), or grant it "
            "CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE"),
        ExitCode::kPermission);
  }
  return ErrnoError(err, "load BPF programs", ExitCode::kKernelUnsupported);
}

static_assert(sizeof(cat_stats) == 48, "cat_stats layout changed");
static_assert(sizeof(alloc_info) == 32, "alloc_info layout changed");
static_assert(sizeof(mem_counters) == 32, "mem_counters layout changed");

}  // namespace

const char* MemoryModeName(MemoryMode mode) {
  switch (mode) {
    case MemoryMode::kOff: return "off";
    case MemoryMode::kOps: return "ops";
    case MemoryMode::kFull: return "full";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<ProbeSession>> ProbeSession::Create(
    const ProbeSessionOptions& options) {
  GP_RETURN_IF_ERROR(CheckKernel(options.sysfs_root));
  g_verbose = options.verbose;
  libbpf_set_print(PrintLibbpf);

  std::unique_ptr<ProbeSession> s(new ProbeSession());
  s->nr_cpus_ = libbpf_num_possible_cpus();
  if (s->nr_cpus_ <= 0) return ErrnoError(-s->nr_cpus_, "count CPUs", ExitCode::kFailure);
  s->skel_ = latency_bpf::open();
  if (s->skel_ == nullptr) return LoadError(errno);
  int err = bpf_map__set_max_entries(s->skel_->maps.threads, options.max_threads);
  if (err) return ErrnoError(-err, "size the threads map", ExitCode::kFailure);
  err = latency_bpf::load(s->skel_);
  if (err) return LoadError(-err);
  if (options.memory != MemoryMode::kOff) {
    s->mem_ = memory_bpf::open();
    if (s->mem_ == nullptr) return LoadError(errno);
    // The memory programs read the latency programs' frame stacks.
    err = bpf_map__reuse_fd(s->mem_->maps.threads, bpf_map__fd(s->skel_->maps.threads));
    if (!err) err = bpf_map__set_max_entries(s->mem_->maps.threads, options.max_threads);
    if (!err) err = bpf_map__set_max_entries(s->mem_->maps.allocs, options.max_allocs);
    if (err) return ErrnoError(-err, "configure the memory maps", ExitCode::kFailure);
    s->mem_->rodata->track_unattributed = options.memory == MemoryMode::kFull;
    s->mem_->rodata->collect_stacks = options.alloc_stacks;
    err = memory_bpf::load(s->mem_);
    if (err) return LoadError(-err);
  }
  return s;
}

ProbeSession::~ProbeSession() {
  Detach();
  if (mem_ != nullptr) memory_bpf::destroy(mem_);
  if (skel_ != nullptr) latency_bpf::destroy(skel_);
}

absl::Status ProbeSession::AttachOne(bpf_program* prog, int pid, const std::string& path,
                                     const std::string& where, uint64_t offset, uint64_t cookie,
                                     bool retprobe, bool skippable) {
  LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookie, .retprobe = retprobe);
  bpf_link* link = bpf_program__attach_uprobe_opts(prog, pid, path.c_str(), offset, &opts);
  if (link != nullptr) {
    links_.push_back(link);
    return absl::OkStatus();
  }
  int err = errno;
  // The kernel cannot place a uprobe on some instructions (e.g. "notrack
  // jmp *%rax", a switch's jump table). An indirect jump is only an exit
  // when it is a tail call, so skipping it loses at most that path's
  // returns, which then show up as unwound frames; it is counted.
  if (err == 524 /* ENOTSUPP */ && skippable) {
    ++skipped_sites_;
    return absl::OkStatus();
  }
  std::string what = absl::StrFormat("attach %s to %s (pid %d)", retprobe ? "uretprobe" : "uprobe",
                                     where, pid);
  if (err == ESRCH) {
    return WithExitCode(absl::NotFoundError(absl::StrCat(what, ": the process exited")),
                        ExitCode::kNotFound);
  }
  return ErrnoError(err, what,
                    err == EPERM || err == EACCES ? ExitCode::kPermission
                                                  : ExitCode::kAttachFailed);
}

absl::Status ProbeSession::AttachAllocator(int pid, const symbols::AllocatorModule& allocator) {
  alloc_links_begin_ = links_.size();
  if (mem_ == nullptr) return absl::FailedPreconditionError("memory tracking is off");
  for (const symbols::AllocatorFunction& f : allocator.functions) {
    bpf_program* enter = nullptr;
    switch (f.kind) {
      case symbols::AllocKind::kMalloc: enter = mem_->progs.malloc_enter; break;
      case symbols::AllocKind::kCalloc: enter = mem_->progs.calloc_enter; break;
      case symbols::AllocKind::kRealloc: enter = mem_->progs.realloc_enter; break;
      case symbols::AllocKind::kReallocArray: enter = mem_->progs.reallocarray_enter; break;
      case symbols::AllocKind::kMemalign: enter = mem_->progs.memalign_enter; break;
      case symbols::AllocKind::kPosixMemalign: enter = mem_->progs.posix_memalign_enter; break;
      case symbols::AllocKind::kFree: enter = mem_->progs.free_enter; break;
    }
    const symbols::ResolvedSite& site = f.symbol.entry;
    std::string where = absl::StrFormat("%s+0x%x (%s) in %s", f.name, site.vaddr - f.symbol.vaddr,
                                        site.insn, allocator.path);
    absl::Status st = AttachOne(enter, pid, allocator.open_path, where, site.file_offset, 0,
                                false, false);
    // Nothing unwinds through an allocator, so its return is a plain
    // uretprobe, at the entry site where the return address is at sp.
    if (st.ok() && f.kind != symbols::AllocKind::kFree) {
      st = AttachOne(mem_->progs.alloc_exit, pid, allocator.open_path, where, site.file_offset,
                     0, true, false);
    }
    if (!st.ok()) {
      Detach();
      return st;
    }
  }
  return absl::OkStatus();
}

void ProbeSession::PauseMemory() {
  if (mem_ != nullptr) mem_->bss->paused = 1;
}

absl::StatusOr<MemoryCounters> ProbeSession::ReadMemory() const {
  MemoryCounters out;
  if (mem_ == nullptr) return out;
  out.categories.resize(nr_ops_ + 1);
  std::vector<cat_stats> per_cpu(static_cast<size_t>(nr_cpus_));
  int fd = bpf_map__fd(mem_->maps.cats);
  for (uint32_t cat = 0; cat < out.categories.size(); ++cat) {
    if (bpf_map_lookup_elem(fd, &cat, per_cpu.data()) != 0) {
      return ErrnoError(errno, "read the memory map", ExitCode::kFailure);
    }
    CategoryCounters& c = out.categories[cat];
    for (const cat_stats& v : per_cpu) {
      c.allocs += v.allocs;
      c.alloc_bytes += v.alloc_bytes;
      c.frees += v.frees;
      c.free_bytes += v.free_bytes;
      c.dropped += v.dropped;
      c.dropped_bytes += v.dropped_bytes;
    }
  }
  std::vector<mem_counters> counters(static_cast<size_t>(nr_cpus_));
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(mem_->maps.counters), &zero, counters.data()) != 0) {
    return ErrnoError(errno, "read the memory counters", ExitCode::kFailure);
  }
  for (const mem_counters& m : counters) {
    out.unknown_frees += m.unknown_frees;
    out.nested_calls += m.nested_calls;
    out.failed += m.failed;
    out.reused += m.reused;
  }
  return out;
}

absl::StatusOr<std::vector<LiveAllocation>> ProbeSession::ReadLiveAllocations() const {
  std::vector<LiveAllocation> out;
  if (mem_ == nullptr) return out;
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const uint64_t now = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
                       static_cast<uint64_t>(ts.tv_nsec);
  int fd = bpf_map__fd(mem_->maps.allocs);
  uint64_t key = 0, next = 0;
  uint64_t* prev = nullptr;
  alloc_info info;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    if (bpf_map_lookup_elem(fd, &next, &info) == 0) {
      out.push_back({next, info.size, now > info.ts_ns ? now - info.ts_ns : 0, info.caller,
                     info.stack_id, info.category});
    }
    key = next;
    prev = &key;
  }
  return out;
}

std::vector<uint64_t> ProbeSession::ReadStack(int32_t stack_id) const {
  std::vector<uint64_t> frames;
  if (mem_ == nullptr || stack_id < 0) return frames;
  uint64_t ips[GP_STACK_DEPTH] = {};
  uint32_t id = static_cast<uint32_t>(stack_id);
  if (bpf_map_lookup_elem(bpf_map__fd(mem_->maps.stacks), &id, ips) != 0) return frames;
  for (uint64_t ip : ips) {
    if (ip == 0) break;
    frames.push_back(ip);
  }
  return frames;
}

absl::Status ProbeSession::Attach(int pid, const symbols::ResolvedModule& module) {
  if (module.ops.size() > GP_MAX_OPS) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrFormat(
                            "%d operations: gridprobe times at most %d per run",
                            module.ops.size(), GP_MAX_OPS)),
                        ExitCode::kBadInput);
  }
  nr_ops_ = module.ops.size();
  auto attach_one = [&](bpf_program* prog, uint64_t op, const symbols::ResolvedSymbol& sym,
                        const symbols::ResolvedSite& site, bool retprobe) {
    std::string where = absl::StrFormat("%s+0x%x (%s) in %s", sym.demangled,
                                        site.vaddr - sym.vaddr, site.insn, module.path);
    return AttachOne(prog, pid, module.open_path, where, site.file_offset, op, retprobe,
                     site.kind == symbols::SiteKind::kIndirectJump);
  };
  for (size_t op = 0; op < module.ops.size(); ++op) {
    for (const symbols::ResolvedSymbol& sym : module.ops[op].symbols) {
      absl::Status st = attach_one(skel_->progs.op_enter, op, sym, sym.entry, false);
      if (sym.ret.mode == symbols::ReturnMode::kFast) {
        // The uretprobe shares the entry site: the kernel takes one trap for
        // both and reads the return address at sp, which nothing before the
        // entry site has moved (FindProbeSites keeps it intact).
        if (st.ok()) st = attach_one(skel_->progs.op_return, op, sym, sym.entry, true);
        if (st.ok()) ++fast_symbols_;
      } else {
        for (size_t i = 0; st.ok() && i < sym.exits.size(); ++i) {
          st = attach_one(skel_->progs.op_exit, op, sym, sym.exits[i], false);
        }
      }
      if (!st.ok()) {
        Detach();
        return st;
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Histogram>> ProbeSession::Read() const {
  std::vector<Histogram> out(nr_ops_);
  std::vector<op_hist> per_cpu(static_cast<size_t>(nr_cpus_));
  int fd = bpf_map__fd(skel_->maps.hists);
  for (uint32_t op = 0; op < nr_ops_; ++op) {
    if (bpf_map_lookup_elem(fd, &op, per_cpu.data()) != 0) {
      return ErrnoError(errno, "read the latency map", ExitCode::kFailure);
    }
    for (const op_hist& h : per_cpu) out[op].Add(h);
  }
  return out;
}

uint64_t ProbeSession::MissedHits() const {
  uint64_t missed = 0;
  for (bpf_program* prog : {skel_->progs.op_enter, skel_->progs.op_exit, skel_->progs.op_return}) {
    bpf_prog_info info;
    std::memset(&info, 0, sizeof(info));
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0) {
      missed += info.recursion_misses;
    }
  }
  return missed;
}

void ProbeSession::Detach() {
  // Removing a uprobe waits for an RCU grace period under the kernel's
  // event mutex, ~150 ms per probe here; from several threads at once
  // part of that overlaps (12 probes: 1.0 s instead of 1.9-2.3 s). The
  // allocator probes, attached last, go first: they read the state the
  // operation probes keep.
  DestroyConcurrently(std::vector<bpf_link*>(links_.begin() + alloc_links_begin_, links_.end()));
  links_.resize(alloc_links_begin_);
  DestroyConcurrently(std::move(links_));
  links_.clear();
  alloc_links_begin_ = 0;
}

}  // namespace gridprobe
