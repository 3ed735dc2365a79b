#include "userspace/probes/probe_session.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"
#include "latency.skel.h"
#include "memory.skel.h"
#include "userspace/probes/uprobe_multi.h"

namespace gridprobe {
namespace {

// Runs `release` on every item from up to 16 threads at once: removing a
// probe waits on the kernel, and the waits overlap.
template <typename T, typename F>
void ReleaseConcurrently(const std::vector<T>& items, F release) {
  constexpr size_t kThreads = 16;
  if (items.size() <= 1) {
    for (const T& item : items) release(item);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::min(kThreads, items.size()); ++t) {
    threads.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < items.size();) release(items[i]);
    });
  }
  for (std::thread& t : threads) t.join();
}

std::string WhichProcesses(int pid) {
  return pid > 0 ? absl::StrCat("pid ", pid) : "every process";
}

absl::Status AttachError(int err, const std::string& what) {
  if (err == ESRCH) {
    return WithExitCode(absl::NotFoundError(absl::StrCat(what, ": the process exited")),
                        ExitCode::kNotFound);
  }
  return ErrnoError(err, what,
                    err == EPERM || err == EACCES ? ExitCode::kPermission
                                                  : ExitCode::kAttachFailed);
}

static_assert(sizeof(op_hist) == 8 * (6 + HIST_BUCKETS), "op_hist layout changed");
static_assert(ProbeSession::kMaxOperations == GP_MAX_OPS, "kMaxOperations is GP_MAX_OPS");

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


absl::StatusOr<std::unique_ptr<ProbeSession>> ProbeSession::Create(
    const ProbeSessionOptions& options) {
  GP_RETURN_IF_ERROR(CheckKernel(options.sysfs_root));
  if (options.verbose) g_verbose = true;  // process-wide: a calibration session must not turn it off
  libbpf_set_print(PrintLibbpf);

  std::unique_ptr<ProbeSession> s(new ProbeSession());
  switch (options.links) {
    case LinkMode::kAuto: s->multi_ = KernelHasUprobeMulti(options.sysfs_root); break;
    case LinkMode::kMulti:
      if (!KernelHasUprobeMulti(options.sysfs_root)) {
        return WithExitCode(absl::FailedPreconditionError(
                                "this kernel has no uprobe_multi links (Linux 6.6 and later "
                                "have them): use --links single or auto"),
                            ExitCode::kKernelUnsupported);
      }
      s->multi_ = true;
      break;
    case LinkMode::kSingle: s->multi_ = false; break;
  }
  s->nr_cpus_ = libbpf_num_possible_cpus();
  if (s->nr_cpus_ <= 0) return ErrnoError(-s->nr_cpus_, "count CPUs", ExitCode::kFailure);
  s->skel_ = latency_bpf::open();
  if (s->skel_ == nullptr) return LoadError(errno);
  if (s->multi_) ExpectUprobeMulti(s->skel_->obj);
  int err = bpf_map__set_max_entries(s->skel_->maps.threads, options.max_threads);
  if (!err && options.max_processes > 0) {
    s->skel_->rodata->per_process = 1;
    err = bpf_map__set_max_entries(s->skel_->maps.proc_hists,
                                   options.max_processes * GP_MAX_OPS);
    if (!err) err = bpf_map__set_max_entries(s->skel_->maps.proc_comms, options.max_processes);
  }
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
    if (s->multi_) ExpectUprobeMulti(s->mem_->obj);
    err = memory_bpf::load(s->mem_);
    if (err) return LoadError(-err);
  }
  // The programs' run time, for the agent's own cost; the statistics stay
  // on while the fd is open. Refused on some kernels: then not measured.
  s->stats_fd_ = bpf_enable_stats(BPF_STATS_RUN_TIME);
  return s;
}

ProbeSession::~ProbeSession() {
  Detach();
  if (stats_fd_ >= 0) close(stats_fd_);
  if (mem_ != nullptr) memory_bpf::destroy(mem_);
  if (skel_ != nullptr) latency_bpf::destroy(skel_);
}

