// Feeds mutated ELF files (seeds: this tree's own test binaries) to ElfFile
// and every query the resolver makes of it. Any input must give a file or a
// one-line error, and never a crash, hang, leak, or a read the file does not
// hold.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_file.h"
#include "symbols/debug_info.h"
#include "symbols/elf_file.h"
#include "symbols/return_mode.h"

using gridprobe::symbols::ElfFile;
using gridprobe::symbols::ElfSymbol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = gridprobe::fuzz::WriteInput("lib.so", data, size);
  absl::StatusOr<std::unique_ptr<ElfFile>> opened = ElfFile::Open(path);
  if (!opened.ok()) {
    gridprobe::fuzz::CheckOneLine(opened.status().message());
    return 0;
  }
  ElfFile& elf = **opened;
  if (elf.file_size() != size) __builtin_trap();
  size_t n = 0;
  for (const ElfSymbol& sym : elf.functions()) {
    if (++n > 2000) break;
    elf.FunctionAt(sym.vaddr);
    elf.FunctionAt(sym.vaddr + sym.size / 2);
    absl::StatusOr<uint64_t> offset = elf.FileOffset(sym.vaddr);
    if (offset.ok() && elf.VaddrOfOffset(*offset) == 0) __builtin_trap();
    absl::StatusOr<std::vector<uint8_t>> code = elf.ReadSymbol(sym);
    if (code.ok()) {
      if (code->size() > sym.size || sym.size > size) __builtin_trap();
    } else {
      gridprobe::fuzz::CheckOneLine(code.status().message());
    }
    if (elf.InPlt(sym.vaddr)) elf.PltTarget(sym.vaddr);
  }
  for (const gridprobe::symbols::LoadSegment& seg : elf.segments()) {
    elf.PltTarget(seg.vaddr);
    absl::StatusOr<std::vector<uint8_t>> bytes = elf.ReadAt(seg.vaddr, seg.filesz);
    if (bytes.ok() && bytes->size() > size) __builtin_trap();
  }
  gridprobe::symbols::ReadUnwindFacts(elf);
  gridprobe::symbols::DescribeMissingDebugInfo(elf, {"/nonexistent"});
  absl::StatusOr<bool> debug =
      gridprobe::symbols::LoadSeparateDebugInfo(elf, "/usr/lib/lib.so", {"/nonexistent"});
  if (!debug.ok()) gridprobe::fuzz::CheckOneLine(debug.status().message());
  return 0;
}
