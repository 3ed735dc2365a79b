#include "userspace/probes/symbolizer.h"

#include "absl/strings/str_format.h"

namespace gridprobe {

Symbolizer::Symbolizer(int pid, const std::string& proc_root) {
  auto maps = symbols::ReadMaps(pid, proc_root);
  if (!maps.ok()) return;
  std::map<std::string, std::shared_ptr<symbols::ElfFile>> opened;
  for (const symbols::Mapping& m : *maps) {
    if (!m.executable() || m.path.empty() || m.path[0] != '/') continue;
    auto it = opened.find(m.path);
    if (it == opened.end()) {
      auto elf = symbols::ElfFile::Open(symbols::HostPathOf(pid, m, proc_root));
      it = opened.emplace(m.path, elf.ok() ? std::shared_ptr<symbols::ElfFile>(std::move(*elf))
                                           : nullptr)
               .first;
    }
    modules_.push_back({m, it->second});
  }
}

std::string Symbolizer::Symbolize(uint64_t address) const {
  for (const Module& mod : modules_) {
    const symbols::Mapping& m = mod.mapping;
    if (address < m.start || address >= m.end) continue;
    std::string base = m.path.substr(m.path.rfind('/') + 1);
    if (mod.elf != nullptr) {
      uint64_t vaddr = mod.elf->VaddrOfOffset(address - m.start + m.file_offset);
      if (const symbols::ElfSymbol* s = mod.elf->FunctionAt(vaddr); s != nullptr) {
        return absl::StrFormat("%s+0x%x (%s)", s->demangled, vaddr - s->vaddr, base);
      }
      return absl::StrFormat("0x%x (%s)", vaddr, base);
    }
    return absl::StrFormat("0x%x (%s)", address - m.start + m.file_offset, base);
  }
  return absl::StrFormat("0x%x", address);
}

}  // namespace gridprobe
