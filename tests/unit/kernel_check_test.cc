// What a kernel without BTF or uprobes gets told. The checks run before any
// BPF call, so a fake /sys shows them without root.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "base/status.h"
#include "userspace/probes/probe_session.h"

namespace gridprobe {
namespace {

std::string FakeSys(bool btf, bool uprobe) {
  // mkdtemp, never a name derived from the pid: a directory left by an
  // earlier run whose process had the same pid would hold the other files.
  std::string tmpl = ::testing::TempDir() + "/fake-sys-XXXXXX";
  char* made = mkdtemp(tmpl.data());
  EXPECT_NE(made, nullptr) << "mkdtemp " << tmpl;
  std::string root = tmpl;
  mkdir((root + "/kernel").c_str(), 0755);
  mkdir((root + "/kernel/btf").c_str(), 0755);
  mkdir((root + "/bus").c_str(), 0755);
  mkdir((root + "/bus/event_source").c_str(), 0755);
  mkdir((root + "/bus/event_source/devices").c_str(), 0755);
  mkdir((root + "/bus/event_source/devices/uprobe").c_str(), 0755);
  if (btf) std::ofstream(root + "/kernel/btf/vmlinux") << "btf";
  if (uprobe) std::ofstream(root + "/bus/event_source/devices/uprobe/type") << "8\n";
  return root;
}

TEST(KernelCheck, NoBtf) {
  ProbeSessionOptions o;
  o.sysfs_root = FakeSys(false, true);
  auto s = ProbeSession::Create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(ExitCodeOf(s.status()), ExitCode::kKernelUnsupported);
  EXPECT_EQ(s.status().message(),
            "this kernel exposes no BTF (" + o.sysfs_root +
                "/kernel/btf/vmlinux is missing): gridprobe needs a kernel built with "
                "CONFIG_DEBUG_INFO_BTF=y");
}

TEST(KernelCheck, NoUprobes) {
  ProbeSessionOptions o;
  o.sysfs_root = FakeSys(true, false);
  auto s = ProbeSession::Create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(ExitCodeOf(s.status()), ExitCode::kKernelUnsupported);
  EXPECT_NE(s.status().message().find("CONFIG_UPROBE_EVENTS=y"), absl::string_view::npos);
}

}  // namespace
}  // namespace gridprobe
