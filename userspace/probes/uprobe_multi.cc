#include "userspace/probes/uprobe_multi.h"

#include <bpf/btf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gridprobe {
namespace {

// The kernel's ABI, from include/uapi/linux/bpf.h: BPF_LINK_CREATE's leading
// fields, then the uprobe_multi member of its union.
struct UprobeMultiAttr {
  uint32_t prog_fd;
  uint32_t target_fd;
  uint32_t attach_type;
  uint32_t flags;
  uint64_t path;
  uint64_t offsets;
  uint64_t ref_ctr_offsets;
  uint64_t cookies;
  uint32_t cnt;
  uint32_t multi_flags;
  uint32_t pid;
  uint32_t pad;
};
static_assert(sizeof(UprobeMultiAttr) == 64, "bpf_attr.link_create layout");

}  // namespace

int CreateUprobeMulti(int prog_fd, int pid, const std::string& path,
                      const std::vector<uint64_t>& offsets, const std::vector<uint64_t>& cookies,
                      bool retprobe) {
  UprobeMultiAttr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_fd = static_cast<uint32_t>(prog_fd);
  attr.attach_type = kAttachUprobeMulti;
  attr.path = reinterpret_cast<uintptr_t>(path.c_str());
  attr.offsets = reinterpret_cast<uintptr_t>(offsets.data());
  attr.cookies = reinterpret_cast<uintptr_t>(cookies.data());
  attr.cnt = static_cast<uint32_t>(offsets.size());
  attr.multi_flags = retprobe ? kUprobeMultiReturn : 0;
  attr.pid = pid > 0 ? static_cast<uint32_t>(pid) : 0;  // 0: every process
  long fd = syscall(__NR_bpf, 28 /* BPF_LINK_CREATE */, &attr, sizeof(attr));
  return fd < 0 ? -errno : static_cast<int>(fd);
}

bool KernelHasUprobeMulti(const std::string& sysfs) {
  btf* vmlinux = btf__parse((sysfs + "/kernel/btf/vmlinux").c_str(), nullptr);
  if (vmlinux == nullptr) return false;
  bool found = false;
  int id = btf__find_by_name_kind(vmlinux, "bpf_attach_type", BTF_KIND_ENUM);
  if (id > 0) {
    const btf_type* t = btf__type_by_id(vmlinux, static_cast<uint32_t>(id));
    const struct btf_enum* e = btf_enum(t);
    for (uint16_t i = 0; i < btf_vlen(t) && !found; ++i) {
      const char* name = btf__name_by_offset(vmlinux, e[i].name_off);
      found = name != nullptr && std::strcmp(name, "BPF_TRACE_UPROBE_MULTI") == 0 &&
              e[i].val == static_cast<int32_t>(kAttachUprobeMulti);
    }
  }
  btf__free(vmlinux);
  return found;
}

void ExpectUprobeMulti(bpf_object* obj) {
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    bpf_program__set_expected_attach_type(prog,
                                          static_cast<bpf_attach_type>(kAttachUprobeMulti));
  }
}

}  // namespace gridprobe