absl::Status ProbeSession::AttachSingle(int pid, const std::string& path, const Site& site,
                                        Links* links) {
  if (multi_) {
    int fd = CreateUprobeMulti(bpf_program__fd(site.prog), pid, path, {site.offset},
                               {site.cookie}, site.retprobe);
    if (fd >= 0) {
      links->multi.push_back(fd);
      ++links->probes;
    }
    errno = fd < 0 ? -fd : 0;
  } else {
    LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = site.cookie, .retprobe = site.retprobe);
    bpf_link* link =
        bpf_program__attach_uprobe_opts(site.prog, pid, path.c_str(), site.offset, &opts);
    if (link != nullptr) {
      links->perf.push_back(link);
      ++links->probes;
      errno = 0;
    }
  }
  int err = errno;
  if (err == 0) return absl::OkStatus();
  // The kernel cannot place a uprobe on some instructions (e.g. "notrack
  // jmp *%rax", a switch's jump table). An indirect jump is only an exit
  // when it is a tail call, so skipping it loses at most that path's
  // returns, which then show up as unwound frames; it is counted.
  if (err == 524 /* ENOTSUPP */ && site.skippable) {
    ++skipped_sites_;
    return absl::OkStatus();
  }
  return AttachError(err, absl::StrFormat("attach %s to %s (%s)",
                                          site.retprobe ? "uretprobe" : "uprobe", site.where,
                                          WhichProcesses(pid)));
}

