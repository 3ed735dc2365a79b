#include "userspace/probe_session.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"
#include "latency.skel.h"

namespace gridprobe {
namespace {

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

}  // namespace

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
  return s;
}

ProbeSession::~ProbeSession() {
  Detach();
  if (skel_ != nullptr) latency_bpf::destroy(skel_);
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
                        const symbols::ResolvedSite& site) -> absl::Status {
    LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = op, .retprobe = false);
    bpf_link* link = bpf_program__attach_uprobe_opts(prog, pid, module.open_path.c_str(),
                                                     site.file_offset, &opts);
    if (link == nullptr) {
      int err = errno;
      // The kernel cannot place a uprobe on some instructions (e.g. "notrack
      // jmp *%rax", a switch's jump table). An indirect jump is only an exit
      // when it is a tail call, so skipping it loses at most that path's
      // returns, which then show up as unwound frames; it is counted.
      if (err == 524 /* ENOTSUPP */ && site.kind == symbols::SiteKind::kIndirectJump) {
        ++skipped_sites_;
        return absl::OkStatus();
      }
      std::string what = absl::StrFormat("attach uprobe to %s+0x%x (%s) in %s (pid %d)",
                                         sym.demangled, site.vaddr - sym.vaddr, site.insn,
                                         module.path, pid);
      if (err == ESRCH) {
        return WithExitCode(absl::NotFoundError(absl::StrCat(what, ": the process exited")),
                            ExitCode::kNotFound);
      }
      return ErrnoError(err, what,
                        err == EPERM || err == EACCES ? ExitCode::kPermission
                                                      : ExitCode::kAttachFailed);
    }
    links_.push_back(link);
    return absl::OkStatus();
  };
  for (size_t op = 0; op < module.ops.size(); ++op) {
    for (const symbols::ResolvedSymbol& sym : module.ops[op].symbols) {
      absl::Status st = attach_one(skel_->progs.op_enter, op, sym, sym.entry);
      for (size_t i = 0; st.ok() && i < sym.exits.size(); ++i) {
        st = attach_one(skel_->progs.op_exit, op, sym, sym.exits[i]);
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
  for (bpf_program* prog : {skel_->progs.op_enter, skel_->progs.op_exit}) {
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
  for (bpf_link* link : links_) bpf_link__destroy(link);
  links_.clear();
}

}  // namespace gridprobe
