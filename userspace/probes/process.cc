#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "userspace/probes/backend.h"

namespace gridprobe {

TargetInfo ReadTargetInfo(int pid) {
  TargetInfo t;
  t.pid = pid;
  std::ifstream comm(absl::StrCat("/proc/", pid, "/comm"));
  std::getline(comm, t.comm);
  char buf[4096];
  ssize_t n = readlink(absl::StrCat("/proc/", pid, "/exe").c_str(), buf, sizeof(buf) - 1);
  if (n > 0) t.exe = std::string(absl::StripSuffix(absl::string_view(buf, n), " (deleted)"));
  return t;
}

}  // namespace gridprobe
