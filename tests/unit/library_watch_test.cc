// LibraryWatch against a fake kernel side and a fake /proc: the library
// coming, going and coming back in a process's mappings, as the watch sees
// it and says it (attach and detach calls, library_loaded/unloaded events,
// the report's "libraries"). The library is the real libgridkit, loaded into
// this process, so resolving its symbols is the real thing.
#include "userspace/probes/library_watch.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/fake_backend.h"

namespace gridprobe {
namespace {

using test_support::FakeBackend;
namespace fs = std::filesystem;

class LibraryWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    handle_ = dlopen(GRIDKIT_LIB, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << dlerror();
    library_ = fs::canonical(GRIDKIT_LIB).string();
    std::ifstream in("/proc/self/maps");
    std::string line;
    while (std::getline(in, line)) {
      (line.find(library_) != std::string::npos ? gridkit_lines_ : other_lines_) += line + "\n";
    }
    ASSERT_FALSE(gridkit_lines_.empty()) << library_ << " is not in /proc/self/maps";
    char tmpl[] = "/tmp/gridprobe-watch-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    proc_ = tmpl;
    pid_dir_ = absl::StrCat(proc_, "/", getpid());
    fs::create_directories(pid_dir_);
    // The process's root, through which the watch reads the library.
    fs::create_directory_symlink("/", pid_dir_ + "/root");
    auto preset = symbols::LoadLibraryPreset(
        "gridkit", {GRIDPROBE_SOURCE_PRESETS_DIR});
    ASSERT_TRUE(preset.ok()) << preset.status();
    preset_ = *preset;
    for (const auto& op : preset_.operations) {
      OpIdentity id;
      id.name = op.name;
      ids_.push_back(id);
    }
  }
  void TearDown() override {
    if (!proc_.empty()) fs::remove_all(proc_);
    if (handle_ != nullptr) dlclose(handle_);
  }

  void Maps(bool with_library) {
    std::ofstream out(pid_dir_ + "/maps", std::ios::trunc);
    out << other_lines_ << (with_library ? gridkit_lines_ : "");
  }

  LibraryWatch MakeWatch(uint32_t first_op = 0) {
    LibraryWatchOptions options;
    options.proc_root = proc_;
    return LibraryWatch(&backend_, getpid(), preset_, first_op, &ids_, options);
  }

  void* handle_ = nullptr;
  std::string library_, gridkit_lines_, other_lines_, proc_, pid_dir_;
  symbols::LibraryPreset preset_;
  std::vector<OpIdentity> ids_;
  FakeBackend backend_{0};
  absl::Time t0_ = absl::FromUnixSeconds(1700000000);
};

TEST_F(LibraryWatchTest, AttachesAtTheFirstPollAndSaysSo) {
  Maps(true);
  LibraryWatch watch = MakeWatch();
  auto attached = watch.Poll(t0_);
  ASSERT_TRUE(attached.ok()) << attached.status();
  EXPECT_TRUE(*attached);
  ASSERT_EQ(backend_.attaches_.size(), 1u);
  EXPECT_EQ(backend_.attaches_[0].pid, getpid());
  EXPECT_EQ(backend_.attaches_[0].path, library_);
  EXPECT_EQ(backend_.attaches_[0].ops, preset_.operations.size());
  for (const OpIdentity& id : ids_) EXPECT_EQ(id.module, library_) << id.name;

  EventList events;
  Snapshot window;
  watch.OnWindow(&window, &events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::kLibraryLoaded);
  EXPECT_EQ(events[0].figures["module"], library_);
  EXPECT_EQ(events[0].figures["probes"].get<size_t>(), 2 * preset_.operations.size());
  EXPECT_EQ(events[0].preset, "gridkit");
  // Said once: the next window has nothing new.
  events.clear();
  ASSERT_TRUE(watch.Poll(t0_ + absl::Seconds(1)).ok());
  watch.OnWindow(&window, &events);
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(backend_.attaches_.size(), 1u) << "attached again while still mapped";
}

TEST_F(LibraryWatchTest, AnUnloadDetachesAndAReloadAttachesAgain) {
  Maps(false);
  LibraryWatch watch = MakeWatch(/*first_op=*/8);
  auto attached = watch.Poll(t0_);
  ASSERT_TRUE(attached.ok()) << attached.status();
  EXPECT_FALSE(*attached) << "not mapped yet";
  EXPECT_TRUE(backend_.attaches_.empty());

  Maps(true);
  ASSERT_TRUE(*watch.Poll(t0_ + absl::Seconds(1)));
  ASSERT_EQ(backend_.attaches_.size(), 1u);
  EXPECT_EQ(backend_.attaches_[0].first_op, 8u);

  Maps(false);
  attached = watch.Poll(t0_ + absl::Seconds(2));
  ASSERT_TRUE(attached.ok());
  EXPECT_FALSE(*attached);
  EXPECT_EQ(backend_.detaches_, std::vector<uint32_t>{8}) << "only this preset's probes";

  Maps(true);
  ASSERT_TRUE(*watch.Poll(t0_ + absl::Seconds(3)));
  EXPECT_EQ(backend_.attaches_.size(), 2u);

  EventList events;
  Snapshot window;
  watch.OnWindow(&window, &events);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, EventKind::kLibraryLoaded);
  EXPECT_EQ(events[1].kind, EventKind::kLibraryUnloaded);
  EXPECT_EQ(events[1].severity, Severity::kWarning);
  EXPECT_EQ(events[1].figures["probes"].get<size_t>(), 2 * preset_.operations.size())
      << "the probes removed";
  EXPECT_EQ(events[2].kind, EventKind::kLibraryLoaded);
  EXPECT_EQ(events[1].time, t0_ + absl::Seconds(2));

