// The resolver on mutated ELF files (seeds: this tree's own test binaries):
// every function a glob matches is disassembled, its entry and exits found
// and its return mode decided, as `gridprobe symbols` and attach do. Any input
// must give sites inside the file or a one-line error.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_file.h"
#include "symbols/resolver.h"

namespace {

using gridprobe::symbols::LibraryPreset;

const LibraryPreset& Preset() {
  static const LibraryPreset* preset = [] {
    auto* p = new LibraryPreset;
    p->name = "fuzz";
    p->match = {"*"};
    // The first pattern matches what the seeds define, the second anything
    // (a mutated name too); "?*" keeps the error path for no match alive.
    p->operations = {{"named", {"c_*", "target::*", "gridkit::*", "gpdl_*"}, "userVisible"},
                     {"any", {"?*"}, "background"}};
    return p;
  }();
  return *preset;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = gridprobe::fuzz::WriteInput("lib.so", data, size);
  static const gridprobe::symbols::EntryPolicy policy = {{"push", "jcc", "jmp", "call", "nop"},
                                                         {}};
  absl::StatusOr<gridprobe::symbols::ResolvedModule> module =
      gridprobe::symbols::ResolveInFile(Preset(), "/usr/lib/lib.so", path, policy, {});
  if (!module.ok()) {
    gridprobe::fuzz::CheckOneLine(module.status().message());
    return 0;
  }
  for (const gridprobe::symbols::ResolvedOperation& op : module->ops) {
    for (const gridprobe::symbols::ResolvedSymbol& sym : op.symbols) {
      if (sym.entry.file_offset >= size) __builtin_trap();
      if (sym.entry.vaddr - sym.vaddr >= sym.size) __builtin_trap();
      for (const gridprobe::symbols::ResolvedSite& exit : sym.exits) {
        if (exit.file_offset >= size) __builtin_trap();
      }
    }
  }
  absl::Status st = gridprobe::symbols::ChooseReturnModes(
      &*module, gridprobe::symbols::ReturnRequest::kAuto, false);
  if (!st.ok()) gridprobe::fuzz::CheckOneLine(st.message());
  return 0;
}