absl::Status ProbeSession::AttachSites(int pid, const std::string& path,
                                       const std::vector<Site>& sites, Links* links) {
  Links made;
  auto fail = [&](absl::Status st) {
    Release(&made);
    return st;
  };
  // One link per program and direction, holding all of its sites: the
  // kernel registers them in one call and, at detach, waits once for all.
  // A site the kernel may refuse gets a link of its own, so that refusing
  // it costs only that site.
  std::map<std::pair<bpf_program*, bool>, std::vector<const Site*>> groups;
  for (const Site& site : sites) {
    if (!multi_ || site.skippable) {
      absl::Status st = AttachSingle(pid, path, site, &made);
      if (!st.ok()) return fail(st);
    } else {
      groups[{site.prog, site.retprobe}].push_back(&site);
    }
  }
  for (const auto& [key, group] : groups) {
    std::vector<uint64_t> offsets, cookies;
    for (const Site* site : group) {
      offsets.push_back(site->offset);
      cookies.push_back(site->cookie);
    }
    int fd = CreateUprobeMulti(bpf_program__fd(key.first), pid, path, offsets, cookies,
                               key.second);
    if (fd >= 0) {
      made.multi.push_back(fd);
      made.probes += group.size();
      continue;
    }
    // The kernel says what failed, not where: find the site by trying each
    // alone, so that the error names it.
    for (const Site* site : group) {
      Links probe;
      absl::Status st = AttachSingle(pid, path, *site, &probe);
      Release(&probe);
      if (!st.ok()) return fail(st);
    }
    return fail(AttachError(-fd, absl::StrFormat("attach %zu %s as one uprobe_multi link to %s "
                                                 "(%s)",
                                                 group.size(),
                                                 key.second ? "uretprobes" : "uprobes", path,
                                                 WhichProcesses(pid))));
  }
  links->perf.insert(links->perf.end(), made.perf.begin(), made.perf.end());
  links->multi.insert(links->multi.end(), made.multi.begin(), made.multi.end());
  links->probes += made.probes;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ProbeSession::CalibrationProbe>>
ProbeSession::AttachCalibrationProbe(const std::string& path, uint64_t offset, bool retprobe) {
  std::unique_ptr<CalibrationProbe> probe(new CalibrationProbe());
  Site site{skel_->progs.calibrate,
            absl::StrFormat("the calibration code at %#x", offset),
            offset,
            /*cookie=*/0,
            retprobe,
            /*skippable=*/false};
  GP_RETURN_IF_ERROR(AttachSingle(getpid(), path, site, &probe->links_));
  return probe;
}

void ProbeSession::Release(Links* links) {
  // Removing a perf-event uprobe waits for an RCU grace period while
  // holding the kernel's event mutex, ~150 ms per probe here; from several
  // threads at once part of that overlaps (12 probes: 1.0 s instead of
  // 1.9-2.3 s). A uprobe_multi link waits once for all of its probes.
  ReleaseConcurrently(links->multi, [](int fd) { close(fd); });
  ReleaseConcurrently(links->perf, [](bpf_link* link) { bpf_link__destroy(link); });
  *links = Links();
}

absl::Status ProbeSession::AttachAllocator(int pid, const symbols::AllocatorModule& allocator) {
  if (mem_ == nullptr) return absl::FailedPreconditionError("memory tracking is off");
  std::vector<Site> sites;
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
    sites.push_back({enter, where, site.file_offset, 0, false, false});
    // Nothing unwinds through an allocator, so its return is a plain
    // uretprobe, at the entry site where the return address is at sp.
    if (f.kind != symbols::AllocKind::kFree) {
      sites.push_back({mem_->progs.alloc_exit, where, site.file_offset, 0, true, false});
    }
  }
  return AttachSites(pid, allocator.open_path, sites, &alloc_links_);
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

absl::Status ProbeSession::Attach(int pid, const symbols::ResolvedModule& module,
                                  uint32_t first_op) {
  if (first_op + module.ops.size() > kMaxOperations) {
    return WithExitCode(absl::InvalidArgumentError(absl::StrFormat(
                            "%d operations: gridprobe times at most %d per run",
                            first_op + module.ops.size(), kMaxOperations)),
                        ExitCode::kBadInput);
  }
  // The file as the kernel knows it: one function of one file is one entry
  // site, whichever path or process names it.
  struct stat file;
  if (stat(module.open_path.c_str(), &file) != 0) {
    return ErrnoError(errno, absl::StrCat("read ", module.open_path), ExitCode::kNotFound);
  }
  // Probes are attached by path: the path must still name the file that was
  // resolved (and checked against the mapping), not one swapped in since.
  if (module.file_inode != 0 && (static_cast<uint64_t>(file.st_dev) != module.file_dev ||
                                 static_cast<uint64_t>(file.st_ino) != module.file_inode)) {
    return WithExitCode(
        absl::FailedPreconditionError(absl::StrCat(
            module.open_path, " was replaced by another file after its symbols were read; "
                              "no probe was attached: attach again")),
        ExitCode::kAttachFailed);
  }
  std::vector<std::tuple<uint64_t, uint64_t, uint64_t>> entries;
  std::vector<Site> sites;
  size_t fast = 0;
  for (size_t i = 0; i < module.ops.size(); ++i) {
    const uint64_t op = first_op + i;
    for (const symbols::ResolvedSymbol& sym : module.ops[i].symbols) {
      auto key = std::make_tuple(static_cast<uint64_t>(file.st_dev),
                                 static_cast<uint64_t>(file.st_ino), sym.entry.file_offset);
      auto owner = entries_.find(key);
      if (owner != entries_.end() && owner->second.first_op != first_op) {
        return WithExitCode(
            absl::InvalidArgumentError(absl::StrCat(
                sym.demangled, " in ", module.path, " is in operation '", module.ops[i].name,
                "' and in operation '", owner->second.operation,
                "' of another library preset; a function is timed for one operation per run: "
                "remove it from one of the presets")),
            ExitCode::kBadInput);
      }
      entries.push_back(key);
      auto site = [&](bpf_program* prog, const symbols::ResolvedSite& at, bool retprobe) {
        std::string where = absl::StrFormat("%s+0x%x (%s) in %s", sym.demangled,
                                            at.vaddr - sym.vaddr, at.insn, module.path);
        sites.push_back({prog, std::move(where), at.file_offset, op, retprobe,
                         at.kind == symbols::SiteKind::kIndirectJump});
      };
      site(skel_->progs.op_enter, sym.entry, false);
      if (sym.ret.mode == symbols::ReturnMode::kFast) {
        // The uretprobe shares the entry site: the kernel takes one trap for
        // both and reads the return address at sp, which nothing before the
        // entry site has moved (FindProbeSites keeps it intact).
        site(skel_->progs.op_return, sym.entry, true);
        ++fast;
      } else {
        for (const symbols::ResolvedSite& exit : sym.exits) site(skel_->progs.op_exit, exit, false);
      }
    }
  }
  OpModule& attached = op_modules_[first_op];
  skipped_sites_ = 0;
  absl::Status st = AttachSites(pid, module.open_path, sites, &attached.links);
  if (!st.ok()) {
    if (attached.links.probes == 0) op_modules_.erase(first_op);
    return st;
  }
  attached.fast_symbols += fast;
  attached.skipped_sites += skipped_sites_;
  for (size_t i = 0, k = 0; i < module.ops.size(); ++i) {
    for (size_t s = 0; s < module.ops[i].symbols.size(); ++s, ++k) {
      entries_.emplace(entries[k], EntryOwner{first_op, module.ops[i].name});
      attached.entries.push_back(entries[k]);
    }
  }
  nr_ops_ = std::max(nr_ops_, first_op + module.ops.size());
  return absl::OkStatus();
}

void ProbeSession::DetachOperations(uint32_t first_op) {
  auto it = op_modules_.find(first_op);
  if (it == op_modules_.end()) return;
  Release(&it->second.links);
  for (const auto& key : it->second.entries) entries_.erase(key);
  op_modules_.erase(it);
}

size_t ProbeSession::operation_probes() const {
  size_t probes = 0;
  for (const auto& [first_op, m] : op_modules_) probes += m.links.probes;
  return probes;
}

size_t ProbeSession::operation_probes(uint32_t first_op) const {
  auto it = op_modules_.find(first_op);
  return it == op_modules_.end() ? 0 : it->second.links.probes;
}

size_t ProbeSession::fast_symbols() const {
  size_t fast = 0;
  for (const auto& [first_op, m] : op_modules_) fast += m.fast_symbols;
  return fast;
}

size_t ProbeSession::skipped_sites() const {
  size_t skipped = 0;
  for (const auto& [first_op, m] : op_modules_) skipped += m.skipped_sites;
  return skipped;
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

absl::StatusOr<std::map<uint32_t, std::vector<Histogram>>> ProbeSession::ReadPerProcess() const {
  std::map<uint32_t, std::vector<Histogram>> out;
  if (skel_->rodata->per_process == 0) return out;
  std::vector<op_hist> per_cpu(static_cast<size_t>(nr_cpus_));
  int fd = bpf_map__fd(skel_->maps.proc_hists);
  proc_op_key key{}, next{};
  const proc_op_key* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    key = next;
    prev = &key;
    if (next.op >= nr_ops_) continue;
    // An entry deleted meanwhile is skipped; nothing deletes them.
    if (bpf_map_lookup_elem(fd, &next, per_cpu.data()) != 0) continue;
    std::vector<Histogram>& hists = out[next.tgid];
    hists.resize(nr_ops_);
    for (const op_hist& h : per_cpu) hists[next.op].Add(h);
  }
  return out;
}

std::string ProbeSession::ProcessName(uint32_t tgid) const {
  char comm[16] = {};
  if (skel_->rodata->per_process == 0 ||
      bpf_map_lookup_elem(bpf_map__fd(skel_->maps.proc_comms), &tgid, comm) != 0) {
    return "";
  }
  return std::string(comm, strnlen(comm, sizeof(comm)));
}

bool ProbeSession::TrackProcess(uint32_t tgid) {
  if (skel_->rodata->per_process == 0) return false;
  const std::vector<op_hist> zero(static_cast<size_t>(nr_cpus_));
  int fd = bpf_map__fd(skel_->maps.proc_hists);
  for (uint32_t op = 0; op < nr_ops_; ++op) {
    proc_op_key key{tgid, op};
    if (bpf_map_update_elem(fd, &key, zero.data(), BPF_NOEXIST) != 0 && errno != EEXIST) {
      return false;
    }
  }
  return true;
}

uint64_t ProbeSession::PerProcessOverflow() const {
  std::vector<uint64_t> per_cpu(static_cast<size_t>(nr_cpus_));
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.proc_overflow), &zero, per_cpu.data()) != 0) {
    return 0;
  }
  uint64_t sum = 0;
  for (uint64_t v : per_cpu) sum += v;
  return sum;
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

ProgramStats ProbeSession::ReadProgramStats() const {
  ProgramStats stats;
  stats.enabled = stats_fd_ >= 0;
  for (bpf_object* obj : {skel_ != nullptr ? skel_->obj : nullptr,
                          mem_ != nullptr ? mem_->obj : nullptr}) {
    if (obj == nullptr) continue;
    bpf_program* prog;
    bpf_object__for_each_program(prog, obj) {
      bpf_prog_info info;
      std::memset(&info, 0, sizeof(info));
      uint32_t len = sizeof(info);
      if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0) {
        stats.run_ns += info.run_time_ns;
        stats.run_count += info.run_cnt;
      }
    }
  }
  return stats;
}

void ProbeSession::Detach() {
  // The allocator probes, attached last, go first: they read the state the
  // operation probes keep.
  Release(&alloc_links_);
  for (auto& [first_op, m] : op_modules_) Release(&m.links);
  op_modules_.clear();
  entries_.clear();
}

}  // namespace gridprobe