  Snapshot run;
  run.start = t0_;
  nlohmann::json report;
  watch.AddToReport(run, &report);
  ASSERT_EQ(report["libraries"].size(), 1u);
  EXPECT_EQ(report["libraries"][0]["module"], library_);
  ASSERT_EQ(report["libraries"][0]["events"].size(), 3u);
  EXPECT_EQ(report["libraries"][0]["events"][1]["event"], "unloaded");
  EXPECT_DOUBLE_EQ(report["libraries"][0]["events"][1]["at_s"].get<double>(), 2.0);
  // One preset, and the library came and went: the single-preset key too.
  EXPECT_TRUE(report.contains("library"));
}

TEST_F(LibraryWatchTest, AProcessThatMapsNothingHasNotUnloadedIt) {
  Maps(true);
  LibraryWatch watch = MakeWatch();
  ASSERT_TRUE(*watch.Poll(t0_));
  { std::ofstream out(pid_dir_ + "/maps", std::ios::trunc); }  // exited, not reaped
  auto attached = watch.Poll(t0_ + absl::Seconds(1));
  ASSERT_TRUE(attached.ok());
  EXPECT_TRUE(*attached);
  EXPECT_TRUE(backend_.detaches_.empty());
}

TEST_F(LibraryWatchTest, AnAttachThatFailsLeavesItUnattachedAndSaysNothing) {
  Maps(true);
  backend_.attach_error_ = absl::PermissionDeniedError("attach uprobe: operation not permitted");
  LibraryWatch watch = MakeWatch();
  auto attached = watch.Poll(t0_);
  ASSERT_FALSE(attached.ok());
  EXPECT_NE(attached.status().message().find("not permitted"), std::string::npos);
  EventList events;
  Snapshot window;
  watch.OnWindow(&window, &events);
  EXPECT_TRUE(events.empty());
  // The next poll tries again.
  backend_.attach_error_ = absl::OkStatus();
  attached = watch.Poll(t0_ + absl::Seconds(1));
  ASSERT_TRUE(attached.ok()) << attached.status();
  EXPECT_TRUE(*attached);
}

TEST_F(LibraryWatchTest, AFileWithoutThePresetsSymbolsIsRefused) {
  // The preset's library name on another file: its symbols are not there.
  symbols::LibraryPreset other = preset_;
  other.operations[0].symbols = {"gridkit::Grid::noSuchFunction"};
  Maps(true);
  LibraryWatchOptions options;
  options.proc_root = proc_;
  LibraryWatch watch(&backend_, getpid(), other, 0, &ids_, options);
  auto attached = watch.Poll(t0_);
  ASSERT_FALSE(attached.ok());
  EXPECT_NE(attached.status().message().find("noSuchFunction"), std::string::npos)
      << attached.status();
  EXPECT_TRUE(backend_.attaches_.empty());
}

}  // namespace
}  // namespace gridprobe
