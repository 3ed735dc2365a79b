// A scratch file per fuzzer process: the ELF readers open files by path, so
// each input is written to one before it is read.
#ifndef GRIDPROBE_FUZZ_FUZZ_FILE_H_
#define GRIDPROBE_FUZZ_FUZZ_FILE_H_

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

namespace gridprobe::fuzz {

// Writes `data` to `name` in a private directory made for this process and
// returns its path. The directory holds nothing else, so a debuglink or
// build-id lookup beside the file finds only the file itself.
inline std::string WriteInput(const char* name, const uint8_t* data, size_t size) {
  struct ScratchDir {
    ScratchDir() {
      char tmpl[] = "/tmp/gridprobe-fuzz-XXXXXX";
      if (mkdtemp(tmpl) == nullptr) __builtin_trap();
      path = tmpl;
    }
    ~ScratchDir() {
      for (const std::string& f : files) unlink(f.c_str());
      rmdir(path.c_str());
    }
    std::string path;
    std::vector<std::string> files;
  };
  static ScratchDir dir;
  const std::string path = dir.path + "/" + name;
  if (dir.files.empty() || dir.files.back() != path) dir.files.push_back(path);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) __builtin_trap();
  for (size_t done = 0; done < size;) {
    ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) __builtin_trap();
    done += static_cast<size_t>(n);
  }
  close(fd);
  return path;
}

// Errors are one line.
inline void CheckOneLine(absl::string_view message) {
  if (message.find('\n') != absl::string_view::npos) __builtin_trap();
}

}  // namespace gridprobe::fuzz

#endif  // GRIDPROBE_FUZZ_FUZZ_FILE_H_
