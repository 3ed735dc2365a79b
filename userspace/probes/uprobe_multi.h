// uprobe_multi links (Linux 6.6): every site of one program in one file in a
// single link, attached in one call and removed with one wait for the
// kernel. libbpf 1.1.2 and Debian 12's kernel headers predate them, so they
// are made with the bpf() syscall.
#ifndef GRIDPROBE_USERSPACE_PROBES_UPROBE_MULTI_H_
#define GRIDPROBE_USERSPACE_PROBES_UPROBE_MULTI_H_

#include <bpf/libbpf.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gridprobe {

constexpr uint32_t kAttachUprobeMulti = 48;  // BPF_TRACE_UPROBE_MULTI
constexpr uint32_t kUprobeMultiReturn = 1;   // BPF_F_UPROBE_MULTI_RETURN

// Whether the running kernel knows uprobe_multi links: its BTF (under
// `sysfs`) lists BPF_TRACE_UPROBE_MULTI among the attach types.
bool KernelHasUprobeMulti(const std::string& sysfs = "/sys");

// Loads every program of `obj` for uprobe_multi links: such a program reads
// its cookie from the link, so the choice is made before loading.
// REQUIRES: `obj` is opened, not loaded.
void ExpectUprobeMulti(bpf_object* obj);

// Attaches the loaded program `prog_fd` at `offsets` in the file at `path`
// (cookies[i] for offsets[i]), as return probes when `retprobe`, for process
// `pid` only (pid <= 0: every process that maps the file). Returns the
// link's fd, which removes every probe when closed, or -errno.
int CreateUprobeMulti(int prog_fd, int pid, const std::string& path,
                      const std::vector<uint64_t>& offsets, const std::vector<uint64_t>& cookies,
                      bool retprobe);

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_PROBES_UPROBE_MULTI_H_
