// Turns addresses in the target into "function (module)" names, also after
// the target exited: the map and the ELF files are taken at construction.
#ifndef GRIDPROBE_USERSPACE_PROBES_SYMBOLIZER_H_
#define GRIDPROBE_USERSPACE_PROBES_SYMBOLIZER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "symbols/elf_file.h"
#include "symbols/proc_maps.h"

namespace gridprobe {

class Symbolizer {
 public:
  // Snapshots `pid`'s executable mappings and opens their files.
  explicit Symbolizer(int pid, const std::string& proc_root = "/proc");

  // "gridkit::Grid::render(...)+0x1c (libgridkit.so.1)", or the address in
  // hex with its module when no symbol covers it.
  std::string Symbolize(uint64_t address) const;

 private:
  struct Module {
    symbols::Mapping mapping;
    std::shared_ptr<symbols::ElfFile> elf;  // null when unreadable
  };
  std::vector<Module> modules_;
};

}  // namespace gridprobe

#endif  // GRIDPROBE_USERSPACE_PROBES_SYMBOLIZER_H_
